"""Property-based tests: generated valid designs through the whole pipeline and its consumers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from generator.design.validate import validate_file
from generator.errors import DesignInvalid
from generator.render.kinds import render_design
from tests.conftest import ovsdb_server, require_file, require_tool, run
from tests.support.ovsdb import Ovsdb

SETTINGS = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SPEEDS = ("1G", "10G", "25G", "40G", "50G", "100G")
SUFFIX = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.-", max_size=4)
RNG = Path("/usr/share/libvirt/schemas/network.rng")


@st.composite
def uplinks(draw: st.DrawFn, nics: list[str], speed: str) -> dict[str, Any] | str:
    """An uplink spec for exactly these NICs (all of one speed), in any of its forms."""
    count = len(nics)
    mode = draw(st.sampled_from(["active-backup", "balance-slb", "balance-tcp"]))
    form = draw(st.sampled_from(["shorthand", "named", "selector"]))
    if form == "shorthand":
        return f"{count}x{speed}" + (f" {mode}" if count > 1 or draw(st.booleans()) else "")
    spec: dict[str, Any] = {"nics": list(nics) if form == "named" else speed}
    if form == "selector" and draw(st.booleans()):
        spec["count"] = count
    spec["mode"] = mode
    # balance-tcp needs LACP; the other modes may have it (balance-slb with LACP only warns).
    choices = ["active", "passive"] if mode == "balance-tcp" else ["off", "off", "active", "passive"]
    lacp = draw(st.sampled_from(choices))
    spec["lacp"] = lacp
    if lacp != "off":
        spec["lacp_time"] = draw(st.sampled_from(["slow", "fast"]))
        spec["lacp_fallback"] = draw(st.booleans())
    if mode != "active-backup" and draw(st.booleans()):
        spec["rebalance_interval"] = draw(st.integers(0, 3_600_000))
    if form == "named" and mode == "active-backup" and draw(st.booleans()):
        spec["primary"] = draw(st.sampled_from(nics))
    return spec


@st.composite
def designs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid design, and what each node's Open vSwitch database must hold."""
    bridge_count = draw(st.integers(1, 3))
    bridges: dict[str, Any] = {}
    nic_plan: list[tuple[str, str, list[str]]] = []  # bridge, speed, NIC names
    for index in range(bridge_count):
        name = f"br{index}{draw(SUFFIX)}"
        speed = SPEEDS[index]
        nics = [f"e{index}{k}{draw(SUFFIX)}" for k in range(draw(st.integers(1, 2)))]
        bridge: dict[str, Any] = {"uplinks": draw(uplinks(nics, speed))}
        if draw(st.booleans()):
            bridge["mtu"] = draw(st.sampled_from([1500, 9000, 9216]))
        if len(nics) > 1 and draw(st.booleans()):
            bridge["bond"] = f"bo{index}{draw(SUFFIX)}"
        bridges[name] = bridge
        nic_plan.append((name, speed, nics))
    host_bridge = next(iter(bridges))
    host: dict[str, Any] = {"bridge": host_bridge}
    if draw(st.booleans()):
        host["vlan"] = draw(st.integers(1, 4094))
    if draw(st.booleans()):
        host["gateway"] = "10.0.0.1"
    if draw(st.booleans()):
        host["dns"] = ["10.0.0.53"]
    design: dict[str, Any] = {"version": 1, "name": "prop", "host": host, "bridges": bridges}
    port_bridge = draw(st.sampled_from([None, *bridges]))
    if port_bridge is not None:
        port: dict[str, Any] = {"name": "st.0", "bridge": port_bridge}
        if draw(st.booleans()):
            port["vlan"] = draw(st.integers(1, 4094))
        design["internal_ports"] = [port]
    design["networks"] = draw(st.lists(network(list(bridges)), max_size=3, unique_by=lambda n: n["name"]))
    if draw(st.booleans()):
        design["internal_networks"] = [{"name": "local", "bridge": "virbr0", "address": "192.168.5.1/24"}]
    nodes = []
    for index in range(draw(st.integers(1, 3))):
        inventory = {nic: speed for _, speed, nics in nic_plan for nic in nics}
        node: dict[str, Any] = {"name": f"n{index}", "nics": inventory}
        node["address"] = "dhcp" if draw(st.booleans()) and "gateway" not in host else f"10.0.{index}.10/16"
        if port_bridge is not None:
            node["ports"] = {"st.0": f"172.16.{index}.10/16"}
        nodes.append(node)
    design["nodes"] = nodes
    return design, {"plan": nic_plan, "host": host, "port": design.get("internal_ports", [None])[0]}


