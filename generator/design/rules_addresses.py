"""Rules about addresses: host and port addresses usable and unique, gateways in their subnet,
internal networks on subnets of their own, and each MAC on one NIC."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from generator.design.model import Node
from generator.design.rule_context import Context, Finding, NodeFinding
from generator.diagnostics import DesignPath, Diagnostic


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
