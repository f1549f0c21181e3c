"""An output folder replaced whole (a plan folder): what replacing it would lose, and the swap.

The folder is checked and swapped under its lock (generator.output.lock), as OUT is for a
render, and never through a symbolic link below it (generator.output.nofollow).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.characters import forbidden_character
from generator.output.lock import LOCK, by_own_name, exclusive, make_parent
from generator.output.nofollow import files_below, head_of, link_refused
from generator.output.staging import Stager, Workspace, remove_orphans, swap_all
from generator.render.files import OutputFile


@dataclass(frozen=True)
class FolderShape:
    """What a command that replaces its output folder whole may find there and still replace it.

    `marker` is the file (relative to the folder) whose first line says the command made the
    folder; `made_by` recognises that line. `writes` says whether the command writes a path
    (relative, '/'-separated) as a folder (True) or a file (False); `keeps` picks the entries
    that must outlive the folder whatever else it holds, such as backups scripts saved there.
    """

    marker: str
    made_by: Callable[[str], bool]
    writes: Callable[[PurePosixPath, bool], bool]
    keeps: Callable[[PurePosixPath], bool]


@dataclass(frozen=True)
class InTheWay:
    """Why a folder may not be replaced: what replacing it would lose (paths relative to it)."""

    kept: tuple[PurePosixPath, ...]  # entries `keeps` picked
    lost: tuple[PurePosixPath, ...]  # files, or folders holding some, that the command does not write
    made_by_command: bool  # whether the marker's first line is the command's (if not, any file is in the way)


def replace_folder(out: Path, files: Iterable[OutputFile], shape: FolderShape | None = None) -> InTheWay | None:
    """Make `out` hold exactly `files`, swapped in whole (for plan folders).

    With `shape`, `out` is replaced only when `in_the_way` finds nothing there (asked under the
    lock, so no other ovsgen run changes the folder between the look and the swap); otherwise
    nothing is written and what is in the way is returned.
    """
    out = by_own_name(out)
    make_parent(out)
    with exclusive(out):
        remove_orphans(out)
        if shape is not None:
            obstacles = in_the_way(out, shape)
            if obstacles is not None:
                return obstacles
        if out.is_dir():  # the old plan's files may be linked from: refuse a link in it first
            files_below(str(out))
        workspace = Workspace(out)
        try:
            os.chmod(workspace.new, 0o755)
            stager = Stager(workspace.new, str(out))
            for file in files:
                stager.write_file(file)
            swap_all([(Path(workspace.new), out)], workspace.old)
        finally:
            workspace.remove()
    return None


def in_the_way(folder: Path, shape: FolderShape) -> InTheWay | None:
    """None when replacing `folder` loses nothing: it does not exist, holds no file (empty
    folders at most), or the command made it and it holds only what the command writes.

    Only what the command writes is walked; of anything else it is enough to know whether it
    holds a file. A link where the command writes is refused, as everywhere in OUT.
    """
    if not folder.exists():
        return None
    made = _made_by(folder / shape.marker, shape.made_by)
    kept: list[PurePosixPath] = []
    lost: list[PurePosixPath] = []
    files: list[PurePosixPath] = []  # where the command writes
    pending = [PurePosixPath()]
    while pending:
        relative = pending.pop()
        for name, is_folder in _entries(folder / relative):
            if name == LOCK and not relative.parts:
                continue  # the lock of this run (or of a killed one): the replacement drops it
            path = relative / name
            if shape.keeps(path):
                kept.append(path)
            elif forbidden_character(name) is None and shape.writes(path, is_folder):
                (pending if is_folder else files).append(path)
            elif not is_folder or _holds_an_entry(folder / path):
                lost.append(path)
    if not made:  # nothing there is the command's: each top-level entry holding a file is lost whole
        lost = sorted({PurePosixPath(path.parts[0]) for path in lost + files} - set(kept))
    if kept or lost:
        return InTheWay(tuple(sorted(kept)), tuple(sorted(lost)), made)
    return None


def _entries(folder: Path) -> list[tuple[str, bool]]:
    """The names in `folder`, each with whether it is a folder; a link is refused."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_symlink():
            raise link_refused(entry.path)
    return [(entry.name, entry.is_dir()) for entry in entries]  # no link is left to follow


def _holds_an_entry(folder: Path) -> bool:
    """Whether anything but folders is under `folder` (a link counts; none is followed)."""
    pending = [str(folder)]
    while pending:
        with os.scandir(pending.pop()) as listing:
            for entry in listing:
                if not entry.is_dir(follow_symlinks=False):
                    return True
                pending.append(entry.path)
    return False


def _made_by(marker: Path, made_by: Callable[[str], bool]) -> bool:
    """Whether `marker` is a regular file whose first line `made_by` recognises."""
    head = head_of(str(marker))
    return head is not None and made_by(head.partition(b"\n")[0].decode(errors="replace"))
