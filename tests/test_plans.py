"""Change plans: minimal steps, rehearsed with their rollbacks against a real ovsdb-server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from generator.changes.node_changes import plan_designs, plan_from_host
from generator.changes.plan_folder import render_plan
from generator.changes.rehearse import rehearse
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.hostdump import load_dump
from tests.conftest import require_tool, run
from tests.support.ovsdb import Ovsdb

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


def change_texts(old: str, new: str, node: str = "c1") -> list[str]:
    (change,) = plan_designs(design(old), design(new), (node,))
    return [item.text for item in change.ovs.changes]


def transaction(old: str, new: str, node: str = "c1") -> list[tuple[str, ...]]:
    (change,) = plan_designs(design(old), design(new), (node,))
    return change.ovs.commands


# (old, new, node, the changes in plain words): every kind of change, both ways.
PAIRS = [
    ("base", "lacp-on", "c1", ["br1-up: bond_mode balance-slb -> balance-tcp, LACP active fast with fallback"]),
    ("lacp-on", "base", "c1", ["br1-up: bond_mode balance-tcp -> balance-slb, LACP off"]),
    ("base", "member-added", "c1", ["eth4 joins br1-up (br1-up rebuilt in the same transaction)"]),
    ("member-added", "base", "c2", ["eth4 leaves br1-up (br1-up rebuilt in the same transaction)"]),
    ("base", "bridge-added", "c1", ["bridge br2 added", "uplink eth4 added on br2"]),
    ("bridge-added", "base", "c1", ["bridge br2 removed with its ports eth4"]),
    # A new LACP bond: its other_config is read back in the database's (key) order, not the design's.
    (
        "base",
        "lacp-bridge-added",
        "c1",
        ["bridge br2 added", "bond br2-up added on br2: eth4, eth5 (balance-tcp, LACP active fast with fallback)"],
    ),
    ("lacp-bridge-added", "base", "c2", ["bridge br2 removed with its ports br2-up"]),
    ("base", "host-vlan-10", "c1", ["br0 host port: VLAN untagged -> 10"]),
    ("host-vlan-10", "host-vlan-20", "c2", ["br0 host port: VLAN 10 -> 20"]),
    ("host-vlan-20", "base", "c1", ["br0 host port: VLAN 20 -> untagged"]),
    ("base", "internal-port-added", "c1", ["internal port storage0 added on br1 (VLAN 50)"]),
    ("internal-port-added", "base", "c1", ["internal port storage0 removed from br1"]),
    ("base", "mtu-9000", "c1", ["br1-up: eth0 MTU default -> 9000, eth1 MTU default -> 9000"]),
    ("base", "networks-changed", "c1", []),  # libvirt only: no OVS step
    (
        "base",
        "node-added",
        "c3",
        [
            "bridge br0 added",
            "bridge br1 added",
            "br0 host port: MTU default -> 1500",
            "bond br0-up added on br0: eth2, eth3 (active-backup)",
            "bond br1-up added on br1: eth0, eth1 (balance-slb)",
        ],
    ),
    (
        "node-added",
        "base",
        "c3",
        ["bridge br0 removed with its ports br0-up", "bridge br1 removed with its ports br1-up"],
    ),
]


@pytest.mark.parametrize(("old", "new", "node", "texts"), PAIRS, ids=[f"{o}->{n}" for o, n, _, _ in PAIRS])
def test_plan_says_what_changes(old: str, new: str, node: str, texts: list[str]) -> None:
    assert change_texts(old, new, node) == texts


@pytest.mark.consumer
@pytest.mark.parametrize(("old", "new", "node", "texts"), PAIRS, ids=[f"{o}->{n}" for o, n, _, _ in PAIRS])
def test_rehearsal_reaches_new_and_rolls_back_to_old(old: str, new: str, node: str, texts: list[str]) -> None:
    """After change.sh the database equals NEW's apply.sh state; after rollback.sh, OLD's."""
    require_tool("ovsdb-server")
    report = rehearse(CHANGES / f"{old}.yaml", design(old), design(new), node)
    assert report.passed, report.text()
    names = [step.name for step in report.steps]
    assert "the database holds the new design's state" in names
    assert "the database is back to the starting state" in names


def test_a_no_op_plan_has_no_steps() -> None:
    changes = plan_designs(design("base"), design("base"))
    assert [(c.node, c.status, c.ovs.commands, c.ovs_rollback.commands) for c in changes] == [
        ("c1", "unchanged", [], []),
        ("c2", "unchanged", [], []),
    ]
    assert [str(file.path) for file in render_plan(changes, "x")] == ["plan.md", "rollout.json"]


def test_bond_mode_change_is_a_set_not_a_rebuild() -> None:
    assert transaction("base", "lacp-on") == [
        (
            "set",
            "Port",
            "br1-up",
            "bond_mode=balance-tcp",
            "lacp=active",
            "other_config:lacp-time=fast",
            "other_config:lacp-fallback-ab=true",
        )
    ]
    assert transaction("lacp-on", "base") == [
        ("set", "Port", "br1-up", "bond_mode=balance-slb"),
        ("clear", "Port", "br1-up", "lacp"),
        ("remove", "Port", "br1-up", "other_config", "lacp-time", "lacp-fallback-ab"),
    ]


def test_member_change_rebuilds_the_bond_in_one_transaction() -> None:
    assert transaction("base", "member-added") == [
        ("del-port", "br1", "br1-up"),
        ("add-bond", "br1", "br1-up", "eth0", "eth1", "eth4"),
        ("set", "Port", "br1-up", "bond_mode=balance-slb"),
    ]


def test_host_bridge_changes_carry_the_risk_note(tmp_path: Path) -> None:
    (change,) = plan_designs(design("base"), design("host-vlan-10"), ("c1",))
    assert change.ovs.risky
    files = {str(file.path): file.text for file in render_plan([change], "base -> host-vlan-10")}
    assert "# RISK: this change touches the host bridge" in files["c1/change.sh"]
    assert "> **Risk:** this change touches the host bridge" in files["plan.md"]
    (quiet,) = plan_designs(design("base"), design("internal-port-added"), ("c1",))
    assert not quiet.ovs.risky


def test_plan_lists_ifcfg_and_libvirt_changes() -> None:
    (change,) = plan_designs(design("base"), design("networks-changed"), ("c1",))
    assert [(n.name, n.action, n.reason) for n in change.networks] == [
        ("vm-vlan32.xml", "delete", "removed"),
        ("vm-vlan33.xml", "add", "added on br1, VLAN 33"),
        ("vm-vlan40.xml", "change", "retagged: VLAN 40 -> 41"),
    ]
    (member,) = plan_designs(design("base"), design("member-added"), ("c1",))
    assert [(f.name, f.action) for f in member.ifcfg] == [("ifcfg-br1-up", "change"), ("ifcfg-eth4", "add")]
    (removed,) = plan_designs(design("node-added"), design("base"), ("c3",))
    assert removed.status == "removed"
    assert {f.action for f in removed.ifcfg} == {"delete"}


@pytest.mark.consumer
def test_plan_scripts_are_shellcheck_clean(tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck")
    changes = plan_designs(design("base"), design("networks-changed")) + plan_designs(
        design("base"), design("node-added")
    )
    paths = []
    for file in render_plan(changes, "test"):
        if file.path.endswith(".sh"):
            path = tmp_path / file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file.text)
            paths.append(str(path))
    assert len(paths) == 10  # c1, c2: libvirt change+rollback; c3 (added): change, rollback, two per layer
    result = run([shellcheck, "--shell=bash", *paths])
    assert result.returncode == 0, result.stdout


@pytest.mark.consumer
def test_change_script_refuses_a_host_in_another_state(ovsdb: Ovsdb, tmp_path: Path) -> None:
    (change,) = plan_designs(design("base"), design("lacp-on"), ("c1",))
    files = {file.name: file for file in render_plan([change], "test")}
    script = tmp_path / "change.sh"
    script.write_text(files["change.sh"].text)
    ovsdb.vsctl("add-br", "br1", "--", "add-bond", "br1", "br1-up", "eth0", "eth1", "bond_mode=active-backup")
    before = ovsdb.dump()
    result = run(
        ["bash", str(script), "--apply", "--skip-nic-check", "--skip-host-check"],
        env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command},
    )
    assert result.returncode == 1
    assert "-Port br1-up bond_mode = balance-slb\n+Port br1-up bond_mode = active-backup" in result.stderr
    assert "is not in the starting state (differences above); nothing was changed" in result.stderr
    assert ovsdb.dump() == before


@pytest.mark.consumer
def test_rehearsal_catches_a_plan_that_misses_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("ovsdb-server")
    monkeypatch.setattr("generator.changes.steps.update_port", lambda before, after: [])
    report = rehearse(CHANGES / "base.yaml", design("base"), design("lacp-on"), "c1")
    assert not report.passed
    assert "FAIL" in report.text()


# --- plans from a live host -------------------------------------------------


@pytest.fixture
def host_with_extras(ovsdb: Ovsdb, tmp_path: Path) -> tuple[Path, Path, Ovsdb]:
    """A host as found: the design's br0 with the wrong bond mode, a VM tap port, a vxlan port, another bridge."""
    ovsdb.vsctl(
        "add-br", "br0",
        "--", "add-bond", "br0", "bond0", "eth2", "eth3", "bond_mode=balance-slb",
        "--", "add-port", "br0", "vnet0", "tag=32",
        "--", "add-port", "br0", "vxlan0",
        "--", "set", "Interface", "vxlan0", "type=vxlan", "options:remote_ip=192.0.2.10",
        "--", "add-br", "br-ext",
        "--", "add-port", "br-ext", "eth9",
    )  # fmt: skip
    client = require_tool("ovsdb-client")
    socket = f"unix:{ovsdb.socket}"
    dump = tmp_path / "host.json"
    dump.write_text(
        subprocess.run(
            [client, "dump", "--format=json", socket, "Open_vSwitch"], check=True, capture_output=True, text=True
        ).stdout
    )
    backup = tmp_path / "host.db"
    backup.write_bytes(subprocess.run([client, "backup", socket], check=True, capture_output=True).stdout)
    return dump, backup, ovsdb


