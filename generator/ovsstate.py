"""The Open vSwitch database state a node should have, derived from its layout.

ifcfg files and apply.sh both render from this one description, so the two
cannot drift apart; the tests hold both against a real ovsdb-server.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.model import Design
from generator.resolve import BridgeUplinks, NodeLayout

# other_config keys of a bond port that ovsgen owns: set when the design asks
# for them, removed otherwise, so that a second apply converges.
MANAGED_BOND_KEYS = ("lacp-time", "lacp-fallback-ab", "bond-rebalance-interval", "bond-primary")


@dataclass(frozen=True)
class PortState:
    name: str
    bridge: str
    kind: str  # "bridge" (the bridge's own port), "bond", "nic" or "internal"
    members: tuple[str, ...] = ()  # bond members, in design order
    tag: int | None = None
    bond_mode: str | None = None
    lacp: str | None = None  # None: the lacp column is empty (off)
    other_config: tuple[tuple[str, str], ...] = ()

    @property
    def tagged(self) -> bool:
        """Whether ovsgen manages this port's tag (set or cleared)."""
        return self.kind in ("bridge", "internal")


@dataclass(frozen=True)
class InterfaceState:
    name: str
    mtu_request: int | None
    internal: bool = False


@dataclass(frozen=True)
class OvsState:
    bridges: tuple[str, ...]
    ports: tuple[PortState, ...]
    interfaces: tuple[InterfaceState, ...]

    def interface(self, name: str) -> InterfaceState:
        return next(interface for interface in self.interfaces if interface.name == name)


def node_state(design: Design, layout: NodeLayout) -> OvsState:
    ports: list[PortState] = []
    interfaces: list[InterfaceState] = []
    host = design.host
    for bridge in design.bridges:
        if bridge.name == host.bridge:
            ports.append(PortState(bridge.name, bridge.name, "bridge", tag=host.vlan))
            interfaces.append(InterfaceState(bridge.name, host.mtu, internal=True))
        uplinks = layout.uplinks_of(bridge.name)
        if uplinks is not None:
            ports.append(_uplink_port(uplinks))
            interfaces.extend(InterfaceState(nic.name, bridge.mtu) for nic in uplinks.nics)
    for port in design.internal_ports:
        owner = design.bridge(port.bridge)
        mtu = owner.mtu if owner is not None else None
        ports.append(PortState(port.name, port.bridge, "internal", tag=port.vlan))
        interfaces.append(InterfaceState(port.name, mtu, internal=True))
    return OvsState(tuple(bridge.name for bridge in design.bridges), tuple(ports), tuple(interfaces))


def _uplink_port(uplinks: BridgeUplinks) -> PortState:
    bridge = uplinks.bridge
    if not uplinks.is_bond:
        return PortState(uplinks.nics[0].name, bridge.name, "nic")
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
