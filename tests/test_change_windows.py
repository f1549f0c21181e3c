"""Change windows on hosts that are not exactly as the design says: VM taps, settings made by
hand, the wrong host, a drifted one. change.sh and rollback.sh run against a private
ovsdb-server; the database is compared whole (every column of every row) with what it must be.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.changes.plan_folder import render_plan
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.hostdump import load_dump
from generator.render.kinds import render_design
from tests.conftest import SUPPORT, ovsdb_server, require_tool, run
from tests.support.cli import invoke
from tests.support.ovsdb import Ovsdb

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"
NODE = "c1"
VM = {"vm-id": "6b1e0c52-1f0a-4a55-9a9e-3c1c2f4d5e60", "iface-status": "active"}

pytestmark = pytest.mark.consumer


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


def build(ovsdb: Ovsdb, name: str, tmp_path: Path, node: str = NODE) -> None:
    """The node as the design's own apply.sh leaves it."""
    (script,) = [f for f in render_design(design(name), [node], ["ovs"]) if f.name == "apply.sh"]
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"apply-{name}.sh"
    path.write_text(script.text)
    result = run(["bash", str(path), "--apply", "--skip-nic-check"], env=env(ovsdb))
    assert result.returncode == 0, result.stderr


def env(ovsdb: Ovsdb, **extra: str) -> dict[str, str]:
    return {**os.environ, "OVS_VSCTL": ovsdb.vsctl_command, **extra}


def add_vm_tap(ovsdb: Ovsdb, bridge: str, name: str, *columns: str) -> None:
    """A running VM's tap as libvirt adds it: its interface carries the VM's ids."""
    ids = [f"external_ids:{key}={value}" for key, value in VM.items()]
    ids.append("external_ids:attached-mac=52:54:00:12:34:56")
    ovsdb.vsctl("add-port", bridge, name, *columns, "--", "set", "Interface", name, *ids)


def hand_set_bond_options(ovsdb: Ovsdb, bond: str = "br1-up") -> None:
    ovsdb.vsctl(
        "set", "Port", bond, "bond_updelay=30000",
        "other_config:bond-detect-mode=miimon", "other_config:bond-miimon-interval=100",
    )  # fmt: skip


