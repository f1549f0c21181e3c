"""The run's workspace beside OUT: files are staged there, then swapped into OUT by rename.

Nothing in OUT changes until every file is rendered: files are staged in a
temporary folder beside OUT as they arrive (by forked workers, for large
designs) and swapped in by rename at the end, so an error leaves OUT as it was.
That folder is all a run leaves outside OUT, and only while it runs: the run
holds a lock on it, and a later run removes one whose lock is free (its run was
killed). A file whose bytes (and mode) did not change is hard-linked from the
old tree instead of written, so it keeps its inode and mtime.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.output.nofollow import file_mode, same_file
from generator.render.files import OutputFile


@contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGTERM and SIGINT wait until the block is done, then act as they would have.

    For what must not stop halfway (a swap of many renames, a removal): a run that is told to
    end still ends, with OUT whole and nothing of its own left behind. Only the main thread
    can set handlers; elsewhere (a library caller's thread) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    for number, handler in previous.items():
        if handler is not None:  # None: a handler not set from Python, which cannot be put back
            signal.signal(number, lambda received, _frame: caught.append(received))
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler is not None:
                signal.signal(number, handler)
        for received in dict.fromkeys(caught):  # each once, in the order they came
            signal.raise_signal(received)


class Workspace:
    """A folder beside OUT for one run (beside it: renames into OUT stay on one file system):
    `new` stages what is swapped in, `old` takes what that replaces until the run ends.

    The run holds a lock on the folder while it lives (forked workers share it), so that a later
    run can tell one left by a killed run (its lock is free) and remove it (`remove_orphans`).
    """

    def __init__(self, out: Path) -> None:
        self.path = tempfile.mkdtemp(prefix=_workspace_prefix(out.name), dir=out.parent)
        # Read-only (0), not inherited (os.open's default); a link put there meanwhile is refused.
        self.descriptor = os.open(self.path, os.O_DIRECTORY | os.O_NOFOLLOW)
        fcntl.flock(self.descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # just made: nobody else holds it
        self.new = f"{self.path}/new"
        self.old = f"{self.path}/old"
        os.mkdir(self.new)

    def remove(self) -> None:
        # Signals wait: a SIGTERM in the middle of the removal would leave half of it behind.
        with signals_deferred():
            try:
                shutil.rmtree(self.path, ignore_errors=True)
            finally:
                os.close(self.descriptor)


def _workspace_prefix(name: str) -> str:
    return f".{name}.ovsgen-"


def _workspace_pattern(name: str) -> re.Pattern[str]:
    """The names tempfile.mkdtemp gives workspaces of an output folder called `name` (8 random characters)."""
    return re.compile(re.escape(_workspace_prefix(name)) + "[a-z0-9_]{8}")


def remove_orphans(out: Path) -> None:
    """Remove what killed runs left beside `out`: workspaces whose lock is free, and the lock file
    that earlier versions of ovsgen kept beside OUT. Called under OUT's lock, so no run that
    writes OUT is between making a workspace and locking it."""
    pattern = _workspace_pattern(out.name)
    try:
        with os.scandir(out.parent) as entries:
            names = [entry.name for entry in entries if pattern.fullmatch(entry.name)]
    except OSError:
        return  # nothing to tidy that can be seen
    for name in names:
        _remove_if_free(os.path.join(out.parent, name), folder=True)
    _remove_if_free(str(out.parent / f".{out.name}.ovsgen.lock"), folder=False)


def _remove_if_free(path: str, *, folder: bool) -> None:
    """Remove the folder or regular file `path` (never through a link) if nobody holds a lock
    on it; tidying is best effort: what cannot be removed now stays for a later run."""
    flags = (os.O_RDONLY | os.O_DIRECTORY) if folder else os.O_WRONLY  # O_WRONLY: a folder fails to open
    try:
        descriptor = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return  # gone meanwhile, a link, or not ours to open
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if folder or stat.S_ISREG(os.fstat(descriptor).st_mode):
            with signals_deferred():
                shutil.rmtree(path, ignore_errors=True) if folder else os.unlink(path)
    except OSError:
        return  # held (its run is alive), or removed meanwhile
    finally:
        os.close(descriptor)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Stager:
    """Writes files into a staging folder, or links them from the tree they replace when unchanged."""

    def __init__(self, staging: str, previous: str) -> None:
        self.staging = staging
        self.previous = previous
        self.folders: set[str] = set()  # made in staging by this process
        self.umask = _current_umask()

    def write_file(self, file: OutputFile) -> None:
        path, data, mode = file.path, file.text.encode(), file_mode(file)
        if not self.link_unchanged(path, data, mode):
            self.write(path, data, mode)

    def _target(self, path: str) -> str:
        target = f"{self.staging}/{path}"  # paths are relative and '/'-separated (OutputFile)
        folder = target.rpartition("/")[0]
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        return target

    def write(self, path: str, data: bytes, mode: int) -> None:
        target = self._target(path)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:  # a short write is rare, but allowed
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        if mode & self.umask:  # the umask took bits away
            os.chmod(target, mode)

    def link_unchanged(self, path: str, data: bytes, mode: int) -> bool:
        """Hard-link the previous tree's file when bytes and mode are unchanged: it keeps inode and mtime."""
        old = os.path.join(self.previous, path)
        if not same_file(old, data, mode):
            return False
        try:
            os.link(old, self._target(path), follow_symlinks=False)  # same_file refused a link already
        except OSError:
            return False  # another file system, or links not allowed: write it
        return True


def swap_all(pairs: list[tuple[Path, Path]], retired: str) -> None:
    """Rename every staged unit into place, moving what it replaces into the folder `retired`
    (of the run's workspace, removed with it); on any failure put back what was moved, then raise.
    Signals wait for the swap: OUT is never left half swapped by a SIGTERM."""
    moves: list[tuple[Path, Path]] = []  # (from, to), in the order done
    with signals_deferred():
        try:
            for index, (new, old) in enumerate(pairs):
                old.parent.mkdir(parents=True, exist_ok=True)
                if old.exists() or old.is_symlink():
                    os.makedirs(retired, exist_ok=True)
                    backup = Path(retired, str(index))
                    os.replace(old, backup)
                    moves.append((old, backup))
                if new.exists():
                    os.replace(new, old)
                    moves.append((new, old))
        except OSError:
            for source, destination in reversed(moves):
                os.replace(destination, source)
            raise
