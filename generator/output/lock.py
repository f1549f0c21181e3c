"""One run at a time per output folder: the lock file OUT/.ovsgen.lock.

The lock sits in OUT, so that nothing of a run is left beside OUT once it ends:
OUT is made first (and removed again, if still empty, when the run fails), and
the lock file is removed when the run ends.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.errors import OutputRefused
from generator.output.nofollow import link_refused

LOCK = ".ovsgen.lock"  # in OUT, while a run writes it


def by_own_name(out: Path) -> Path:
    """`out` named so that it has a name of its own: `.` or `x/..` resolved (the staging folder
    beside it is named after it). The root folder has none: refused."""
    if out.name in ("", ".."):
        out = Path(os.path.realpath(out))
    if not out.name:
        raise OutputRefused(f"{out} is the root folder; ovsgen writes only into folders below it")
    return out


def make_parent(out: Path) -> None:
    """The folder that holds OUT and its run's workspace, made if missing."""
    with contextlib.suppress(FileExistsError):  # there already (a file, not a folder: opening the lock says so)
        out.parent.mkdir(parents=True)


@contextmanager
def exclusive(out: Path, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """One writer at a time per output folder: two renders at once leave one complete result.

    A run waiting for the lock may find, once it has it, that the file it locked was removed
    (or moved away with a plan folder): it then locks the file now there. The lock is never
    opened through a link: ovsgen may run as root, and following one would create whatever
    file the link names (/etc/nologin, say).
    """
    made = _made_folder(out)
    lock = str(out / LOCK)
    try:
        descriptor = _locked(lock, waiting)
        try:
            yield
        finally:
            _unlocked(lock, descriptor)
    except BaseException:
        if made:  # a run that failed (or was stopped) leaves no new folder behind
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty
        raise


def _made_folder(out: Path) -> bool:
    """Make OUT; whether it was made (False: it was there, or is something else the lock refuses)."""
    try:
        out.mkdir()
    except FileExistsError:
        return False
    return True


def _locked(lock: str, waiting: Callable[[], None] | None = None) -> int:
    """A descriptor of the file at `lock`, locked: the one the path names once the lock is held.
    `waiting` is told, once, that another run holds it (a render that waits in silence looks hung)."""
    while True:
        descriptor = _open_lock(lock)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting is not None:
                    waiting()
                    waiting = None
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            if _is_at(lock, descriptor):
                return descriptor
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)  # the run before removed or moved it: lock the one there now


def _open_lock(lock: str) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(lock, flags, 0o644)  # O_NONBLOCK: a FIFO planted there must not hang the run
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise link_refused(lock, "is a symbolic link; ovsgen does not follow a link for its lock file") from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OutputRefused(f"{lock} is not a regular file; ovsgen needs one as its lock")
    return descriptor


def _is_at(path: str, descriptor: int) -> bool:
    """Whether `path` names the file open as `descriptor` (not a link, not another file)."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    opened = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _unlocked(lock: str, descriptor: int) -> None:
    """Remove the lock file if it is still the one held (a plan swaps OUT, lock and all), then release it."""
    try:
        if _is_at(lock, descriptor):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
    finally:
        os.close(descriptor)  # closing releases the lock
