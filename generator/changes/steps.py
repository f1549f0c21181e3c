"""The minimal ordered steps from one Open vSwitch state of a node to another.

A plan compares a starting state (an old design's, or a host dump's) with a
target state and lists each change in plain words with the ovs-vsctl
commands that make it (a NodePlan, generator.changes.node_plan): bridges
removed, ports removed, bridges added, bridges marked, then ports added,
changed or rebuilt. That is the order plan.md lists the steps in; their commands
run in one transaction, sorted by generator.changes.node_plan.phase (port deletions
first).

Removing is explicit: only ports and bridges named as removable (managed by
the old design, or pruned on request) are deleted, never a VM's tap, never a
bridge ovsgen did not build. Anything else the target does not mention is
left alone and reported.

Every row a plan deletes must be, column for column, what the plan's
rollback would put back: a step that would delete what no rollback restores
blocks the plan.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import replace

from generator.changes.node_plan import Change, NodePlan, Scope
from generator.changes.step_words import (
    bond_change,
    bond_mtu_risk,
    carried,
    describe,
    host_bridge_risk,
    host_uplink_risk,
    host_vlan_risk,
    members,
    mtu_change,
    tag_change,
    unrestorable_text,
)
from generator.ovs.commands import Command, create_bridge, create_port, update_bridge, update_interface, update_port
from generator.ovs.state import OvsState, PortState


def plan_node(node: str, before: OvsState, after: OvsState, scope: Scope) -> NodePlan:
    """The steps that take `node` from `before` to `after`, removing only what `scope` allows."""
    builder = _Builder(before, after, scope)
    builder.remove_bridges()
    builder.remove_ports()
    builder.add_bridges()
    builder.mark_bridges()
    builder.add_or_update_ports()
    return NodePlan(
        node=node,
        before=before,
        after=after,
        changes=tuple(builder.changes),
        left_alone=tuple(builder.left_alone),
        touched_ports=tuple(sorted(builder.touched_ports)),
        touched_bridges=tuple(sorted(builder.touched_bridges)),
        replaced_ports=tuple(sorted(builder.replaced_ports)),
        built_ports=tuple(sorted(builder.built_ports)),
        removed_bridges=tuple(sorted(builder.removed_bridges)),
        risks=tuple(dict.fromkeys(builder.risks)),
        blocked=tuple(builder.blocked),
    )


# libvirt names the taps it creates vnet0, vnet1, ...: a port so named is a VM's even where its
# interface lost libvirt's external_ids (a tap added by hand, an older libvirt).
_LIBVIRT_TAP = re.compile(r"vnet[0-9]+")


def vm_of(state: OvsState, port: PortState) -> str | None:
    """The VM a port is a tap of, in words; None if it does not look like one."""
    found = next((i.vm for i in state.interfaces_of(port) if i.vm), None)
    if found is not None:
        return f"VM {found}"
    return "named like a libvirt tap" if _LIBVIRT_TAP.fullmatch(port.name) else None


def vm_ports(state: OvsState, bridge: str | None = None) -> list[str]:
    """Ports that are VMs' taps (on `bridge`, if given)."""
    return [
        port.name
        for port in state.ports
        if (bridge is None or port.bridge == bridge) and port.kind != "bridge" and vm_of(state, port)
    ]


