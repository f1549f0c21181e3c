"""Entries below OUT or golden/, looked at without ever following a symbolic link.

Symbolic links inside OUT (or golden/) are never followed: a pull request can
commit one, and following it would let a render delete and write files
elsewhere, or `check` print a secret as a diff. Every entry the output stage reads,
replaces or removes below OUT is looked at with lstat (or opened with
O_NOFOLLOW) first, and a link there stops the run before anything is written.
OUT itself, named by the user, may be a link, but not OUT's or golden/'s last
name (refuse_linked_root).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from generator.characters import forbidden_character
from generator.errors import OutputRefused
from generator.render.files import OutputFile

LINK_INSIDE = "is a symbolic link; ovsgen does not follow links inside an output folder"

HEAD_BYTES = 4096  # bytes read of a file to find its first lines: a header line is far shorter


def link_refused(path: str, why: str = LINK_INSIDE) -> OutputRefused:
    """The error for a link where ovsgen would read, write, delete, rename or lock (the CLI prints it)."""
    return OutputRefused(f"{path} {why}")


def refuse_linked_root(folder: Path) -> None:
    """OUT or golden/ may not itself be a link: in CI the user types `golden/`, but the repository,
    that is the pull request, decides what it is, and a link there could point anywhere."""
    if os.path.islink(folder):
        raise OutputRefused(f"{folder} is a symbolic link; ovsgen writes to and compares with real folders only")


def lstat_entry(path: str) -> os.stat_result | None:
    """lstat of `path`; None when it does not exist; a link is refused."""
    try:
        status = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(status.st_mode):
        raise link_refused(path)
    return status


def lstat_below(base: str, relative: str) -> os.stat_result | None:
    """lstat of `base/relative`, refusing a link at every step below `base` (which the user named)."""
    path, status = base, None
    for part in relative.split("/"):
        path = f"{path}/{part}"
        status = lstat_entry(path)
        if status is None:
            return None
    return status


def is_folder(status: os.stat_result | None) -> bool:
    return status is not None and stat.S_ISDIR(status.st_mode)


def listing(folder: str) -> list[str]:
    """The names in `folder` (not hidden ones), refusing links among them: they are units to replace."""
    try:
        entries = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    with entries:
        names = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                raise link_refused(entry.path)
            names.append(entry.name)
    return sorted(names)


def files_below(folder: str) -> list[str]:
    """The path of every file under `folder`, like os.walk, but a link anywhere is refused,
    and so is a name ovsgen never writes (one that could start a line of a diff in a CI log)."""
    found: list[str] = []
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:  # d_type answers these: no stat per entry
                if entry.is_symlink():
                    raise link_refused(entry.path)
                if forbidden_character(entry.name) is not None:
                    raise OutputRefused(f"{entry.path} is not a name ovsgen writes; remove it")
                if entry.is_dir():  # not a link (refused above): d_type answers, no stat
                    pending.append(entry.path)
                else:
                    found.append(entry.path)
    return found


_READ_NO_LINK = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # O_NONBLOCK: a FIFO never hangs


def open_no_link(path: str) -> int | None:
    """A descriptor for reading `path`; None when it cannot be opened; a link (O_NOFOLLOW) is refused."""
    try:
        return os.open(path, _READ_NO_LINK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise link_refused(path) from None
        return None


def head_of(path: str) -> bytes | None:
    """The first HEAD_BYTES of a regular file; None for anything else. Never through a link."""
    descriptor = open_no_link(path)
    if descriptor is None:
        return None
    try:  # fstat before reading: a folder's descriptor cannot be read
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return os.read(descriptor, HEAD_BYTES)
    finally:
        os.close(descriptor)


def same_file(path: str, data: bytes, mode: int) -> bool:
    """Whether `path` is a regular file holding `data` with `mode` (os-level calls: this runs for
    every file of a re-render or check). Callers have checked the folders on the way."""
    descriptor = open_no_link(path)
    if descriptor is None:
        return False
    try:
        status = os.fstat(descriptor)
        # One read (a regular file gives all its bytes at once; a short read only costs a rewrite),
        # of a byte more than expected: a file that grew since fstat differs.
        return (
            stat.S_ISREG(status.st_mode)
            and status.st_mode & 0o777 == mode
            and status.st_size == len(data)
            and os.read(descriptor, len(data) + 1) == data
        )
    finally:
        os.close(descriptor)


def file_mode(file: OutputFile) -> int:
    """The permission bits a rendered file is written with."""
    return 0o755 if file.executable else 0o644
