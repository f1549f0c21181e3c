"""A per-user cache of work that depends only on ovsgen's own files.

Compiled Jinja templates and the generated schema validator are kept under
$OVSGEN_CACHE_DIR, else $XDG_CACHE_HOME/ovsgen, else ~/.cache/ovsgen, keyed
by a hash of their sources, so a change to a template or the schema is never
served stale. Without a writable cache ovsgen works the same, only slower to
start. Set OVSGEN_CACHE_DIR to an empty string to turn the cache off.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path | None:
    """The cache folder, made if need be, or None when there is none to write to.

    Asked afresh each time (a few times per process): the environment decides, and a
    test or a long-lived caller that changes OVSGEN_CACHE_DIR is never served an old answer.
    """
    configured = os.environ.get("OVSGEN_CACHE_DIR")
    if configured == "":
        return None
    if configured:
        folder = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "ovsgen"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def read(name: str) -> bytes | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store atomically (another ovsgen may be reading); a failure only costs speed."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, folder / name)
    except OSError:
        return
