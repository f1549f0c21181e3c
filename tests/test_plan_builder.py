"""The change-plan builder (generator.changes.steps) and the ovs-vsctl steps and read-backs it is made of
(generator.ovs.commands), in-process and exact: the changes in words, the transaction in order,
what the scripts read back before and after, what a plan leaves alone and the risks it names.

The scripts that run these plans on a real ovsdb-server are tested in test_change_windows.py
and test_plans.py; here each behaviour of the builder is pinned by value, so that a flipped
comparison or a dropped step shows at once. One test runs the column syntax through ovs-vsctl.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from generator.changes.node_changes import plan_designs, plan_from_host
from generator.changes.node_plan import NodePlan, Scope, phase
from generator.changes.plan_states import carry_over, with_untouched
from generator.changes.steps import plan_node, vm_ports
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.commands import (
    UNSET,
    Expectation,
    absent,
    bond_options,
    bridge_row_expectations,
    cell_arguments,
    converge,
    create_bridge,
    expectations,
    full_port_expectations,
    owner_expectation,
    port_expectations,
    read_back,
    update_bridge,
    update_interface,
    update_port,
)
from generator.ovs.state import (
    HOST_COLUMNS,
    OWNED,
    BridgeState,
    Cell,
    Columns,
    InterfaceState,
    OvsState,
    PortState,
)

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


# --- building states by hand ------------------------------------------------------


def own(bridge: str, tag: int | None = None, columns: Columns = ()) -> PortState:
    """A bridge's own port."""
    return PortState(bridge, bridge, "bridge", (bridge,), tag=tag, columns=columns)


def nic(name: str, bridge: str, **fields: Any) -> PortState:
    return PortState(name, bridge, "nic", (name,), **fields)


def internal(name: str, bridge: str, tag: int | None = None) -> PortState:
    return PortState(name, bridge, "internal", (name,), tag=tag)


def other(name: str, bridge: str, **fields: Any) -> PortState:
    return PortState(name, bridge, "other", (name,), **fields)


def bond(name: str, bridge: str, *members: str, mode: str = "balance-slb", **fields: Any) -> PortState:
    return PortState(name, bridge, "bond", members, bond_mode=mode, **fields)


def ids(**pairs: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key.replace("_", "-"), value) for key, value in pairs.items()))


VM_IDS: Columns = (("external_ids", ids(attached_mac="52:54:00:12:34:56", vm_id="vm-1")),)


def state(
    *ports: PortState,
    interfaces: tuple[InterfaceState, ...] = (),
    rows: tuple[BridgeState, ...] | None = None,
    bridges: tuple[str, ...] | None = None,
    system_id: str = "",
    hostname: str = "",
) -> OvsState:
    """An OvsState of `ports`; interfaces default to plain NICs (internal for bridges and
    internal ports) and bridges to ovsgen's, marked as built by it."""
    given = {interface.name: interface for interface in interfaces}
    names = bridges if bridges is not None else tuple(dict.fromkeys(port.bridge for port in ports))
    found = tuple(
        given.get(member) or InterfaceState(member, None, "internal" if port.kind in ("bridge", "internal") else "")
        for port in ports
        for member in port.members
    )
    rows = rows if rows is not None else tuple(BridgeState(name, OWNED) for name in names)
    return OvsState(names, ports, found, rows, system_id, hostname)


def default_shown(value: Cell) -> str:
    """A column's default as the scripts read it back: an empty set, map or string is unset."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else UNSET


def host_lines(table: str, record: str, **values: str) -> list[str]:
    """The read-back of a row's host columns: `values`, and the others at their defaults."""
    return [
        f"{table} {record} {column} = {values.get(column, default_shown(default))}"
        for column, default in HOST_COLUMNS[table].items()
    ]


def interface_lines(name: str, mtu: str = UNSET, kind: str = UNSET, options: str = UNSET, **host: str) -> list[str]:
    """The read-back of an interface a plan deletes or builds: all of it."""
    return [
        f"Interface {name} mtu_request = {mtu}",
        f"Interface {name} type = {kind}",
        f"Interface {name} options = {options}",
        f"Interface {name} mac = (unset)",  # a MAC set by hand stops a plan that would lose it
        *host_lines("Interface", name, **host),
    ]


INTERFACE_LINES = len(interface_lines("x"))


def plan(
    before: OvsState,
    after: OvsState,
    *,
    removable_ports: Collection[str] = (),
    removable_bridges: Collection[str] = (),
    host_bridges: Collection[str] = (),
    managed_ports: Collection[str] | None = None,
    prune_bridges: bool = False,
) -> NodePlan:
    """A plan with `plan_node`; by default the target's bridges are the ones a design names
    (their own ports are design ports), as in every plan ovsgen makes."""
    limits = (frozenset(removable_ports), frozenset(removable_bridges), frozenset(host_bridges))
    managed = frozenset(after.bridges if managed_ports is None else managed_ports)
    return plan_node("n1", before, after, Scope(*limits, managed, prune_bridges=prune_bridges))


def texts(node_plan: NodePlan) -> list[str]:
    return [change.text for change in node_plan.changes]


def lines(found: list[Expectation]) -> list[str]:
    return [expectation.line() for expectation in found]


def summary(node_plan: NodePlan) -> dict[str, object]:
    return {
        "changes": [(change.text, change.risky) for change in node_plan.changes],
        "commands": node_plan.commands,
        "left_alone": list(node_plan.left_alone),
        "touched": (node_plan.touched_ports, node_plan.touched_bridges),
        "replaced": node_plan.replaced_ports,
        "built": node_plan.built_ports,
        "removed_bridges": node_plan.removed_bridges,
        "risks": [risk.split(":")[0] for risk in node_plan.risks],
    }


HOST_RISK = (
    "this change touches the host bridge br0 (its uplinks, host port or VLAN) and can cut the management connection"
)


# --- plans between two designs -------------------------------------------------------


