"""`ovsgen plan -o DIR` replaces DIR whole: only a new or empty folder, or a previous plan holding
nothing but what a plan writes. Everything else is refused with nothing written (issue 12's trial:
a render, the user's notes and designs, the host's backups saved by an applied plan, `-o .`)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import Result

from generator.pipeline import validate_file
from generator.render import render_design
from tests.conftest import REPO, ovsdb_server, require_tool, run
from tests.support.cli import invoke

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"
BASE, MEMBER_ADDED = str(CHANGES / "base.yaml"), str(CHANGES / "member-added.yaml")
AHV = REPO / "designs" / "ahv-host.yaml"
REFUSED = "nothing was written\n"


def tree(folder: Path) -> dict[str, tuple[object, ...]]:
    """Everything under `folder` as lstat sees it: kind, permission bits, and a file's bytes."""
    found: dict[str, tuple[object, ...]] = {}
    for path in sorted(folder.rglob("*")):
        status = path.lstat()
        name = str(path.relative_to(folder))
        if stat.S_ISREG(status.st_mode):
            found[name] = ("file", stat.S_IMODE(status.st_mode), path.read_bytes())
        else:
            found[name] = ("folder" if stat.S_ISDIR(status.st_mode) else "other", stat.S_IMODE(status.st_mode))
    return found


def plan(*args: str, cwd: Path | None = None) -> Result:
    return invoke("plan", *args, cwd=cwd)


def assert_untouched(result: Result, folder: Path, before: dict[str, tuple[object, ...]], code: int) -> None:
    """Refused with `code`, no traceback, no plan printed, the folder as it was, no staging left beside it."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert tree(folder) == before
    assert [name for name in os.listdir(folder.parent) if ".ovsgen-" in name] == []


def written_plan(folder: Path, old: str = BASE, new: str = MEMBER_ADDED) -> Path:
    result = plan(old, new, "-o", str(folder))
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def host_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ovsdb-client's dump of a private database holding a br0 with a host port, as on a fresh host."""
    dump = tmp_path_factory.mktemp("host") / "host.json"
    with ovsdb_server() as ovsdb:
        ovsdb.vsctl("add-br", "br0")
        found = run([require_tool("ovsdb-client"), "dump", "--format=json", f"unix:{ovsdb.socket}", "Open_vSwitch"])
    assert found.returncode == 0, found.stderr
    dump.write_text(found.stdout)
    return dump


def v2_design(folder: Path) -> Path:
    design = folder / "v2.yaml"
    design.write_text(AHV.read_text().replace("vlan: 32", "vlan: 33"))
    return design


# --- what the trial hit ---------------------------------------------------------------------------


@pytest.mark.consumer
def test_a_render_folder_is_not_replaced_by_a_plan(tmp_path: Path, host_dump: Path) -> None:
    out = tmp_path / "out"
    rendered = invoke("render", str(AHV), "-o", str(out))
    assert rendered.exit_code == 0, rendered.output
    before = tree(out)
    assert sum(kind == "file" for kind, *_ in before.values()) > 10
    result = plan("--from-host", str(host_dump), str(v2_design(tmp_path)), "--node", "ahv-a-1", "-o", str(out))
    assert_untouched(result, out, before, 1)
    assert f"ovsgen: {out} is not a plan folder: it holds no plan.md written by ovsgen plan\n" in result.stderr
    assert f"ovsgen: {out}/ahv-host would be lost: ovsgen plan does not write it\n" in result.stderr
    assert result.stderr.endswith(
        f"ovsgen: ovsgen plan replaces {out} whole: write the plan to a new or empty folder or over a previous one "
        f"(-o NEW); {REFUSED}"
    )


def test_a_folder_of_notes_is_not_replaced(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "meeting").mkdir(parents=True)
    (notes / "todo.txt").write_text("ask the network team about VLAN 35\n")
    (notes / "meeting" / "minutes.md").write_text("# minutes\n")
    (notes / "script.sh").write_text("#!/bin/sh\n")
    (notes / "script.sh").chmod(0o750)
    before = tree(notes)
    result = plan(BASE, MEMBER_ADDED, "-o", str(notes))
    assert_untouched(result, notes, before, 1)
    for name in ("meeting", "script.sh", "todo.txt"):
        assert f"ovsgen: {notes}/{name} would be lost: ovsgen plan does not write it\n" in result.stderr


