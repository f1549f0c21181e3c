"""The switch side of a change: what each switch port of a node must carry, and what changes on it.

A node's uplink NICs are cabled to switch ports. What such a port must carry follows from the
design exactly as the build sheet says it (generator.render.switch_side.switch_port): the VLANs to allow, who
sends untagged traffic (the native VLAN), whether the port is in an LACP port-channel (rate, and
whether the host falls back to active-backup) and the MTU. Between two designs, or a host dump
and a design, the difference is per switch port: VLANs to allow or remove, native VLAN, port-
channel, MTU, ports newly needed or freed, each with its order. Adding comes before the host
changes (the switch first), removing after it (the host first), so that no frame the host sends
meets a port that drops it.

A host dump shows bonds, LACP and MTUs, not the VLANs a switch allows: for plans from a dump the
old VLANs and native VLAN are unknown, and the steps say so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from generator.changes.node_plan import NodePlan
from generator.changes.plan_states import with_untouched
from generator.design.model import DEFAULT_MTU, Design
from generator.design.resolve import NodeLayout, natural_key
from generator.design.validate import ValidDesign
from generator.ovs.state import OvsState, PortState, column
from generator.render.switch_side import carried_on, switch_port, vlan_ranges

SWITCH_FIRST, HOST_FIRST = 0, 1  # the two moments of a change window: before the host changes, after it
INDIVIDUAL = "let ports work individually (LACP fallback / no suspend-individual)"

# The order of steps within each moment: a new port is cabled before it is configured; a port is
# freed last.
_RANK = {"needed": 0, "allow": 1, "native": 2, "port-channel": 3, "mtu": 4, "remove": 5, "freed": 6}


@dataclass(frozen=True)
class PortChannel:
    """The LACP port-channel a switch port belongs to, as the host's bond asks for it."""

    bond: str  # the host's bond; the switch numbers its port-channel its own way
    rate: str  # "fast" or "slow"
    fallback: bool  # whether the host falls back to active-backup while LACP is down

    @property
    def text(self) -> str:
        """The port-channel's settings, and why ports must work alone while LACP is down."""
        if self.fallback:
            host = "the host falls back to active-backup while LACP is down"
        else:
            host = "the host does not fall back: its bond stays down until LACP forms"
        return f"LACP active, rate {self.rate}; {host}: {INDIVIDUAL}"


@dataclass(frozen=True)
class PortNeeds:
    """What the switch port one NIC of a node is cabled to must carry."""

    nic: str
    allowed: frozenset[int] | None  # tagged VLANs; None: unknown (a host dump)
    native: tuple[str, ...] | None  # who sends untagged traffic; empty: no native VLAN; None: unknown
    port_channel: PortChannel | None
    mtu: int
    switch: str | None = field(default=None, compare=False)  # the port's label, when the design has one
    bridge: str = field(default="", compare=False)  # the bridge (and bond) the NIC serves, for the words


@dataclass(frozen=True)
class SwitchStep:
    """One thing to do on one switch port, and when: before the host changes or after."""

    port: str  # the port as people find it: "<node> <nic> (<switch port>)"
    text: str
    order: int  # SWITCH_FIRST or HOST_FIRST
    rank: int

    @property
    def when(self) -> str:
        return "switch first" if self.order == SWITCH_FIRST else "host first"

    @property
    def group_key(self) -> tuple[int, int, str]:
        """Identical steps on several ports (of several nodes) are one line for the network team."""
        return (self.order, self.rank, self.text)


