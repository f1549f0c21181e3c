"""The ifcfg and libvirt layers of a plan: change and exact rollback, run by bash against a
folder of ifcfg files and against `virsh -c test:///default` (tests/support/virsh_replay.sh)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host, without_header
from generator.changes.plan_folder import describe_files, describe_networks, render_plan
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.state import EMPTY, OvsState, node_state
from generator.render.kinds import render_design
from generator.render.templating import macro
from tests.conftest import SUPPORT, require_tool, run

pytestmark = pytest.mark.consumer

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"
REPLAY = str(SUPPORT / "virsh_replay.sh")


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


def node_change(old: str, new: str, node: str = "c1") -> NodeChange:
    (change,) = plan_designs(design(old), design(new), (node,))
    return change


def write_plan(change: NodeChange, where: Path) -> Path:
    """The plan's files on disk, as `ovsgen plan` writes them; the node's folder."""
    for file in render_plan([change], "test"):
        path = where / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.text)
        path.chmod(0o755 if file.executable else 0o644)
    return where / change.node


def rendered(name: str, node: str, kind: str) -> dict[str, str]:
    return {file.name: file.text for file in render_design(design(name), [node], [kind])}


def fake_hostname(where: Path, name: str) -> dict[str, str]:
    """An environment whose `hostname` (first on PATH) answers `name`."""
    folder = where / f"bin-{name}"
    folder.mkdir(exist_ok=True)
    tool = folder / "hostname"
    tool.write_text(f"#!/bin/sh\necho {name}\n")
    tool.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of a folder: its bytes and permission bits."""
    return {path.name: (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) for path in folder.iterdir()}


# --- ifcfg --------------------------------------------------------------------


def host_folder(tmp_path: Path, old: str, node: str = "c1") -> Path:
    """A host's network-scripts: the old design's files, one with mode 0600, and a hand-made one."""
    folder = tmp_path / "network-scripts"
    folder.mkdir()
    for name, text in rendered(old, node, "ifcfg").items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)
    first = sorted(folder.iterdir())[0]
    first.chmod(0o600)
    (folder / "ifcfg-hand-made").write_text("DEVICE=hand-made\n")
    (folder / "ifcfg-hand-made").chmod(0o640)
    return folder


