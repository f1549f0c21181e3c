"""Edges of the command line a user meets in a shell: a reader that goes away, and a golden
folder that is one of the designs."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from generator.output.writer import writing
from tests.conftest import REPO

DESIGNS = sorted(str(path) for path in (REPO / "designs").glob("*.yaml"))


def test_a_reader_that_goes_away_ends_check_quietly_with_the_status_of_sigpipe(tmp_path: Path) -> None:
    """`ovsgen check ... | head`: no "Broken pipe" message, no traceback; exit 128+SIGPIPE as a shell tool's."""
    golden = tmp_path / "golden"
    golden.mkdir()  # empty: every rendered file is a difference, far more than a pipe holds
    env = {**os.environ, "OVSGEN_CACHE_DIR": str(tmp_path / "cache")}
    with subprocess.Popen(
        [sys.executable, "-m", "generator", "check", *DESIGNS, "--golden", str(golden)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as check:
        assert check.stdout is not None
        assert check.stderr is not None
        assert check.stdout.readline().startswith(b"--- ")
        check.stdout.close()  # what `head -1` does after its line
        errors = check.stderr.read().decode()
        code = check.wait(timeout=120)
    assert code == 141
    assert "Broken pipe" not in errors
    assert "Traceback" not in errors


def test_a_golden_folder_that_is_a_design_is_a_usage_error(tmp_path: Path) -> None:
    design = tmp_path / "mine.yaml"
    design.write_bytes((REPO / "designs" / "ahv-host.yaml").read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "generator", "check", str(design), "--golden", str(design)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "OVSGEN_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: --golden {design}: this is {design}, which the command reads; give the golden folder"
    )
    assert design.read_bytes() == (REPO / "designs" / "ahv-host.yaml").read_bytes()


def _diff_base_ref(repo: Path, ref: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "diff", "--base-ref", ref, "d.yaml"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "OVSGEN_CACHE_DIR": str(cache)},
    )


def test_the_fetch_advice_for_a_missing_base_is_a_command_that_can_work(tmp_path: Path) -> None:
    """A branch is fetched by name; `main~5` or a commit id is no refspec: fetch the history."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "d.yaml").write_bytes((REPO / "designs" / "ahv-host.yaml").read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "d.yaml"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=repo, check=True)
    advice = {
        "origin/release-2": "git fetch origin release-2 --depth=1 (or actions/checkout with fetch-depth: 0)",
        "main~5": "git fetch --unshallow origin (or actions/checkout with fetch-depth: 0)",
        "0123456789abcdef0123": "git fetch --unshallow origin (or actions/checkout with fetch-depth: 0)",
    }
    for ref, expected in advice.items():
        result = _diff_base_ref(repo, ref, tmp_path / "cache")
        assert result.returncode == 2, ref
        assert result.stderr.splitlines()[-1] == (
            f"Error: base revision {ref} is not in this checkout; in CI fetch it first: {expected}"
        )


def test_node_completion_expands_a_glob_the_shell_has_not_expanded_yet(tmp_path: Path) -> None:
    """`ovsgen render designs/*.yaml --node kvm-<Tab>`: bash hands the word over as typed."""
    env = {
        **os.environ,
        "OVSGEN_CACHE_DIR": str(tmp_path / "cache"),
        "_OVSGEN_COMPLETE": "bash_complete",
        "COMP_WORDS": "ovsgen render designs/*.yaml --node kvm-",
        "COMP_CWORD": "4",
    }
    ovsgen = Path(sys.executable).parent / "ovsgen"  # the installed command, as a shell finds it
    result = subprocess.run([ovsgen], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"plain,{name}"
        for name in ("kvm-s-1", "kvm-s-2", "kvm-r-1", "kvm-r-2", "kvm-r-3", "kvm-a-1", "kvm-a-2", "kvm-a-3")
    ]


def test_the_printed_schema_is_the_schema_file_byte_for_byte(tmp_path: Path) -> None:
    """`ovsgen schema > design.schema.json` in a design repository equals the checkout's file."""
    result = subprocess.run(
        [sys.executable, "-m", "generator", "schema"],
        capture_output=True,
        check=False,
        env={**os.environ, "OVSGEN_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout == (REPO / "schemas" / "design.schema.json").read_bytes()


def test_a_render_waiting_for_another_says_so_then_renders(tmp_path: Path) -> None:
    """Two renders into one OUT: the second tells why it does nothing yet, instead of looking hung."""
    out = tmp_path / "out"
    out.mkdir()
    holder = _held_lock(out)
    env = {**os.environ, "OVSGEN_CACHE_DIR": str(tmp_path / "cache")}
    design = str(REPO / "designs" / "ahv-host.yaml")
    with subprocess.Popen(
        [sys.executable, "-m", "generator", "render", design, "-o", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as render:
        assert render.stderr is not None
        lines = iter(render.stderr.readline, "")
        said = next(line for line in lines if not line.startswith((" ", "\t")) and "warning:" not in line)
        assert said == f"ovsgen: waiting for another ovsgen run into {out}/ to end\n"
        assert not (out / "ahv-host").exists()  # nothing written while it waits
        os.close(holder)  # the other run ends
        rest = render.stderr.read()
        assert render.wait(timeout=60) == 0, rest
    assert rest.endswith(f"ovsgen: rendered 15 files for 1 node under {out}/: 15 files changed\n")
    assert not (out / ".ovsgen.lock").exists()


def _held_lock(out: Path) -> int:
    """A descriptor holding OUT's lock, as a render in progress does."""
    holder = os.open(out / ".ovsgen.lock", os.O_WRONLY | os.O_CREAT, 0o644)
    fcntl.flock(holder, fcntl.LOCK_EX)
    return holder


def _waiting_run(out: Path) -> tuple[threading.Thread, threading.Event, list[str]]:
    """A second run into `out`, in a thread, once it has said that it waits: the thread, the
    event it sets when it holds the lock, and what it said."""
    told: list[str] = []
    done = threading.Event()

    def second_run() -> None:
        with writing(out, [], waiting=lambda: told.append("waiting")):
            done.set()

    thread = threading.Thread(target=second_run)
    thread.start()
    deadline = time.monotonic() + 30
    while not told and time.monotonic() < deadline:
        time.sleep(0.01)
    return thread, done, told


def test_the_writer_tells_once_that_it_waits_and_not_when_it_need_not(tmp_path: Path) -> None:
    out = tmp_path / "out"
    told: list[str] = []
    with writing(out, [], waiting=lambda: told.append("waiting")):
        pass
    assert told == []
    out.mkdir(exist_ok=True)
    holder = _held_lock(out)
    thread, done, told = _waiting_run(out)
    assert told == ["waiting"]
    assert not done.is_set()
    os.close(holder)
    thread.join(timeout=30)
    assert done.is_set()
    assert told == ["waiting"]


def test_a_lock_file_replaced_while_waiting_is_waited_for_without_a_second_word(tmp_path: Path) -> None:
    """The run before swaps its lock file (a plan moves OUT, lock and all): the waiting run locks
    the file now there, waits again if it is held, and has said once that it waits."""
    out = tmp_path / "out"
    out.mkdir()
    first = _held_lock(out)
    thread, done, told = _waiting_run(out)
    (out / ".ovsgen.lock").unlink()  # the first run's lock goes, and a new one, held, takes its place
    replacement = _held_lock(out)
    os.close(first)
    time.sleep(0.2)  # the second run wakes on the old file, finds it gone, and waits for the new one
    assert thread.is_alive()
    assert not done.is_set()
    os.close(replacement)
    thread.join(timeout=30)
    assert done.is_set()
    assert told == ["waiting"]


def test_a_run_stopped_while_it_waits_lets_go_of_the_lock_file(tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM while waiting (here: raised by the `waiting` callback): the stop goes
    through unchanged, and the run keeps no descriptor of the lock file open."""
    out = tmp_path / "out"
    out.mkdir()
    holder = _held_lock(out)
    before = set(os.listdir("/proc/self/fd"))

    def stopped() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), writing(out, [], waiting=stopped):
        pass
    assert set(os.listdir("/proc/self/fd")) == before
    os.close(holder)
    assert (out / ".ovsgen.lock").exists()  # the other run's lock, left to it
