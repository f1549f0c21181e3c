"""Symbolic links inside OUT, golden/ or at the lock path are refused, never followed.

A pull request can commit a link into golden/, and a shared machine can hold
one beside OUT: following it would let `render` delete and write files
elsewhere (as root, think /etc) and `check` print a secret into the CI log as a
diff. Every test plants a link, runs ovsgen and checks that it said which path
is a link, exited 1, and that nothing changed anywhere: not the link's target,
not OUT, not the folder beside OUT.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.cli.main import main
from tests.conftest import REPO, run

DESIGN = REPO / "designs" / "two-tier-cluster.yaml"
NAME = "two-tier-cluster"
SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
REFUSED = "is a symbolic link; ovsgen does not follow links inside an output folder"
SETTINGS = settings(
    derandomize=True,  # a fixed seed: CI sees the same examples every run
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def snapshot(folder: Path) -> dict[str, tuple[object, ...]]:
    """Everything under `folder` as lstat sees it: links as links, files with bytes, inode and mtime."""
    found: dict[str, tuple[object, ...]] = {}
    for path in sorted(folder.rglob("*")):  # rglob does not descend through links
        status = path.lstat()
        name = str(path.relative_to(folder))
        if stat.S_ISLNK(status.st_mode):
            found[name] = ("link", os.readlink(path))
        elif stat.S_ISREG(status.st_mode):
            found[name] = ("file", path.read_bytes(), status.st_ino, status.st_mtime_ns, status.st_mode)
        else:
            found[name] = ("folder", status.st_mode)
    return found


def elsewhere(base: Path) -> Path:
    """A folder outside OUT holding a secret file and a folder shaped like a node's, the links' targets."""
    folder = base / "elsewhere"
    (folder / "ovs").mkdir(parents=True)
    (folder / "credentials").write_text(SECRET)
    (folder / "ovs" / "apply.sh").write_text(SECRET)
    (folder / "kvm-a-1").write_text(SECRET)  # a name a render would replace
    (folder / "victim.txt").write_text(SECRET)  # a name a render would delete as stale
    return folder


def rendered(base: Path, name: str = "out") -> Path:
    out = base / name
    result = invoke("render", str(DESIGN), "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def plant(link: Path, target: Path) -> None:
    """Replace whatever is at `link` by a symbolic link to `target`."""
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    elif link.exists() or link.is_symlink():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def assert_refused(result: Result, link: Path, message: str = REFUSED) -> None:
    """Exit 1 with one message naming the link, no traceback, and nothing of a link's target shown."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.endswith(f"ovsgen: {link} {message}\n"), result.stderr
    assert SECRET.strip() not in result.output


# Where a link is planted in a rendered OUT, and what it points at.
PLACES = {
    "design folder": (NAME, "elsewhere"),
    "node folder": (f"{NAME}/kvm-a-1", "elsewhere"),
    "a node's subfolder": (f"{NAME}/kvm-a-1/ovs", "elsewhere/ovs"),
    "a script": (f"{NAME}/kvm-a-1/ovs/apply.sh", "elsewhere/credentials"),
    "a design-level file": (f"{NAME}/build-sheet.csv", "elsewhere/credentials"),
    "a stale entry": (f"{NAME}/victim.txt", "elsewhere/victim.txt"),
    "a stale folder": (f"{NAME}/kvm-gone", "elsewhere"),
    "dangling design folder": (NAME, "nowhere"),
    "dangling script": (f"{NAME}/kvm-a-1/ovs/apply.sh", "nowhere"),
}
# Option sets whose replaced roots lie at different depths (design, node, node subfolder, design file).
OPTIONS = {"whole design": [], "one node": ["--node", "kvm-a-1"], "one kind": ["--only", "ovs", "--node", "kvm-a-1"]}


@pytest.mark.parametrize("place", PLACES, ids=list(PLACES))
def test_render_refuses_a_link_inside_out_and_writes_nothing(tmp_path: Path, place: str) -> None:
    relative, target = PLACES[place]
    out, other = rendered(tmp_path), elsewhere(tmp_path)
    plant(out / relative, tmp_path / target)
    before, before_other, beside = snapshot(out), snapshot(other), sorted(os.listdir(tmp_path))
    result = invoke("render", str(DESIGN), "-o", str(out))
    assert_refused(result, out / relative)
    assert snapshot(out) == before
    assert snapshot(other) == before_other
    assert sorted(os.listdir(tmp_path)) == beside  # no staging folder left, no file created beside OUT


@pytest.mark.parametrize("options", OPTIONS.values(), ids=list(OPTIONS))
def test_render_refuses_a_linked_design_or_node_folder_whatever_it_replaces(tmp_path: Path, options: list[str]) -> None:
    out, other = rendered(tmp_path), elsewhere(tmp_path)
    for relative in (f"{NAME}/kvm-a-1", NAME):  # the node folder, then the design folder above it
        plant(out / relative, other)
        before, before_other = snapshot(out), snapshot(other)
        result = invoke("render", str(DESIGN), "-o", str(out), *options)
        assert_refused(result, out / relative)
        assert (snapshot(out), snapshot(other)) == (before, before_other)


