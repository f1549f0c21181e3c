"""The columns of a host's rows that no design manages (issue 12): read from a dump whole and
checked, kept on every row a plan keeps, carried over when it rebuilds one, restored by rollback.

Also what a dump says about the host itself (the Open_vSwitch row's system-id and hostname, which
plans insist on), which bridges ovsgen built (external_ids:managed-by=ovsgen), what a bridge holds
that a plan could not put back, and which interfaces are a VM's tap (libvirt's external_ids).
All in-process: the dumps are written here, in ovsdb-client's JSON format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.changes.plan_folder import render_plan
from generator.design.validate import validate_file
from generator.diagnostics import Diagnostic
from generator.errors import DumpInvalid
from generator.ovs.cells import OvsMap
from generator.ovs.dbrows import PlanScope, expected_after_change
from generator.ovs.hostdump import parse_dump
from generator.ovs.state import (
    EMPTY,
    BridgeState,
    InterfaceState,
    OvsState,
    PortState,
    managed_columns,
    map_value,
    node_state,
)
from generator.render.context import DesignContext, node_context
from tests.conftest import REPO

AHV = REPO / "designs" / "ahv-host.yaml"
TWO_TIER = REPO / "designs" / "two-tier-cluster.yaml"
NODE = "ahv-a-1"
VM_ID = "6b1e0c52-1f0a-4a55-9a9e-3c1c2f4d5e60"
SYSTEM_ID = "3f2c9a70-5d1e-4b8a-9c61-0a2b3c4d5e6f"
INT64 = 2**63

# What a cell holds in a new row, for the columns a row below leaves out.
NEW_ROW = {
    "external_ids": ["map", []],
    "other_config": ["map", []],
    "options": ["map", []],
    "bfd": ["map", []],
    "lldp": ["map", []],
    "type": "",
    "datapath_type": "",
    "stp_enable": False,
    "rstp_enable": False,
    "mcast_snooping_enable": False,
    "bond_updelay": 0,
    "bond_downdelay": 0,
    "ingress_policing_rate": 0,
    "ingress_policing_burst": 0,
}


def ovs_map(**pairs: str) -> list[Any]:
    return ["map", [[key.replace("_", "-"), value] for key, value in pairs.items()]]


def dump(
    bridges: dict[str, dict[str, Any]],
    ports: dict[str, dict[str, Any]],
    interfaces: dict[str, dict[str, Any]],
    root: dict[str, Any] | None = None,
    extra_lines: tuple[str, ...] = (),
) -> str:
    """ovsdb-client's JSON dump of these rows (by name; `ports` and `interfaces` cells name rows),
    with every column any row of a table has as a heading, and an Open_vSwitch row if given."""
    ids: dict[tuple[str, str], str] = {}

    def ref(table: str, name: str) -> list[str]:
        return ["uuid", ids.setdefault((table, name), f"00000000-0000-4000-8000-{len(ids) + 1:012d}")]

    def refer(table: str, given: dict[str, Any], column: str, target: str) -> dict[str, Any]:
        if column in given:
            given = {**given, column: ["set", [ref(target, name) for name in given[column]]]}
        return {"_uuid": ref(table, given["name"]), **given}

    tables = {
        "Bridge": [refer("Bridge", {"name": name, **row}, "ports", "Port") for name, row in bridges.items()],
        "Port": [refer("Port", {"name": name, **row}, "interfaces", "Interface") for name, row in ports.items()],
        "Interface": [{"_uuid": ref("Interface", name), "name": name, **row} for name, row in interfaces.items()],
    }
    if root is not None:
        tables["Open_vSwitch"] = [{"_uuid": ref("Open_vSwitch", ""), **root}]
    lines = list(extra_lines)
    for table, rows in tables.items():
        headings = list(dict.fromkeys(column for row in rows for column in row))
        data = [[row.get(column, NEW_ROW.get(column, ["set", []])) for column in headings] for row in rows]
        lines.append(json.dumps({"caption": f"{table} table", "data": data, "headings": headings}))
    return "\n".join(lines) + "\n"


def ahv_host(
    bridge: dict[str, Any] | None = None,
    port: dict[str, Any] | None = None,
    interface: dict[str, Any] | None = None,
    root: dict[str, Any] | None = None,
    more_bridges: dict[str, dict[str, Any]] | None = None,
) -> str:
    """ahv-a-1 as its design builds it (br0: bond0 of eth2 and eth3), plus the port tap0 (tag 32):
    `bridge`, `port` and `interface` are more cells of br0, tap0 and tap0's interface;
    `more_bridges` are bridges the design does not have, each with its own port only."""
    extra = more_bridges or {}
    bridges: dict[str, dict[str, Any]] = {"br0": {"ports": ["br0", "bond0", "tap0"], **(bridge or {})}}
    bridges |= {name: {"ports": [name], **cells} for name, cells in extra.items()}
    ports: dict[str, dict[str, Any]] = {
        "br0": {"interfaces": ["br0"]},
        "bond0": {"interfaces": ["eth2", "eth3"], "bond_mode": "active-backup"},
        "tap0": {"interfaces": ["tap0"], "tag": 32, **(port or {})},
        **{name: {"interfaces": [name]} for name in extra},
    }
    interfaces: dict[str, dict[str, Any]] = {
        "br0": {"type": "internal", "mtu_request": 1500},
        "eth2": {},
        "eth3": {},
        "tap0": dict(interface or {}),
        **{name: {"type": "internal"} for name in extra},
    }
    return dump(bridges, ports, interfaces, root)


def read(text: str) -> OvsState:
    return parse_dump(text, "host.json")


def refusal(text: str) -> Diagnostic:
    with pytest.raises(DumpInvalid) as refused:
        read(text)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.file == "host.json"
    return diagnostic


def column_of(text: str, line: int, cell: str) -> int:
    """The 1-based column where `cell` (JSON, unique in its line) starts."""
    found = text.splitlines()[line - 1]
    assert found.count(cell) == 1, cell
    return found.index(cell) + 1


def plan(text: str, *, prune: bool = False) -> NodeChange:
    return plan_from_host(read(text), validate_file(AHV), NODE, prune=prune)


def change_texts(change: NodeChange) -> list[str]:
    return [step.text for step in change.ovs.changes]


# --- what a dump's rows hold -------------------------------------------------------

BRIDGE_CELLS = {
    "external_ids": ovs_map(managed_by="ovsgen", owner="team-a"),
    "other_config": ovs_map(hwaddr="52:54:00:00:00:01"),
    "fail_mode": "secure",
    "datapath_type": "netdev",
    "protocols": ["set", ["OpenFlow13", "OpenFlow10"]],
    "stp_enable": True,
    "rstp_enable": True,
    "mcast_snooping_enable": True,
}


def test_a_bridge_keeps_every_column_a_plan_must_restore_as_the_host_has_it() -> None:
    state = read(ahv_host(bridge=BRIDGE_CELLS))
    assert state.bridge_rows == (
        BridgeState(
            "br0",
            (
                ("external_ids", (("managed-by", "ovsgen"), ("owner", "team-a"))),
                ("other_config", (("hwaddr", "52:54:00:00:00:01"),)),
                ("fail_mode", "secure"),
                ("datapath_type", "netdev"),
                ("protocols", ("OpenFlow10", "OpenFlow13")),
                ("stp_enable", True),
                ("rstp_enable", True),
                ("mcast_snooping_enable", True),
            ),
        ),
    )
    assert state.bridge_row("br0").owned


def test_a_port_and_an_interface_keep_their_host_columns() -> None:
    state = read(
        ahv_host(
            port={
                "trunks": ["set", [30, 10, 20]],
                "vlan_mode": "native-untagged",
                "bond_updelay": 30000,
                "bond_downdelay": -1,
                "external_ids": ovs_map(owner="team-a"),
            },
            interface={"external_ids": ovs_map(vm_id=VM_ID), "other_config": ovs_map(tx_queue="4")},
        )
    )
    tap0 = state.port("tap0")
    assert tap0 is not None
    assert tap0.columns == (
        ("trunks", (10, 20, 30)),
        ("vlan_mode", "native-untagged"),
        ("bond_updelay", 30000),
        ("bond_downdelay", -1),
        ("external_ids", (("owner", "team-a"),)),
    )
    assert state.interface("tap0").columns == (
        ("external_ids", (("vm-id", VM_ID),)),
        ("other_config", (("tx-queue", "4"),)),
    )


NEW_BRIDGE = {
    "external_ids": ["map", []],
    "other_config": ["map", []],
    "fail_mode": ["set", []],
    "datapath_type": "",
    "protocols": ["set", []],
    "stp_enable": False,
    "rstp_enable": False,
    "mcast_snooping_enable": False,
}
NEW_PORT = {"trunks": ["set", []], "vlan_mode": ["set", []], "bond_updelay": 0, "bond_downdelay": 0}
NEW_INTERFACE = {"external_ids": ["map", []], "other_config": ["map", []]}


def test_columns_at_a_new_rows_value_are_not_kept_nor_are_missing_ones() -> None:
    """A column as OVSDB makes it for a new row is nothing a plan must restore; an older Open
    vSwitch's dump that lacks the column reads the same."""
    explicit = read(ahv_host(bridge=NEW_BRIDGE, port=NEW_PORT, interface=NEW_INTERFACE))
    assert explicit.bridge_rows == (BridgeState("br0"),)
    assert all(port.columns == () for port in explicit.ports)
    assert all(interface.columns == () for interface in explicit.interfaces)
    assert not explicit.bridge_row("br0").owned
    bare = dump({"br0": {"ports": ["br0"]}}, {"br0": {"interfaces": ["br0"]}}, {"br0": {"type": "internal"}})
    assert read(bare).bridge_rows == (BridgeState("br0"),)
    assert read(ahv_host()) == explicit


