"""The command line: click parses the options, each command builds its own settings from them
(generator.cli.settings) and hands over to what it does (generator.cli.commands, and
generator.cli.change_commands for plan, diff and rehearse), through generator.cli.exits, which
reports what it raised and gives the exit status."""

from __future__ import annotations

from pathlib import Path

import click

from generator import __version__
from generator.cli import commands, fleet
from generator.cli.completion import complete_node_names
from generator.cli.exits import exit_with
from generator.cli.options import (
    DESIGN_FILE,
    DESIGNS,
    FORMAT,
    JOBS,
    NODES,
    ONLY,
    OUT,
    QUIET,
    STRICT,
    InputFile,
    PlainPath,
    PlainText,
    processes,
)
from generator.cli.progress import use_color
from generator.cli.reporting import printable
from generator.cli.settings import CheckSettings, RenderSettings, SchemaSettings, ValidateSettings
from generator.cli.usage import require, require_not_an_input, require_output_folder, require_replaceable

_run, _use_color = exit_with, use_color


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ovsgen")
def main() -> None:
    """Turn host-network designs for KVM + Open vSwitch hosts into ifcfg files or
    NetworkManager keyfiles, ovs-vsctl scripts, libvirt networks and build sheets; plan,
    rehearse and review changes (change and rollback scripts, pull-request diffs); bring
    running hosts in (capture-script, import) and watch them (drift); roll a plan out
    on a fleet with Ansible (rollout).

    \b
    Example:
      ovsgen validate designs/*.yaml
      ovsgen render designs/*.yaml -o out/
    """


@main.command()
@DESIGNS
@STRICT
@FORMAT
def validate(*, designs: tuple[Path, ...], strict: bool, output_format: str) -> None:
    """Check designs, report every problem.

    Each problem is reported with its file:line:column and the line it is on.

    \b
    Example:
      ovsgen validate designs/ahv-host.yaml --strict
    """
    settings = ValidateSettings(designs=designs, strict=strict, output_format=output_format, color=_use_color())
    _run(commands.run_validate, settings)


@main.command()
@DESIGNS
@OUT(default=Path("out"), help="Output folder; each design renders into OUT/<design name>/.")
@NODES
@ONLY
@JOBS
@QUIET
@STRICT
@FORMAT
def render(
    *,
    designs: tuple[Path, ...],
    out: Path,
    nodes: tuple[str, ...],
    kinds: tuple[str, ...],
    jobs: int,
    quiet: bool,
    strict: bool,
    output_format: str,
) -> None:
    """Write the files of valid designs.

    Validate designs and write their files under OUT/<design name>/; nothing is written if
    any design is invalid. On a terminal, a run that lasts over a second shows its progress.

    \b
    Example:
      ovsgen render designs/*.yaml -o out/
      ovsgen render designs/lacp-storage.yaml -o out/ --node kvm-s-1
      ovsgen render designs/*.yaml -o out/ --only sheet
    """
    require_output_folder(out, designs)
    settings = RenderSettings(
        designs=designs,
        strict=strict,
        output_format=output_format,
        color=_use_color(),
        out=out,
        nodes=nodes,
        kinds=kinds,
        jobs=processes(jobs),
        quiet=quiet,
    )
    _run(commands.run_render, settings)


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
def check(*, designs: tuple[Path, ...], golden: Path, jobs: int, quiet: bool, strict: bool, output_format: str) -> None:
    """Compare golden/ with the designs.

    Exit 1 with a unified diff when GOLDEN does not hold what the designs render to.

    \b
    Example (in CI):
      ovsgen check designs/*.yaml --golden golden/
    """
    # `--golden mine.yaml`: the advice to render into it would lose the design.
    require_not_an_input(golden, designs, "--golden", "the golden folder")
    settings = CheckSettings(
        designs=designs,
        strict=strict,
        output_format=output_format,
        color=_use_color(),
        golden=golden,
        jobs=processes(jobs),
        quiet=quiet,
    )
    _run(commands.run_check, settings)


@main.command()
def schema() -> None:
    """Print the JSON Schema of designs.

    The schema is JSON Schema draft 2020-12.

    \b
    Example:
      ovsgen schema > design.schema.json
    """
    _run(commands.run_schema, SchemaSettings(color=_use_color()))


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
    *,
    designs: tuple[Path, ...],
    from_host: Path | None,
    out: Path,
    nodes: tuple[str, ...],
    prune: bool,
    strict: bool,
    output_format: str,
) -> None:
    """Plan a change and its rollback.

    Plan the change from OLD to NEW: per node the OVS change.sh and rollback.sh, and where
    they change, ifcfg-change.sh/ifcfg-rollback.sh, nm-change.sh/nm-rollback.sh (NetworkManager
    keyfiles) and libvirt-change.sh/libvirt-rollback.sh, with plan.md saying what changes, in
    which order (a node's move between ifcfg files and NetworkManager included), and what the
    switch team does.

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
        require(len(designs) == 1 and len(nodes) == 1, "--from-host takes one NEW design and exactly one --node")
    else:
        require(len(designs) == 2, "plan takes OLD and NEW designs (or --from-host DUMP and NEW)")
        require(not prune, "--prune goes with --from-host")
    require_replaceable(out, (*designs, *([from_host] if from_host else [])), "the plan folder")
    # Imported here, as in diff and rehearse: render and validate start quicker without the planning modules.
    from generator.cli.change_commands import run_plan
    from generator.cli.change_settings import PlanSettings

    settings = PlanSettings(
        designs=designs,
        strict=strict,
        output_format=output_format,
        color=_use_color(),
        out=out,
        nodes=nodes,
        from_host=from_host,
        prune=prune,
    )
    _run(run_plan, settings)


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
def diff(
    *, designs: tuple[Path, ...], base_ref: str | None, full: Path | None, strict: bool, output_format: str
) -> None:
    """Sum up a design change for review.

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
        require(len(designs) == 2, "diff takes OLD and NEW designs (or --base-ref REF and designs)")
    for path in designs:
        require(path.is_file(), f"no such design file: {path}")
    if full is not None:
        require_not_an_input(full, designs, "--full")
    from generator.cli.change_commands import base_ref_problem, run_diff
    from generator.cli.change_settings import DiffSettings

    if base_ref is not None:
        problem = base_ref_problem(base_ref)
        require(problem is None, printable(problem or ""))
    settings = DiffSettings(
        designs=designs, strict=strict, output_format=output_format, color=_use_color(), base_ref=base_ref, full=full
    )
    _run(run_diff, settings)


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
def rehearse(
    *, designs: tuple[Path, ...], nodes: tuple[str, ...], prune: bool, strict: bool, output_format: str
) -> None:
    """Rehearse a plan and its rollback.

    Both run on a private ovsdb-server; exit 0 only if every step held.

    OLD_OR_DB is the old design, or a host database file made with `ovsdb-client backup`.

    \b
    Example:
      ovsgen rehearse designs/old.yaml designs/new.yaml --node ahv-a-1
      ssh root@host 'ovsdb-client backup' > host.db
      ovsgen rehearse host.db designs/new.yaml --node ahv-a-1
    """
    require(len(nodes) == 1, "rehearse takes exactly one --node")
    from generator.cli.change_commands import run_rehearse
    from generator.cli.change_settings import RehearseSettings

    settings = RehearseSettings(
        designs=designs, strict=strict, output_format=output_format, color=_use_color(), node=nodes[0], prune=prune
    )
    _run(run_rehearse, settings)


for _command in (fleet.capture_script, fleet.drift, fleet.import_design, fleet.rollout):
    main.add_command(_command)
