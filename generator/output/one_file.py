"""One file written whole: beside its place, then renamed over it, so that a failure or an
interruption leaves no half file and no temporary one (diff --full, import -o)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def written_whole(path: Path | None) -> Iterator[TextIO | None]:
    """A stream for `path` (None: no stream), renamed over it when the block ends without error."""
    if path is None:
        yield None
        return
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".ovsgen-tmp")
    except OSError as error:  # named as the user gave it, not as the temporary file beside it
        raise OSError(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.chmod(temporary, 0o666 & ~_umask())  # what a plain file write would give it
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
