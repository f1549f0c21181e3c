"""What each command does, given parsed settings. The click layer only builds settings."""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TextIO, TypeVar

from generator.cli.progress import Progress, color_wanted, counted, progress_delay, progress_line, progress_wanted
from generator.cli.reporting import make_reporter, printable_lines, say
from generator.design.nodes import selected_nodes, unknown_nodes_message
from generator.design.schema import schema_text
from generator.design.validate import ValidDesign, validate_file
from generator.diagnostics import Diagnostic
from generator.errors import DesignInvalid
from generator.output.writer import Staged, TreeWriter, compare_files, refuse_linked_root, stale_files, writing
from generator.render.files import OutputFile
from generator.render.kinds import map_design, owned_paths, selected_layouts

T = TypeVar("T")
EXIT_OK = 0
EXIT_INVALID = 1


@dataclass(frozen=True)
class Settings:
    """Everything a command needs, parsed from the command line."""

    designs: tuple[Path, ...] = ()
    strict: bool = False
    output_format: str = "text"
    out: Path = Path("out")
    nodes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # empty: every kind of output
    jobs: int = 1  # processes for rendering large designs
    golden: Path | None = None
    from_host: Path | None = None  # plan: a host's ovsdb-client dump instead of an old design
    prune: bool = False  # plan, rehearse: remove what the design does not mention, on managed bridges
    base_ref: str | None = None  # diff: read the old designs from this git revision
    color: bool = False
    quiet: bool = False  # render: no progress line
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)


def use_color(stream: TextIO) -> bool:
    """Colour on a terminal that shows it, or where FORCE_COLOR asks; never with NO_COLOR (generator.cli.progress)."""
    return color_wanted(stream, os.environ)


def _read_line(file: str, line: int) -> str | None:
    lines = _file_lines(file)
    return lines[line - 1] if 1 <= line <= len(lines) else None


# Source excerpts come from designs (at most 16 MiB) and host dumps (at most 64 MiB).
EXCERPT_SOURCE_LIMIT = 64 * 1024 * 1024


@functools.lru_cache(maxsize=64)
def _file_lines(file: str) -> tuple[str, ...]:
    """The lines of a regular file, for excerpts under messages; none of anything else (a FIFO,
    /dev/zero) or of a file past the input limits, which was refused before it was read."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer. (os.open's descriptors are
        # close-on-exec already.)
        with os.fdopen(os.open(file, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode) or status.st_size > EXCERPT_SOURCE_LIMIT:
                return ()
            data = handle.read(EXCERPT_SOURCE_LIMIT)
    except OSError:
        return ()
    # splitlines ends a line at CRLF, CR and LF alike, as YAML does.
    return tuple(data.decode("utf-8", errors="replace").removeprefix("\ufeff").splitlines())


def report(settings: Settings, diagnostics: list[Diagnostic]) -> None:
    make_reporter(settings.output_format, _read_line, settings.color).report(diagnostics, settings.stderr)


def validate_designs(
    settings: Settings, paths: tuple[Path, ...], names: tuple[str, ...] = ()
) -> tuple[list[ValidDesign], bool]:
    """Validate designs (shown under `names` when given); report all problems; say whether all were valid."""
    valid, _, ok = _validate_all(settings, paths, names)
    return valid, ok


def _validate_all(
    settings: Settings, paths: tuple[Path, ...] | None = None, names: tuple[str, ...] = ()
) -> tuple[list[ValidDesign], list[Diagnostic], bool]:
    paths = settings.designs if paths is None else paths
    valid: list[ValidDesign] = []
    diagnostics: list[Diagnostic] = []
    for index, path in enumerate(paths):
        try:
            design = validate_file(path, strict=settings.strict, display_name=names[index] if names else None)
        except DesignInvalid as invalid:
            diagnostics += invalid.diagnostics
        else:
            valid.append(design)
            diagnostics += design.warnings
    report(settings, diagnostics)
    return valid, diagnostics, len(valid) == len(paths)


def fail(settings: Settings, message: str) -> int:
    say(settings.stderr, message)
    return EXIT_INVALID


def _check_unique_names(valid: list[ValidDesign]) -> str | None:
    seen: dict[str, str] = {}
    for design in valid:
        if design.design.name in seen:
            return (
                f"designs {seen[design.design.name]} and {design.source.file} have the same name "
                f"'{design.design.name}' and would render into the same folder"
            )
        seen[design.design.name] = design.source.file
    return None


def _render_plan(settings: Settings, valid: list[ValidDesign]) -> list[PurePosixPath] | str:
    """What rendering these designs with the settings' filters replaces; or what is wrong."""
    clash = _check_unique_names(valid)
    if clash:
        return clash
    unknown = unknown_nodes_message(settings.nodes, valid)
    if unknown:
        return unknown
    wanted = set(selected_nodes(settings.nodes, valid))
    return [path for design in valid for path in owned_paths(design, wanted, settings.kinds)]


def _map_rendered(
    settings: Settings, valid: list[ValidDesign], consume: Callable[[list[OutputFile]], T]
) -> Iterator[T]:
    """`consume` of every design's files, a node at a time (in worker processes for large designs)."""
    # --node matches node names whatever their case: filter by the names the designs spell.
    wanted = set(selected_nodes(settings.nodes, valid))
    for design in valid:
        yield from map_design(design, consume, wanted, settings.kinds, settings.jobs)


def run_validate(settings: Settings) -> int:
    valid, _, ok = _validate_all(settings)
    if ok:
        names = ", ".join(f"{v.source.file} ({counted(len(v.design.nodes), 'node')})" for v in valid)
        say(settings.stderr, f"valid: {names}")
    return EXIT_OK if ok else EXIT_INVALID


