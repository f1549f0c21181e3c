"""The semantic rules (generator.design.rules) at their edges: the cases mutation testing found untested.

Each test pins a rule's boundary (exactly 8 bond members, a 15-character bond name),
where a problem is located (key or value), or what a message lists, through the same
in-process validation as tests/test_validation.py.
"""

from __future__ import annotations

from pathlib import Path

from tests.validation_helpers import problems_in


def test_gateway_at_the_network_address_of_two_subnets_names_both(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, gateway: 10.0.0.0}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.12/23}
      - {name: n3, nics: {eth0: 10G}, address: 10.0.0.13/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            3,
            30,
            "error",
            "host.gateway",
            "3 nodes (n1, n2, n3): gateway 10.0.0.0 is the network address of their host subnets "
            "(10.0.0.0/24, 10.0.0.0/23)",
        ),
    ]


def test_gateway_at_the_broadcast_address_of_one_subnet_names_it_once(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, gateway: 10.0.0.255}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
      - {name: n2, nics: {eth0: 10G}, address: 10.0.0.12/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            3,
            30,
            "error",
            "host.gateway",
            "2 nodes (n1, n2): gateway 10.0.0.255 is the broadcast address of the host subnet 10.0.0.0/24",
        ),
    ]


def test_a_default_bond_name_taken_by_an_earlier_bond_is_located_at_the_bridge_key(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: a}
    bridges:
      a: {uplinks: {nics: [eth0, eth1]}, bond: b-up}
      b: {uplinks: {nics: [eth2, eth3]}}
    nodes:
      - {name: n1, nics: {eth0: 10G, eth1: 10G, eth2: 10G, eth3: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (6, 3, "error", "bridges.b", "bond of bridge b 'b-up': the name is already used by bond of bridge a 'b-up'"),
    ]


def test_an_internal_port_named_like_a_single_nic_bridges_default_bond_is_fine(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth0]}}
    internal_ports:
      - {name: br0-up, bridge: br0}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24, ports: {br0-up: 10.0.1.11/24}}
    """
    assert problems_in(tmp_path, text) == []


def test_an_internal_port_named_like_a_two_nic_bridges_default_bond(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: {nics: [eth0, eth1]}}
    internal_ports:
      - {name: br0-up, bridge: br0}
    nodes:
      - {name: n1, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.11/24, ports: {br0-up: 10.0.1.11/24}}
    """
    assert problems_in(tmp_path, text) == [
        (
            7,
            12,
            "error",
            "internal_ports[0].name",
            "internal port 'br0-up': the name is already used by bond of bridge br0 'br0-up'",
        ),
    ]


