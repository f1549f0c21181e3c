"""What a build sheet says about a node: its NICs and the switch port each one needs.

The switch side follows from what the bridge carries: every VLAN tagged by
the host port, internal ports, networks and portgroups on that bridge must be
allowed on its uplink ports; anything untagged there (an untagged host port,
internal port, network or portgroup) needs the port's native VLAN. The
renderers of the Markdown, HTML, CSV and SVG sheets all read this model.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from generator.design.model import DEFAULT_MTU, Bridge, Design, Nic
from generator.design.resolve import BridgeUplinks, NodeLayout, natural_key


@dataclass(frozen=True)
class Carried:
    """Something on a bridge that sends traffic over its uplinks."""

    kind: str  # "host", "internal port", "network" or "portgroup"
    name: str
    vlans: tuple[int, ...]  # empty: untagged


# Per bridge of a design, what it carries (carried_on): the same for every node of the design.
CarriedByBridge = Mapping[str, tuple[Carried, ...]]


@dataclass(frozen=True)
class SwitchPort:
    """How the switch port a NIC is cabled to must be configured."""

    mode: str  # "trunk", "access" (untagged only), or "idle" (the bridge carries nothing yet)
    allowed_vlans: tuple[int, ...]
    untagged: tuple[str, ...]  # who needs the native (untagged) VLAN
    lacp: str | None  # LACP mode the switch must run, None for no LACP
    lacp_rate: str | None
    bundle: str  # how the bridge's ports relate on the switch
    mtu: int

    @property
    def native(self) -> str:
        if self.mode == "idle":
            return "none (nothing on the bridge yet)"
        if not self.untagged:
            return "none (all traffic tagged)"
        return "untagged: " + ", ".join(self.untagged)

    @property
    def allowed(self) -> str:
        return vlan_ranges(self.allowed_vlans) or "none"

    @property
    def lacp_text(self) -> str:
        return f"LACP {self.lacp}, rate {self.lacp_rate}" if self.lacp else "none"


@dataclass(frozen=True)
class NicRow:
    """One NIC of the inventory and, when cabled, its switch port."""

    nic: Nic
    bridge: str | None
    bond: str | None
    port: SwitchPort | None  # None: unused


@dataclass(frozen=True)
class NodeSheet:
    """What a node's build sheet says: every NIC, and the switch port of each cabled one."""

    design: Design
    layout: NodeLayout
    rows: tuple[NicRow, ...]  # every NIC of the inventory, in natural order
    carried: CarriedByBridge  # what each bridge of the design carries (carried_by_bridge)

    @property
    def cabled(self) -> tuple[NicRow, ...]:
        return tuple(row for row in self.rows if row.port is not None)


@functools.lru_cache(maxsize=1024)  # a design has few VLAN sets; every node's sheets and diagram ask again
def vlan_ranges(vlans: tuple[int, ...]) -> str:
    """10, 20, 100-102: consecutive VLANs folded into ranges, as switch configs write them."""
    parts: list[str] = []
    ordered = sorted(set(vlans))
    start = 0
    for index in range(1, len(ordered) + 1):
        if index == len(ordered) or ordered[index] != ordered[index - 1] + 1:
            first, last = ordered[start], ordered[index - 1]
            parts.append(str(first) if first == last else f"{first}-{last}")
            start = index
    return ", ".join(parts)


def carried_on(design: Design, bridge: str) -> tuple[Carried, ...]:
    """Everything that sends traffic over `bridge`'s uplinks, host first."""
    found: list[Carried] = []
    host = design.host
    if host.bridge == bridge:
        found.append(Carried("host", "host", (host.vlan,) if host.vlan else ()))
    found += [
        Carried("internal port", port.name, (port.vlan,) if port.vlan else ())
        for port in design.internal_ports
        if port.bridge == bridge
    ]
    for network in design.networks:
        if network.bridge != bridge:
            continue
        if not network.portgroups:
            found.append(Carried("network", network.name, (network.vlan,) if network.vlan else ()))
        for group in network.portgroups:
            vlans = group.trunk or ((group.vlan,) if group.vlan else ())
            found.append(Carried("portgroup", f"{network.name}/{group.name}", vlans))
    return tuple(found)


def carried_by_bridge(design: Design) -> dict[str, tuple[Carried, ...]]:
    """What each bridge of the design carries (carried_on), worked out once for all its nodes."""
    return {bridge.name: carried_on(design, bridge.name) for bridge in design.bridges}


def switch_port(design: Design, uplinks: BridgeUplinks, carried: tuple[Carried, ...]) -> SwitchPort:
    """The switch port each NIC of `uplinks` needs, given what their bridge carries (carried_on)."""
    bridge = uplinks.bridge
    tagged = tuple(sorted({vlan for item in carried for vlan in item.vlans}))
    untagged = tuple(item.name for item in carried if not item.vlans)
    spec = bridge.uplinks
    lacp = uplinks.is_bond and spec.has_lacp
    return SwitchPort(
        mode="trunk" if tagged else ("access" if untagged else "idle"),
        allowed_vlans=tagged,
        untagged=untagged,
        # A passive host needs an active switch; an active host works with either,
        # and active on both ends is the usual recommendation.
        lacp="active" if lacp else None,
        lacp_rate=(spec.lacp_time or "slow") if lacp else None,
        bundle=_bundle(bridge, uplinks, lacp),
        mtu=_link_mtu(design, bridge),
    )


def _bundle(bridge: Bridge, uplinks: BridgeUplinks, lacp: bool) -> str:
    if not uplinks.is_bond:
        return "single uplink"
    members = ", ".join(nic.name for nic in uplinks.nics)
    if lacp:
        return (
            f"all ports of {bridge.bond_name} ({members}) in one LACP port-channel "
            "(across two switches: one MLAG/vPC port-channel)"
        )
    # Static LAGs break active-backup and balance-slb: the switch must see separate ports.
    return f"no port-channel: {bridge.bond_name} ({members}) is {bridge.uplinks.mode}, ports stay separate"


def _link_mtu(design: Design, bridge: Bridge) -> int:
    mtu = bridge.mtu or DEFAULT_MTU
    if bridge.name == design.host.bridge:
        mtu = max(mtu, design.host.mtu)
    return mtu


def node_sheet(design: Design, layout: NodeLayout, carried: CarriedByBridge) -> NodeSheet:
    """The node's build-sheet facts; `carried`: what each bridge of the design carries (carried_by_bridge)."""
    rows: list[NicRow] = []
    # One switch port per bridge, not per NIC.
    ports = [(uplinks, switch_port(design, uplinks, carried[uplinks.bridge.name])) for uplinks in layout.uplinks]
    for nic in sorted(layout.node.nics, key=lambda n: natural_key(n.name)):
        cabled = next(((u, port) for u, port in ports if nic in u.nics), None)
        if cabled is None:
            rows.append(NicRow(nic, None, None, None))
            continue
        uplinks, port = cabled
        bond = uplinks.bridge.bond_name if uplinks.is_bond else None
        rows.append(NicRow(nic, uplinks.bridge.name, bond, port))
    return NodeSheet(design, layout, tuple(rows), carried)