@st.composite
def network(draw: st.DrawFn, bridges: list[str]) -> dict[str, Any]:
    name = f"Net{draw(st.text(alphabet='ABCxyz019_.-', max_size=6))}"
    found: dict[str, Any] = {"name": name, "bridge": draw(st.sampled_from(bridges))}
    kind = draw(st.sampled_from(["untagged", "vlan", "portgroups"]))
    if kind == "vlan":
        found["vlan"] = draw(st.integers(1, 4094))
    elif kind == "portgroups":
        groups = []
        for index in range(draw(st.integers(1, 3))):
            group: dict[str, Any] = {"name": f"pg{index}"}
            if draw(st.booleans()):
                trunk = draw(st.lists(st.integers(1, 4094), min_size=1, max_size=3, unique=True))
                group["trunk"] = trunk
                if draw(st.booleans()):
                    group["native"] = draw(st.sampled_from(trunk))
            elif draw(st.booleans()):
                group["vlan"] = draw(st.integers(1, 4094))
            groups.append(group)
        groups[0]["default"] = draw(st.booleans())
        found["portgroups"] = groups
    return found


def write(tmp: Path, design: dict[str, Any]) -> Path:
    path = tmp / "prop.yaml"
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    return path


@SETTINGS
@given(designs())
def test_generated_designs_validate_and_render_deterministically(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    design, _ = case
    path = write(tmp_path_factory.mktemp("prop"), design)
    try:
        valid = validate_file(path)
    except DesignInvalid as invalid:
        pytest.fail(f"a valid design was refused: {[d.message for d in invalid.diagnostics]}\n{design}")
    first, second = render_design(valid), render_design(validate_file(path))
    assert first == second


@pytest.fixture(scope="module")
def network_schema() -> etree.RelaxNG:
    """libvirt's own RelaxNG schema of network XML (it includes its neighbours)."""
    return etree.RelaxNG(etree.parse(str(require_file(RNG, "libvirt0"))))


@pytest.mark.consumer
@SETTINGS
@given(designs())
def test_generated_xml_and_scripts_pass_their_consumers(
    tmp_path_factory: pytest.TempPathFactory, network_schema: etree.RelaxNG, case: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    design, _ = case
    folder = tmp_path_factory.mktemp("prop")
    for file in render_design(validate_file(write(folder, design))):
        if file.path.endswith(".xml") and "/libvirt/" in file.path:
            document = etree.fromstring(file.text.encode())
            assert network_schema.validate(document), (file.path, network_schema.error_log, file.text)
        elif file.path.endswith(".sh"):
            script = folder / file.name
            script.write_text(file.text)
            result = run(["bash", "-n", str(script)])
            assert result.returncode == 0, (file.path, result.stderr)


@pytest.mark.consumer
@settings(derandomize=True, max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(designs())
def test_a_generated_node_applied_to_ovsdb_matches_its_design(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    design, expected = case
    require_tool("ovsdb-server")
    folder = tmp_path_factory.mktemp("prop")
    files = {str(f.path): f for f in render_design(validate_file(write(folder, design)), nodes=["n0"], kinds=["ovs"])}
    script = folder / "apply.sh"
    script.write_text(files["prop/n0/ovs/apply.sh"].text)
    with ovsdb_server() as ovsdb:
        result = run(
            ["bash", str(script), "--apply", "--skip-nic-check"], env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command}
        )
        assert result.returncode == 0, result.stderr
        assert_matches(ovsdb, design, expected)


def assert_matches(ovsdb: Ovsdb, design: dict[str, Any], expected: dict[str, Any]) -> None:
    """The database against the generated intent: bridges, uplink ports and members, tags."""
    state = ovsdb.state()
    assert sorted(state) == sorted(design["bridges"])
    for bridge, _, nics in expected["plan"]:
        ports = state[bridge]
        if len(nics) > 1:
            bond = design["bridges"][bridge].get("bond", f"{bridge}-up")
            assert ports[bond]["members"] == sorted(nics)
        else:
            assert nics[0] in ports
    host = expected["host"]
    assert state[host["bridge"]][host["bridge"]]["tag"] == host.get("vlan")
    port = expected["port"]
    if port is not None:
        assert state[port["bridge"]][port["name"]]["tag"] == port.get("vlan")