@pytest.mark.parametrize("value", [-INT64, INT64 - 1, 0, 1])
def test_bond_delays_are_any_64_bit_integer(value: int) -> None:
    port = read(ahv_host(port={"bond_downdelay": value})).port("tap0")
    assert port is not None
    assert port.columns == ((("bond_downdelay", value),) if value else ())


@pytest.mark.parametrize("value", [INT64, -INT64 - 1, True, "5", 1.5])
def test_a_bond_delay_that_is_not_a_64_bit_integer_is_refused_at_its_cell(value: Any) -> None:
    text = ahv_host(port={"bond_updelay": value, "bond_downdelay": 7})
    diagnostic = refusal(text)
    cell = json.dumps(value)
    assert diagnostic.message == (
        f"Port tap0: bond_updelay: {value!r} is not an integer -9223372036854775808-9223372036854775807"
    )
    assert (diagnostic.line, diagnostic.column) == (2, column_of(text, 2, f", {cell}, 7") + 2)


@pytest.mark.parametrize("column", ["stp_enable", "rstp_enable", "mcast_snooping_enable"])
@pytest.mark.parametrize("value", [1, 0, "true", None])
def test_a_switch_that_is_not_true_or_false_is_refused_at_its_cell(column: str, value: Any) -> None:
    text = ahv_host(bridge={"fail_mode": "standalone", column: value})
    diagnostic = refusal(text)
    assert diagnostic.message == f"Bridge br0: {column}: {value!r} is not true or false"
    assert (diagnostic.line, diagnostic.column) == (1, column_of(text, 1, f'"standalone", {json.dumps(value)}') + 14)


