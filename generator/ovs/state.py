"""Open vSwitch database state: what a node should have, or what a host has.

`node_state` derives the state a design wants for one node; ifcfg files,
apply.sh and change plans all render from it, so they cannot drift apart.
`generator.ovs.hostdump` reads the same model from a host's database dump.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from generator.design.model import Design
from generator.design.resolve import BridgeUplinks, NodeLayout

# other_config keys of a bond port that ovsgen owns: set when the design asks
# for them, removed otherwise, so that a second apply converges.
MANAGED_BOND_KEYS = ("lacp-time", "lacp-fallback-ab", "bond-rebalance-interval", "bond-primary")

# The mark apply.sh and change.sh leave on every bridge of a design, so that a plan from a
# host dump knows which bridges ovsgen built (and may prune) and which were made by hand.
OWNER_KEY, OWNER_VALUE = "managed-by", "ovsgen"


def managed_columns(table: str, kind: str) -> frozenset[str]:
    """The columns (or `column:key` of a map) a design sets on a row of `table`; a port's
    `kind` as PortState has it ("" for bridges and interfaces, "internal" for an internal
    interface). Every other column of a row the design keeps is the host's: plans leave it,
    carry it over when they rebuild the row, and rollback restores it."""
    if table == "Bridge":
        return frozenset({"name", "ports", f"external_ids:{OWNER_KEY}"})
    if table == "Interface":
        return frozenset({"name", "mtu_request", *(("type",) if kind == "internal" else ())})
    columns = {"name", "interfaces"}
    if kind in ("bridge", "internal"):
        columns.add("tag")
    if kind == "bond":
        columns |= {"bond_mode", "lacp", *(f"other_config:{key}" for key in MANAGED_BOND_KEYS)}
    return frozenset(columns)


# A column's value as a host has it: an integer, boolean or string, a set of atoms, or a
# map as sorted (key, value) pairs.
Cell = int | bool | str | tuple[int, ...] | tuple[str, ...] | tuple[tuple[str, str], ...]
# The columns of a row that no design manages, as the host has them (defaults left out):
# a plan keeps them, carries them over when it rebuilds the row, and rollback restores them.
Columns = tuple[tuple[str, Cell], ...]

# Those columns per table, with the value OVSDB gives a new row ("" for an optional string
# that is not set). Each is restored exactly; an empty set, map or string reads back as "(unset)".
HOST_COLUMNS: dict[str, dict[str, Cell]] = {
    "Bridge": {
        "external_ids": (),
        "other_config": (),
        "fail_mode": "",
        "datapath_type": "",
        "protocols": (),
        "stp_enable": False,
        "rstp_enable": False,
        "mcast_snooping_enable": False,
    },
    "Port": {"trunks": (), "vlan_mode": "", "bond_updelay": 0, "bond_downdelay": 0, "external_ids": ()},
    "Interface": {
        "external_ids": (),
        "other_config": (),
        "ingress_policing_rate": 0,
        "ingress_policing_burst": 0,
        "ofport_request": "",
        "bfd": (),
        "lldp": (),
    },
}

# libvirt marks the interface of a VM's tap with these external_ids keys.
VM_KEYS = ("vm-id", "iface-id", "attached-mac")


def column(columns: Columns, name: str) -> Cell | None:
    return next((value for key, value in columns if key == name), None)


def map_value(columns: Columns, name: str, key: str) -> str | None:
    """One key of a map column, or None."""
    found = column(columns, name)
    if not isinstance(found, tuple):
        return None
    return next((pair[1] for pair in found if isinstance(pair, tuple) and pair[0] == key), None)


@dataclass(frozen=True)
class PortState:
    """One port of a bridge as the design wants it in OVSDB."""

    name: str
    bridge: str
    kind: str  # "bridge" (the bridge's own port), "bond", "nic", "internal", or "other" (found on a host)
    members: tuple[str, ...] = ()  # the port's interfaces; bond members in design order
    tag: int | None = None
    bond_mode: str | None = None
    lacp: str | None = None  # None: the lacp column is empty (off)
    other_config: tuple[tuple[str, str], ...] = ()
    columns: Columns = ()  # what a host has in the columns no design manages (HOST_COLUMNS)
    # What a plan could not put back if it deleted the port: its QoS, the mirrors that use it.
    unrestorable: tuple[str, ...] = ()

    @property
    def tagged(self) -> bool:
        """Whether ovsgen manages this port's tag (set or cleared)."""
        return self.kind in ("bridge", "internal")


@dataclass(frozen=True)
class InterfaceState:
    """One interface of a port as the design wants it in OVSDB."""

    name: str
    mtu_request: int | None
    type: str = ""  # "" for a NIC, "internal", or what a host has (vxlan, patch, ...)
    options: tuple[tuple[str, str], ...] = ()
    columns: Columns = ()  # what a host has in the columns no design manages (HOST_COLUMNS)

    @property
    def vm(self) -> str | None:
        """The VM this interface is a tap of (libvirt's external_ids), or None."""
        for key in VM_KEYS:
            value = map_value(self.columns, "external_ids", key)
            if value is not None:
                return value if key == "vm-id" else f"{key} {value}"
        return None


