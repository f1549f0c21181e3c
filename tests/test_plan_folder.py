"""`ovsgen plan -o DIR` replaces DIR whole: only a new or empty folder, or a previous plan holding
nothing but what a plan writes. Everything else is refused with nothing written (issue 12's trial:
a render, the user's notes and designs, the host's backups saved by an applied plan, `-o .`)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from click.testing import Result

from generator.changes.rehearse_report import Report, Step
from generator.cli.change_commands import PLAN_FOLDER
from generator.design.validate import ValidDesign, validate_file
from generator.output.whole_folder import replace_folder
from generator.render.files import OutputFile
from generator.render.kinds import render_design
from tests.conftest import REPO, ovsdb_server, require_tool, run
from tests.support.cli import invoke
from tests.test_diff import git

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


@pytest.fixture(scope="module")
def qos_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dump of c1 with br1-up (eth0, eth1) shaped by QoS, and a port stray0 no design has."""
    dump = tmp_path_factory.mktemp("qos") / "qos.json"
    with ovsdb_server() as ovsdb:
        ovsdb.vsctl("add-br", "br1")
        ovsdb.vsctl("add-bond", "br1", "br1-up", "eth0", "eth1", "bond_mode=balance-slb")
        ovsdb.vsctl("--", "set", "Port", "br1-up", "qos=@q", "--", "--id=@q", "create", "QoS", "type=linux-htb")
        ovsdb.vsctl("add-port", "br1", "stray0")
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


def test_any_backup_is_kept(tmp_path: Path) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / "c1" / "ifcfg-br1.backup").write_text("saved by hand\n")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert f"ovsgen: {folder}/c1/ifcfg-br1.backup is a backup: ovsgen never deletes one\n" in result.stderr
    assert result.stderr.endswith(f"ovsgen: keep this plan folder and write the new plan elsewhere (-o NEW); {REFUSED}")


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
    assert sorted(path.name for path in folder.iterdir()) == ["c1", "c2", "plan.md", "rollout.json"]
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
        (folder / "stale" / "deeper" / "deepest").mkdir(parents=True)
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


HEADER = "<!-- Generated by ovsgen plan (a.yaml -> b.yaml). Review it; re-plan rather than edit. -->"
NOT_PLAN_HEADERS = {
    "own": "# My plan for Tuesday\n",
    "head only": "<!-- Generated by ovsgen plan (a.yaml -> b.yaml). Edited by hand\n",
    "tail only": "# Tuesday. Review it; re-plan rather than edit. -->\n",
    "trailing space": f"{HEADER} \n",
    "second line": f"# Tuesday\n{HEADER}\n",
    "text after it": f"{HEADER}XX\n",
}


@pytest.mark.parametrize("text", NOT_PLAN_HEADERS.values(), ids=NOT_PLAN_HEADERS.keys())
def test_a_plan_md_not_written_by_ovsgen_plan_makes_no_plan_folder(tmp_path: Path, text: str) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / "plan.md").write_text(text)
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert f"ovsgen: {folder} is not a plan folder: it holds no plan.md written by ovsgen plan\n" in result.stderr


@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_previous_plan_is_known_by_its_first_line(tmp_path: Path, ending: str) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / "plan.md").write_bytes(f"{HEADER}{ending}edited{ending}".encode())
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("target", ["an empty folder", "a folder"])
def test_a_link_in_a_folder_a_plan_does_not_write_is_in_the_way(tmp_path: Path, target: str) -> None:
    folder = written_plan(tmp_path / "plan")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if target == "a folder":
        (elsewhere / "inner").mkdir()
    (folder / "c1" / "saved").mkdir()
    (folder / "c1" / "saved" / "link").symlink_to(elsewhere)
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert f"ovsgen: {folder}/c1/saved would be lost: ovsgen plan does not write it\n" in result.stderr


@pytest.mark.parametrize(("photos", "more"), [(25, 15), (11, 1), (10, 0)])
def test_a_long_list_of_what_is_in_the_way_is_cut(tmp_path: Path, photos: int, more: int) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for number in range(photos):
        (folder / f"{number:02d}.jpg").write_bytes(b"\xff\xd8")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert result.stderr.count("would be lost") == 10
    assert result.stderr.count(" more in ") == (more > 0)
    if more:
        assert f"ovsgen: and {more} more in {folder}\n" in result.stderr


# --- the plan, diff and rehearse actions, in-process ----------------------------------------------