STRING_CELLS = [
    ("Bridge", "datapath_type", "net dev", "datapath_type: 'net dev' is not a"),
    ("Bridge", "fail_mode", "open", "fail_mode: 'open' is not one of secure, standalone"),
    ("Bridge", "protocols", ["set", ["OpenFlow10", "OpenFlow16"]], "protocols: 'OpenFlow16' is not one of"),
    ("Bridge", "external_ids", ovs_map(owner="team a"), "external_ids: 'team a' is not a value"),
    ("Bridge", "other_config", ["map", [["hw addr", "x"]]], "other_config: 'hw addr' is not a key"),
    ("Port", "vlan_mode", "tunnel", "vlan_mode: 'tunnel' is not one of access, dot1q-tunnel, native-tagged"),
    ("Port", "trunks", ["set", [10, 4096]], "trunks: 4096 is not an integer 0-4095"),
    ("Port", "external_ids", ovs_map(owner="$(reboot)"), "external_ids: '$(reboot)' is not a value"),
    ("Interface", "external_ids", ovs_map(vm_id="a b"), "external_ids: 'a b' is not a value"),
    ("Interface", "other_config", ["map", [["-x", "1"]]], "other_config: '-x' is not a key"),
]


@pytest.mark.parametrize(("table", "column", "value", "message"), STRING_CELLS)
def test_a_host_column_that_could_not_reach_a_script_safely_is_refused_at_its_cell(
    table: str, column: str, value: Any, message: str
) -> None:
    """Every value of these columns can reach `ovs-vsctl set` in a plan's scripts."""
    where = {"Bridge": "bridge", "Port": "port", "Interface": "interface"}[table]
    text = ahv_host(**{where: {column: value}})
    diagnostic = refusal(text)
    label = {"Bridge": "Bridge br0", "Port": "Port tap0", "Interface": "Interface tap0"}[table]
    assert diagnostic.message.startswith(f"{label}: {message}"), diagnostic.message
    line = {"Bridge": 1, "Port": 2, "Interface": 3}[table]
    assert (diagnostic.line, diagnostic.column) == (line, column_of(text, line, json.dumps(value)))


# --- what a bridge holds that a plan cannot put back --------------------------------

REFERENCES = ["controller", "mirrors", "netflow", "sflow", "ipfix"]


@pytest.mark.parametrize("column", REFERENCES)
def test_a_bridge_pointing_at_rows_a_plan_cannot_restore_says_so(column: str) -> None:
    ref = ["uuid", "00000000-0000-4000-8000-000000000099"]
    state = read(ahv_host(bridge={column: ref}))
    assert state.bridge_row("br0") == BridgeState("br0", unrestorable=(column,))
    everything = read(ahv_host(bridge=dict.fromkeys(REFERENCES, ref)))
    assert everything.bridge_row("br0").unrestorable == tuple(REFERENCES)
    assert read(ahv_host(bridge={key: ["set", []] for key in REFERENCES})).bridge_row("br0").unrestorable == ()


def test_a_bridge_may_have_many_controllers_and_mirrors_but_one_netflow_sflow_and_ipfix() -> None:
    two = ["set", [["uuid", f"00000000-0000-4000-8000-00000000009{n}"] for n in (1, 2)]]
    many = read(ahv_host(bridge={"controller": two, "mirrors": two}))
    assert many.bridge_row("br0").unrestorable == ("controller", "mirrors")
    for column in ("netflow", "sflow", "ipfix"):
        diagnostic = refusal(ahv_host(bridge={column: two}))
        assert diagnostic.message == (
            f"Bridge br0: {column}: holds 2 values; the schema allows at most 1 values and at least 0"
        )
    assert refusal(ahv_host(bridge={"mirrors": "m1"})).message == "Bridge br0: mirrors: 'm1' is not a uuid"


def test_prune_removes_a_bridge_ovsgen_built_unless_a_rollback_could_not_put_it_back() -> None:
    ref = ["uuid", "00000000-0000-4000-8000-000000000099"]
    owned = {"external_ids": ovs_map(managed_by="ovsgen")}
    text = ahv_host(more_bridges={"br8": owned, "br9": {**owned, "controller": ref, "sflow": ref}, "br7": {}})
    change = plan(text, prune=True)
    assert "bridge br8 removed" in change_texts(change)
    assert change.ovs.left_alone == (
        "bridge br7 (not in the design; not built by ovsgen (no external_ids:managed-by=ovsgen), so --prune leaves it)",
        "bridge br9 (not in the design; it has controller, sflow that a rollback could not put back)",
    )
    # Rollback rebuilds br8 as it was, ovsgen's mark included.
    (restored,) = [step for step in change.ovs_rollback.changes if step.text.startswith("bridge br8 ")]
    assert restored.commands == (("add-br", "br8"), ("set", "Bridge", "br8", "external_ids:managed-by=ovsgen"))


# --- the host itself ------------------------------------------------------------------


