"""Output folders: ovsgen writes where it may, replaces only what it wrote, and leaves nothing else.

Through the real `ovsgen` process (`python -m generator`), as a user or a CI job runs it:
- `render -o` refuses /, the current folder, its parents and a folder holding a design (exit 2);
- a render never replaces or removes a file ovsgen did not write: it names the file, exit 1;
- nothing is left beside OUT or in it (no lock) after a run, killed or not: SIGTERM cleans up
  as Ctrl-C does (exit 143, no traceback, workers included); what `kill -9` leaves is removed
  by the next run, unless its owner still runs;
- `check --golden` of a folder that does not exist says so, without a diff.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from generator.cli.usage import require_not_an_input
from tests.conftest import REPO

DESIGNS = REPO / "designs"
CLUSTER = DESIGNS / "two-tier-cluster.yaml"
NAME = "two-tier-cluster"
STAGING_PREFIX = ".out.ovsgen-"


def ovsgen(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """The installed command as a user runs it, with its cache in a folder of the test's own."""
    env = {**os.environ, "OVSGEN_CACHE_DIR": str(cwd / ".cache-for-test")}
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "generator", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        **kwargs,
    )


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry under `folder` (hidden ones too, the test's cache aside): files with their bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
        if ".cache-for-test" not in path.parts
    }


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder holding copies of the bundled designs, as a user's design repository does."""
    for design in DESIGNS.glob("*.yaml"):
        shutil.copy(design, tmp_path / design.name)
    return tmp_path


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr


# --- where render may write -----------------------------------------------------------------

REFUSED_OUT = {
    ".": "this is the current folder or one of its parents",
    "..": "this is the current folder or one of its parents",
    "/": "this is the root folder",
    "sub/..": "this is the current folder or one of its parents",
    "repo": "this folder holds repo/deep/inner/two-tier-cluster.yaml, which the command reads",
}


@pytest.mark.parametrize("out", REFUSED_OUT, ids=list(REFUSED_OUT))
def test_render_refuses_a_folder_it_must_not_write_into_and_writes_nothing(work: Path, out: str) -> None:
    design = "two-tier-cluster.yaml"
    if out == "repo":  # a design at any depth below OUT
        (work / "repo/deep/inner").mkdir(parents=True)
        design = str(shutil.move(work / design, work / "repo/deep/inner" / design)).removeprefix(f"{work}/")
    before = tree(work)
    result = ovsgen("render", design, "-o", out, cwd=work)
    assert_clean_failure(result, 2)
    assert result.stderr.endswith(
        f"Error: -o {out}: render writes OUT/<design>/ folders there, but {REFUSED_OUT[out]}; "
        "give another folder (-o NEW)\n"
    )
    assert tree(work) == before
    assert not Path("/", NAME).exists()


@pytest.mark.parametrize("kind", ["a file", "a link"])
def test_render_into_a_file_or_a_link_is_refused_without_a_traceback(work: Path, kind: str) -> None:
    out = work / "out"
    if kind == "a file":
        out.write_text("mine\n")
    else:
        (work / "real").mkdir()
        out.symlink_to(work / "real")
    before = tree(work)
    result = ovsgen("render", CLUSTER.name, "-o", "out", cwd=work)
    assert_clean_failure(result, 2 if kind == "a file" else 1)
    assert ("is a file" if kind == "a file" else "out is a symbolic link") in result.stderr
    assert tree(work) == before


# --- what render may replace ----------------------------------------------------------------


@pytest.fixture
def rendered(work: Path) -> Path:
    result = ovsgen("render", CLUSTER.name, "-o", "out", cwd=work)
    assert result.returncode == 0, result.stderr
    return work / "out"


FOREIGN = {
    "beside the node folders": f"{NAME}/my-runbook.md",
    "in a node folder": f"{NAME}/kvm-a-1/notes.txt",
    "in a node's subfolder": f"{NAME}/kvm-a-2/ovs/site-hook.sh",
    "a rendered file rewritten by hand": f"{NAME}/kvm-a-3/network-scripts/ifcfg-br0",
    "an empty file": f"{NAME}/kvm-a-1/libvirt/.keep",
}