@pytest.mark.consumer
@pytest.mark.parametrize("held", ["design", "dump", "design below"])
def test_a_folder_holding_the_inputs_is_a_usage_error(tmp_path: Path, host_dump: Path, held: str) -> None:
    notes = tmp_path / "notes"
    where = notes / "designs" if held == "design below" else notes
    where.mkdir(parents=True)
    (notes / "todo.txt").write_text("re-plan after the window\n")
    design = v2_design(where if held != "dump" else tmp_path)
    dump = shutil.copy(host_dump, notes / "host.json") if held == "dump" else host_dump
    before = tree(notes)
    result = plan("--from-host", str(dump), str(design), "--node", "ahv-a-1", "-o", str(notes))
    assert_untouched(result, notes, before, 2)
    holds = dump if held == "dump" else design
    assert f"Error: -o {notes}: the plan folder is replaced whole, but this folder holds {holds}, " in result.stderr
    assert "give another folder (-o NEW)" in result.stderr


def ifcfg_script(script: Path, host: Path, tools: Path) -> None:
    """Run a plan's ifcfg script with --apply on a "host": NETWORK_SCRIPTS in tmp, `hostname` faked on PATH."""
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "NETWORK_SCRIPTS": str(host)}
    applied = run(["bash", str(script), "--apply"], env=env)
    assert applied.returncode == 0, applied.stderr


@pytest.mark.consumer
def test_replanning_over_an_applied_plan_keeps_the_hosts_backup(tmp_path: Path) -> None:
    folder = written_plan(tmp_path / "plan")
    host = tmp_path / "network-scripts"
    host.mkdir()
    for file in render_design(validate_file(Path(BASE)), ["c1"], ["ifcfg"]):
        (host / file.name).write_text(file.text)
    (host / "ifcfg-br1-up").chmod(0o600)  # set by hand: only the backup knows
    started = tree(host)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "hostname").write_text("#!/bin/sh\necho c1.lab.example\n")
    (tools / "hostname").chmod(0o755)
    ifcfg_script(folder / "c1" / "ifcfg-change.sh", host, tools)
    backup = folder / "c1" / "network-scripts.backup"
    saved = tree(backup)
    assert saved["files/ifcfg-br1-up"][2] == started["ifcfg-br1-up"][2]  # the host's copy, before the change
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))  # "re-plan rather than edit"
    assert_untouched(result, folder, before, 1)
    assert result.stderr.endswith(
        f"ovsgen: {backup} holds the host's files saved by ifcfg-change.sh --apply: rollback needs them\n"
        f"ovsgen: keep this plan folder and write the new plan elsewhere (-o NEW); {REFUSED}"
    )
    assert tree(backup) == saved
    ifcfg_script(folder / "c1" / "ifcfg-rollback.sh", host, tools)  # the rollback still has what it needs
    assert tree(host) == started


def test_a_libvirt_backup_is_kept_too(tmp_path: Path) -> None:
    folder = written_plan(tmp_path / "plan")
    backup = folder / "c2" / "libvirt.backup"
    backup.mkdir()
    (backup / "vm-vlan32.xml").write_text("<network><name>vm-vlan32</name></network>\n")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert (
        f"ovsgen: {backup} holds the host's network definitions saved by libvirt-change.sh --apply: "
        "rollback needs them\n" in result.stderr
    )


