"""What each command does, given parsed settings. The click layer only builds settings."""

from __future__ import annotations

import functools
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TextIO, TypeVar

from generator.diagnostics import DesignInvalid, Diagnostic
from generator.pipeline import ValidDesign, validate_file
from generator.render import OutputFile, map_design, owned_paths
from generator.reporting import make_reporter, printable_lines, say
from generator.schema import schema_document
from generator.writer import compare_files, stale_files, writing

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
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)


def use_color(stream: TextIO) -> bool:
    """Color only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


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
    wanted = set(settings.nodes)
    known = {layout.node.name for design in valid for layout in design.layouts}
    if wanted - known:
        return f"no node named {', '.join(sorted(wanted - known))} in the given designs"
    return [path for design in valid for path in owned_paths(design, wanted, settings.kinds)]


def _map_rendered(
    settings: Settings, valid: list[ValidDesign], consume: Callable[[list[OutputFile]], T]
) -> Iterator[T]:
    """`consume` of every design's files, a node at a time (in worker processes for large designs)."""
    for design in valid:
        yield from map_design(design, consume, set(settings.nodes), settings.kinds, settings.jobs)


def run_validate(settings: Settings) -> int:
    valid, _, ok = _validate_all(settings)
    if ok:
        names = ", ".join(f"{v.source.file} ({len(v.design.nodes)} nodes)" for v in valid)
        say(settings.stderr, f"valid: {names}")
    return EXIT_OK if ok else EXIT_INVALID


def run_render(settings: Settings) -> int:
    valid, _, ok = _validate_all(settings)
    if not ok:
        return fail(settings, "nothing was written")
    folders = _render_plan(settings, valid)
    if isinstance(folders, str):
        return fail(settings, f"{folders}; nothing was written")
    count = 0
    with writing(settings.out, folders) as tree:
        for staged in _map_rendered(settings, valid, tree.stage):
            tree.record(staged)
            count += staged.files
        replaced = tree.commit()
    what = f"{replaced} changed folder(s) or file(s)" if replaced else "nothing changed"
    say(settings.stderr, f"rendered {count} files under {settings.out}/: {what}")
    return EXIT_OK


def run_check(settings: Settings) -> int:
    assert settings.golden is not None
    golden = settings.golden
    valid, _, ok = _validate_all(settings)
    if not ok:
        return EXIT_INVALID
    folders = _render_plan(settings, valid)
    if isinstance(folders, str):
        return fail(settings, folders)
    diff: list[str] = []
    rendered: set[str] = set()
    for compared in _map_rendered(settings, valid, functools.partial(compare_files, golden)):
        diff += compared.lines
        rendered.update(compared.paths)
    diff += stale_files(golden, folders, rendered)
    if diff:
        settings.stdout.writelines(printable_lines(diff))
        designs = " ".join(str(path) for path in settings.designs)
        return fail(settings, f"{golden}/ is stale; run: ovsgen render {designs} -o {golden}")
    say(settings.stderr, f"{golden}/ is up to date ({len(rendered)} files)")
    return EXIT_OK


def run_schema(settings: Settings) -> int:
    json.dump(schema_document(), settings.stdout, indent=2)
    settings.stdout.write("\n")
    return EXIT_OK
