"""What the renderers read: a design's shared facts, and each node's, each worked out once.

Every node renderer is a pure function of a NodeContext, the design-level renderer of a
DesignContext. The facts several renderers need (the node's OVS state, its build-sheet
facts, what each bridge carries) are worked out here, once, instead of in each renderer:
what is the same for every node once per design (and process), the rest once per node,
each only when a renderer asks for it: a plan's ifcfg files never need the build-sheet facts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from generator.design.model import Design
from generator.design.resolve import NodeLayout
from generator.ovs.state import OvsState, node_state
from generator.render.switch_side import CarriedByBridge, NodeSheet, carried_by_bridge, node_sheet
from generator.render.templating import header_comment


@dataclass(frozen=True)
class DesignContext:
    """What is the same for every node of a design: the design, and what each bridge carries."""

    design: Design

    @classmethod
    def of(cls, design: Design) -> DesignContext:
        return cls(design)

    @functools.cached_property
    def carried(self) -> CarriedByBridge:
        """What each bridge of the design carries (switch_side.carried_by_bridge); build sheets ask."""
        return carried_by_bridge(self.design)

    def node(self, layout: NodeLayout, folder: str, *, state: OvsState | None = None) -> NodeContext:
        """The context of one node of the design, whose files go to `folder` (relative to the
        output folder). `state`: the OVS state to render instead of the design's (a plan from a
        host dump renders ifcfg files that keep what the host has in the columns no design manages)."""
        return NodeContext(self, layout, folder, state)


@dataclass(frozen=True)
class NodeContext:
    """Everything a node's renderers read. The derived facts below are worked out on first use
    and kept (functools.cached_property), so each is computed once however many renderers ask."""

    shared: DesignContext
    layout: NodeLayout
    folder: str  # the node's folder, relative to the output folder ("design/node")
    given_state: OvsState | None = None  # DesignContext.node(state=...); None: the design's

    @property
    def design(self) -> Design:
        return self.shared.design

    @property
    def name(self) -> str:
        """The node's name."""
        return self.layout.node.name

    @functools.cached_property
    def state(self) -> OvsState:
        """The node's OVS state: the one this context was given, else the design's (ifcfg and apply.sh)."""
        return self.given_state if self.given_state is not None else node_state(self.design, self.layout)

    @functools.cached_property
    def sheet(self) -> NodeSheet:
        """The node's build-sheet facts: its NICs and the switch port each needs."""
        return node_sheet(self.design, self.layout, self.shared.carried)

    @functools.cached_property
    def header(self) -> str:
        """The comment every file of the node starts with (templating.header_comment)."""
        return header_comment(self.design.name, self.name)


def node_context(design: Design, layout: NodeLayout, folder: str, *, state: OvsState | None = None) -> NodeContext:
    """The context of a node rendered on its own (a plan, a rehearsal): its design's shared facts
    worked out for it alone. Rendering a whole design shares one DesignContext instead."""
    return DesignContext.of(design).node(layout, folder, state=state)
