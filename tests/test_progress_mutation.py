"""generator.cli.progress in-process with a stand-in terminal and clock, so that mutation testing sees
what tests/test_progress.py checks on a real (pseudo-)terminal through the ovsgen command."""

from __future__ import annotations

import io
import time

import pytest

from generator.cli.progress import (
    DEFAULT_DELAY,
    DELAY_VARIABLE,
    REDRAW_INTERVAL,
    Progress,
    color_wanted,
    progress_delay,
    progress_line,
    progress_wanted,
)

CLEAR = "\r\x1b[K"


class Stream:
    """A terminal stand-in that records what was written and when it was flushed."""

    def __init__(self, terminal: bool = True) -> None:
        self.terminal = terminal
        self.written = ""
        self.flushed = ""  # what had been written at the last flush

    def write(self, text: str) -> int:
        self.written += text
        return len(text)

    def flush(self) -> None:
        self.flushed = self.written

    def isatty(self) -> bool:
        return self.terminal


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_a_closed_stream_is_no_terminal() -> None:
    closed = io.StringIO()
    closed.close()
    assert color_wanted(closed, {"TERM": "xterm"}) is False
    assert progress_wanted(closed, {"TERM": "xterm"}, quiet=False) is False
    assert color_wanted(closed, {"TERM": "xterm", "FORCE_COLOR": "1"}) is True


@pytest.mark.parametrize(
    ("environ", "terminal", "coloured"),
    [
        ({"NO_COLOR": ""}, True, False),  # set at all, even empty
        ({"NO_COLOR": "", "FORCE_COLOR": "1"}, False, False),
        ({"FORCE_COLOR": ""}, False, False),  # empty: not set
        ({"FORCE_COLOR": "0"}, False, True),  # any text sets it
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
        ({"TERM": "Dumb"}, True, True),
        ({"TERM": ""}, True, True),
    ],
)
def test_colour_follows_the_variables(environ: dict[str, str], terminal: bool, coloured: bool) -> None:
    assert color_wanted(Stream(terminal), environ) is coloured  # type: ignore[arg-type]


def test_the_progress_line_ignores_the_colour_variables() -> None:
    environ = {"NO_COLOR": "1", "TERM": "xterm"}
    assert progress_wanted(Stream(True), environ, quiet=False) is True  # type: ignore[arg-type]
    assert progress_wanted(Stream(False), {"FORCE_COLOR": "1"}, quiet=False) is False  # type: ignore[arg-type]
    assert progress_wanted(Stream(True), {"TERM": "dumb"}, quiet=False) is False  # type: ignore[arg-type]
    assert progress_wanted(Stream(True), {}, quiet=True) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "delay"),
    [("0.5", 0.5), ("3", 3.0), ("", DEFAULT_DELAY), ("nan", DEFAULT_DELAY), ("-0.1", DEFAULT_DELAY), ("-inf", 1.0)],
)
def test_the_delay_variable(value: str, delay: float) -> None:
    assert progress_delay({DELAY_VARIABLE: value}) == delay
    assert progress_delay({"OTHER": "5"}) == 1.0


def test_the_line_waits_one_second_by_default_and_is_flushed_each_time() -> None:
    stream, clock = Stream(), Clock()
    progress = Progress(stream, 10, shown=True, clock=clock)  # type: ignore[arg-type]
    clock.now += 0.999
    progress.advance()
    assert stream.written == ""
    clock.now += 0.001
    progress.advance(2)
    assert stream.written == stream.flushed == f"{CLEAR}rendering 3/10 nodes"
    drawn_at = clock.now
    clock.now = drawn_at + REDRAW_INTERVAL - 0.001
    progress.advance()
    assert stream.written.count("rendering") == 1
    clock.now = drawn_at + REDRAW_INTERVAL
    progress.advance()
    assert stream.written == stream.flushed == f"{CLEAR}rendering 3/10 nodes{CLEAR}rendering 5/10 nodes"
    progress.clear()
    assert stream.flushed.endswith(f"nodes{CLEAR}")


def test_each_redraw_waits_from_the_last_one() -> None:
    """A slow stretch does not bunch redraws: the next one is an interval after the last draw."""
    stream, clock = Stream(), Clock()
    progress = Progress(stream, 1000, shown=True, delay=0, clock=clock)  # type: ignore[arg-type]
    progress.advance()
    clock.now += 5
    progress.advance()
    clock.now += REDRAW_INTERVAL / 2
    progress.advance()
    assert stream.written.count("rendering") == 2
    assert progress.done == 3


def test_thousands_are_grouped_in_both_counts() -> None:
    stream = Stream()
    progress = Progress(stream, 12345, shown=True, delay=0, clock=Clock())  # type: ignore[arg-type]
    progress.advance(1234)
    assert stream.written == f"{CLEAR}rendering 1,234/12,345 nodes"


def test_the_line_of_a_run_is_cleared_even_when_it_fails() -> None:
    stream = Stream()

    def fail_halfway() -> None:
        with progress_line(stream, 4, shown=True, delay=0) as progress:  # type: ignore[arg-type]
            progress.advance(2)
            assert stream.written == f"{CLEAR}rendering 2/4 nodes"
            raise RuntimeError("a node failed")

    with pytest.raises(RuntimeError):
        fail_halfway()
    assert stream.written == f"{CLEAR}rendering 2/4 nodes{CLEAR}"
    assert stream.flushed == stream.written


def test_a_run_line_uses_the_real_clock_and_the_delay_given() -> None:
    stream = Stream()
    with progress_line(stream, 4, shown=True, delay=3600) as progress:  # type: ignore[arg-type]
        progress.advance(4)
    assert stream.written == ""
    with progress_line(stream, 4, shown=False, delay=0) as progress:  # type: ignore[arg-type]
        progress.advance(4)
    assert stream.written == ""
    start = time.monotonic()
    with progress_line(stream, 4, shown=True, delay=0) as progress:  # type: ignore[arg-type]
        assert start <= progress.first_draw <= time.monotonic()
        progress.advance(1)
    assert stream.written == f"{CLEAR}rendering 1/4 nodes{CLEAR}"
