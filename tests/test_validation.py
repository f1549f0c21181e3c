"""One test per validation rule (docs/errors.md): exact message, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.design.validate import validate_file
from tests.validation_helpers import problems_in

# A small valid design; each test writes its own variant in full so that the
# line numbers in the expectations can be read off the text.
VALID = """
version: 1
name: t
host: {bridge: br0, gateway: 10.0.0.1}
bridges:
  br0: {uplinks: 2x10G active-backup}
nodes:
  - name: n1
    nics: {eth0: 10G, eth1: 10G}
    address: 10.0.0.11/24
"""


def test_the_base_design_is_valid(tmp_path: Path) -> None:
    assert problems_in(tmp_path, VALID) == []


# --- schema -----------------------------------------------------------------


def test_unknown_key_with_suggestion(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, mtuu: 9000}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (3, 21, "error", "host.mtuu", "unknown key 'mtuu' (did you mean 'mtu'?)"),
    ]


def test_unknown_key_without_close_match_lists_known_keys(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup, colour: red}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (5, 39, "error", "bridges.br0.colour", "unknown key 'colour'; known keys: bond, mtu, uplinks"),
    ]


def test_enum_with_suggestion(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0:
        uplinks:
          nics: 10G
          mode: active-bakup
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            8,
            13,
            "error",
            "bridges.br0.uplinks.mode",
            "'active-bakup' is not one of 'active-backup', 'balance-slb', 'balance-tcp' "
            "(did you mean 'active-backup'?)",
        ),
    ]


def test_bad_shorthand(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10Gb active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            18,
            "error",
            "bridges.br0.uplinks",
            "'2x10Gb active-backup' is not '<count>x<speed> [mode]' such as '2x10G active-backup' "
            "(speeds 1G 10G 25G 40G 50G 100G; modes active-backup balance-slb balance-tcp) "
            "(did you mean '2x10G active-backup'?)",
        ),
    ]


@pytest.mark.parametrize(("vlan", "column"), [("0", 27), ("4095", 27)])
def test_vlan_outside_range(tmp_path: Path, vlan: str, column: int) -> None:
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0, vlan: {vlan}}}
    bridges:
      br0: {{uplinks: 2x10G active-backup}}
    nodes:
      - name: n1
        nics: {{eth0: 10G, eth1: 10G}}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [(3, column, "error", "host.vlan", f"{vlan} is outside 1-4094")]


@pytest.mark.parametrize("mtu", ["67", "9217"])
def test_mtu_outside_range(tmp_path: Path, mtu: str) -> None:
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0}}
    bridges:
      br0: {{uplinks: 2x10G active-backup, mtu: {mtu}}}
    nodes:
      - name: n1
        nics: {{eth0: 10G, eth1: 10G}}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [(5, 44, "error", "bridges.br0.mtu", f"{mtu} is outside 68-9216")]


def test_interface_name_over_15_characters(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup, bond: uplink-bond-of-br0}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (5, 45, "error", "bridges.br0.bond", "'uplink-bond-of-br0' is too long: 18 characters, at most 15"),
    ]


def test_bridge_key_over_15_characters(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
      br-storage-fabric: {uplinks: 1x1G}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, eth2: 1G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (6, 3, "error", "bridges.br-storage-fabric", "key 'br-storage-fabric' is too long: 17 characters, at most 15"),
    ]


def test_missing_required_key(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {gateway: 10.0.0.1}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [(3, 7, "error", "host", "missing required key 'bridge'")]


def test_wrong_type(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, vlan: "10"}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [(3, 27, "error", "host.vlan", "expected an integer, got a string '10'")]


def test_float_is_not_an_integer(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, vlan: 10.0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [(3, 27, "error", "host.vlan", "expected an integer, got a number 10.0")]


def test_unsupported_version(tmp_path: Path) -> None:
    text = """
    version: 2
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (1, 10, "error", "version", "2 is not 1, the only version of the design language"),
    ]