@pytest.mark.parametrize("place", FOREIGN, ids=list(FOREIGN))
def test_a_file_ovsgen_did_not_write_is_named_and_nothing_is_replaced(rendered: Path, place: str) -> None:
    foreign = rendered / FOREIGN[place]
    foreign.write_text("" if place == "an empty file" else "my own notes\n")
    before = tree(rendered.parent)
    result = ovsgen("render", CLUSTER.name, "-o", "out", cwd=rendered.parent)
    assert_clean_failure(result, 1)
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: out/{FOREIGN[place]} was not written by ovsgen, but the render would replace or remove it: "
        "move it out of out/ or render into another folder (-o NEW); nothing was written"
    )
    assert tree(rendered.parent) == before


def test_many_foreign_files_are_counted_after_the_first_five(rendered: Path) -> None:
    for index in range(7):
        (rendered / NAME / f"notes-{index}.md").write_text("mine\n")
    result = ovsgen("render", CLUSTER.name, "-o", "out", cwd=rendered.parent)
    assert_clean_failure(result, 1)
    named = ", ".join(f"out/{NAME}/notes-{index}.md" for index in range(5))
    assert f"ovsgen: {named} and 2 more were not written by ovsgen" in result.stderr


def test_what_ovsgen_wrote_is_still_replaced_and_a_users_hidden_file_stays(rendered: Path) -> None:
    """Its own files (an edit that kept the header, a stale node, the CSV sheet that has no header
    comment) are replaced or removed; a hidden file beside the node folders is not the render's."""
    script = rendered / NAME / "kvm-a-1" / "ovs" / "apply.sh"
    script.write_text(script.read_text() + "# edited by hand\n")
    shutil.copytree(rendered / NAME / "kvm-a-2", rendered / NAME / "kvm-gone")
    (rendered / NAME / ".gitkeep").write_text("")
    smaller = rendered.parent / CLUSTER.name
    text = smaller.read_text()
    smaller.write_text(text[: text.index("  - name: kvm-a-3")])  # the last node goes: the CSV changes
    result = ovsgen("render", smaller.name, "-o", "out", cwd=rendered.parent)
    assert result.returncode == 0, result.stderr
    assert "# edited by hand" not in script.read_text()
    assert sorted(path.name for path in (rendered / NAME).iterdir()) == [
        ".gitkeep",
        "build-sheet.csv",
        "index.md",
        "kvm-a-1",
        "kvm-a-2",
        "rollout.json",
    ]
    assert "kvm-a-3" not in (rendered / NAME / "build-sheet.csv").read_text()


# --- nothing left beside OUT, or in it --------------------------------------------------------


def test_render_check_and_plan_leave_nothing_beside_their_folder_nor_a_lock_in_it(work: Path) -> None:
    designs = sorted(tree(work))
    assert ovsgen("render", CLUSTER.name, "-o", "out", cwd=work).returncode == 0
    assert ovsgen("check", CLUSTER.name, "--golden", "out", cwd=work).returncode == 0
    assert ovsgen("plan", CLUSTER.name, CLUSTER.name, "-o", "plan", cwd=work).returncode == 0
    assert sorted(path.name for path in work.iterdir() if path.name != ".cache-for-test") == sorted(
        [*designs, "out", "plan"]
    )
    assert not list(work.rglob("*ovsgen.lock"))
    assert not list(work.rglob("*.ovsgen-*"))


def test_a_lock_a_killed_run_left_in_out_is_no_difference_and_goes_with_the_next_run(rendered: Path) -> None:
    (rendered / ".ovsgen.lock").write_text("")
    checked = ovsgen("check", CLUSTER.name, "--golden", "out", cwd=rendered.parent)
    assert (checked.returncode, checked.stdout) == (0, "")
    assert ovsgen("render", CLUSTER.name, "-o", "out", cwd=rendered.parent).returncode == 0
    assert not (rendered / ".ovsgen.lock").exists()


