"""NetworkManager keyfiles, level 1: NetworkManager's own parser and writer, with no daemon.

`nmcli --offline connection modify connection.id NAME < FILE` reads a keyfile as
NetworkManager does, normalizes it and prints it in its own canonical form (the option is
in nmcli(1), not in --help). A file NetworkManager would read differently (a misspelt key
dropped, a value out of range, keys out of order) prints differently. The rest of this file
reads the keyfiles as plain INI, independently of ovsgen's model, and compares them with
what the design says.
"""

from __future__ import annotations

import configparser
import uuid
from pathlib import Path

import pytest

from generator.design.validate import ValidDesign, validate_file
from generator.render.kinds import render_design
from tests.conftest import ALL_DESIGNS, REPO, require_tool, run

KEYFILES = "NetworkManager/system-connections"


def keyfiles(tree: Path) -> list[Path]:
    return sorted(tree.glob(f"*/*/{KEYFILES}/*.nmconnection"))


def without_comments(text: str) -> str:
    """The keyfile minus its leading comment lines (ovsgen's header: NetworkManager drops comments)."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def read_profile(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def node_profiles(tree: Path, design: str, node: str) -> dict[str, configparser.ConfigParser]:
    folder = tree / design / node / KEYFILES
    return {path.stem: read_profile(path) for path in sorted(folder.glob("*.nmconnection"))}


def valid(name: str) -> ValidDesign:
    return next(v for v in (validate_file(path) for path in ALL_DESIGNS) if v.design.name == name)


@pytest.mark.consumer
def test_nmcli_reads_every_keyfile_back_byte_for_byte(rendered_tree: Path) -> None:
    nmcli = require_tool("nmcli")
    found = keyfiles(rendered_tree)
    assert len(found) >= 50, "the test designs render keyfiles for several nodes"
    for path in found:
        text = path.read_text(encoding="utf-8")
        name = path.stem
        result = run([nmcli, "--offline", "connection", "modify", "connection.id", name], input=text)
        assert result.returncode == 0, f"{path}: {result.stderr}"
        assert result.stderr == "", f"{path}: {result.stderr}"
        assert result.stdout == without_comments(text), f"{path}: NetworkManager writes it otherwise"


@pytest.mark.consumer
def test_nmcli_offline_notices_what_it_would_drop(tmp_path: Path) -> None:
    """The level-1 check is only worth something if a wrong key changes nmcli's output."""
    nmcli = require_tool("nmcli")
    connection = "[connection]\nid=x\nuuid=3e57329c-ef2e-4461-a2cb-2a4bbaf788f0\ntype=ovs-port\ninterface-name=x\n"
    master = "master=3e57329c-ef2e-4461-a2cb-2a4bbaf788f1\nslave-type=ovs-bridge\n"
    misspelt = f"{connection}{master}\n[ovs-port]\nlaccp=active\n"
    result = run([nmcli, "--offline", "connection", "modify", "connection.id", "x"], input=misspelt)
    assert result.returncode == 0, result.stderr
    assert "laccp" not in result.stdout  # dropped silently: only the byte comparison notices
    orphan = f"{connection}\n[ovs-port]\nlacp=active\n"  # a port without its bridge
    result = run([nmcli, "--offline", "connection", "modify", "connection.id", "x"], input=orphan)
    assert result.returncode != 0
    assert "must have a master" in result.stderr


def test_only_nodes_with_the_backend_get_keyfiles(rendered_tree: Path) -> None:
    migration = rendered_tree / "rhel9-migration"
    assert (migration / "kvm-r-1" / KEYFILES).is_dir()
    assert not (migration / "kvm-r-1" / "network-scripts").exists()
    assert not (migration / "kvm-r-3" / "NetworkManager").exists()
    assert (migration / "kvm-r-3" / "network-scripts" / "ifcfg-br-mgmt").is_file()
    for node in ("kvm-r-1", "kvm-r-3"):
        assert (migration / node / "ovs" / "apply.sh").is_file()
        assert (migration / node / "libvirt" / "vms.xml").is_file()
    both = rendered_tree / "edge-cases" / "edge-1"
    assert (both / KEYFILES).is_dir()
    assert (both / "network-scripts").is_dir()
    assert not list(rendered_tree.glob(f"two-tier-cluster/*/{KEYFILES}"))  # the default: ifcfg only


def test_uuids_are_stable_unique_and_derived_from_design_node_and_object(rendered_tree: Path) -> None:
    seen: dict[str, Path] = {}
    for path in keyfiles(rendered_tree):
        profile = read_profile(path)
        value = profile["connection"]["uuid"]
        design, node = path.relative_to(rendered_tree).parts[:2]
        kind, name = profile["connection"]["type"], profile["connection"]["interface-name"]
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://ovsgen.invalid/networkmanager")
        assert value == str(uuid.uuid5(namespace, f"{design}/{node}/{kind}/{name}")), path
        assert value not in seen, f"{path} and {seen.get(value)}"
        seen[value] = path


def test_masters_are_the_controllers_uuids_of_the_same_node(rendered_tree: Path) -> None:
    for node_folder in sorted(path.parent.parent.parent for path in rendered_tree.glob(f"*/*/{KEYFILES}")):
        design, node = node_folder.parts[-2:]
        profiles = node_profiles(rendered_tree, design, node)
        by_uuid = {p["connection"]["uuid"]: p for p in profiles.values()}
        for name, profile in profiles.items():
            connection = profile["connection"]
            kind = connection["type"]
            if kind == "ovs-bridge":
                assert "master" not in connection, name
                continue
            master = by_uuid[connection["master"]]
            assert connection["slave-type"] == master["connection"]["type"], name
            expected = {"ovs-port": "ovs-bridge", "ovs-interface": "ovs-port", "ethernet": "ovs-port"}[kind]
            assert master["connection"]["type"] == expected, name


