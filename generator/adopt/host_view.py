"""One captured host seen as a design sees a node: its bridges with their uplinks, internal ports
and host bridge, and, located at the dump's row, everything on it a design cannot say (the "not
imported" list: VM ports, patch and tunnel ports, DPDK, STP, controllers, mirrors, QoS, columns and
options no design manages).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from generator.adopt.capture_folder import DUMP, CapturedHost
from generator.adopt.dump_places import Places, row_places
from generator.diagnostics import Diagnostic
from generator.ovs.state import MANAGED_BOND_KEYS, Cell, Columns, InterfaceState, PortState
from generator.ovs.untrusted_text import shown

_TUNNELS = frozenset({"vxlan", "geneve", "gre", "stt", "lisp", "erspan", "ip6gre", "ip6erspan", "gtpu", "bareudp"})
# Host columns (generator.ovs.state.HOST_COLUMNS) in words, for the "not imported" list.
_COLUMN_WORDS = {
    "stp_enable": "STP",
    "rstp_enable": "RSTP",
    "mcast_snooping_enable": "multicast snooping",
    "datapath_type": "datapath_type (DPDK or the userspace datapath)",
    "fail_mode": "fail_mode",
    "protocols": "OpenFlow protocols",
    "trunks": "trunks",
    "vlan_mode": "vlan_mode",
    "bond_updelay": "bond_updelay",
    "bond_downdelay": "bond_downdelay",
    "ingress_policing_rate": "ingress policing rate",
    "ingress_policing_burst": "ingress policing burst",
    "ofport_request": "ofport_request",
    "bfd": "BFD",
    "lldp": "LLDP",
    "other_config": "other_config",
}


@dataclass(frozen=True)
class UplinkView:
    """A bridge's uplink port on one host: one NIC, or a bond."""

    port: str
    members: tuple[str, ...]  # natural order, or the order of the host's bond file
    mode: str | None  # a bond's mode (Open vSwitch's default when the column is empty); None: one NIC
    lacp: str
    lacp_time: str | None
    fallback: bool
    rebalance: int | None
    primary: str | None
    mtu: int | None  # the members' mtu_request

    @property
    def bond_settings(self) -> tuple[object, ...]:
        """What a design's bridge says of its uplinks besides which NICs: shared by every node."""
        return (self.port if self.mode else None, self.mode, self.lacp, self.lacp_time, self.fallback,
                self.rebalance, self.primary, self.mtu, len(self.members))  # fmt: skip


@dataclass(frozen=True)
class BridgeView:
    name: str
    uplink: UplinkView | None
    own_tag: int | None
    own_mtu: int | None


@dataclass(frozen=True)
class HostView:
    host: CapturedHost
    bridges: dict[str, BridgeView]
    internal: dict[str, tuple[str, int | None]]  # internal port -> (bridge, tag)
    host_bridge: str | None  # the bridge whose own interface has the host's address in its file
    rows: RowNotes  # what is not imported, located at the dump's rows

    @property
    def notes(self) -> tuple[Diagnostic, ...]:
        return tuple(self.rows.found)


def view_host(host: CapturedHost) -> HostView:
    notes = RowNotes(host, [*host.problems])
    bridges: dict[str, BridgeView] = {}
    internal: dict[str, tuple[str, int | None]] = {}
    for bridge in host.state.bridges:
        notes.bridge(bridge)
        uplinks: list[PortState] = []
        own: PortState | None = None
        for port in (port for port in host.state.ports if port.bridge == bridge):
            if port.kind == "bridge":
                own = port
            elif port.kind == "internal":
                internal[port.name] = (bridge, port.tag)
            elif _is_uplink(host, port):
                uplinks.append(port)
            else:
                notes.foreign_port(port)
                continue
            notes.port(port)
        bridges[bridge] = _bridge_view(host, bridge, own, uplinks, notes)
    return HostView(host, bridges, internal, _host_bridge(host), notes)


def _is_uplink(host: CapturedHost, port: PortState) -> bool:
    if port.kind == "bond":
        return True
    nic = host.state.interface(port.members[0])
    return port.kind == "nic" and nic.vm is None and (not host.nics or host.nic(nic.name) is not None)


def _bridge_view(
    host: CapturedHost, bridge: str, own: PortState | None, uplinks: list[PortState], notes: RowNotes
) -> BridgeView:
    for extra in uplinks[1:]:
        notes.row("Port", extra.name, f"port {extra.name} on {bridge}: a second uplink (a design's bridge has one)")
    own_mtu = host.state.interface(bridge).mtu_request if own is not None else None
    uplink = _uplink(host, uplinks[0], notes) if uplinks else None
    return BridgeView(bridge, uplink, own.tag if own is not None else None, own_mtu)


