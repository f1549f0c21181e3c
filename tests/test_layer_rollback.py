"""The ifcfg and libvirt layers of a plan: change and exact rollback, run by bash against a
folder of ifcfg files and against `virsh -c test:///default` (tests/support/virsh_replay.sh)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from generator.changes import NodeChange, plan_designs, plan_from_host, without_header
from generator.ovsstate import EMPTY
from generator.pipeline import ValidDesign, validate_file
from generator.render import render_design
from generator.render.plan_files import describe_files, describe_networks, render_plan
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


def test_ifcfg_change_keeps_the_first_backup(tmp_path: Path) -> None:
    node = write_plan(node_change("base", "member-added"), tmp_path / "plan")
    folder = host_folder(tmp_path, "base")
    env = fake_hostname(tmp_path, "c1")
    before = snapshot(folder)
    assert ifcfg(node / "ifcfg-change.sh", folder, env, "--apply").returncode == 0
    assert ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply").returncode == 0
    (folder / "ifcfg-br1-up").write_text("# edited after the rollback, then changed again\n")
    saved = (node / "network-scripts.backup" / "files" / "ifcfg-br1-up").read_bytes()
    refused = ifcfg(node / "ifcfg-change.sh", folder, env, "--apply")
    assert refused.returncode == 1  # the edit is drift: the backup is not even touched
    assert (node / "network-scripts.backup" / "files" / "ifcfg-br1-up").read_bytes() == saved
    assert saved == before["ifcfg-br1-up"][0]


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
    refused = ifcfg(node / "ifcfg-rollback.sh", folder, env, "--apply")
    assert refused.returncode == 1
    assert "no backup" in refused.stderr
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

    back = libvirt(node / "libvirt-rollback.sh", env, "--apply")
    assert back.returncode == 0, back.stderr
    assert networks(env) == design_networks("base")
    autostart = run([REPLAY, "net-list", "--autostart", "--name"], env=env).stdout.split()
    assert sorted(autostart) == ["vm-vlan32", "vm-vlan40"]

    # Without the backup, rollback goes back to the old design's definitions.
    assert libvirt(node / "libvirt-change.sh", env, "--apply").returncode == 0
    for path in (node / "libvirt.backup").iterdir():
        path.unlink()
    (node / "libvirt.backup").rmdir()
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
    assert "no backup" in refused.stderr
    applied = libvirt(node / "libvirt-change.sh", env, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert networks(env) == {**design_networks("networks-changed"), "vm-vlan32": before["vm-vlan32"]}
    back = libvirt(node / "libvirt-rollback.sh", env, "--apply")
    assert back.returncode == 0, back.stderr
    assert networks(env) == before


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
