"""The command line: parse options into Settings and hand over to generator.cli.commands."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from generator import __version__
from generator.characters import forbidden_character, not_text_message
from generator.cli import commands as app
from generator.cli.completion import complete_node_names
from generator.cli.reporting import REPORTER_NAMES, printable, say
from generator.render.kinds import KINDS


def _unsafe(text: str) -> str | None:
    """What is wrong with a file name or value from the command line, or None.

    Such text reaches headers, plans and messages like a design value does, so it obeys
    the same rule: no control, line-separator or format character."""
    index = forbidden_character(text)
    if index is None:
        return None
    return f"{printable(text, 200)}: {not_text_message(text[index])}"


class PlainPath(click.Path):
    """A click.Path that refuses names holding control, line-separator or format characters."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        problem = _unsafe(os.fsdecode(value))
        if problem:
            # click names the parameter and the command in the message itself.
            self.fail(problem)
        return super().convert(value, param, ctx)


class PlainText(click.ParamType[str, Any]):
    """A word: no control, line-separator or format character, and no leading '-' (a tool
    would read it as an option)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        # Bytes not in UTF-8 become lone surrogates, which _unsafe refuses.
        text = os.fsdecode(value)
        problem = _unsafe(text)
        if problem:
            self.fail(problem)
        if text.startswith("-"):
            self.fail(f"{printable(text, 200)} starts with '-'")
        return text


class InputFile(PlainPath):
    """A design, dump or backup: a regular file, not a link. In CI the command names `designs/*.yaml`
    but the repository decides what they are; a link could point at any file the job can read, and
    messages quote the lines they are about."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        if os.path.islink(path):
            self.fail(f"{printable(os.fsdecode(path), 200)} is a symbolic link; ovsgen reads only regular files")
        if os.path.lexists(path) and not os.path.isfile(path):
            self.fail(f"{printable(os.fsdecode(path), 200)} is not a regular file")
        return path


DESIGN_FILE = InputFile(exists=True, dir_okay=False, path_type=Path)
DESIGNS = click.argument("designs", nargs=-1, required=True, type=DESIGN_FILE)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORTER_NAMES),
    default="text",
    show_default=True,
    help="How problems are reported on stderr.",
)
NODES = click.option(
    "--node",
    "nodes",
    multiple=True,
    metavar="NAME",
    type=PlainText(),
    help="Only this node (repeatable).",
    shell_complete=complete_node_names,
)
JOBS = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Processes that render nodes (default: one per core); designs under 200 nodes always render in one.",
)

QUIET = click.option(
    "-q", "--quiet", is_flag=True, help="No progress line on a terminal (it never shows in a pipe or file)."
)


# -o/--out of render and plan, each with its own default and help.
OUT = functools.partial(click.option, "-o", "--out", type=PlainPath(file_okay=False, path_type=Path), show_default=True)


ONLY = click.option(
    "--only",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Only this kind of output (repeatable): ifcfg files, ovs apply.sh, libvirt XML and define.sh, build sheets.",
)


def _settings(**options: object) -> app.Settings:
    # Settings takes sys.stdout and sys.stderr as they are when it is made: tests and wrappers swap them.
    return app.Settings(color=app.use_color(sys.stderr), **options)  # type: ignore[arg-type]


def _run(command: Callable[[app.Settings], int], **options: object) -> None:
    """Options arrive under the names of Settings fields; the command does the rest."""
    try:
        code = command(_settings(**options))
    except BrokenPipeError:
        # The reader went away (`ovsgen check ... | head`): as a shell tool does, end quietly, with
        # the exit status of SIGPIPE; stdout goes to /dev/null so its last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 128 + signal.SIGPIPE
    except OSError as error:
        # Unwritable output, unreadable golden: the user's environment, not a bug.
        where = f": {error.filename}" if error.filename else ""
        say(sys.stderr, f"{error.strerror or error}{where}")
        code = app.EXIT_INVALID
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ovsgen")
def main() -> None:
    """Turn host-network designs for KVM + Open vSwitch hosts into ifcfg files,
    ovs-vsctl scripts, libvirt networks and build sheets; plan, rehearse and review
    changes (change and rollback scripts, pull-request diffs).

    \b
    Example:
      ovsgen validate designs/*.yaml
      ovsgen render designs/*.yaml -o out/
    """


@main.command()
@DESIGNS
@STRICT
@FORMAT
def validate(**options: object) -> None:
    """Check designs and report every problem.

    Each problem is reported with its file:line:column and the line it is on.

    \b
    Example:
      ovsgen validate designs/ahv-host.yaml --strict
    """
    _run(app.run_validate, **options)