def test_invalid_cidr(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.300/24
    """
    assert problems_in(tmp_path, text) == [
        (
            9,
            14,
            "error",
            "nodes[0].address",
            "'10.0.0.300/24' is not 'dhcp' or an IPv4 address with prefix length such as 10.59.31.77/23",
        ),
    ]


@pytest.mark.parametrize(
    "name",
    ["br0$(reboot)", "br0;ls", 'br"0', "br'0", "br`id`", "br\\\\0", "br 0", "-br0", ".br0", "brø"],
)
def test_shell_metacharacters_in_names_are_rejected(tmp_path: Path, name: str) -> None:
    quoted = name.replace("'", "''")  # YAML single-quoted scalar
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0}}
    bridges:
      br0: {{uplinks: 2x10G active-backup, bond: '{quoted}'}}
    nodes:
      - name: n1
        nics: {{eth0: 10G, eth1: 10G}}
        address: 10.0.0.11/24
    """
    found = problems_in(tmp_path, text)
    assert [(line, path) for line, _, _, path, _ in found] == [(5, "bridges.br0.bond")]
    assert found[0][4].endswith(
        "is not a Linux interface name: 1-15 characters of A-Z a-z 0-9 '_' '.' '-', not starting with '-' or '.'"
    )


def test_newline_in_a_label_is_rejected(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: {speed: 10G, switch: "tor-a\\nreboot"}, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            8,
            39,
            "error",
            "nodes[0].nics.eth0.switch",
            "the control character U+000A is not allowed; values are single-line text",
        ),
    ]


# --- names ------------------------------------------------------------------


def test_internal_port_named_like_a_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    internal_ports:
      - {name: br0, bridge: br0}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
        ports: {br0: 10.1.0.1/24}
    """
    assert problems_in(tmp_path, text) == [
        (7, 12, "error", "internal_ports[0].name", "internal port 'br0': the name is already used by bridge 'br0'"),
    ]


def test_bond_named_like_another_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup, bond: br1}
      br1: {uplinks: 1x1G}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, eth2: 1G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (5, 45, "error", "bridges.br0.bond", "bond of bridge br0 'br1': the name is already used by bridge 'br1'"),
    ]


def test_nic_named_like_a_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, br0-up: 1G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (8, 34, "error", "nodes[0].nics.br0-up", "node n1: NIC 'br0-up' has the name of bond of bridge br0 'br0-up'"),
        (8, 34, "warning", "nodes[0].nics.br0-up", "node n1: NIC br0-up (1G) is not used by any bridge"),
    ]


def test_default_bond_name_too_long(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br-management}
    bridges:
      br-management: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            3,
            "error",
            "bridges.br-management",
            "bridge br-management: default bond name 'br-management-up' is longer than 15 characters; "
            "set bond: to a shorter name",
        ),
    ]


def test_libvirt_bridge_named_like_an_ovs_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    internal_networks:
      - {name: local, bridge: br0, address: 192.168.5.1/24}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            7,
            27,
            "error",
            "internal_networks[0].bridge",
            "bridge of internal network local 'br0': the name is already used by bridge 'br0'",
        ),
    ]


def test_duplicate_node_names(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
      - {name: N1, nics: {eth0: 10G}, address: 10.0.0.12/24}
    """
    assert problems_in(tmp_path, text) == [(8, 12, "error", "nodes[1].name", "node name 'N1' is used more than once")]


# --- NICs -------------------------------------------------------------------


def test_nic_used_by_two_bridges(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth0, eth1]}}
      br1: {uplinks: {nics: [eth1]}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (6, 26, "error", "bridges.br1.uplinks.nics[0]", "bridge br1: NIC 'eth1' is already an uplink of bridge br0"),
    ]


def test_named_nic_missing_from_inventory(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth0, eth4]}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            32,
            "error",
            "bridges.br0.uplinks.nics[1]",
            "node n1: bridge br0 names NIC 'eth4', which is not in its inventory (eth0, eth1)",
        ),
    ]


