"""Switch-port derivation for build sheets: VLANs, native VLAN, LACP, MTU."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.design.validate import validate_file
from generator.render.switch_side import NodeSheet, SwitchPort, carried_by_bridge, node_sheet, vlan_ranges


def sheet_for(tmp_path: Path, yaml_text: str) -> NodeSheet:
    path = tmp_path / "design.yaml"
    path.write_text(textwrap.dedent(yaml_text).lstrip("\n"))
    valid = validate_file(path)
    return node_sheet(valid.design, valid.layouts[0], carried_by_bridge(valid.design))


def port_of(sheet: NodeSheet, nic: str) -> SwitchPort:
    row = next(row for row in sheet.rows if row.nic.name == nic)
    assert row.port is not None
    return row.port


@pytest.mark.parametrize(
    ("vlans", "text"),
    [((), ""), ((10,), "10"), ((20, 10, 11, 12), "10-12, 20"), ((100, 101, 102, 200, 4094), "100-102, 200, 4094")],
)
def test_vlan_ranges(vlans: tuple[int, ...], text: str) -> None:
    assert vlan_ranges(vlans) == text


def test_active_backup_with_untagged_host_and_a_vlan_network(tmp_path: Path) -> None:
    sheet = sheet_for(
        tmp_path,
        """
        version: 1
        name: t
        host: {bridge: br0}
        bridges:
          br0: {uplinks: 2x10G active-backup}
        networks:
          - {name: vm-untagged, bridge: br0}
          - {name: vlan32, bridge: br0, vlan: 32}
        nodes:
          - {name: n1, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.11/24}
        """,
    )
    port = port_of(sheet, "eth0")
    assert port == port_of(sheet, "eth1")
    assert (port.mode, port.allowed, port.native) == ("trunk", "32", "untagged: host, vm-untagged")
    assert (port.lacp, port.lacp_text, port.mtu) == (None, "none", 1500)
    assert port.bundle == "no port-channel: br0-up (eth0, eth1) is active-backup, ports stay separate"


def test_balance_slb_keeps_ports_separate(tmp_path: Path) -> None:
    sheet = sheet_for(
        tmp_path,
        """
        version: 1
        name: t
        host: {bridge: br0, vlan: 10}
        bridges:
          br0: {uplinks: 2x1G balance-slb}
        nodes:
          - {name: n1, nics: {eth0: 1G, eth1: 1G}, address: 10.0.0.11/24}
        """,
    )
    port = port_of(sheet, "eth1")
    assert (port.mode, port.allowed, port.native, port.lacp) == ("trunk", "10", "none (all traffic tagged)", None)
    assert port.bundle.startswith("no port-channel: br0-up (eth0, eth1) is balance-slb")


def test_lacp_bond_is_one_port_channel_with_the_rate_and_jumbo_mtu(tmp_path: Path) -> None:
    sheet = sheet_for(
        tmp_path,
        """
        version: 1
        name: t
        host: {bridge: br0, vlan: 10}
        bridges:
          br0: {uplinks: 2x25G balance-tcp, mtu: 9000}
        internal_ports:
          - {name: storage0, bridge: br0, vlan: 20}
        networks:
          - name: tenant
            bridge: br0
            portgroups:
              - {name: web, vlan: 100}
              - {name: trunk, trunk: [101, 102, 300], native: 101}
        nodes:
          - {name: n1, nics: {p1: 25G, p2: 25G}, address: 10.0.0.11/24, ports: {storage0: 10.1.0.11/24}}
        """,
    )
    port = port_of(sheet, "p1")
    assert (port.mode, port.allowed_vlans) == ("trunk", (10, 20, 100, 101, 102, 300))
    assert port.allowed == "10, 20, 100-102, 300"
    assert port.native == "none (all traffic tagged)"
    assert (port.lacp, port.lacp_rate, port.lacp_text) == ("active", "fast", "LACP active, rate fast")
    assert port.mtu == 9000
    assert port.bundle.startswith("all ports of br0-up (p1, p2) in one LACP port-channel")


def test_passive_host_lacp_needs_an_active_switch_at_the_default_slow_rate(tmp_path: Path) -> None:
    sheet = sheet_for(
        tmp_path,
        """
        version: 1
        name: t
        host: {bridge: br0, vlan: 10}
        bridges:
          br0: {uplinks: {nics: 10G, mode: balance-tcp, lacp: passive, lacp_fallback: true}}
        nodes:
          - {name: n1, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.11/24}
        """,
    )
    assert (port_of(sheet, "eth0").lacp, port_of(sheet, "eth0").lacp_rate) == ("active", "slow")


def test_single_uplink_access_port_and_unused_nics(tmp_path: Path) -> None:
    sheet = sheet_for(
        tmp_path,
        """
        version: 1
        name: t
        host: {bridge: br0, mtu: 9000}
        bridges:
          br0: {uplinks: 1x10G, mtu: 1500}
        nodes:
          - {name: n1, nics: {eth0: 10G, eth1: 1G}, address: 10.0.0.11/24}
        """,
    )
    port = port_of(sheet, "eth0")
    assert (port.mode, port.allowed, port.native, port.bundle) == ("access", "none", "untagged: host", "single uplink")
    assert port.mtu == 9000  # the host MTU rides on the same link
    unused = next(row for row in sheet.rows if row.nic.name == "eth1")
    assert (unused.bridge, unused.bond, unused.port) == (None, None, None)


def test_untagged_internal_port_and_portgroup_need_the_native_vlan(tmp_path: Path) -> None:
    sheet = sheet_for(
        tmp_path,
        """
        version: 1
        name: t
        host: {bridge: br0, vlan: 10}
        bridges:
          br0: {uplinks: 1x10G}
          br1: {uplinks: 1x1G}
        internal_ports:
          - {name: backup0, bridge: br1}
        networks:
          - name: vms
            bridge: br1
            portgroups: [{name: plain}, {name: v200, vlan: 200}]
        nodes:
          - {name: n1, nics: {eth0: 10G, eth1: 1G}, address: 10.0.0.11/24, ports: {backup0: 10.1.0.11/24}}
        """,
    )
    port = port_of(sheet, "eth1")
    assert (port.mode, port.allowed, port.native) == ("trunk", "200", "untagged: backup0, vms/plain")
    assert port_of(sheet, "eth0").allowed == "10"


def test_bridge_that_carries_nothing_is_idle(tmp_path: Path) -> None:
    sheet = sheet_for(
        tmp_path,
        """
        version: 1
        name: t
        host: {bridge: br0}
        bridges:
          br0: {uplinks: 1x10G}
          spare: {uplinks: 1x1G}
        nodes:
          - {name: n1, nics: {eth0: 10G, eth1: 1G}, address: 10.0.0.11/24}
        """,
    )
    port = port_of(sheet, "eth1")
    assert (port.mode, port.native, port.allowed) == ("idle", "none (nothing on the bridge yet)", "none")