def broken_design(folder: Path) -> Path:
    design = folder / "broken.yaml"
    design.write_text((CHANGES / "member-added.yaml").read_text().replace("version: 1", "version: 7"))
    return design


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_a_plan_prints_its_summary_and_says_how_many_files_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = plan(BASE, MEMBER_ADDED, "--node", "c2", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == (out / "plan.md").read_text()
    assert result.stdout.startswith("<!-- Generated by ovsgen plan (base.yaml -> member-added.yaml). ")
    written = files_under(out)
    assert written[0] == "c2/change.sh"
    assert {path.split("/")[0] for path in written} == {"c2", "plan.md", "rollout.json"}
    assert result.stderr.splitlines()[-1] == f"ovsgen: wrote the plan ({len(written)} files) to {out}/"


def test_a_plan_names_the_nodes_the_designs_do_not_have(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = plan(BASE, MEMBER_ADDED, "--node", "c9", "--node", "c1", "--node", "a7", "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        result.stderr.splitlines()[-1]
        == "ovsgen: no nodes named a7, c9 in the given designs (nodes: c1, c2); nothing was written"
    )
    assert not out.exists()


@pytest.mark.parametrize("which", ["old", "new"])
def test_a_plan_between_designs_writes_nothing_when_one_is_invalid(tmp_path: Path, which: str) -> None:
    out = tmp_path / "plan"
    broken = str(broken_design(tmp_path))
    result = plan(*((broken, MEMBER_ADDED) if which == "old" else (BASE, broken)), "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{broken}:" in result.stderr
    assert result.stderr.endswith(f"ovsgen: {REFUSED}")
    assert not out.exists()


def plan_from(dump: Path, design: str, out: Path, *options: str) -> Result:
    return plan("--from-host", str(dump), design, "--node", "c1", "-o", str(out), *options)


@pytest.mark.consumer
@pytest.mark.parametrize("prune", [False, True])
def test_a_plan_from_a_dump_names_its_source_and_prunes_only_when_told(
    tmp_path: Path, qos_host: Path, prune: bool
) -> None:
    out = tmp_path / "plan"
    result = plan_from(qos_host, BASE, out, *(["--prune"] if prune else []))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!-- Generated by ovsgen plan (host dump qos.json -> base.yaml). ")
    assert ("- port stray0 removed from br1\n" in result.stdout) is prune
    assert result.stderr.splitlines()[-1] == f"ovsgen: wrote the plan ({len(files_under(out))} files) to {out}/"


@pytest.mark.consumer
def test_a_plan_from_a_dump_that_would_rebuild_a_shaped_bond_is_refused(tmp_path: Path, qos_host: Path) -> None:
    out = tmp_path / "plan"
    result = plan_from(qos_host, str(CHANGES / "members-swapped.yaml"), out, "--prune")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-2:] == [
        "ovsgen: node c1: br1-up must be rebuilt (eth4 joins br1-up; eth1 leaves br1-up), but it has qos, which a "
        "rollback could not put back: remove them on the host first (and add them again after the window), "
        "or leave this change out",
        "ovsgen: nothing was written",
    ]
    assert not out.exists()


@pytest.mark.consumer
def test_a_plan_from_a_dump_names_a_node_the_design_does_not_have(tmp_path: Path, qos_host: Path) -> None:
    out = tmp_path / "plan"
    result = plan("--from-host", str(qos_host), BASE, "--node", "c7", "-o", str(out))
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[-1]
        == "ovsgen: no node named c7 in the given designs (nodes: c1, c2); nothing was written"
    )
    assert not out.exists()


@pytest.mark.consumer
@pytest.mark.parametrize("dump_ok", [True, False])
def test_a_plan_from_a_dump_reports_an_invalid_design_and_a_bad_dump(
    tmp_path: Path, qos_host: Path, dump_ok: bool
) -> None:
    out = tmp_path / "plan"
    dump = qos_host if dump_ok else tmp_path / "bad.json"
    if not dump_ok:
        dump.write_text("not json\n")
    broken = broken_design(tmp_path)
    result = plan_from(dump, str(broken), out)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{broken}:" in result.stderr
    assert (f"{dump}:1:1: error: " in result.stderr) is not dump_ok
    assert result.stderr.endswith(f"ovsgen: {REFUSED}")
    assert result.stderr.count(REFUSED) == 1
    assert not out.exists()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where tempfile makes its folders for this test (empty to start with)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_diff_from_a_base_ref_reads_each_design_there_and_leaves_no_copy(tmp_path: Path, private_tmp: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "designs").mkdir(parents=True)
    shutil.copy(BASE, repo / "designs" / "chg.yaml")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    shutil.copy(MEMBER_ADDED, repo / "designs" / "chg.yaml")
    shutil.copy(AHV, repo / "designs" / "ahv.yaml")
    result = invoke("diff", "--base-ref", "main", "designs/chg.yaml", "designs/ahv.yaml", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "main:designs/chg.yaml -> designs/chg.yaml" in result.stdout
    assert "main:designs/ahv.yaml (absent) -> designs/ahv.yaml" in result.stdout
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("which", ["old", "new"])
def test_diff_of_an_invalid_design_prints_no_report(tmp_path: Path, private_tmp: Path, which: str) -> None:
    broken = str(broken_design(tmp_path))
    result = invoke("diff", *((broken, MEMBER_ADDED) if which == "old" else (BASE, broken)))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{broken}:" in result.stderr
    assert list(private_tmp.iterdir()) == []


def test_diff_from_a_base_ref_of_an_invalid_design_prints_no_report(tmp_path: Path, private_tmp: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(broken_design(tmp_path), repo / "chg.yaml")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "broken")
    shutil.copy(BASE, repo / "chg.yaml")
    result = invoke("diff", "--base-ref", "main", "chg.yaml", cwd=repo)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "main:chg.yaml:" in result.stderr
    assert list(private_tmp.iterdir()) == []


def test_rehearse_names_a_node_the_designs_do_not_have() -> None:
    result = invoke("rehearse", BASE, MEMBER_ADDED, "--node", "c9")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "ovsgen: no node named c9 in the given designs (nodes: c1, c2)"


@pytest.mark.parametrize("which", ["old", "new"])
def test_rehearse_of_an_invalid_design_rehearses_nothing(tmp_path: Path, which: str) -> None:
    broken = str(broken_design(tmp_path))
    result = invoke("rehearse", *((broken, MEMBER_ADDED) if which == "old" else (BASE, broken)), "--node", "c1")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{broken}:" in result.stderr


@pytest.mark.consumer
def test_rehearse_refuses_a_file_that_only_looks_like_a_database(tmp_path: Path) -> None:
    fake = tmp_path / "host.db"
    fake.write_text("OVSDB JSON 0 0\nnot a database\n")
    result = invoke("rehearse", str(fake), BASE, "--node", "c1")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{fake}:1:1: error: not a standalone OVSDB database (make it with: ovsdb-client backup)" in result.stderr
    assert result.stderr.endswith("ovsgen: nothing was rehearsed\n")


@pytest.mark.consumer
def test_rehearse_from_a_database_file_plans_from_what_it_holds(tmp_path: Path) -> None:
    backup = tmp_path / "host.db"
    with ovsdb_server() as ovsdb:
        ovsdb.vsctl("add-br", "br1")
        ovsdb.vsctl("add-bond", "br1", "br1-up", "eth0", "eth1", "bond_mode=balance-slb")
        found = run([require_tool("ovsdb-client"), "backup", f"unix:{ovsdb.socket}", "Open_vSwitch"])
    assert found.returncode == 0, found.stderr
    backup.write_text(found.stdout)
    result = invoke("rehearse", str(backup), BASE, "--node", "c1")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Rehearsal of node c1:\n  PASS  change.sh --apply\n")
    assert result.stdout.endswith("Result: every step held.\n")


# --- how the folder is looked at --------------------------------------------------------------


def test_what_is_in_the_way_is_named_in_order_whatever_its_depth(tmp_path: Path) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / "notes.txt").write_text("top\n")
    (folder / "c1" / "notes.txt").write_text("deeper\n")
    (folder / "c1" / "libvirt.backup").mkdir()
    (folder / "c2" / "network-scripts.backup").mkdir()
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert result.exit_code == 1
    named = [line.split(" ", 2)[1] for line in result.stderr.splitlines() if line.startswith(f"ovsgen: {folder}/")]
    assert named == [f"{folder}/{path}" for path in ("c1/libvirt.backup", "c2/network-scripts.backup")] + [
        f"{folder}/{path}" for path in ("c1/notes.txt", "notes.txt")
    ]


def test_a_backup_in_a_folder_no_plan_made_is_kept_not_lost(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "ifcfg.backup").write_text("saved\n")
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert result.exit_code == 1
    assert "would be lost" not in result.stderr
    assert f"ovsgen: {folder}/ifcfg.backup is a backup: ovsgen never deletes one\n" in result.stderr


@pytest.mark.parametrize("where", ["c1/ifcfg-\x1b[2J.sh", "c\x1b[2J/change.sh"], ids=["script", "node"])
def test_a_name_no_plan_writes_is_in_the_way_even_where_a_plan_writes(tmp_path: Path, where: str) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / where).parent.mkdir(exist_ok=True)
    (folder / where).write_text("#!/bin/sh\n")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert "would be lost: ovsgen plan does not write it" in result.stderr