def test_the_hosts_system_id_and_hostname_are_read_from_the_open_vswitch_row() -> None:
    ids = ovs_map(system_id=SYSTEM_ID, hostname="kvm-b-1.lab", rundir="/var/run/openvswitch")
    state = read(ahv_host(root={"bridges": ["set", []], "external_ids": ids, "ovs_version": "3.1.0"}))
    assert (state.system_id, state.hostname) == (SYSTEM_ID, "kvm-b-1.lab")
    assert state.bridges == ("br0",)  # the row's other columns are not read


@pytest.mark.parametrize(
    ("root", "identity"),
    [
        (None, ("", "")),
        ({}, ("", "")),
        ({"external_ids": ["map", []]}, ("", "")),
        ({"external_ids": ovs_map(hostname="kvm-b-2")}, ("", "kvm-b-2")),
        ({"external_ids": ovs_map(system_id=SYSTEM_ID)}, (SYSTEM_ID, "")),
    ],
)
def test_a_dump_may_lack_the_hosts_identity(root: dict[str, Any] | None, identity: tuple[str, str]) -> None:
    """A dump made by hand may leave the Open_vSwitch table or its keys out."""
    state = read(ahv_host(root=root))
    assert (state.system_id, state.hostname) == identity


def test_the_hosts_identity_is_checked_like_everything_else() -> None:
    text = ahv_host(root={"external_ids": ovs_map(hostname="kvm-b-1; reboot")})
    diagnostic = refusal(text)
    assert diagnostic.message.startswith("Open_vSwitch row 1: external_ids: 'kvm-b-1; reboot' is not a value")
    assert (diagnostic.line, diagnostic.column) == (4, column_of(text, 4, '["map", [["hostname"'))
    root = json.dumps({"caption": "Open_vSwitch table", "data": [], "headings": []})
    twice = ahv_host(root={}) + root + "\n"
    second = refusal(twice)
    assert second.message == "a second Open_vSwitch table"
    assert (second.line, second.column) == (5, column_of(twice, 5, '"Open_vSwitch table"'))


def test_a_plan_from_a_dump_insists_on_the_host_the_dump_came_from(tmp_path: Path) -> None:
    text = ahv_host(root={"external_ids": ovs_map(system_id=SYSTEM_ID, hostname="kvm-b-1")})
    change = plan(text)
    assert (change.system_id, change.hostname, change.expected_hostname) == (SYSTEM_ID, "kvm-b-1", "kvm-b-1")
    files = {file.path: file.text for file in render_plan([change], "host.json")}
    for script in ("change.sh", "rollback.sh"):
        found = files[f"{NODE}/{script}"]
        assert f"expected_system_id={SYSTEM_ID}\n" in found
        assert "expected_hostname=kvm-b-1\n" in found
        assert f"the Open vSwitch system-id {SYSTEM_ID}" in found
    anonymous = plan(ahv_host())
    assert (anonymous.system_id, anonymous.hostname, anonymous.expected_hostname) == ("", "", NODE)


# --- VM taps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "vm"),
    [
        ({"vm_id": VM_ID, "iface_id": "i-1", "attached_mac": "52:54:00:12:34:56"}, VM_ID),
        ({"iface_id": "i-1", "attached_mac": "52:54:00:12:34:56"}, "iface-id i-1"),
        ({"attached_mac": "52:54:00:12:34:56"}, "attached-mac 52:54:00:12:34:56"),
        ({"iface_status": "active"}, None),
        ({}, None),
    ],
)
def test_a_vms_tap_is_known_by_libvirts_external_ids(ids: dict[str, str], vm: str | None) -> None:
    state = read(ahv_host(interface={"external_ids": ovs_map(**ids)}))
    assert state.interface("tap0").vm == vm
    change = plan(ahv_host(interface={"external_ids": ovs_map(**ids)}), prune=True)
    if vm is None:
        assert "port tap0 removed from br0" in change_texts(change)
    else:
        assert change_texts(change) == ["bridge br0 marked as built by ovsgen (external_ids:managed-by)"]
        assert f"VM port tap0 on br0 (VM {vm}; plans never remove a VM's tap)" in change.ovs.left_alone


def test_a_vm_id_is_only_read_from_a_map_column() -> None:
    interface = InterfaceState("tap0", None, columns=(("other_config", (("vm-id", VM_ID),)),))
    assert interface.vm is None
    assert map_value((("fail_mode", "secure"),), "fail_mode", "s") is None
    assert map_value((("protocols", ("OpenFlow10",)),), "protocols", "O") is None
    assert map_value((("external_ids", (("a", "1"), ("b", "2"))),), "external_ids", "b") == "2"
    assert map_value((("external_ids", (("a", "1"),)),), "external_ids", "b") is None
    assert map_value((), "external_ids", "a") is None


# --- ovsgen's mark on bridges -----------------------------------------------------------


def test_a_design_taking_over_a_hand_made_bridge_marks_it_and_keeps_its_columns() -> None:
    cells = {
        "external_ids": ovs_map(owner="team-a"),
        "other_config": ovs_map(hwaddr="52:54:00:00:00:01"),
        "stp_enable": True,
    }
    change = plan(ahv_host(bridge=cells))
    assert change.ovs.after.bridge_row("br0") == BridgeState(
        "br0",
        (
            ("external_ids", (("managed-by", "ovsgen"), ("owner", "team-a"))),
            ("other_config", (("hwaddr", "52:54:00:00:00:01"),)),
            ("stp_enable", True),
        ),
    )
    (mark,) = change.ovs.changes
    assert mark.text == "bridge br0 marked as built by ovsgen (external_ids:managed-by)"
    assert mark.commands == (("set", "Bridge", "br0", "external_ids:managed-by=ovsgen"),)
    (unmark,) = change.ovs_rollback.changes
    assert unmark.text == "bridge br0 no longer marked as built by ovsgen (external_ids:managed-by)"
    assert unmark.commands == (("remove", "Bridge", "br0", "external_ids", "managed-by"),)
    owned = plan(ahv_host(bridge={"external_ids": ovs_map(managed_by="ovsgen")}))
    assert owned.ovs.changes == owned.ovs_rollback.changes == ()