AHV = Path(__file__).resolve().parent.parent / "designs" / "ahv-host.yaml"


def _apply_plan(change: object, ovsdb: Ovsdb, tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    files = {file.name: file for file in render_plan([change], "test")}  # type: ignore[list-item]
    script = tmp_path / name
    script.write_text(files[name].text)
    return run(
        ["bash", str(script), "--apply", "--skip-nic-check", "--skip-host-check"],
        env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command},
    )


@pytest.mark.consumer
def test_plan_from_a_dump_leaves_unmanaged_objects_alone(
    host_with_extras: tuple[Path, Path, Ovsdb], tmp_path: Path
) -> None:
    dump, _, ovsdb = host_with_extras
    change = plan_from_host(load_dump(dump), validate_file(AHV), "ahv-a-1", prune=False)
    assert list(change.ovs.left_alone) == [
        "bridge br-ext (not in the design; --prune removes it if ovsgen built it)",
        "VM port vnet0 on br0 (named like a libvirt tap; plans never remove a VM's tap)",
        "port vxlan0 on br0 (not in the design)",
    ]
    result = _apply_plan(change, ovsdb, tmp_path, "change.sh")
    assert result.returncode == 0, result.stderr
    state = ovsdb.state()
    assert sorted(state) == ["br-ext", "br0"]
    assert sorted(state["br0"]) == ["bond0", "br0", "vnet0", "vxlan0"]
    assert state["br0"]["vnet0"]["tag"] == 32
    assert state["br0"]["bond0"]["bond_mode"] == "active-backup"


