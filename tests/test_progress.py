"""Feedback on long runs: the progress line on a real terminal (a pseudo-terminal), none in a
pipe, with --quiet or on a dumb terminal; colour as NO_COLOR, FORCE_COLOR and TERM ask; the
closing line's counts."""

from __future__ import annotations

import importlib.util
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.cli.progress import (
    DEFAULT_DELAY,
    DELAY_VARIABLE,
    REDRAW_INTERVAL,
    Progress,
    color_wanted,
    counted,
    progress_delay,
    progress_wanted,
)
from tests.conftest import REPO

OVSGEN = [sys.executable, "-m", "generator"]
AHV = REPO / "designs" / "ahv-host.yaml"
NODES = 60
PROGRESS = re.compile(r"\r\x1b\[Krendering ([\d,]+)/([\d,]+) nodes")
CLEAR = "\r\x1b[K"
YELLOW_WARNING = "\x1b[1;33mwarning\x1b[0m"


def fleet(nodes: int) -> str:
    """A synthetic fleet design of `nodes` nodes (benchmarks/fleet.py)."""
    spec = importlib.util.spec_from_file_location("fleet", REPO / "benchmarks" / "fleet.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.fleet_design(nodes))


@pytest.fixture(scope="module")
def fleet_design(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet.yaml"
    path.write_text(fleet(NODES))
    return path


def environment(**changes: str | None) -> dict[str, str]:
    """The suite's environment (its own cache included) without the variables that steer colour
    and progress, then `changes` (None removes a variable)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("NO_COLOR", "FORCE_COLOR", "TERM", DELAY_VARIABLE)
    }
    env["TERM"] = "xterm"
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def on_terminal(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run ovsgen with its stderr on a pseudo-terminal; its exit code and what the terminal got.

    stdout goes to /dev/null and the terminal is read as the output comes, so no buffer fills up
    and blocks the command; a run past `timeout` is killed and fails the test."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [*OVSGEN, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=REPO
    )
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command ended and everything was read
                break
            if not chunk:
                break
            received += chunk
        else:
            pytest.fail(f"ovsgen {' '.join(args)} ran past {timeout} s; got so far: {bytes(received)!r}")
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    # The terminal turns each line end into CR LF; the progress line's own CRs stay.
    return code, received.decode().replace("\r\n", "\n")


def piped(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OVSGEN, *args], capture_output=True, text=True, check=False, env=env, cwd=REPO, timeout=120)


def test_a_render_shows_its_progress_on_a_terminal_and_clears_it_before_the_closing_line(
    fleet_design: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, shown = on_terminal(["render", str(fleet_design), "-o", str(out)], environment(**{DELAY_VARIABLE: "0"}))
    assert code == 0, shown
    counts = [(int(done.replace(",", "")), int(total)) for done, total in PROGRESS.findall(shown)]
    assert counts, shown
    assert all(total == NODES and 1 <= done <= NODES for done, total in counts)
    assert [done for done, _ in counts] == sorted(done for done, _ in counts)  # it only goes forward
    # The last thing before the closing line erases the progress line, so the closing line stands alone.
    before, closing = shown.rsplit(CLEAR, 1)
    assert PROGRESS.search(before)
    files = len([path for path in out.rglob("*") if path.is_file()])
    assert closing == f"ovsgen: rendered {files:,} files for {NODES} nodes under {out}/: {files:,} files changed\n"


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        (["--quiet"], {DELAY_VARIABLE: "0"}),
        (["-q"], {DELAY_VARIABLE: "0"}),
        ([], {DELAY_VARIABLE: "0", "TERM": "dumb"}),
        ([], {}),  # a run that ends within the default second
    ],
    ids=["quiet", "q", "dumb-terminal", "short-run"],
)
def test_no_progress_line_on_a_terminal_when_quiet_dumb_or_quick(
    fleet_design: Path, tmp_path: Path, flags: list[str], env: dict[str, str]
) -> None:
    design = AHV if not env else fleet_design
    code, shown = on_terminal(["render", str(design), "-o", str(tmp_path / "out"), *flags], environment(**env))
    assert code == 0, shown
    assert "rendering" not in shown
    assert "\r" not in shown
    assert shown.splitlines()[-1].startswith("ovsgen: rendered ")


def test_no_progress_line_in_a_pipe(fleet_design: Path, tmp_path: Path) -> None:
    result = piped(["render", str(fleet_design), "-o", str(tmp_path / "out")], environment(**{DELAY_VARIABLE: "0"}))
    assert result.returncode == 0, result.stderr
    assert "rendering" not in result.stderr
    assert "\r" not in result.stderr
    assert "\x1b" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"ovsgen: rendered 1,263 files for {NODES} nodes under ")


def test_check_takes_quiet_too(tmp_path: Path) -> None:
    out = tmp_path / "golden"
    assert piped(["render", str(AHV), "-o", str(out)], environment()).returncode == 0
    result = piped(["check", str(AHV), "--golden", str(out), "--quiet"], environment())
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == f"ovsgen: {out}/ is up to date (15 files)"


# --- colour ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        ({}, True),
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": ""}, False),  # set at all: ovsgen has always read it so
        ({"TERM": "dumb"}, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # no colour wins
    ],
    ids=["terminal", "no-color", "no-color-empty", "dumb", "dumb-forced", "no-color-beats-force"],
)
def test_colour_on_a_terminal_follows_the_environment(env: dict[str, str], coloured: bool) -> None:
    code, shown = on_terminal(["validate", str(AHV)], environment(**env))
    assert code == 0, shown
    assert (YELLOW_WARNING in shown) is coloured
    assert ("\x1b" in shown) is coloured


@pytest.mark.parametrize(
    ("env", "coloured"),
    [({}, False), ({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": ""}, False), ({"FORCE_COLOR": "0"}, True)],
    ids=["plain", "forced", "forced-empty", "forced-any-value"],
)
def test_force_color_colours_a_pipe(env: dict[str, str], coloured: bool) -> None:
    result = piped(["validate", str(AHV)], environment(**env))
    assert result.returncode == 0, result.stderr
    assert (YELLOW_WARNING in result.stderr) is coloured
    assert "\r" not in result.stderr  # FORCE_COLOR colours; it never draws a progress line


# --- the parts, with a clock of our own --------------------------------------------------


class Stream:
    """A terminal stand-in: what was written, and whether it claims to be a terminal."""

    def __init__(self, terminal: bool) -> None:
        self.terminal = terminal
        self.written = ""

    def write(self, text: str) -> int:
        self.written += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.terminal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_appears_after_the_delay_and_is_redrawn_a_few_times_a_second() -> None:
    stream, clock = Stream(True), Clock()
    progress = Progress(stream, 2000, shown=True, delay=1.0, clock=clock)  # type: ignore[arg-type]
    progress.advance(100)
    clock.now += 0.99
    progress.advance(100)
    assert stream.written == ""  # within the first second: nothing
    clock.now += 0.01
    progress.advance(100)
    assert stream.written == f"{CLEAR}rendering 300/2,000 nodes"
    for _ in range(10):  # many nodes within one redraw interval: one redraw at most
        clock.now += REDRAW_INTERVAL / 20
        progress.advance(10)
    assert stream.written.count("rendering") == 1
    clock.now += REDRAW_INTERVAL
    progress.advance(1600)
    assert stream.written.endswith(f"{CLEAR}rendering 2,000/2,000 nodes")
    progress.clear()
    assert stream.written.endswith(f"nodes{CLEAR}")
    progress.clear()  # once cleared, nothing more to erase
    assert stream.written.count(CLEAR) == 3


def test_a_progress_that_is_not_shown_writes_nothing_and_still_counts() -> None:
    stream, clock = Stream(True), Clock()
    progress = Progress(stream, 5, shown=False, delay=0, clock=clock)  # type: ignore[arg-type]
    for _ in range(5):
        clock.now += 1
        progress.advance()
    progress.clear()
    assert (stream.written, progress.done) == ("", 5)


def test_design_level_files_do_not_push_the_count_past_the_total() -> None:
    stream = Stream(True)
    progress = Progress(stream, 3, shown=True, delay=0, clock=Clock())  # type: ignore[arg-type]
    progress.advance(4)
    assert stream.written == f"{CLEAR}rendering 3/3 nodes"


@pytest.mark.parametrize(
    ("environ", "terminal", "quiet", "color", "progress"),
    [
        ({"TERM": "xterm"}, True, False, True, True),
        ({"TERM": "xterm"}, True, True, True, False),
        ({"TERM": "xterm"}, False, False, False, False),
        ({}, True, False, True, True),  # no TERM at all: a terminal still
        ({"TERM": "dumb"}, True, False, False, False),
        ({"TERM": "xterm", "FORCE_COLOR": "yes"}, False, False, True, False),
        ({"TERM": "xterm", "NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False, False, True),
    ],
)
def test_what_the_environment_allows(
    environ: dict[str, str], terminal: bool, quiet: bool, color: bool, progress: bool
) -> None:
    stream = Stream(terminal)
    assert color_wanted(stream, environ) is color  # type: ignore[arg-type]
    assert progress_wanted(stream, environ, quiet) is progress  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "delay"),
    [(None, DEFAULT_DELAY), ("0", 0.0), ("2.5", 2.5), ("soon", DEFAULT_DELAY), ("-1", DEFAULT_DELAY), ("inf", 1.0)],
)
def test_the_delay_comes_from_the_environment_when_it_is_a_number_of_seconds(value: str | None, delay: float) -> None:
    assert progress_delay({} if value is None else {DELAY_VARIABLE: value}) == delay


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**9))
def test_counts_are_grouped_by_thousands_and_the_noun_agrees(count: int) -> None:
    text = counted(count, "file")
    number, noun = text.split(" ")
    assert int(number.replace(",", "")) == count
    assert all(len(group) == 3 for group in number.split(",")[1:])
    assert noun == ("file" if count == 1 else "files")


def test_counts_of_one_and_irregular_plurals() -> None:
    assert counted(1, "node") == "1 node"
    assert counted(0, "node") == "0 nodes"
    assert counted(32002, "file") == "32,002 files"
    assert counted(2, "bus", "buses") == "2 buses"