def test_a_bridge_row_with_or_without_the_mark_keeps_its_other_columns_in_dump_order() -> None:
    row = BridgeState(
        "br0",
        (("other_config", (("hwaddr", "x"),)), ("fail_mode", "secure")),
        unrestorable=("mirrors",),
    )
    marked = row.with_owner(True)
    assert marked == BridgeState(
        "br0",
        (("external_ids", (("managed-by", "ovsgen"),)), *row.columns),
        unrestorable=("mirrors",),
    )
    assert marked.owned
    assert marked.with_owner(False) == row
    assert not row.owned
    assert marked.with_owner(True) == marked
    shared = BridgeState("br1", (("external_ids", (("managed-by", "ovsgen"), ("z", "1"))), ("stp_enable", True)))
    assert shared.with_owner(False) == BridgeState("br1", (("external_ids", (("z", "1"),)), ("stp_enable", True)))
    assert not BridgeState("br2", (("external_ids", (("managed-by", "someone"),)),)).owned


def test_a_bridge_a_design_adds_carries_the_mark_and_loses_it_with_the_bridge() -> None:
    old = validate_file(REPO / "tests" / "designs" / "changes" / "base.yaml")
    new = validate_file(REPO / "tests" / "designs" / "changes" / "bridge-added.yaml")
    (change,) = [node for node in plan_designs(old, new) if node.ovs.changes][:1]
    added = [step for step in change.ovs.changes if step.text.startswith("bridge ") and " added" in step.text]
    assert added, change_texts(change)
    for step in added:
        bridge = step.text.split()[1]
        assert step.commands == (("add-br", bridge), ("set", "Bridge", bridge, "external_ids:managed-by=ovsgen"))
        assert change.ovs.after.bridge_row(bridge).owned
        assert any(s.text.startswith(f"bridge {bridge} removed") for s in change.ovs_rollback.changes)


# --- what a design manages, and what a rehearsal expects of the rest -------------------


def test_a_rebuilt_row_keeps_the_hosts_columns_and_takes_the_designs_managed_ones() -> None:
    """What rehearse expects after a change: the design's managed columns, the host's others."""
    start = {
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset({"bond0", "mgmt", "br0"}),
            "external_ids": OvsMap((("owner", "team-a"),)),
            "stp_enable": True,
        },
        ("Port", "bond0"): {
            "name": "bond0",
            "interfaces": frozenset({"eth2"}),
            "tag": 5,
            "bond_mode": "active-backup",
            "lacp": "off",
            "bond_updelay": 30000,
            "other_config": OvsMap((("bond-detect-mode", "miimon"), ("lacp-time", "slow"))),
        },
        ("Port", "mgmt"): {"name": "mgmt", "interfaces": frozenset({"mgmt"}), "tag": 10, "trunks": frozenset({7})},
        ("Port", "br0"): {"name": "br0", "interfaces": frozenset({"br0"}), "tag": 3, "vlan_mode": "access"},
        ("Interface", "eth2"): {"name": "eth2", "type": "", "mtu_request": 1500, "options": OvsMap((("x", "1"),))},
        ("Interface", "mgmt"): {"name": "mgmt", "type": "internal", "mtu_request": 1500},
        ("Interface", "br0"): {"name": "br0", "type": "patch", "external_ids": OvsMap((("a", "b"),))},
    }
    reference = {
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset({"bond0", "mgmt", "br0"}),
            "external_ids": OvsMap((("managed-by", "ovsgen"),)),
            "stp_enable": False,
        },
        ("Port", "bond0"): {
            "name": "bond0",
            "interfaces": frozenset({"eth2"}),
            "tag": frozenset(),
            "bond_mode": "balance-tcp",
            "lacp": "active",
            "bond_updelay": 0,
            "other_config": OvsMap((("lacp-time", "fast"),)),
        },
        ("Port", "mgmt"): {"name": "mgmt", "interfaces": frozenset({"mgmt"}), "tag": 20, "trunks": frozenset()},
        ("Port", "br0"): {"name": "br0", "interfaces": frozenset({"br0"}), "tag": 4, "vlan_mode": frozenset()},
        ("Interface", "eth2"): {"name": "eth2", "type": "dpdk", "mtu_request": 9000, "options": OvsMap(())},
        ("Interface", "mgmt"): {"name": "mgmt", "type": "internal", "mtu_request": 9000},
        ("Interface", "br0"): {"name": "br0", "type": "internal", "external_ids": OvsMap(())},
    }
    kinds = {
        ("Port", "bond0"): "bond",
        ("Port", "mgmt"): "internal",
        ("Port", "br0"): "bridge",
        ("Interface", "mgmt"): "internal",
        ("Interface", "br0"): "internal",
    }
    expected = expected_after_change(start, reference, kinds, PlanScope(frozenset(), frozenset()))
    assert expected[("Bridge", "br0")] == {
        "name": "br0",
        "ports": frozenset({"bond0", "mgmt", "br0"}),
        "external_ids": OvsMap((("managed-by", "ovsgen"), ("owner", "team-a"))),
        "stp_enable": True,
    }
    assert expected[("Port", "bond0")] == {
        "name": "bond0",
        "interfaces": frozenset({"eth2"}),
        "tag": 5,  # a bond's tag is the host's
        "bond_mode": "balance-tcp",
        "lacp": "active",
        "bond_updelay": 30000,
        "other_config": OvsMap((("bond-detect-mode", "miimon"), ("lacp-time", "fast"))),
    }
    assert expected[("Port", "mgmt")] == {
        "name": "mgmt",
        "interfaces": frozenset({"mgmt"}),
        "tag": 20,
        "trunks": frozenset({7}),
    }
    assert expected[("Port", "br0")] == {
        "name": "br0",
        "interfaces": frozenset({"br0"}),
        "tag": 4,
        "vlan_mode": "access",
    }
    # A NIC's type and options are the host's; an internal interface's type is the design's.
    assert expected[("Interface", "eth2")] == {
        "name": "eth2",
        "type": "",
        "mtu_request": 9000,
        "options": OvsMap((("x", "1"),)),
    }
    assert expected[("Interface", "br0")] == {"name": "br0", "type": "internal", "external_ids": OvsMap((("a", "b"),))}