def test_render_into_a_fresh_out_through_a_linked_design_folder_writes_nowhere(tmp_path: Path) -> None:
    """The reported attack: OUT/<design> committed as a link to a folder elsewhere, rendered for the first time."""
    out, other = tmp_path / "out", elsewhere(tmp_path)
    out.mkdir()
    (out / NAME).symlink_to(other)
    before = snapshot(other)
    result = run([sys.executable, "-m", "generator", "render", str(DESIGN), "-o", str(out)], cwd=REPO)
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"ovsgen: {out / NAME} {REFUSED}\n"  # one line, no traceback, no warning
    assert snapshot(other) == before


def fleet(nodes: int) -> str:
    """A design with enough nodes for parallel workers, from the benchmark's generator."""
    spec = importlib.util.spec_from_file_location("fleet", REPO / "benchmarks" / "fleet.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.fleet_design(nodes))


def test_parallel_workers_refuse_a_link_deep_in_a_node(tmp_path: Path) -> None:
    design = tmp_path / "fleet.yaml"
    design.write_text(fleet(200))
    out, other = tmp_path / "out", elsewhere(tmp_path)
    assert invoke("render", str(design), "-o", str(out), "-j", "2").exit_code == 0
    link = out / "fleet-200" / "kvm-00150" / "ovs" / "apply.sh"
    plant(link, other / "credentials")
    design.write_text(fleet(200).replace("dc.example.com", "dc2.example.com"))  # every node changes: all are staged
    before, before_other = snapshot(out), snapshot(other)
    result = invoke("render", str(design), "-o", str(out), "-j", "2")
    assert_refused(result, link)
    assert (snapshot(out), snapshot(other)) == (before, before_other)
    assert [name for name in os.listdir(tmp_path) if name.startswith(".out.ovsgen-")] == []


@pytest.mark.parametrize("target_exists", [False, True], ids=["dangling", "existing"])
@pytest.mark.parametrize("command", ["render", "plan"])
def test_a_linked_lock_file_is_refused_and_its_target_untouched(
    tmp_path: Path, command: str, target_exists: bool
) -> None:
    nologin = tmp_path / "etc" / "nologin"  # stands for /etc/nologin: root creating it locks everyone out
    nologin.parent.mkdir()
    if target_exists:
        nologin.write_text("kept\n")
    before = snapshot(nologin.parent)
    lock = tmp_path / "out" / ".ovsgen.lock"
    lock.parent.mkdir()
    lock.symlink_to(nologin)
    (tmp_path / ".out.ovsgen.lock").symlink_to(nologin)  # where earlier versions kept it: never followed either
    args = ["render", str(DESIGN)] if command == "render" else ["plan", str(DESIGN), str(DESIGN)]
    result = invoke(*args, "-o", str(tmp_path / "out"))
    assert_refused(result, lock, "is a symbolic link; ovsgen does not follow a link for its lock file")
    assert snapshot(nologin.parent) == before
    assert os.listdir(tmp_path / "out") == [".ovsgen.lock"]
    assert (tmp_path / ".out.ovsgen.lock").is_symlink()


def test_plan_refuses_a_link_inside_the_folder_it_replaces(tmp_path: Path) -> None:
    plan, other = tmp_path / "plan", elsewhere(tmp_path)
    assert invoke("plan", str(DESIGN), str(DESIGN), "-o", str(plan)).exit_code == 0
    (other / "plan.md").write_bytes((plan / "plan.md").read_bytes())  # same bytes: it would be linked from
    plant(plan / "plan.md", other / "plan.md")
    before, before_other = snapshot(plan), snapshot(other)
    result = invoke("plan", str(DESIGN), str(DESIGN), "-o", str(plan))
    assert_refused(result, plan / "plan.md")
    assert (snapshot(plan), snapshot(other)) == (before, before_other)


# --- check --golden -----------------------------------------------------------------


GOLDEN_PLACES = {
    "design folder": (NAME, "elsewhere"),
    "node folder": (f"{NAME}/kvm-a-1", "elsewhere"),
    "a node's subfolder": (f"{NAME}/kvm-a-1/ovs", "elsewhere/ovs"),
    "a script": (f"{NAME}/kvm-a-1/ovs/apply.sh", "elsewhere/credentials"),
    "a stale file": (f"{NAME}/kvm-a-1/notes.txt", "elsewhere/credentials"),
    "a stale folder": (f"{NAME}/kvm-a-1/keys", "elsewhere"),
    "dangling script": (f"{NAME}/kvm-a-1/ovs/apply.sh", "nowhere"),
}


@pytest.mark.parametrize("place", GOLDEN_PLACES, ids=list(GOLDEN_PLACES))
def test_check_refuses_a_link_in_golden_and_never_prints_its_target(tmp_path: Path, place: str) -> None:
    relative, target = GOLDEN_PLACES[place]
    golden, other = rendered(tmp_path, "golden"), elsewhere(tmp_path)
    plant(golden / relative, tmp_path / target)
    before = snapshot(other)
    result = invoke("check", str(DESIGN), "--golden", str(golden))
    assert_refused(result, golden / relative)
    assert result.stdout == ""
    assert snapshot(other) == before


def test_check_as_ci_runs_it_keeps_a_planted_secret_out_of_the_log(tmp_path: Path) -> None:
    """The reported attack: golden/<design> a committed link to a folder holding a secret, in a real process."""
    golden, other = rendered(tmp_path, "golden"), elsewhere(tmp_path)
    shutil.copytree(golden / NAME, other / "copy")
    (other / "copy" / "kvm-a-1" / "ovs" / "apply.sh").write_text(SECRET)  # a diff would print it
    (other / "copy" / "leaked.env").write_text(SECRET)  # the stale listing would print it
    plant(golden / NAME, other / "copy")
    result = run([sys.executable, "-m", "generator", "check", str(DESIGN), "--golden", str(golden)], cwd=REPO)
    assert result.returncode == 1
    assert "AWS_SECRET_ACCESS_KEY" not in result.stdout + result.stderr
    assert result.stderr == f"ovsgen: {golden / NAME} {REFUSED}\n"


# --- what ovsgen still follows, and what it still does ------------------------------


def test_out_or_golden_itself_a_link_is_refused(tmp_path: Path) -> None:
    """In CI the user types `golden/`, but the pull request decides what it is: a link is refused."""
    victim = tmp_path / "victim"
    (victim / NAME).mkdir(parents=True)
    (victim / NAME / "creds").write_text("AWS_SECRET_ACCESS_KEY=planted\n")
    before = snapshot(victim)
    (tmp_path / "golden").symlink_to(victim)
    for args in (
        ("render", str(DESIGN), "-o", f"{tmp_path}/golden/"),
        ("check", str(DESIGN), "--golden", f"{tmp_path}/golden"),
    ):
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        assert "golden is a symbolic link; ovsgen writes to and compares with real folders only" in result.stderr
        assert "AWS_SECRET_ACCESS_KEY" not in result.output
    assert snapshot(victim) == before
    assert not (tmp_path / ".golden.ovsgen.lock").exists()


def test_a_golden_file_name_that_ovsgen_never_writes_is_refused(tmp_path: Path) -> None:
    """A newline in a file name would start a line of its own in the CI log (a workflow command)."""
    out = rendered(tmp_path)
    (out / NAME / "kvm-a-1" / "x\n::error title=pwned::injected").write_text("line1\n")
    result = invoke("check", str(DESIGN), "--golden", str(out))
    assert result.exit_code == 1
    assert "is not a name ovsgen writes; remove it" in result.stderr
    assert "\n::error" not in result.output
    assert "\\n::error title=pwned::injected" in result.stderr


def test_a_plain_stale_node_is_still_removed(tmp_path: Path) -> None:
    out = rendered(tmp_path)
    shutil.copytree(out / NAME / "kvm-a-1", out / NAME / "kvm-gone")
    assert invoke("render", str(DESIGN), "-o", str(out)).exit_code == 0
    assert not (out / NAME / "kvm-gone").exists()
    assert (out / NAME / "kvm-a-1" / "ovs" / "apply.sh").is_file()


# --- anywhere in the tree --------------------------------------------------------------

TARGETS = st.sampled_from(["elsewhere", "elsewhere/credentials", "elsewhere/ovs", "nowhere"])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered(tmp_path_factory.mktemp("pristine"))


@SETTINGS
@given(index=st.integers(min_value=0), target=TARGETS)
def test_a_link_anywhere_in_out_or_golden_is_refused(pristine: Path, index: int, target: str) -> None:
    """Any entry of a rendered tree (file or folder, at any depth) replaced by a link to a file, a folder or
    nothing: render changes nothing anywhere, and check (the same tree as golden) prints none of the target."""
    entries = sorted(str(path.relative_to(pristine)) for path in pristine.rglob("*"))
    relative = entries[index % len(entries)]
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        out, other = base / "out", elsewhere(base)
        shutil.copytree(pristine, out, symlinks=True)
        plant(out / relative, base / target)
        before, before_other, beside = snapshot(out), snapshot(other), sorted(os.listdir(base))
        assert_refused(invoke("render", str(DESIGN), "-o", str(out)), out / relative)
        assert (snapshot(out), snapshot(other), sorted(os.listdir(base))) == (before, before_other, beside)
        checked = invoke("check", str(DESIGN), "--golden", str(out))
        assert_refused(checked, out / relative)
        assert checked.stdout == ""
