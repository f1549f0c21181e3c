"""What validate, render, check and schema do, given their settings (generator.cli.settings).

A command returns its exit status (generator.cli.exits) or raises an OvsgenError or OSError, which
generator.cli.exits reports. The click layer (generator.cli.main) only builds the settings.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import TypeVar

from generator.cli.exits import EXIT_OK, EXIT_PROBLEMS
from generator.cli.progress import Progress, counted, progress_delay, progress_line, progress_wanted
from generator.cli.reporting import printable_lines, report_diagnostics, say
from generator.cli.settings import (
    CheckSettings,
    CommonSettings,
    RenderingSettings,
    RenderSettings,
    SchemaSettings,
    ValidateSettings,
)
from generator.design.nodes import selected_nodes, unknown_nodes_message
from generator.design.schema_file import schema_text
from generator.design.validate import ValidDesign, validate_file
from generator.diagnostics import Diagnostic
from generator.errors import DesignInvalid, OutputRefused, SelectionInvalid
from generator.output.golden import compare_files, stale_files
from generator.output.nofollow import refuse_linked_root
from generator.output.writer import Staged, TreeWriter, writing
from generator.render.capture import capture_script
from generator.render.files import OutputFile
from generator.render.kinds import map_design, owned_paths, selected_layouts

T = TypeVar("T")


def validate_designs(
    settings: CommonSettings, paths: tuple[Path, ...] | None = None, names: tuple[str, ...] = ()
) -> tuple[list[ValidDesign], bool]:
    """Validate designs (the settings' own unless `paths`; shown under `names` when given), report
    every problem and warning at once, and say whether all were valid."""
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
    report_diagnostics(settings, diagnostics)
    return valid, len(valid) == len(paths)


def fail(settings: CommonSettings, message: str) -> int:
    """Say the closing line of a command whose answer is no (its problems were reported before)."""
    say(settings.stderr, message)
    return EXIT_PROBLEMS


@contextlib.contextmanager
def nothing_written() -> Iterator[None]:
    """A SelectionInvalid raised inside says also that nothing was written: render and plan choose
    what to write before they write anything."""
    try:
        yield
    except SelectionInvalid as error:
        raise SelectionInvalid(f"{error}; nothing was written") from error


def selected_node_names(nodes: tuple[str, ...], valid: Sequence[ValidDesign]) -> tuple[str, ...]:
    """The designs' own spellings of the --node names (none without --node: every node is wanted);
    SelectionInvalid naming the nodes there are when a name is no node of the designs."""
    unknown = unknown_nodes_message(nodes, valid)
    if unknown:
        raise SelectionInvalid(unknown)
    return selected_nodes(nodes, valid)


def _require_unique_names(valid: Sequence[ValidDesign]) -> None:
    """SelectionInvalid when two designs have one name: they would render into one folder."""
    seen: dict[str, str] = {}
    for design in valid:
        if design.design.name in seen:
            raise SelectionInvalid(
                f"designs {seen[design.design.name]} and {design.source.file} have the same name "
                f"'{design.design.name}' and would render into the same folder"
            )
        seen[design.design.name] = design.source.file


def replaced_paths(
    valid: Sequence[ValidDesign], nodes: tuple[str, ...] = (), kinds: tuple[str, ...] = ()
) -> list[PurePosixPath]:
    """The folders and files under OUT that rendering these designs (only `nodes` and `kinds` of
    output, when given) replaces whole; SelectionInvalid when the designs cannot render together."""
    _require_unique_names(valid)
    wanted = set(selected_node_names(nodes, valid))
    return [path for design in valid for path in owned_paths(design, wanted, kinds)]


def _map_rendered(
    settings: RenderingSettings,
    valid: list[ValidDesign],
    consume: Callable[[list[OutputFile]], T],
    nodes: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
) -> Iterator[T]:
    """`consume` of every design's files (only of `nodes` and `kinds` when given), a node at a time
    (in worker processes for large designs)."""
    # --node matches node names whatever their case: filter by the names the designs spell.
    wanted = set(selected_nodes(nodes, valid))
    for design in valid:
        yield from map_design(design, consume, wanted, kinds, settings.jobs)


def run_validate(settings: ValidateSettings) -> int:
    valid, ok = validate_designs(settings)
    if ok:
        names = ", ".join(f"{v.source.file} ({counted(len(v.design.nodes), 'node')})" for v in valid)
        say(settings.stderr, f"valid: {names}")
    return EXIT_OK if ok else EXIT_PROBLEMS


def run_render(settings: RenderSettings) -> int:
    valid, ok = validate_designs(settings)
    if not ok:
        return fail(settings, "nothing was written")
    with nothing_written():
        folders = replaced_paths(valid, settings.nodes, settings.kinds)
    files = nodes = 0
    with writing(settings.out, folders, waiting=functools.partial(_say_waiting, settings)) as tree:
        before = file_identities(settings.out, folders)
        stage = functools.partial(_stage_files, tree)
        with _render_progress(settings, valid, settings.nodes) as progress:
            for staged, is_node in _map_rendered(settings, valid, stage, settings.nodes, settings.kinds):
                tree.record(staged)
                files += staged.files
                nodes += is_node
                progress.advance(is_node)
        tree.commit()
        changed = changed_files(before, file_identities(settings.out, folders))
    say(settings.stderr, render_summary(files, nodes, settings.out, changed))
    return EXIT_OK


def _say_waiting(settings: RenderSettings) -> None:
    say(settings.stderr, f"waiting for another ovsgen run into {settings.out}/ to end")


def _render_progress(
    settings: RenderingSettings, valid: list[ValidDesign], nodes: tuple[str, ...] = ()
) -> contextlib.AbstractContextManager[Progress]:
    """The progress line of a render of `nodes` (all when empty): on a terminal, unless --quiet or
    TERM=dumb (generator.cli.progress)."""
    wanted = set(selected_nodes(nodes, valid))
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


def run_check(settings: CheckSettings) -> int:
    golden = settings.golden
    valid, ok = validate_designs(settings)
    if not ok:
        return EXIT_PROBLEMS
    folders = replaced_paths(valid)
    _require_golden_folder(settings)
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


def _require_golden_folder(settings: CheckSettings) -> None:
    """OutputRefused when golden/ is no folder to compare with (it does not exist, or is a file):
    every file would differ, and a diff of everything would hide what to do. A link is refused as
    everywhere golden/ is read."""
    golden = settings.golden
    refuse_linked_root(golden)
    if golden.is_dir():
        return
    if golden.exists():
        raise OutputRefused(
            f"golden folder {golden}/ does not exist: {golden} is a file; move it away, "
            f"then create the folder with: {_render_command(settings)}"
        )
    raise OutputRefused(f"golden folder {golden}/ does not exist; create it with: {_render_command(settings)}")


def _render_command(settings: CheckSettings) -> str:
    """The command that makes golden/ what check expects, ready to paste into a shell."""
    designs = " ".join(shlex.quote(str(path)) for path in settings.designs)
    return f"ovsgen render {designs} -o {shlex.quote(str(settings.golden))}"


def run_capture_script(settings: SchemaSettings) -> int:
    settings.stdout.write(capture_script())
    return EXIT_OK


def run_schema(settings: SchemaSettings) -> int:
    # The file itself, byte for byte: `ovsgen schema > design.schema.json` in a design repository
    # then matches the checkout's schemas/design.schema.json exactly.
    settings.stdout.write(schema_text())
    return EXIT_OK
