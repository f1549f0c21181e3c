"""Issue 13, point 15: one message for a bad setting many nodes share, and `--node` as people type it.

The grouped messages are checked through the real command (text and JSON), the node
selection in-process (render and plan share generator.design.nodes) and through `ovsgen render`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.cli.commands import replaced_paths, selected_node_names
from generator.design.names import listed
from generator.design.nodes import SHOWN_NODE_NAMES, selected_nodes, unknown_nodes_message
from generator.design.validate import ValidDesign, validate_file
from generator.errors import SelectionInvalid
from tests.conftest import REPO
from tests.support.cli import invoke

CLUSTER = REPO / "designs" / "two-tier-cluster.yaml"  # nodes kvm-a-1, kvm-a-2, kvm-a-3
AHV = REPO / "designs" / "ahv-host.yaml"  # node ahv-a-1


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVSGEN_CACHE_DIR", str(tmp_path / "cache"))


def fleet_text(count: int, gateway: str) -> str:
    nodes = "".join(
        f"  - {{name: node-{i:05d}, nics: {{eth0: 10G, eth1: 10G}}, address: 10.1.{i // 200}.{i % 200 + 10}/16}}\n"
        for i in range(count)
    )
    return (
        f"version: 1\nname: fleet\nhost: {{bridge: br0, gateway: {gateway}}}\n"
        f"bridges:\n  br0: {{uplinks: 2x10G active-backup}}\nnodes:\n{nodes}"
    )


def ovsgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "OVSGEN_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], capture_output=True, text=True, check=False, cwd=cwd, env=env
    )


def test_a_bad_shared_gateway_on_2000_nodes_is_one_error_in_text_and_json(tmp_path: Path) -> None:
    design = tmp_path / "fleet.yaml"
    design.write_text(fleet_text(2000, "10.9.0.1"), encoding="utf-8")
    text = ovsgen("validate", "fleet.yaml", cwd=tmp_path)
    assert text.returncode == 1
    message = (
        "2,000 nodes (node-00000, node-00001, node-00002 and 1,997 more): "
        "gateway 10.9.0.1 is outside the host subnet 10.1.0.0/16"
    )
    assert text.stderr.splitlines() == [
        f"fleet.yaml:3:30: error: host.gateway: {message}",
        "    3 | host: {bridge: br0, gateway: 10.9.0.1}",
        "      |                              ^",
    ]
    machine = ovsgen("validate", "--format", "json", "fleet.yaml", cwd=tmp_path)
    assert machine.returncode == 1
    (record,) = json.loads(machine.stderr)
    assert record["message"] == message
    assert (record["line"], record["column"], record["path"]) == (3, 30, "host.gateway")
    assert record["nodes"] == [f"node-{i:05d}" for i in range(2000)]


def test_a_finding_about_one_node_has_no_node_list_in_json(tmp_path: Path) -> None:
    design = tmp_path / "fleet.yaml"
    design.write_text(fleet_text(1, "10.9.0.1"), encoding="utf-8")
    result = invoke("validate", "--format", "json", str(design))
    assert result.exit_code == 1
    (record,) = json.loads(result.stderr)
    assert record["message"] == "node node-00000: gateway 10.9.0.1 is outside the host subnet 10.1.0.0/16"
    assert "nodes" not in record


def test_strict_keeps_the_nodes_of_a_grouped_warning(tmp_path: Path) -> None:
    text = fleet_text(3, "10.1.0.1").replace("2x10G active-backup", "{nics: 10G, count: 1, mode: balance-slb}")
    design = tmp_path / "fleet.yaml"
    design.write_text(text, encoding="utf-8")
    valid = validate_file(design)
    grouped = [warning for warning in valid.warnings if warning.nodes and "plain port" in warning.message]
    assert [(w.severity.value, w.nodes) for w in grouped] == [
        ("warning", ("node-00000", "node-00001", "node-00002")),
    ]
    assert grouped[0].escalated().nodes == grouped[0].nodes
    assert grouped[0].escalated().is_error


# --- --node: case-insensitive, unknown names answered with the valid ones ------


def valid(*paths: Path) -> list[ValidDesign]:
    return [validate_file(path) for path in paths]


def test_node_names_match_in_any_case_and_keep_the_designs_spelling() -> None:
    designs = valid(CLUSTER, AHV)
    assert selected_nodes(("KVM-A-2", "Ahv-A-1"), designs) == ("kvm-a-2", "ahv-a-1")
    assert selected_nodes((), designs) == ()
    assert unknown_nodes_message(("KVM-A-2", "ahv-a-1"), designs) is None


def test_an_unknown_node_is_answered_with_the_valid_names() -> None:
    designs = valid(CLUSTER)
    assert unknown_nodes_message(("zz", "kvm-a-1", "aa"), designs) == (
        "no nodes named aa, zz in the given designs (nodes: kvm-a-1, kvm-a-2, kvm-a-3)"
    )


def test_render_and_plan_give_the_same_answer_for_unknown_nodes() -> None:
    designs = valid(CLUSTER)
    expected = "no node named nope in the given designs (nodes: kvm-a-1, kvm-a-2, kvm-a-3)"
    with pytest.raises(SelectionInvalid) as render_refusal:
        replaced_paths(designs, ("nope",))
    with pytest.raises(SelectionInvalid) as plan_refusal:  # plan and rehearse select their nodes so
        selected_node_names(("nope",), designs)
    assert str(render_refusal.value) == str(plan_refusal.value) == expected


def test_render_owns_the_folder_of_the_node_named_in_another_case() -> None:
    designs = valid(CLUSTER)
    owned = replaced_paths(designs, ("KVM-A-2",))
    assert [str(path) for path in owned] == [
        "two-tier-cluster/kvm-a-2",
        "two-tier-cluster/build-sheet.csv",
        "two-tier-cluster/index.md",
        "two-tier-cluster/rollout.json",
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.from_regex(r"n[0-9]{1,4}", fullmatch=True), unique=True, max_size=30))
def test_the_listed_names_are_the_first_ten_and_a_count(names: list[str]) -> None:
    text = listed(names, SHOWN_NODE_NAMES)
    shown = names[:SHOWN_NODE_NAMES]
    if len(names) > SHOWN_NODE_NAMES:
        assert text == f"{', '.join(shown)} and {len(names) - SHOWN_NODE_NAMES:,} more"
    else:
        assert text == ", ".join(shown)


def test_a_long_list_of_names_is_cut_with_thousands_separators() -> None:
    names = [f"n{i}" for i in range(1234)]
    assert listed(names, 3) == "n0, n1, n2 and 1,231 more"


def test_ovsgen_render_with_an_unknown_node_lists_the_valid_ones(tmp_path: Path) -> None:
    result = ovsgen("render", str(CLUSTER), "-o", "out", "--node", "kvm-a-9", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ovsgen: no node named kvm-a-9 in the given designs (nodes: kvm-a-1, kvm-a-2, kvm-a-3); nothing was written"
    )
    assert not (tmp_path / "out").exists()


def test_ovsgen_render_node_in_upper_case_renders_that_node(tmp_path: Path) -> None:
    first = ovsgen("render", str(CLUSTER), "-o", "out", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "out").rglob("*"))
    sheet = tmp_path / "out" / "two-tier-cluster" / "kvm-a-2" / "build-sheet.md"
    sheet.unlink()
    again = ovsgen("render", str(CLUSTER), "-o", "out", "--node", "KVM-A-2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "out").rglob("*")) == before
    assert sheet.is_file()


def test_ovsgen_plan_node_in_upper_case_plans_that_node(tmp_path: Path) -> None:
    changes = REPO / "tests" / "designs" / "changes"
    result = ovsgen(
        "plan",
        str(changes / "base.yaml"),
        str(changes / "member-added.yaml"),
        "--node",
        "C2",
        "-o",
        "plan",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "plan" / "c2" / "change.sh").is_file()
    assert {path.name for path in (tmp_path / "plan").iterdir()} == {"c2", "plan.md", "rollout.json"}