DESIGN_PLANS: list[tuple[str, str, str, dict[str, object]]] = [
    (
        "base",
        "lacp-on",
        "c1",
        {
            "changes": [("br1-up: bond_mode balance-slb -> balance-tcp, LACP active fast with fallback", False)],
            "commands": [
                (
                    "set",
                    "Port",
                    "br1-up",
                    "bond_mode=balance-tcp",
                    "lacp=active",
                    "other_config:lacp-time=fast",
                    "other_config:lacp-fallback-ab=true",
                )
            ],
            "left_alone": [],
            "touched": (("br1-up",), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": [],
        },
    ),
    (
        "lacp-on",
        "base",
        "c1",
        {
            "changes": [("br1-up: bond_mode balance-tcp -> balance-slb, LACP off", False)],
            "commands": [
                ("set", "Port", "br1-up", "bond_mode=balance-slb"),
                ("clear", "Port", "br1-up", "lacp"),
                ("remove", "Port", "br1-up", "other_config", "lacp-time", "lacp-fallback-ab"),
            ],
            "left_alone": [],
            "touched": (("br1-up",), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": [],
        },
    ),
    (
        "base",
        "members-swapped",
        "c1",
        {
            "changes": [("eth4 joins br1-up; eth1 leaves br1-up (br1-up rebuilt in the same transaction)", False)],
            "commands": [
                ("del-port", "br1", "br1-up"),
                ("add-bond", "br1", "br1-up", "eth0", "eth4"),
                ("set", "Port", "br1-up", "bond_mode=balance-slb"),
            ],
            "left_alone": [],
            "touched": (("br1-up",), ()),
            "replaced": ("br1-up",),
            "built": ("br1-up",),
            "removed_bridges": (),
            "risks": [],
        },
    ),
    (
        "bridge-added",
        "base",
        "c1",
        {
            "changes": [("bridge br2 removed with its ports eth4", False)],
            "commands": [("del-br", "br2")],
            "left_alone": [],
            "touched": (("eth4",), ("br2",)),
            "replaced": ("eth4",),
            "built": (),
            "removed_bridges": ("br2",),
            "risks": [],
        },
    ),
    (
        "base",
        "bridge-added",
        "c1",
        {
            "changes": [("bridge br2 added", False), ("uplink eth4 added on br2", False)],
            "commands": [
                ("add-br", "br2"),
                ("add-port", "br2", "eth4"),
                ("set", "Bridge", "br2", "external_ids:managed-by=ovsgen"),
                ("set", "Interface", "eth4", "mtu_request=9000"),
            ],
            "left_alone": [],
            "touched": (("eth4",), ("br2",)),
            "replaced": (),
            "built": ("eth4",),
            "removed_bridges": (),
            "risks": [],
        },
    ),
    (
        "host-vlan-10",
        "host-vlan-20",
        "c1",
        {
            "changes": [("br0 host port: VLAN 10 -> 20", True)],
            "commands": [("set", "Port", "br0", "tag=20")],
            "left_alone": [],
            "touched": (("br0",), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": [HOST_RISK, "the host VLAN of br0 moves (10 -> 20)"],
        },
    ),
    (
        "host-vlan-10",
        "base",
        "c1",
        {
            "changes": [("br0 host port: VLAN 10 -> untagged", True)],
            "commands": [("clear", "Port", "br0", "tag")],
            "left_alone": [],
            "touched": (("br0",), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": [HOST_RISK, "the host VLAN of br0 moves (10 -> untagged)"],
        },
    ),
    (
        "base",
        "internal-port-added",
        "c1",
        {
            "changes": [("internal port storage0 added on br1 (VLAN 50)", False)],
            "commands": [
                ("add-port", "br1", "storage0"),
                ("set", "Port", "storage0", "tag=50"),
                ("set", "Interface", "storage0", "type=internal"),
            ],
            "left_alone": [],
            "touched": (("storage0",), ()),
            "replaced": (),
            "built": ("storage0",),
            "removed_bridges": (),
            "risks": [],
        },
    ),
    (
        "internal-port-added",
        "base",
        "c1",
        {
            "changes": [("internal port storage0 removed from br1", False)],
            "commands": [("del-port", "br1", "storage0")],
            "left_alone": [],
            "touched": (("storage0",), ()),
            "replaced": ("storage0",),
            "built": (),
            "removed_bridges": (),
            "risks": [],
        },
    ),
    (
        "base",
        "mtu-9000",
        "c1",
        {
            "changes": [("br1-up: eth0 MTU default -> 9000, eth1 MTU default -> 9000", False)],
            "commands": [
                ("set", "Interface", "eth0", "mtu_request=9000"),
                ("set", "Interface", "eth1", "mtu_request=9000"),
            ],
            "left_alone": [],
            "touched": (("br1-up",), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": ["the MTU of every member of br1-up (eth0, eth1) changes in one transaction"],
        },
    ),
    (
        "mtu-9000",
        "base",
        "c1",
        {
            "changes": [("br1-up: eth0 MTU 9000 -> default, eth1 MTU 9000 -> default", False)],
            "commands": [
                ("clear", "Interface", "eth0", "mtu_request"),
                ("clear", "Interface", "eth1", "mtu_request"),
            ],
            "left_alone": [],
            "touched": (("br1-up",), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": ["the MTU of every member of br1-up (eth0, eth1) changes in one transaction"],
        },
    ),
    (
        "base",
        "switch-br0-lacp",
        "c1",
        {
            "changes": [("br0-up: bond_mode active-backup -> balance-tcp, LACP active fast with fallback", True)],
            "commands": [
                (
                    "set",
                    "Port",
                    "br0-up",
                    "bond_mode=balance-tcp",
                    "lacp=active",
                    "other_config:lacp-time=fast",
                    "other_config:lacp-fallback-ab=true",
                )
            ],
            "left_alone": [],
            "touched": (("br0-up",), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": [HOST_RISK, "the host bridge's uplink br0-up changes its bond mode or LACP"],
        },
    ),
    (
        "base",
        "node-added",
        "c3",
        {
            "changes": [
                ("bridge br0 added", True),
                ("bridge br1 added", False),
                ("br0 host port: MTU default -> 1500", True),
                ("bond br0-up added on br0: eth2, eth3 (active-backup)", True),
                ("bond br1-up added on br1: eth0, eth1 (balance-slb)", False),
            ],
            "commands": [
                ("add-br", "br0"),
                ("add-br", "br1"),
                ("add-bond", "br0", "br0-up", "eth2", "eth3"),
                ("add-bond", "br1", "br1-up", "eth0", "eth1"),
                ("set", "Bridge", "br0", "external_ids:managed-by=ovsgen"),
                ("set", "Bridge", "br1", "external_ids:managed-by=ovsgen"),
                ("set", "Interface", "br0", "mtu_request=1500"),
                ("set", "Port", "br0-up", "bond_mode=active-backup"),
                ("set", "Port", "br1-up", "bond_mode=balance-slb"),
            ],
            "left_alone": [],
            "touched": (("br0", "br0-up", "br1-up"), ("br0", "br1")),
            "replaced": (),
            "built": ("br0-up", "br1-up"),
            "removed_bridges": (),
            "risks": [HOST_RISK],
        },
    ),
    (
        "node-added",
        "base",
        "c3",
        {
            "changes": [
                ("bridge br0 removed with its ports br0-up", True),
                ("bridge br1 removed with its ports br1-up", False),
            ],
            "commands": [("del-br", "br0"), ("del-br", "br1")],
            "left_alone": [],
            "touched": (("br0-up", "br1-up"), ("br0", "br1")),
            "replaced": ("br0-up", "br1-up"),
            "built": (),
            "removed_bridges": ("br0", "br1"),
            "risks": [HOST_RISK],
        },
    ),
    (
        "base",
        "networks-changed",
        "c1",
        {
            "changes": [],
            "commands": [],
            "left_alone": [],
            "touched": ((), ()),
            "replaced": (),
            "built": (),
            "removed_bridges": (),
            "risks": [],
        },
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "node", "expected"), DESIGN_PLANS, ids=[f"{o}->{n}" for o, n, _, _ in DESIGN_PLANS]
)
def test_a_plan_between_designs(old: str, new: str, node: str, expected: dict[str, object]) -> None:
    (change,) = plan_designs(design(old), design(new), (node,))
    assert summary(change.ovs) == expected
    assert change.ovs.risky == any(risky for _, risky in expected["changes"])  # type: ignore[attr-defined]


def test_removing_a_bridge_reads_back_its_whole_row_and_its_ports_before() -> None:
    (change,) = plan_designs(design("bridge-added"), design("base"), ("c1",))
    assert lines(change.ovs.expectations_before()) == [
        "Bridge br2 name = br2",
        "Bridge br2 external_ids:managed-by = ovsgen",
        "Bridge br2 @ports = eth4",
        "Bridge br2 external_ids = {managed-by=ovsgen}",
        "Bridge br2 other_config = (unset)",
        "Bridge br2 fail_mode = (unset)",
        "Bridge br2 datapath_type = (unset)",
        "Bridge br2 protocols = (unset)",
        "Bridge br2 stp_enable = false",
        "Bridge br2 rstp_enable = false",
        "Bridge br2 mcast_snooping_enable = false",
        "Port eth4 @bridge = br2",
        "Port eth4 tag = (unset)",
        "Port eth4 other_config = (unset)",
        "Port eth4 trunks = (unset)",
        "Port eth4 vlan_mode = (unset)",
        "Port eth4 bond_updelay = 0",
        "Port eth4 bond_downdelay = 0",
        "Port eth4 external_ids = (unset)",
        "Port eth4 qos = (unset)",
        "Port eth4 @mirrors = (unset)",
        "Port eth4 bond_mode = (unset)",
        "Port eth4 lacp = (unset)",
        *interface_lines("eth4", mtu="9000"),
    ]
    assert lines(change.ovs.expectations_after()) == ["Bridge br2 name = (unset)", "Port eth4 @bridge = (unset)"]
    # Its rollback builds the bridge again: the bridge is absent before, marked after.
    assert lines(change.ovs_rollback.expectations_before()) == [
        "Bridge br2 name = (unset)",
        "Port eth4 @bridge = (unset)",
    ]
    assert lines(change.ovs_rollback.expectations_after())[:3] == [
        "Bridge br2 name = br2",
        "Bridge br2 external_ids:managed-by = ovsgen",
        "Port eth4 @bridge = br2",
    ]


def test_a_rebuilt_bond_is_read_back_whole_on_both_sides() -> None:
    (change,) = plan_designs(design("base"), design("member-added"), ("c1",))
    bond_lines = [
        "Port br1-up @bridge = br1",
        "Port br1-up @members = eth0 eth1",
        "Port br1-up bond_mode = balance-slb",
        "Port br1-up lacp = (unset)",
        "Port br1-up other_config:lacp-time = (unset)",
        "Port br1-up other_config:lacp-fallback-ab = (unset)",
        "Port br1-up other_config:bond-rebalance-interval = (unset)",
        "Port br1-up other_config:bond-primary = (unset)",
        "Port br1-up tag = (unset)",
        "Port br1-up other_config = (unset)",
        "Port br1-up trunks = (unset)",
        "Port br1-up vlan_mode = (unset)",
        "Port br1-up bond_updelay = 0",
        "Port br1-up bond_downdelay = 0",
        "Port br1-up external_ids = (unset)",
        "Port br1-up qos = (unset)",
        "Port br1-up @mirrors = (unset)",
    ]
    before = bond_lines + [line for name in ("eth0", "eth1") for line in interface_lines(name)]
    after = [line.replace("eth0 eth1", "eth0 eth1 eth4") for line in bond_lines]
    after += [line for name in ("eth0", "eth1", "eth4") for line in interface_lines(name)]
    assert lines(change.ovs.expectations_before()) == before
    assert lines(change.ovs.expectations_after()) == after
    assert lines(change.ovs_rollback.expectations_before()) == after


def test_a_changed_port_reads_back_only_its_managed_columns() -> None:
    (change,) = plan_designs(design("base"), design("lacp-on"), ("c1",))
    assert lines(change.ovs.expectations_after()) == [
        "Port br1-up @bridge = br1",
        "Port br1-up @members = eth0 eth1",
        "Port br1-up bond_mode = balance-tcp",
        "Port br1-up lacp = active",
        "Port br1-up other_config:lacp-time = fast",
        "Port br1-up other_config:lacp-fallback-ab = true",
        "Port br1-up other_config:bond-rebalance-interval = (unset)",
        "Port br1-up other_config:bond-primary = (unset)",
        "Interface eth0 mtu_request = (unset)",
        "Interface eth1 mtu_request = (unset)",
    ]
    (host,) = plan_designs(design("base"), design("host-vlan-10"), ("c1",))
    assert lines(host.ovs.expectations_before()) == ["Port br0 tag = (unset)", "Interface br0 mtu_request = 1500"]
    assert lines(host.ovs.expectations_after()) == ["Port br0 tag = 10", "Interface br0 mtu_request = 1500"]
    (removed,) = plan_designs(design("internal-port-added"), design("base"), ("c1",))
    assert lines(removed.ovs.expectations_after()) == ["Port storage0 @bridge = (unset)"]
    assert lines(removed.ovs.expectations_before())[:2] == ["Port storage0 @bridge = br1", "Port storage0 tag = 50"]
    assert "Interface storage0 type = internal" in lines(removed.ovs.expectations_before())


# --- the transaction ---------------------------------------------------------------------


def test_the_transaction_deletes_before_it_creates_and_sets_columns_last() -> None:
    before = state(
        own("br-old"),
        nic("eth7", "br-old"),
        own("br1"),
        bond("br1-up", "br1", "eth0", "eth1"),
        nic("eth5", "br1"),
    )
    after = state(
        own("br-new"),
        nic("eth9", "br-new"),
        own("br1"),
        bond("br1-up", "br1", "eth0", "eth4"),
    )
    found = plan(
        before,
        after,
        removable_ports={"eth5", "eth7"},
        removable_bridges={"br-old"},
        managed_ports={"eth5", "eth7", "eth9", "br1-up", "br-new", "br1"},
    )
    assert found.commands == [
        ("del-port", "br1", "eth5"),
        ("del-port", "br1", "br1-up"),
        ("del-br", "br-old"),
        ("add-br", "br-new"),
        ("add-port", "br-new", "eth9"),
        ("add-bond", "br1", "br1-up", "eth0", "eth4"),
        ("set", "Bridge", "br-new", "external_ids:managed-by=ovsgen"),
        ("set", "Port", "br1-up", "bond_mode=balance-slb"),
    ]
    assert texts(found) == [
        "bridge br-old removed with its ports eth7",
        "uplink eth5 removed from br1",
        "bridge br-new added",
        "uplink eth9 added on br-new",
        "eth4 joins br1-up; eth1 leaves br1-up (br1-up rebuilt in the same transaction)",
    ]
    assert found.touched_ports == ("br1-up", "eth5", "eth7", "eth9")
    assert found.touched_bridges == ("br-new", "br-old")
    assert found.replaced_ports == ("br1-up", "eth5", "eth7")
    assert found.removed_bridges == ("br-old",)
    assert not found.risky
    assert found.node == "n1"


def test_options_before_a_verb_do_not_change_its_place() -> None:
    commands = [
        ("set", "Port", "p", "tag=1"),
        ("--may-exist", "add-port", "br0", "p"),
        ("--may-exist", "add-br", "br0"),
        ("--if-exists", "del-br", "br9"),
        ("--if-exists", "del-port", "br0", "q"),
    ]
    assert sorted(commands, key=phase) == [commands[4], commands[3], commands[2], commands[1], commands[0]]


def test_nics_are_the_members_of_uplinks_the_plan_touches() -> None:
    before = state(own("br0"), bond("br0-up", "br0", "eth2", "eth3"), own("br1"), bond("br1-up", "br1", "eth0", "eth1"))
    after = state(
        own("br0"),
        bond("br0-up", "br0", "eth2", "eth3", mode="active-backup"),
        own("br1"),
        bond("br1-up", "br1", "eth10", "eth1"),
        nic("eth9", "br1"),
        internal("stor0", "br1", tag=5),
    )
    found = plan(before, after)
    assert found.touched_ports == ("br0-up", "br1-up", "eth9", "stor0")
    assert found.nics() == ["eth1", "eth2", "eth3", "eth9", "eth10"]
    untouched = plan(before, state(*before.ports[:3], bond("br1-up", "br1", "eth0", "eth1", mode="balance-tcp")))
    assert untouched.nics() == ["eth0", "eth1"]


# --- bridges ----------------------------------------------------------------------------


def _host_bridges() -> OvsState:
    """A host with the design's br0 and four bridges the design does not have."""
    return state(
        own("br0"),
        nic("eth0", "br0"),
        own("br-built"),
        nic("eth5", "br-built"),
        nic("eth6", "br-built"),
        own("br-hand"),
        nic("eth9", "br-hand"),
        own("br-vm"),
        nic("vnet3", "br-vm"),
        nic("vnet10", "br-vm"),
        own("br-ctl"),
        interfaces=(InterfaceState("vnet3", None, columns=VM_IDS), InterfaceState("vnet10", None, columns=VM_IDS)),
        rows=(
            BridgeState("br0", OWNED),
            BridgeState("br-built", (("external_ids", ids(managed_by="ovsgen", owner="ops")),)),
            BridgeState("br-hand", (("fail_mode", "secure"),)),
            BridgeState("br-vm", OWNED),
            BridgeState("br-ctl", OWNED, unrestorable=("a controller", "mirrors")),
        ),
    )


def test_prune_removes_only_bridges_ovsgen_built_that_hold_nothing_it_cannot_restore() -> None:
    host = _host_bridges()
    target = state(own("br0"), nic("eth0", "br0"))
    found = plan(host, target, prune_bridges=True)
    assert found.left_alone == (
        "bridge br-hand (not in the design; not built by ovsgen (no external_ids:managed-by=ovsgen), "
        "so --prune leaves it)",
        "bridge br-vm (not in the design; it carries VM ports vnet3, vnet10: move those VMs first)",
        "bridge br-ctl (not in the design; it has a controller, mirrors that a rollback could not put back)",
    )
    assert texts(found) == ["bridge br-built removed with its ports eth5, eth6"]
    assert found.commands == [("del-br", "br-built")]
    assert found.removed_bridges == ("br-built",)
    assert found.touched_bridges == ("br-built",)
    assert found.replaced_ports == ("eth5", "eth6")
    assert lines(found.expectations_before())[:5] == [
        "Bridge br-built name = br-built",
        "Bridge br-built external_ids:managed-by = ovsgen",
        "Bridge br-built @ports = eth5 eth6",
        "Bridge br-built external_ids = {managed-by=ovsgen, owner=ops}",
        "Bridge br-built other_config = (unset)",
    ]
    assert lines(found.expectations_after()) == [
        "Bridge br-built name = (unset)",
        "Port eth5 @bridge = (unset)",
        "Port eth6 @bridge = (unset)",
    ]


def test_without_prune_a_bridge_the_design_dropped_stays() -> None:
    host = _host_bridges()
    found = plan(host, state(own("br0"), nic("eth0", "br0")))
    reason = "(not in the design; --prune removes it if ovsgen built it)"
    assert found.left_alone == tuple(f"bridge {name} {reason}" for name in ("br-built", "br-hand", "br-vm", "br-ctl"))
    assert found.changes == ()
    assert found.removed_bridges == found.touched_bridges == found.replaced_ports == ()


def test_a_bridge_the_old_design_managed_is_removed_whatever_it_holds() -> None:
    host = _host_bridges()
    found = plan(host, state(own("br0"), nic("eth0", "br0")), removable_bridges={"br-vm", "br-hand"})
    assert texts(found) == [
        "bridge br-hand removed with its ports eth9",
        "bridge br-vm removed with its ports vnet3, vnet10",
    ]
    bare = plan(state(own("br0"), own("br-x")), state(own("br0")), removable_bridges={"br-x"})
    assert texts(bare) == ["bridge br-x removed"]
    assert bare.touched_ports == bare.replaced_ports == ()


def test_a_bridge_taken_over_from_a_host_gets_the_mark_and_loses_it_on_rollback() -> None:
    host = state(own("br0"), rows=(BridgeState("br0", (("fail_mode", "standalone"),)),))
    target = carry_over(host, state(own("br0")))
    assert target.bridge_rows == (
        BridgeState("br0", (("external_ids", (("managed-by", "ovsgen"),)), ("fail_mode", "standalone"))),
    )
    found = plan(host, target)
    assert texts(found) == ["bridge br0 marked as built by ovsgen (external_ids:managed-by)"]
    assert found.commands == [("set", "Bridge", "br0", "external_ids:managed-by=ovsgen")]
    assert found.touched_bridges == ("br0",)
    assert not found.risky  # only a mark
    assert lines(found.expectations_before()) == [
        "Bridge br0 name = br0",
        "Bridge br0 external_ids:managed-by = (unset)",
    ]
    assert lines(found.expectations_after()) == ["Bridge br0 name = br0", "Bridge br0 external_ids:managed-by = ovsgen"]
    back = plan(target, host, host_bridges={"br0"})
    assert texts(back) == ["bridge br0 no longer marked as built by ovsgen (external_ids:managed-by)"]
    assert back.commands == [("remove", "Bridge", "br0", "external_ids", "managed-by")]
    assert not back.risky
    assert back.risks == ()
    assert plan(host, host).changes == ()


def test_a_bridge_a_rollback_restores_comes_back_with_its_columns() -> None:
    row = BridgeState("br-hand", (("fail_mode", "secure"), ("stp_enable", True)))
    found = plan(
        state(own("br0")),
        state(own("br0"), own("br-hand"), nic("eth9", "br-hand"), rows=(BridgeState("br0", OWNED), row)),
        managed_ports={"br0"},  # br-hand is the host's: no design names it
    )
    assert texts(found) == ["bridge br-hand restored", "port eth9 restored on br-hand"]
    assert found.commands == [
        ("add-br", "br-hand"),
        ("add-port", "br-hand", "eth9"),
        ("set", "Bridge", "br-hand", "fail_mode=secure", "stp_enable=true"),
    ]
    assert lines(found.expectations_after())[:2] == [
        "Bridge br-hand name = br-hand",
        "Bridge br-hand external_ids:managed-by = (unset)",
    ]


def test_a_new_bridge_gets_its_own_port_set_when_the_design_sets_it() -> None:
    found = plan(
        state(own("br0")),
        state(own("br0"), own("br1", tag=7), interfaces=(InterfaceState("br1", 9000, "internal"),)),
        host_bridges={"br1"},
    )
    assert texts(found) == ["bridge br1 added", "br1 host port: VLAN untagged -> 7, MTU default -> 9000"]
    assert found.commands == [
        ("add-br", "br1"),
        ("set", "Bridge", "br1", "external_ids:managed-by=ovsgen"),
        ("set", "Port", "br1", "tag=7"),
        ("set", "Interface", "br1", "mtu_request=9000"),
    ]
    # A new bridge has no host VLAN to move from: only the host-bridge note.
    assert [risk.split(" (")[0] for risk in found.risks] == ["this change touches the host bridge br1"]
    quiet = plan(state(own("br0")), state(own("br0"), own("br1")))
    assert texts(quiet) == ["bridge br1 added"]


def test_an_own_port_that_is_not_the_hosts_says_so() -> None:
    found = plan(state(own("br1")), state(own("br1", tag=3)), host_bridges={"br0"})
    assert texts(found) == ["br1 own port: VLAN untagged -> 3"]
    assert found.risks == ()
    assert not found.risky
    mtu = plan(state(own("br1")), state(own("br1"), interfaces=(InterfaceState("br1", 1500, "internal"),)))
    assert texts(mtu) == ["br1 own port: MTU default -> 1500"]
    assert mtu.commands == [("set", "Interface", "br1", "mtu_request=1500")]


# --- ports -------------------------------------------------------------------------------


def _host_with_vm() -> OvsState:
    return state(
        own("br1"),
        bond("br1-up", "br1", "eth0", "eth1"),
        nic("vnet0", "br1", tag=40),
        nic("vnet1", "br1"),
        other("vx0", "br1"),
        internal("mgmt0", "br1", tag=5),
        nic("eth7", "br1"),
        interfaces=(
            InterfaceState("vnet0", None, columns=VM_IDS),
            InterfaceState("vnet1", None, columns=(("external_ids", ids(iface_id="if-9")),)),
            InterfaceState("vx0", None, "vxlan", (("remote_ip", "192.0.2.7"),)),
        ),
    )


def test_a_plan_never_removes_a_vm_tap_and_names_the_vm() -> None:
    host = _host_with_vm()
    target = state(own("br1"), bond("br1-up", "br1", "eth0", "eth1"))
    pruned = {port.name for port in host.ports} - {"br1", "br1-up"}
    found = plan(host, target, removable_ports=pruned)
    assert found.left_alone == (
        "VM port vnet0 on br1 (VM vm-1; plans never remove a VM's tap)",
        "VM port vnet1 on br1 (VM iface-id if-9; plans never remove a VM's tap)",
    )
    assert texts(found) == [
        "port vx0 removed from br1",
        "internal port mgmt0 removed from br1",
        "port eth7 removed from br1",
    ]
    assert found.replaced_ports == ("eth7", "mgmt0", "vx0")
    assert vm_ports(host) == ["vnet0", "vnet1"]
    assert vm_ports(host, "br1") == ["vnet0", "vnet1"]
    assert vm_ports(host, "br0") == []


def test_ports_the_design_does_not_name_are_left_alone_without_prune() -> None:
    host = _host_with_vm()
    target = state(own("br1"), bond("br1-up", "br1", "eth0", "eth1"))
    found = plan(host, target, managed_ports={"mgmt0", "eth7"})
    assert found.left_alone == (
        "VM port vnet0 on br1 (VM vm-1; plans never remove a VM's tap)",
        "VM port vnet1 on br1 (VM iface-id if-9; plans never remove a VM's tap)",
        "port vx0 on br1 (not in the design)",
        "internal port mgmt0 on br1 (not in the design)",
        "uplink eth7 on br1 (not in the design)",
    )
    assert found.changes == ()
    assert found.touched_ports == ()


def test_a_nic_the_design_puts_into_a_bond_leaves_its_old_port() -> None:
    host = state(own("br1"), nic("eth0", "br1"), nic("eth1", "br1", tag=3), own("br2"), nic("eth4", "br2"))
    target = state(own("br1"), bond("br1-up", "br1", "eth0", "eth1"), own("br2"), nic("eth4", "br2"))
    found = plan(host, target, managed_ports={"br1-up"})
    assert texts(found) == [
        "port eth0 removed from br1",
        "port eth1 removed from br1",
        "bond br1-up added on br1: eth0, eth1 (balance-slb)",
    ]
    assert found.commands == [
        ("del-port", "br1", "eth0"),
        ("del-port", "br1", "eth1"),
        ("add-bond", "br1", "br1-up", "eth0", "eth1"),
        ("set", "Port", "br1-up", "bond_mode=balance-slb"),
    ]
    assert found.replaced_ports == ("eth0", "eth1")
    assert found.left_alone == ()


def test_ports_of_bridges_the_target_lacks_are_not_removed_one_by_one() -> None:
    host = state(own("br0"), own("br9"), nic("eth9", "br9"))
    found = plan(host, state(own("br0")), removable_ports={"eth9"})
    assert found.changes == ()
    assert found.left_alone == ("bridge br9 (not in the design; --prune removes it if ovsgen built it)",)


def test_a_port_new_to_the_host_is_added_or_restored() -> None:
    before = state(own("br1"))
    after = state(
        own("br1"),
        nic("eth4", "br1"),
        internal("stor0", "br1", tag=50),
        other(
            "vx0",
            "br1",
            other_config=(("priority-tags", "true"),),
            columns=(("vlan_mode", "trunk"), ("trunks", (32, 40))),
        ),
        nic("vnet5", "br1", tag=40),
        bond("br1-up", "br1", "eth0", "eth1", mode="balance-tcp", lacp="active", other_config=(("lacp-time", "fast"),)),
        interfaces=(
            InterfaceState("stor0", 1500, "internal"),
            InterfaceState(
                "vx0", None, "vxlan", (("key", "5"), ("remote_ip", "192.0.2.7")), (("external_ids", ids(a="b")),)
            ),
            InterfaceState("vnet5", None, columns=VM_IDS),
        ),
    )
    found = plan(before, after, managed_ports={"eth4", "stor0", "br1-up"})
    assert texts(found) == [
        "uplink eth4 added on br1",
        "internal port stor0 added on br1 (VLAN 50)",
        "port vx0 restored on br1",
        "port vnet5 restored on br1 (VLAN 40)",
        "bond br1-up added on br1: eth0, eth1 (balance-tcp, LACP active fast)",
    ]
    assert found.commands == [
        ("add-port", "br1", "eth4"),
        ("add-port", "br1", "stor0"),
        ("add-port", "br1", "vx0"),
        ("add-port", "br1", "vnet5"),
        ("add-bond", "br1", "br1-up", "eth0", "eth1"),
        ("set", "Port", "stor0", "tag=50"),
        ("set", "Interface", "stor0", "type=internal", "mtu_request=1500"),
        ("set", "Port", "vx0", "other_config:priority-tags=true"),
        ("set", "Port", "vx0", "vlan_mode=trunk", "trunks=[32,40]"),
        ("set", "Interface", "vx0", "type=vxlan", "options:key=5", "options:remote_ip=192.0.2.7", "external_ids:a=b"),
        ("set", "Port", "vnet5", "tag=40"),
        (
            "set", "Interface", "vnet5",
            "external_ids:attached-mac=52:54:00:12:34:56", "external_ids:vm-id=vm-1",
        ),
        ("set", "Port", "br1-up", "bond_mode=balance-tcp", "lacp=active", "other_config:lacp-time=fast"),
    ]  # fmt: skip
    assert found.replaced_ports == ()
    assert lines(found.expectations_before()) == [
        "Port br1-up @bridge = (unset)",
        "Port eth4 @bridge = (unset)",
        "Port stor0 @bridge = (unset)",
        "Port vnet5 @bridge = (unset)",
        "Port vx0 @bridge = (unset)",
    ]
    # A port the plan builds is read back whole: nothing but what it set may be there.
    read = lines(found.expectations_after())
    assert [line for line in read if line.endswith("@bridge = br1")] == [
        f"Port {name} @bridge = br1" for name in ("br1-up", "eth4", "stor0", "vnet5", "vx0")
    ]
    assert [line for line in read if " vx0 " in line] == [
        "Port vx0 @bridge = br1",
        "Port vx0 tag = (unset)",
        "Port vx0 other_config = {priority-tags=true}",
        "Port vx0 trunks = [32, 40]",
        "Port vx0 vlan_mode = trunk",
        "Port vx0 bond_updelay = 0",
        "Port vx0 bond_downdelay = 0",
        "Port vx0 external_ids = (unset)",
        "Port vx0 qos = (unset)",
        "Port vx0 @mirrors = (unset)",
        "Port vx0 bond_mode = (unset)",
        "Port vx0 lacp = (unset)",
        *interface_lines("vx0", kind="vxlan", options="{key=5, remote_ip=192.0.2.7}", external_ids="{a=b}"),
    ]
    assert "Interface vnet5 external_ids = {attached-mac=52:54:00:12:34:56, vm-id=vm-1}" in read
    assert "Port br1-up other_config = {lacp-time=fast}" in read
    assert len(read) == 17 + 2 * INTERFACE_LINES + 4 * (12 + INTERFACE_LINES)  # a bond has 17 Port lines, others 12


def test_a_removed_port_is_read_back_whole_first() -> None:
    span = other(
        "span0",
        "br1",
        tag=10,
        other_config=(("priority-tags", "true"),),
        columns=(("trunks", (10, 20)), ("vlan_mode", "native-untagged"), ("external_ids", ids(owner="netops"))),
    )
    host = state(
        own("br1"),
        span,
        interfaces=(InterfaceState("span0", None, "patch", (("peer", "x"),), (("other_config", ids(x="1")),)),),
    )
    found = plan(host, state(own("br1")), removable_ports={"span0"})
    assert texts(found) == ["port span0 removed from br1"]
    assert lines(found.expectations_before()) == [
        "Port span0 @bridge = br1",
        "Port span0 tag = 10",
        "Port span0 other_config = {priority-tags=true}",
        "Port span0 trunks = [10, 20]",
        "Port span0 vlan_mode = native-untagged",
        "Port span0 bond_updelay = 0",
        "Port span0 bond_downdelay = 0",
        "Port span0 external_ids = {owner=netops}",
        "Port span0 qos = (unset)",
        "Port span0 @mirrors = (unset)",
        "Port span0 bond_mode = (unset)",
        "Port span0 lacp = (unset)",
        *interface_lines("span0", kind="patch", options="{peer=x}", other_config="{x=1}"),
    ]
    assert lines(found.expectations_after()) == ["Port span0 @bridge = (unset)"]
    # Its rollback restores the row whole.
    back = plan(state(own("br1")), host)
    assert back.commands == [
        ("add-port", "br1", "span0"),
        ("set", "Port", "span0", "other_config:priority-tags=true"),
        ("set", "Port", "span0", "tag=10"),
        ("set", "Port", "span0", "trunks=[10,20]", "vlan_mode=native-untagged", "external_ids:owner=netops"),
        ("set", "Interface", "span0", "type=patch", "options:peer=x", "other_config:x=1"),
    ]
    assert lines(back.expectations_after()) == lines(found.expectations_before())


# --- ports that change in place ----------------------------------------------------------


def test_an_internal_port_moves_vlan_in_place() -> None:
    found = plan(
        state(own("br1"), internal("stor0", "br1", tag=50)), state(own("br1"), internal("stor0", "br1", tag=60))
    )
    assert texts(found) == ["stor0: VLAN 50 -> 60"]
    assert found.commands == [("set", "Port", "stor0", "tag=60")]
    assert lines(found.expectations_after()) == [
        "Port stor0 @bridge = br1",
        "Port stor0 tag = 60",
        "Interface stor0 mtu_request = (unset)",
    ]
    untagged = plan(state(own("br1"), internal("stor0", "br1", tag=50)), state(own("br1"), internal("stor0", "br1")))
    assert texts(untagged) == ["stor0: VLAN 50 -> untagged"]
    assert untagged.commands == [("clear", "Port", "stor0", "tag")]
    assert (
        plan(
            state(own("br1"), internal("stor0", "br1", tag=50)), state(own("br1"), internal("stor0", "br1", tag=50))
        ).changes
        == ()
    )


def test_a_vm_tap_the_design_does_not_manage_keeps_its_tag() -> None:
    # A host's port found as a NIC: ovsgen does not manage its tag, so no change says it moves.
    host = state(own("br1"), nic("eth4", "br1", tag=7))
    assert plan(host, state(own("br1"), nic("eth4", "br1"))).changes == ()


def test_bond_changes_in_words_and_commands() -> None:
    def change(old: PortState, new: PortState) -> tuple[list[str], list[tuple[str, ...]]]:
        found = plan(state(own("br1"), old), state(own("br1"), new))
        return texts(found), found.commands

    slb = bond("up", "br1", "eth0", "eth1")
    assert change(slb, bond("up", "br1", "eth0", "eth1", mode="balance-tcp", lacp="active")) == (
        ["up: bond_mode balance-slb -> balance-tcp, LACP active slow"],
        [("set", "Port", "up", "bond_mode=balance-tcp", "lacp=active")],
    )
    tcp = bond("up", "br1", "eth0", "eth1", mode="balance-tcp", lacp="active", other_config=(("lacp-time", "fast"),))
    passive = bond(
        "up", "br1", "eth0", "eth1", mode="balance-tcp", lacp="passive",
        other_config=(("lacp-fallback-ab", "true"), ("lacp-time", "slow")),
    )  # fmt: skip
    assert change(tcp, passive) == (
        ["up: LACP active -> passive, LACP rate fast -> slow, LACP fallback default -> true"],
        [("set", "Port", "up", "lacp=passive", "other_config:lacp-time=slow", "other_config:lacp-fallback-ab=true")],
    )
    assert change(passive, tcp) == (
        ["up: LACP passive -> active, LACP rate slow -> fast, LACP fallback true -> default"],
        [
            ("set", "Port", "up", "lacp=active", "other_config:lacp-time=fast"),
            ("remove", "Port", "up", "other_config", "lacp-fallback-ab"),
        ],
    )
    assert change(tcp, bond("up", "br1", "eth0", "eth1", mode="balance-tcp")) == (
        ["up: LACP off"],  # its rate goes with it, unsaid
        [("clear", "Port", "up", "lacp"), ("remove", "Port", "up", "other_config", "lacp-time")],
    )
    tuned = bond(
        "up", "br1", "eth1", "eth0", mode="balance-slb",
        other_config=(("bond-primary", "eth1"), ("bond-rebalance-interval", "5000")),
    )  # fmt: skip
    assert change(slb, tuned) == (
        ["up: rebalance interval default -> 5000, primary default -> eth1"],
        [("set", "Port", "up", "other_config:bond-rebalance-interval=5000", "other_config:bond-primary=eth1")],
    )
    assert change(tuned, slb) == (
        ["up: rebalance interval 5000 -> default, primary eth1 -> default"],
        [("remove", "Port", "up", "other_config", "bond-rebalance-interval", "bond-primary")],
    )
    # Keys ovsgen does not manage are neither set nor removed, and say nothing.
    extra = bond("up", "br1", "eth0", "eth1", other_config=(("bond-detect-mode", "miimon"),))
    assert change(slb, extra) == ([], [])
    assert change(extra, slb) == ([], [])


def test_an_lacp_bond_summary_names_rate_and_fallback() -> None:
    def added(port: PortState) -> str:
        (text,) = texts(plan(state(own("br1")), state(own("br1"), port), managed_ports={"up"}))
        return text

    lacp = {"mode": "balance-tcp", "lacp": "active"}
    assert (
        added(bond("up", "br1", "eth0", "eth1", **lacp))
        == "bond up added on br1: eth0, eth1 (balance-tcp, LACP active slow)"
    )
    fallback = bond(
        "up", "br1", "eth0", "eth1", other_config=(("lacp-fallback-ab", "true"), ("lacp-time", "fast")), **lacp
    )
    assert added(fallback) == "bond up added on br1: eth0, eth1 (balance-tcp, LACP active fast with fallback)"
    off = bond("up", "br1", "eth0", "eth1", other_config=(("lacp-fallback-ab", "false"),), **lacp)
    assert added(off) == "bond up added on br1: eth0, eth1 (balance-tcp, LACP active slow)"
    slb = plan(
        state(own("br1")), state(own("br1"), bond("up", "br1", "eth0", "eth1", mode="balance-slb", lacp="active"))
    )
    assert texts(slb) == ["bond up restored on br1: eth0, eth1 (balance-slb, LACP active slow)"]


def test_lacp_turned_on_with_fallback_and_a_rate() -> None:
    old = bond("up", "br1", "eth0", "eth1", mode="active-backup")
    new = bond(
        "up", "br1", "eth0", "eth1", mode="active-backup", lacp="active",
        other_config=(("lacp-fallback-ab", "true"), ("lacp-time", "fast")),
    )  # fmt: skip
    found = plan(state(own("br0"), old, bridges=("br1",)), state(own("br0"), new, bridges=("br1",)))
    assert texts(found) == ["up: LACP active fast with fallback"]
    no_fallback = bond(
        "up", "br1", "eth0", "eth1", mode="active-backup", lacp="active", other_config=(("lacp-fallback-ab", "false"),)
    )
    assert texts(plan(state(old), state(no_fallback))) == ["up: LACP active slow"]


def test_a_bond_on_the_host_bridge_names_each_risk() -> None:
    old = bond("br0-up", "br0", "eth2", "eth3", mode="active-backup")
    mode = bond("br0-up", "br0", "eth2", "eth3", mode="balance-slb")
    found = plan(state(own("br0"), old), state(own("br0"), mode), host_bridges={"br0"})
    assert [risk.split(":")[0] for risk in found.risks] == [
        HOST_RISK.split(":", maxsplit=1)[0],
        "the host bridge's uplink br0-up changes its bond mode or LACP",
    ]
    assert found.risks[1].startswith("the host bridge's uplink br0-up changes its bond mode or LACP: management drops ")
    assert (
        "management drops while the links come up again (for LACP, until the switch's port-channel forms)"
        in (found.risks[1])
    )
    assert found.risks[1].endswith(" and run it from a console.")
    jumbo = state(own("br0"), old, interfaces=(InterfaceState("eth2", 9000), InterfaceState("eth3", 9000)))
    mtu = plan(state(own("br0"), old), jumbo, host_bridges={"br0"})
    assert texts(mtu) == ["br0-up: eth2 MTU default -> 9000, eth3 MTU default -> 9000"]
    assert [risk.split(":")[0] for risk in mtu.risks] == [
        HOST_RISK.split(":", maxsplit=1)[0],
        "the MTU of every member of br0-up (eth2, eth3) changes in one transaction",
    ]
    assert mtu.risks[1] == (
        "the MTU of every member of br0-up (eth2, eth3) changes in one transaction: many NIC drivers reset a link "
        "when its MTU changes, so all links of the bond can go down at once. If br0-up carries management, run it "
        "from a console; ovsgen does not stage the members one at a time."
    )
    one = plan(state(own("br1"), old), state(own("br1"), old, interfaces=(InterfaceState("eth2", 9000),)))
    assert texts(one) == ["br0-up: eth2 MTU default -> 9000"]
    assert one.risks == ()
    single = plan(
        state(own("br1"), nic("eth4", "br1")),
        state(own("br1"), nic("eth4", "br1"), interfaces=(InterfaceState("eth4", 9000),)),
    )
    assert texts(single) == ["eth4: eth4 MTU default -> 9000"]
    assert single.risks == ()


def test_the_risk_notes_in_full() -> None:
    (vlan,) = plan_designs(design("host-vlan-10"), design("host-vlan-20"), ("c1",))
    assert vlan.ovs.risks == (
        "this change touches the host bridge br0 (its uplinks, host port or VLAN) and can cut the management "
        "connection: run it from a console (IPMI/iLO/iDRAC), one node at a time, and keep rollback.sh at hand.",
        "the host VLAN of br0 moves (10 -> 20): the host address is unreachable on the old VLAN the moment this "
        "applies. The switch ports must carry VLAN 20 first (see Switch ports); if they do not, only a console gets "
        "the host back.",
    )
    (untagged,) = plan_designs(design("host-vlan-10"), design("base"), ("c1",))
    assert "must carry VLAN untagged first" in untagged.ovs.risks[1]


# --- ports that are rebuilt -----------------------------------------------------------------


def test_a_port_that_moves_bridge_is_rebuilt_and_both_bridges_count() -> None:
    before = state(own("br0"), nic("eth4", "br0"), own("br1"))
    after = state(own("br0"), own("br1"), nic("eth4", "br1"))
    found = plan(before, after, host_bridges={"br0"})
    assert texts(found) == ["eth4 moves from br0 to br1 (eth4 rebuilt in the same transaction)"]
    assert found.commands == [("del-port", "br0", "eth4"), ("add-port", "br1", "eth4")]
    assert found.risky
    assert [risk.split(" (")[0] for risk in found.risks] == ["this change touches the host bridge br0"]
    back = plan(after, before, host_bridges={"br0"})
    assert [risk.split(":")[0] for risk in back.risks] == [
        HOST_RISK.split(":", maxsplit=1)[0],
        "the host bridge's uplink eth4 is rebuilt",
    ]
    assert plan(before, after, host_bridges={"br5"}).risks == ()


def test_a_port_that_changes_kind_is_rebuilt() -> None:
    before = state(own("br1"), nic("stor0", "br1"))
    after = state(own("br1"), internal("stor0", "br1", tag=50))
    found = plan(before, after)
    assert texts(found) == ["stor0 becomes internal port stor0 (stor0 rebuilt in the same transaction)"]
    assert found.commands == [
        ("del-port", "br1", "stor0"),
        ("add-port", "br1", "stor0"),
        ("set", "Port", "stor0", "tag=50"),
        ("set", "Interface", "stor0", "type=internal"),
    ]
    assert found.replaced_ports == ("stor0",)


def test_a_rebuilt_bond_carries_over_what_the_host_set_by_hand() -> None:
    host = state(
        own("br1"),
        bond(
            "br1-up", "br1", "eth0", "eth1",
            other_config=(("bond-detect-mode", "miimon"), ("bond-miimon-interval", "100"), ("lacp-time", "fast")),
            columns=(("bond_updelay", 30000),),
        ),
        interfaces=(InterfaceState("eth0", None, columns=(("other_config", ids(note="a")),)),),
    )  # fmt: skip
    design_bond = bond("br1-up", "br1", "eth0", "eth4", other_config=(("bond-primary", "eth0"),))
    target = carry_over(host, state(own("br1"), design_bond))
    found = plan(host, target, host_bridges={"br1"})
    assert texts(found) == [
        "eth4 joins br1-up; eth1 leaves br1-up (br1-up rebuilt in the same transaction; carried over from the host: "
        "bond_updelay=30000, other_config:bond-detect-mode=miimon, other_config:bond-miimon-interval=100, "
        "eth0 other_config:note=a)"
    ]
    assert found.commands == [
        ("del-port", "br1", "br1-up"),
        ("add-bond", "br1", "br1-up", "eth0", "eth4"),
        (
            "set", "Port", "br1-up", "bond_mode=balance-slb",
            "other_config:bond-detect-mode=miimon", "other_config:bond-miimon-interval=100",
            "other_config:bond-primary=eth0",
        ),
        ("set", "Port", "br1-up", "bond_updelay=30000"),
        ("set", "Interface", "eth0", "other_config:note=a"),
    ]  # fmt: skip
    assert [risk.split(":")[0] for risk in found.risks] == [
        HOST_RISK.split(":", maxsplit=1)[0].replace("br0", "br1"),
        "the host bridge's uplink br1-up is rebuilt",
    ]
    after = lines(found.expectations_after())
    assert "Port br1-up bond_updelay = 30000" in after
    assert "Port br1-up other_config = {bond-detect-mode=miimon, bond-miimon-interval=100, bond-primary=eth0}" in after
    assert "Interface eth0 other_config = {note=a}" in after
    assert "Interface eth4 other_config = (unset)" in after


def test_a_rebuilt_nic_port_carries_all_of_its_other_config() -> None:
    host = state(own("br1"), nic("eth4", "br1", other_config=(("lacp-time", "x"),)), own("br2"))
    target = carry_over(host, state(own("br1"), own("br2"), nic("eth4", "br2")))
    found = plan(host, target)
    assert texts(found) == [
        "eth4 moves from br1 to br2 (eth4 rebuilt in the same transaction; carried over from the host: "
        "other_config:lacp-time=x)"
    ]


# --- carry_over and with_untouched --------------------------------------------------------


def test_carry_over_keeps_the_hosts_columns_on_rows_the_design_keeps() -> None:
    host = state(
        own("br0", columns=(("external_ids", ids(note="mgmt")),)),
        bond(
            "br0-up", "br0", "eth2", "eth3",
            other_config=(("bond-detect-mode", "miimon"), ("bond-primary", "eth3"), ("lacp-time", "fast")),
            columns=(("bond_updelay", 100),),
        ),
        nic("eth4", "br0", other_config=(("lacp-time", "x"),), columns=(("vlan_mode", "trunk"),)),
        PortState("br9", "br0", "internal", ("br9",), 4, other_config=(("k", "v"),), columns=(("bond_updelay", 5),)),
        interfaces=(
            InterfaceState("eth2", 1500, options=(("a", "1"),), columns=(("external_ids", ids(k="v")),)),
            InterfaceState("eth4", None, columns=(("other_config", ids(o="p")),)),
        ),
        rows=(BridgeState("br0", (("fail_mode", "secure"),)),),
        system_id="host-id",
        hostname="host.example",
    )  # fmt: skip
    target = state(
        own("br0", tag=10),
        bond(
            "br0-up", "br0", "eth2", "eth3", mode="balance-tcp", lacp="active",
            other_config=(("bond-primary", "eth2"),),
        ),
        nic("eth4", "br0"),
        own("br9"),
        nic("eth5", "br9", other_config=(("z", "1"),)),
        interfaces=(InterfaceState("eth2", 9000), InterfaceState("eth3", 9000, options=(("b", "2"),))),
        # A row only the target has is its own, whatever it holds.
        rows=(BridgeState("br0", OWNED), BridgeState("br9", (*OWNED, ("fail_mode", "standalone")))),
        system_id="design",
        hostname="n1",
    )  # fmt: skip
    carried = carry_over(host, target)
    assert carried.bridges == ("br0", "br9")
    assert (carried.system_id, carried.hostname) == ("design", "n1")
    assert carried.ports == (
        own("br0", tag=10, columns=(("external_ids", ids(note="mgmt")),)),
        bond(
            "br0-up", "br0", "eth2", "eth3", mode="balance-tcp", lacp="active",
            other_config=(("bond-detect-mode", "miimon"), ("bond-primary", "eth2")),
            columns=(("bond_updelay", 100),),
        ),
        nic("eth4", "br0", other_config=(("lacp-time", "x"),), columns=(("vlan_mode", "trunk"),)),
        own("br9"),  # the host's br9 is an internal port, not this bridge's own port
        nic("eth5", "br9", other_config=(("z", "1"),)),
    )  # fmt: skip
    assert carried.interfaces == (
        InterfaceState("br0", None, "internal"),
        InterfaceState("eth2", 9000, "", (("a", "1"),), (("external_ids", ids(k="v")),)),
        InterfaceState("eth3", 9000, "", (("b", "2"),)),
        InterfaceState("eth4", None, "", (), (("other_config", ids(o="p")),)),
        InterfaceState("br9", None, "internal"),
        InterfaceState("eth5", None, ""),
    )
    assert carried.bridge_rows == (
        BridgeState("br0", (("external_ids", (("managed-by", "ovsgen"),)), ("fail_mode", "secure"))),
        BridgeState("br9", (*OWNED, ("fail_mode", "standalone"))),
    )


def test_with_untouched_is_the_target_plus_what_the_plan_left_alone() -> None:
    host = state(
        own("br0"),
        nic("vnet10", "br0"),
        nic("vnet2", "br0"),
        other("vx0", "br0"),
        nic("eth7", "br0"),
        own("br-ext"),
        nic("eth9", "br-ext"),
        own("br-old"),
        nic("eth8", "br-old"),
        interfaces=(InterfaceState("vnet2", None, columns=VM_IDS), InterfaceState("vx0", None, "vxlan")),
        rows=(BridgeState("br0", OWNED), BridgeState("br-ext"), BridgeState("br-old", OWNED)),
        system_id="sys-1",
        hostname="host-1",
    )
    target = state(own("br0"), nic("eth7", "br0", tag=3), own("br1"), bond("br1-up", "br1", "eth0", "eth1"))
    found = plan(host, target, removable_ports={"vx0"}, prune_bridges=True)
    assert texts(found) == [
        "bridge br-old removed with its ports eth8",
        "port vx0 removed from br0",
        "bridge br1 added",
        "bond br1-up restored on br1: eth0, eth1 (balance-slb)",
    ]
    result = with_untouched(target, found)
    assert result.bridges == ("br-ext", "br0", "br1")
    assert [(port.bridge, port.name) for port in result.ports] == [
        ("br-ext", "br-ext"),
        ("br-ext", "eth9"),
        ("br0", "br0"),
        ("br0", "eth7"),
        ("br0", "vnet2"),
        ("br0", "vnet10"),
        ("br1", "br1"),
        ("br1", "br1-up"),
    ]
    assert result.port("eth7") == nic("eth7", "br0", tag=3)
    assert [interface.name for interface in result.interfaces] == [
        "br0", "eth7", "br1", "eth0", "eth1", "vnet10", "vnet2", "br-ext", "eth9",
    ]  # fmt: skip
    assert result.interface("vnet2").columns == VM_IDS
    assert result.bridge_rows == (BridgeState("br-ext"), BridgeState("br0", OWNED), BridgeState("br1", OWNED))
    assert (result.system_id, result.hostname) == ("sys-1", "host-1")


# --- plans from a host, end to end (in-process) ------------------------------------------


def _live(*extra: PortState, interfaces: tuple[InterfaceState, ...] = ()) -> OvsState:
    """base's node c1 as its apply.sh leaves it, plus `extra` ports on br1."""
    (change,) = plan_designs(None, design("base"), ("c1",))
    built = change.ovs.after
    ports = (*built.ports, *extra)
    found = (*built.interfaces, *interfaces)
    names = {i.name for i in found}
    found += tuple(InterfaceState(m, None) for p in extra for m in p.members if m not in names)
    return OvsState(built.bridges, ports, found, built.bridge_rows, "sys-c1", "c1.example")


def test_a_plan_from_a_host_and_its_rollback() -> None:
    tap = InterfaceState("vnet1", None, columns=VM_IDS)
    host = _live(
        nic("vnet1", "br1", tag=40), other("vx0", "br1"), interfaces=(tap, InterfaceState("vx0", None, "vxlan"))
    )
    change = plan_from_host(host, design("mtu-9000"), "c1", prune=True)
    assert texts(change.ovs) == [
        "port vx0 removed from br1",
        "br1-up: eth0 MTU default -> 9000, eth1 MTU default -> 9000",
    ]
    assert change.ovs.left_alone == ("VM port vnet1 on br1 (VM vm-1; plans never remove a VM's tap)",)
    assert texts(change.ovs_rollback) == [
        "br1-up: eth0 MTU 9000 -> default, eth1 MTU 9000 -> default",
        "port vx0 restored on br1",
    ]
    assert change.ovs_rollback.commands == [
        ("add-port", "br1", "vx0"),
        ("clear", "Interface", "eth0", "mtu_request"),
        ("clear", "Interface", "eth1", "mtu_request"),
        ("set", "Interface", "vx0", "type=vxlan"),
    ]
    assert change.ovs_rollback.left_alone == ()
    assert (change.system_id, change.hostname) == ("sys-c1", "c1.example")


# --- ovs-vsctl arguments and read-backs -------------------------------------------------------


CELLS: list[tuple[str, Cell, list[str], str]] = [
    ("stp_enable", True, ["stp_enable=true"], "true"),
    ("stp_enable", False, ["stp_enable=false"], "false"),
    ("bond_updelay", 30000, ["bond_updelay=30000"], "30000"),
    ("bond_updelay", 0, ["bond_updelay=0"], "0"),
    ("fail_mode", "secure", ["fail_mode=secure"], "secure"),
    ("trunks", (10, 20), ["trunks=[10,20]"], "[10, 20]"),
    ("protocols", ("OpenFlow10", "OpenFlow13"), ["protocols=[OpenFlow10,OpenFlow13]"], "[OpenFlow10, OpenFlow13]"),
    ("trunks", (), ["trunks=[]"], UNSET),
    ("external_ids", (("a", "1"), ("b", "x y")), ["external_ids:a=1", "external_ids:b=x y"], "{a=1, b=x y}"),
]


@pytest.mark.parametrize(("name", "value", "arguments", "shown"), CELLS)
def test_a_cell_as_set_arguments_and_as_read_back(name: str, value: Cell, arguments: list[str], shown: str) -> None:
    assert cell_arguments(name, value) == arguments
    assert read_back(value) == shown


def test_an_empty_string_reads_back_unset() -> None:
    assert read_back("") == UNSET


def test_bond_options_and_bridge_marks() -> None:
    assert bond_options(bond("up", "br1", "a", "b", mode="active-backup")) == ["bond_mode=active-backup"]
    lacp = bond("up", "br1", "a", "b", mode="balance-tcp", lacp="active", other_config=(("lacp-time", "fast"),))
    assert bond_options(lacp) == ["bond_mode=balance-tcp", "lacp=active", "other_config:lacp-time=fast"]
    assert create_bridge(BridgeState("br0")) == [("add-br", "br0")]
    assert create_bridge(BridgeState("br0", OWNED)) == [
        ("add-br", "br0"),
        ("set", "Bridge", "br0", "external_ids:managed-by=ovsgen"),
    ]
    assert update_bridge(BridgeState("br0", OWNED), BridgeState("br0", OWNED)) == []
    assert update_bridge(BridgeState("br0"), BridgeState("br0", (("fail_mode", "secure"),))) == []


def test_update_port_changes_only_managed_columns() -> None:
    # A bridge's own port and an internal port: the tag is set or cleared.
    assert update_port(own("br0"), own("br0", tag=4)) == [("set", "Port", "br0", "tag=4")]
    assert update_port(own("br0", tag=4), own("br0")) == [("clear", "Port", "br0", "tag")]
    assert update_port(own("br0", tag=4), own("br0", tag=4)) == []
    # A host's other port: its tag is set back on rollback.
    assert update_port(other("vx0", "br0"), other("vx0", "br0", tag=9)) == [("set", "Port", "vx0", "tag=9")]
    # A NIC's tag is not the design's.
    assert update_port(nic("eth4", "br0"), nic("eth4", "br0", tag=9)) == []
    old = bond("up", "br0", "a", "b", lacp="active", other_config=(("lacp-time", "fast"),))
    assert update_port(old, bond("up", "br0", "a", "b", lacp="active", other_config=(("lacp-time", "fast"),))) == []
    assert update_port(
        old, bond("up", "br0", "a", "b", mode="balance-tcp", lacp="active", other_config=(("lacp-time", "fast"),))
    ) == [("set", "Port", "up", "bond_mode=balance-tcp")]
    assert update_interface(InterfaceState("a", 1500), InterfaceState("a", 1500)) == []
    assert update_interface(InterfaceState("a", 1500), InterfaceState("a", None)) == [
        ("clear", "Interface", "a", "mtu_request")
    ]


def test_expectations_of_a_whole_state() -> None:
    node = state(
        own("br0", tag=10),
        bond("br0-up", "br0", "eth3", "eth2", mode="active-backup", other_config=(("bond-primary", "eth3"),)),
        internal("stor0", "br0", tag=50),
        nic("eth4", "br0"),
        interfaces=(InterfaceState("br0", 1500, "internal"), InterfaceState("eth2", 9000)),
    )
    assert lines(expectations(node)) == [
        "Bridge br0 external_ids:managed-by = ovsgen",
        "Bridge br0 name = br0",
        "Interface br0 mtu_request = 1500",
        "Interface br0 type = internal",
        "Interface eth2 mtu_request = 9000",
        "Interface eth3 mtu_request = (unset)",
        "Interface eth4 mtu_request = (unset)",
        "Interface stor0 mtu_request = (unset)",
        "Interface stor0 type = internal",
        "Port br0 tag = 10",
        "Port br0-up @bridge = br0",
        "Port br0-up @members = eth2 eth3",
        "Port br0-up bond_mode = active-backup",
        "Port br0-up lacp = (unset)",
        "Port br0-up other_config:bond-primary = eth3",
        "Port br0-up other_config:bond-rebalance-interval = (unset)",
        "Port br0-up other_config:lacp-fallback-ab = (unset)",
        "Port br0-up other_config:lacp-time = (unset)",
        "Port eth4 @bridge = br0",
        "Port stor0 @bridge = br0",
        "Port stor0 tag = 50",
    ]
    assert lines(expectations(node, ["eth4", "stor0"])) == [
        "Interface eth4 mtu_request = (unset)",
        "Interface stor0 mtu_request = (unset)",
        "Interface stor0 type = internal",
        "Port eth4 @bridge = br0",
        "Port stor0 @bridge = br0",
        "Port stor0 tag = 50",
    ]
    assert lines([owner_expectation("br1", owned=False), absent("p")]) == [
        "Bridge br1 external_ids:managed-by = (unset)",
        "Port p @bridge = (unset)",
    ]
    assert lines(port_expectations(other("vx0", "br0"))) == ["Port vx0 @bridge = br0", "Port vx0 tag = (unset)"]


def test_full_expectations_of_a_bond_and_a_bridge() -> None:
    node = state(
        own("br1"),
        bond(
            "up",
            "br1",
            "eth0",
            "eth1",
            lacp="active",
            tag=5,
            other_config=(("x", "y"),),
            columns=(("bond_updelay", 7),),
        ),
        rows=(BridgeState("br1", (("protocols", ("OpenFlow13",)), ("stp_enable", True))),),
    )
    port = node.port("up")
    assert port is not None
    assert lines(full_port_expectations(node, port)) == [
        "Port up @bridge = br1",
        "Port up @members = eth0 eth1",
        "Port up bond_mode = balance-slb",
        "Port up lacp = active",
        "Port up other_config:lacp-time = (unset)",
        "Port up other_config:lacp-fallback-ab = (unset)",
        "Port up other_config:bond-rebalance-interval = (unset)",
        "Port up other_config:bond-primary = (unset)",
        "Port up tag = 5",
        "Port up other_config = {x=y}",
        "Port up trunks = (unset)",
        "Port up vlan_mode = (unset)",
        "Port up bond_updelay = 7",
        "Port up bond_downdelay = 0",
        "Port up external_ids = (unset)",
        "Port up qos = (unset)",
        "Port up @mirrors = (unset)",
        *interface_lines("eth0"),
        *interface_lines("eth1"),
    ]
    stor = internal("stor0", "br1", tag=50)
    assert lines(full_port_expectations(state(stor), stor))[:5] == [
        "Port stor0 @bridge = br1",
        "Port stor0 tag = 50",
        "Port stor0 other_config = (unset)",
        "Port stor0 trunks = (unset)",
        "Port stor0 vlan_mode = (unset)",
    ]
    assert lines(full_port_expectations(state(stor), stor))[12:] == interface_lines("stor0", kind="internal")
    assert lines(bridge_row_expectations(node, "br1")) == [
        "Bridge br1 @ports = up",
        "Bridge br1 external_ids = (unset)",
        "Bridge br1 other_config = (unset)",
        "Bridge br1 fail_mode = (unset)",
        "Bridge br1 datapath_type = (unset)",
        "Bridge br1 protocols = [OpenFlow13]",
        "Bridge br1 stp_enable = true",
        "Bridge br1 rstp_enable = false",
        "Bridge br1 mcast_snooping_enable = false",
    ]
    assert lines(bridge_row_expectations(state(own("br2")), "br2"))[0] == "Bridge br2 @ports = (unset)"


def test_converge_sets_every_managed_column() -> None:
    node = state(
        own("br0", tag=10),
        bond("br0-up", "br0", "eth2", "eth3", mode="active-backup", other_config=(("bond-primary", "eth2"),)),
        own("br1"),
        bond(
            "br1-up",
            "br1",
            "eth0",
            "eth1",
            mode="balance-tcp",
            lacp="active",
            other_config=ids(lacp_time="fast", lacp_fallback_ab="true"),
        ),
        internal("stor0", "br1", tag=50),
        nic("eth4", "br1"),
        interfaces=(InterfaceState("br0", 1500, "internal"),),
    )
    assert converge(node) == [
        ("--may-exist", "add-br", "br0"),
        ("set", "Bridge", "br0", "external_ids:managed-by=ovsgen"),
        ("set", "Port", "br0", "tag=10"),
        ("--may-exist", "add-bond", "br0", "br0-up", "eth2", "eth3"),
        ("set", "Port", "br0-up", "bond_mode=active-backup", "other_config:bond-primary=eth2"),
        ("clear", "Port", "br0-up", "lacp"),
        ("remove", "Port", "br0-up", "other_config", "lacp-time", "lacp-fallback-ab", "bond-rebalance-interval"),
        ("--may-exist", "add-br", "br1"),
        ("set", "Bridge", "br1", "external_ids:managed-by=ovsgen"),
        ("clear", "Port", "br1", "tag"),
        ("--may-exist", "add-bond", "br1", "br1-up", "eth0", "eth1"),
        (
            "set", "Port", "br1-up", "bond_mode=balance-tcp", "lacp=active",
            "other_config:lacp-fallback-ab=true", "other_config:lacp-time=fast",
        ),
        ("remove", "Port", "br1-up", "other_config", "bond-rebalance-interval", "bond-primary"),
        ("--may-exist", "add-port", "br1", "stor0"),
        ("set", "Interface", "stor0", "type=internal"),
        ("set", "Port", "stor0", "tag=50"),
        ("--may-exist", "add-port", "br1", "eth4"),
        ("set", "Interface", "br0", "mtu_request=1500"),
        ("clear", "Interface", "eth2", "mtu_request"),
        ("clear", "Interface", "eth3", "mtu_request"),
        ("clear", "Interface", "br1", "mtu_request"),
        ("clear", "Interface", "eth0", "mtu_request"),
        ("clear", "Interface", "eth1", "mtu_request"),
        ("clear", "Interface", "stor0", "mtu_request"),
        ("clear", "Interface", "eth4", "mtu_request"),
    ]  # fmt: skip
    every_key = bond(
        "up",
        "br1",
        "a",
        "b",
        other_config=tuple(
            (key, "1") for key in ("lacp-time", "lacp-fallback-ab", "bond-rebalance-interval", "bond-primary")
        ),
        lacp="active",
    )
    assert [command for command in converge(state(every_key)) if command[0] == "remove"] == []


# --- through ovs-vsctl ----------------------------------------------------------------------


@pytest.mark.consumer
def test_set_arguments_are_read_back_as_the_scripts_read_them() -> None:
    """Each host column, set with cell_arguments through ovs-vsctl, reads back (as the scripts'
    observe() reads it: `ovs-vsctl get`, quotes dropped, [] and {} unset) as read_back says."""
    from tests.conftest import ovsdb_server

    values: dict[str, list[tuple[str, Cell]]] = {
        "Bridge": [
            ("external_ids", (("note", "two words"), ("owner", "ops"))),
            ("other_config", (("hwaddr", "02:00:00:00:00:02"),)),
            ("fail_mode", "secure"),
            ("datapath_type", "netdev"),
            ("protocols", ("OpenFlow10", "OpenFlow13")),
            ("stp_enable", True),
            ("rstp_enable", True),
            ("mcast_snooping_enable", True),
        ],
        "Port": [
            ("trunks", (10, 20, 300)),
            ("vlan_mode", "native-untagged"),
            ("bond_updelay", 30000),
            ("bond_downdelay", 100),
            ("external_ids", (("owner", "netops"),)),
        ],
        "Interface": [
            ("external_ids", VM_IDS[0][1]),
            ("other_config", (("x", "1"),)),
            ("ingress_policing_rate", 1000),
            ("ingress_policing_burst", 100),
            ("ofport_request", 42),
            ("bfd", (("enable", "true"), ("min_rx", "500"))),
            ("lldp", (("enable", "true"),)),
        ],
    }
    assert {table: [name for name, _ in cells] for table, cells in values.items()} == {
        table: list(columns) for table, columns in HOST_COLUMNS.items()
    }
    with ovsdb_server() as db:
        db.vsctl("add-br", "br0", "--", "add-port", "br0", "p0")
        records = {"Bridge": "br0", "Port": "p0", "Interface": "p0"}

        def observed(table: str, name: str) -> str:
            value = db.vsctl("--if-exists", "get", table, records[table], name).strip().replace('"', "")
            return UNSET if value in ("", "[]", "{}") else value

        defaults = {(table, name): observed(table, name) for table, columns in HOST_COLUMNS.items() for name in columns}
        assert defaults == {
            (table, name): read_back(default)
            for table, columns in HOST_COLUMNS.items()
            for name, default in columns.items()
        }
        for table, cells in values.items():
            db.vsctl("set", table, records[table], *(a for name, value in cells for a in cell_arguments(name, value)))
            for name, value in cells:
                assert observed(table, name) == read_back(value), (table, name)


# --- edge cases of the builder -----------------------------------------------------------------


def test_every_row_a_plan_changes_in_place_is_read_back_in_order() -> None:
    before = state(
        own("br0"),
        bond("br0-up", "br0", "eth2", "eth3", mode="active-backup"),
        own("br1"),
        bond("br1-up", "br1", "eth0", "eth1"),
        rows=(BridgeState("br0"), BridgeState("br1", OWNED)),
    )
    after = state(
        own("br0"),
        bond("br0-up", "br0", "eth2", "eth3", mode="balance-slb"),
        own("br1"),
        bond("br1-up", "br1", "eth0", "eth1", mode="balance-tcp"),
    )
    found = plan(before, after)
    assert texts(found) == [
        "bridge br0 marked as built by ovsgen (external_ids:managed-by)",
        "br0-up: bond_mode active-backup -> balance-slb",
        "br1-up: bond_mode balance-slb -> balance-tcp",
    ]
    bond_lines = [
        "Port {} @bridge = {}",
        "Port {} @members = {}",
        "Port {} bond_mode = {}",
        "Port {} lacp = (unset)",
        "Port {} other_config:lacp-time = (unset)",
        "Port {} other_config:lacp-fallback-ab = (unset)",
        "Port {} other_config:bond-rebalance-interval = (unset)",
        "Port {} other_config:bond-primary = (unset)",
        "Interface {} mtu_request = (unset)",
        "Interface {} mtu_request = (unset)",
    ]

    def read(name: str, bridge: str, members: tuple[str, str], mode: str) -> list[str]:
        values = [(name, bridge), (name, " ".join(members)), (name, mode), *[(name,)] * 5, *[(m,) for m in members]]
        return [line.format(*value) for line, value in zip(bond_lines, values, strict=True)]

    assert lines(found.expectations_after()) == [
        "Bridge br0 name = br0",
        "Bridge br0 external_ids:managed-by = ovsgen",
        *read("br0-up", "br0", ("eth2", "eth3"), "balance-slb"),
        *read("br1-up", "br1", ("eth0", "eth1"), "balance-tcp"),
    ]
    assert lines(found.expectations_before())[:3] == [
        "Bridge br0 name = br0",
        "Bridge br0 external_ids:managed-by = (unset)",
        "Port br0-up @bridge = br0",
    ]


def test_a_new_bridge_before_a_bridge_to_mark() -> None:
    before = state(own("br0"), rows=(BridgeState("br0"),))
    found = plan(before, state(own("br-new"), own("br0")))
    assert [(change.text, change.risky) for change in found.changes] == [
        ("bridge br-new added", False),
        ("bridge br0 marked as built by ovsgen (external_ids:managed-by)", False),
    ]
    assert found.touched_bridges == ("br-new", "br0")


def test_a_bridges_own_port_goes_only_with_its_bridge() -> None:
    before = state(own("br1"), nic("eth4", "br1"))
    after = OvsState(("br1",), (), (), (BridgeState("br1", OWNED),))
    found = plan(before, after, removable_ports={"br1", "eth4"})
    assert found.commands == [("del-port", "br1", "eth4")]
    assert found.left_alone == ()


def test_a_port_holding_the_interface_a_new_bridge_needs_goes() -> None:
    before = state(own("br1"), PortState("p9", "br1", "other", ("br9",)))
    found = plan(before, state(own("br1"), own("br9")))
    assert texts(found) == ["port p9 removed from br1", "bridge br9 added"]
    assert found.commands == [
        ("del-port", "br1", "p9"),
        ("add-br", "br9"),
        ("set", "Bridge", "br9", "external_ids:managed-by=ovsgen"),
    ]


def test_a_bond_that_moves_bridge_and_changes_members() -> None:
    before = state(own("br0"), bond("up", "br0", "eth0", "eth1"), own("br1"))
    after = state(own("br0"), own("br1"), bond("up", "br1", "eth0", "eth2"))
    assert texts(plan(before, after)) == [
        "up moves from br0 to br1; eth2 joins up; eth1 leaves up (up rebuilt in the same transaction)"
    ]


def test_a_host_port_the_design_takes_as_its_uplink_is_rebuilt_as_one() -> None:
    found = plan(state(own("br1"), other("eth4", "br1")), state(own("br1"), nic("eth4", "br1")))
    assert texts(found) == ["eth4 becomes uplink eth4 (eth4 rebuilt in the same transaction)"]


# --- what a plan must not delete ------------------------------------------------------------


def test_a_port_named_like_a_libvirt_tap_is_a_vms() -> None:
    host = state(own("br1"), nic("vnet7", "br1"), nic("myvnet7", "br1"), nic("vnet7x", "br1"))
    found = plan(host, state(own("br1")), removable_ports={"vnet7", "myvnet7", "vnet7x"})
    assert found.left_alone == ("VM port vnet7 on br1 (named like a libvirt tap; plans never remove a VM's tap)",)
    assert texts(found) == ["port myvnet7 removed from br1", "port vnet7x removed from br1"]
    assert vm_ports(host) == ["vnet7"]
    assert vm_ports(state(own("vnet0"))) == []  # a bridge's own port is never a tap


def test_a_port_with_what_no_rollback_restores_is_left_or_blocks_the_plan() -> None:
    span = PortState("span0", "br1", "other", ("span0",), unrestorable=("qos", "mirror m1"))
    host = state(own("br1"), span, bond("br1-up", "br1", "eth0", "eth1", unrestorable=("qos", "mirror m2")))
    found = plan(host, state(own("br1"), bond("br1-up", "br1", "eth0", "eth4")), removable_ports={"span0"})
    assert found.left_alone == ("port span0 on br1 (it has qos, mirror m1: a rollback could not put them back)",)
    assert texts(found) == ["eth4 joins br1-up; eth1 leaves br1-up (br1-up rebuilt in the same transaction)"]
    assert found.blocked == (
        "br1-up must be rebuilt (eth4 joins br1-up; eth1 leaves br1-up), but it has qos, mirror m2, which a rollback "
        "could not put back: remove them on the host first (and add them again after the window), or leave this "
        "change out",
    )
    clean = plan(
        state(own("br1"), bond("br1-up", "br1", "eth0", "eth1")),
        state(own("br1"), bond("br1-up", "br1", "eth0", "eth4")),
    )
    assert clean.blocked == ()


def test_a_port_whose_interface_the_design_needs_blocks_if_it_cannot_come_back() -> None:
    host = state(own("br1"), nic("eth0", "br1", unrestorable=("qos",)), nic("eth1", "br1"))
    found = plan(host, state(own("br1"), bond("br1-up", "br1", "eth0", "eth1")), removable_ports={"eth0"})
    assert texts(found)[:2] == ["port eth0 removed from br1", "port eth1 removed from br1"]
    assert found.blocked == (
        "eth0 must be removed from br1, but it has qos, which a rollback could not put back: remove them on the "
        "host first (and add them again after the window), or leave this change out",
    )


def test_prune_leaves_a_bridge_whose_ports_hold_what_no_rollback_restores() -> None:
    host = state(
        own("br0"),
        own("br-x"),
        nic("eth9", "br-x", unrestorable=("qos",)),
        rows=(BridgeState("br0", OWNED), BridgeState("br-x", OWNED, unrestorable=("a controller",))),
    )
    found = plan(host, state(own("br0")), prune_bridges=True)
    assert found.left_alone == (
        "bridge br-x (not in the design; it has a controller, qos that a rollback could not put back)",
    )
    assert found.changes == ()


def test_a_row_two_touched_ports_share_is_read_back_once() -> None:
    # OVSDB lets two ports reference one Interface row (ovs-vswitchd then rejects one of them);
    # a dump holding that must still give each check once, not one per port.
    shared = InterfaceState("eth1", 9000)
    host = OvsState(
        ("br1",),
        (own("br1"), PortState("a", "br1", "nic", ("eth1",)), PortState("b", "br1", "nic", ("eth1",))),
        (InterfaceState("br1", None, "internal"), shared),
        (BridgeState("br1", OWNED),),
    )
    found = plan(host, state(own("br1")), removable_ports={"a", "b"})
    before = lines(found.expectations_before())
    assert len(before) == len(set(before))
    assert before.count("Interface eth1 mtu_request = 9000") == 1
    assert [line for line in before if line.startswith("Interface eth1 ")] == interface_lines("eth1", mtu="9000")


def test_a_host_bond_without_a_bond_mode_is_created_and_updated_without_one() -> None:
    """ovs-vsctl add-bond sets no bond_mode; `bond_mode=None` is not something ovs-vsctl takes."""
    plain = PortState("up", "br1", "bond", ("eth0", "eth1"))
    assert bond_options(plain) == []
    assert bond_options(replace(plain, lacp="active")) == ["lacp=active"]
    moded = replace(plain, bond_mode="balance-slb")
    assert update_port(plain, moded) == [("set", "Port", "up", "bond_mode=balance-slb")]
    assert update_port(moded, plain) == [("clear", "Port", "up", "bond_mode")]
    assert update_port(plain, plain) == []
    rebuilt = plan(state(own("br1"), bond("up", "br1", "eth0", mode="balance-slb")), state(own("br1"), plain))
    assert ("set", "Port", "up") not in rebuilt.commands
    assert [c for c in rebuilt.commands if c[:2] == ("add-bond", "br1")] == [("add-bond", "br1", "up", "eth0", "eth1")]
    assert not [c for c in rebuilt.commands if c[:3] == ("set", "Port", "up")]