@dataclass(frozen=True)
class BridgeState:
    """What a host has on a bridge beyond its name and ports: whose it is, and its own columns."""

    name: str
    columns: Columns = ()
    # What a plan could not put back if it removed the bridge (a controller, mirrors, ...).
    unrestorable: tuple[str, ...] = ()

    @property
    def owned(self) -> bool:
        """Whether ovsgen built the bridge (apply.sh and change.sh mark every bridge they manage)."""
        return map_value(self.columns, "external_ids", OWNER_KEY) == OWNER_VALUE

    def with_owner(self, owned: bool) -> BridgeState:
        """The same row with ovsgen's mark set (`owned`) or removed."""
        others = [(name, value) for name, value in self.columns if name != "external_ids"]
        found = column(self.columns, "external_ids")
        pairs = found if isinstance(found, tuple) else ()
        ids = [(pair[0], pair[1]) for pair in pairs if isinstance(pair, tuple) and pair[0] != OWNER_KEY]
        if owned:
            ids.append((OWNER_KEY, OWNER_VALUE))
        merged: list[tuple[str, Cell]] = [*others, *((("external_ids", tuple(sorted(ids))),) if ids else ())]
        order = list(HOST_COLUMNS["Bridge"])  # as a dump is read
        return BridgeState(self.name, tuple(sorted(merged, key=lambda item: order.index(item[0]))), self.unrestorable)


OWNED: Columns = (("external_ids", ((OWNER_KEY, OWNER_VALUE),)),)


@dataclass(frozen=True)
class OvsState:
    """A node's whole intended OVSDB state: bridges, ports and interfaces."""

    bridges: tuple[str, ...]
    ports: tuple[PortState, ...]
    interfaces: tuple[InterfaceState, ...]
    # Bridge rows: as a host has them, or for a design each with ovsgen's mark (OWNED).
    bridge_rows: tuple[BridgeState, ...] = ()
    system_id: str = ""  # the host's Open_vSwitch external_ids, when read from a dump
    hostname: str = ""

    def bridge_row(self, name: str) -> BridgeState:
        return next((row for row in self.bridge_rows if row.name == name), BridgeState(name))

    def interface(self, name: str) -> InterfaceState:
        return self._interfaces_by_name[name]

    @functools.cached_property
    def _interfaces_by_name(self) -> dict[str, InterfaceState]:
        # Renderers look interfaces up ~50 times per node. The first of a name wins, as before.
        return {interface.name: interface for interface in reversed(self.interfaces)}

    def port(self, name: str) -> PortState | None:
        return next((port for port in self.ports if port.name == name), None)

    def port_of_interface(self, name: str) -> PortState | None:
        return next((port for port in self.ports if name in port.members), None)

    def interfaces_of(self, port: PortState) -> tuple[InterfaceState, ...]:
        return tuple(self.interface(name) for name in port.members)


EMPTY = OvsState((), (), ())


def node_state(design: Design, layout: NodeLayout) -> OvsState:
    """The state the design wants for the node: every bridge with its own port, uplinks and
    internal ports. Renderers ask their node's context (generator.render.context), which
    works it out once for all of them."""
    ports: list[PortState] = []
    interfaces: list[InterfaceState] = []
    host = design.host
    for bridge in design.bridges:
        # Every bridge's own port is managed: the host bridge's carries the host
        # VLAN and MTU, the others are kept untagged at the default MTU.
        is_host = bridge.name == host.bridge
        ports.append(
            PortState(bridge.name, bridge.name, "bridge", members=(bridge.name,), tag=host.vlan if is_host else None)
        )
        interfaces.append(InterfaceState(bridge.name, host.mtu if is_host else None, type="internal"))
        uplinks = layout.uplinks_of(bridge.name)
        if uplinks is not None:
            ports.append(_uplink_port(uplinks))
            interfaces.extend(InterfaceState(nic.name, bridge.mtu) for nic in uplinks.nics)
    mtus = {bridge.name: bridge.mtu for bridge in design.bridges}
    for port in design.internal_ports:
        ports.append(PortState(port.name, port.bridge, "internal", members=(port.name,), tag=port.vlan))
        interfaces.append(InterfaceState(port.name, mtus.get(port.bridge), type="internal"))
    names = tuple(bridge.name for bridge in design.bridges)
    return OvsState(names, tuple(ports), tuple(interfaces), tuple(BridgeState(name, OWNED) for name in names))


def _uplink_port(uplinks: BridgeUplinks) -> PortState:
    bridge = uplinks.bridge
    if not uplinks.is_bond:
        return PortState(uplinks.nics[0].name, bridge.name, "nic", members=(uplinks.nics[0].name,))
    spec = bridge.uplinks
    options: list[tuple[str, str]] = []
    if spec.has_lacp:
        options.append(("lacp-time", spec.lacp_time or "slow"))
        options.append(("lacp-fallback-ab", "true" if spec.lacp_fallback else "false"))
    if spec.rebalance_interval is not None and spec.mode != "active-backup":
        options.append(("bond-rebalance-interval", str(spec.rebalance_interval)))
    if spec.primary is not None:
        options.append(("bond-primary", spec.primary))
    return PortState(
        name=bridge.bond_name,
        bridge=bridge.name,
        kind="bond",
        members=tuple(nic.name for nic in uplinks.nics),
        bond_mode=spec.mode,
        lacp=spec.lacp if spec.has_lacp else None,
        other_config=tuple(options),
    )