def test_a_plan_folder_holding_a_killed_runs_lock_is_still_replaced(work: Path) -> None:
    assert ovsgen("plan", CLUSTER.name, CLUSTER.name, "-o", "plan", cwd=work).returncode == 0
    (work / "plan" / ".ovsgen.lock").write_text("")
    result = ovsgen("plan", CLUSTER.name, CLUSTER.name, "-o", "plan", cwd=work)
    assert result.returncode == 0, result.stderr
    assert not (work / "plan" / ".ovsgen.lock").exists()


def test_the_next_run_removes_what_killed_runs_left_and_nothing_else(rendered: Path) -> None:
    """Staging folders whose run is gone go; a live run's (its lock held), another folder's, a
    name tempfile never makes and a link stay. So does a stray folder whose lock is free but which
    is not OUT's. The lock file earlier versions kept beside OUT goes too."""
    work = rendered.parent
    gone, live = work / f"{STAGING_PREFIX}a1b2c3d4", work / f"{STAGING_PREFIX}e5f6g7h8"
    kept = [live, work / f"{STAGING_PREFIX}not-ours", work / ".other.ovsgen-a1b2c3d4", work / "out.ovsgen-a1b2c3d4"]
    for folder in (gone, *kept):
        (folder / "new" / NAME).mkdir(parents=True)
        (folder / "new" / NAME / "index.md").write_text("staged\n")
    (work / f"{STAGING_PREFIX}l1nk0000").symlink_to(work / ".other.ovsgen-a1b2c3d4")
    (work / ".out.ovsgen.lock").write_text("")
    holder = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        result = ovsgen("render", CLUSTER.name, "-o", "out", cwd=work)
    finally:
        os.close(holder)
    assert result.returncode == 0, result.stderr
    assert not gone.exists()
    assert not (work / ".out.ovsgen.lock").exists()
    assert all((folder / "new" / NAME / "index.md").read_text() == "staged\n" for folder in kept)
    assert (work / f"{STAGING_PREFIX}l1nk0000").is_symlink()


def fleet(nodes: int) -> str:
    """A design large enough for worker processes (`-j 2`), from the benchmark's generator."""
    spec = importlib.util.spec_from_file_location("fleet", REPO / "benchmarks" / "fleet.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.fleet_design(nodes))


FLEET_NODES = 300


@pytest.fixture(scope="module")
def fleet_design(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet.yaml"
    path.write_text(fleet(FLEET_NODES))
    return path


def staging_of(work: Path) -> list[Path]:
    return [path for path in work.iterdir() if path.name.startswith(STAGING_PREFIX)]


def start_and_wait_for_staging(
    work: Path, design: Path, jobs: str, *, new_session: bool = False
) -> tuple[subprocess.Popen[str], Path]:
    """A render of `design` into work/out, once its workers have staged some nodes (well before
    the commit: the design's nodes all change, so all of them are staged first)."""
    env = {**os.environ, "OVSGEN_CACHE_DIR": str(work / ".cache-for-test")}
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "render", str(design), "-o", "out", "-j", jobs],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        staged = [path for folder in staging_of(work) for path in folder.glob(f"new/fleet-{FLEET_NODES}/*")]
        if len(staged) >= 10:
            return process, staging_of(work)[0]
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"the render never staged 10 nodes: {process.communicate()}")


def changed_copy(design: Path, work: Path) -> Path:
    """The design with every node changed (the DNS search domain is in every node's files)."""
    copy = work / design.name
    copy.write_text(design.read_text().replace("dc.example.com", "dc2.example.com"))
    return copy


@pytest.mark.parametrize("target", ["the process", "its process group"])
def test_sigterm_during_a_parallel_render_cleans_up_like_ctrl_c(
    fleet_design: Path, tmp_path: Path, target: str
) -> None:
    """A CI timeout sends SIGTERM to the command, a service manager often to its whole group
    (workers too): exit 143, no traceback from the command or a worker, no staging folder,
    and OUT as it was."""
    out = tmp_path / "out"
    (out / f"fleet-{FLEET_NODES}").mkdir(parents=True)  # OUT as a previous run left it (one file)
    (out / f"fleet-{FLEET_NODES}" / "index.md").write_text("<!-- Generated by ovsgen from fleet.yaml. -->\n")
    before = tree(out)
    process, _ = start_and_wait_for_staging(tmp_path, fleet_design, "2", new_session=target != "the process")
    if target == "the process":
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert staging_of(tmp_path) == []
    assert tree(out) == before


