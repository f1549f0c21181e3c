"""Stage 4: semantic checks, the rules of SPEC section 3 the schema cannot express.

Each check reads the typed design (and the per-node NIC layouts) and yields
located diagnostics; messages start with the object they are about. A finding
about a node at a place all nodes share (host.gateway, a bridge's uplinks) is a
NodeFinding: one bad shared setting on 2,000 nodes is one message naming the
nodes, not 2,000 identical ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from generator.design.loader import SourceDocument
from generator.design.model import Bridge, Design, Node, Portgroup
from generator.design.nodes import fold, listed
from generator.design.resolve import NodeLayout
from generator.diagnostics import DesignPath, Diagnostic, Severity

WARNING = Severity.WARNING
MAX_BOND_MEMBERS = 8
MAX_IFNAME = 15
SHOWN_NODES = 3  # node names in a message about many nodes; the rest are counted
SHOWN_DETAILS = 3  # differing details (subnets) in such a message


@dataclass(frozen=True)
class NodeFinding:
    """A problem of one node, at a place other nodes may share; grouped with the same
    problem of other nodes into one diagnostic (see `_node_diagnostics`).

    `message` does not name the node. When the message holds something that differs
    from node to node (its subnet), that part is also `detail`, and `several` is the
    message for nodes whose details differ ("... outside their host subnets").
    """

    node: str
    path: DesignPath
    message: str
    severity: Severity = Severity.ERROR
    several: str | None = None
    detail: str = ""
    # The same problem whatever the node's own path (a NIC of one name left unused on every
    # node): grouped on the message alone, shown at the first node's path.
    across_nodes: bool = False
    key: bool = False  # the caret under the key, not the value


@dataclass(frozen=True)
class Context:
    """What the semantic checks read: the source (for positions), the design and its layouts."""

    doc: SourceDocument
    design: Design
    layouts: tuple[NodeLayout, ...]

    def at(
        self, path: DesignPath, message: str, severity: Severity = Severity.ERROR, *, key: bool = False
    ) -> Diagnostic:
        return self.doc.diagnostic(path, message, severity, key=key)


Finding = Diagnostic | NodeFinding
Check = Callable[[Context], Iterator[Finding]]


def run_checks(doc: SourceDocument, design: Design, layouts: tuple[NodeLayout, ...]) -> list[Diagnostic]:
    context = Context(doc, design, layouts)
    findings = [finding for check in CHECKS for finding in check(context)]
    node_findings = [finding for finding in findings if isinstance(finding, NodeFinding)]
    diagnostics = [finding for finding in findings if isinstance(finding, Diagnostic)]
    return diagnostics + _node_diagnostics(context, node_findings)


def _node_diagnostics(ctx: Context, findings: list[NodeFinding]) -> list[Diagnostic]:
    """One diagnostic per problem at one place: for one node, or for all the nodes that have it."""
    groups: dict[tuple[DesignPath, Severity, str], list[NodeFinding]] = {}
    for finding in findings:
        key = (() if finding.across_nodes else finding.path, finding.severity, finding.several or finding.message)
        groups.setdefault(key, []).append(finding)
    return [_grouped(ctx, group) for group in groups.values()]


def _grouped(ctx: Context, group: list[NodeFinding]) -> Diagnostic:
    first = group[0]
    if len(group) == 1:
        return ctx.at(first.path, f"node {first.node}: {first.message}", first.severity, key=first.key)
    names = [finding.node for finding in group]
    details = list(dict.fromkeys(finding.detail for finding in group))
    message = first.message if len(details) == 1 else f"{first.several} ({listed(details, SHOWN_DETAILS)})"
    summary = f"{len(names):,} nodes ({listed(names, SHOWN_NODES)}): {message}"
    diagnostic = ctx.at(first.path, summary, first.severity, key=first.key)
    return replace(diagnostic, nodes=tuple(names))


# --- bridges and bonds ------------------------------------------------------


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
            yield _unknown_bridge(ctx, (*port.path, "bridge"), f"internal port {port.name}", port.bridge)


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


def _unknown_bridge(ctx: Context, path: DesignPath, what: str, name: str) -> Diagnostic:
    known = ", ".join(bridge.name for bridge in ctx.design.bridges)
    return ctx.at(path, f"{what}: bridge '{name}' is not defined (bridges: {known})")


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


# --- per node: NIC layout ---------------------------------------------------


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


# --- references -------------------------------------------------------------


def check_references(ctx: Context) -> Iterator[Diagnostic]:
    design = ctx.design
    bridge_names = {bridge.name for bridge in design.bridges}
    if design.host.bridge not in bridge_names:
        yield _unknown_bridge(ctx, ("host", "bridge"), "host", design.host.bridge)
    for network in design.networks:
        if network.bridge not in bridge_names:
            yield _unknown_bridge(ctx, (*network.path, "bridge"), f"network {network.name}", network.bridge)


# --- addresses --------------------------------------------------------------


def check_addresses(ctx: Context) -> Iterator[Finding]:
    design = ctx.design
    port_names = {port.name for port in design.internal_ports}
    host_ips: dict[IPv4Address, str] = {}
    for node in design.nodes:
        if node.address is not None:
            yield from _usable(ctx, (*node.path, "address"), f"node {node.name}", node.address)
            if node.address.ip in host_ips:
                yield ctx.at(
                    (*node.path, "address"),
                    f"node {node.name}: address {node.address.ip} is already used by node {host_ips[node.address.ip]}",
                )
            host_ips.setdefault(node.address.ip, node.name)
            yield from _gateway(ctx, node)
    port_ips: dict[IPv4Address, str] = {}
    for node in design.nodes:
        yield from _node_ports(ctx, node, port_names, host_ips, port_ips)
    yield from _internal_networks(ctx)


def _usable(ctx: Context, path: DesignPath, what: str, address: IPv4Interface) -> Iterator[Diagnostic]:
    reason = _reserved(address.ip, address.network)
    if reason:
        yield ctx.at(path, f"{what}: {address} is the {reason} of {address.network}")


def _reserved(ip: IPv4Address, network: IPv4Network) -> str | None:
    """Which address of `network` no host may have, if `ip` is one: on a /31 (RFC 3021)
    and a /32 there is neither a network nor a broadcast address."""
    if network.prefixlen >= 31:
        return None
    if ip == network.network_address:
        return "network address"
    if ip == network.broadcast_address:
        return "broadcast address"
    return None


def _gateway(ctx: Context, node: Node) -> Iterator[NodeFinding]:
    gateway = ctx.design.gateway_of(node)
    if gateway is None or node.address is None:
        return
    path = (*node.path, "gateway") if node.gateway_override else ("host", "gateway")
    subnet = node.address.network
    reserved = _reserved(gateway, subnet)
    if gateway == node.address.ip:
        yield NodeFinding(node.name, path, f"gateway {gateway} is the node's own address")
    elif gateway not in subnet:
        outside = f"gateway {gateway} is outside"
        yield NodeFinding(
            node.name,
            path,
            f"{outside} the host subnet {subnet}",
            several=f"{outside} their host subnets",
            detail=str(subnet),
        )
    elif reserved:
        what = f"gateway {gateway} is the {reserved} of"
        yield NodeFinding(
            node.name,
            path,
            f"{what} the host subnet {subnet}",
            several=f"{what} their host subnets",
            detail=str(subnet),
        )


def _node_ports(
    ctx: Context, node: Node, port_names: set[str], hosts: dict[IPv4Address, str], seen: dict[IPv4Address, str]
) -> Iterator[Diagnostic]:
    given = {port.port for port in node.ports}
    for port in node.ports:
        if port.port not in port_names:
            known = ", ".join(sorted(port_names)) or "none defined"
            yield ctx.at(
                port.path,
                f"node {node.name}: '{port.port}' is not an internal port (internal ports: {known})",
                key=True,
            )
            continue
        yield from _usable(ctx, port.path, f"node {node.name} port {port.port}", port.address)
        ip = port.address.ip
        if ip in hosts:
            yield ctx.at(
                port.path, f"node {node.name}: address {ip} of port {port.port} is the host address of node {hosts[ip]}"
            )
        elif ip in seen:
            yield ctx.at(port.path, f"node {node.name}: address {ip} is already used by {seen[ip]}")
        seen.setdefault(ip, f"node {node.name} port {port.port}")
    for name in sorted(port_names - given):
        yield ctx.at(
            (*node.path, "ports") if node.ports else node.path,
            f"node {node.name}: internal port {name} has no address on this node "
            f"(add ports: {{{name}: <address/prefix>}})",
        )


def _internal_networks(ctx: Context) -> Iterator[Diagnostic]:
    """Each internal network needs a subnet of its own: not a node's host subnet, not another's."""
    design = ctx.design
    for index, network in enumerate(design.internal_networks):
        path, subnet = (*network.path, "address"), network.address.network
        yield from _usable(ctx, path, f"internal network {network.name}", network.address)
        clash = next((n for n in design.nodes if n.address is not None and n.address.network.overlaps(subnet)), None)
        if clash is not None and clash.address is not None:
            yield ctx.at(
                path,
                f"internal network {network.name}: {subnet} overlaps the host subnet "
                f"{clash.address.network} of node {clash.name}",
            )
        port = next(
            ((n, a) for n in design.nodes for a in n.ports if a.address.network.overlaps(subnet)),
            None,
        )
        if port is not None:
            node, address = port
            yield ctx.at(
                path,
                f"internal network {network.name}: {subnet} overlaps the subnet {address.address.network} "
                f"of port {address.port} on node {node.name}",
            )
        other = next((o for o in design.internal_networks[:index] if o.address.network.overlaps(subnet)), None)
        if other is not None:
            yield ctx.at(
                path,
                f"internal network {network.name}: {subnet} overlaps internal network {other.name} "
                f"({other.address.network})",
            )


def check_macs(ctx: Context) -> Iterator[Diagnostic]:
    """A MAC belongs to one NIC; the model holds MACs in lower case, so case does not hide a repeat."""
    owners: dict[str, str] = {}
    for node in ctx.design.nodes:
        for nic in node.nics:
            if nic.mac is None:
                continue
            if nic.mac in owners:
                yield ctx.at(
                    (*nic.path, "mac"), f"node {node.name}: MAC {nic.mac} of {nic.name} is already {owners[nic.mac]}"
                )
            owners.setdefault(nic.mac, f"{nic.name} of node {node.name}")


# --- libvirt ----------------------------------------------------------------


def check_networks(ctx: Context) -> Iterator[Diagnostic]:
    design = ctx.design
    yield from _duplicates(
        ctx,
        [(n.name, (*n.path, "name")) for n in design.networks]
        + [(n.name, (*n.path, "name")) for n in design.internal_networks],
        "network",
    )
    tagged: dict[tuple[str, int], str] = {}
    for network in design.networks:
        if network.vlan is not None and network.portgroups:
            yield ctx.at(
                (*network.path, "portgroups"), f"network {network.name}: use either vlan or portgroups, not both"
            )
        if network.vlan is not None:
            key = (network.bridge, network.vlan)
            if key in tagged:
                yield ctx.at(
                    (*network.path, "vlan"),
                    f"network {network.name}: VLAN {network.vlan} on {network.bridge} is also network {tagged[key]}",
                    WARNING,
                )
            tagged.setdefault(key, network.name)
        yield from _portgroups(ctx, network.name, network.portgroups)


def _portgroups(ctx: Context, network: str, typed: tuple[Portgroup, ...]) -> Iterator[Diagnostic]:
    yield from _duplicates(ctx, [(g.name, (*g.path, "name")) for g in typed], f"network {network}: portgroup")
    defaults = [group for group in typed if group.default]
    for extra in defaults[1:]:
        yield ctx.at(
            (*extra.path, "default"),
            f"network {network}: portgroup {extra.name} is a second default (first: {defaults[0].name})",
        )
    for group in typed:
        where = f"network {network}: portgroup {group.name}"
        if group.vlan is not None and group.trunk:
            yield ctx.at((*group.path, "trunk"), f"{where}: use either vlan or trunk, not both")
        if group.native is not None and not group.trunk:
            yield ctx.at((*group.path, "native"), f"{where}: native needs a trunk")
        elif group.native is not None and group.native not in group.trunk:
            yield ctx.at(
                (*group.path, "native"), f"{where}: native VLAN {group.native} is not in trunk {list(group.trunk)}"
            )


def _duplicates(ctx: Context, named: list[tuple[str, DesignPath]], what: str) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for name, path in named:
        if name in seen:
            yield ctx.at(path, f"{what} name '{name}' is used more than once")
        seen.add(name)


def check_nodes(ctx: Context) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for node in ctx.design.nodes:
        # Host names are case-insensitive, and so are some file systems the output lands on.
        folded = fold(node.name)
        if folded in seen:
            yield ctx.at((*node.path, "name"), f"node name '{node.name}' is used more than once")
        seen.add(folded)


CHECKS: tuple[Check, ...] = (
    check_references,
    check_names,
    check_nic_sharing,
    check_bond_settings,
    check_layouts,
    check_mtu,
    check_addresses,
    check_macs,
    check_networks,
    check_nodes,
)