@dataclass(frozen=True)
class PortChange:
    """What changes on the switch port of one NIC of a node."""

    node: str
    nic: str
    switch: str | None
    status: str  # "needed" (the NIC joins), "freed" (it leaves) or "changed"
    bridge: str = ""
    allow: tuple[int, ...] = ()
    remove: tuple[int, ...] = ()
    vlans_unknown: bool = False  # the old side is a host dump: what the switch allows is not known
    native: tuple[tuple[str, ...] | None, tuple[str, ...]] | None = None  # (old, new) when it changes
    port_channel: tuple[PortChannel | None, PortChannel | None] | None = None  # (old, new) when it changes
    mtu: tuple[int | None, int] | None = None  # (old, new) when it changes; old None for a new port
    moved: str | None = None  # the NIC's other switch port when the design recabled it

    @property
    def label(self) -> str:
        return f"{self.node} {self.nic} ({self.switch or 'switch port unknown'})"

    @property
    def steps(self) -> tuple[SwitchStep, ...]:
        if self.status == "freed":
            why = f"moves to {self.moved}" if self.moved else f"leaves {self.bridge}"
            return (self._step("freed", f"port freed: {self.nic} {why}; shut it or reuse it"),)
        found = self._needed_steps() + self._vlan_steps() + self._native_steps()
        found += self._port_channel_steps() + self._mtu_steps()
        return tuple(sorted(found, key=lambda step: step.group_key))

    def _needed_steps(self) -> list[SwitchStep]:
        if self.status != "needed":
            return []
        why = f"moves here from {self.moved}" if self.moved else f"joins {self.bridge}"
        return [self._step("needed", f"port newly needed: {self.nic} {why}; cable it")]

    def _step(self, kind: str, text: str, order: int | None = None) -> SwitchStep:
        if order is None:
            order = HOST_FIRST if kind in ("remove", "freed") else SWITCH_FIRST
        return SwitchStep(self.label, text, order, _RANK[kind])

    def _vlan_steps(self) -> list[SwitchStep]:
        steps = []
        if self.allow:
            unknown = " (a host dump does not show which VLANs the switch allows)" if self.vlans_unknown else ""
            steps.append(self._step("allow", f"allow {_vlans(self.allow)}{unknown}"))
        if self.remove:
            steps.append(self._step("remove", f"remove {_vlans(self.remove)}"))
        if self.vlans_unknown:
            text = "remove VLANs the host no longer needs (a host dump does not show which the switch allows)"
            steps.append(self._step("remove", text))
        return steps

    def _native_steps(self) -> list[SwitchStep]:
        if self.native is None:
            return []
        old, new = self.native
        if not new:
            return [self._step("native", f"native VLAN no longer needed (was for {', '.join(old or ())})", HOST_FIRST)]
        text = f"native VLAN for the untagged traffic of {', '.join(new)}"
        if old is None:
            text += " (a host dump does not show the switch's native VLAN)"
        elif old:
            text += f" (was {', '.join(old)})"
        # Only users leaving: the switch keeps serving them until the host has moved them.
        order = HOST_FIRST if old is not None and set(new) <= set(old) else SWITCH_FIRST
        return [self._step("native", text, order)]

    def _port_channel_steps(self) -> list[SwitchStep]:
        if self.port_channel is None:
            return []
        old, new = self.port_channel
        if new is None:
            assert old is not None
            text = f"leave the LACP port-channel of bond {old.bond}: the port stands alone (the bond uses no LACP)"
            return [self._step("port-channel", text, HOST_FIRST)]
        if old is None and self.status == "needed":
            text = f"join the LACP port-channel of bond {new.bond}: {new.text}"
        elif old is None:
            where = "one per node and bond; MLAG/vPC across two switches"
            text = f"build an LACP port-channel for bond {new.bond} ({where}): {new.text}"
        else:
            text = f"port-channel of bond {new.bond}: {_port_channel_difference(old, new)}; {new.text}"
        return [self._step("port-channel", text)]

    def _mtu_steps(self) -> list[SwitchStep]:
        if self.mtu is None:
            return []
        old, new = self.mtu
        if old is None:
            return [self._step("mtu", f"MTU {new}")]
        return [self._step("mtu", f"MTU {old} -> {new}", SWITCH_FIRST if new > old else HOST_FIRST)]


def _vlans(vlans: tuple[int, ...]) -> str:
    return f"VLAN{'s' if len(vlans) > 1 else ''} {vlan_ranges(vlans)}"


