"""What the semantic rules (generator.design.rules) read and what they find.

A rule reads a Context (the source, for positions; the typed design; each node's NIC
layout) and yields located Diagnostics, or NodeFindings: problems of one node at a place
other nodes may share, which generator.design.rules groups into one message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from generator.design.loader import SourceDocument
from generator.design.model import Design
from generator.design.resolve import NodeLayout
from generator.diagnostics import DesignPath, Diagnostic, Severity

WARNING = Severity.WARNING


@dataclass(frozen=True)
class NodeFinding:
    """A problem of one node, at a place other nodes may share; grouped with the same
    problem of other nodes into one diagnostic (see `generator.design.rules`).

    `message` does not name the node. When the message holds something that differs
    from node to node (its subnet), that part is also `detail`, and `several` is the
    message for nodes whose details differ ("... outside their host subnets").
    """

    node: str
    path: DesignPath
    message: str
    severity: Severity = Severity.ERROR
    several: str | None = None
    detail: str = ""
    # The same problem whatever the node's own path (a NIC of one name left unused on every
    # node): grouped on the message alone, shown at the first node's path.
    across_nodes: bool = False
    key: bool = False  # the caret under the key, not the value


@dataclass(frozen=True)
class Context:
    """What the semantic checks read: the source (for positions), the design and its layouts."""

    doc: SourceDocument
    design: Design
    layouts: tuple[NodeLayout, ...]

    def at(
        self, path: DesignPath, message: str, severity: Severity = Severity.ERROR, *, key: bool = False
    ) -> Diagnostic:
        return self.doc.diagnostic(path, message, severity, key=key)


Finding = Diagnostic | NodeFinding
Check = Callable[[Context], Iterator[Finding]]


def unknown_bridge(ctx: Context, path: DesignPath, what: str, name: str) -> Diagnostic:
    """`what` names a bridge the design does not define (several rules find one)."""
    known = ", ".join(bridge.name for bridge in ctx.design.bridges)
    return ctx.at(path, f"{what}: bridge '{name}' is not defined (bridges: {known})")