@pytest.mark.consumer
def test_prune_removes_only_objects_on_managed_bridges(
    host_with_extras: tuple[Path, Path, Ovsdb], tmp_path: Path
) -> None:
    dump, _, ovsdb = host_with_extras
    change = plan_from_host(load_dump(dump), validate_file(AHV), "ahv-a-1", prune=True)
    result = _apply_plan(change, ovsdb, tmp_path, "change.sh")
    assert result.returncode == 0, result.stderr
    state = ovsdb.state()
    assert sorted(state["br0"]) == ["bond0", "br0", "vnet0"]  # a VM's tap is never pruned
    assert sorted(state["br-ext"]) == ["br-ext", "eth9"]
    rollback = _apply_plan(change, ovsdb, tmp_path, "rollback.sh")
    assert rollback.returncode == 0, rollback.stderr
    restored = ovsdb.state()
    assert restored["br0"]["vnet0"]["tag"] == 32
    assert restored["br0"]["vxlan0"]["interfaces"]["vxlan0"]["type"] == "vxlan"
    assert restored["br0"]["bond0"]["bond_mode"] == "balance-slb"


@pytest.mark.consumer
@pytest.mark.parametrize("prune", [False, True])
def test_rehearsal_from_a_host_backup(host_with_extras: tuple[Path, Path, Ovsdb], prune: bool) -> None:
    _, backup, _ = host_with_extras
    report = rehearse(backup, None, validate_file(AHV), "ahv-a-1", prune=prune)
    assert report.passed, report.text()
