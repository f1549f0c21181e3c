"""ifcfg details that matter to ifup-ovs and ifup-eth, read from the rendered files."""

from __future__ import annotations

from pathlib import Path


def settings(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_dhcp_host_bridge_uses_ovsbootproto_and_no_bootproto(rendered_tree: Path) -> None:
    bridge = settings(rendered_tree / "edge-cases/edge-1/network-scripts/ifcfg-br-mgmt")
    assert bridge["OVSBOOTPROTO"] == "dhcp"
    assert bridge["OVSDHCPINTERFACES"] == '"mgmt-bond"'
    assert "BOOTPROTO" not in bridge
    assert "IPADDR" not in bridge


def test_static_host_bridge(rendered_tree: Path) -> None:
    bridge = settings(rendered_tree / "ahv-host/ahv-a-1/network-scripts/ifcfg-br0")
    assert {key: bridge[key] for key in ("BOOTPROTO", "IPADDR", "PREFIX", "GATEWAY", "DNS1", "DNS2", "DOMAIN")} == {
        "BOOTPROTO": "static",
        "IPADDR": "10.59.31.77",
        "PREFIX": "23",
        "GATEWAY": "10.59.30.1",
        "DNS1": "10.59.30.10",
        "DNS2": "10.59.30.11",
        "DOMAIN": '"lab.example.com"',
    }


def test_bridge_files_keep_settings_out_of_ovs_options(rendered_tree: Path) -> None:
    # ifup-ovs passes a bridge's OVS_OPTIONS to add-br as positional arguments.
    for path in rendered_tree.glob("*/*/network-scripts/ifcfg-*"):
        values = settings(path)
        if values.get("TYPE") == "OVSBridge":
            assert "OVS_OPTIONS" not in values, path


def test_bond_members_are_plain_files(rendered_tree: Path) -> None:
    member = settings(rendered_tree / "lacp-storage/kvm-s-1/network-scripts/ifcfg-ens1f0")
    assert member == {
        "DEVICE": "ens1f0",
        "ONBOOT": "yes",
        "NM_CONTROLLED": "no",
        "HOTPLUG": "no",
        "BOOTPROTO": "none",
        "MTU": "9000",
        "HWADDR": "b8:59:9f:10:00:01",
    }


def test_only_devicetype_is_used(rendered_tree: Path) -> None:
    for path in rendered_tree.glob("*/*/network-scripts/ifcfg-*"):
        assert "DEVICE_TYPE" not in path.read_text(), path
