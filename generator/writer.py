"""Stage 6: put rendered files on disk atomically, or compare them with a folder.

Everything is rendered before anything is written. Each design's folder is
built complete in a temporary directory beside OUT and swapped in by rename,
so an error leaves OUT as it was.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from generator.render.files import OutputFile


def write_tree(out: Path, files: Iterable[OutputFile], replace: Iterable[PurePosixPath]) -> None:
    """Write `files` under `out`, replacing each file or folder in `replace` as a whole."""
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ovsgen-", dir=out.parent))
    try:
        for file in files:
            _write_file(staging / file.path, file)
        for folder in sorted(set(replace)):
            _swap_in(staging / folder, out / folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_folder(out: Path, files: Iterable[OutputFile]) -> None:
    """Make `out` hold exactly `files`, swapped in whole (for plan folders)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ovsgen-", dir=out.parent))
    try:
        staging.chmod(0o755)
        for file in files:
            _write_file(staging / file.path, file)
        _swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_file(target: Path, file: OutputFile) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(file.text)
    target.chmod(0o755 if file.executable else 0o644)


def _swap_in(new: Path, old: Path) -> None:
    """Put `new` (a file or folder) where `old` is; remove `old` if nothing new was rendered."""
    old.parent.mkdir(parents=True, exist_ok=True)
    if new.is_file() and not old.is_dir():
        os.replace(new, old)  # atomic for a single file
        return
    retired = old.with_name(f".{old.name}.ovsgen-old")
    _remove(retired)
    if old.exists() or old.is_symlink():
        os.replace(old, retired)
    if new.exists():
        os.replace(new, old)
    _remove(retired)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def diff_tree(golden: Path, files: Iterable[OutputFile], folders: Iterable[PurePosixPath]) -> list[str]:
    """Unified diff lines from what `golden` holds to what was rendered (empty: up to date).

    Files under `folders` in golden that were not rendered count as stale too.
    """
    rendered = {file.path: file for file in files}
    on_disk = {
        PurePosixPath(path.relative_to(golden).as_posix())
        for folder in folders
        if (golden / folder).is_dir()
        for path in (golden / folder).rglob("*")
        if path.is_file()
    }
    lines: list[str] = []
    for path in sorted(on_disk | set(rendered)):
        old = _read(golden / path) if path in on_disk else []
        new = rendered[path].text.splitlines(keepends=True) if path in rendered else []
        lines += difflib.unified_diff(
            old,
            new,
            fromfile=f"a/{path}" if old or path in on_disk else "/dev/null",
            tofile=f"b/{path}" if path in rendered else "/dev/null",
        )
        if path in rendered and path in on_disk:
            lines += _mode_change(golden / path, rendered[path])
    return lines


def _read(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)


def _mode_change(path: Path, file: OutputFile) -> list[str]:
    executable = os.access(path, os.X_OK)
    if executable == file.executable:
        return []
    return [
        f"mode of {path.name}: {'executable' if executable else 'not executable'} in golden, "
        f"{'executable' if file.executable else 'not executable'} rendered\n"
    ]
