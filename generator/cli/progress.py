"""Feedback on long runs: colour and a progress line where a person watches, a plain closing line.

A terminal gets colour and, for runs that last over a second, one self-overwriting line
("rendering 1,200/2,000 nodes"), redrawn a few times a second and cleared before the
closing line. A pipe or a file (a CI log) gets neither: each redraw would be a line there.

The environment decides as other tools do:
- NO_COLOR (no-color.org), when set at all (even empty, as ovsgen always read it): no colour,
  whatever else is set;
- FORCE_COLOR (force-color.org), when set and not empty: colour even off a terminal (a CI
  log that shows colours); it never turns the progress line on;
- TERM=dumb: a terminal that cannot move the cursor or colour text: neither;
- OVSGEN_PROGRESS_DELAY: seconds a run lasts before the progress line appears (default 1;
  0 shows it at once). A value that is not a number of seconds is ignored.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

DELAY_VARIABLE = "OVSGEN_PROGRESS_DELAY"
DEFAULT_DELAY = 1.0  # seconds: shorter runs end before anyone wonders whether they hang
REDRAW_INTERVAL = 0.2  # seconds between redraws: a few a second reads as moving, costs nothing
_CLEAR_LINE = "\r\033[K"  # back to the start of the line, erase to its end


def _is_set(environ: Mapping[str, str], name: str) -> bool:
    """Set and not empty, as no-color.org and force-color.org define it."""
    return bool(environ.get(name))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # a closed stream
        return False


def _smart_terminal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A terminal that can move the cursor and show colours."""
    return _is_terminal(stream) and environ.get("TERM") != "dumb"


def color_wanted(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether messages on `stream` are coloured (see the module's documentation)."""
    if "NO_COLOR" in environ:
        return False
    return _is_set(environ, "FORCE_COLOR") or _smart_terminal(stream, environ)


def progress_wanted(stream: TextIO, environ: Mapping[str, str], quiet: bool) -> bool:
    """Whether a progress line may be drawn on `stream`: a capable terminal, and not --quiet."""
    return not quiet and _smart_terminal(stream, environ)


def progress_delay(environ: Mapping[str, str]) -> float:
    """Seconds before the progress line appears ($OVSGEN_PROGRESS_DELAY, else one second)."""
    try:
        delay = float(environ.get(DELAY_VARIABLE, DEFAULT_DELAY))
    except ValueError:
        return DEFAULT_DELAY
    return delay if 0 <= delay < math.inf else DEFAULT_DELAY


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`1 file`, `2,000 files`: the count with thousands separators, and the noun to match."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {noun}"


class Progress:
    """Counts nodes as they are done, and shows `rendering done/total nodes` when drawing is on."""

    def __init__(
        self,
        stream: TextIO,
        total: int,
        *,
        shown: bool,
        delay: float = DEFAULT_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.shown = shown
        self.clock = clock
        self.first_draw = clock() + delay
        self.next_draw = self.first_draw
        self.drawn = False

    def advance(self, nodes: int = 1) -> None:
        self.done += nodes
        if self.shown and self.clock() >= self.next_draw:
            self._draw()

    def _draw(self) -> None:
        self.stream.write(f"{_CLEAR_LINE}rendering {min(self.done, self.total):,}/{self.total:,} nodes")
        self.stream.flush()
        self.drawn = True
        self.next_draw = self.clock() + REDRAW_INTERVAL

    def clear(self) -> None:
        """Erase the line, so that what follows starts on a clean one."""
        if self.drawn:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
            self.drawn = False


@contextmanager
def progress_line(stream: TextIO, total: int, *, shown: bool, delay: float) -> Iterator[Progress]:
    """A Progress whose line is cleared however the run ends (an error message needs a clean line too)."""
    progress = Progress(stream, total, shown=shown, delay=delay)
    try:
        yield progress
    finally:
        progress.clear()


def use_color() -> bool:
    """Colour on stderr where it shows and is wanted (NO_COLOR, FORCE_COLOR)."""
    return color_wanted(sys.stderr, os.environ)