def test_speed_selector_finds_too_few(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
      br1: {uplinks: {nics: [eth1]}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, eth10: 10G}
        address: 10.0.0.11/24
      - name: n2
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.12/24
    """
    # eth1 is reserved for br1 first; n1 still has eth0 and eth10.
    assert problems_in(tmp_path, text) == [
        (
            5,
            18,
            "error",
            "bridges.br0.uplinks",
            "node n2: bridge br0 needs 2 free 10G NICs, found 1 (eth0); taken: eth1 by br1",
        ),
    ]


def test_primary_not_a_member(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth0, eth1], primary: eth2}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, eth2: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            48,
            "error",
            "bridges.br0.uplinks.primary",
            "bridge br0: primary 'eth2' is not one of its NICs (eth0, eth1)",
        ),
        (8, 34, "warning", "nodes[0].nics.eth2", "node n1: NIC eth2 (10G) is not used by any bridge"),
    ]


def test_primary_not_among_the_selected_nics(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: 10G, count: 2, primary: eth3}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, eth3: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            49,
            "error",
            "bridges.br0.uplinks.primary",
            "node n1: primary 'eth3' is not a member of br0's uplinks (eth0, eth1)",
        ),
        (8, 34, "warning", "nodes[0].nics.eth3", "node n1: NIC eth3 (10G) is not used by any bridge"),
    ]


def test_count_with_named_nics(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth0, eth1], count: 2}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            46,
            "error",
            "bridges.br0.uplinks.count",
            "bridge br0: count goes with a speed selector, not with named NICs",
        ),
    ]


# --- bond settings ----------------------------------------------------------


def test_balance_tcp_with_lacp_off(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0:
        uplinks: {nics: 10G, mode: balance-tcp, lacp: "off"}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            6,
            51,
            "error",
            "bridges.br0.uplinks.lacp",
            "bridge br0: balance-tcp needs lacp: active or passive (lacp is off)",
        ),
    ]


def test_balance_tcp_without_lacp(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0:
        uplinks: {nics: 10G, mode: balance-tcp}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            6,
            32,
            "error",
            "bridges.br0.uplinks.mode",
            "bridge br0: balance-tcp needs lacp: active or passive (lacp is off)",
        ),
    ]


@pytest.mark.parametrize(("option", "value", "column"), [("lacp_time", "fast", 56), ("lacp_fallback", "true", 60)])
def test_lacp_options_without_lacp(tmp_path: Path, option: str, value: str, column: int) -> None:
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0}}
    bridges:
      br0:
        uplinks: {{nics: 10G, mode: balance-slb, {option}: {value}}}
    nodes:
      - name: n1
        nics: {{eth0: 10G, eth1: 10G}}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (6, column, "error", f"bridges.br0.uplinks.{option}", f"bridge br0: {option} needs LACP (lacp is off)"),
    ]


def test_rebalance_interval_with_active_backup(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0:
        uplinks: {nics: 10G, rebalance_interval: 30000}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            6,
            46,
            "error",
            "bridges.br0.uplinks.rebalance_interval",
            "bridge br0: rebalance_interval does not apply to active-backup",
        ),
    ]


# --- references -------------------------------------------------------------


def test_host_on_undefined_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br9}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (3, 16, "error", "host.bridge", "host: bridge 'br9' is not defined (bridges: br0)"),
    ]


def test_network_on_undefined_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    networks:
      - {name: vms, bridge: br1}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (7, 25, "error", "networks[0].bridge", "network vms: bridge 'br1' is not defined (bridges: br0)"),
    ]


def test_internal_port_on_undefined_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    internal_ports:
      - {name: storage0, bridge: br1}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
        ports: {storage0: 10.1.0.1/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            7,
            30,
            "error",
            "internal_ports[0].bridge",
            "internal port storage0: bridge 'br1' is not defined (bridges: br0)",
        ),
    ]


# --- addresses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"), [("10.0.0.0/24", "network address"), ("10.0.0.255/24", "broadcast address")]
)
def test_host_address_is_not_usable(tmp_path: Path, address: str, kind: str) -> None:
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0}}
    bridges:
      br0: {{uplinks: 2x10G active-backup}}
    nodes:
      - name: n1
        nics: {{eth0: 10G, eth1: 10G}}
        address: {address}
    """
    assert problems_in(tmp_path, text) == [
        (9, 14, "error", "nodes[0].address", f"node n1: {address} is the {kind} of 10.0.0.0/24"),
    ]


def test_gateway_outside_the_host_subnet(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, gateway: 10.0.1.1}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
      - name: n2
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.12/24
        gateway: 10.0.0.1
    """
    assert problems_in(tmp_path, text) == [
        (3, 30, "error", "host.gateway", "node n1: gateway 10.0.1.1 is outside the host subnet 10.0.0.0/24"),
    ]


def test_same_host_address_on_two_nodes(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.11/23}
    """
    assert problems_in(tmp_path, text) == [
        (8, 44, "error", "nodes[1].address", "node n2: address 10.0.0.11 is already used by node n1"),
    ]


def test_internal_network_overlaps_the_host_subnet(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_networks:
      - {name: local, bridge: virbr0, address: 10.0.0.1/16}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.3.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            7,
            44,
            "error",
            "internal_networks[0].address",
            "internal network local: 10.0.0.0/16 overlaps the host subnet 10.0.3.0/24 of node n1",
        ),
    ]


