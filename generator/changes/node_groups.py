"""Nodes whose changes are identical, grouped: one section of a plan or a diff each.

"Identical" is decided on the structured change (change_key), in which nothing names the node:
a portgroup added on 1,000 nodes is one section, not 1,000.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from generator.changes.node_changes import NodeChange


@dataclass(frozen=True)
class NodeGroup:
    """Nodes whose changes are identical, in design order: one section of a plan or a diff.

    "Identical" is decided on the structured change (change_key), in which nothing names the node.
    """

    changes: tuple[NodeChange, ...]
    runs: tuple[tuple[str, str], ...]  # nodes that follow each other in the design: (first, last)

    @property
    def first(self) -> NodeChange:
        """The group's first node: what the section shows stands for every node of it."""
        return self.changes[0]

    @property
    def size(self) -> int:
        return len(self.changes)

    @property
    def title(self) -> str:
        """The section's heading: `Node c1`, or `1,000 nodes, kvm-00000 … kvm-00999` (three runs at most, then "…")."""
        if self.size == 1:
            return f"Node {self.first.node}"
        shown = ", ".join(_run_text(run) for run in self.runs[:TITLE_RUNS])
        more = ", …" if len(self.runs) > TITLE_RUNS else ""
        return f"{self.size:,} nodes, {shown}{more}"

    def node_list(self, limit: int | None = None) -> str:
        """Every node of the group as runs ("kvm-00000 … kvm-00499, kvm-00501"); with `limit` (at
        least 1), that many runs and then how many nodes are left."""
        runs = self.runs[:limit]  # all of them when None
        text = ", ".join(_run_text(run) for run in runs)
        if len(runs) < len(self.runs):  # the nodes listed: those up to the last run's last one
            listed = [change.node for change in self.changes].index(runs[-1][1]) + 1
            text += f" and {self.size - listed:,} more"
        return text


TITLE_RUNS = 3  # runs of nodes a section's heading names before "…"


def _run_text(run: tuple[str, str]) -> str:
    first, last = run
    return first if first == last else f"{first} … {last}"


def change_key(change: NodeChange) -> Hashable:
    """Everything a plan or diff section says about a node's change, without the node's name
    (and without the labels of its switch ports, which differ per node): equal keys, one section."""
    return (
        change.status,
        change.host_known,
        change.hostname,
        change.system_id,
        tuple(item.text for item in change.ovs.changes),
        change.ovs.risks,
        change.ovs.left_alone,
        change.ovs.removed_bridges,
        tuple((item.name, item.action, item.reason) for item in change.ifcfg),
        tuple((item.name, item.action, item.reason) for item in change.networks),
        tuple((item.name, item.action, item.reason) for item in change.nm.keyfiles),
        change.nm.backends,
        change.nm.cutover,
        tuple((port.nic, tuple((step.text, step.order) for step in port.steps)) for port in change.switch_ports),
    )


def group_changes(changes: Sequence[NodeChange], keys: Sequence[Hashable] | None = None) -> list[NodeGroup]:
    """`changes` (in design order) grouped by `keys` (default: change_key of each), groups in
    the order of their first node."""
    found: dict[Hashable, list[int]] = {}
    for index, key in enumerate(keys if keys is not None else map(change_key, changes)):
        found.setdefault(key, []).append(index)
    return [_group(changes, indices) for indices in found.values()]


def _group(changes: Sequence[NodeChange], indices: list[int]) -> NodeGroup:
    runs: list[tuple[int, int]] = []
    for index in indices:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    named = tuple((changes[start].node, changes[end].node) for start, end in runs)
    return NodeGroup(tuple(changes[index] for index in indices), named)
