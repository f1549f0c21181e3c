"""`--node` matching in-process: names compare as host names do, letter case aside and nothing more."""

from __future__ import annotations

from pathlib import Path

from generator.design.nodes import selected_nodes, unknown_nodes_message
from generator.design.validate import validate_file

DESIGN = """\
version: 1
name: mass
host: {bridge: br0, gateway: 10.0.0.1}
bridges:
  br0: {uplinks: 2x10G active-backup}
nodes:
  - {name: mass-1, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.11/24}
  - {name: mass-2, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.12/24}
"""


def test_a_name_that_only_spells_alike_in_capitals_is_another_node(tmp_path: Path) -> None:
    """`maß-1` is not the host mass-1, although both are MASS-1 in capitals."""
    path = tmp_path / "mass.yaml"
    path.write_text(DESIGN, encoding="utf-8")
    designs = [validate_file(path)]
    assert selected_nodes(("maß-1", "MASS-2"), designs) == ("mass-2",)
    assert unknown_nodes_message(("maß-1", "MASS-2"), designs) == (
        "no node named maß-1 in the given designs (nodes: mass-1, mass-2)"
    )
