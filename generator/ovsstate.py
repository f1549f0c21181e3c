"""Open vSwitch database state: what a node should have, or what a host has.

`node_state` derives the state a design wants for one node; ifcfg files,
apply.sh and change plans all render from it, so they cannot drift apart.
`generator.hoststate` reads the same model from a host's database dump.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from generator.model import Design
from generator.resolve import BridgeUplinks, NodeLayout

# other_config keys of a bond port that ovsgen owns: set when the design asks
# for them, removed otherwise, so that a second apply converges.
MANAGED_BOND_KEYS = ("lacp-time", "lacp-fallback-ab", "bond-rebalance-interval", "bond-primary")


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


@dataclass(frozen=True)
class OvsState:
    """A node's whole intended OVSDB state: bridges, ports and interfaces."""

    bridges: tuple[str, ...]
    ports: tuple[PortState, ...]
    interfaces: tuple[InterfaceState, ...]

    def interface(self, name: str) -> InterfaceState:
        return self._interfaces_by_name[name]

    @functools.cached_property
    def _interfaces_by_name(self) -> dict[str, InterfaceState]:
        # Renderers look interfaces up ~50 times per node. The first of a name wins, as before.
        return {interface.name: interface for interface in reversed(self.interfaces)}

    def port(self, name: str) -> PortState | None:
        return next((port for port in self.ports if port.name == name), None)

    def interfaces_of(self, port: PortState) -> tuple[InterfaceState, ...]:
        return tuple(self.interface(name) for name in port.members)


EMPTY = OvsState((), (), ())


def node_state(design: Design, layout: NodeLayout) -> OvsState:
    """The node's intended state; ifcfg and apply.sh ask for it one after the other, so the
    last answer is kept (by identity: hashing a frozen design would read all of it)."""
    global _LAST  # noqa: PLW0603
    if _LAST is None or _LAST[0] is not design or _LAST[1] is not layout:
        _LAST = (design, layout, _node_state(design, layout))
    return _LAST[2]


_LAST: tuple[Design, NodeLayout, OvsState] | None = None


def _node_state(design: Design, layout: NodeLayout) -> OvsState:
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
    for port in design.internal_ports:
        owner = design.bridge(port.bridge)
        mtu = owner.mtu if owner is not None else None
        ports.append(PortState(port.name, port.bridge, "internal", members=(port.name,), tag=port.vlan))
        interfaces.append(InterfaceState(port.name, mtu, type="internal"))
    return OvsState(tuple(bridge.name for bridge in design.bridges), tuple(ports), tuple(interfaces))


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