@main.command()
@DESIGNS
@OUT(default=Path("out"), help="Output folder; each design renders into OUT/<design name>/.")
@NODES
@ONLY
@JOBS
@QUIET
@STRICT
@FORMAT
def render(designs: tuple[Path, ...], out: Path, jobs: int, **options: object) -> None:
    """Write the files of valid designs.

    Validate designs and write their files under OUT/<design name>/; nothing is written if
    any design is invalid. On a terminal, a run that lasts over a second shows its progress.

    \b
    Example:
      ovsgen render designs/*.yaml -o out/
      ovsgen render designs/lacp-storage.yaml -o out/ --node kvm-s-1
      ovsgen render designs/*.yaml -o out/ --only sheet
    """
    _require_output_folder(out, designs)
    _run(app.run_render, designs=designs, out=out, jobs=jobs or os.cpu_count() or 1, **options)


@main.command()
@DESIGNS
@click.option(
    "--golden",
    type=PlainPath(path_type=Path),  # a file or nothing there: run_check says golden/ does not exist
    metavar="DIRECTORY",
    required=True,
    help="Folder of checked-in output to compare with.",
)
@JOBS
@QUIET
@STRICT
@FORMAT
def check(jobs: int, **options: object) -> None:
    """Compare golden output with the designs.

    Exit 1 with a unified diff when GOLDEN does not hold what the designs render to.

    \b
    Example (in CI):
      ovsgen check designs/*.yaml --golden golden/
    """
    golden, designs = options["golden"], options["designs"]
    assert isinstance(golden, Path)
    assert isinstance(designs, tuple)
    # `--golden mine.yaml`: the advice to render into it would lose the design.
    require_not_an_input(golden, designs, "--golden", "the golden folder")
    _run(app.run_check, jobs=jobs or os.cpu_count() or 1, **options)


@main.command()
def schema() -> None:
    """Print the design language's JSON Schema.

    The schema is JSON Schema draft 2020-12.

    \b
    Example:
      ovsgen schema > design.schema.json
    """
    _run(app.run_schema)


def _changes() -> ModuleType:
    """plan, diff and rehearse load their modules only when used: render stays quick to start."""
    from generator.cli import change_commands as app_changes

    return app_changes


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise click.UsageError(message)


def _replaced_whole_problem(out: Path, inputs: tuple[Path, ...]) -> str | None:
    """Why `out` may not be a folder that a command replaces whole, or None: not /, the current
    folder or one of its parents (replacing them loses everything else), nor a folder holding one
    of the command's own input files. Compared as the file system resolves them (links, `..`)."""
    try:
        where, here = out.resolve(), Path.cwd().resolve()
        held = [path for path in inputs if path.resolve().is_relative_to(where)]
    except (OSError, RuntimeError) as error:  # a vanished working folder; a loop of links (RuntimeError)
        return f"cannot tell which folder it is: {error}"
    if where == Path(where.anchor):
        return "this is the root folder"
    if where == here or where in here.parents:
        return "this is the current folder or one of its parents"
    if held:
        return f"this folder holds {held[0]}, which the command reads"
    return None


def _require_output_folder(out: Path, designs: tuple[Path, ...]) -> None:
    """A usage error when render's `out` is a folder it must not write into: render replaces only
    OUT/<design>/ folders, but a user who names /, the current folder or one of its parents, or the
    folder of the designs, almost surely meant another (and a design's name could be a folder there)."""
    problem = _replaced_whole_problem(out, designs)
    if problem:
        message = f"-o {out}: render writes OUT/<design>/ folders there, but {problem}; give another folder (-o NEW)"
        raise click.UsageError(printable(message))


def require_not_an_input(path: Path, inputs: tuple[Path, ...], option: str, instead: str = "another file") -> None:
    """A usage error when the file `path`, which a command writes (its option `option`, such as
    `--full`), is one of the command's input files: through a link, a hard link or `..` alike.
    Nothing has been written when it is raised."""
    for source in inputs:
        try:
            same = path.resolve() == source.resolve() or (path.exists() and os.path.samefile(path, source))
        except (OSError, RuntimeError) as error:  # a vanished working folder; a loop of links (RuntimeError)
            raise click.UsageError(printable(f"{option} {path}: cannot tell which file it is: {error}")) from None
        if same:
            message = f"{option} {path}: this is {source}, which the command reads; give {instead}"
            raise click.UsageError(printable(message))


def _require_replaceable(out: Path, inputs: tuple[Path, ...], what: str) -> None:
    """A usage error when `out`, which the command replaces whole, could hold what is not its own."""
    problem = _replaced_whole_problem(out, inputs)
    if problem:
        message = f"-o {out}: {what} is replaced whole, but {problem}; give another folder (-o NEW)"
        raise click.UsageError(printable(message))