def test_internal_port_without_address_on_a_node(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_ports:
      - {name: storage0, bridge: br0, vlan: 20}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24, ports: {storage0: 10.1.0.11/24}}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.12/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            10,
            5,
            "error",
            "nodes[1]",
            "node n2: internal port storage0 has no address on this node (add ports: {storage0: <address/prefix>})",
        ),
    ]


def test_address_for_an_unknown_port(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - name: n1
        nics: {eth0: 10G}
        address: 10.0.0.11/24
        ports: {storage9: 10.1.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            10,
            13,
            "error",
            "nodes[0].ports.storage9",
            "node n1: 'storage9' is not an internal port (internal ports: none defined)",
        ),
    ]


# --- libvirt ----------------------------------------------------------------


def test_duplicate_network_names(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - {name: vms, bridge: br0, vlan: 32}
    internal_networks:
      - {name: vms, bridge: virbr0, address: 192.168.5.1/24}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (9, 12, "error", "internal_networks[0].name", "network name 'vms' is used more than once"),
    ]


def test_network_with_vlan_and_portgroups(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - name: vms
        bridge: br0
        vlan: 32
        portgroups: [{name: web, vlan: 100}]
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (10, 17, "error", "networks[0].portgroups", "network vms: use either vlan or portgroups, not both"),
    ]


def test_two_default_portgroups(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - name: vms
        bridge: br0
        portgroups:
          - {name: web, vlan: 100, default: true}
          - {name: db, vlan: 101, default: true}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            11,
            40,
            "error",
            "networks[0].portgroups[1].default",
            "network vms: portgroup db is a second default (first: web)",
        ),
    ]


def test_duplicate_portgroup_names(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - name: vms
        bridge: br0
        portgroups:
          - {name: web, vlan: 100}
          - {name: web, vlan: 101}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (11, 16, "error", "networks[0].portgroups[1].name", "network vms: portgroup name 'web' is used more than once"),
    ]


def test_native_vlan_not_in_trunk(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - name: vms
        bridge: br0
        portgroups:
          - {name: trunk, trunk: [100, 101], native: 102}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            10,
            50,
            "error",
            "networks[0].portgroups[0].native",
            "network vms: portgroup trunk: native VLAN 102 is not in trunk [100, 101]",
        ),
    ]


# --- warnings ---------------------------------------------------------------


def test_mixed_speeds_in_a_bond_warns(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth0, eth1]}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 1G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (5, 18, "warning", "bridges.br0.uplinks", "node n1: bond br0-up mixes NIC speeds (eth0 10G, eth1 1G)"),
    ]


def test_balance_slb_with_lacp_warns(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: 10G, mode: balance-slb, lacp: active}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            18,
            "warning",
            "bridges.br0.uplinks",
            "bridge br0: balance-slb with LACP; LACP is usually paired with balance-tcp",
        ),
    ]


def test_balance_tcp_without_fallback_warns(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: 10G, mode: balance-tcp, lacp: active}}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            18,
            "warning",
            "bridges.br0.uplinks",
            "bridge br0: balance-tcp without lacp_fallback loses the link if LACP does not come up",
        ),
    ]


def test_bond_of_more_than_eight_members_warns(tmp_path: Path) -> None:
    nics = ", ".join(f"eth{i}: 10G" for i in range(9))
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0}}
    bridges:
      br0: {{uplinks: 9x10G balance-slb}}
    nodes:
      - name: n1
        nics: {{{nics}}}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (5, 18, "warning", "bridges.br0.uplinks", "node n1: bond br0-up has 9 members, more than 8"),
    ]


def test_bridge_mtu_below_host_mtu_warns(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, mtu: 9000}
    bridges:
      br0: {uplinks: 2x10G active-backup, mtu: 1500}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (5, 44, "warning", "bridges.br0.mtu", "bridge br0: MTU 1500 is below the host MTU 9000"),
    ]