@pytest.mark.parametrize(
    ("table", "kind", "columns"),
    [
        ("Bridge", "", {"name", "ports", "external_ids:managed-by"}),
        ("Interface", "", {"name", "mtu_request"}),
        ("Interface", "internal", {"name", "mtu_request", "type"}),
        ("Port", "nic", {"name", "interfaces"}),
        ("Port", "other", {"name", "interfaces"}),
        ("Port", "bridge", {"name", "interfaces", "tag"}),
        ("Port", "internal", {"name", "interfaces", "tag"}),
        (
            "Port",
            "bond",
            {
                "name",
                "interfaces",
                "bond_mode",
                "lacp",
                "other_config:lacp-time",
                "other_config:lacp-fallback-ab",
                "other_config:bond-rebalance-interval",
                "other_config:bond-primary",
            },
        ),
    ],
)
def test_the_columns_a_design_manages(table: str, kind: str, columns: set[str]) -> None:
    assert managed_columns(table, kind) == columns


# --- the state a design wants, asked for again and again -----------------------------


def test_a_nodes_state_is_its_own_even_when_asked_for_right_after_another_nodes() -> None:
    valid = validate_file(TWO_TIER)
    layouts = {layout.node.name: layout for layout in valid.layouts}
    shared = DesignContext.of(valid.design)
    node_2 = shared.node(layouts["kvm-a-2"], "kvm-a-2")
    second = node_2.state
    assert node_2.state is second  # worked out once per node, however many renderers ask
    assert second == node_state(valid.design, layouts["kvm-a-2"])
    third = shared.node(layouts["kvm-a-3"], "kvm-a-3").state
    assert {i.name for i in second.interfaces} >= {"eth2", "eth3"}
    assert {i.name for i in third.interfaces} >= {"ens1f0", "ens1f1"}
    again = validate_file(TWO_TIER)
    assert node_context(again.design, layouts["kvm-a-3"], "kvm-a-3").state == third
    assert node_context(again.design, layouts["kvm-a-3"], "kvm-a-3").state is not third


def test_a_node_context_given_a_state_renders_that_state() -> None:
    """A plan from a host dump renders ifcfg files from a state of its own, not the design's."""
    valid = validate_file(TWO_TIER)
    layout = valid.layouts[0]
    assert node_context(valid.design, layout, "n", state=EMPTY).state is EMPTY
    assert node_context(valid.design, layout, "n").state == node_state(valid.design, layout)


STATES = """\
version: 1
name: states
host: {bridge: br0, gateway: 10.30.0.1, vlan: 10, mtu: 1500}
bridges:
  br0: {uplinks: {nics: [eth0, eth1], mode: active-backup, primary: eth1}, mtu: 9000}
  br1: {uplinks: {nics: [eth2, eth3], mode: balance-tcp, lacp: active}}
  br2: {uplinks: {nics: [eth4]}}
  br3: {uplinks: {nics: [eth5, eth6], mode: balance-slb, rebalance_interval: 0}}
internal_ports:
  - {name: storage0, bridge: br1, vlan: 20}
  - {name: backup0, bridge: br0}
networks:
  - {name: vm-vlan32, bridge: br1, vlan: 32}
nodes:
  - name: n1
    nics: {eth0: 10G, eth1: 10G, eth2: 10G, eth3: 10G, eth4: 1G, eth5: 1G, eth6: 1G}
    address: 10.30.0.11/24
    ports: {storage0: 172.16.20.21/24, backup0: 172.16.30.21/24}
"""


