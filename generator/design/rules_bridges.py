"""Rules about bridges and bonds: bond settings that go together, one namespace of interface
names per node, a NIC uplinking one bridge only, each node's NIC layout, MTUs, and the
bridges that other parts of the design name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.design.model import Bridge
from generator.design.rule_context import WARNING, Context, Finding, NodeFinding, unknown_bridge
from generator.diagnostics import DesignPath, Diagnostic

MAX_BOND_MEMBERS = 8
MAX_IFNAME = 15


def check_bond_settings(ctx: Context) -> Iterator[Diagnostic]:
    for bridge in ctx.design.bridges:
        spec = bridge.uplinks
        if spec.names and spec.count is not None:
            yield ctx.at(
                (*spec.path, "count"), f"bridge {bridge.name}: count goes with a speed selector, not with named NICs"
            )
        if spec.mode == "balance-tcp" and not spec.has_lacp:
            yield ctx.at(
                (*spec.path, "lacp") if spec.lacp != "off" or _given(ctx, spec.path, "lacp") else (*spec.path, "mode"),
                f"bridge {bridge.name}: balance-tcp needs lacp: active or passive (lacp is off)",
            )
        if not spec.has_lacp:
            for option in ("lacp_time", "lacp_fallback"):
                if _given(ctx, spec.path, option):
                    yield ctx.at((*spec.path, option), f"bridge {bridge.name}: {option} needs LACP (lacp is off)")
        if spec.rebalance_interval is not None and spec.mode == "active-backup":
            yield ctx.at(
                (*spec.path, "rebalance_interval"),
                f"bridge {bridge.name}: rebalance_interval does not apply to active-backup",
            )
        if spec.primary is not None and spec.names and spec.primary not in spec.names:
            yield ctx.at(
                (*spec.path, "primary"),
                f"bridge {bridge.name}: primary '{spec.primary}' is not one of its NICs ({', '.join(spec.names)})",
            )
        yield from _bond_warnings(ctx, bridge)


def _given(ctx: Context, path: DesignPath, key: str) -> bool:
    """Whether the long form wrote `key` (the model fills defaults in)."""
    node: Any = ctx.doc.data
    for part in path:  # the path of a model object: it is in the data
        node = node[part]
    return isinstance(node, dict) and key in node


def _bond_warnings(ctx: Context, bridge: Bridge) -> Iterator[Diagnostic]:
    spec = bridge.uplinks
    if spec.mode == "balance-slb" and spec.has_lacp:
        yield ctx.at(
            spec.path,
            f"bridge {bridge.name}: balance-slb with LACP; LACP is usually paired with balance-tcp",
            WARNING,
        )
    if spec.mode == "balance-tcp" and spec.has_lacp and not spec.lacp_fallback:
        yield ctx.at(
            spec.path,
            f"bridge {bridge.name}: balance-tcp without lacp_fallback loses the link if LACP does not come up",
            WARNING,
        )


def check_names(ctx: Context) -> Iterator[Diagnostic]:
    """Interface names are one namespace per node: bridges, bonds, NICs, internal ports, libvirt bridges."""
    design = ctx.design
    bridge_names = {bridge.name for bridge in design.bridges}
    for bridge in design.bridges:
        if len(bridge.bond_name) > MAX_IFNAME and not bridge.bond_given:
            yield ctx.at(
                bridge.path,
                f"bridge {bridge.name}: default bond name '{bridge.bond_name}' is longer than {MAX_IFNAME} "
                "characters; set bond: to a shorter name",
                key=True,
            )
    # Bridges come first and are mapping keys, never repeated: every clash is with a later name.
    owners = {bridge.name: f"bridge '{bridge.name}'" for bridge in design.bridges}
    for name, what, path, key in _global_interfaces(ctx):
        if name in owners:
            yield ctx.at(path, f"{what} '{name}': the name is already used by {owners[name]}", key=key)
        owners.setdefault(name, f"{what} '{name}'")
    for node in design.nodes:
        for nic in node.nics:
            if nic.name in owners:
                yield ctx.at(
                    nic.path, f"node {node.name}: NIC '{nic.name}' has the name of {owners[nic.name]}", key=True
                )
    for port in design.internal_ports:
        if port.bridge not in bridge_names:
            yield unknown_bridge(ctx, (*port.path, "bridge"), f"internal port {port.name}", port.bridge)


def _global_interfaces(ctx: Context) -> Iterator[tuple[str, str, DesignPath, bool]]:
    """(name, what, path, locate-key) for every interface the design names on all nodes, bridges aside."""
    design = ctx.design
    for bridge in design.bridges:
        if _may_be_bond(bridge):
            path = (*bridge.path, "bond") if bridge.bond_given else bridge.path
            yield bridge.bond_name, f"bond of bridge {bridge.name}", path, not bridge.bond_given
    for port in design.internal_ports:
        yield port.name, "internal port", (*port.path, "name"), False
    for network in design.internal_networks:
        yield network.bridge, f"bridge of internal network {network.name}", (*network.path, "bridge"), False


def _may_be_bond(bridge: Bridge) -> bool:
    spec = bridge.uplinks
    return len(spec.names) > 1 if spec.names else spec.count != 1


def check_nic_sharing(ctx: Context) -> Iterator[Diagnostic]:
    owner: dict[str, str] = {}
    for bridge in ctx.design.bridges:
        for index, name in enumerate(bridge.uplinks.names):
            if name in owner and owner[name] != bridge.name:
                yield ctx.at(
                    (*bridge.uplinks.path, "nics", index),
                    f"bridge {bridge.name}: NIC '{name}' is already an uplink of bridge {owner[name]}",
                )
            owner.setdefault(name, bridge.name)


def check_layouts(ctx: Context) -> Iterator[Finding]:
    for layout in ctx.layouts:
        node = layout.node
        for shortfall in layout.shortfalls:
            spec = shortfall.bridge.uplinks
            path = (
                (*spec.path, "nics", spec.names.index(shortfall.missing_name)) if shortfall.missing_name else spec.path
            )
            yield NodeFinding(node.name, path, shortfall.message)
        for uplink in layout.uplinks:
            bridge, spec = uplink.bridge, uplink.bridge.uplinks
            members = [nic.name for nic in uplink.nics]
            if spec.primary is not None and not spec.names and spec.primary not in members:
                yield NodeFinding(
                    node.name,
                    (*spec.path, "primary"),
                    f"primary '{spec.primary}' is not a member of {bridge.name}'s uplinks ({', '.join(members)})",
                )
            if not uplink.is_bond and (spec.mode_given or spec.has_lacp):
                yield NodeFinding(
                    node.name,
                    spec.path,
                    f"bridge {bridge.name} has one uplink NIC ({members[0]}), a plain port; "
                    "its bond mode and LACP settings do not apply",
                    WARNING,
                )
            if uplink.is_bond and len({nic.speed for nic in uplink.nics}) > 1:
                speeds = ", ".join(f"{nic.name} {nic.speed}" for nic in uplink.nics)
                yield NodeFinding(node.name, spec.path, f"bond {bridge.bond_name} mixes NIC speeds ({speeds})", WARNING)
            if len(uplink.nics) > MAX_BOND_MEMBERS:
                yield NodeFinding(
                    node.name,
                    spec.path,
                    f"bond {bridge.bond_name} has {len(uplink.nics)} members, more than {MAX_BOND_MEMBERS}",
                    WARNING,
                )
        if not layout.shortfalls:
            for nic in layout.unused_nics:
                yield NodeFinding(
                    node.name,
                    nic.path,
                    f"NIC {nic.name} ({nic.speed}) is not used by any bridge",
                    WARNING,
                    across_nodes=True,
                    key=True,
                )


def check_mtu(ctx: Context) -> Iterator[Diagnostic]:
    host_mtu = ctx.design.host.mtu
    for bridge in ctx.design.bridges:
        if bridge.mtu is not None and bridge.mtu < host_mtu:
            yield ctx.at(
                (*bridge.path, "mtu"),
                f"bridge {bridge.name}: MTU {bridge.mtu} is below the host MTU {host_mtu}",
                WARNING,
            )


def check_references(ctx: Context) -> Iterator[Diagnostic]:
    design = ctx.design
    bridge_names = {bridge.name for bridge in design.bridges}
    if design.host.bridge not in bridge_names:
        yield unknown_bridge(ctx, ("host", "bridge"), "host", design.host.bridge)
    for network in design.networks:
        if network.bridge not in bridge_names:
            yield unknown_bridge(ctx, (*network.path, "bridge"), f"network {network.name}", network.bridge)