def dump(ovsdb: Ovsdb, tmp_path: Path) -> Path:
    client = require_tool("ovsdb-client")
    text = subprocess.run(
        [client, "dump", "--format=json", f"unix:{ovsdb.socket}", "Open_vSwitch"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = tmp_path / "host.json"
    path.write_text(text)
    return path


def fake_hostname(folder: Path, name: str) -> str:
    """A PATH whose `hostname` says `name`: the scripts' host guard asks it."""
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / "hostname"
    tool.write_text(f"#!/bin/sh\necho {name}\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def script(change: NodeChange, name: str, tmp_path: Path) -> Path:
    files = {file.path: file for file in render_plan([change], "test")}
    path = tmp_path / "plan" / change.node / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(files[f"{change.node}/{name}"].text)
    return path


def run_script(
    change: NodeChange, name: str, ovsdb: Ovsdb, tmp_path: Path, *args: str, host: str = NODE
) -> subprocess.CompletedProcess[str]:
    path = script(change, name, tmp_path)
    options = args or ("--apply",)
    nic_check = ("--skip-nic-check",) if name in ("change.sh", "rollback.sh") else ()  # only OVS looks for NICs
    return run(
        ["bash", str(path), *options, *nic_check],
        env=env(ovsdb, PATH=fake_hostname(tmp_path / "bin", host), NETWORK_SCRIPTS=str(tmp_path / "network-scripts")),
    )


def applied(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def db() -> Iterator[Ovsdb]:
    with ovsdb_server() as server:
        yield server


# --- running VMs ------------------------------------------------------------


def test_change_refuses_to_remove_a_bridge_that_carries_a_vm_tap(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "bridge-added", tmp_path)
    add_vm_tap(db, "br2", "vnet1", "tag=50")
    start = db.rows()
    (change,) = plan_designs(design("bridge-added"), design("base"), (NODE,))
    result = run_script(change, "change.sh", db, tmp_path)
    assert result.returncode == 1
    assert "-Bridge br2 @ports = eth4\n+Bridge br2 @ports = eth4 vnet1" in result.stderr
    assert "nothing was changed" in result.stderr
    assert db.rows() == start
    assert "Applied" not in result.stdout


def host_with_vms(db: Ovsdb, tmp_path: Path, old: str = "base") -> dict[tuple[str, str], dict[str, Any]]:
    """The old design's node, with two VMs on br1 (one a trunk), a hand-made vxlan port and
    hand-set bond options: the live host of the change-window tests."""
    build(db, old, tmp_path)
    add_vm_tap(db, "br1", "vnet1", "tag=40")
    add_vm_tap(db, "br1", "vnet5", "trunks=[32,40]", "vlan_mode=trunk")
    db.vsctl("add-port", "br1", "vx0", "--", "set", "Interface", "vx0", "type=vxlan", "options:remote_ip=192.0.2.7")
    hand_set_bond_options(db)
    db.vsctl("set", "Open_vSwitch", ".", "external_ids:system-id=c1-system-id", "external_ids:hostname=c1.example")
    return db.rows()


def test_prune_leaves_vm_ports_alone_and_says_so(db: Ovsdb, tmp_path: Path) -> None:
    start = host_with_vms(db, tmp_path)
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("base"), NODE, prune=True)
    assert [text for text in change.ovs.left_alone if "vnet" in text] == [
        f"VM port vnet1 on br1 (VM {VM['vm-id']}; plans never remove a VM's tap)",
        f"VM port vnet5 on br1 (VM {VM['vm-id']}; plans never remove a VM's tap)",
    ]
    assert [item.text for item in change.ovs.changes] == ["port vx0 removed from br1"]
    applied(run_script(change, "change.sh", db, tmp_path))
    after = db.rows()
    for row in ("vnet1", "vnet5"):
        assert after[("Port", row)] == start[("Port", row)]
        assert after[("Interface", row)] == start[("Interface", row)]
    assert ("Port", "vx0") not in after
    applied(run_script(change, "rollback.sh", db, tmp_path))
    assert db.rows() == start


def test_prune_removes_a_bridge_ovsgen_built_and_rollback_puts_it_back_whole(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "bridge-added", tmp_path)
    db.vsctl("set", "Bridge", "br2", "fail_mode=secure", "other_config:hwaddr=02:00:00:00:00:02")
    db.vsctl("add-br", "br-hand", "--", "add-port", "br-hand", "eth9")
    start = db.rows()
    host = load_dump(dump(db, tmp_path))
    change = plan_from_host(host, design("base"), NODE, prune=True)
    assert "bridge br2 removed with its ports eth4" in [item.text for item in change.ovs.changes]
    assert (
        "bridge br-hand (not in the design; not built by ovsgen (no external_ids:managed-by=ovsgen), "
        "so --prune leaves it)"
    ) in change.ovs.left_alone
    applied(run_script(change, "change.sh", db, tmp_path))
    assert ("Bridge", "br2") not in db.rows()
    assert ("Bridge", "br-hand") in db.rows()
    applied(run_script(change, "rollback.sh", db, tmp_path))
    assert db.rows() == start
    without_prune = plan_from_host(host, design("base"), NODE, prune=False)
    assert "bridge br2 (not in the design; --prune removes it if ovsgen built it)" in without_prune.ovs.left_alone


def test_prune_leaves_a_bridge_with_vm_taps(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "bridge-added", tmp_path)
    add_vm_tap(db, "br2", "vnet3")
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("base"), NODE, prune=True)
    assert "bridge br2 (not in the design; it carries VM ports vnet3: move those VMs first)" in change.ovs.left_alone
    assert not any("br2" in item.text for item in change.ovs.changes)


# --- rollback restores every column ----------------------------------------


def test_a_pruned_trunk_port_comes_back_whole(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    db.vsctl(
        "add-port", "br1", "span0", "trunks=[10,20]", "vlan_mode=native-untagged", "tag=10",
        "external_ids:owner=netops", "other_config:priority-tags=true",
        "--", "set", "Interface", "span0", "external_ids:note=mirror", "other_config:x=1",
    )  # fmt: skip
    start = db.rows()
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("base"), NODE, prune=True)
    assert [item.text for item in change.ovs.changes] == ["port span0 removed from br1"]
    applied(run_script(change, "change.sh", db, tmp_path))
    applied(run_script(change, "rollback.sh", db, tmp_path))
    assert db.rows() == start


def test_a_rebuilt_bond_keeps_what_the_design_does_not_manage(db: Ovsdb, tmp_path: Path) -> None:
    start = host_with_vms(db, tmp_path)
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("members-swapped"), NODE, prune=False)
    (rebuild,) = [item.text for item in change.ovs.changes if "rebuilt" in item.text]
    assert rebuild == (
        "eth4 joins br1-up; eth1 leaves br1-up (br1-up rebuilt in the same transaction; carried over from the host: "
        "bond_updelay=30000, other_config:bond-detect-mode=miimon, other_config:bond-miimon-interval=100)"
    )
    applied(run_script(change, "change.sh", db, tmp_path))
    bond = db.rows()[("Port", "br1-up")]
    assert bond["bond_updelay"] == 30000
    assert bond["other_config"] == {"bond-detect-mode": "miimon", "bond-miimon-interval": "100"}
    assert bond["interfaces"] == ["eth0", "eth4"]
    applied(run_script(change, "rollback.sh", db, tmp_path))
    assert db.rows() == start


def test_a_design_plan_refuses_to_rebuild_a_bond_whose_hand_set_options_it_would_lose(
    db: Ovsdb, tmp_path: Path
) -> None:
    build(db, "base", tmp_path)
    hand_set_bond_options(db)
    start = db.rows()
    (change,) = plan_designs(design("base"), design("members-swapped"), (NODE,))
    result = run_script(change, "change.sh", db, tmp_path)
    assert result.returncode == 1
    assert "+Port br1-up bond_updelay = 30000" in result.stderr
    assert "nothing was changed" in result.stderr
    assert db.rows() == start


# --- the right host ---------------------------------------------------------


def test_a_plan_from_a_dump_runs_only_on_that_host(db: Ovsdb, tmp_path: Path) -> None:
    host_with_vms(db, tmp_path)
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("mtu-9000"), NODE, prune=False)
    with ovsdb_server() as other:
        build(other, "base", tmp_path)
        other.vsctl("set", "Open_vSwitch", ".", "external_ids:system-id=c2-system-id")
        before = other.rows()
        refused = run_script(change, "change.sh", other, tmp_path)
        assert refused.returncode == 1
        assert "has system-id c2-system-id, not c1-system-id of node c1; nothing was changed" in refused.stderr
        assert other.rows() == before
        checked = run_script(change, "change.sh", other, tmp_path, "--check")
        assert checked.returncode == 1
        assert "not c1-system-id" in checked.stderr
    applied(run_script(change, "change.sh", db, tmp_path, host="anything"))  # the system-id decides