def test_the_state_a_design_wants_for_a_node(tmp_path: Path) -> None:
    """The host bridge's own port carries the host VLAN and MTU, the others stay untagged at the
    default MTU; bond options only as the design asks; every bridge with ovsgen's mark."""
    path = tmp_path / "states.yaml"
    path.write_text(STATES)
    valid = validate_file(path)
    (layout,) = valid.layouts
    state = node_state(valid.design, layout)
    mark = (("external_ids", (("managed-by", "ovsgen"),)),)
    assert state == OvsState(
        ("br0", "br1", "br2", "br3"),
        (
            PortState("br0", "br0", "bridge", ("br0",), tag=10),
            PortState("br0-up", "br0", "bond", ("eth0", "eth1"), bond_mode="active-backup",
                      other_config=(("bond-primary", "eth1"),)),
            PortState("br1", "br1", "bridge", ("br1",)),
            PortState("br1-up", "br1", "bond", ("eth2", "eth3"), bond_mode="balance-tcp", lacp="active",
                      other_config=(("lacp-time", "slow"), ("lacp-fallback-ab", "false"))),
            PortState("br2", "br2", "bridge", ("br2",)),
            PortState("eth4", "br2", "nic", ("eth4",)),
            PortState("br3", "br3", "bridge", ("br3",)),
            PortState("br3-up", "br3", "bond", ("eth5", "eth6"), bond_mode="balance-slb",
                      other_config=(("bond-rebalance-interval", "0"),)),
            PortState("storage0", "br1", "internal", ("storage0",), tag=20),
            PortState("backup0", "br0", "internal", ("backup0",)),
        ),
        (
            InterfaceState("br0", 1500, "internal"),
            InterfaceState("eth0", 9000),
            InterfaceState("eth1", 9000),
            InterfaceState("br1", None, "internal"),
            InterfaceState("eth2", None),
            InterfaceState("eth3", None),
            InterfaceState("br2", None, "internal"),
            InterfaceState("eth4", None),
            InterfaceState("br3", None, "internal"),
            InterfaceState("eth5", None),
            InterfaceState("eth6", None),
            InterfaceState("storage0", None, "internal"),
            InterfaceState("backup0", 9000, "internal"),
        ),
        tuple(BridgeState(name, mark) for name in ("br0", "br1", "br2", "br3")),
    )  # fmt: skip
    assert all(row.owned for row in state.bridge_rows)
    bond = state.port_of_interface("eth3")
    assert bond is not None
    assert bond.name == "br1-up"
    assert state.interfaces_of(bond) == (InterfaceState("eth2", None), InterfaceState("eth3", None))
    assert state.port_of_interface("eth9") is None
    assert state.port("br9") is None
    assert state.bridge_row("br9") == BridgeState("br9")
    assert [port.tagged for port in state.ports] == [
        True, False, True, False, True, False, True, False, True, True,
    ]  # fmt: skip


# --- what a port holds that a plan cannot put back: QoS, mirrors, requested MACs --------------

QOS = ["uuid", "00000000-0000-4000-8000-000000000099"]
MIRROR_COLUMNS = ("select_src_port", "select_dst_port", "output_port")


def with_mirrors(text: str, mirrors: dict[str, dict[str, list[str]]], headings: tuple[str, ...] = ()) -> str:
    """`text` (a dump from `dump`) and a Mirror table: per mirror, the ports (by name) in each of
    its columns; `headings` (default: all) are the columns the table has besides _uuid and name."""
    port_table = json.loads(text.splitlines()[1])
    names, uuids = port_table["headings"].index("name"), port_table["headings"].index("_uuid")
    uuid = {row[names]: row[uuids] for row in port_table["data"]}
    columns = headings or MIRROR_COLUMNS
    data = [
        [["uuid", f"00000000-0000-4000-9000-{n:012d}"], name]
        + [["set", [uuid[port] for port in cells.get(column, [])]] for column in columns]
        for n, (name, cells) in enumerate(mirrors.items())
    ]
    table = {"caption": "Mirror table", "data": data, "headings": ["_uuid", "name", *columns]}
    return text + json.dumps(table) + "\n"


def unrestorable(state: OvsState) -> dict[str, tuple[str, ...]]:
    return {port.name: port.unrestorable for port in state.ports}


def test_a_port_a_mirror_selects_or_sends_to_names_the_mirror() -> None:
    """Each port a mirror selects (either way) or outputs to names it once, in the Mirror table's
    order; a mirror that uses no port marks none."""
    mirrors = {
        "span1": {"select_src_port": ["tap0"], "select_dst_port": ["tap0", "bond0"]},
        "idle": {},
        "span0": {"output_port": ["tap0"]},
    }
    state = read(with_mirrors(ahv_host(), mirrors))
    assert unrestorable(state) == {"bond0": ("mirror span1",), "br0": (), "tap0": ("mirror span1", "mirror span0")}
    for column in MIRROR_COLUMNS:
        one = read(with_mirrors(ahv_host(), {"m": {column: ["bond0"]}}, (column,)))
        assert unrestorable(one) == {"bond0": ("mirror m",), "br0": (), "tap0": ()}
    assert unrestorable(read(with_mirrors(ahv_host(), {"m": {}}, ("select_all",)))) == dict.fromkeys(
        ("bond0", "br0", "tap0"), ()
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("span 1", "Mirror row 1: name: 'span 1' is not a name"),
        ("", "Mirror row 1: name: '' is not a name"),
        ("-x", "Mirror row 1: name: '-x' is not a name"),
    ],
)
def test_a_mirrors_name_reaches_messages_and_is_checked(name: str, message: str) -> None:
    text = with_mirrors(ahv_host(), {name: {"output_port": ["tap0"]}})
    diagnostic = refusal(text)
    assert diagnostic.message.startswith(message), diagnostic.message
    assert (diagnostic.line, diagnostic.column) == (4, column_of(text, 4, json.dumps(name) + ", ["))


def test_a_mirrors_ports_are_checked_as_uuids() -> None:
    text = ahv_host() + json.dumps(
        {"caption": "Mirror table", "data": [[["uuid", "00000000-0000-4000-9000-000000000001"], "m", "p"]],
         "headings": ["_uuid", "name", "output_port"]}
    ) + "\n"  # fmt: skip
    assert refusal(text).message == "Mirror row 1: output_port: 'p' is not a uuid"