def _uplink(host: CapturedHost, port: PortState, notes: RowNotes) -> UplinkView:
    members = _member_order(host, port)
    mtus = {host.state.interface(name).mtu_request for name in members}
    if len(mtus) > 1:
        notes.row("Port", port.name, f"{port.name}: members with different MTUs ({_listed(mtus)}); imported as one")
    if port.tag is not None:
        notes.row("Port", port.name, f"{port.name}: tag {port.tag} on an uplink (a design tags ports, not uplinks)")
    options = dict(port.other_config)
    bond = port.kind == "bond"
    rebalance = options.get("bond-rebalance-interval", "")
    return UplinkView(
        port=port.name,
        members=members,
        mode=(port.bond_mode or "active-backup") if bond else None,
        lacp=(port.lacp or "off") if bond else "off",
        lacp_time=options.get("lacp-time") if bond else None,
        fallback=bond and options.get("lacp-fallback-ab") == "true",
        rebalance=int(rebalance) if bond and rebalance.isdigit() else None,
        primary=options.get("bond-primary") if bond else None,
        mtu=max((mtu for mtu in mtus if mtu is not None), default=None),
    )


def _member_order(host: CapturedHost, port: PortState) -> tuple[str, ...]:
    """The bond's members in its file's order when the host has one listing them all (the order
    the design named them in), else in natural order as the dump is read."""
    found = host.file_of(port.name)
    if found is not None and sorted(found.members) == sorted(port.members):
        return found.members
    return port.members


def _host_bridge(host: CapturedHost) -> str | None:
    with_address = [
        bridge for bridge in host.state.bridges if (found := host.file_of(bridge)) is not None and found.address
    ]
    with_gateway = [bridge for bridge in with_address if (found := host.file_of(bridge)) and found.gateway]
    chosen = with_gateway or with_address
    return chosen[0] if chosen else None


def _listed(values: set[int | None]) -> str:
    return ", ".join(sorted(str(value) if value is not None else "none" for value in values))


@dataclass
class RowNotes:
    """The host's "not imported" warnings, each at its row of the dump (read only if there is one)."""

    host: CapturedHost
    found: list[Diagnostic]
    said: list[tuple[str, str, str]] = field(default_factory=list)  # (table, row's name, what) of each

    @functools.cached_property
    def places(self) -> Places:
        return row_places(self.host.path / DUMP)

    def at(self, table: str, name: str, message: str) -> Diagnostic:
        """A warning at the row of `table` named `name`."""
        line, column = self.places.get((table, name), (1, 1))
        return self.host.warning(DUMP, line, message, column)

    def row(self, table: str, name: str, message: str) -> None:
        self.found.append(self.at(table, name, f"not imported: {message}"))
        self.said.append((table, name, message))

    def bridge(self, name: str) -> None:
        row = self.host.state.bridge_row(name)
        self._columns("Bridge", name, row.columns)
        for what in row.unrestorable:
            self.row("Bridge", name, f"bridge {name}: its {what}")

    def port(self, port: PortState) -> None:
        self._columns("Port", port.name, port.columns)
        unmanaged = [key for key, _value in port.other_config if key not in MANAGED_BOND_KEYS or port.kind != "bond"]
        if unmanaged:
            self.row("Port", port.name, f"port {port.name}: other_config {', '.join(map(shown, unmanaged))}")
        if port.lacp is not None and port.kind != "bond":
            self.row("Port", port.name, f"port {port.name}: lacp {port.lacp} on a port that is not a bond")
        for what in port.unrestorable:
            self.row("Port", port.name, f"port {port.name}: its {what}")
        for interface in self.host.state.interfaces_of(port):
            self._interface(interface)

    def foreign_port(self, port: PortState) -> None:
        """A port no design has: a VM's, a patch or tunnel port, DPDK, or an interface that is no NIC."""
        interface = self.host.state.interface(port.members[0])
        self.row("Port", port.name, f"port {port.name} on {port.bridge}: {_foreign(self.host, interface)}")

    def _interface(self, interface: InterfaceState) -> None:
        self._columns("Interface", interface.name, interface.columns)
        if interface.options:
            keys = ", ".join(shown(key) for key, _value in interface.options)
            self.row("Interface", interface.name, f"interface {interface.name}: options {keys}")

    def _columns(self, table: str, name: str, columns: Columns) -> None:
        for column, value in columns:
            if column != "external_ids":  # ovsgen's mark, libvirt's and NetworkManager's: nobody's design
                self.row(table, name, f"{table.lower()} {name}: {_COLUMN_WORDS[column]} {_cell(value)}")


def _foreign(host: CapturedHost, interface: InterfaceState) -> str:
    vm = interface.vm
    if vm is not None:
        return f"a VM's port ({shown(vm)}); VM ports belong to their VMs"
    kind = interface.type
    if kind == "patch":
        peer = dict(interface.options).get("peer", "?")
        return f"a patch port (peer {shown(peer)})"
    if kind in _TUNNELS:
        return f"a {kind} tunnel port"
    if kind.startswith("dpdk"):
        return f"a DPDK port (type {kind})"
    if kind:
        return f"an interface of type {shown(kind)}"
    known = host.nic(interface.name) is not None
    return "a NIC port the design language cannot place" if known else "an interface that is not one of the host's NICs"


def _cell(value: Cell) -> str:
    if isinstance(value, tuple):
        return "{" + ", ".join("=".join(item) if isinstance(item, tuple) else str(item) for item in value) + "}"
    return shown(value) if isinstance(value, str) else str(value).lower()
