"""A plan's NetworkManager layer, run against a real NetworkManager with OVS support.

Each test starts a private NetworkManager (tests.support.networkmanager: its own namespaces,
dbus-daemon, ovsdb-server and ovs-vswitchd on the userspace datapath, veth pairs as the NICs),
puts the host in the old design's state the way that host's backend would, runs the plan's
scripts in the order plan.md gives, and compares the database with what the new design's
ovs/apply.sh builds on an empty one; then the rollback, and the old design's database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from generator.changes.nm_changes import TO_NM
from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.changes.plan_folder import render_plan
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.hostdump import parse_dump
from generator.ovs.state import EMPTY
from generator.render.kinds import render_design
from tests.conftest import ovsdb_server, require_tool, run
from tests.support.cli import invoke
from tests.support.networkmanager import (
    PrivateNetworkManager,
    Rows,
    as_apply_writes,
    comparable,
    on_netdev,
    ovs_networkmanager,
    private_networkmanager,
    settled,
)
from tests.test_hardening import SHELLCHECK_EXCLUDED

pytestmark = pytest.mark.consumer

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


def write_plan(change: NodeChange, where: Path) -> Path:
    """The node's plan folder as `ovsgen plan` writes it, its keyfiles on the userspace datapath."""
    for file in render_plan([change], "test"):
        path = where / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(on_netdev(file.text) if path.suffix == ".nmconnection" else file.text)
        path.chmod(0o755 if file.executable else 0o644)
    return where / change.node


def rendered(valid: ValidDesign, node: str, kind: str) -> dict[str, str]:
    return {file.name: file.text for file in render_design(valid, [node], [kind])}


def apply_rows(valid: ValidDesign, node: str, tmp_path: Path) -> Rows:
    """What the node's ovs/apply.sh builds on an empty private database."""
    script = tmp_path / f"apply-{valid.design.name}-{node}.sh"
    script.write_text(rendered(valid, node, "ovs")["apply.sh"])
    with ovsdb_server() as database:
        env = {**os.environ, "OVS_VSCTL": database.vsctl_command}
        result = run(["bash", str(script), "--apply", "--skip-nic-check"], env=env)
        assert result.returncode == 0, result.stderr
        return database.rows()


def nics(valid: ValidDesign, node: str) -> list[tuple[str, str | None]]:
    layout = next(layout for layout in valid.layouts if layout.node.name == node)
    return [(nic.name, nic.mac) for nic in layout.node.nics]


def install_keyfiles(nm: PrivateNetworkManager, valid: ValidDesign, node: str) -> list[str]:
    """The node's keyfiles of `valid` in the daemon's folder, loaded; their UUIDs."""
    for name, text in rendered(valid, node, "networkmanager").items():
        if name.endswith(".nmconnection"):
            path = nm.keyfiles / name
            path.write_text(on_netdev(text))
            path.chmod(0o600)
    nm.checked("nmcli", "connection", "load", *(str(path) for path in sorted(nm.keyfiles.iterdir())))
    return nm.uuids()