def test_qos_and_requested_macs_are_what_a_rollback_could_not_put_back() -> None:
    """QoS first, then the mirrors, then each member's requested MAC in member order."""
    bridges = {"br0": {"ports": ["br0", "bond0", "tap0"]}}
    ports = {
        "br0": {"interfaces": ["br0"]},
        "bond0": {"interfaces": ["eth3", "eth2"], "bond_mode": "active-backup", "qos": QOS},
        "tap0": {"interfaces": ["tap0"], "qos": ["set", []]},
    }
    interfaces = {
        "br0": {"type": "internal", "mac": ["set", []]},
        "eth2": {"mac": "52:54:00:00:00:02"},
        "eth3": {"mac": "52:54:00:00:00:03"},
        "tap0": {"mac": ["set", []]},
    }
    state = read(with_mirrors(dump(bridges, ports, interfaces), {"span1": {"output_port": ["bond0"]}}))
    assert unrestorable(state) == {
        "bond0": ("qos", "mirror span1", "the MAC requested for eth2", "the MAC requested for eth3"),
        "br0": (),
        "tap0": (),
    }
    assert state.interface("eth2").columns == ()  # the MAC is not a column a plan restores


def test_a_bond_a_plan_must_rebuild_is_refused_when_a_rollback_could_not_put_it_back() -> None:
    """The design's bond0 is eth2 and eth3; the host's is eth2 and eth4, and eth2 has a MAC set
    by hand: rebuilding the bond would lose it, so the plan refuses."""
    bridges = {"br0": {"ports": ["br0", "bond0"]}}
    ports = {"br0": {"interfaces": ["br0"]}, "bond0": {"interfaces": ["eth2", "eth4"], "bond_mode": "active-backup"}}
    interfaces = {"br0": {"type": "internal", "mtu_request": 1500}, "eth2": {"mac": "52:54:00:00:00:02"}, "eth4": {}}
    change = plan(dump(bridges, ports, interfaces))
    (blocked,) = change.ovs.blocked
    assert blocked.startswith("bond0 must be rebuilt (")
    assert "but it has the MAC requested for eth2, which a rollback could not put back" in blocked
    interfaces["eth2"] = {}
    assert plan(dump(bridges, ports, interfaces)).ovs.blocked == ()


def test_a_prune_leaves_a_port_a_mirror_or_qos_uses() -> None:
    text = with_mirrors(ahv_host(port={"qos": QOS}), {"span1": {"select_src_port": ["tap0"]}})
    change = plan(text, prune=True)
    assert change.ovs.left_alone == ("port tap0 on br0 (it has qos, mirror span1: a rollback could not put them back)",)
    assert change_texts(change) == ["bridge br0 marked as built by ovsgen (external_ids:managed-by)"]


# --- an interface's columns no design manages -------------------------------------------------

INTERFACE_CELLS = {
    "ingress_policing_rate": 1000,
    "ingress_policing_burst": 100,
    "ofport_request": 7,
    "bfd": ovs_map(enable="true", min_rx="500"),
    "lldp": ovs_map(enable="true"),
}


def test_an_interface_keeps_its_policing_ofport_bfd_and_lldp() -> None:
    tap0 = read(ahv_host(interface=INTERFACE_CELLS)).interface("tap0")
    assert tap0.columns == (
        ("ingress_policing_rate", 1000),
        ("ingress_policing_burst", 100),
        ("ofport_request", 7),
        ("bfd", (("enable", "true"), ("min-rx", "500"))),
        ("lldp", (("enable", "true"),)),
    )
    unset = {"ofport_request": ["set", []], "bfd": ["map", []], "lldp": ["map", []], "ingress_policing_rate": 0}
    assert read(ahv_host(interface=unset)).interface("tap0").columns == ()


@pytest.mark.parametrize(("value", "kept"), [(1, True), (65279, True), (0, False), (65280, False)])
def test_a_requested_ofport_is_1_to_65279(value: int, kept: bool) -> None:
    text = ahv_host(interface={"ofport_request": value})
    if kept:
        assert read(text).interface("tap0").columns == (("ofport_request", value),)
    else:
        assert refusal(text).message == f"Interface tap0: ofport_request: {value} is not an integer 1-65279"


@pytest.mark.parametrize("column", ["ingress_policing_rate", "ingress_policing_burst"])
def test_policing_is_never_negative(column: str) -> None:
    assert refusal(ahv_host(interface={column: -1})).message == (
        f"Interface tap0: {column}: -1 is not an integer 0-9223372036854775807"
    )
    assert read(ahv_host(interface={column: INT64 - 1})).interface("tap0").columns == ((column, INT64 - 1),)


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("bfd", ovs_map(enable="yes please"), "a value"),
        ("lldp", ["map", [["en able", "true"]]], "a key"),
    ],
)
def test_bfd_and_lldp_entries_are_plain_text(column: str, value: Any, rule: str) -> None:
    message = refusal(ahv_host(interface={column: value})).message
    assert message.startswith(f"Interface tap0: {column}: "), message
    assert f"is not {rule}" in message


@pytest.mark.parametrize("value", ["NetDev", "net.dev", "_netdev"])
def test_a_datapath_type_is_an_identifier_in_lower_case(value: str) -> None:
    """ovs-vsctl reads it unquoted: only what an interface type may be (a-z 0-9 _ -)."""
    assert refusal(ahv_host(bridge={"datapath_type": value})).message == (
        f"Bridge br0: datapath_type: {value!r} is not an interface type: a-z 0-9 _ -, not starting with -"
    )
    assert read(ahv_host(bridge={"datapath_type": "net_dev-2"})).bridge_rows[0].columns == (
        ("datapath_type", "net_dev-2"),
    )