def _port_channel_difference(old: PortChannel, new: PortChannel) -> str:
    words = []
    if old.bond != new.bond:
        words.append(f"bond {old.bond} -> {new.bond}")
    if old.rate != new.rate:
        words.append(f"rate {old.rate} -> {new.rate}")
    if old.fallback != new.fallback:
        words.append(f"host fallback to active-backup {_on(old.fallback)} -> {_on(new.fallback)}")
    return ", ".join(words)


def _on(flag: bool) -> str:
    return "on" if flag else "off"


# --- what a node's switch ports need -------------------------------------------------------------


def design_needs(design: Design, layout: NodeLayout) -> dict[str, PortNeeds]:
    """Per uplink NIC of a node, what its switch port needs: the build sheet's answer."""
    needs = {}
    for uplinks in layout.uplinks:
        port = switch_port(design, uplinks, carried_on(design, uplinks.bridge.name))
        bridge = uplinks.bridge
        channel = None
        if port.lacp_rate is not None:  # the sheet gives a rate exactly when the switch runs LACP
            channel = PortChannel(bridge.bond_name, port.lacp_rate, bool(bridge.uplinks.lacp_fallback))
        served = f"{bridge.name} (bond {bridge.bond_name})" if uplinks.is_bond else bridge.name
        for nic in uplinks.nics:
            allowed = frozenset(port.allowed_vlans)
            needs[nic.name] = PortNeeds(nic.name, allowed, port.untagged, channel, port.mtu, nic.switch, served)
    return needs


def host_needs(host: OvsState, nics: Collection[str]) -> dict[str, PortNeeds]:
    """Per uplink NIC of a host dump, what its switch port carries as far as a dump shows it: bond
    members and LACP, the MTU; VLANs are unknown. Single-interface ports count only when they
    are NICs of the node's inventory (`nics`): a VM's tap looks the same in a dump."""
    needs = {}
    for port in host.ports:
        if port.kind == "bond":
            channel = _host_port_channel(port)
            served = f"{port.bridge} (bond {port.name})"
            for member in port.members:
                needs[member] = PortNeeds(member, None, None, channel, _host_mtu(host, port, member), bridge=served)
        elif port.kind == "nic" and port.name in nics:
            mtu = _host_mtu(host, port, port.name)
            needs[port.name] = PortNeeds(port.name, None, None, None, mtu, bridge=port.bridge)
    return needs


def _host_port_channel(port: PortState) -> PortChannel | None:
    if port.lacp not in ("active", "passive"):
        return None
    options = dict(port.other_config)
    return PortChannel(port.name, options.get("lacp-time", "slow"), options.get("lacp-fallback-ab") == "true")


def _host_mtu(host: OvsState, port: PortState, nic: str) -> int:
    """The link MTU as the build sheet counts it: the NIC's, or the bridge's own port's if larger."""
    mtus = [host.interface(nic).mtu_request]
    if host.port(port.bridge) is not None:
        mtus += [interface.mtu_request for interface in host.interfaces if interface.name == port.bridge]
    return max(mtu or DEFAULT_MTU for mtu in mtus)


# --- what changes ---------------------------------------------------------------------------------


def port_changes(node: str, old: Mapping[str, PortNeeds], new: Mapping[str, PortNeeds]) -> tuple[PortChange, ...]:
    """Per switch port of `node`, in NIC order, what changes from `old` needs to `new` ones."""
    changes: list[PortChange | None] = []
    for nic in sorted(old.keys() | new.keys(), key=natural_key):
        before, after = old.get(nic), new.get(nic)
        if before is not None and after is not None and _recabled(before, after):
            # Another switch port: the old one is freed, the new one set up from scratch.
            changes += [_port_change(node, before, None, after.switch), _port_change(node, None, after, before.switch)]
            continue
        change = _port_change(node, before, after)
        if change is not None:
            changes.append(change)
    return tuple(change for change in changes if change is not None)


def _recabled(old: PortNeeds, new: PortNeeds) -> bool:
    """Whether the design moved the NIC to another switch port (both ports known, and not the same)."""
    return old.switch is not None and new.switch is not None and old.switch != new.switch