def test_unused_nic_warns(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, eth4: 1G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (8, 34, "warning", "nodes[0].nics.eth4", "node n1: NIC eth4 (1G) is not used by any bridge"),
    ]


def test_two_networks_with_one_vlan_on_one_bridge_warn(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - {name: a, bridge: br0, vlan: 32}
      - {name: b, bridge: br0, vlan: 32}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (8, 34, "warning", "networks[1].vlan", "network b: VLAN 32 on br0 is also network a"),
    ]


def test_single_uplink_with_bond_settings_warns(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G balance-slb}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            5,
            18,
            "warning",
            "bridges.br0.uplinks",
            "node n1: bridge br0 has one uplink NIC (eth0), a plain port; its bond mode and LACP settings do not apply",
        ),
    ]


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G active-backup}
    nodes:
      - name: n1
        nics: {eth0: 10G, eth1: 10G, eth4: 1G}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text, strict=True) == [
        (8, 34, "error", "nodes[0].nics.eth4", "node n1: NIC eth4 (1G) is not used by any bridge"),
    ]


# --- gateways (issue 13, point 12) ------------------------------------------


def one_node(address: str, gateway: str) -> str:
    """A one-node design whose shared host.gateway (line 3, column 30) and address are given."""
    return f"""
    version: 1
    name: t
    host: {{bridge: br0, gateway: {gateway}}}
    bridges:
      br0: {{uplinks: 2x10G active-backup}}
    nodes:
      - name: n1
        nics: {{eth0: 10G, eth1: 10G}}
        address: {address}
    """


@pytest.mark.parametrize(
    ("address", "gateway", "message"),
    [
        ("10.0.0.11/24", "10.0.0.0", "gateway 10.0.0.0 is the network address of the host subnet 10.0.0.0/24"),
        ("10.0.0.11/24", "10.0.0.255", "gateway 10.0.0.255 is the broadcast address of the host subnet 10.0.0.0/24"),
        ("10.0.0.11/24", "10.0.0.11", "gateway 10.0.0.11 is the node's own address"),
        ("10.0.0.5/30", "10.0.0.7", "gateway 10.0.0.7 is the broadcast address of the host subnet 10.0.0.4/30"),
        # On a /31 (RFC 3021) both addresses are hosts: the only wrong gateway is the node itself.
        ("10.0.0.0/31", "10.0.0.0", "gateway 10.0.0.0 is the node's own address"),
        ("10.0.0.5/32", "10.0.0.5", "gateway 10.0.0.5 is the node's own address"),
        ("10.0.0.5/32", "10.0.0.1", "gateway 10.0.0.1 is outside the host subnet 10.0.0.5/32"),
    ],
)
def test_gateway_that_no_host_can_use(tmp_path: Path, address: str, gateway: str, message: str) -> None:
    assert problems_in(tmp_path, one_node(address, gateway)) == [
        (3, 30, "error", "host.gateway", f"node n1: {message}"),
    ]


@pytest.mark.parametrize(("address", "gateway"), [("10.0.0.0/31", "10.0.0.1"), ("10.0.0.1/31", "10.0.0.0")])
def test_the_other_address_of_a_31_is_a_gateway(tmp_path: Path, address: str, gateway: str) -> None:
    assert problems_in(tmp_path, one_node(address, gateway)) == []


def test_a_node_gateway_is_checked_where_it_is_written(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, gateway: 10.0.0.1}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.12/24, gateway: 10.0.0.255}
    """
    assert problems_in(tmp_path, text) == [
        (
            8,
            67,
            "error",
            "nodes[1].gateway",
            "node n2: gateway 10.0.0.255 is the broadcast address of the host subnet 10.0.0.0/24",
        ),
    ]


# --- MACs and internal addresses (issue 13, point 13) -------------------------


def test_same_mac_on_two_nodes_in_any_case(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth2]}}
    nodes:
      - name: n1
        nics: {eth2: {speed: 10G, mac: "0c:c4:7a:58:91:50"}}
        address: 10.0.0.11/24
      - name: n2
        nics: {eth2: {speed: 10G, mac: "0C:C4:7A:58:91:50"}}
        address: 10.0.0.12/24
    """
    assert problems_in(tmp_path, text) == [
        (
            11,
            36,
            "error",
            "nodes[1].nics.eth2.mac",
            "node n2: MAC 0c:c4:7a:58:91:50 of eth2 is already eth2 of node n1",
        ),
    ]