@pytest.mark.parametrize(
    "where", [".", "./", "..", "here/..", "/"], ids=["dot", "dot-slash", "parent", "back-up", "root"]
)
def test_the_current_folder_its_parents_and_root_are_usage_errors(tmp_path: Path, where: str) -> None:
    cwd = tmp_path / "work" / "here"
    cwd.mkdir(parents=True)
    (cwd / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    result = plan(BASE, MEMBER_ADDED, "-o", where, cwd=cwd)
    assert_untouched(result, tmp_path, before, 2)
    assert "ValueError" not in result.output
    assert "the plan folder is replaced whole, but this is the " in result.stderr
    assert "give another folder (-o NEW)" in result.stderr
    assert not list(tmp_path.rglob("*.ovsgen.lock"))
    assert [name for name in os.listdir("/") if "ovsgen" in name] == []


def test_a_link_to_the_current_folder_is_a_usage_error(tmp_path: Path) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    (tmp_path / "alias").symlink_to(cwd)
    before = tree(tmp_path)
    result = plan(BASE, MEMBER_ADDED, "-o", str(tmp_path / "alias"), cwd=cwd)
    assert_untouched(result, tmp_path, before, 2)
    assert "but this is the current folder or one of its parents" in result.stderr


# --- what may be replaced -------------------------------------------------------------------------


def test_a_previous_plan_is_replaced_and_its_stale_node_folders_go(tmp_path: Path) -> None:
    folder = written_plan(tmp_path / "plan", BASE, str(CHANGES / "node-added.yaml"))
    assert (folder / "c3" / "change.sh").is_file()
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == ["c1", "c2", "plan.md"]
    assert (folder / "plan.md").read_text() == result.stdout


def test_a_previous_plan_with_every_kind_of_file_is_replaced(tmp_path: Path) -> None:
    """A plan with libvirt files (libvirt/, libvirt.old/, libvirt-*.sh) is replaced by a plan without."""
    folder = written_plan(tmp_path / "plan", BASE, str(CHANGES / "networks-changed.yaml"))
    assert {"libvirt", "libvirt.old", "libvirt-change.sh"} <= {path.name for path in (folder / "c1").iterdir()}
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert not (folder / "c1" / "libvirt").exists()


@pytest.mark.parametrize("state", ["missing", "empty", "empty folders"])
def test_a_new_or_empty_folder_takes_the_plan(tmp_path: Path, state: str) -> None:
    folder = tmp_path / "plan"
    if state != "missing":
        folder.mkdir()
    if state == "empty folders":
        (folder / "stale" / "deeper").mkdir(parents=True)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert (folder / "c1" / "change.sh").is_file()
    assert not (folder / "stale").exists()


# (what is added to a previous plan, what the message names: the topmost entry a plan does not write)
STRAYS = [
    ("notes.txt", "notes.txt"),
    (".git/config", ".git"),
    ("c1/notes.txt", "c1/notes.txt"),
    ("c1/network-scripts/saved/ifcfg-eth0", "c1/network-scripts/saved"),
    ("c1/keys/id_rsa", "c1/keys"),
    ("c1/network-scripts.restored/ifcfg-eth0", "c1/network-scripts.restored"),
]


@pytest.mark.parametrize(("extra", "top"), STRAYS, ids=[extra for extra, _ in STRAYS])
def test_a_previous_plan_holding_anything_else_is_refused(tmp_path: Path, extra: str, top: str) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / extra).parent.mkdir(parents=True, exist_ok=True)
    (folder / extra).write_text("kept\n")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert f"ovsgen: {folder}/{top} would be lost: ovsgen plan does not write it\n" in result.stderr
    assert result.stderr.endswith(
        f"ovsgen: ovsgen plan replaces {folder} whole: move these out of it, or write the new plan elsewhere "
        f"(-o NEW); {REFUSED}"
    )


def test_a_plan_md_not_written_by_ovsgen_plan_makes_no_plan_folder(tmp_path: Path) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / "plan.md").write_text("# My plan for Tuesday\n")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert f"ovsgen: {folder} is not a plan folder: it holds no plan.md written by ovsgen plan\n" in result.stderr


def test_a_long_list_of_what_is_in_the_way_is_cut(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for number in range(25):
        (folder / f"{number:02d}.jpg").write_bytes(b"\xff\xd8")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert result.stderr.count("would be lost") == 10
    assert f"ovsgen: and 15 more in {folder}\n" in result.stderr
