"""Rules about libvirt networks and node names: names used once, a VLAN or portgroups (not
both), one default portgroup, trunks and their native VLAN."""

from __future__ import annotations

from collections.abc import Iterator

from generator.design.model import Portgroup
from generator.design.names import fold
from generator.design.rule_context import WARNING, Context
from generator.diagnostics import DesignPath, Diagnostic


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
