"""NIC resolution (generator.design.resolve) at its edges: natural order, counts, what a shortfall says.

Layouts are built in-process from plain design data (as the pipeline builds them after
the schema check); shortfall messages are checked through validation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.design.model import build_design
from generator.design.resolve import NodeLayout, layout_node, natural_key
from tests.validation_helpers import problems_in


def layout(uplinks: dict[str, Any], nics: dict[str, str]) -> NodeLayout:
    """The layout of one node with `nics` (name: speed) under bridges `uplinks` (name: uplinks)."""
    data = {
        "version": 1,
        "name": "t",
        "host": {"bridge": sorted(uplinks)[0]},
        "bridges": {name: {"uplinks": spec} for name, spec in uplinks.items()},
        "nodes": [{"name": "n1", "nics": nics, "address": "10.0.0.11/24"}],
    }
    design = build_design(data)
    return layout_node(design, design.nodes[0])


def members(found: NodeLayout) -> dict[str, list[str]]:
    return {uplink.bridge.name: [nic.name for nic in uplink.nics] for uplink in found.uplinks}


def test_a_speed_selector_takes_nics_in_natural_order() -> None:
    found = layout({"br0": "2x10G"}, {"eth10": "10G", "eth9": "10G", "eth2": "10G"})
    assert members(found) == {"br0": ["eth2", "eth9"]}
    assert [nic.name for nic in found.unused_nics] == ["eth10"]


def test_natural_key_orders_digit_runs_as_numbers() -> None:
    assert sorted(["eth10", "eth2", "em1", "eth1a", "eth1"], key=natural_key) == [
        "em1",
        "eth1",
        "eth1a",
        "eth2",
        "eth10",
    ]


def test_named_nics_are_reserved_before_a_selector_picks() -> None:
    found = layout({"a": "2x10G", "b": {"nics": ["eth0"]}}, {"eth0": "10G", "eth1": "10G", "eth2": "10G"})
    assert members(found) == {"a": ["eth1", "eth2"], "b": ["eth0"]}
    assert found.shortfalls == ()


def test_a_bridge_missing_a_named_nic_gets_no_uplinks() -> None:
    found = layout({"br0": {"nics": ["eth0", "eth9"]}}, {"eth0": "10G"})
    assert found.uplinks == ()
    assert [(s.bridge.name, s.missing_name) for s in found.shortfalls] == [("br0", "eth9")]


def test_uplinks_of_finds_a_bridge_or_none() -> None:
    found = layout({"a": "1x10G", "b": "1x1G"}, {"eth0": "10G", "eth1": "1G"})
    b = found.uplinks_of("b")
    assert b is not None
    assert (b.bridge.name, [nic.name for nic in b.nics], b.is_bond, b.port_name) == ("b", ["eth1"], False, "eth1")
    assert found.uplinks_of("c") is None


def test_a_bond_is_named_after_its_bridge() -> None:
    found = layout({"br0": "2x10G"}, {"eth0": "10G", "eth1": "10G"})
    (uplink,) = found.uplinks
    assert (uplink.is_bond, uplink.port_name) == (True, "br0-up")


SHORT = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: UPLINKS}
    nodes:
      - {name: n1, nics: NICS, address: 10.0.0.11/24}
"""


@pytest.mark.parametrize(
    ("uplinks", "nics", "message"),
    [
        ("{nics: 10G}", "{eth0: 1G}", "bridge br0 needs 1 free 10G NIC, found 0"),
        ("3x10G", "{eth10: 10G, eth2: 10G}", "bridge br0 needs 3 free 10G NICs, found 2 (eth2, eth10)"),
        (
            "{nics: [eth0, eth11]}",
            "{eth10: 10G, eth0: 10G, eth9: 10G}",
            "bridge br0 names NIC 'eth11', which is not in its inventory (eth0, eth9, eth10)",
        ),
    ],
)
def test_what_a_shortfall_says(tmp_path: Path, uplinks: str, nics: str, message: str) -> None:
    design = SHORT.replace("UPLINKS", uplinks).replace("NICS", nics)
    assert [(severity, said) for _, _, severity, _, said in problems_in(tmp_path, design)] == [
        ("error", f"node n1: {message}"),
    ]


def test_a_shortfall_names_every_nic_another_bridge_took(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 3x10G}
      br1: {uplinks: {nics: [eth1, eth0]}}
    nodes:
      - {name: n1, nics: {eth0: 10G, eth1: 10G, eth2: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            18,
            "error",
            "bridges.br0.uplinks",
            "node n1: bridge br0 needs 3 free 10G NICs, found 1 (eth2); taken: eth0 by br1, eth1 by br1",
        ),
    ]
