"""Stage 6: put rendered files on disk atomically, or compare them with a folder.

Nothing in OUT changes until every file is rendered: files are staged in a
temporary directory beside OUT as they arrive (by forked workers, for large
designs) and swapped in by rename at the end, so an error leaves OUT as it was.
A file whose bytes (and mode) did not change is hard-linked from the old tree
instead of written, so it keeps its inode and mtime: re-rendering golden/
touches only what really changed.

Symbolic links inside OUT (or golden/) are never followed: a pull request can
commit one, and following it would let a render delete and write files
elsewhere, or `check` print a secret as a diff. Every entry this module reads,
replaces or removes below OUT is looked at with lstat (or opened with
O_NOFOLLOW) first, and a link there stops the run before anything is written.
OUT itself, named by the user, may be a link.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.characters import forbidden_character
from generator.render.files import OutputFile


def write_tree(out: Path, files: Iterable[OutputFile], replace: Iterable[PurePosixPath]) -> int:
    """Write `files` under `out`, replacing each file or folder in `replace` as a whole.

    Returns how many files and folders were replaced. `writing` is the same in
    steps, a node at a time, for renders that stream (or run in workers).
    """
    with writing(out, replace) as tree:
        tree.record(tree.stage(list(files)))
        return tree.commit()


@contextmanager
def writing(out: Path, replace: Iterable[PurePosixPath]) -> Iterator[TreeWriter]:
    """A TreeWriter for `out`, holding its lock; whatever was not committed is thrown away."""
    refuse_linked_root(out)
    _make_parent(out)
    with _exclusive(out):
        out.mkdir(exist_ok=True)  # after the lock: a refused lock leaves no new folder behind
        tree = TreeWriter(out, replace)
        try:
            yield tree
        finally:
            tree.close()


@dataclass(frozen=True)
class Staged:
    """What one `stage` call did: per unit, whether it was staged (changed) and whether OUT had it."""

    units: tuple[tuple[str, bool, bool], ...]  # (unit, staged, compared with OUT)
    files: int


class TreeWriter:
    """One write: units (what is replaced whole) are staged beside OUT, then swapped in together.

    A unit is a folder or file of `replace`, or, when OUT already holds that
    folder, each of its children (so unchanged node folders stay untouched).
    `stage` only touches the file system, so forked workers may call it for
    their nodes; the parent `record`s what each call returns, then `commit`s.
    """

    def __init__(self, out: Path, replace: Iterable[PurePosixPath]) -> None:
        self.out = str(out)
        # root -> whether it is replaced child by child (OUT has it as a folder)
        self.roots = {str(root): _is_folder(_lstat_below(self.out, str(root))) for root in set(replace)}
        for root, split in self.roots.items():
            if split:  # refuse a linked node folder or file now, before anything is staged
                _listing(os.path.join(self.out, root))
        self.staging = tempfile.mkdtemp(prefix=f".{out.name}.ovsgen-", dir=out.parent)
        self.stager = _Stager(self.staging, self.out)
        self.changed: dict[str, None] = {}  # an ordered set: units to swap in, in render order
        self.seen: set[str] = set()

    def unit_of(self, path: str) -> str:
        parts = path.split("/")
        for depth in range(len(parts), 0, -1):
            root = "/".join(parts[:depth])
            if root in self.roots:
                return f"{root}/{parts[depth]}" if self.roots[root] and depth < len(parts) else root
        raise ValueError(f"{path} is outside every folder this render replaces")

    def stage(self, files: Sequence[OutputFile]) -> Staged:
        """Stage the units of `files` that differ from OUT; a unit OUT holds must come whole."""
        groups: dict[str, list[tuple[str, bytes, int]]] = {}
        folder_units: dict[str, str] = {}  # a node's files share a few folders: look each up once
        for file in files:
            path = file.path
            folder = path.rpartition("/")[0]
            unit = folder_units.get(folder) if path not in self.roots else None
            if unit is None:
                unit = self.unit_of(path)
                if unit != path:  # a folder's unit holds all its files; a file that is a unit, only itself
                    folder_units[folder] = unit
            groups.setdefault(unit, []).append((path, file.text.encode(), _mode(file)))
        return Staged(tuple(self._stage_unit(unit, group) for unit, group in groups.items()), len(files))

    def _stage_unit(self, unit: str, files: list[tuple[str, bytes, int]]) -> tuple[str, bool, bool]:
        target = os.path.join(self.out, unit)
        status = _lstat_entry(target)  # the unit's folder (a root) was checked when the writer started
        if status is None:
            for path, data, mode in files:
                self.stager.write(path, data, mode)
            return unit, True, False
        if _unchanged(self.out, target, _is_folder(status), files):
            return unit, False, True
        for path, data, mode in files:
            if not self.stager.link_unchanged(path, data, mode):
                self.stager.write(path, data, mode)
        return unit, True, True

    def record(self, staged: Staged) -> None:
        """Note what a `stage` call did (in this process or a worker), in render order."""
        for unit, changed, compared in staged.units:
            assert not (compared and unit in self.seen), f"the files of {unit} must arrive together"
            self.seen.add(unit)
            if changed:
                self.changed.setdefault(unit)

    def commit(self) -> int:
        """Swap every changed unit in, and remove what OUT holds that this render no longer makes."""
        changed = list(self.changed)
        # A root rendered as a unit of its own is a file, swapped in whole even where OUT held a folder.
        unrendered = {root: split for root, split in self.roots.items() if root not in self.seen}
        for root, split in unrendered.items():
            if split:
                stale = (f"{root}/{name}" for name in _listing(os.path.join(self.out, root)))
                changed += [unit for unit in stale if unit not in self.seen]
            elif os.path.lexists(os.path.join(self.out, root)):
                changed.append(root)
        if changed:
            _swap_all([(Path(self.staging, unit), Path(self.out, unit)) for unit in changed])
        return len(changed)

    def close(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


_LINK_INSIDE = "is a symbolic link; ovsgen does not follow links inside an output folder"


def _link_refused(path: str, why: str = _LINK_INSIDE) -> OSError:
    """The error for a link where ovsgen would read, write, delete, rename or lock (the CLI prints it)."""
    return OSError(errno.ELOOP, f"{path} {why}")


def _lstat_entry(path: str) -> os.stat_result | None:
    """lstat of `path`; None when it does not exist; a link is refused."""
    try:
        status = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(status.st_mode):
        raise _link_refused(path)
    return status


def _lstat_below(base: str, relative: str) -> os.stat_result | None:
    """lstat of `base/relative`, refusing a link at every step below `base` (which the user named)."""
    path, status = base, None
    for part in relative.split("/"):
        path = f"{path}/{part}"
        status = _lstat_entry(path)
        if status is None:
            return None
    return status


def _is_folder(status: os.stat_result | None) -> bool:
    return status is not None and stat.S_ISDIR(status.st_mode)


def _listing(folder: str) -> list[str]:
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
                raise _link_refused(entry.path)
            names.append(entry.name)
    return sorted(names)


def refuse_linked_root(folder: Path) -> None:
    """OUT or golden/ may not itself be a link: in CI the user types `golden/`, but the repository,
    that is the pull request, decides what it is, and a link there could point anywhere."""
    if os.path.islink(folder):
        raise OSError(errno.ELOOP, f"{folder} is a symbolic link; ovsgen writes to and compares with real folders only")


def _files_below(folder: str) -> list[str]:
    """The path of every file under `folder`, like os.walk, but a link anywhere is refused,
    and so is a name ovsgen never writes (one that could start a line of a diff in a CI log)."""
    found: list[str] = []
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:  # d_type answers these: no stat per entry
                if entry.is_symlink():
                    raise _link_refused(entry.path)
                if forbidden_character(entry.name) is not None:
                    raise OSError(errno.EINVAL, f"{entry.path} is not a name ovsgen writes; remove it")
                if entry.is_dir():  # not a link (refused above): d_type answers, no stat
                    pending.append(entry.path)
                else:
                    found.append(entry.path)
    return found


def _unchanged(out: str, target: str, is_folder: bool, files: list[tuple[str, bytes, int]]) -> bool:
    """Whether OUT already holds exactly these files (paths relative to OUT) at `target`, bytes and modes."""
    if is_folder:
        start = len(out) + 1  # walked folders are `out`/...: their tails are the relative paths
        if {path[start:] for path in _files_below(target)} != {path for path, _, _ in files}:
            return False
    return all(_same_file(f"{out}/{path}", data, mode) for path, data, mode in files)


def _make_parent(out: Path) -> None:
    """The folder that holds OUT, its lock and the staging folder, made if missing."""
    with contextlib.suppress(FileExistsError):  # there already (a file, not a folder: opening the lock says so)
        out.parent.mkdir(parents=True)


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One writer at a time per output folder: two renders at once leave one complete result.

    The lock file sits beside OUT, so that OUT holds only rendered files. It is
    never opened through a link: ovsgen may run as root, and following one
    would create whatever file the link names (/etc/nologin, say).
    """
    lock = str(out.parent / f".{out.name}.ovsgen.lock")
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(lock, flags, 0o644)  # O_NONBLOCK: a FIFO planted there must not hang the run
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _link_refused(lock, "is a symbolic link; ovsgen does not follow a link for its lock file") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, f"{lock} is not a regular file; ovsgen needs one as its lock")
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _mode(file: OutputFile) -> int:
    return 0o755 if file.executable else 0o644


