"""Control of Python's cyclic garbage collector while a design's objects are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; the collector runs again afterwards
    (unless it was off before).

    A design's objects hold no cycles, and each collection would walk every object made so
    far: 12% of validating 10,000 nodes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
