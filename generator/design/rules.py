"""Semantic checks: the rules between values that the schema cannot express (docs/errors.md).

Each check reads the typed design (and the per-node NIC layouts) and yields
located diagnostics; messages start with the object they are about. The checks
live by subject (rules_bridges, rules_addresses, rules_networks; what they read
and find: rule_context) and run here in one order. A finding about a node at a
place all nodes share (host.gateway, a bridge's uplinks) is a NodeFinding: one bad
shared setting on 2,000 nodes is one message naming the nodes, not 2,000
identical ones.
"""

from __future__ import annotations

from dataclasses import replace

from generator.design.loader import SourceDocument
from generator.design.model import Design
from generator.design.names import listed
from generator.design.resolve import NodeLayout
from generator.design.rule_context import Check, Context, NodeFinding
from generator.design.rules_addresses import check_addresses, check_macs
from generator.design.rules_bridges import (
    check_bond_settings,
    check_layouts,
    check_mtu,
    check_names,
    check_nic_sharing,
    check_references,
)
from generator.design.rules_networks import check_networks, check_nodes
from generator.diagnostics import DesignPath, Diagnostic, Severity

SHOWN_NODES = 3  # node names in a message about many nodes; the rest are counted
SHOWN_DETAILS = 3  # differing details (subnets) in such a message


def run_checks(doc: SourceDocument, design: Design, layouts: tuple[NodeLayout, ...]) -> list[Diagnostic]:
    context = Context(doc, design, layouts)
    findings = [finding for check in CHECKS for finding in check(context)]
    node_findings = [finding for finding in findings if isinstance(finding, NodeFinding)]
    diagnostics = [finding for finding in findings if isinstance(finding, Diagnostic)]
    return diagnostics + _node_diagnostics(context, node_findings)


def _node_diagnostics(ctx: Context, findings: list[NodeFinding]) -> list[Diagnostic]:
    """One diagnostic per problem at one place: for one node, or for all the nodes that have it."""
    groups: dict[tuple[DesignPath, Severity, str], list[NodeFinding]] = {}
    for finding in findings:
        key = (() if finding.across_nodes else finding.path, finding.severity, finding.several or finding.message)
        groups.setdefault(key, []).append(finding)
    return [_grouped(ctx, group) for group in groups.values()]


def _grouped(ctx: Context, group: list[NodeFinding]) -> Diagnostic:
    first = group[0]
    if len(group) == 1:
        return ctx.at(first.path, f"node {first.node}: {first.message}", first.severity, key=first.key)
    names = [finding.node for finding in group]
    details = list(dict.fromkeys(finding.detail for finding in group))
    message = first.message if len(details) == 1 else f"{first.several} ({listed(details, SHOWN_DETAILS)})"
    summary = f"{len(names):,} nodes ({listed(names, SHOWN_NODES)}): {message}"
    diagnostic = ctx.at(first.path, summary, first.severity, key=first.key)
    return replace(diagnostic, nodes=tuple(names))


CHECKS: tuple[Check, ...] = (
    check_references,
    check_names,
    check_nic_sharing,
    check_bond_settings,
    check_layouts,
    check_mtu,
    check_addresses,
    check_macs,
    check_networks,
    check_nodes,
)
