"""The minimal ordered steps from one Open vSwitch state of a node to another.

A plan compares a starting state (an old design's, or a host dump's) with a
target state and lists each change in plain words with the ovs-vsctl
commands that make it. All commands go into one transaction, ordered so that
what must go is gone before what replaces it arrives: port deletions, bridge
deletions, bridge additions, port additions, then column settings.

Removing is explicit: only ports and bridges named as removable (managed by
the old design, or pruned on request) are deleted. Anything else the target
does not mention is left alone and reported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from generator.ovscommands import (
    UNSET,
    Command,
    Expectation,
    absent,
    create_port,
    port_expectations,
    update_interface,
    update_port,
)
from generator.ovsstate import InterfaceState, OvsState, PortState
from generator.resolve import natural_key

_PHASES = {"del-port": 0, "del-br": 1, "add-br": 2, "add-port": 3, "add-bond": 3}
SET_PHASE = 4


def phase(command: Command) -> int:
    """Where a command goes in the transaction (see the module docstring)."""
    verb = next(word for word in command if not word.startswith("--"))
    return _PHASES.get(verb, SET_PHASE)


@dataclass(frozen=True)
class Change:
    """One change in plain words and the commands that make it."""

    text: str
    commands: tuple[Command, ...]
    risky: bool


@dataclass(frozen=True)
class Scope:
    """What a plan may remove, and which bridge carries the host's own address."""

    removable_ports: frozenset[str]
    removable_bridges: frozenset[str]
    host_bridges: frozenset[str]  # the host bridge before and after: changes there can cut management
    managed_ports: frozenset[str] = frozenset()  # ports a design names (others were found on a host)


@dataclass(frozen=True)
class NodePlan:
    """The changes that take one node from one OVSDB state to another, and what they leave alone."""

    node: str
    before: OvsState
    after: OvsState
    changes: tuple[Change, ...]
    left_alone: tuple[str, ...]
    touched_ports: tuple[str, ...]
    touched_bridges: tuple[str, ...]

    @property
    def commands(self) -> list[Command]:
        ordered = [command for change in self.changes for command in change.commands]
        return sorted(ordered, key=phase)  # stable: the order within a phase is kept

    @property
    def risky(self) -> bool:
        return any(change.risky for change in self.changes)

    def nics(self) -> list[str]:
        """NICs of the uplink ports the plan touches: they must exist on the host."""
        touched = set(self.touched_ports)
        return sorted(
            {
                name
                for port in self.after.ports
                if port.name in touched and port.kind in ("bond", "nic")
                for name in port.members
            },
            key=natural_key,
        )

    def expectations_after(self) -> list[Expectation]:
        return _expectations(self.after, self.touched_ports, self.touched_bridges)

    def expectations_before(self) -> list[Expectation]:
        return _expectations(self.before, self.touched_ports, self.touched_bridges)


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
    return OvsState(tuple(sorted(bridges)), tuple(ports), interfaces)


def _expectations(state: OvsState, ports: Iterable[str], bridges: Iterable[str]) -> list[Expectation]:
    found = [
        Expectation("Bridge", bridge, "name", bridge if bridge in state.bridges else UNSET)
        for bridge in sorted(bridges)
    ]
    for name in sorted(set(ports)):
        port = state.port(name)
        if port is None:
            found.append(absent(name))
            continue
        found += [e for e in port_expectations(port) if e.table != "Bridge"]
        found += [
            Expectation("Interface", i.name, "mtu_request", str(i.mtu_request) if i.mtu_request is not None else UNSET)
            for i in state.interfaces_of(port)
        ]
    return found


def plan_node(node: str, before: OvsState, after: OvsState, scope: Scope) -> NodePlan:
    builder = _Builder(before, after, scope)
    builder.remove_bridges()
    builder.remove_ports()
    builder.add_bridges()
    builder.add_or_update_ports()
    return NodePlan(
        node=node,
        before=before,
        after=after,
        changes=tuple(builder.changes),
        left_alone=tuple(builder.left_alone),
        touched_ports=tuple(sorted(builder.touched_ports)),
        touched_bridges=tuple(sorted(builder.touched_bridges)),
    )