@pytest.mark.parametrize("marker", [b"\xff\xfe not text\n", None], ids=["not utf-8", "a folder"])
def test_a_plan_md_that_is_no_header_makes_no_plan_folder(tmp_path: Path, marker: bytes | None) -> None:
    folder = written_plan(tmp_path / "plan")
    (folder / "plan.md").unlink()
    if marker is None:
        (folder / "plan.md").mkdir()
    else:
        (folder / "plan.md").write_bytes(marker)
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert f"ovsgen: {folder} is not a plan folder: it holds no plan.md written by ovsgen plan\n" in result.stderr


def test_a_plan_folder_named_through_dot_dot_is_the_folder_it_names(tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    (folder / "sub").mkdir(parents=True)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder / "sub" / ".."), cwd=elsewhere)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == ["c1", "c2", "plan.md", "rollout.json"]
    assert sorted(os.listdir(tmp_path)) == ["cwd", "plan"]  # nothing left beside it


def test_a_loop_of_links_as_the_plan_folder_is_a_usage_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    result = plan(BASE, MEMBER_ADDED, "-o", str(loop))
    assert result.exit_code == 2
    assert f"Error: -o {loop}: the plan folder is replaced whole, but cannot tell which folder it is: " in result.stderr
    assert loop.is_symlink()