def ifcfg(script: Path, folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run(["bash", str(script), *args], env={**env, "NETWORK_SCRIPTS": str(folder)})


IFCFG_PAIRS = [("base", "member-added"), ("bridge-added", "base"), ("base", "host-vlan-10")]


@pytest.mark.parametrize(("old", "new"), IFCFG_PAIRS, ids=[f"{o}->{n}" for o, n in IFCFG_PAIRS])
def test_ifcfg_change_reaches_the_new_files_and_rollback_the_old_bytes(old: str, new: str, tmp_path: Path) -> None:
    node = write_plan(node_change(old, new), tmp_path / "plan")
    folder = host_folder(tmp_path, old)
    env = fake_hostname(tmp_path, "c1.lab.example")
    before = snapshot(folder)
    for mode in ("--dry-run", "--check"):
        result = ifcfg(node / "ifcfg-change.sh", folder, env, mode)
        assert result.returncode == 0, result.stderr
        assert snapshot(folder) == before
    assert "in the starting state" in ifcfg(node / "ifcfg-change.sh", folder, env, "--check").stdout
    assert not (node / "network-scripts.backup").exists()

    applied = ifcfg(node / "ifcfg-change.sh", folder, env, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert "Networking was not restarted" in applied.stdout
    after = {path.name: without_header(path.read_text()) for path in folder.iterdir()}
    expected = {name: without_header(text) for name, text in rendered(new, "c1", "ifcfg").items()}
    assert after == {**expected, "ifcfg-hand-made": "DEVICE=hand-made"}
    assert snapshot(folder)["ifcfg-hand-made"] == before["ifcfg-hand-made"]
    again = ifcfg(node / "ifcfg-change.sh", folder, env, "--apply")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("No change:")
    check = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--check")
    assert check.returncode == 0, check.stderr
    assert check.stdout.endswith(f"ifcfg-rollback.sh: {folder} is in the state after ifcfg-change.sh\n")
    assert "starting state" not in check.stdout

    back = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert back.returncode == 0, back.stderr
    assert snapshot(folder) == before
    assert "\nNo change: " in ifcfg(node / "ifcfg-rollback.sh", folder, env, "--check").stdout


def test_ifcfg_rollback_without_a_backup_restores_the_old_design(tmp_path: Path) -> None:
    node = write_plan(node_change("base", "member-added"), tmp_path / "plan")
    folder = host_folder(tmp_path, "base")
    env = fake_hostname(tmp_path, "c1")
    (folder / "ifcfg-br1-up").chmod(0o644)
    before = snapshot(folder)
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    for path in sorted((node / "network-scripts.backup").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (node / "network-scripts.backup").rmdir()
    back = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert back.returncode == 0, back.stderr
    assert "from network-scripts.old/ifcfg-br1-up" in back.stdout
    assert snapshot(folder) == before


def test_ifcfg_change_keeps_the_first_backup_until_a_rollback_spends_it(tmp_path: Path) -> None:
    node = write_plan(node_change("base", "member-added"), tmp_path / "plan")
    folder = host_folder(tmp_path, "base")
    env = fake_hostname(tmp_path, "c1")
    before = snapshot(folder)
    backup, restored = node / "network-scripts.backup", node / "network-scripts.restored"
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    (folder / "ifcfg-br1-up").chmod(0o640)  # no change to its lines: a second run changes nothing
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    assert (backup / "files" / "ifcfg-br1-up").stat().st_mode & 0o777 == before["ifcfg-br1-up"][1]

    back = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert back.returncode == 0, back.stderr
    assert snapshot(folder) == before
    assert back.stdout.endswith(
        "ifcfg-rollback.sh: moved network-scripts.backup/ to network-scripts.restored/: "
        "the next ifcfg-change.sh --apply saves a fresh backup\n"
    )
    assert not backup.exists()
    assert snapshot(restored / "files")["ifcfg-br1-up"] == before["ifcfg-br1-up"]

    # An admin changes a file's mode after the rollback: the next change and rollback keep it.
    (folder / "ifcfg-br1-up").chmod(0o600)
    edited = snapshot(folder)
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    assert (backup / "files" / "ifcfg-br1-up").stat().st_mode & 0o777 == 0o600
    assert ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply").returncode == 0
    assert snapshot(folder) == edited
    assert sorted(path.name for path in node.iterdir() if path.name.startswith("network-scripts.")) == [
        "network-scripts.old",
        "network-scripts.restored",  # the older one replaced
    ]
    assert snapshot(restored / "files")["ifcfg-br1-up"] == edited["ifcfg-br1-up"]


def test_ifcfg_rollback_from_a_dump_puts_back_the_edits_made_after_an_earlier_window(tmp_path: Path) -> None:
    node = write_plan(plan_from_host(EMPTY, design("base"), "c1", prune=False), tmp_path / "plan")
    folder = tmp_path / "network-scripts"
    folder.mkdir()
    (folder / "ifcfg-br1-up").write_text("DEVICE=br1-up\n# night 1\n")
    env = fake_hostname(tmp_path, "c1")
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    assert ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply").returncode == 0
    (folder / "ifcfg-br1-up").write_text('DEVICE=br1-up\n# night 1\nBOND_IFACES="eth0 eth1"  # night 2, by hand\n')
    edited = snapshot(folder)
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    back = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert back.returncode == 0, back.stderr
    assert snapshot(folder) == edited

    again = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert again.returncode == 1
    restored = "ifcfg-rollback.sh: an earlier ifcfg-rollback.sh --apply already restored it (network-scripts.restored/)"
    assert restored in again.stderr
    assert snapshot(folder) == edited


def test_ifcfg_change_refuses_a_hand_edited_file_and_changes_nothing(tmp_path: Path) -> None:
    node = write_plan(node_change("base", "member-added"), tmp_path / "plan")
    folder = host_folder(tmp_path, "base")
    env = fake_hostname(tmp_path, "c1")
    with (folder / "ifcfg-br1-up").open("a") as edited:
        edited.write("MTU=9000\n")
    before = snapshot(folder)
    for mode in ("--check", "--apply"):
        result = ifcfg(node / "ifcfg-change.sh", folder, env, mode)
        assert result.returncode == 1
        assert "ifcfg-br1-up holds neither network-scripts.old/ifcfg-br1-up nor network-scripts/ifcfg-br1-up" in (
            result.stderr
        )
        assert "+MTU=9000" in result.stderr
        assert snapshot(folder) == before
    assert "nothing was changed" in result.stderr
    assert not (node / "network-scripts.backup").exists()


def test_ifcfg_scripts_guard_the_host(tmp_path: Path) -> None:
    node = write_plan(node_change("base", "host-vlan-10"), tmp_path / "plan")
    folder = host_folder(tmp_path, "base")
    before = snapshot(folder)
    other = fake_hostname(tmp_path, "c2.lab.example")
    for script in ("ifcfg-change.sh", "ifcfg-rollback.sh"):
        for mode in ("--apply", "--check"):
            refused = ifcfg(node / script, folder, other, mode)
            assert refused.returncode == 1
            assert refused.stderr == (
                f"{script}: this host is c2.lab.example, not c1; nothing was changed\n"
                f"{script}: (--skip-host-check if the node name is not its host name)\n"
            )
    assert snapshot(folder) == before
    skipped = ifcfg(node / "ifcfg-change.sh", folder, other, "--apply", "--skip-host-check")
    assert skipped.returncode == 0, skipped.stderr
    assert ifcfg(node / "ifcfg-change.sh", folder, other, "--frobnicate").returncode == 2


def test_ifcfg_from_a_host_dump_restores_the_backup(tmp_path: Path) -> None:
    change = plan_from_host(EMPTY, design("base"), "c1", prune=False)
    node = write_plan(change, tmp_path / "plan")
    assert not (node / "network-scripts.old").exists()
    folder = tmp_path / "network-scripts"
    folder.mkdir()
    (folder / "ifcfg-br0").write_text("DEVICE=br0\nTYPE=OVSBridge\n# set by hand\n")
    (folder / "ifcfg-br0").chmod(0o600)
    (folder / "ifcfg-eth9").write_text("DEVICE=eth9\n")
    env = fake_hostname(tmp_path, "c1")
    before = snapshot(folder)
    for mode in ("--check", "--apply"):
        refused = ifcfg(node / "ifcfg-rollback.sh", folder, env, mode)
        assert refused.returncode == 1
        assert refused.stderr.startswith(
            f"ifcfg-rollback.sh: no backup in {node}/network-scripts.backup; nothing was changed.\n"
            "ifcfg-rollback.sh: if ifcfg-change.sh --apply never ran on this host (or changed nothing), there is "
            "nothing to roll back here: go on with the next rollback script of the plan"
        )
        assert snapshot(folder) == before
    assert "there is nothing to roll back" in ifcfg(node / "ifcfg-rollback.sh", folder, env, "--help").stdout
    applied = ifcfg(node / "ifcfg-change.sh", folder, env, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert (folder / "ifcfg-br0").read_text() == rendered("base", "c1", "ifcfg")["ifcfg-br0"]
    back = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert back.returncode == 0, back.stderr
    assert snapshot(folder) == before


# --- libvirt --------------------------------------------------------------------


def virsh_env(tmp_path: Path, host: str = "c1") -> dict[str, str]:
    require_tool("virsh")
    return {**fake_hostname(tmp_path, host), "VIRSH": REPLAY, "VIRSH_REPLAY_LOG": str(tmp_path / "virsh.log")}


def start_networks(tmp_path: Path, old: str, env: dict[str, str]) -> None:
    """The old design's networks defined, autostarted and started by its own define.sh."""
    folder = tmp_path / "render"
    for file in render_design(design(old), ["c1"], ["libvirt"]):
        path = folder / file.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.text)
    result = run(["bash", str(folder / "define.sh"), "--apply"], env=env)
    assert result.returncode == 0, result.stderr


def canonical(xml: str) -> object:
    """A network definition as comparable data: no UUID or MAC, children in any order."""

    def element(node: etree._Element) -> object:
        return (node.tag, sorted(node.attrib.items()), sorted((element(child) for child in node), key=repr))

    root = etree.fromstring(xml.encode())
    for child in list(root):
        if not isinstance(child.tag, str) or child.tag in ("uuid", "mac"):
            root.remove(child)
    return element(root)


def networks(env: dict[str, str]) -> dict[str, object]:
    names = run([REPLAY, "net-list", "--all", "--name"], env=env).stdout.split()
    return {name: canonical(run([REPLAY, "net-dumpxml", name], env=env).stdout) for name in names if name != "default"}


def design_networks(name: str) -> dict[str, object]:
    return {
        file.removesuffix(".xml"): canonical(text.partition("\n")[2])
        for file, text in rendered(name, "c1", "libvirt").items()
        if file.endswith(".xml")
    }


def libvirt(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run(["bash", str(script), *args], env=env)


def test_libvirt_change_reaches_the_new_networks_and_rollback_the_old(tmp_path: Path) -> None:
    env = virsh_env(tmp_path)
    node = write_plan(node_change("base", "networks-changed"), tmp_path / "plan")
    assert sorted(path.name for path in (node / "libvirt.old").iterdir()) == ["vm-vlan32.xml", "vm-vlan40.xml"]
    start_networks(tmp_path, "base", env)
    assert networks(env) == design_networks("base")
    for mode in ("--dry-run", "--check"):
        result = libvirt(node / "libvirt-change.sh", env, mode)
        assert result.returncode == 0, result.stderr
        assert networks(env) == design_networks("base")

    applied = libvirt(node / "libvirt-change.sh", env, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert networks(env) == design_networks("networks-changed")
    assert libvirt(node / "libvirt-change.sh", env, "--apply").stdout.startswith("No change:")
    assert sorted(path.name for path in (node / "libvirt.backup").iterdir()) == [
        "vm-vlan32.xml",
        "vm-vlan33.absent",
        "vm-vlan40.xml",
    ]

    check = libvirt(node / "libvirt-rollback.sh", env, "--check")
    assert check.returncode == 0, check.stderr
    assert "libvirt-rollback.sh: network vm-vlan40: in the state after libvirt-change.sh\n" in check.stdout
    assert check.stdout.endswith("libvirt-rollback.sh: the networks are in the state after libvirt-change.sh\n")
    assert "starting state" not in check.stdout

    back = libvirt(node / "libvirt-rollback.sh", env, "--apply")
    assert back.returncode == 0, back.stderr
    assert networks(env) == design_networks("base")
    assert "moved libvirt.backup/ to libvirt.restored/: the next libvirt-change.sh --apply saves a fresh" in back.stdout
    assert (node / "libvirt.restored" / "vm-vlan40.xml").exists()
    assert not (node / "libvirt.backup").exists()
    autostart = run([REPLAY, "net-list", "--autostart", "--name"], env=env).stdout.split()
    assert sorted(autostart) == ["vm-vlan32", "vm-vlan40"]

    # Without the backup, rollback goes back to the old design's definitions.
    assert libvirt(node / "libvirt-change.sh", env, "--apply").returncode == 0
    for path in (node / "libvirt.backup").iterdir():
        path.unlink()
    (node / "libvirt.backup").rmdir()
    (node / "libvirt.restored").rename(node / "restored-aside")  # and not the spent one
    again = libvirt(node / "libvirt-rollback.sh", env, "--apply")
    assert again.returncode == 0, again.stderr
    assert "libvirt.old/vm-vlan32.xml" in again.stdout
    assert networks(env) == design_networks("base")


def test_libvirt_change_refuses_a_network_in_neither_state(tmp_path: Path) -> None:
    env = virsh_env(tmp_path)
    node = write_plan(node_change("base", "networks-changed"), tmp_path / "plan")
    start_networks(tmp_path, "base", env)
    edited = tmp_path / "edited.xml"
    stored = run([REPLAY, "net-dumpxml", "vm-vlan40"], env=env).stdout
    assert "<tag id='40'/>" in stored
    edited.write_text(stored.replace("<tag id='40'/>", "<tag id='44'/>"))
    assert run([REPLAY, "net-define", "--file", str(edited)], env=env).returncode == 0  # ... edited by hand
    before = networks(env)
    result = libvirt(node / "libvirt-change.sh", env, "--apply")
    assert result.returncode == 1
    assert "network vm-vlan40 is defined as neither libvirt.old/vm-vlan40.xml nor libvirt/vm-vlan40.xml" in (
        result.stderr
    )
    assert "nothing was changed" in result.stderr
    assert networks(env) == before
    assert libvirt(node / "libvirt-change.sh", env, "--check").returncode == 1


def test_libvirt_change_refuses_networks_that_running_domains_use(tmp_path: Path) -> None:
    env = virsh_env(tmp_path)
    node = write_plan(node_change("base", "networks-changed"), tmp_path / "plan")
    start_networks(tmp_path, "base", env)
    domain = tmp_path / "vm1.xml"
    domain.write_text(
        "<domain type='test'><name>vm1</name><memory unit='KiB'>1024</memory>"
        "<os><type arch='i686'>hvm</type></os><devices><interface type='network'>"
        "<source network='vm-vlan40'/><target dev='vnet7'/></interface></devices></domain>"
    )
    for command in (["define", "--file", str(domain)], ["start", "--domain", "vm1"]):
        assert run([REPLAY, *command], env=env).returncode == 0
    before = networks(env)
    check = libvirt(node / "libvirt-change.sh", env, "--check")
    assert check.returncode == 0, check.stderr
    assert "network vm-vlan40 is used by running domains:\n  vm1: " in check.stdout
    refused = libvirt(node / "libvirt-change.sh", env, "--apply")
    assert refused.returncode == 1
    assert "active network vm-vlan40 is used by running domains (virsh domiflist):\n  vm1: " in refused.stderr
    assert "vm-vlan32" not in refused.stderr  # no domain uses it
    assert "nothing was changed (--allow-running-domains" in refused.stderr
    assert networks(env) == before
    assert not (node / "libvirt.backup").exists()

    allowed = libvirt(node / "libvirt-change.sh", env, "--apply", "--allow-running-domains")
    assert allowed.returncode == 0, allowed.stderr
    assert "  vm1: " in allowed.stdout
    assert "keep the old VLANs, portgroup and trunk until the VM's interface is re-attached" in allowed.stdout
    assert networks(env) == design_networks("networks-changed")


def test_libvirt_from_a_host_dump_restores_the_saved_definitions(tmp_path: Path) -> None:
    env = virsh_env(tmp_path)
    change = plan_from_host(EMPTY, design("networks-changed"), "c1", prune=False)
    node = write_plan(change, tmp_path / "plan")
    start_networks(tmp_path, "base", env)
    before = networks(env)
    refused = libvirt(node / "libvirt-rollback.sh", env, "--apply")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        f"libvirt-rollback.sh: no backup in {node}/libvirt.backup; nothing was changed.\n"
        "libvirt-rollback.sh: if libvirt-change.sh --apply never ran on this host (or changed nothing), there is "
        "nothing to roll back here: go on with the next rollback script of the plan"
    )
    applied = libvirt(node / "libvirt-change.sh", env, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert networks(env) == {**design_networks("networks-changed"), "vm-vlan32": before["vm-vlan32"]}
    back = libvirt(node / "libvirt-rollback.sh", env, "--apply")
    assert back.returncode == 0, back.stderr
    assert networks(env) == before

    # An admin retags vm-vlan40 after the rollback; the next window's rollback keeps that.
    edited = tmp_path / "edited.xml"
    edited.write_text(run([REPLAY, "net-dumpxml", "vm-vlan40"], env=env).stdout.replace("'40'", "'44'"))
    assert run([REPLAY, "net-define", "--file", str(edited)], env=env).returncode == 0
    retagged = networks(env)
    assert retagged != before
    assert libvirt(node / "libvirt-change.sh", env, "--apply").returncode == 0
    assert libvirt(node / "libvirt-rollback.sh", env, "--apply").returncode == 0
    assert networks(env) == retagged


def failing_virsh(tmp_path: Path, env: dict[str, str], command: str, network: str) -> dict[str, str]:
    """An environment whose VIRSH fails `command` on `network` (as libvirt would: an error, exit 1)."""
    tool = tmp_path / "failing-virsh"
    tool.write_text(
        "#!/bin/bash\n"
        f"if [[ $1 == {command} ]] && {{ [[ $* == *'--network {network}'* ]] ||"
        f" grep -qs '<name>{network}</name>' \"${{3:-}}\"; }}; then\n"
        f"  echo 'error: failed to {command} network {network}' >&2\n"
        "  exit 1\n"
        "fi\n"
        f'exec {REPLAY} "$@"\n'
    )
    tool.chmod(0o755)
    return {**env, "VIRSH": str(tool)}


@pytest.mark.parametrize(
    ("command", "network", "summary"),
    [
        ("net-define", "vm-vlan40", "changed: vm-vlan32, vm-vlan33; not changed: vm-vlan40"),
        ("net-start", "vm-vlan33", "changed: vm-vlan32, vm-vlan33 (in part); not changed: vm-vlan40"),
    ],
    ids=["redefine", "start"],
)
def test_libvirt_change_failing_part_way_says_what_changed_and_what_not(
    command: str, network: str, summary: str, tmp_path: Path
) -> None:
    env = virsh_env(tmp_path)
    node = write_plan(node_change("base", "networks-changed"), tmp_path / "plan")
    start_networks(tmp_path, "base", env)
    failed = libvirt(node / "libvirt-change.sh", failing_virsh(tmp_path, env, command, network), "--apply")
    assert failed.returncode == 1
    assert f"error: failed to {command} network {network}\n" in failed.stderr
    assert failed.stderr.endswith(
        f"libvirt-change.sh: virsh failed on network {network} (its error is above); stopped there.\n"
        f"libvirt-change.sh: {summary}; libvirt-rollback.sh --apply puts back what was changed\n"
    )
    assert "vm-vlan32" not in networks(env)  # the undefine before the failure did happen
    back = libvirt(node / "libvirt-rollback.sh", env, "--apply")
    assert back.returncode == 0, back.stderr
    assert networks(env) == design_networks("base")


def test_libvirt_scripts_guard_the_host(tmp_path: Path) -> None:
    env = {**fake_hostname(tmp_path, "c2"), "VIRSH": f"touch {tmp_path / 'virsh-called'}"}
    node = write_plan(node_change("base", "networks-changed"), tmp_path / "plan")
    for script in ("libvirt-change.sh", "libvirt-rollback.sh"):
        refused = libvirt(node / script, env, "--apply")
        assert refused.returncode == 1
        assert f"{script}: this host is c2, not c1; nothing was changed" in refused.stderr
    assert not (tmp_path / "virsh-called").exists()


# --- plan files ------------------------------------------------------------------


def test_the_plan_holds_old_files_and_both_scripts_per_layer(tmp_path: Path) -> None:
    files = {file.path for file in render_plan([node_change("base", "member-added")], "test")}
    assert {
        "c1/ifcfg-change.sh",
        "c1/ifcfg-rollback.sh",
        "c1/network-scripts/ifcfg-br1-up",
        "c1/network-scripts/ifcfg-eth4",
        "c1/network-scripts.old/ifcfg-br1-up",
    } <= files
    assert not any("libvirt" in path for path in files)


def test_layer_files_say_the_order_and_what_running_vms_keep() -> None:
    layer_files = macro("_layer_files.md.j2", "layer_files")
    text = layer_files(node_change("base", "networks-changed"), describe_files, describe_networks)
    assert text.startswith("\nifcfg files (network-scripts/):\n- no change\n")
    assert "- network vm-vlan40 retagged: VLAN 40 -> 41 (redefine)" in text
    assert "- running VMs on vm-vlan40 keep what they have now (retagged: VLAN 40 -> 41)" in text
    assert "until the VM's interface is re-attached" in text
    assert "libvirt-change.sh, then the build sheet's checks.\nTo go back, the reverse:\nlibvirt-rollback.sh," in text
    member = layer_files(node_change("base", "member-added"), describe_files, describe_networks)
    assert "change.sh, ifcfg-change.sh, then" in member
    assert "ifcfg-rollback.sh, rollback.sh, each with `--apply`" in member


def test_layer_scripts_are_shellcheck_clean(tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck")
    changes = [
        node_change("base", "member-added"),
        node_change("base", "networks-changed", "c2"),
        plan_from_host(EMPTY, design("networks-changed"), "c1", prune=False),
    ]
    paths = []
    for number, change in enumerate(changes):
        node = write_plan(change, tmp_path / str(number))
        paths += [str(path) for path in node.glob("*-*.sh")]
    assert len(paths) == 8  # ifcfg-change/rollback (x2: design, dump), libvirt-change/rollback (x2)
    result = run([shellcheck, "--shell=bash", "--severity=style", *paths, str(SUPPORT / "virsh_replay.sh")])
    assert result.returncode == 0, result.stdout


# --- usage ------------------------------------------------------------------------


def recorder(tmp_path: Path) -> str:
    """A stand-in for ovs-vsctl and virsh that only notes it was called."""
    tool = tmp_path / "called"
    tool.write_text(f"#!/bin/sh\ntouch {tmp_path / 'was-called'}\n")
    tool.chmod(0o755)
    return str(tool)


MODE_PAIRS = [("--check", "--apply"), ("--dry-run", "--apply"), ("--apply", "--check"), ("--apply", "--dry-run")]


@pytest.mark.parametrize(("first", "second"), MODE_PAIRS, ids=[f"{a} {b}" for a, b in MODE_PAIRS])
def test_two_modes_are_a_usage_error_and_nothing_is_done(first: str, second: str, tmp_path: Path) -> None:
    folder = host_folder(tmp_path, "base")
    plan = tmp_path / "plan"
    write_plan(node_change("base", "member-added"), plan / "ovs")
    write_plan(node_change("base", "networks-changed"), plan / "libvirt")
    scripts = sorted(plan.glob("*/c1/*.sh"))
    assert sorted(path.name for path in scripts) == [
        "change.sh",
        "ifcfg-change.sh",
        "ifcfg-rollback.sh",
        "libvirt-change.sh",
        "libvirt-rollback.sh",
        "rollback.sh",
    ]
    tool = recorder(tmp_path)
    env = {**fake_hostname(tmp_path, "c1"), "NETWORK_SCRIPTS": str(folder), "OVS_VSCTL": tool, "VIRSH": tool}
    before = snapshot(folder)
    for script in scripts:
        result = run(["bash", str(script), first, second, "--skip-nic-check"], env=env)
        assert result.returncode == 2, (script.name, result.stdout, result.stderr)
        assert result.stderr.startswith(
            f"{script.name}: {first} and {second} are two modes: give one; nothing was changed\nUsage: {script.name} "
        )
        assert result.stdout == ""
    assert snapshot(folder) == before
    assert not (tmp_path / "was-called").exists()
    assert not [path for path in plan.rglob("*") if path.name.endswith((".backup", ".restored"))]


# --- bridges removed from a dump ----------------------------------------------------


def design_host(name: str, node: str = "c1") -> OvsState:
    """A host as the design's apply.sh leaves it: every bridge carries ovsgen's mark."""
    valid = design(name)
    (layout,) = [layout for layout in valid.layouts if layout.node.name == node]
    return node_state(valid.design, layout)


def test_a_bridge_removed_from_a_dump_loses_its_ifcfg_files_and_rollback_restores_them(tmp_path: Path) -> None:
    change = plan_from_host(design_host("bridge-added"), design("base"), "c1", prune=True)
    assert change.ovs.removed_bridges == ("br2",)
    deleted = [(item.name, item.action, item.file, item.reason) for item in change.ifcfg if item.action == "delete"]
    assert deleted == [
        ("ifcfg-br2", "delete", None, "bridge br2 removed"),
        ("ifcfg-eth4", "delete", None, "bridge br2 removed"),
    ]
    node = write_plan(change, tmp_path / "plan")
    folder = host_folder(tmp_path, "bridge-added")
    (folder / "ifcfg-eth4").chmod(0o600)
    env = fake_hostname(tmp_path, "c1")
    before = snapshot(folder)
    assert "delete " + str(folder / "ifcfg-br2") in ifcfg(node / "ifcfg-change.sh", folder, env, "--dry-run").stdout
    applied = ifcfg(node / "ifcfg-change.sh", folder, env, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert not (folder / "ifcfg-br2").exists()
    assert not (folder / "ifcfg-eth4").exists()
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [*rendered("base", "c1", "ifcfg"), "ifcfg-hand-made"]
    )
    back = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert back.returncode == 0, back.stderr
    assert snapshot(folder) == before

    summary = next(file.text for file in render_plan([change], "test") if file.path == "plan.md")
    assert "- delete ifcfg-br2 (bridge br2 removed)\n- delete ifcfg-eth4 (bridge br2 removed)\n" in summary
    assert "libvirt networks on the removed bridge br2: a host dump\ndoes not show them" in summary
    assert "`virsh net-list --all`, then `virsh net-dumpxml <network>`" in summary
    assert "those whose\n`<bridge name='br2'/>` is the removed bridge" in summary


def test_a_removed_bridges_files_the_design_still_writes_are_not_deleted(tmp_path: Path) -> None:
    # eth4 leaves the removed br2 for the br1 bond: its new file is written, not deleted.
    change = plan_from_host(design_host("bridge-added"), design("member-added"), "c1", prune=True)
    actions = {item.name: item.action for item in change.ifcfg}
    assert (actions["ifcfg-br2"], actions["ifcfg-eth4"]) == ("delete", "add")
    # A bond removed with its bridge: the bridge, the bond and both member NICs.
    without_br1 = tmp_path / "without-br1.yaml"
    text = (CHANGES / "base.yaml").read_text()
    without_br1.write_text(
        text.replace("  br1: {uplinks: 2x1G balance-slb}\n", "").replace("bridge: br1", "bridge: br0")
    )
    bond = plan_from_host(design_host("base"), validate_file(without_br1), "c1", prune=True)
    assert bond.ovs.removed_bridges == ("br1",)
    assert [(item.name, item.reason) for item in bond.ifcfg if item.action == "delete"] == [
        (name, "bridge br1 removed") for name in ("ifcfg-br1", "ifcfg-br1-up", "ifcfg-eth0", "ifcfg-eth1")
    ]
    # Without --prune no bridge goes, and no file is deleted.
    kept = plan_from_host(design_host("bridge-added"), design("base"), "c1", prune=False)
    assert (kept.ovs.removed_bridges, [item for item in kept.ifcfg if item.action == "delete"]) == ((), [])
    # The file of a removed bridge that the host does not have is left alone both ways.
    node = write_plan(change, tmp_path / "plan")
    folder = host_folder(tmp_path, "bridge-added")
    (folder / "ifcfg-br2").unlink()
    env = fake_hostname(tmp_path, "c1")
    before = snapshot(folder)
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    assert not (node / "network-scripts.backup" / "absent" / "ifcfg-br2").exists()
    back = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert back.returncode == 0, back.stderr
    assert "ifcfg-br2" not in back.stdout
    assert snapshot(folder) == before