class _Builder:
    def __init__(self, before: OvsState, after: OvsState, scope: Scope) -> None:
        self.before, self.after, self.scope = before, after, scope
        self.changes: list[Change] = []
        self.left_alone: list[str] = []
        self.touched_ports: set[str] = set()
        self.touched_bridges: set[str] = set()
        # Interfaces the target puts somewhere: a port holding one elsewhere must go.
        self.claimed = {name for port in after.ports for name in port.members if port.kind != "bridge"}

    def _add(self, text: str, commands: Iterable[Command], *, bridges: Collection[str], ports: Iterable[str]) -> None:
        risky = any(bridge in self.scope.host_bridges for bridge in bridges)
        self.changes.append(Change(text, tuple(commands), risky))
        self.touched_ports.update(ports)

    def remove_bridges(self) -> None:
        for bridge in self.before.bridges:
            if bridge in self.after.bridges:
                continue
            if bridge not in self.scope.removable_bridges:
                self.left_alone.append(f"bridge {bridge} (not in the design)")
                continue
            ports = [p.name for p in self.before.ports if p.bridge == bridge and p.kind != "bridge"]
            with_ports = f" with its ports {', '.join(ports)}" if ports else ""
            self.touched_bridges.add(bridge)
            self._add(f"bridge {bridge} removed{with_ports}", [("del-br", bridge)], bridges=[bridge], ports=ports)

    def remove_ports(self) -> None:
        for port in self.before.ports:
            if port.kind == "bridge" or port.bridge not in self.after.bridges or self.after.port(port.name):
                continue
            managed = port.name in self.scope.managed_ports
            if port.name in self.scope.removable_ports or self.claimed & set(port.members):
                self._add(
                    f"{_describe(port, managed=managed)} removed from {port.bridge}",
                    [("del-port", port.bridge, port.name)],
                    bridges=[port.bridge],
                    ports=[port.name],
                )
            else:
                self.left_alone.append(f"{_describe(port, managed=managed)} on {port.bridge} (not in the design)")

    def add_bridges(self) -> None:
        for bridge in self.after.bridges:
            if bridge not in self.before.bridges:
                self.touched_bridges.add(bridge)
                self._add(f"bridge {bridge} added", [("add-br", bridge)], bridges=[bridge], ports=[])

    def add_or_update_ports(self) -> None:
        for port in self.after.ports:
            old = self.before.port(port.name)
            if port.kind == "bridge":
                self._update_bridge_port(port, old)
            elif old is None:
                managed = port.name in self.scope.managed_ports
                verb = "added" if managed else "restored"
                self._add(
                    f"{_describe(port, managed=managed)} {verb} on {port.bridge}{_members(port)}",
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
        baseline = old or PortState(port.name, port.bridge, "bridge", members=port.members)
        old_interface = (
            self.before.interface(port.name) if old is not None else InterfaceState(port.name, None, "internal")
        )
        new_interface = self.after.interface(port.name)
        commands = update_port(baseline, port) + update_interface(old_interface, new_interface)
        words = _tag_change(baseline, port) + _mtu_change(old_interface, new_interface)
        if commands:
            what = "host port" if port.bridge in self.scope.host_bridges else "own port"
            self._add(f"{port.bridge} {what}: {', '.join(words)}", commands, bridges=[port.bridge], ports=[port.name])

    def _update(self, old: PortState, port: PortState) -> None:
        commands = update_port(old, port)
        words = _tag_change(old, port) if old.tag != port.tag else []
        words += _bond_change(old, port)
        for name in port.members:
            before, after = self.before.interface(name), self.after.interface(name)
            commands += update_interface(before, after)
            words += [f"{name} {word}" for word in _mtu_change(before, after)]
        if commands:
            self._add(f"{port.name}: {', '.join(words)}", commands, bridges=[port.bridge], ports=[port.name])

    def _rebuild(self, old: PortState, port: PortState) -> None:
        joined = [name for name in port.members if name not in old.members]
        left = [name for name in old.members if name not in port.members]
        words = [f"{name} joins {port.name}" for name in joined] + [f"{name} leaves {port.name}" for name in left]
        if old.bridge != port.bridge:
            words.insert(0, f"{port.name} moves from {old.bridge} to {port.bridge}")
        if not words:
            words = [f"{port.name} becomes {_describe(port)}"]
        commands = [("del-port", old.bridge, old.name), *create_port(self.after, port)]
        self._add(
            f"{'; '.join(words)} ({port.name} rebuilt in the same transaction)",
            commands,
            bridges=[old.bridge, port.bridge],
            ports=[port.name],
        )


def _same_shape(old: PortState, new: PortState) -> bool:
    return old.bridge == new.bridge and old.kind == new.kind and sorted(old.members) == sorted(new.members)


def _describe(port: PortState, *, managed: bool = True) -> str:
    # A host's tap ports look like NICs; only the design's own single uplinks are called uplinks.
    kinds = {"bond": "bond", "nic": "uplink" if managed else "port", "internal": "internal port"}
    return f"{kinds.get(port.kind, 'port')} {port.name}"


def _members(port: PortState) -> str:
    if port.kind != "bond":
        vlan = f" (VLAN {port.tag})" if port.tag is not None else ""
        return vlan
    return f": {', '.join(port.members)} ({_bond_summary(port)})"


def _bond_summary(port: PortState) -> str:
    options = dict(port.other_config)
    if port.lacp is None:
        return str(port.bond_mode)
    fallback = " with fallback" if options.get("lacp-fallback-ab") == "true" else ""
    return f"{port.bond_mode}, LACP {port.lacp} {options.get('lacp-time', 'slow')}{fallback}"


def _vlan(tag: int | None) -> str:
    return str(tag) if tag is not None else "untagged"


def _tag_change(old: PortState, new: PortState) -> list[str]:
    return [f"VLAN {_vlan(old.tag)} -> {_vlan(new.tag)}"] if old.tag != new.tag else []


def _mtu_change(old: InterfaceState, new: InterfaceState) -> list[str]:
    if old.mtu_request == new.mtu_request:
        return []
    return [f"MTU {old.mtu_request or 'default'} -> {new.mtu_request or 'default'}"]


def _bond_change(old: PortState, new: PortState) -> list[str]:
    if new.kind != "bond":
        return []
    words = []
    if old.bond_mode != new.bond_mode:
        words.append(f"bond_mode {old.bond_mode} -> {new.bond_mode}")
    before, after = dict(old.other_config), dict(new.other_config)
    if old.lacp is None and new.lacp is not None:
        fallback = " with fallback" if after.get("lacp-fallback-ab") == "true" else ""
        words.append(f"LACP {new.lacp} {after.get('lacp-time', 'slow')}{fallback}")
    elif old.lacp is not None and new.lacp is None:
        words.append("LACP off")
    else:
        if old.lacp != new.lacp:
            words.append(f"LACP {old.lacp} -> {new.lacp}")
        for key, label in (("lacp-time", "LACP rate"), ("lacp-fallback-ab", "LACP fallback")):
            if before.get(key) != after.get(key):
                words.append(f"{label} {before.get(key, 'default')} -> {after.get(key, 'default')}")
    for key, label in (("bond-rebalance-interval", "rebalance interval"), ("bond-primary", "primary")):
        if before.get(key) != after.get(key):
            words.append(f"{label} {before.get(key, 'default')} -> {after.get(key, 'default')}")
    return words
