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
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator.render.files import OutputFile


@dataclass
class _Unit:
    """A file or folder under OUT that is replaced as a whole, and its rendered files."""

    path: PurePosixPath
    files: list[OutputFile] = field(default_factory=list)


def write_tree(out: Path, files: Iterable[OutputFile], replace: Iterable[PurePosixPath]) -> int:
    """Write `files` under `out`, replacing each file or folder in `replace` as a whole.

    Units whose rendered files equal what OUT holds are not touched at all.
    Returns how many units were replaced.
    """
    out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        changed = [unit for unit in _units(out, list(files), replace) if not _unchanged(out, unit)]
        if not changed:
            return 0
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ovsgen-", dir=out.parent))
        try:
            stager = _Stager(staging, out)
            for unit in changed:
                stager.stage(unit.files)
            _swap_all([(staging / unit.path, out / unit.path) for unit in changed])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return len(changed)


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


def _units(out: Path, files: list[OutputFile], replace: Iterable[PurePosixPath]) -> list[_Unit]:
    """The replace paths, an existing folder split one level (a design into its nodes and files)."""
    units: dict[PurePosixPath, _Unit] = {}
    for root in sorted(set(replace)):
        inside = [file for file in files if file.path == root or root in file.path.parents]
        existing = out / root
        if not existing.is_dir() or not any(len(file.path.parts) > len(root.parts) + 1 for file in inside):
            units[root] = _Unit(root, inside)
            continue
        children = {name for name in os.listdir(existing) if not name.startswith(".")}
        children |= {file.path.parts[len(root.parts)] for file in inside}
        for name in sorted(children):
            units[root / name] = _Unit(root / name)
        for file in inside:
            units[root / file.path.parts[len(root.parts)]].files.append(file)
    return list(units.values())


def _unchanged(out: Path, unit: _Unit) -> bool:
    """Whether OUT already holds exactly the unit's files, bytes and modes."""
    target = out / unit.path
    if not unit.files:
        return not target.exists()
    if target.is_dir():
        on_disk = {str(Path(folder, name).relative_to(out)) for folder, _, names in os.walk(target) for name in names}
        if on_disk != {str(file.path) for file in unit.files}:
            return False
    return all(_same_file(str(out / file.path), file.text.encode("utf-8"), _mode(file)) for file in unit.files)


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

    Files under `folders` in golden that were not rendered count as stale too.
    """
    rendered = {str(file.path): file for file in files}
    on_disk = {
        str(Path(folder, name).relative_to(golden))
        for root in folders
        for folder, _, names in os.walk(golden / root)
        for name in names
    }
    lines: list[str] = []
    for path in sorted(on_disk | rendered.keys()):
        file = rendered.get(path)
        if file is not None and path in on_disk:
            if _same_file(str(golden / path), file.text.encode("utf-8"), _mode(file)):
                continue  # the common case: bytes and mode as rendered, nothing to diff
            lines += _mode_change(golden / path, file)
        old = _read(golden / path) if path in on_disk else []
        new = file.text.splitlines(keepends=True) if file is not None else []
        lines += difflib.unified_diff(
            old,
            new,
            fromfile=f"a/{path}" if path in on_disk else "/dev/null",
            tofile=f"b/{path}" if file is not None else "/dev/null",
        )
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