@main.command()
@DESIGNS
@click.option(
    "--from-host",
    type=DESIGN_FILE,
    metavar="DUMP",
    help="Plan from a host's database dump (ovsdb-client dump --format=json Open_vSwitch) instead of OLD.",
)
@OUT(default=Path("plan"), help="Plan folder, replaced as a whole.")
@NODES
@click.option(
    "--prune",
    is_flag=True,
    help=(
        "With --from-host: remove ports the design does not mention from its bridges, and bridges "
        "ovsgen built that it no longer has (never a VM's tap)."
    ),
)
@STRICT
@FORMAT
def plan(
    designs: tuple[Path, ...], nodes: tuple[str, ...], from_host: Path | None, prune: bool, out: Path, **options: object
) -> None:
    """Plan a change: change and rollback scripts.

    Plan the change from OLD to NEW: per node the OVS change.sh and rollback.sh, and where
    they change, ifcfg-change.sh/ifcfg-rollback.sh and libvirt-change.sh/libvirt-rollback.sh,
    with plan.md saying what changes, in which order, and what the switch team does.

    \b
    Usage:
      ovsgen plan OLD.yaml NEW.yaml [-o DIR] [--node NAME]...
      ovsgen plan --from-host DUMP NEW.yaml --node NAME [--prune]
    \b
    Example:
      ovsgen plan designs/old.yaml designs/new.yaml -o plan/
      ssh root@host 'ovsdb-client dump --format=json Open_vSwitch' > host.json
      ovsgen plan --from-host host.json designs/new.yaml --node ahv-a-1
    """
    if from_host is not None:
        _require(len(designs) == 1 and len(nodes) == 1, "--from-host takes one NEW design and exactly one --node")
    else:
        _require(len(designs) == 2, "plan takes OLD and NEW designs (or --from-host DUMP and NEW)")
        _require(not prune, "--prune goes with --from-host")
    _require_replaceable(out, (*designs, *([from_host] if from_host else [])), "the plan folder")
    _run(_changes().run_plan, designs=designs, nodes=nodes, from_host=from_host, prune=prune, out=out, **options)


@main.command()
@click.argument("designs", nargs=-1, required=True, type=InputFile(dir_okay=False, path_type=Path))
@click.option(
    "--base-ref",
    metavar="REF",
    type=PlainText(),
    help="Read each old design from this git revision (git show REF:path).",
)
@click.option(
    "--full",
    metavar="FILE",
    type=PlainPath(dir_okay=False, path_type=Path),
    help=(
        "Also write the unified diff of every rendered file to FILE (a CI artifact); the report "
        "on stdout stays under a pull-request comment's 65,536 characters."
    ),
)
@STRICT
@FORMAT
def diff(designs: tuple[Path, ...], base_ref: str | None, full: Path | None, **options: object) -> None:
    """Sum up a design change for a pull request.

    The summary is Markdown, with the rendered diffs.

    \b
    Usage:
      ovsgen diff OLD.yaml NEW.yaml
      ovsgen diff --base-ref REF DESIGN...
    \b
    Example (in a pull-request job):
      ovsgen diff --base-ref origin/main designs/*.yaml > comment.md
    """
    if base_ref is None:
        _require(len(designs) == 2, "diff takes OLD and NEW designs (or --base-ref REF and designs)")
    for path in designs:
        _require(path.is_file(), f"no such design file: {path}")
    if full is not None:
        require_not_an_input(full, designs, "--full")
    changes = _changes()
    if base_ref is not None:
        problem = changes.base_ref_problem(base_ref)
        _require(problem is None, printable(problem or ""))
    _run(functools.partial(changes.run_diff, full=full), designs=designs, base_ref=base_ref, **options)


@main.command()
@click.argument("designs", nargs=2, type=DESIGN_FILE, metavar="OLD_OR_DB NEW")
@click.option(
    "--node",
    "nodes",
    multiple=True,
    required=True,
    metavar="NAME",
    type=PlainText(),
    help="The node to rehearse.",
    shell_complete=complete_node_names,
)
@click.option("--prune", is_flag=True, help="With a database file: rehearse a pruning plan.")
@STRICT
@FORMAT
def rehearse(nodes: tuple[str, ...], **options: object) -> None:
    """Rehearse a plan and its rollback.

    Both run on a private ovsdb-server; exit 0 only if every step held.

    OLD_OR_DB is the old design, or a host database file made with `ovsdb-client backup`.

    \b
    Example:
      ovsgen rehearse designs/old.yaml designs/new.yaml --node ahv-a-1
      ssh root@host 'ovsdb-client backup' > host.db
      ovsgen rehearse host.db designs/new.yaml --node ahv-a-1
    """
    _require(len(nodes) == 1, "rehearse takes exactly one --node")
    _run(_changes().run_rehearse, nodes=nodes, **options)