def test_same_mac_on_two_nics_of_one_node(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 3x10G}
    nodes:
      - name: n1
        nics:
          eth0: {speed: 10G, mac: "aa:bb:cc:dd:ee:01"}
          eth1: {speed: 10G, mac: "aa:bb:cc:dd:ee:02"}
          eth2: {speed: 10G, mac: "AA:BB:CC:DD:EE:01"}
        address: 10.0.0.11/24
    """
    assert problems_in(tmp_path, text) == [
        (
            11,
            31,
            "error",
            "nodes[0].nics.eth2.mac",
            "node n1: MAC aa:bb:cc:dd:ee:01 of eth2 is already eth0 of node n1",
        ),
    ]


def test_internal_networks_overlapping_each_other(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_networks:
      - {name: wide, bridge: virbr0, address: 192.168.0.1/16}
      - {name: apart, bridge: virbr1, address: 172.16.0.1/24}
      - {name: inside, bridge: virbr2, address: 192.168.5.1/24}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.3.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            9,
            45,
            "error",
            "internal_networks[2].address",
            "internal network inside: 192.168.5.0/24 overlaps internal network wide (192.168.0.0/16)",
        ),
    ]


def test_an_internal_network_overlapping_an_internal_ports_subnet(tmp_path: Path) -> None:
    """libvirt's NAT network on virbr0 and a storage port in the same subnet: routes would clash."""
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_ports:
      - {name: stor0, bridge: br0, vlan: 20}
    internal_networks:
      - {name: apart, bridge: virbr1, address: 192.168.9.1/24}
      - {name: local, bridge: virbr0, address: 172.16.0.1/16}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.3.11/24, ports: {stor0: 10.20.0.11/24}}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.3.12/24, ports: {stor0: 172.16.0.12/24}}
    """
    assert problems_in(tmp_path, text) == [
        (
            10,
            44,
            "error",
            "internal_networks[1].address",
            "internal network local: 172.16.0.0/16 overlaps the subnet 172.16.0.0/24 of port stor0 on node n2",
        ),
    ]


def test_internal_port_address_of_another_nodes_host(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_ports:
      - {name: storage0, bridge: br0, vlan: 20}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24, ports: {storage0: 10.0.0.12/24}}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.12/24, ports: {storage0: 10.0.1.11/24}}
    """
    assert problems_in(tmp_path, text) == [
        (
            9,
            76,
            "error",
            "nodes[0].ports.storage0",
            "node n1: address 10.0.0.12 of port storage0 is the host address of node n2",
        ),
    ]


def test_internal_port_address_of_another_nodes_port(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_ports:
      - {name: storage0, bridge: br0, vlan: 20}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24, ports: {storage0: 10.0.1.11/24}}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.12/24, ports: {storage0: 10.0.1.11/24}}
    """
    assert problems_in(tmp_path, text) == [
        (
            10,
            76,
            "error",
            "nodes[1].ports.storage0",
            "node n2: address 10.0.1.11 is already used by node n1 port storage0",
        ),
    ]


# --- one message for one bad shared setting (issue 13, point 15) ------------


def fleet(count: int, gateway: str, subnets: int = 1) -> str:
    """A design of `count` nodes spread over `subnets` /16s, sharing host.gateway (line 3, column 30)."""
    nodes = "".join(
        f"  - {{name: n{i}, nics: {{eth0: 10G, eth1: 10G}}, "
        f"address: 10.{i % subnets}.{i // subnets // 200}.{i // subnets % 200 + 10}/16}}\n"
        for i in range(count)
    )
    return (
        f"version: 1\nname: t\nhost: {{bridge: br0, gateway: {gateway}}}\n"
        f"bridges:\n  br0: {{uplinks: 2x10G active-backup}}\nnodes:\n{nodes}"
    )


def test_a_shared_gateway_outside_every_subnet_is_one_error(tmp_path: Path) -> None:
    assert problems_in(tmp_path, fleet(1750, "10.9.0.1")) == [
        (
            3,
            30,
            "error",
            "host.gateway",
            "1,750 nodes (n0, n1, n2 and 1,747 more): gateway 10.9.0.1 is outside the host subnet 10.0.0.0/16",
        ),
    ]


def test_a_shared_gateway_outside_several_subnets_names_them(tmp_path: Path) -> None:
    # The gateway is in 10.0.0.0/16, the subnet of n0 and n5: the other eight nodes are reported.
    assert problems_in(tmp_path, fleet(10, "10.0.0.1", subnets=5)) == [
        (
            3,
            30,
            "error",
            "host.gateway",
            "8 nodes (n1, n2, n3 and 5 more): gateway 10.0.0.1 is outside their host subnets "
            "(10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16 and 1 more)",
        ),
    ]


def test_two_nodes_with_one_shortfall_are_one_error_naming_both(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 2x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.12/24}
      - {name: n3, nics: {eth0: 1G}, address: 10.0.0.13/24}
    """
    assert problems_in(tmp_path, text) == [
        (5, 18, "error", "bridges.br0.uplinks", "2 nodes (n1, n2): bridge br0 needs 2 free 10G NICs, found 1 (eth0)"),
        (5, 18, "error", "bridges.br0.uplinks", "node n3: bridge br0 needs 2 free 10G NICs, found 0"),
    ]


