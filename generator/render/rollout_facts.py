"""rollout.json of a render (one per design): what `ovsgen rollout` needs for a first build and
cannot read from the node's files: where each host is reached, its backends, the bridges a first
build creates (and its rollback deletes) with their ports, and the bonds the build sheet's checks
look at."""

from __future__ import annotations

import json
from typing import Any

from generator.design.resolve import NodeLayout
from generator.ovs.state import OvsState, node_state
from generator.render.context import DesignContext
from generator.render.files import OutputFile
from generator.render.templating import header_comment

FACTS = "rollout.json"


def bonds(state: OvsState) -> list[dict[str, Any]]:
    """The bonds the build sheet's checks show (ovs-appctl bond/show; lacp/show where LACP is on)."""
    return [{"name": port.name, "lacp": port.lacp is not None} for port in state.ports if port.kind == "bond"]


def facts_text(header: str, kind: str, nodes: list[dict[str, Any]]) -> str:
    """The file: `generated` on its second line (what marks a file ovsgen wrote), then the facts."""
    return json.dumps({"generated": header, "kind": kind, "nodes": nodes}, indent=2, ensure_ascii=False) + "\n"


def render_rollout_facts(shared: DesignContext, layouts: tuple[NodeLayout, ...], folder: str) -> list[OutputFile]:
    """<design>/rollout.json: every node of the design."""
    design = shared.design
    nodes = [_node_facts(shared, layout) for layout in layouts]
    return [OutputFile(f"{folder}/{FACTS}", facts_text(header_comment(design.name, None), "render", nodes))]


def _node_facts(shared: DesignContext, layout: NodeLayout) -> dict[str, Any]:
    design = shared.design
    state = node_state(design, layout)
    address = layout.node.address
    return {
        "name": layout.node.name,
        "design": design.name,
        "address": str(address.ip) if address is not None else "",
        "backends": list(design.backends_of(layout.node)),
        "bridges": [{"name": bridge, "ports": _ports(state, bridge)} for bridge in state.bridges],
        "bonds": bonds(state),
    }


def _ports(state: OvsState, bridge: str) -> list[str]:
    """The ports a first build adds to the bridge (list-ports shows them; not the bridge's own)."""
    return [port.name for port in state.ports if port.bridge == bridge and port.kind != "bridge"]
