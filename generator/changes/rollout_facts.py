"""rollout.json of a plan: what `ovsgen rollout` needs to run the plan on a fleet, and cannot read
from the scripts: each node's design, where its host is reached, its scripts in the plan's order
(the order plan.md gives), the way back, and the bonds the build sheet's checks look at.

A node that changes backend (ifcfg files <-> NetworkManager) is listed with its backend change:
its steps need a console (plan.md), so `ovsgen rollout` refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from generator.changes.node_changes import NodeChange
from generator.render.files import OutputFile
from generator.render.rollout_facts import FACTS, bonds, facts_text

# Each layer with its change and rollback script, in the order a node applies them (plan.md's
# "Order on the node"); the way back is another order (ROLLBACK_ORDER).
LAYERS = (
    ("ovs", "change.sh", "rollback.sh"),
    ("networkmanager", "nm-change.sh", "nm-rollback.sh"),
    ("ifcfg", "ifcfg-change.sh", "ifcfg-rollback.sh"),
    ("libvirt", "libvirt-change.sh", "libvirt-rollback.sh"),
)
# libvirt first, the OVS rollback before NetworkManager's: rollback.sh expects the state
# nm-change.sh left (docs/runbook.md, "Getting back").
ROLLBACK_ORDER = ("libvirt", "ifcfg", "ovs", "networkmanager")


def node_steps(scripts: Iterable[str]) -> list[dict[str, str]]:
    """The layers a node's plan changes (those whose change script it has), in the order to apply them."""
    present = set(scripts)
    return [
        {"layer": layer, "change": change, "rollback": rollback}
        for layer, change, rollback in LAYERS
        if change in present
    ]


def rollback_layers(steps: Sequence[dict[str, str]]) -> list[str]:
    """The layers of `steps` in the order their rollbacks run."""
    layers = {step["layer"] for step in steps}
    return [layer for layer in ROLLBACK_ORDER if layer in layers]


def plan_facts(changes: Sequence[NodeChange], files: Sequence[OutputFile], header: str) -> OutputFile:
    """rollout.json for the nodes of a plan that change; `files`: the plan's node files."""
    scripts: dict[str, list[str]] = {}
    for file in files:
        node, _, name = file.path.partition("/")
        scripts.setdefault(node, []).append(name)
    nodes = []
    for change in changes:
        if change.status == "unchanged":
            continue
        steps = node_steps(scripts.get(change.node, ()))
        nodes.append(
            {
                "name": change.node,
                "design": change.design,
                "address": change.address,
                "hostname": change.expected_hostname,
                "backend_change": change.nm.cutover,
                "risks": list(change.ovs.risks),
                "steps": steps,
                "rollback_order": rollback_layers(steps),
                "bonds": bonds(change.ovs.after),
            }
        )
    return OutputFile(FACTS, facts_text(header, "plan", nodes))
