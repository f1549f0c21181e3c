"""Network XML through virt-xml-validate and virsh's test driver; define.sh through real virsh."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import SUPPORT, require_tool, run

pytestmark = pytest.mark.consumer


def network_files(tree: Path) -> list[Path]:
    return sorted(tree.glob("*/*/libvirt/*.xml"))


def test_every_example_node_has_network_xml(rendered_tree: Path) -> None:
    names = {path.relative_to(rendered_tree).as_posix() for path in network_files(rendered_tree)}
    assert "ahv-host/ahv-a-1/libvirt/NTNX-Local-Network.xml" in names
    assert "lacp-storage/kvm-s-2/libvirt/tenant.xml" in names
    assert len(names) == 15  # ahv-host 3, lacp-storage 2x1, rhel9-migration 3x1, two-tier-cluster 3x2, edge-cases 1


def test_xml_passes_virt_xml_validate(rendered_tree: Path) -> None:
    validate = require_tool("virt-xml-validate")
    require_tool("xmllint")  # virt-xml-validate runs it
    for path in network_files(rendered_tree):
        result = run([validate, str(path), "network"])
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"
        assert f"{path} validates" in result.stderr


def test_xml_is_accepted_by_virsh_net_define(rendered_tree: Path) -> None:
    virsh = require_tool("virsh")
    for path in network_files(rendered_tree):
        name = etree.parse(str(path)).findtext("name")
        result = run([virsh, "-q", "-c", "test:///default", f"net-define {path}; net-dumpxml {name}"])
        assert result.returncode == 0, f"{path}: {result.stderr}"
        assert f"<name>{name}</name>" in result.stdout


def test_vlan_and_portgroups_survive_libvirt_parsing(rendered_tree: Path) -> None:
    """libvirt's own reading of the XML keeps the VLANs, trunk and native mode."""
    virsh = require_tool("virsh")
    path = rendered_tree / "lacp-storage/kvm-s-1/libvirt/tenant.xml"
    result = run([virsh, "-q", "-c", "test:///default", f"net-define {path}; net-dumpxml tenant"])
    assert result.returncode == 0, result.stderr
    parsed = etree.fromstring(result.stdout.encode())
    assert parsed.find("forward").get("mode") == "bridge"
    assert parsed.find("virtualport").get("type") == "openvswitch"
    groups = {group.get("name"): group for group in parsed.findall("portgroup")}
    assert groups["web"].get("default") == "yes"
    assert [tag.get("id") for tag in groups["db"].findall("vlan/tag")] == ["101"]
    trunk = groups["trunk"].find("vlan")
    assert trunk.get("trunk") == "yes"
    assert [(tag.get("id"), tag.get("nativeMode")) for tag in trunk.findall("tag")] == [
        ("100", "untagged"),
        ("101", None),
        ("102", None),
    ]


def test_define_script_defines_autostarts_and_starts_once(rendered_tree: Path, tmp_path: Path) -> None:
    require_tool("virsh")
    script = rendered_tree / "ahv-host/ahv-a-1/libvirt/define.sh"
    env = {**os.environ, "VIRSH": str(SUPPORT / "virsh_replay.sh"), "VIRSH_REPLAY_LOG": str(tmp_path / "virsh.log")}
    first = run(["bash", str(script), "--apply"], env=env)
    assert first.returncode == 0, first.stderr
    state = run([str(SUPPORT / "virsh_replay.sh"), "net-list", "--autostart", "--name"], env=env)
    assert sorted(state.stdout.split()) == ["NTNX-Local-Network", "VM-Network", "vlan32"]
    second = run(["bash", str(script), "--apply"], env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("is already active") == 3
    uuids = run([str(SUPPORT / "virsh_replay.sh"), "net-uuid", "vlan32"], env=env).stdout
    defined = run([str(SUPPORT / "virsh_replay.sh"), "net-dumpxml", "vlan32"], env=env).stdout
    assert f"<uuid>{uuids.strip()}</uuid>" in defined


def test_define_script_dry_run_runs_no_virsh(rendered_tree: Path, tmp_path: Path) -> None:
    script = rendered_tree / "ahv-host/ahv-a-1/libvirt/define.sh"
    trap = tmp_path / "virsh-called"
    env = {**os.environ, "VIRSH": f"touch {trap}"}
    result = run(["bash", str(script), "--dry-run"], env=env)
    assert result.returncode == 0, result.stderr
    folder = script.parent
    assert f"touch {trap} net-define --file {folder}/vlan32.xml" in result.stdout
    assert f"touch {trap} net-autostart --network vlan32" in result.stdout
    assert not trap.exists()