def test_a_vanished_working_folder_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    result = plan(BASE, MEMBER_ADDED, "-o", str(tmp_path / "plan"))
    assert result.exit_code == 2
    assert "the plan folder is replaced whole, but cannot tell which folder it is: " in result.stderr
    assert not (tmp_path / "plan").exists()


def test_a_folder_holding_both_designs_names_the_first(tmp_path: Path) -> None:
    old, new = shutil.copy(BASE, tmp_path / "old.yaml"), shutil.copy(MEMBER_ADDED, tmp_path / "new.yaml")
    result = plan(str(old), str(new), "-o", str(tmp_path))
    assert result.exit_code == 2
    assert f"but this folder holds {old}, which the command reads; give another folder (-o NEW)" in result.stderr


def test_a_link_where_a_plan_writes_is_named_and_refused(tmp_path: Path) -> None:
    folder = written_plan(tmp_path / "plan")
    script = folder / "c1" / "change.sh"
    script.unlink()
    script.symlink_to(tmp_path / "elsewhere.sh")
    before = tree(folder)
    result = plan(BASE, MEMBER_ADDED, "-o", str(folder))
    assert_untouched(result, folder, before, 1)
    assert result.stderr.endswith(
        f"ovsgen: {script} is a symbolic link; ovsgen does not follow links inside an output folder\n"
    )


def test_the_writer_replaces_the_current_folder_by_its_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line refuses `-o .`; the writer itself still stages beside the folder it names."""
    folder = written_plan(tmp_path / "plan")
    monkeypatch.chdir(folder)
    assert replace_folder(Path("."), [OutputFile("plan.md", "<!-- new -->\n")], PLAN_FOLDER) is None
    assert files_under(folder) == ["plan.md"]
    assert sorted(os.listdir(tmp_path)) == ["plan"]


@pytest.mark.parametrize(("prune", "passed"), [(True, True), (False, False)])
def test_rehearse_hands_the_database_and_prune_to_the_rehearsal_and_exits_on_its_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prune: bool, passed: bool
) -> None:
    """Whether a pruning plan was rehearsed shows only when it fails on a host: the call is checked here."""
    database = tmp_path / "host.db"
    database.write_text("OVSDB JSON 0 0\n")
    calls = []

    def rehearsal(start: Path, old: object, new: ValidDesign, node: str, *, prune: bool) -> Report:
        calls.append((start, old, new.design.name, node, prune))
        return Report(node, [Step("change.sh --apply", passed, "details\nmore")])

    monkeypatch.setattr("generator.cli.change_commands.rehearse", rehearsal)
    result = invoke("rehearse", str(database), BASE, "--node", "c2", *(["--prune"] if prune else []))
    assert calls == [(database, None, "chg", "c2", prune)]
    assert result.stdout == Report("c2", [Step("change.sh --apply", passed, "details\nmore")]).text()
    assert result.exit_code == (0 if passed else 1)