def test_a_plan_from_designs_runs_only_on_the_node_of_its_name(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    start = db.rows()
    (change,) = plan_designs(design("base"), design("mtu-9000"), (NODE,))
    refused = run_script(change, "change.sh", db, tmp_path, host="c2.lab.example")
    assert refused.returncode == 1
    assert "this host is c2.lab.example, not c1; nothing was changed" in refused.stderr
    assert db.rows() == start
    skipped = run_script(change, "change.sh", db, tmp_path, "--apply", "--skip-host-check", host="c2")
    applied(skipped)
    applied(run_script(change, "rollback.sh", db, tmp_path, host="c1.lab.example"))
    assert db.rows() == start


# --- a read-only check ------------------------------------------------------


def test_check_tells_starting_done_and_drifted_apart_and_changes_nothing(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    start = db.rows()
    (change,) = plan_designs(design("base"), design("host-vlan-10"), (NODE,))
    starting = applied(run_script(change, "change.sh", db, tmp_path, "--check"))
    assert "Node c1 is in the starting state; --apply would run:" in starting
    assert "set Port br0 tag=10" in starting
    assert db.rows() == start
    applied(run_script(change, "change.sh", db, tmp_path))
    done = applied(run_script(change, "change.sh", db, tmp_path, "--check"))
    assert done.startswith("No change: node c1 already matches the new design. Read back:\n")
    assert "  Port br0 tag = 10\n" in done
    assert applied(run_script(change, "rollback.sh", db, tmp_path, "--check")).startswith(
        "Node c1 is in the state change.sh leaves"
    )
    db.vsctl("set", "Port", "br0", "tag=99")
    drifted = run_script(change, "change.sh", db, tmp_path, "--check")
    assert drifted.returncode == 1
    assert "node c1 has drifted: it is neither in the starting state nor in the new design" in drifted.stderr
    assert "+Port br0 tag = 99" in drifted.stderr


def test_no_change_on_an_empty_database_says_what_it_read(db: Ovsdb, tmp_path: Path) -> None:
    (change,) = plan_designs(design("bridge-added"), design("base"), (NODE,))
    result = applied(run_script(change, "change.sh", db, tmp_path))
    assert "No change: node c1 already matches the new design. Read back:\n" in result
    assert "  Bridge br2 name = (unset)\n" in result
    assert "  Port eth4 @bridge = (unset)\n" in result


# --- risk notes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "risk"),
    [
        ("base", "mtu-9000", "the MTU of every member of br1-up (eth0, eth1) changes in one transaction"),
        ("host-vlan-10", "host-vlan-20", "the host VLAN of br0 moves (10 -> 20)"),
        ("base", "switch-br0-lacp", "the host bridge's uplink br0-up changes its bond mode or LACP"),
        ("base", "host-vlan-10", "this change touches the host bridge br0"),
    ],
)
def test_plans_flag_where_links_or_management_drop(old: str, new: str, risk: str, tmp_path: Path) -> None:
    (change,) = plan_designs(design(old), design(new), (NODE,))
    files = {file.path: file.text for file in render_plan([change], "test")}
    assert any(note.startswith(risk) for note in change.ovs.risks)
    assert f"> **Risk:** {risk}" in files["plan.md"]
    assert f"# RISK: {risk}" in files["c1/change.sh"]


def test_a_change_away_from_the_host_bridge_carries_no_risk_note() -> None:
    (change,) = plan_designs(design("base"), design("internal-port-added"), (NODE,))
    assert change.ovs.risks == ()


# --- the ten edits of a change window, from designs and from a live host ----------------

# (old design, new design, node): the edit kinds a change window brings.
EDITS = {
    "VLAN added": ("base", "switch-vlan-35", NODE),
    "host VLAN moved": ("host-vlan-10", "host-vlan-20", NODE),
    "active-backup to LACP": ("base", "switch-br0-lacp", NODE),
    "bond members swapped": ("base", "members-swapped", NODE),
    "internal port added": ("base", "internal-port-added", NODE),
    "MTU 1500 to 9000": ("base", "mtu-9000", NODE),
    "node added": ("base", "node-added", "c3"),
    "bridge removed": ("bridge-added", "base", NODE),
    "network renamed": ("base", "networks-changed", NODE),
    "trunk changed": ("trunk-base", "trunk-changed", NODE),
}
# Columns a plan from a host dump carries over onto br1-up (hand_set_bond_options).
CARRIED = {"bond_updelay": 30000, "other_config": {"bond-detect-mode": "miimon", "bond-miimon-interval": "100"}}


def live_host(db: Ovsdb, old: str, node: str, tmp_path: Path, *, hand_set: bool) -> None:
    """The old design's node as its apply.sh left it, with running VMs on br1 and (`hand_set`)
    bond options set by hand. A node new in the design has nothing yet."""
    if node != NODE:
        return
    build(db, old, tmp_path)
    add_vm_tap(db, "br1", "vnet1", "tag=40")
    add_vm_tap(db, "br1", "vnet5", "trunks=[32,40]", "vlan_mode=trunk")
    if hand_set:
        hand_set_bond_options(db)


def reference_rows(new: str, node: str, tmp_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The new design's rows as its own apply.sh builds them on an empty database."""
    with ovsdb_server() as fresh:
        build(fresh, new, tmp_path / "reference", node)
        return fresh.rows()


def expected_after(
    start: dict[tuple[str, str], dict[str, Any]],
    reference: dict[tuple[str, str], dict[str, Any]],
    *,
    carried: bool,
) -> dict[tuple[str, str], dict[str, Any]]:
    """The new design's rows, with what a plan from a dump carries over, and the VMs' rows as they were."""
    expected = dict(reference)
    if carried and ("Port", "br1-up") in expected and ("Port", "br1-up") in start:
        bond = dict(expected[("Port", "br1-up")])
        bond["bond_updelay"] = CARRIED["bond_updelay"]
        bond["other_config"] = {**(bond["other_config"] or {}), **CARRIED["other_config"]}
        expected[("Port", "br1-up")] = bond
    for key, row in start.items():
        if key[1].startswith("vnet"):
            expected[key] = row
    if ("Bridge", "br1") in expected and any(key[1].startswith("vnet") for key in start):
        bridge = dict(expected[("Bridge", "br1")])
        bridge["ports"] = sorted([*bridge["ports"], "vnet1", "vnet5"])
        expected[("Bridge", "br1")] = bridge
    return expected


@pytest.mark.parametrize("source", ["design", "host dump"])
@pytest.mark.parametrize("edit", list(EDITS))
def test_each_edit_reaches_the_new_design_and_rolls_back_whole(
    db: Ovsdb, tmp_path: Path, edit: str, source: str
) -> None:
    old, new, node = EDITS[edit]
    from_dump = source == "host dump"
    live_host(db, old, node, tmp_path, hand_set=from_dump)
    start = db.rows()
    if from_dump:
        change = plan_from_host(load_dump(dump(db, tmp_path)), design(new), node, prune=edit == "bridge removed")
    else:
        (change,) = plan_designs(design(old), design(new), (node,))
    if not change.ovs.changes:
        assert edit in ("VLAN added", "network renamed", "trunk changed")  # libvirt only
        return
    assert "is in the starting state; --apply would run" in applied(
        run_script(change, "change.sh", db, tmp_path, "--check", host=node)
    )
    assert "Applied and verified" in applied(run_script(change, "change.sh", db, tmp_path, host=node))
    assert db.rows() == expected_after(start, reference_rows(new, node, tmp_path), carried=from_dump)
    assert applied(run_script(change, "change.sh", db, tmp_path, "--check", host=node)).startswith("No change")
    assert "Applied and verified" in applied(run_script(change, "rollback.sh", db, tmp_path, host=node))
    assert db.rows() == start


def test_apply_check_reads_the_host_and_changes_nothing(db: Ovsdb, tmp_path: Path) -> None:
    (apply,) = [f for f in render_design(design("base"), [NODE], ["ovs"]) if f.name == "apply.sh"]
    path = tmp_path / "apply.sh"
    path.write_text(apply.text)
    before = db.rows()
    missing = run(["bash", str(path), "--check", "--skip-nic-check"], env=env(db))
    assert missing.returncode == 1
    assert "apply.sh: node c1 differs from the design; --apply would change:" in missing.stderr
    assert "+Bridge br0 external_ids:managed-by = (unset)" in missing.stderr
    assert db.rows() == before
    build(db, "base", tmp_path)
    done = run(["bash", str(path), "--check", "--skip-nic-check"], env=env(db))
    assert (done.returncode, done.stdout) == (0, "No change: node c1 already matches the design.\n")


def test_the_file_scripts_of_a_dump_plan_insist_on_the_host_name_the_dump_recorded(db: Ovsdb, tmp_path: Path) -> None:
    host_with_vms(db, tmp_path)  # its Open_vSwitch row says hostname=c1.example
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("base"), NODE, prune=False)
    assert change.expected_hostname == "c1.example"
    folder = tmp_path / "network-scripts"
    folder.mkdir()
    for host, code in (("c1", 0), ("c1.example", 0), ("c2.example", 1)):
        result = run_script(change, "ifcfg-change.sh", db, tmp_path, "--check", host=host)
        assert result.returncode == code, result.stderr
    refused = run_script(change, "ifcfg-change.sh", db, tmp_path, "--check", host="c2.example")
    assert "ifcfg-change.sh: this host is c2.example, not c1.example; nothing was changed" in refused.stderr


def test_the_ifcfg_files_of_a_dump_plan_rebuild_what_change_sh_kept(db: Ovsdb, tmp_path: Path) -> None:
    """At the next boot ifup-ovs rebuilds the bridges from the files: they must hold the settings
    made by hand that change.sh carried over, or the reboot would lose them."""
    host_with_vms(db, tmp_path)
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("members-swapped"), NODE, prune=False)
    applied(run_script(change, "change.sh", db, tmp_path))
    after = db.rows()
    folder = tmp_path / "ifcfg"
    folder.mkdir()
    for item in change.ifcfg:
        assert item.file is not None
        (folder / item.name).write_text(item.file.text)
    with ovsdb_server() as boot:
        result = run(["bash", str(SUPPORT / "ifup_ovs.sh"), str(folder)], env=env(boot))
        assert result.returncode == 0, result.stderr
        booted = boot.rows()
    assert booted[("Port", "br1-up")]["bond_updelay"] == 30000
    assert booted[("Port", "br1-up")]["other_config"]["bond-detect-mode"] == "miimon"
    for key, row in booted.items():
        expected = after[key]
        if key[0] == "Bridge":  # the VMs' taps and the hand-made port are not the files' business
            expected = {**expected, "ports": [p for p in expected["ports"] if not p.startswith(("vnet", "vx"))]}
        assert row == expected, key