def test_what_kill_9_leaves_beside_out_is_removed_by_the_next_run(fleet_design: Path, tmp_path: Path) -> None:
    result = ovsgen("render", str(CLUSTER), "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    before = tree(tmp_path / "out")
    process, staging = start_and_wait_for_staging(tmp_path, changed_copy(fleet_design, tmp_path), "1")
    process.kill()
    process.communicate()
    assert staging.is_dir()  # SIGKILL cannot be cleaned up after: the folder stays, its lock is free
    assert tree(tmp_path / "out") == {**before, ".ovsgen.lock": b""}  # OUT unchanged, but for the lock
    result = ovsgen("render", str(CLUSTER), "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert staging_of(tmp_path) == []
    assert tree(tmp_path / "out") == before


# --- check with no golden folder ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_check_of_a_golden_folder_that_does_not_exist_says_so_without_a_diff(work: Path, kind: str) -> None:
    if kind == "a file":
        (work / "nogolden").write_text("mine\n")
    result = ovsgen("check", CLUSTER.name, "ahv-host.yaml", "--golden", "nogolden", cwd=work)
    assert_clean_failure(result, 1)
    assert result.stdout == ""
    render = "ovsgen render two-tier-cluster.yaml ahv-host.yaml -o nogolden"
    said = {
        "missing": f"ovsgen: golden folder nogolden/ does not exist; create it with: {render}\n",
        "a file": (
            "ovsgen: golden folder nogolden/ does not exist: nogolden is a file; move it away, "
            f"then create the folder with: {render}\n"
        ),
    }
    assert result.stderr.endswith(said[kind])
    assert "stale" not in result.stderr


def test_the_suggested_render_command_quotes_what_a_shell_would_split(work: Path) -> None:
    (work / "my designs").mkdir()
    shutil.move(work / CLUSTER.name, work / "my designs" / CLUSTER.name)
    result = ovsgen("check", f"my designs/{CLUSTER.name}", "--golden", "no golden", cwd=work)
    assert result.stderr.endswith(f"create it with: ovsgen render 'my designs/{CLUSTER.name}' -o 'no golden'\n")


# --- a file a command writes is never one of its inputs (for diff --full FILE) --------------


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ...]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    for name in ("old.yaml", "new.yaml"):
        (tmp_path / name).write_text("version: 1\n")
    return (Path("old.yaml"), Path("new.yaml"))


SAME_AS_NEW: dict[str, Callable[[Path], Path]] = {
    "the same name": lambda base: Path("new.yaml"),
    "through ..": lambda base: Path("sub/../new.yaml"),
    "absolute": lambda base: base / "new.yaml",
    "a symbolic link": lambda base: _linked(base / "link.yaml", base / "new.yaml"),
    "a hard link": lambda base: _hard_linked(base / "hard.yaml", base / "new.yaml"),
}


def _linked(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _hard_linked(link: Path, target: Path) -> Path:
    os.link(target, link)
    return link


@pytest.mark.parametrize("how", SAME_AS_NEW, ids=list(SAME_AS_NEW))
def test_a_file_to_write_that_is_an_input_is_a_usage_error(inputs: tuple[Path, ...], tmp_path: Path, how: str) -> None:
    path = SAME_AS_NEW[how](tmp_path)
    with pytest.raises(click.UsageError) as refused:
        require_not_an_input(path, inputs, "--full")
    assert refused.value.message == f"--full {path}: this is new.yaml, which the command reads; give another file"


def test_a_new_file_or_another_file_to_write_is_fine(inputs: tuple[Path, ...], tmp_path: Path) -> None:
    (tmp_path / "diff.txt").write_text("old diff\n")
    for path in (Path("diff.txt"), Path("sub/full.diff"), tmp_path / "new.yaml.diff"):
        require_not_an_input(path, inputs, "--full")
