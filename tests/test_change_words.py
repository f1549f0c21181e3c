"""A changed ifcfg file says its settings in words (generator.changes.node_changes), in plans and diffs:
reviewers see a new address without opening a diff, and nodes whose values differ are never
one section of a plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from generator.changes.node_changes import plan_designs
from generator.changes.node_groups import group_changes
from generator.design.validate import ValidDesign, validate_file
from tests.support.cli import invoke

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"


def edited(folder: Path, name: str, addresses: dict[str, str], mtu: int | None = None) -> Path:
    """base.yaml with new host addresses (and a host MTU), written beside the test."""
    data: dict[str, Any] = yaml.safe_load((CHANGES / "base.yaml").read_text())
    for node in data["nodes"]:
        node["address"] = addresses.get(node["name"], node["address"])
    if mtu is not None:
        data["host"]["mtu"] = mtu
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def valid(path: Path) -> ValidDesign:
    return validate_file(path)


def test_a_changed_address_is_said_in_words(tmp_path: Path) -> None:
    old = valid(CHANGES / "base.yaml")
    new = valid(edited(tmp_path, "new", {"c2": "10.30.0.22/24"}))
    c1, c2 = plan_designs(old, new)
    assert (c1.status, c1.ifcfg) == ("unchanged", ())
    assert [(item.name, item.action, item.reason) for item in c2.ifcfg] == [
        ("ifcfg-br0", "change", "IPADDR 10.30.0.12 -> 10.30.0.22")
    ]


def test_added_and_removed_settings_are_named_with_their_values(tmp_path: Path) -> None:
    old = valid(CHANGES / "base.yaml")
    new = valid(edited(tmp_path, "new", {"c1": "dhcp"}))
    (c1,) = plan_designs(old, new, ("c1",))
    assert [item.reason for item in c1.ifcfg] == [
        "BOOTPROTO=static removed, IPADDR=10.30.0.11 removed, PREFIX=24 removed, GATEWAY=10.30.0.1 removed, "
        'OVSBOOTPROTO=dhcp added, OVSDHCPINTERFACES="br0-up" added'
    ]
    (back,) = plan_designs(new, old, ("c1",))
    assert [item.reason for item in back.ifcfg] == [
        'OVSBOOTPROTO=dhcp removed, OVSDHCPINTERFACES="br0-up" removed, '
        "BOOTPROTO=static added, IPADDR=10.30.0.11 added, PREFIX=24 added, GATEWAY=10.30.0.1 added"
    ]
    mtu = valid(edited(tmp_path, "mtu", {}, mtu=9000))
    (c1,) = plan_designs(old, mtu, ("c1",))
    assert c1.ifcfg[0].reason.startswith("MTU 1500 -> 9000, OVS_EXTRA ")


def test_nodes_whose_new_values_differ_are_never_one_section(tmp_path: Path) -> None:
    old = valid(CHANGES / "base.yaml")
    moved = valid(edited(tmp_path, "moved", {"c1": "10.30.0.31/24", "c2": "10.30.0.32/24"}))
    assert [group.size for group in group_changes(plan_designs(old, moved))] == [1, 1]
    same = valid(edited(tmp_path, "same", {}, mtu=9000))  # the same new setting on both nodes
    assert [group.size for group in group_changes(plan_designs(old, same))] == [2]


def test_plan_md_and_diff_show_the_new_address(tmp_path: Path) -> None:
    new = edited(tmp_path, "new", {"c1": "10.30.0.31/24", "c2": "10.30.0.32/24"})
    out = tmp_path / "plan"
    planned = invoke("plan", str(CHANGES / "base.yaml"), str(new), "-o", str(out))
    assert planned.exit_code == 0, planned.output
    text = (out / "plan.md").read_text()
    assert "- write (changed) ifcfg-br0 (IPADDR 10.30.0.11 -> 10.30.0.31)\n" in text
    assert "- write (changed) ifcfg-br0 (IPADDR 10.30.0.12 -> 10.30.0.32)\n" in text
    diffed = invoke("diff", str(CHANGES / "base.yaml"), str(new))
    assert diffed.exit_code == 0, diffed.output
    assert "(IPADDR 10.30.0.12 -> 10.30.0.32)" in diffed.stdout


def test_a_group_of_unchanged_nodes_says_only_that_nothing_changes() -> None:
    base = str(CHANGES / "base.yaml")
    text = invoke("diff", base, base).stdout
    assert "## 2 nodes, c1 … c2: unchanged\n\nNothing changes on these 2 nodes: c1 … c2.\n" in text
    assert "The same changes" not in text


def test_diff_sections_leave_the_script_explanations_to_the_plan(tmp_path: Path) -> None:
    """A pull-request comment holds what changes; how the layer scripts run is plan.md's to say,
    once per section there. What reaches running VMs stays in both."""
    old, new = str(CHANGES / "base.yaml"), str(CHANGES / "networks-changed.yaml")
    diff = invoke("diff", old, new).stdout
    out = tmp_path / "plan"
    assert invoke("plan", old, new, "-o", str(out)).exit_code == 0
    plan = (out / "plan.md").read_text()
    explained = "`libvirt-change.sh --check`, then `--apply` (`VIRSH=...` chooses the connection)."
    assert explained not in diff
    assert plan.count(explained) == 1
    running = "- running VMs on vm-vlan40 keep what they have now (retagged: VLAN 40 -> 41)\n"
    assert running in diff
    assert running in plan
