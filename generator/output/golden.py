"""Rendered files compared with a golden folder (`ovsgen check`): diff lines, nothing written.

golden/ is read as OUT is written: never through a symbolic link (generator.output.nofollow),
so that a link a pull request commits there cannot make `check` print a secret as a diff.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.output.nofollow import (
    file_mode,
    files_below,
    is_folder,
    lstat_below,
    open_no_link,
    refuse_linked_root,
    same_file,
)
from generator.render.files import OutputFile


@dataclass(frozen=True)
class Compared:
    """Rendered files compared with golden: the diff lines, and which paths were rendered."""

    lines: tuple[str, ...]
    paths: tuple[str, ...]


def compare_files(golden: Path, files: Sequence[OutputFile]) -> Compared:
    """Diff `files` against what `golden` holds (only the files; safe in forked workers)."""
    refuse_linked_root(golden)
    lines: list[str] = []
    checked: set[str] = set()  # a node's files share a few folders: check each once
    for file in files:
        path = file.path
        folder = path.rpartition("/")[0]
        if folder not in checked:  # refuse a link on the way: opening the file would follow it
            lstat_below(str(golden), folder)
            checked.add(folder)
        on_disk = os.path.join(golden, path)
        if same_file(on_disk, file.text.encode(), file_mode(file)):
            continue  # the common case: bytes and mode as rendered, nothing to diff
        old = _read_regular(on_disk)  # None when missing, or not a file
        if old is not None:
            lines += _mode_change(on_disk, old[1], file)
        lines += _file_diff(old[0] if old is not None else None, file.text.splitlines(keepends=True), path)
    return Compared(tuple(lines), tuple(file.path for file in files))


def _file_diff(old: list[str] | None, new: list[str] | None, path: str) -> list[str]:
    """The unified diff of one file's lines, None for no file. A file made or removed empty has no
    lines to differ, but it differs: its diff is then the header alone."""
    import difflib  # only when something differs

    fromfile = "/dev/null" if old is None else f"a/{path}"
    tofile = "/dev/null" if new is None else f"b/{path}"
    diff = list(difflib.unified_diff(old or [], new or [], fromfile, tofile))
    if diff or (old is None) == (new is None):
        return diff
    return [f"--- {fromfile}\n", f"+++ {tofile}\n"]


def stale_files(golden: Path, folders: Iterable[PurePosixPath], rendered: set[str]) -> list[str]:
    """Diff lines deleting what golden holds under `folders` that was not `rendered`."""
    refuse_linked_root(golden)
    start = len(str(golden)) + 1  # walked folders are golden/...: their tails are the relative paths
    on_disk = (
        path[start:]
        for root in set(folders)
        if is_folder(lstat_below(str(golden), str(root)))
        for path in files_below(f"{golden}/{root}")
    )
    stale = sorted(path for path in on_disk if path not in rendered)
    return [line for path in stale for line in _file_diff(_lines_of(f"{golden}/{path}"), None, path)]


def _lines_of(path: str) -> list[str]:
    old = _read_regular(path)
    return old[0] if old is not None else []


def _read_regular(path: str) -> tuple[list[str], int] | None:
    """The lines and permission bits of a regular file; None for anything else. Never through a link."""
    descriptor = open_no_link(path)
    if descriptor is None:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            return None
        text = handle.read().decode(errors="replace")
    return text.splitlines(keepends=True), mode & 0o777


def _mode_change(path: str, mode: int, file: OutputFile) -> list[str]:
    executable = bool(mode & 0o111)
    if executable == file.executable:
        return []
    return [
        f"mode of {path}: {'executable' if executable else 'not executable'} in golden, "
        f"{'executable' if file.executable else 'not executable'} rendered\n"
    ]
