"""Stage 6: put rendered files on disk atomically, or compare them with a folder.

Everything is rendered before anything is written. Each design's folder is
built complete in a temporary directory beside OUT and swapped in by rename,
so an error leaves OUT as it was. A file whose bytes (and mode) did not change
is hard-linked from the old tree instead of written, so it keeps its inode and
mtime: re-rendering golden/ touches only what really changed.
"""

from __future__ import annotations

import difflib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from generator.render.files import OutputFile


def write_tree(out: Path, files: Iterable[OutputFile], replace: Iterable[PurePosixPath]) -> int:
    """Write `files` under `out`, replacing each file or folder in `replace` as a whole.

    Files may stream in (a node's files together); an existing folder in `replace`
    is replaced child by child, and a child whose files equal what OUT holds is not
    touched at all. Returns how many files and folders were replaced.
    """
    out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        session = _Session(out, replace)
        try:
            for file in files:
                session.add(file)
            return session.commit()
        finally:
            session.close()


class _Session:
    """One write: units (what is replaced whole) staged as their files arrive, then swapped in."""

    def __init__(self, out: Path, replace: Iterable[PurePosixPath]) -> None:
        self.out = out
        self.roots = {root: (out / root).is_dir() for root in set(replace)}  # root -> replaced child by child
        self.staging: Path | None = None
        self.stager: _Stager | None = None
        self.unit: PurePosixPath | None = None
        self.buffer: list[OutputFile] = []
        self.seen: set[PurePosixPath] = set()
        self.changed: list[PurePosixPath] = []

    def _unit_of(self, path: PurePosixPath) -> PurePosixPath:
        for depth in range(len(path.parts), 0, -1):
            root = PurePosixPath(*path.parts[:depth])
            if root in self.roots:
                split = self.roots[root] and len(path.parts) > depth
                return root / path.parts[depth] if split else root
        raise ValueError(f"{path} is outside every folder this render replaces")

    def add(self, file: OutputFile) -> None:
        unit = self._unit_of(file.path)
        if unit != self.unit:
            self._finish()
            assert unit not in self.seen, f"the files of {unit} must arrive together"
            self.unit = unit
            self.seen.add(unit)
        if (self.out / unit).exists():
            self.buffer.append(file)  # compared with what is there when the unit is complete
        else:
            self._stage([file], unit)

    def _finish(self) -> None:
        if self.unit is not None and self.buffer and not _unchanged(self.out, self.unit, self.buffer):
            self._stage(self.buffer, self.unit)
        self.buffer = []

    def _stage(self, files: list[OutputFile], unit: PurePosixPath) -> None:
        if self.stager is None:
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.ovsgen-", dir=self.out.parent))
            self.stager = _Stager(self.staging, self.out)
        self.stager.stage(files)
        if not self.changed or self.changed[-1] != unit:
            self.changed.append(unit)

    def commit(self) -> int:
        self._finish()
        for root, split in self.roots.items():
            # What OUT holds that this render no longer produces goes too.
            stale = [root / name for name in _listing(self.out / root) if root / name not in self.seen] if split else []
            if not split and root not in self.seen and (self.out / root).exists():
                stale = [root]
            self.changed += stale
        if not self.changed:
            return 0
        staging = self.staging or self.out.parent / ".ovsgen-nothing-staged"
        _swap_all([(staging / unit, self.out / unit) for unit in self.changed])
        return len(self.changed)

    def close(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def _listing(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if not name.startswith(".")) if folder.is_dir() else []


def _unchanged(out: Path, unit: PurePosixPath, files: list[OutputFile]) -> bool:
    """Whether OUT already holds exactly these files for the unit, bytes and modes."""
    target = out / unit
    if target.is_dir():
        on_disk = {str(Path(folder, name).relative_to(out)) for folder, _, names in os.walk(target) for name in names}
        if on_disk != {str(file.path) for file in files}:
            return False
    return all(_same_file(str(out / file.path), file.text.encode("utf-8"), _mode(file)) for file in files)


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One writer at a time per output folder: two renders at once leave one complete result.

    The lock file sits beside OUT, so that OUT holds only rendered files.
    """
    lock = out.parent / f".{out.name}.ovsgen.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mode(file: OutputFile) -> int:
    return 0o755 if file.executable else 0o644


def _same_file(path: str, data: bytes, mode: int) -> bool:
    try:
        status = os.stat(path)
        if status.st_size != len(data) or status.st_mode & 0o777 != mode:
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _swap_all(pairs: list[tuple[Path, Path]]) -> None:
    """Rename every staged unit into place; on any failure put back what was moved, then raise."""
    moves: list[tuple[Path, Path]] = []  # (from, to), in the order done
    retired: list[Path] = []
    try:
        for new, old in pairs:
            old.parent.mkdir(parents=True, exist_ok=True)
            if old.exists() or old.is_symlink():
                backup = old.with_name(f".{old.name}.ovsgen-old-{os.getpid()}")
                _remove(backup)
                os.replace(old, backup)
                moves.append((old, backup))
                retired.append(backup)
            if new.exists():
                os.replace(new, old)
                moves.append((new, old))
    except OSError:
        for source, destination in reversed(moves):
            os.replace(destination, source)
        raise
    for backup in retired:
        _remove(backup)


def replace_folder(out: Path, files: Iterable[OutputFile]) -> None:
    """Make `out` hold exactly `files`, swapped in whole (for plan folders)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ovsgen-", dir=out.parent))
        try:
            staging.chmod(0o755)
            _Stager(staging, out).stage(files)
            _swap_all([(staging, out)])
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Stager:
    """Writes files into a staging folder, reusing unchanged files of the tree they replace."""

    def __init__(self, staging: Path, previous: Path) -> None:
        self.staging = str(staging)
        self.previous = str(previous)
        self.folders: set[str] = set()
        self.umask = _current_umask()

    def stage(self, files: Iterable[OutputFile]) -> None:
        for file in files:
            self._stage(file)

    def _stage(self, file: OutputFile) -> None:
        relative = str(file.path)
        target = os.path.join(self.staging, relative)
        folder = os.path.dirname(target)
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        data = file.text.encode("utf-8")
        mode = _mode(file)
        if self._link_unchanged(os.path.join(self.previous, relative), target, data, mode):
            return
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        if mode & ~self.umask != mode:
            os.chmod(target, mode)

    @staticmethod
    def _link_unchanged(old: str, target: str, data: bytes, mode: int) -> bool:
        if not _same_file(old, data, mode):
            return False
        try:
            os.link(old, target)
        except OSError:
            return False  # another file system, or links not allowed: write it
        return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def diff_tree(golden: Path, files: Iterable[OutputFile], folders: Iterable[PurePosixPath]) -> list[str]:
    """Unified diff lines from what `golden` holds to what was rendered (empty: up to date).

    Files stream in; files under `folders` in golden that were not rendered count as stale too.
    """
    lines: list[str] = []
    rendered: set[str] = set()
    for file in files:
        path = str(file.path)
        rendered.add(path)
        on_disk = golden / path
        if _same_file(str(on_disk), file.text.encode("utf-8"), _mode(file)):
            continue  # the common case: bytes and mode as rendered, nothing to diff
        exists = on_disk.is_file()
        if exists:
            lines += _mode_change(on_disk, file)
        lines += difflib.unified_diff(
            _read(on_disk) if exists else [],
            file.text.splitlines(keepends=True),
            fromfile=f"a/{path}" if exists else "/dev/null",
            tofile=f"b/{path}",
        )
    stale = sorted(
        str(Path(folder, name).relative_to(golden))
        for root in set(folders)
        for folder, _, names in os.walk(golden / root)
        for name in names
    )
    for path in stale:
        if path not in rendered:
            lines += difflib.unified_diff(_read(golden / path), [], fromfile=f"a/{path}", tofile="/dev/null")
    return lines


def _read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)


def _mode_change(path: Path, file: OutputFile) -> list[str]:
    executable = os.access(path, os.X_OK)
    if executable == file.executable:
        return []
    return [
        f"mode of {path}: {'executable' if executable else 'not executable'} in golden, "
        f"{'executable' if file.executable else 'not executable'} rendered\n"
    ]
