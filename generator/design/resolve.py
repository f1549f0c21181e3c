"""Which NICs each bridge gets on each node (docs/designs.md: how NICs are chosen).

Named NICs are reserved first; then speed selectors pick free NICs of their
speed in natural name order, bridges in name order. The result is the node's
layout, which renderers and semantic checks share; shortfalls are returned as
problems for the semantic checks to report.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from generator.design.model import Bridge, Design, Nic, Node


@functools.lru_cache(maxsize=4096)  # a fleet's NICs share a handful of names
def natural_key(name: str) -> tuple[tuple[int, str], ...]:
    """eth2 < eth10: digit runs compare as numbers."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", name) if part)


@dataclass(frozen=True)
class BridgeUplinks:
    """A bridge's uplinks on one node: one NIC is a plain port, more are a bond."""

    bridge: Bridge
    nics: tuple[Nic, ...]

    @property
    def is_bond(self) -> bool:
        return len(self.nics) > 1

    @property
    def port_name(self) -> str:
        """The OVS port that carries the uplinks: the bond, or the single NIC."""
        return self.bridge.bond_name if self.is_bond else self.nics[0].name


@dataclass(frozen=True)
class Shortfall:
    """A bridge that could not get the NICs it asks for on a node."""

    bridge: Bridge
    message: str
    missing_name: str | None = None  # set when a named NIC is not in the inventory


@dataclass(frozen=True)
class NodeLayout:
    """Which NICs each bridge of a node gets, and which stay unused."""

    node: Node
    uplinks: tuple[BridgeUplinks, ...]  # in bridge name order; bridges with a shortfall left out
    shortfalls: tuple[Shortfall, ...]

    @property
    def unused_nics(self) -> tuple[Nic, ...]:
        used = {nic.name for uplink in self.uplinks for nic in uplink.nics}
        return tuple(nic for nic in sorted(self.node.nics, key=lambda n: natural_key(n.name)) if nic.name not in used)

    def uplinks_of(self, bridge: str) -> BridgeUplinks | None:
        return next((uplink for uplink in self.uplinks if uplink.bridge.name == bridge), None)


def layout_node(design: Design, node: Node) -> NodeLayout:
    inventory = {nic.name: nic for nic in node.nics}
    # NIC -> the bridge that has it: named NICs are reserved before any selector picks.
    owners = {name: bridge.name for bridge in design.bridges for name in bridge.uplinks.names}
    uplinks: list[BridgeUplinks] = []
    shortfalls: list[Shortfall] = []
    for bridge in design.bridges:
        picked, problems = _pick(bridge, inventory, owners)
        shortfalls.extend(problems)
        if picked and not problems:
            owners.update((nic.name, bridge.name) for nic in picked)
            uplinks.append(BridgeUplinks(bridge, tuple(picked)))
    return NodeLayout(node, tuple(uplinks), tuple(shortfalls))


def _pick(bridge: Bridge, inventory: dict[str, Nic], owners: dict[str, str]) -> tuple[list[Nic], list[Shortfall]]:
    spec = bridge.uplinks
    if spec.names:
        known = ", ".join(sorted(inventory, key=natural_key))
        missing = [name for name in spec.names if name not in inventory]
        return [inventory[name] for name in spec.names if name in inventory], [
            Shortfall(bridge, f"bridge {bridge.name} names NIC '{name}', which is not in its inventory ({known})", name)
            for name in missing
        ]
    same_speed = [
        nic for name, nic in sorted(inventory.items(), key=lambda item: natural_key(item[0])) if nic.speed == spec.speed
    ]
    free = [nic for nic in same_speed if owners.get(nic.name, bridge.name) == bridge.name]
    wanted = spec.count if spec.count is not None else max(len(free), 1)
    if len(free) >= wanted:
        return free[:wanted], []
    found = f" ({', '.join(nic.name for nic in free)})" if free else ""
    taken = [f"{nic.name} by {owners[nic.name]}" for nic in same_speed if nic not in free]
    detail = f"; taken: {', '.join(taken)}" if taken else ""
    plural = "s" if wanted > 1 else ""
    message = f"bridge {bridge.name} needs {wanted} free {spec.speed} NIC{plural}, found {len(free)}{found}{detail}"
    return [], [Shortfall(bridge, message)]