class _Builder:
    """Collects a plan's steps, what they touch and risk, and what they leave alone: bridge steps
    first, then port steps (the order plan.md lists them in)."""

    def __init__(self, before: OvsState, after: OvsState, scope: Scope) -> None:
        self.before, self.after, self.scope = before, after, scope
        self.changes: list[Change] = []
        self.left_alone: list[str] = []
        self.touched_ports: set[str] = set()
        self.touched_bridges: set[str] = set()
        self.replaced_ports: set[str] = set()
        self.built_ports: set[str] = set()
        self.removed_bridges: set[str] = set()
        self.risks: list[str] = []
        self.blocked: list[str] = []
        self.vm_ports = set(vm_ports(before))
        # Interfaces the target puts somewhere: a port holding one elsewhere must go.
        self.claimed = {name for port in after.ports for name in port.members}

    def _add(self, text: str, commands: Iterable[Command], *, bridges: Collection[str], ports: Iterable[str]) -> None:
        host = [bridge for bridge in bridges if bridge in self.scope.host_bridges]
        self.changes.append(Change(text, tuple(commands), bool(host)))
        self.touched_ports.update(ports)
        if host:
            self.risks.append(host_bridge_risk(host[0]))

    def remove_bridges(self) -> None:
        for bridge in self.before.bridges:
            if bridge in self.after.bridges:
                continue
            kept = self._why_bridge_stays(bridge)
            if kept:
                self.left_alone.append(f"bridge {bridge} (not in the design; {kept})")
                continue
            ports = [p.name for p in self.before.ports if p.bridge == bridge and p.kind != "bridge"]
            with_ports = f" with its ports {', '.join(ports)}" if ports else ""
            self.touched_bridges.add(bridge)
            self.removed_bridges.add(bridge)
            self.replaced_ports.update(ports)
            self._add(f"bridge {bridge} removed{with_ports}", [("del-br", bridge)], bridges=[bridge], ports=ports)

    def _why_bridge_stays(self, bridge: str) -> str:
        """Why a bridge the target lacks is not removed; "" if it is."""
        if bridge in self.scope.removable_bridges:
            return ""
        row = self.before.bridge_row(bridge)
        if not self.scope.prune_bridges:
            return "--prune removes it if ovsgen built it"
        if not row.owned:
            return "not built by ovsgen (no external_ids:managed-by=ovsgen), so --prune leaves it"
        vms = vm_ports(self.before, bridge)
        if vms:
            return f"it carries VM ports {', '.join(vms)}: move those VMs first"
        lost = [*row.unrestorable, *(what for p in self.before.ports if p.bridge == bridge for what in p.unrestorable)]
        if lost:
            return f"it has {', '.join(lost)} that a rollback could not put back"
        return ""

    def remove_ports(self) -> None:
        for port in self.before.ports:
            if port.kind == "bridge" or port.bridge not in self.after.bridges or self.after.port(port.name):
                continue
            managed = port.name in self.scope.managed_ports
            described = describe(port, managed=managed)
            claimed = bool(self.claimed & set(port.members))
            if port.name in self.vm_ports and not claimed:
                vm = vm_of(self.before, port)
                self.left_alone.append(f"VM port {port.name} on {port.bridge} ({vm}; plans never remove a VM's tap)")
            elif port.unrestorable and not claimed and port.name in self.scope.removable_ports:
                lost = ", ".join(port.unrestorable)
                self.left_alone.append(
                    f"{described} on {port.bridge} (it has {lost}: a rollback could not put them back)"
                )
            elif port.name in self.scope.removable_ports or claimed:
                self._refuse_if_unrestorable(port, f"must be removed from {port.bridge}")
                self.replaced_ports.add(port.name)
                self._add(
                    f"{described} removed from {port.bridge}",
                    [("del-port", port.bridge, port.name)],
                    bridges=[port.bridge],
                    ports=[port.name],
                )
            else:
                self.left_alone.append(f"{described} on {port.bridge} (not in the design)")

    def add_bridges(self) -> None:
        for bridge in self.after.bridges:
            if bridge not in self.before.bridges:
                self.touched_bridges.add(bridge)
                # A design names its bridges' own ports; a bridge it does not name is a host's, put back.
                verb = "added" if bridge in self.scope.managed_ports else "restored"
                commands = create_bridge(self.after.bridge_row(bridge))
                self._add(f"bridge {bridge} {verb}", commands, bridges=[bridge], ports=[])

    def mark_bridges(self) -> None:
        """A bridge the design takes over from a host gets ovsgen's mark (and loses it on rollback)."""
        for bridge in self.after.bridges:
            if bridge not in self.before.bridges:
                continue
            commands = update_bridge(self.before.bridge_row(bridge), self.after.bridge_row(bridge))
            if commands:
                self.touched_bridges.add(bridge)
                owned = self.after.bridge_row(bridge).owned
                what = "marked as built by ovsgen" if owned else "no longer marked as built by ovsgen"
                self.changes.append(Change(f"bridge {bridge} {what} (external_ids:managed-by)", tuple(commands), False))

    def add_or_update_ports(self) -> None:
        for port in self.after.ports:
            old = self.before.port(port.name)
            if port.kind == "bridge":
                self._update_bridge_port(port, old)
            elif old is None:
                managed = port.name in self.scope.managed_ports
                verb = "added" if managed else "restored"
                self.built_ports.add(port.name)
                self._add(
                    f"{describe(port, managed=managed)} {verb} on {port.bridge}{members(port)}",
                    create_port(self.after, port),
                    bridges=[port.bridge],
                    ports=[port.name],
                )
            elif _same_shape(old, port):
                self._update(old, port)
            else:
                self._rebuild(old, port)

    def _update_bridge_port(self, port: PortState, old: PortState | None) -> None:
        """A bridge's own port exists with the bridge: only its tag and MTU change."""
        # A new bridge's own port starts untagged, at the default MTU.
        baseline = old or replace(port, tag=None)
        new_interface = self.after.interface(port.name)
        old_interface = (
            self.before.interface(port.name) if old is not None else replace(new_interface, mtu_request=None)
        )
        commands = update_port(baseline, port) + update_interface(old_interface, new_interface)
        words = tag_change(baseline, port) + mtu_change(old_interface, new_interface)
        if commands:
            what = "host port" if port.bridge in self.scope.host_bridges else "own port"
            self._add(f"{port.bridge} {what}: {', '.join(words)}", commands, bridges=[port.bridge], ports=[port.name])
            if old is not None and old.tag != port.tag and port.bridge in self.scope.host_bridges:
                self.risks.append(host_vlan_risk(port.bridge, old.tag, port.tag))

    def _update(self, old: PortState, port: PortState) -> None:
        commands = update_port(old, port)
        words = tag_change(old, port) + bond_change(old, port)
        every_mtu = True
        for name in port.members:
            before, after = self.before.interface(name), self.after.interface(name)
            commands += update_interface(before, after)
            words += [f"{name} {word}" for word in mtu_change(before, after)]
            every_mtu = every_mtu and before.mtu_request != after.mtu_request
        if commands:
            self._add(f"{port.name}: {', '.join(words)}", commands, bridges=[port.bridge], ports=[port.name])
        if port.kind == "bond" and every_mtu:
            self.risks.append(bond_mtu_risk(port))
        if port.bridge in self.scope.host_bridges and bond_change(old, port):
            self.risks.append(host_uplink_risk(port, "changes its bond mode or LACP"))

    def _refuse_if_unrestorable(self, port: PortState, why: str) -> None:
        if port.unrestorable:
            self.blocked.append(unrestorable_text(port, why))

    def _rebuild(self, old: PortState, port: PortState) -> None:
        joined = [name for name in port.members if name not in old.members]
        left = [name for name in old.members if name not in port.members]
        words = [f"{name} joins {port.name}" for name in joined] + [f"{name} leaves {port.name}" for name in left]
        if old.bridge != port.bridge:
            words.insert(0, f"{port.name} moves from {old.bridge} to {port.bridge}")
        if not words:
            words = [f"{port.name} becomes {describe(port)}"]
        self._refuse_if_unrestorable(old, f"must be rebuilt ({'; '.join(words)})")
        commands = [("del-port", old.bridge, old.name), *create_port(self.after, port)]
        host_settings = carried(self.after, port)
        kept = f"; carried over from the host: {', '.join(host_settings)}" if host_settings else ""
        self.replaced_ports.add(port.name)
        self.built_ports.add(port.name)
        self._add(
            f"{'; '.join(words)} ({port.name} rebuilt in the same transaction{kept})",
            commands,
            bridges=[old.bridge, port.bridge],
            ports=[port.name],
        )
        if port.bridge in self.scope.host_bridges:
            self.risks.append(host_uplink_risk(port, "is rebuilt"))


def _same_shape(old: PortState, new: PortState) -> bool:
    return old.bridge == new.bridge and old.kind == new.kind and sorted(old.members) == sorted(new.members)