# --- reporting all at once --------------------------------------------------


def test_all_problems_are_reported_in_line_order(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, vlan: 5000}
    bridges:
      br0: {uplinks: 2x10G active-bakup}
    nodes:
      - name: n1
        nics: {eth0: 10g}
        address: dhcp
    """
    found = problems_in(tmp_path, text)
    assert [(line, path) for line, _, _, path, _ in found] == [
        (3, "host.vlan"),
        (5, "bridges.br0.uplinks"),
        (8, "nodes[0].nics.eth0"),
    ]


def test_semantic_problems_are_reported_together(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br9}
    bridges:
      br0: {uplinks: {nics: 10G, rebalance_interval: 1}}
    networks:
      - {name: vms, bridge: br7}
    nodes:
      - {name: n1, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.0/24}
    """
    found = problems_in(tmp_path, text)
    assert [(line, path) for line, _, _, path, _ in found] == [
        (3, "host.bridge"),
        (5, "bridges.br0.uplinks.rebalance_interval"),
        (7, "networks[0].bridge"),
        (9, "nodes[0].address"),
    ]


def test_a_nic_left_unused_on_every_node_is_one_warning(tmp_path: Path) -> None:
    """A fleet whose nodes all have a spare eno2 gets one warning naming the nodes, at the first
    node's NIC; a NIC of the same name but another speed is another warning."""
    nodes = "\n".join(
        f"      - {{name: n{i}, nics: {{eth0: 10G, eno2: {speed}}}, address: 10.0.3.{10 + i}/24}}"
        for i, speed in enumerate(["1G", "1G", "1G", "1G", "10G"])
    )
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0}}
    bridges:
      br0: {{uplinks: {{nics: [eth0]}}}}
    nodes:
{nodes}
    """
    valid_path = tmp_path / "design.yaml"
    assert problems_in(tmp_path, text) == [
        (
            7,
            34,
            "warning",
            "nodes[0].nics.eno2",
            "4 nodes (n0, n1, n2 and 1 more): NIC eno2 (1G) is not used by any bridge",
        ),
        (11, 34, "warning", "nodes[4].nics.eno2", "node n4: NIC eno2 (10G) is not used by any bridge"),
    ]
    (grouped, single) = validate_file(valid_path).warnings
    assert grouped.nodes == ("n0", "n1", "n2", "n3")
    assert single.nodes == ()


def test_the_same_problem_at_each_nodes_own_place_stays_one_per_node(tmp_path: Path) -> None:
    """Grouping is for one shared place (host.gateway): two nodes that each write the same bad
    gateway get one error each, where each wrote it."""
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.3.11/24, gateway: 10.0.3.0}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.3.12/24, gateway: 10.0.3.0}
    """
    message = "gateway 10.0.3.0 is the network address of the host subnet 10.0.3.0/24"
    assert problems_in(tmp_path, text) == [
        (7, 67, "error", "nodes[0].gateway", f"node n1: {message}"),
        (8, 67, "error", "nodes[1].gateway", f"node n2: {message}"),
    ]