# --- what no rollback could put back ---------------------------------------------------


def add_mirror_and_qos(db: Ovsdb, port: str = "br1-up") -> None:
    db.vsctl(
        "--", "--id=@p", "get", "Port", port,
        "--", "--id=@m", "create", "Mirror", "name=span1", "select_src_port=@p",
        "--", "add", "Bridge", "br1", "mirrors", "@m",
    )  # fmt: skip
    db.vsctl("--", "set", "Port", port, "qos=@q", "--", "--id=@q", "create", "QoS", "type=linux-htb")


def test_a_dump_plan_refuses_to_rebuild_a_bond_a_mirror_or_qos_uses(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    add_mirror_and_qos(db)
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("members-swapped"), NODE, prune=False)
    assert change.ovs.blocked == (
        "br1-up must be rebuilt (eth4 joins br1-up; eth1 leaves br1-up), but it has qos, mirror span1, which a "
        "rollback could not put back: remove them on the host first (and add them again after the window), "
        "or leave this change out",
    )


def test_a_design_plan_refuses_to_rebuild_a_bond_a_mirror_uses(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    add_mirror_and_qos(db)
    start = db.rows()
    (change,) = plan_designs(design("base"), design("members-swapped"), (NODE,))
    result = run_script(change, "change.sh", db, tmp_path)
    assert result.returncode == 1
    assert "+Port br1-up @mirrors = span1" in result.stderr
    assert "+Port br1-up qos = " in result.stderr
    assert "plan from this host's dump instead (ovsgen plan --from-host)" in result.stderr
    assert db.rows() == start


def test_prune_leaves_ports_a_rollback_could_not_restore_and_taps_named_by_libvirt(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    db.vsctl("add-port", "br1", "vnet3", "tag=40")  # a tap whose interface lost libvirt's ids
    db.vsctl("add-port", "br1", "span-out")
    add_mirror_and_qos(db, "span-out")
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("base"), NODE, prune=True)
    assert sorted(change.ovs.left_alone) == [
        "VM port vnet3 on br1 (named like a libvirt tap; plans never remove a VM's tap)",
        "port span-out on br1 (it has qos, mirror span1: a rollback could not put them back)",
    ]
    assert change.ovs.changes == ()


def test_interface_settings_come_back_with_a_rebuilt_bond(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    db.vsctl("set", "Interface", "eth1", "ingress_policing_rate=1000", "ingress_policing_burst=100", "ofport_request=7")
    db.vsctl("set", "Interface", "eth0", "lldp:enable=true", "bfd:enable=false")
    start = db.rows()
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("members-swapped"), NODE, prune=False)
    applied(run_script(change, "change.sh", db, tmp_path))
    assert db.rows()[("Interface", "eth0")]["lldp"] == {"enable": "true"}
    applied(run_script(change, "rollback.sh", db, tmp_path))
    assert db.rows() == start


def test_a_vm_plugged_into_a_bridge_after_planning_is_named_when_change_refuses(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "bridge-added", tmp_path)
    (change,) = plan_designs(design("bridge-added"), design("base"), (NODE,))
    add_vm_tap(db, "br2", "vnet7")
    result = run_script(change, "change.sh", db, tmp_path)
    assert result.returncode == 1
    assert (
        f"change.sh: bridge br2 holds port vnet7 of VM {VM['vm-id']}, which this plan does not know: "
        "move it off the bridge (or stop its VM) first"
    ) in result.stderr


def test_a_design_plan_refuses_a_database_of_another_host(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    db.vsctl("set", "Open_vSwitch", ".", "external_ids:hostname=c2.lab.example")
    (change,) = plan_designs(design("base"), design("mtu-9000"), (NODE,))
    result = run_script(change, "change.sh", db, tmp_path, "--check")
    assert result.returncode == 1
    assert "this Open vSwitch database belongs to host c2.lab.example, not c1; nothing was changed" in result.stderr
    db.vsctl("set", "Open_vSwitch", ".", "external_ids:hostname=c1.lab.example")
    assert "is in the starting state" in applied(run_script(change, "change.sh", db, tmp_path, "--check"))


def test_ovsgen_plan_writes_nothing_for_a_step_no_rollback_could_undo(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    add_mirror_and_qos(db)
    host = dump(db, tmp_path)
    out = tmp_path / "plan"
    result = invoke(
        "plan", "--from-host", str(host), str(CHANGES / "members-swapped.yaml"), "--node", NODE, "-o", str(out)
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        "ovsgen: node c1: br1-up must be rebuilt (eth4 joins br1-up; eth1 leaves br1-up), but it has qos, mirror "
        "span1, which a rollback could not put back: remove them on the host first (and add them again after the "
        "window), or leave this change out",
        "ovsgen: nothing was written",
    ]
    assert not out.exists()


def test_a_requested_mac_on_a_bond_member_blocks_its_rebuild(db: Ovsdb, tmp_path: Path) -> None:
    build(db, "base", tmp_path)
    db.vsctl("set", "Interface", "eth0", 'mac="02:00:00:00:00:01"')
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("members-swapped"), NODE, prune=False)
    assert "but it has the MAC requested for eth0, which a rollback could not put back" in change.ovs.blocked[0]
    (between,) = plan_designs(design("base"), design("members-swapped"), (NODE,))
    result = run_script(between, "change.sh", db, tmp_path)
    assert result.returncode == 1
    assert "+Interface eth0 mac = 02:00:00:00:00:01" in result.stderr


def test_the_switch_keeps_the_vlans_of_the_vms_a_dump_plan_leaves_running(db: Ovsdb, tmp_path: Path) -> None:
    """vnet1 (VLAN 40) and vnet5 (trunk 32, 40) stay on br1; the new design needs 33 and 41 there."""
    host_with_vms(db, tmp_path)
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("networks-changed"), NODE, prune=False)
    allowed = {port.label: [s.text for s in port.steps if s.text.startswith("allow")] for port in change.switch_ports}
    expected = ["allow VLANs 32-33, 40-41 (a host dump does not show which VLANs the switch allows)"]
    assert allowed["c1 eth0 (switch port unknown)"] == allowed["c1 eth1 (switch port unknown)"] == expected


def test_a_host_bond_without_a_bond_mode_rolls_back_to_none(db: Ovsdb, tmp_path: Path) -> None:
    """`ovs-vsctl add-bond` sets no bond_mode: rollback must clear it again, not set `None`."""
    db.vsctl("add-br", "br1", "--", "add-bond", "br1", "br1-up", "eth0", "eth1")
    start = db.rows()
    change = plan_from_host(load_dump(dump(db, tmp_path)), design("base"), NODE, prune=False)
    applied(run_script(change, "change.sh", db, tmp_path))
    assert db.rows()[("Port", "br1-up")]["bond_mode"] == "balance-slb"
    assert ("clear", "Port", "br1-up", "bond_mode") in change.ovs_rollback.commands
    applied(run_script(change, "rollback.sh", db, tmp_path))
    assert db.rows() == start
