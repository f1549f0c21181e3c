"""generator.render.context: what the renderers read, each fact worked out once (issue 14)."""

from __future__ import annotations

from generator.design.validate import validate_file
from generator.ovs.state import OvsState, node_state
from generator.render.context import DesignContext, NodeContext, node_context
from generator.render.switch_side import carried_by_bridge, node_sheet
from generator.render.templating import header_comment
from tests.conftest import REPO

TWO_TIER = REPO / "designs" / "two-tier-cluster.yaml"
EMPTY = OvsState((), (), ())


def test_a_design_context_holds_its_design_and_what_each_bridge_carries() -> None:
    valid = validate_file(TWO_TIER)
    shared = DesignContext.of(valid.design)
    assert shared.design is valid.design
    assert shared.carried == carried_by_bridge(valid.design)
    assert set(shared.carried) == {bridge.name for bridge in valid.design.bridges}


def test_a_node_context_is_the_node_it_was_made_for() -> None:
    valid = validate_file(TWO_TIER)
    shared = DesignContext.of(valid.design)
    layout = valid.layouts[1]
    node = shared.node(layout, "two-tier/kvm-a-2")
    assert isinstance(node, NodeContext)
    assert node.shared is shared
    assert node.design is valid.design
    assert node.layout is layout
    assert node.folder == "two-tier/kvm-a-2"
    assert node.name == layout.node.name
    assert node.given_state is None


def test_a_node_context_is_the_design_s_state_unless_given_one() -> None:
    valid = validate_file(TWO_TIER)
    shared = DesignContext.of(valid.design)
    for layout in valid.layouts:
        wanted = node_state(valid.design, layout)
        assert wanted != EMPTY
        assert shared.node(layout, "n").state == wanted
        given = shared.node(layout, "n", state=EMPTY)
        assert given.given_state is EMPTY
        assert given.state is EMPTY


def test_each_fact_is_worked_out_once_and_kept() -> None:
    valid = validate_file(TWO_TIER)
    layout = valid.layouts[0]
    node = DesignContext.of(valid.design).node(layout, "n")
    assert node.state is node.state
    assert node.sheet is node.sheet
    assert node.header is node.header


def test_a_nodes_sheet_is_its_own_read_from_the_shared_carried() -> None:
    valid = validate_file(TWO_TIER)
    shared = DesignContext.of(valid.design)
    sheets = [shared.node(layout, "n").sheet for layout in valid.layouts]
    for layout, sheet in zip(valid.layouts, sheets, strict=True):
        assert sheet == node_sheet(valid.design, layout, carried_by_bridge(valid.design))
        assert sheet.carried is shared.carried
    assert sheets[0] != sheets[1]


def test_a_nodes_header_names_its_design_and_the_node() -> None:
    valid = validate_file(TWO_TIER)
    for layout in valid.layouts:
        header = node_context(valid.design, layout, "n").header
        assert header == header_comment(valid.design.name, layout.node.name)
        assert f"from design {valid.design.name} for node {layout.node.name}." in header


def test_a_node_rendered_on_its_own_gets_a_context_of_its_own_design() -> None:
    valid = validate_file(TWO_TIER)
    layout = valid.layouts[2]
    node = node_context(valid.design, layout, "design/node")
    assert (node.design, node.layout, node.folder, node.given_state) == (valid.design, layout, "design/node", None)
    assert node.shared.carried == carried_by_bridge(valid.design)
    assert node.state == node_state(valid.design, layout)
    given = node_context(valid.design, layout, "design/node", state=EMPTY)
    assert given.state is EMPTY
    assert given.given_state is EMPTY