def _port_change(
    node: str, old: PortNeeds | None, new: PortNeeds | None, moved: str | None = None
) -> PortChange | None:
    if new is None:
        assert old is not None
        return PortChange(node, old.nic, old.switch, "freed", old.bridge, moved=moved)
    if old is None:
        return PortChange(
            node,
            new.nic,
            new.switch,
            "needed",
            new.bridge,
            allow=_sorted(new.allowed),
            native=((), new.native) if new.native else None,
            port_channel=(None, new.port_channel) if new.port_channel else None,
            mtu=(None, new.mtu),
            moved=moved,
        )
    if old == new:
        return None
    known = old.allowed is not None
    return PortChange(
        node,
        new.nic,
        new.switch,
        "changed",
        new.bridge,
        allow=_sorted((new.allowed or frozenset()) - (old.allowed or frozenset())),
        remove=_sorted((old.allowed or frozenset()) - (new.allowed or frozenset())),
        vlans_unknown=not known,
        native=_native_change(old.native, new.native),
        port_channel=(old.port_channel, new.port_channel) if old.port_channel != new.port_channel else None,
        mtu=(old.mtu, new.mtu) if old.mtu != new.mtu else None,
    )


def _native_change(
    old: tuple[str, ...] | None, new: tuple[str, ...] | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...]] | None:
    new = new or ()
    if old == new or (old is None and not new):  # unknown before and nothing untagged now: nothing to say
        return None
    return (old, new)


def _sorted(vlans: frozenset[int] | None) -> tuple[int, ...]:
    return tuple(sorted(vlans or ()))


def _layout(valid: ValidDesign | None, node: str) -> NodeLayout | None:
    return valid.layout(node) if valid is not None else None


def _node_needs(valid: ValidDesign | None, node: str) -> dict[str, PortNeeds]:
    layout = _layout(valid, node)
    return design_needs(valid.design, layout) if valid is not None and layout is not None else {}


def design_switch_changes(old: ValidDesign | None, new: ValidDesign | None, node: str) -> tuple[PortChange, ...]:
    """The switch side of `node` between two designs (either may lack the node)."""
    return port_changes(node, _node_needs(old, node), _node_needs(new, node))


def host_switch_changes(host: OvsState, plan: NodePlan, new: ValidDesign, node: str) -> tuple[PortChange, ...]:
    """The switch side of `node` from a host dump to a design. NICs the plan leaves alone on the
    host (in ports the design does not mention, and not pruned) keep their switch ports as they are."""
    wanted = _node_needs(new, node)
    layout = _layout(new, node)
    inventory = {nic.name: nic for nic in layout.node.nics} if layout is not None else {}
    found = host_needs(host, inventory)
    # A NIC is freed when no port holds it once the plan has run (an interface is in one port).
    held = {member for port in with_untouched(plan.after, plan).ports for member in port.members}
    old = {
        nic: replace(needs, switch=inventory[nic].switch if nic in inventory else None)
        for nic, needs in found.items()
        if nic in wanted or nic not in held
    }
    return port_changes(node, old, _with_kept_vlans(wanted, layout, plan))


def _with_kept_vlans(wanted: dict[str, PortNeeds], layout: NodeLayout | None, plan: NodePlan) -> dict[str, PortNeeds]:
    """The design's needs plus the VLANs of the ports the plan leaves on each bridge (running VMs'
    taps above all): the switch must keep carrying them, on every uplink of that bridge."""
    kept = [port for port in with_untouched(plan.after, plan).ports if plan.after.port(port.name) is None]
    vlans: dict[str, set[int]] = {}
    for port in kept:
        trunks = column(port.columns, "trunks")
        tagged = {*((port.tag,) if port.tag is not None else ()), *(trunks if isinstance(trunks, tuple) else ())}
        vlans.setdefault(port.bridge, set()).update(int(vlan) for vlan in tagged)
    bridge_of = {
        nic.name: uplinks.bridge.name for uplinks in (layout.uplinks if layout else ()) for nic in uplinks.nics
    }
    # A design's needs always know their VLANs (`allowed` is None only for a host dump's).
    return {
        nic: replace(needs, allowed=(needs.allowed or frozenset()) | vlans.get(bridge_of[nic], set()))
        for nic, needs in wanted.items()
    }
