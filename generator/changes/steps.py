"""The minimal ordered steps from one Open vSwitch state of a node to another.

A plan compares a starting state (an old design's, or a host dump's) with a
target state and lists each change in plain words with the ovs-vsctl
commands that make it. All commands go into one transaction, ordered so that
what must go is gone before what replaces it arrives: port deletions, bridge
deletions, bridge additions, port additions, then column settings.

Removing is explicit: only ports and bridges named as removable (managed by
the old design, or pruned on request) are deleted, never a VM's tap, never a
bridge ovsgen did not build. Anything else the target does not mention is
left alone and reported.

Every row a plan deletes must be, column for column, what the plan's
rollback would put back: the scripts check that before they change anything.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from generator.design.resolve import natural_key
from generator.ovs.commands import (
    UNSET,
    Command,
    Expectation,
    absent,
    bridge_row_expectations,
    cell_arguments,
    create_bridge,
    create_port,
    full_port_expectations,
    owner_expectation,
    port_expectations,
    update_bridge,
    update_interface,
    update_port,
)
from generator.ovs.state import MANAGED_BOND_KEYS, InterfaceState, OvsState, PortState

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
    prune_bridges: bool = False  # also remove bridges ovsgen built that the target no longer has


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
    replaced_ports: tuple[str, ...] = ()  # ports the plan deletes: removed, or rebuilt
    built_ports: tuple[str, ...] = ()  # ports the plan creates: added, restored, or rebuilt
    removed_bridges: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()  # what can drop links or management, and what to do about it
    # Why the plan must not be carried out: it would delete what no rollback puts back.
    blocked: tuple[str, ...] = ()

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
        """What the scripts read back after the change; a port the plan builds is read whole."""
        return _expectations(self.after, self, self.built_ports)

    def expectations_before(self) -> list[Expectation]:
        """What must be there before; a port the plan deletes is read whole: it is what rollback puts back."""
        return _expectations(self.before, self, self.replaced_ports)


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


def _expectations(state: OvsState, plan: NodePlan, whole_ports: Iterable[str]) -> list[Expectation]:
    """What the scripts read back for the rows `plan` touches, as `state` has them. A row the
    plan deletes or rebuilds is checked whole: what is not as expected would be lost."""
    found: list[Expectation] = []
    for bridge in sorted(plan.touched_bridges):
        found.append(Expectation("Bridge", bridge, "name", bridge if bridge in state.bridges else UNSET))
        if bridge in state.bridges:
            found.append(owner_expectation(bridge, state.bridge_row(bridge).owned))
        if bridge in state.bridges and bridge in plan.removed_bridges:
            found += bridge_row_expectations(state, bridge)
    whole = set(whole_ports)
    for name in sorted(set(plan.touched_ports)):
        port = state.port(name)
        if port is None:
            found.append(absent(name))
            continue
        if name in whole:
            rows = full_port_expectations(state, port)
        else:
            rows = port_expectations(port) + [
                Expectation(
                    "Interface", i.name, "mtu_request", str(i.mtu_request) if i.mtu_request is not None else UNSET
                )
                for i in state.interfaces_of(port)
            ]
        # A bridge's own port is read back as its bridge, which the loop above reads if the plan touches it.
        found += [e for e in rows if e.table != "Bridge"]
    return _unique(found)


def _unique(found: list[Expectation]) -> list[Expectation]:
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for expectation in found:
        key = (expectation.table, expectation.record, expectation.column)
        if key not in seen:
            seen.add(key)
            kept.append(expectation)
    return kept


def plan_node(node: str, before: OvsState, after: OvsState, scope: Scope) -> NodePlan:
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
            described = _describe(port, managed=managed)
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
        # A new bridge's own port starts untagged, at the default MTU.
        baseline = old or replace(port, tag=None)
        new_interface = self.after.interface(port.name)
        old_interface = (
            self.before.interface(port.name) if old is not None else replace(new_interface, mtu_request=None)
        )
        commands = update_port(baseline, port) + update_interface(old_interface, new_interface)
        words = _tag_change(baseline, port) + _mtu_change(old_interface, new_interface)
        if commands:
            what = "host port" if port.bridge in self.scope.host_bridges else "own port"
            self._add(f"{port.bridge} {what}: {', '.join(words)}", commands, bridges=[port.bridge], ports=[port.name])
            if old is not None and old.tag != port.tag and port.bridge in self.scope.host_bridges:
                self.risks.append(host_vlan_risk(port.bridge, old.tag, port.tag))

    def _update(self, old: PortState, port: PortState) -> None:
        commands = update_port(old, port)
        words = _tag_change(old, port) + _bond_change(old, port)
        every_mtu = True
        for name in port.members:
            before, after = self.before.interface(name), self.after.interface(name)
            commands += update_interface(before, after)
            words += [f"{name} {word}" for word in _mtu_change(before, after)]
            every_mtu = every_mtu and before.mtu_request != after.mtu_request
        if commands:
            self._add(f"{port.name}: {', '.join(words)}", commands, bridges=[port.bridge], ports=[port.name])
        if port.kind == "bond" and every_mtu:
            self.risks.append(bond_mtu_risk(port))
        if port.bridge in self.scope.host_bridges and _bond_change(old, port):
            self.risks.append(host_uplink_risk(port, "changes its bond mode or LACP"))

    def _refuse_if_unrestorable(self, port: PortState, why: str) -> None:
        if port.unrestorable:
            self.blocked.append(_unrestorable_text(port, why))

    def _rebuild(self, old: PortState, port: PortState) -> None:
        joined = [name for name in port.members if name not in old.members]
        left = [name for name in old.members if name not in port.members]
        words = [f"{name} joins {port.name}" for name in joined] + [f"{name} leaves {port.name}" for name in left]
        if old.bridge != port.bridge:
            words.insert(0, f"{port.name} moves from {old.bridge} to {port.bridge}")
        if not words:
            words = [f"{port.name} becomes {_describe(port)}"]
        self._refuse_if_unrestorable(old, f"must be rebuilt ({'; '.join(words)})")
        commands = [("del-port", old.bridge, old.name), *create_port(self.after, port)]
        carried = _carried(self.after, port)
        kept = f"; carried over from the host: {', '.join(carried)}" if carried else ""
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


def _unrestorable_text(port: PortState, why: str) -> str:
    return (
        f"{port.name} {why}, but it has {', '.join(port.unrestorable)}, which a rollback could not put "
        "back: remove them on the host first (and add them again after the window), or leave this change out"
    )


def _carried(state: OvsState, port: PortState) -> list[str]:
    """The settings no design manages that a rebuilt port keeps (carry_over put them in `state`)."""
    managed = set(MANAGED_BOND_KEYS) if port.kind == "bond" else set()
    words = [argument for name, value in port.columns for argument in cell_arguments(name, value)]
    words += [f"other_config:{key}={value}" for key, value in port.other_config if key not in managed]
    for interface in state.interfaces_of(port):
        words += [
            f"{interface.name} {argument}"
            for name, value in interface.columns
            for argument in cell_arguments(name, value)
        ]
    return words


def host_bridge_risk(bridge: str) -> str:
    return (
        f"this change touches the host bridge {bridge} (its uplinks, host port or VLAN) and can cut the "
        "management connection: run it from a console (IPMI/iLO/iDRAC), one node at a time, "
        "and keep rollback.sh at hand."
    )


def host_vlan_risk(bridge: str, old: int | None, new: int | None) -> str:
    return (
        f"the host VLAN of {bridge} moves ({_vlan(old)} -> {_vlan(new)}): the host address is unreachable "
        f"on the old VLAN the moment this applies. The switch ports must carry VLAN {_vlan(new)} first "
        "(see Switch ports); if they do not, only a console gets the host back."
    )


def host_uplink_risk(port: PortState, what: str) -> str:
    return (
        f"the host bridge's uplink {port.name} {what}: management drops while the links come up again "
        "(for LACP, until the switch's port-channel forms). Follow the switch-port order in plan.md "
        "and run it from a console."
    )


def bond_mtu_risk(port: PortState) -> str:
    return (
        f"the MTU of every member of {port.name} ({', '.join(port.members)}) changes in one transaction: "
        "many NIC drivers reset a link when its MTU changes, so all links of the bond can go down at once. "
        f"If {port.name} carries management, run it from a console; ovsgen does not stage the members one at a time."
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