_READ_NO_LINK = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # O_NONBLOCK: a FIFO never hangs


def _open_no_link(path: str) -> int | None:
    """A descriptor for reading `path`; None when it cannot be opened; a link (O_NOFOLLOW) is refused."""
    try:
        return os.open(path, _READ_NO_LINK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _link_refused(path) from None
        return None


def _same_file(path: str, data: bytes, mode: int) -> bool:
    """Whether `path` is a regular file holding `data` with `mode` (os-level calls: this runs for
    every file of a re-render or check). Callers have checked the folders on the way."""
    descriptor = _open_no_link(path)
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


def replace_folder(out: Path, files: Iterable[OutputFile], shape: FolderShape | None = None) -> InTheWay | None:
    """Make `out` hold exactly `files`, swapped in whole (for plan folders).

    With `shape`, `out` is replaced only when `in_the_way` finds nothing there (asked under the
    lock, so no other ovsgen run changes the folder between the look and the swap); otherwise
    nothing is written and what is in the way is returned.
    """
    if out.name in ("", ".."):  # `.` or `x/..`: the lock and staging beside it need the folder's own name
        out = Path(os.path.realpath(out))
    if not out.name:
        raise OSError(errno.EINVAL, f"{out} is the root folder; ovsgen replaces only folders below it")
    _make_parent(out)
    with _exclusive(out):
        if shape is not None:
            obstacles = in_the_way(out, shape)
            if obstacles is not None:
                return obstacles
        if out.is_dir():  # the old plan's files may be linked from: refuse a link in it first
            _files_below(str(out))
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ovsgen-", dir=out.parent))
        try:
            staging.chmod(0o755)
            stager = _Stager(str(staging), str(out))
            for file in files:
                stager.write_file(file)
            _swap_all([(staging, out)])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return None


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
            raise _link_refused(entry.path)
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
    descriptor = _open_no_link(str(marker))
    if descriptor is None:
        return False
    try:  # fstat before reading: os.fdopen itself refuses a folder's descriptor
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return False
        head = os.read(descriptor, 4096)  # a header line is far shorter
    finally:
        os.close(descriptor)
    return made_by(head.partition(b"\n")[0].decode(errors="replace"))


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Stager:
    """Writes files into a staging folder, or links them from the tree they replace when unchanged."""

    def __init__(self, staging: str, previous: str) -> None:
        self.staging = staging
        self.previous = previous
        self.folders: set[str] = set()  # made in staging by this process
        self.umask = _current_umask()

    def write_file(self, file: OutputFile) -> None:
        path, data, mode = file.path, file.text.encode(), _mode(file)
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
        if mode & ~self.umask != mode:
            os.chmod(target, mode)

    def link_unchanged(self, path: str, data: bytes, mode: int) -> bool:
        """Hard-link the previous tree's file when bytes and mode are unchanged: it keeps inode and mtime."""
        old = os.path.join(self.previous, path)
        if not _same_file(old, data, mode):
            return False
        try:
            os.link(old, self._target(path), follow_symlinks=False)  # _same_file refused a link already
        except OSError:
            return False  # another file system, or links not allowed: write it
        return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


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
            _lstat_below(str(golden), folder)
            checked.add(folder)
        on_disk = os.path.join(golden, path)
        if _same_file(on_disk, file.text.encode(), _mode(file)):
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
        if _is_folder(_lstat_below(str(golden), str(root)))
        for path in _files_below(f"{golden}/{root}")
    )
    stale = sorted(path for path in on_disk if path not in rendered)
    return [line for path in stale for line in _file_diff(_lines_of(f"{golden}/{path}"), None, path)]


def _lines_of(path: str) -> list[str]:
    old = _read_regular(path)
    return old[0] if old is not None else []


def _read_regular(path: str) -> tuple[list[str], int] | None:
    """The lines and permission bits of a regular file; None for anything else. Never through a link."""
    descriptor = _open_no_link(path)
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
