"""The OVS states around a plan: the target a plan from a host aims at (the design's rows with
what the host has in the columns no design manages), and the database a plan leaves behind
(its target plus what it left alone)."""

from __future__ import annotations

from generator.changes.node_plan import NodePlan
from generator.design.resolve import natural_key
from generator.ovs.state import MANAGED_BOND_KEYS, InterfaceState, OvsState, PortState


def carry_over(host: OvsState, target: OvsState) -> OvsState:
    """`target` with what the host has in the columns no design manages, on every row both have:
    what a plan keeps when it changes a row, and carries over when it rebuilds one."""
    ports = tuple(_carry_port(host.port(port.name), port) for port in target.ports)
    interfaces = tuple(
        _carry_interface(host, interface) if host.port_of_interface(interface.name) else interface
        for interface in target.interfaces
    )
    rows = tuple(
        row if row.name not in host.bridges else host.bridge_row(row.name).with_owner(row.owned)
        for row in target.bridge_rows
    )
    return OvsState(target.bridges, ports, interfaces, rows, target.system_id, target.hostname)


def _carry_port(old: PortState | None, port: PortState) -> PortState:
    if old is None or (port.kind == "bridge" and old.kind != "bridge"):
        return port
    managed = set(MANAGED_BOND_KEYS) if port.kind == "bond" else set()
    kept = [(key, value) for key, value in old.other_config if key not in managed]
    other_config = tuple(sorted([*port.other_config, *kept]))
    return PortState(
        port.name,
        port.bridge,
        port.kind,
        port.members,
        port.tag,
        port.bond_mode,
        port.lacp,
        other_config,
        old.columns,
    )


def _carry_interface(host: OvsState, interface: InterfaceState) -> InterfaceState:
    old = host.interface(interface.name)
    options = interface.options or old.options
    return InterfaceState(interface.name, interface.mtu_request, interface.type, options, old.columns)


def with_untouched(target: OvsState, plan: NodePlan) -> OvsState:
    """`target` plus what `plan` leaves alone of its starting state: the database after the plan."""
    before, touched = plan.before, set(plan.touched_ports)
    kept_bridges = [b for b in before.bridges if b not in target.bridges and b not in plan.touched_bridges]
    bridges = {*target.bridges, *kept_bridges}
    untouched = [
        port
        for port in before.ports
        if port.name not in touched and target.port(port.name) is None and port.bridge in bridges
    ]
    ports = sorted([*target.ports, *untouched], key=lambda p: (p.bridge, natural_key(p.name)))
    interfaces = (*target.interfaces, *(i for port in untouched for i in before.interfaces_of(port)))
    rows = (*target.bridge_rows, *(before.bridge_row(bridge) for bridge in kept_bridges))
    names = tuple(sorted(bridges))
    return OvsState(
        names,
        tuple(ports),
        interfaces,
        tuple(sorted(rows, key=lambda row: row.name)),
        before.system_id,
        before.hostname,
    )