def script(nm: PrivateNetworkManager, folder: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A plan script run in the daemon's namespaces (its nmcli, its sysfs), on its database."""
    assert nm.ovsdb is not None
    env = [
        f"NM_KEYFILE_DIR={nm.keyfiles}",
        f"OVS_VSCTL={nm.ovsdb.vsctl_command}",
        f"NETWORK_SCRIPTS={folder.parent / 'network-scripts'}",
        "NM_WAIT=30",
    ]
    return nm.run("env", *env, "bash", str(folder / name), *args, "--skip-host-check")


def applied(nm: PrivateNetworkManager, folder: Path, name: str, *args: str) -> str:
    result = script(nm, folder, name, "--apply", *args)
    assert result.returncode == 0, f"{name}: {result.stdout}\n{result.stderr}\n{nm.log_tail()}"
    return result.stdout


def database_as(nm: PrivateNetworkManager, want: Rows) -> Rows:
    """The daemon's database once it settles on `want` (or after a while), in apply.sh's form."""
    assert nm.ovsdb is not None
    database = nm.ovsdb
    return settled(lambda: comparable(as_apply_writes(database.rows(), want)), comparable(want), timeout=20)


def test_keyfile_change_and_rollback_on_a_networkmanager_node(tmp_path: Path) -> None:
    old, new = design("nm-base"), design("nm-changed")
    (change,) = plan_designs(old, new, ("c1",))
    folder = write_plan(change, tmp_path / "plan")
    old_rows, new_rows = apply_rows(old, "c1", tmp_path), apply_rows(new, "c1", tmp_path)
    with private_networkmanager(ovs_networkmanager(), nics(old, "c1"), ovs=True) as nm:
        nm.wait_active(install_keyfiles(nm, old, "c1"), timeout=60)
        assert database_as(nm, old_rows) == comparable(old_rows)
        vm_tap(nm, "br1")  # a running VM on the bridge whose port and NICs change
        for name in ("change.sh", "nm-change.sh"):
            applied(nm, folder, name)
        assert tap_in_place(nm, "br1")
        assert database_as(nm, new_rows) == comparable(new_rows)
        assert nm.addresses("br0") == ["10.30.0.11/24"]
        assert nm.addresses("migr0") == ["172.16.40.11/24"]
        vm_tap(nm, "br1")
        for name in ("rollback.sh", "nm-rollback.sh"):
            applied(nm, folder, name)
        assert tap_in_place(nm, "br1")
        assert database_as(nm, old_rows) == comparable(old_rows)


TAP = "vnet0"


def vm_tap(nm: PrivateNetworkManager, bridge: str) -> None:
    """A VM's port as libvirt plugs it in: a port of its own with the VM's id on its interface."""
    assert nm.ovsdb is not None
    nm.ovsdb.vsctl("add-port", bridge, TAP, "--", "set", "Interface", TAP, "type=internal", "external_ids:vm-id=vm1")


def tap_in_place(nm: PrivateNetworkManager, bridge: str) -> bool:
    """Whether the VM's port is still on `bridge` with its VM's id; then takes it out, so that the
    database compares with the design's."""
    assert nm.ovsdb is not None
    there = TAP in nm.ovsdb.vsctl("list-ports", bridge).split()
    vm = nm.ovsdb.vsctl("--if-exists", "get", "Interface", TAP, "external_ids:vm-id").strip() if there else ""
    nm.ovsdb.vsctl("--if-exists", "del-port", TAP)
    return (there and vm == '"vm1"') or vm == "vm1"


def build_with_ifup(nm: PrivateNetworkManager, valid: ValidDesign, node: str, tmp_path: Path) -> None:
    """The node's bridges as ifup-ovs builds them from its ifcfg files: the rows of its ovs/apply.sh
    (the ifcfg tests show the two build the same), here on the userspace datapath."""
    assert nm.ovsdb is not None
    script = tmp_path / f"ifup-{valid.design.name}-{node}.sh"
    script.write_text(rendered(valid, node, "ovs")["apply.sh"])
    nm.checked("env", f"OVS_VSCTL={nm.ovsdb.vsctl_command}", "bash", str(script), "--apply", "--skip-nic-check")
    for bridge in nm.ovsdb.vsctl("list-br").split():
        nm.ovsdb.vsctl("set", "Bridge", bridge, "datapath_type=netdev")


INSTALLER = "1f0e5a4c-0000-4000-8000-0000000000aa"


def install_installer_profile(nm: PrivateNetworkManager, nic: str) -> str:
    """A profile like the one a RHEL installer leaves for a NIC, loaded; its UUID."""
    path = nm.keyfiles / f"{nic}.nmconnection"
    path.write_text(
        f"[connection]\nid={nic}\nuuid={INSTALLER}\ntype=ethernet\ninterface-name={nic}\n\n"
        "[ipv4]\nmethod=disabled\n\n[ipv6]\nmethod=ignore\n"
    )
    path.chmod(0o600)
    nm.checked("nmcli", "connection", "load", str(path))
    return INSTALLER


def host_ifcfg(valid: ValidDesign, node: str, folder: Path) -> None:
    folder.mkdir()
    for name, text in rendered(valid, node, "ifcfg").items():
        (folder / name).write_text(text)


def test_cutover_from_ifcfg_to_networkmanager_and_back(tmp_path: Path) -> None:
    """plan.md's steps for a node moving from its ifcfg files to NetworkManager, in its order, then
    its way back; ifup is the old design's ovs/apply.sh."""
    old, new = design("nm-base"), design("nm-cutover")
    (change,) = plan_designs(old, new, ("c2",))
    folder = write_plan(change, tmp_path / "plan")
    scripts = tmp_path / "plan" / "network-scripts"
    host_ifcfg(old, "c2", scripts)
    old_rows = apply_rows(old, "c2", tmp_path)
    with private_networkmanager(ovs_networkmanager(), nics(old, "c2"), ovs=True) as nm:
        assert nm.ovsdb is not None
        build_with_ifup(nm, old, "c2", tmp_path)
        assert database_as(nm, old_rows) == comparable(old_rows)
        installer = install_installer_profile(nm, "eth2")  # left by the RHEL installer
        refused = script(nm, folder, "nm-change.sh", "--apply", "--no-activate")
        assert refused.returncode == 1
        assert f"  {installer} (eth2, eth2)" in refused.stderr.splitlines()
        assert sorted(path.name for path in nm.keyfiles.iterdir()) == ["eth2.nmconnection"]  # nothing installed
        applied(nm, folder, "nm-change.sh", "--no-activate", "--disable-other-profiles")
        early = script(nm, folder, "nm-change.sh", "--apply")  # the ifcfg files still hold the devices
        assert early.returncode == 1
        assert "these ifcfg files still keep NetworkManager off the devices" in early.stderr
        assert sorted(early.stderr.split("devices:\n")[1].split("\n")[:-2]) == sorted(
            path.name for path in scripts.iterdir()
        )
        applied(nm, folder, "ifcfg-change.sh")
        assert sorted(scripts.iterdir()) == []
        for bridge in nm_bridges(change):
            nm.ovsdb.vsctl("del-br", bridge)
        applied(nm, folder, "nm-change.sh", "--disable-other-profiles")
        assert nm.get(installer, ["connection.autoconnect"]) == {"connection.autoconnect": "no"}
        assert database_as(nm, old_rows) == comparable(old_rows)  # the same design: the same rows
        assert nm.addresses("br0") == ["10.30.0.12/24"]
        # The way back: ifcfg files, then NetworkManager lets go, then ifup.
        early = script(nm, folder, "nm-rollback.sh", "--apply")  # no ifcfg files to take the devices back
        assert early.returncode == 1
        assert "must be in" in early.stderr
        assert len(nm.uuids()) == len(change.nm.keyfiles) + 1  # nothing was deleted (+1: the installer's)
        applied(nm, folder, "ifcfg-rollback.sh")
        applied(nm, folder, "nm-rollback.sh")
        assert nm.uuids() == [installer]  # kept, with autoconnect off
        build_with_ifup(nm, old, "c2", tmp_path)
        assert database_as(nm, old_rows) == comparable(old_rows)
        assert not any(key.startswith("NM.") for row in nm.ovsdb.rows().values() for key in row["external_ids"] or {})


def nm_bridges(change: NodeChange) -> list[str]:
    return change.nm.bridges


def test_cutover_from_networkmanager_to_ifcfg_and_back(tmp_path: Path) -> None:
    """The other way: NetworkManager lets go, the ifcfg files come, ifup builds; and back."""
    old, new = design("nm-cutover"), design("nm-base")
    (change,) = plan_designs(old, new, ("c2",))
    folder = write_plan(change, tmp_path / "plan")
    scripts = tmp_path / "plan" / "network-scripts"
    scripts.mkdir()
    rows = apply_rows(old, "c2", tmp_path)  # the same bridges either way
    with private_networkmanager(ovs_networkmanager(), nics(old, "c2"), ovs=True) as nm:
        assert nm.ovsdb is not None
        nm.wait_active(install_keyfiles(nm, old, "c2"), timeout=60)
        early = script(nm, folder, "nm-change.sh", "--apply")  # no ifcfg files to take the devices yet
        assert (early.returncode, len(nm.uuids())) == (1, len(change.nm.keyfiles))
        applied(nm, folder, "ifcfg-change.sh")
        applied(nm, folder, "nm-change.sh")
        assert nm.uuids() == []
        assert nm.ovsdb.vsctl("list-br").split() == []  # NetworkManager removed what it built
        build_with_ifup(nm, new, "c2", tmp_path)
        assert database_as(nm, rows) == comparable(rows)
        assert sorted(path.name for path in scripts.iterdir()) == sorted(rendered(new, "c2", "ifcfg"))
        # The way back: keyfiles loaded, ifcfg files gone, the bridges deleted, then activation.
        applied(nm, folder, "nm-rollback.sh", "--no-activate")
        applied(nm, folder, "ifcfg-rollback.sh")
        for bridge in change.nm.bridges:
            nm.ovsdb.vsctl("del-br", bridge)
        applied(nm, folder, "nm-rollback.sh")
        assert database_as(nm, rows) == comparable(rows)
        assert nm.addresses("br0") == ["10.30.0.12/24"]


def test_plan_from_a_host_networkmanager_built(tmp_path: Path) -> None:
    """A dump of a host NetworkManager built: no backend change; nm-change.sh replaces the host's
    keyfiles after saving them, and nm-rollback.sh puts them back."""
    old, new = design("nm-base"), design("nm-changed")
    old_rows, new_rows = apply_rows(old, "c1", tmp_path), apply_rows(new, "c1", tmp_path)
    with private_networkmanager(ovs_networkmanager(), nics(old, "c1"), ovs=True) as nm:
        nm.wait_active(install_keyfiles(nm, old, "c1"), timeout=60)
        assert database_as(nm, old_rows) == comparable(old_rows)
        change = plan_from_host(parse_dump(nm.ovsdb_json(), "host.json"), new, "c1", prune=False)
        assert change.nm.cutover == ""
        assert not [item for item in change.ifcfg if item.action == "delete"]
        assert {item.action for item in change.nm.keyfiles} == {"add"}
        folder = write_plan(change, tmp_path / "plan")
        before = {path.name: path.read_bytes() for path in nm.keyfiles.iterdir()}
        for name in ("change.sh", "nm-change.sh"):
            applied(nm, folder, name)
        assert database_as(nm, new_rows) == comparable(new_rows)
        for name in ("rollback.sh", "nm-rollback.sh"):
            applied(nm, folder, name)
        assert database_as(nm, old_rows) == comparable(old_rows)
        assert {path.name: path.read_bytes() for path in nm.keyfiles.iterdir()} == before


def test_plan_from_a_host_ifup_built_is_a_cutover(tmp_path: Path) -> None:
    old, new = design("nm-base"), design("nm-cutover")
    with private_networkmanager(ovs_networkmanager(), nics(old, "c2"), ovs=True) as nm:
        build_with_ifup(nm, old, "c2", tmp_path)
        change = plan_from_host(parse_dump(nm.ovsdb_json(), "host.json"), new, "c2", prune=False)
    assert change.nm.cutover == TO_NM
    deleted = sorted(item.name for item in change.ifcfg if item.action == "delete")
    assert deleted == sorted(rendered(old, "c2", "ifcfg"))


@pytest.mark.parametrize(("new", "node"), [("nm-changed", "c1"), ("nm-cutover", "c2")])
def test_plan_md_and_scripts(new: str, node: str, snapshot: SnapshotAssertion, tmp_path: Path) -> None:
    """plan.md and the NetworkManager scripts, pinned: what reviewers read and hosts run."""
    shutil.copy(CHANGES / "nm-base.yaml", tmp_path / "old.yaml")
    shutil.copy(CHANGES / f"{new}.yaml", tmp_path / "new.yaml")
    result = invoke("plan", "old.yaml", "new.yaml", "--node", node, "-o", "plan", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "plan"
    assert (folder / "plan.md").read_text() == snapshot(name="plan.md")
    for name in ("nm-change.sh", "nm-rollback.sh"):
        assert (folder / node / name).read_text() == snapshot(name=name)


def test_nm_plan_scripts_are_shellcheck_clean(tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck")
    base = design("nm-base")
    changes = [
        *plan_designs(base, design("nm-changed"), ("c1",)),
        *plan_designs(base, design("nm-cutover"), ("c2",)),
        *plan_designs(design("nm-cutover"), base, ("c2",)),  # back to ifcfg files
        plan_from_host(EMPTY, design("nm-changed"), "c1", prune=False),
    ]
    paths = []
    for number, change in enumerate(changes):
        paths += [str(path) for path in write_plan(change, tmp_path / str(number)).glob("nm-*.sh")]
    assert len(paths) == 2 * len(changes)
    result = run([shellcheck, "--shell=bash", "--enable=all", f"--exclude={SHELLCHECK_EXCLUDED}", *paths])
    assert result.returncode == 0, result.stdout


def test_a_plan_folder_with_keyfiles_is_replaced_by_a_new_plan_until_nm_change_saved_a_backup(tmp_path: Path) -> None:
    shutil.copy(CHANGES / "nm-base.yaml", tmp_path / "old.yaml")
    shutil.copy(CHANGES / "nm-changed.yaml", tmp_path / "new.yaml")
    first = invoke("plan", "old.yaml", "new.yaml", "-o", "plan", cwd=tmp_path)
    assert first.exit_code == 0, first.stderr
    node = tmp_path / "plan" / "c1"
    assert {path.name for path in node.iterdir()} >= {"nm-change.sh", "system-connections", "system-connections.old"}
    again = invoke("plan", "old.yaml", "new.yaml", "-o", "plan", cwd=tmp_path)  # re-plan rather than edit
    assert again.exit_code == 0, again.stderr
    (node / "system-connections.backup" / "files").mkdir(parents=True)  # what nm-change.sh --apply leaves
    refused = invoke("plan", "old.yaml", "new.yaml", "-o", "plan", cwd=tmp_path)
    assert refused.exit_code == 1
    assert (
        "ovsgen: plan/c1/system-connections.backup holds the host's keyfiles saved by nm-change.sh --apply: "
        "rollback needs them\n"
    ) in refused.stderr
    assert (node / "system-connections.backup" / "files").is_dir()