def run_render(settings: Settings) -> int:
    valid, _, ok = _validate_all(settings)
    if not ok:
        return fail(settings, "nothing was written")
    folders = _render_plan(settings, valid)
    if isinstance(folders, str):
        return fail(settings, f"{folders}; nothing was written")
    files = nodes = 0
    with writing(settings.out, folders, waiting=functools.partial(_say_waiting, settings)) as tree:
        before = file_identities(settings.out, folders)
        with _render_progress(settings, valid) as progress:
            for staged, is_node in _map_rendered(settings, valid, functools.partial(_stage_files, tree)):
                tree.record(staged)
                files += staged.files
                nodes += is_node
                progress.advance(is_node)
        tree.commit()
        changed = changed_files(before, file_identities(settings.out, folders))
    say(settings.stderr, render_summary(files, nodes, settings.out, changed))
    return EXIT_OK


def _say_waiting(settings: Settings) -> None:
    say(settings.stderr, f"waiting for another ovsgen run into {settings.out}/ to end")


def _render_progress(settings: Settings, valid: list[ValidDesign]) -> contextlib.AbstractContextManager[Progress]:
    """The progress line of a render: on a terminal, unless --quiet or TERM=dumb (generator.cli.progress)."""
    wanted = set(selected_nodes(settings.nodes, valid))
    total = sum(len(selected_layouts(design, wanted)) for design in valid)
    shown = progress_wanted(settings.stderr, os.environ, settings.quiet)
    return progress_line(settings.stderr, total, shown=shown, delay=progress_delay(os.environ))


def _stage_files(tree: TreeWriter, files: list[OutputFile]) -> tuple[Staged, bool]:
    """Stage one node's files (or the design's), in a worker for large designs; and whether they are a node's."""
    return tree.stage(files), _of_a_node([file.path for file in files[:1]])


def _of_a_node(paths: Sequence[str]) -> bool:
    """Whether the files `map_design` handed over at once are a node's: they lie in its folder below
    the design's (`design/node/...`); the design-level CSV and index do not."""
    return bool(paths) and paths[0].count("/") >= 2


def render_summary(files: int, nodes: int, out: Path, changed: int) -> str:
    """The closing line: `rendered 32,002 files for 2,000 nodes under out/: 31 files changed`."""
    what = f"{counted(changed, 'file')} changed" if changed else "no file changed"
    return f"rendered {counted(files, 'file')} for {counted(nodes, 'node')} under {out}/: {what}"


def file_identities(out: Path, roots: Iterable[PurePosixPath]) -> dict[str, int]:
    """Every file under `roots` of `out` (relative path -> inode), read from the folder listings alone.

    A render writes a changed file anew and hard-links an unchanged one (generator.output.writer), so
    comparing these before and after a render tells exactly which files it added, changed or removed.
    Links are not followed (the writer refuses them anyway)."""
    identities: dict[str, int] = {}
    for root in set(roots):
        top = os.path.join(out, root)
        try:
            status = os.lstat(top)
        except OSError:
            continue
        if not stat.S_ISDIR(status.st_mode):
            identities[str(root)] = status.st_ino
            continue
        pending = [str(root)]
        while pending:
            relative = pending.pop()
            try:
                listing = os.scandir(os.path.join(out, relative))
            except OSError:
                continue
            with listing:
                for entry in listing:
                    path = f"{relative}/{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(path)
                    else:
                        identities[path] = entry.inode()
    return identities


def changed_files(before: dict[str, int], after: dict[str, int]) -> int:
    """How many files were added, removed or replaced between two `file_identities`."""
    return sum(1 for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def run_check(settings: Settings) -> int:
    assert settings.golden is not None
    golden = settings.golden
    valid, _, ok = _validate_all(settings)
    if not ok:
        return EXIT_INVALID
    folders = _render_plan(settings, valid)
    if isinstance(folders, str):
        return fail(settings, folders)
    missing = _missing_golden(settings)
    if missing:  # every file would differ: say so, not with a diff of everything
        return fail(settings, missing)
    diff: list[str] = []
    rendered: set[str] = set()
    with _render_progress(settings, valid) as progress:
        for compared in _map_rendered(settings, valid, functools.partial(compare_files, golden)):
            diff += compared.lines
            rendered.update(compared.paths)
            progress.advance(_of_a_node(compared.paths))
    diff += stale_files(golden, folders, rendered)
    if diff:
        settings.stdout.writelines(printable_lines(diff))
        return fail(settings, f"{golden}/ is stale; run: {_render_command(settings)}")
    say(settings.stderr, f"{golden}/ is up to date ({len(rendered)} files)")
    return EXIT_OK


def _missing_golden(settings: Settings) -> str | None:
    """What to say when golden/ is no folder to compare with (it does not exist, or is a file), or None.
    A link is refused as everywhere golden/ is read (OSError, which the command line reports)."""
    assert settings.golden is not None
    golden = settings.golden
    refuse_linked_root(golden)
    if golden.is_dir():
        return None
    if golden.exists():
        return (
            f"golden folder {golden}/ does not exist: {golden} is a file; move it away, "
            f"then create the folder with: {_render_command(settings)}"
        )
    return f"golden folder {golden}/ does not exist; create it with: {_render_command(settings)}"


def _render_command(settings: Settings) -> str:
    """The command that makes golden/ what check expects, ready to paste into a shell."""
    assert settings.golden is not None
    designs = " ".join(shlex.quote(str(path)) for path in settings.designs)
    return f"ovsgen render {designs} -o {shlex.quote(str(settings.golden))}"


def run_schema(settings: Settings) -> int:
    # The file itself, byte for byte: `ovsgen schema > design.schema.json` in a design repository
    # then matches the checkout's schemas/design.schema.json exactly.
    settings.stdout.write(schema_text())
    return EXIT_OK
