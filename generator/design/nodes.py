"""Which nodes `--node` selects: one rule for render, check, plan, diff and rehearse.

Node names compare case-insensitively, as the duplicate-name check compares them
(host names are case-insensitive): `--node AHV-A-1` selects the node the design
calls ahv-a-1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from generator.design.names import fold, listed
from generator.design.validate import ValidDesign

SHOWN_NODE_NAMES = 10  # valid names listed after an unknown --node; more are counted


def design_node_names(designs: Iterable[ValidDesign]) -> list[str]:
    """Every node name of the designs, in design order, each spelling once."""
    return list(dict.fromkeys(layout.node.name for design in designs for layout in design.layouts))


def selected_nodes(wanted: Iterable[str], designs: Sequence[ValidDesign]) -> tuple[str, ...]:
    """The designs' own spellings of the wanted names (all of them when a name is spelt
    differently in two designs), in design order; names no design has are left out."""
    folded = {fold(name) for name in wanted}
    return tuple(name for name in design_node_names(designs) if fold(name) in folded)


def unknown_nodes_message(wanted: Iterable[str], designs: Sequence[ValidDesign]) -> str | None:
    """What is wrong with the wanted names (those no design has, and the valid ones); None if nothing."""
    names = design_node_names(designs)
    known = {fold(name) for name in names}
    unknown = sorted({name for name in wanted if fold(name) not in known})
    if not unknown:
        return None
    named = "no node named" if len(unknown) == 1 else "no nodes named"
    return f"{named} {', '.join(unknown)} in the given designs (nodes: {listed(names, SHOWN_NODE_NAMES)})"