def test_profiles_carry_what_the_design_says(rendered_tree: Path) -> None:
    """lacp-storage's values, read from its design, against the rhel9-migration and edge-cases keyfiles."""
    design = valid("rhel9-migration").design
    profiles = node_profiles(rendered_tree, "rhel9-migration", "kvm-r-1")
    node = design.nodes[0]
    host = profiles[f"{design.host.bridge}-if"]
    assert host["ipv4"]["address1"] == f"{node.address},{design.host.gateway}"
    assert host["ipv4"]["method"] == "manual"
    assert host["ipv4"]["dns"] == "".join(f"{server};" for server in design.host.dns)
    assert host["ipv4"]["dns-search"] == "".join(f"{domain};" for domain in design.host.search)
    assert host["ethernet"]["mtu"] == str(design.host.mtu)
    assert profiles[f"{design.host.bridge}-port"]["ovs-port"]["tag"] == str(design.host.vlan)
    vm = design.bridge("br-vm")
    assert vm is not None
    bond = profiles[f"{vm.bond_name}-port"]
    assert bond["ovs-port"]["bond-mode"] == vm.uplinks.mode == "balance-slb"
    assert "lacp" not in bond["ovs-port"]
    assert bond["ovs-other-config"]["data.bond-rebalance-interval"] == str(vm.uplinks.rebalance_interval)
    for nic in ("ens2f0", "ens2f1"):
        ethernet = profiles[f"{nic}-nic"]["ethernet"]
        mac = node.nic(nic)
        assert mac is not None
        assert mac.mac is not None
        assert ethernet["mac-address"] == mac.mac.upper()
        assert ethernet["mtu"] == str(vm.mtu)
    (internal,) = design.internal_ports
    assert profiles[f"{internal.name}-port"]["ovs-port"]["tag"] == str(internal.vlan)
    assert profiles[f"{internal.name}-if"]["ipv4"]["address1"] == str(node.ports[0].address)
    assert profiles[f"{internal.name}-if"]["ethernet"]["mtu"] == str(vm.mtu)
    for bridge in design.bridges:
        mark = profiles[f"{bridge.name}-bridge"]["ovs-external-ids"]["data.managed-by"]
        assert mark == "ovsgen"
    assert profiles["br-vm-if"]["ipv4"]["method"] == "disabled"
    assert profiles["br-vm-if"]["ipv6"]["method"] == "disabled"
    assert "mtu" not in profiles["br-vm-if"]["ethernet"]  # apply.sh sets no mtu_request there


def test_dhcp_lacp_and_single_uplinks_in_the_edge_cases(rendered_tree: Path) -> None:
    profiles = node_profiles(rendered_tree, "edge-cases", "edge-1")
    host = profiles["br-mgmt-if"]["ipv4"]
    assert host["method"] == "auto"
    assert "address1" not in host
    lacp = profiles["br-lacp-up-port"]
    assert lacp["ovs-port"]["lacp"] == "passive"
    assert lacp["ovs-port"]["bond-mode"] == "balance-tcp"
    assert lacp["ovs-other-config"]["data.lacp-time"] == "slow"
    assert lacp["ovs-other-config"]["data.lacp-fallback-ab"] == "true"
    assert profiles["mgmt-bond-port"]["ovs-other-config"]["data.bond-primary"] == "eno2"
    single = profiles["ens2f0-port"]
    assert dict(single["ovs-port"]) == {}
    nic = profiles["ens2f0-nic"]
    assert nic["connection"]["master"] == single["connection"]["uuid"]
    assert nic["ethernet"]["mtu"] == "9000"
    assert "mac-address" not in nic["ethernet"]  # the design gives no MAC for it: matched by name only
    assert dict(profiles["backup0-port"]["ovs-port"]) == {}  # untagged internal port


def test_the_bundled_design_renders_both_backends() -> None:
    text = (REPO / "designs" / "rhel9-migration.yaml").read_text(encoding="utf-8")
    assert "backends: [networkmanager]" in text
    assert "backends: [ifcfg]" in text


def test_a_static_host_without_gateway_has_no_gateway(tmp_path: Path) -> None:
    text = (REPO / "designs" / "rhel9-migration.yaml").read_text(encoding="utf-8")
    design = tmp_path / "design.yaml"
    design.write_text(text.replace("  gateway: 10.30.0.1\n", ""), encoding="utf-8")
    files = {file.path: file.text for file in render_design(validate_file(design), ["kvm-r-1"], ["networkmanager"])}
    host = files["rhel9-migration/kvm-r-1/NetworkManager/system-connections/br-mgmt-if.nmconnection"]
    assert "\naddress1=10.30.0.11/24\n" in host
    script = files["rhel9-migration/kvm-r-1/NetworkManager/apply.sh"]
    assert "ipv4.addresses 10.30.0.11/24'" in script
    assert "ipv4.gateway" not in script
    assert "ipv4.dns 10.30.0.53,10.30.1.53'" in script
    assert "ipv4.dns-search lab.example.com,example.com'" in script