def test_a_default_bond_name_of_15_characters_is_fine(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: abcdefghijkl}
    bridges:
      abcdefghijkl: {uplinks: 2x10G}
    nodes:
      - {name: n1, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == []


def test_internal_network_at_its_network_address(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_networks:
      - {name: local, bridge: virbr0, address: 192.168.5.0/24}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (
            7,
            44,
            "error",
            "internal_networks[0].address",
            "internal network local: 192.168.5.0/24 is the network address of 192.168.5.0/24",
        ),
    ]


PORTS = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    internal_ports:
      - {name: storage0, bridge: br0, vlan: 20}
      - {name: vmotion, bridge: br0, vlan: 30}
    nodes:
      - name: n1
        nics: {eth0: 10G}
        address: 10.0.0.11/24
        ports: PORTS
"""


def test_an_unknown_port_lists_the_internal_ports_and_the_next_port_is_still_checked(tmp_path: Path) -> None:
    text = PORTS.replace("PORTS", "{storage1: 10.0.1.11/24, storage0: 10.0.1.0/24, vmotion: 10.0.2.11/24}")
    assert problems_in(tmp_path, text) == [
        (
            13,
            13,
            "error",
            "nodes[0].ports.storage1",
            "node n1: 'storage1' is not an internal port (internal ports: storage0, vmotion)",
        ),
        (
            13,
            47,
            "error",
            "nodes[0].ports.storage0",
            "node n1 port storage0: 10.0.1.0/24 is the network address of 10.0.1.0/24",
        ),
    ]


def test_a_port_missing_on_a_node_with_ports_is_located_at_its_ports(tmp_path: Path) -> None:
    text = PORTS.replace("PORTS", "{storage0: 10.0.1.11/24}")
    assert problems_in(tmp_path, text) == [
        (
            13,
            12,
            "error",
            "nodes[0].ports",
            "node n1: internal port vmotion has no address on this node (add ports: {vmotion: <address/prefix>})",
        ),
    ]


PORTGROUP = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - name: vms
        bridge: br0
        portgroups:
          - GROUP
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
"""


def test_a_portgroup_with_a_vlan_and_a_trunk(tmp_path: Path) -> None:
    text = PORTGROUP.replace("GROUP", "{name: web, vlan: 100, trunk: [100, 101]}")
    assert problems_in(tmp_path, text) == [
        (
            10,
            39,
            "error",
            "networks[0].portgroups[0].trunk",
            "network vms: portgroup web: use either vlan or trunk, not both",
        ),
    ]


def test_a_native_vlan_without_a_trunk(tmp_path: Path) -> None:
    text = PORTGROUP.replace("GROUP", "{name: web, vlan: 100, native: 100}")
    assert problems_in(tmp_path, text) == [
        (10, 40, "error", "networks[0].portgroups[0].native", "network vms: portgroup web: native needs a trunk"),
    ]


def test_an_unknown_bridge_is_answered_with_every_bridge(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br2}
    bridges:
      br0: {uplinks: 1x10G}
      br1: {uplinks: 1x1G}
    nodes:
      - {name: n1, nics: {eth0: 10G, eth1: 1G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (3, 16, "error", "host.bridge", "host: bridge 'br2' is not defined (bridges: br0, br1)"),
    ]


def test_a_bond_of_eight_members_does_not_warn(tmp_path: Path) -> None:
    nics = ", ".join(f"eth{i}: 10G" for i in range(8))
    text = f"""
    version: 1
    name: t
    host: {{bridge: br0}}
    bridges:
      br0: {{uplinks: 8x10G}}
    nodes:
      - {{name: n1, nics: {{{nics}}}, address: 10.0.0.11/24}}
    """
    assert problems_in(tmp_path, text) == []


def test_a_nic_without_mac_does_not_end_the_mac_check_of_its_node(tmp_path: Path) -> None:
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
          eth1: 10G
          eth2: {speed: 10G, mac: "aa:bb:cc:dd:ee:01"}
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


def test_a_bridge_mtu_equal_to_the_host_mtu_does_not_warn(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0, mtu: 9000}
    bridges:
      br0: {uplinks: 1x10G, mtu: 9000}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == []


def test_two_networks_of_one_name_are_located_at_the_second_name(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    networks:
      - {name: vms, bridge: br0, vlan: 10}
      - {name: vms, bridge: br0, vlan: 11}
    nodes:
      - {name: n1, nics: {eth0: 10G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == [
        (8, 12, "error", "networks[1].name", "network name 'vms' is used more than once"),
    ]


def test_networks_with_other_vlans_or_bridges_do_not_warn(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
      br1: {uplinks: 1x1G}
    networks:
      - {name: a, bridge: br0, vlan: 10}
      - {name: b, bridge: br0, vlan: 11}
      - {name: c, bridge: br1, vlan: 10}
    nodes:
      - {name: n1, nics: {eth0: 10G, eth1: 1G}, address: 10.0.0.11/24}
    """
    assert problems_in(tmp_path, text) == []


def test_node_names_differing_in_case_are_one_name(tmp_path: Path) -> None:
    text = """
    version: 1
    name: t
    host: {bridge: br0}
    bridges:
      br0: {uplinks: 1x10G}
    nodes:
      - {name: Node-1, nics: {eth0: 10G}, address: 10.0.0.11/24}
      - {name: node-1, nics: {eth0: 10G}, address: 10.0.0.12/24}
      - {name: node-2, nics: {eth0: 10G}, address: 10.0.0.13/24}
    """
    assert problems_in(tmp_path, text) == [
        (8, 12, "error", "nodes[1].name", "node name 'node-1' is used more than once"),
    ]
