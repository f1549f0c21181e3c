"""The switch side of a change: per switch port what to allow, remove, build or free, and when.

Pairs of designs (tests/designs/changes/) give the exact switch-port changes; a plan from a
host dump made on a private ovsdb-server gives the old side as far as a dump shows it;
`ovsgen plan` and `ovsgen diff` show them grouped across nodes, and GitHub's Markdown parser
reads them back. A property test checks the derivation on any pair of small designs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html

from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.changes.node_groups import group_changes
from generator.changes.switchports import (
    HOST_FIRST,
    SWITCH_FIRST,
    PortChange,
    PortChannel,
    PortNeeds,
    design_needs,
    host_needs,
    port_changes,
)
from generator.design.model import build_design
from generator.design.resolve import layout_node
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.hostdump import load_dump
from generator.ovs.state import OWNED, BridgeState, InterfaceState, OvsState, PortState
from generator.render.templating import macro
from tests.conftest import require_tool
from tests.support.cli import invoke
from tests.support.ovsdb import Ovsdb

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"
UNKNOWN = "(switch port unknown)"
INDIVIDUAL = "let ports work individually (LACP fallback / no suspend-individual)"


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


def steps(changes: list[NodeChange]) -> list[tuple[str, str, str]]:
    """Every switch step of every node: (port, what to do, when)."""
    return [(step.port, step.text, step.when) for change in changes for p in change.switch_ports for step in p.steps]


def ports(*nics: str) -> list[str]:
    return [f"{nic} {UNKNOWN}" for nic in nics]


BR1 = ports("c1 eth0", "c1 eth1", "c2 eth0", "c2 eth1")
BR0 = ports("c1 eth2", "c1 eth3", "c2 eth2", "c2 eth3")


# --- design pairs -----------------------------------------------------------------------------


def test_active_backup_to_lacp_builds_a_port_channel_switch_first() -> None:
    changes = plan_designs(design("base"), design("switch-br0-lacp"))
    built = (
        "build an LACP port-channel for bond br0-up (one per node and bond; MLAG/vPC across two switches): "
        "LACP active, rate fast; the host falls back to active-backup while LACP is down: " + INDIVIDUAL
    )
    assert steps(changes) == [(port, built, "switch first") for port in BR0]
    channel = PortChannel("br0-up", "fast", fallback=True)
    assert [(p.nic, p.status, p.port_channel) for p in changes[0].switch_ports] == [
        ("eth2", "changed", (None, channel)),
        ("eth3", "changed", (None, channel)),
    ]


def test_lacp_back_to_active_backup_leaves_the_port_channel_host_first() -> None:
    left = "leave the LACP port-channel of bond br0-up: the port stands alone (the bond uses no LACP)"
    assert steps(plan_designs(design("switch-br0-lacp"), design("base"))) == [
        (port, left, "host first") for port in BR0
    ]


def test_a_vlan_added_is_allowed_on_every_member_port_of_its_bridge_switch_first() -> None:
    changes = plan_designs(design("base"), design("switch-vlan-35"))
    assert steps(changes) == [(port, "allow VLAN 35", "switch first") for port in BR1]
    assert {(p.allow, p.remove) for change in changes for p in change.switch_ports} == {((35,), ())}


def test_a_vlan_removed_goes_from_the_switch_after_the_host() -> None:
    changes = plan_designs(design("switch-vlan-35"), design("base"))
    assert steps(changes) == [(port, "remove VLAN 35", "host first") for port in BR1]


def test_retagged_networks_allow_before_and_remove_after() -> None:
    changes = plan_designs(design("base"), design("networks-changed"), ("c1",))
    assert steps(changes) == [
        (port, text, when)
        for port in BR1[:2]
        for text, when in (("allow VLANs 33, 41", "switch first"), ("remove VLANs 32, 40", "host first"))
    ]


def test_a_nic_dropped_from_a_bond_frees_its_switch_port_host_first() -> None:
    changes = plan_designs(design("member-added"), design("base"))
    freed = "port freed: eth4 leaves br1 (bond br1-up); shut it or reuse it"
    assert steps(changes) == [(port, freed, "host first") for port in ports("c1 eth4", "c2 eth4")]
    assert [p.status for change in changes for p in change.switch_ports] == ["freed", "freed"]


def test_a_nic_joining_a_bond_needs_a_new_port_configured_before_the_host_uses_it() -> None:
    changes = plan_designs(design("base"), design("member-added"), ("c1",))
    (port,) = ports("c1 eth4")
    assert steps(changes) == [
        (port, "port newly needed: eth4 joins br1 (bond br1-up); cable it", "switch first"),
        (port, "allow VLANs 32, 40", "switch first"),
        (port, "MTU 1500", "switch first"),
    ]


def test_mtu_raised_on_the_switch_first_and_lowered_after_the_host() -> None:
    raised = plan_designs(design("base"), design("mtu-9000"))
    assert steps(raised) == [(port, "MTU 1500 -> 9000", "switch first") for port in BR1]
    lowered = plan_designs(design("mtu-9000"), design("base"))
    assert steps(lowered) == [(port, "MTU 9000 -> 1500", "host first") for port in BR1]


def test_the_host_vlan_moving_off_the_native_vlan() -> None:
    changes = plan_designs(design("base"), design("host-vlan-10"), ("c1",))
    assert steps(changes) == [
        (port, text, when)
        for port in BR0[:2]
        for text, when in (
            ("allow VLAN 10", "switch first"),
            ("native VLAN no longer needed (was for host)", "host first"),
        )
    ]


def test_a_change_without_switch_side_says_so(tmp_path: Path) -> None:
    result = invoke("plan", str(CHANGES / "base.yaml"), str(CHANGES / "base.yaml"), "-o", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "p/plan.md").read_text()
    assert "## Switch ports (network team)\n\nSwitch ports: no change.\n" in text


def test_a_known_switch_port_is_named_and_a_recabled_nic_moves(tmp_path: Path) -> None:
    old, new = labelled(tmp_path, {("c1", "eth0"): "tor-a Te1/0/1"})
    (change,) = plan_designs(validate_file(old), validate_file(new), ("c1",))
    assert [p.label for p in change.switch_ports] == ["c1 eth0 (tor-a Te1/0/1)", f"c1 eth1 {UNKNOWN}"]
    moved = tmp_path / "moved.yaml"
    moved.write_text(old.read_text().replace("tor-a Te1/0/1", "tor-a Te1/0/5"))
    (change,) = plan_designs(validate_file(old), validate_file(moved), ("c1",))
    assert steps([change]) == [
        ("c1 eth0 (tor-a Te1/0/1)", "port freed: eth0 moves to tor-a Te1/0/5; shut it or reuse it", "host first"),
        ("c1 eth0 (tor-a Te1/0/5)", "port newly needed: eth0 moves here from tor-a Te1/0/1; cable it", "switch first"),
        ("c1 eth0 (tor-a Te1/0/5)", "allow VLANs 32, 40", "switch first"),
        ("c1 eth0 (tor-a Te1/0/5)", "MTU 1500", "switch first"),
    ]


# --- rendering: plan.md, diff.md, the node section --------------------------------------------


def labelled(folder: Path, labels: dict[tuple[str, str], str]) -> tuple[Path, Path]:
    """base and switch-vlan-35 with switch-port labels on some NICs, written as JSON (YAML)."""
    paths = []
    for name in ("base", "switch-vlan-35"):
        data: dict[str, Any] = yaml.safe_load((CHANGES / f"{name}.yaml").read_text())
        for node in data["nodes"]:
            for nic, speed in node["nics"].items():
                if (node["name"], nic) in labels:
                    node["nics"][nic] = {"speed": speed, "switch": labels[node["name"], nic]}
        path = folder / f"{name}.yaml"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


GROUPED = f"- {', '.join(BR1)}: allow VLAN 35\n"


def _first_node_section(text: str) -> int:
    """Where the first node section starts: `## Node c1`, or `## 2 nodes, c1 … c2` for a group."""
    found = re.search(r"^## (Node |[0-9][0-9,]* nodes, )", text, flags=re.MULTILINE)
    assert found, text
    return found.start()


def test_plan_md_has_the_grouped_switch_section_first(tmp_path: Path) -> None:
    result = invoke("plan", str(CHANGES / "base.yaml"), str(CHANGES / "switch-vlan-35.yaml"), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "plan.md").read_text()
    assert text.index("## Switch ports (network team)") < _first_node_section(text)
    assert "Switch first, before change.sh runs (what the host is about to use must be ready):\n" + GROUPED in text
    assert "Host first" not in text


def test_diff_md_has_the_grouped_switch_section(tmp_path: Path) -> None:
    result = invoke("diff", str(CHANGES / "switch-vlan-35.yaml"), str(CHANGES / "base.yaml"))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("## Switch ports (network team)") < _first_node_section(text)
    removed = f"- {', '.join(BR1)}: remove VLAN 35\n"
    assert "Host first, after change.sh has run (what goes is no longer used by the host):\n" + removed in text
    assert "Switch first" not in text


def test_plan_orders_switch_first_before_host_first(tmp_path: Path) -> None:
    result = invoke("plan", str(CHANGES / "base.yaml"), str(CHANGES / "networks-changed.yaml"), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "plan.md").read_text()
    expected = (
        "Switch first, before change.sh runs (what the host is about to use must be ready):\n"
        f"- {', '.join(BR1)}: allow VLANs 33, 41\n\n"
        "Host first, after change.sh has run (what goes is no longer used by the host):\n"
        f"- {', '.join(BR1)}: remove VLANs 32, 40\n"
    )
    assert expected in text


def test_the_node_section_lists_each_port_with_its_order() -> None:
    (change,) = plan_designs(design("base"), design("networks-changed"), ("c1",))
    section = macro("_switch_ports.md.j2", "switch_ports")(*group_changes([change]))
    assert section == (
        '\nSwitch ports (network team; "switch first": before change.sh, "host first": after it):\n'
        f"- {BR1[0]}: allow VLANs 33, 41 (switch first)\n"
        f"- {BR1[0]}: remove VLANs 32, 40 (host first)\n"
        f"- {BR1[1]}: allow VLANs 33, 41 (switch first)\n"
        f"- {BR1[1]}: remove VLANs 32, 40 (host first)\n"
    )
    (quiet,) = plan_designs(design("base"), design("base"), ("c1",))
    assert macro("_switch_ports.md.j2", "switch_ports")(*group_changes([quiet])).endswith(":\n- no change\n")


@pytest.fixture(scope="module")
def cmark() -> ModuleType:
    """GitHub's Markdown parser (cmark-gfm); a failure in CI when missing, as require_tool."""
    try:
        import cmarkgfm  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("cmarkgfm is not installed (the test extra lists it)")
        pytest.skip("cmarkgfm is not installed")
    return cmarkgfm  # type: ignore[no-any-return,unused-ignore]


def github_html(cmark: ModuleType, markdown: str) -> html.HtmlElement:
    rendered = cmark.github_flavored_markdown_to_html(markdown, options=cmark.cmark.Options.CMARK_OPT_UNSAFE)
    return html.fragment_fromstring(rendered, create_parent="div")


HOSTILE = {
    ("c1", "eth0"): "<img src=x onerror=alert(1)>",
    ("c1", "eth1"): "[x](javascript:alert(1)) *em*",
    ("c2", "eth0"): "<script>alert(1)</script> | cell",
    ("c2", "eth1"): "- 1. _u_ ~~s~~ <!--",
}


def test_an_injected_switch_label_stays_text_in_plan_and_diff(cmark: ModuleType, tmp_path: Path) -> None:
    old, new = labelled(tmp_path, HOSTILE)
    plan = invoke("plan", str(old), str(new), "-o", str(tmp_path / "plan"))
    assert plan.exit_code == 0, plan.output
    diff = invoke("diff", str(old), str(new))
    assert diff.exit_code == 0, diff.output
    labels = ", ".join(f"{node} {nic} ({label})" for (node, nic), label in HOSTILE.items())
    for markdown in ((tmp_path / "plan/plan.md").read_text(), diff.stdout):
        tree = github_html(cmark, markdown)
        items = [li.text_content() for li in tree.iter("li")]
        assert f"{labels}: allow VLAN 35" in items  # the grouped line, every label as its characters
        tags = {element.tag for element in tree.iter() if isinstance(element.tag, str)}
        assert not tags & {"img", "script", "a", "em", "del", "table", "ol"}, tags


# --- from a host dump ---------------------------------------------------------------------------


def dump_of(ovsdb: Ovsdb, path: Path) -> Path:
    client = require_tool("ovsdb-client")
    found = subprocess.run(
        [client, "dump", "--format=json", f"unix:{ovsdb.socket}", "Open_vSwitch"],
        check=True,
        capture_output=True,
        text=True,
    )
    path.write_text(found.stdout)
    return path


@pytest.mark.consumer
def test_a_host_with_active_backup_and_a_design_with_lacp(ovsdb: Ovsdb, tmp_path: Path) -> None:
    """The host (node c1 of base, a VM tap on br0) has br0-up active-backup; the design wants LACP.
    The dump shows the bond and its MTU, not the switch's VLANs: the steps say so."""
    ovsdb.vsctl(
        "add-br", "br0",
        "--", "add-bond", "br0", "br0-up", "eth2", "eth3", "bond_mode=active-backup",
        "--", "add-port", "br0", "vnet0", "tag=32",
        "--", "add-br", "br1",
        "--", "add-bond", "br1", "br1-up", "eth0", "eth1", "bond_mode=balance-slb",
    )  # fmt: skip
    dump = dump_of(ovsdb, tmp_path / "host.json")
    change = plan_from_host(load_dump(dump), design("switch-br0-lacp"), "c1", prune=False)
    unknown_allow = "(a host dump does not show which VLANs the switch allows)"
    unknown_remove = "remove VLANs the host no longer needs (a host dump does not show which the switch allows)"
    built = (
        "build an LACP port-channel for bond br0-up (one per node and bond; MLAG/vPC across two switches): "
        "LACP active, rate fast; the host falls back to active-backup while LACP is down: " + INDIVIDUAL
    )
    native = "native VLAN for the untagged traffic of host (a host dump does not show the switch's native VLAN)"
    assert steps([change]) == [
        *[
            (port, text, when)
            for port in BR1[:2]
            for text, when in ((f"allow VLANs 32, 40 {unknown_allow}", "switch first"), (unknown_remove, "host first"))
        ],
        *[
            (port, text, when)
            for port in BR0[:2]
            for text, when in (
                (f"allow VLAN 32 {unknown_allow}", "switch first"),  # the VM tap vnet0 stays on br0
                (native, "switch first"),
                (built, "switch first"),
                (unknown_remove, "host first"),
            )
        ],
    ]
    assert {p.vlans_unknown for p in change.switch_ports} == {True}
    new = str(CHANGES / "switch-br0-lacp.yaml")
    result = invoke("plan", "--from-host", str(dump), new, "--node", "c1", "-o", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert f"- {BR0[0]}, {BR0[1]}: {built}\n" in (tmp_path / "p/plan.md").read_text()


@pytest.mark.consumer
def test_from_a_dump_lacp_settings_and_mtu_are_compared(ovsdb: Ovsdb, tmp_path: Path) -> None:
    """A host bond already in LACP at the slow rate without fallback, its NICs at MTU 9000."""
    ovsdb.vsctl(
        "add-br", "br0",
        "--", "add-bond", "br0", "br0-up", "eth2", "eth3", "bond_mode=balance-tcp", "lacp=active",
        "other_config:lacp-time=slow", "other_config:lacp-fallback-ab=false",
        "--", "set", "Interface", "eth2", "mtu_request=9000",
        "--", "set", "Interface", "eth3", "mtu_request=9000",
        "--", "add-br", "br-ext", "--", "add-port", "br-ext", "eth9",
    )  # fmt: skip
    host = load_dump(dump_of(ovsdb, tmp_path / "h.json"))
    change = plan_from_host(host, design("switch-br0-lacp"), "c1", prune=False)
    br0 = [p for p in change.switch_ports if p.nic in ("eth2", "eth3")]
    assert [(p.port_channel, p.mtu) for p in br0] == [
        ((PortChannel("br0-up", "slow", fallback=False), PortChannel("br0-up", "fast", fallback=True)), (9000, 1500))
    ] * 2
    texts = [step.text for step in br0[0].steps]
    assert (
        "port-channel of bond br0-up: rate slow -> fast, host fallback to active-backup off -> on; LACP active, rate "
        "fast; the host falls back to active-backup while LACP is down: " + INDIVIDUAL
    ) in texts
    assert ("MTU 9000 -> 1500", HOST_FIRST) in [(step.text, step.order) for step in br0[0].steps]
    # br1's NICs are new on this host; eth9 (left alone on br-ext, not in the design) is not freed.
    assert [(p.nic, p.status) for p in change.switch_ports] == [
        ("eth0", "needed"),
        ("eth1", "needed"),
        ("eth2", "changed"),
        ("eth3", "changed"),
    ]


# --- the derivation, for any pair of small designs -------------------------------------------------

NICS = ("e0", "e1", "e2", "e3")
VLANS = (10, 20, 35, 40)


@st.composite
def small_design(draw: st.DrawFn) -> dict[str, Any]:
    """A design of one or two bridges over four NICs, with VLANs from a small pool."""
    free = list(NICS)
    bridges: dict[str, Any] = {}
    for name in ("br0", "br1"):
        if not free or (name == "br1" and draw(st.booleans())):
            break
        nics = draw(st.lists(st.sampled_from(free), min_size=1, max_size=len(free), unique=True))
        free = [nic for nic in free if nic not in nics]
        spec: dict[str, Any] = {"nics": nics, "mode": draw(st.sampled_from(["active-backup", "balance-tcp"]))}
        if draw(st.booleans()):
            spec |= {"lacp": "active", "lacp_time": draw(st.sampled_from(["fast", "slow"]))}
            spec["lacp_fallback"] = draw(st.booleans())
        bridges[name] = {"uplinks": spec, "mtu": draw(st.sampled_from([1500, 9000]))}
    names = sorted(bridges)
    vlan = st.one_of(st.none(), st.sampled_from(VLANS))
    host: dict[str, Any] = {"bridge": "br0", "vlan": draw(vlan), "mtu": draw(st.sampled_from([1500, 9000]))}
    networks = []
    for index in range(draw(st.integers(0, 3))):
        network: dict[str, Any] = {"name": f"n{index}", "bridge": draw(st.sampled_from(names))}
        if draw(st.booleans()):
            trunk = draw(st.lists(st.sampled_from(VLANS), min_size=1, max_size=3, unique=True))
            network["portgroups"] = [{"name": "t", "trunk": trunk}, {"name": "a", "vlan": draw(vlan)}]
        else:
            network["vlan"] = draw(vlan)
        networks.append(network)
    ports = [{"name": "p0", "bridge": draw(st.sampled_from(names)), "vlan": draw(vlan)}] if draw(st.booleans()) else []
    cabling = {nic: {"speed": "10G", "switch": f"tor {nic}{draw(st.sampled_from(['', 'b']))}"} for nic in NICS}
    node = {"name": "n1", "nics": cabling, "address": "dhcp"}
    return {
        "name": "d",
        "host": {key: value for key, value in host.items() if value is not None},
        "bridges": bridges,
        "networks": [{key: value for key, value in n.items() if value is not None} for n in networks],
        "internal_ports": [{key: value for key, value in p.items() if value is not None} for p in ports],
        "nodes": [node],
    }


def needs_of(data: dict[str, Any]) -> dict[str, PortNeeds]:
    """The design's needs per switch port, by the port's label (a recabled NIC has two)."""
    built = build_design(data)
    needs = design_needs(built, layout_node(built, built.nodes[0]))
    return {f"n1 {nic} ({port.switch})": port for nic, port in needs.items()}


def applied(old: dict[str, PortNeeds], changes: tuple[PortChange, ...]) -> dict[str, PortNeeds]:
    """The old needs with every listed change made, as the network team would make them."""
    result = dict(old)
    for change in changes:
        if change.status == "freed":
            del result[change.label]
            continue
        base = result.get(change.label, PortNeeds(change.nic, frozenset(), (), None, 0))
        assert base.allowed is not None
        result[change.label] = PortNeeds(
            change.nic,
            (base.allowed - set(change.remove)) | set(change.allow),
            change.native[1] if change.native else base.native,
            change.port_channel[1] if change.port_channel else base.port_channel,
            change.mtu[1] if change.mtu else base.mtu,
        )
    return result


@given(small_design(), small_design())
@settings(derandomize=True, max_examples=150, deadline=None)
def test_the_listed_changes_take_the_old_needs_to_the_new(old_data: dict[str, Any], new_data: dict[str, Any]) -> None:
    old, new = needs_of(old_data), needs_of(new_data)
    changes = port_changes("n1", {p.nic: p for p in old.values()}, {p.nic: p for p in new.values()})
    by_port = {change.label: change for change in changes}
    assert len(by_port) == len(changes)  # one change per switch port
    for port in old.keys() | new.keys():
        before = old[port].allowed if port in old else frozenset()
        after = new[port].allowed if port in new else frozenset()
        assert before is not None
        assert after is not None
        change = by_port.get(port)
        freed = change is not None and change.status == "freed"
        assert freed == (port in old and port not in new)  # a freed port's settings all go with it
        for vlan in VLANS:
            # (a) a VLAN is to allow iff the new design needs it there and the old did not; and the same for removal.
            assert (change is not None and vlan in change.allow) == (vlan in after and vlan not in before)
            removed = vlan in before and vlan not in after and not freed
            assert (change is not None and vlan in change.remove) == removed
    # (b) making the listed changes gives the new needs exactly; an unchanged port is not listed.
    assert applied(old, changes) == new
    assert all(old.get(change.label) != new.get(change.label) for change in changes)
    for change in changes:
        assert change.steps, change
        orders = {step.text.split()[0]: step.order for step in change.steps}
        assert orders.get("allow", SWITCH_FIRST) == SWITCH_FIRST
        assert orders.get("remove", HOST_FIRST) == HOST_FIRST


# --- from a host state as a dump reads it (in-process) ------------------------------------------------


def host_state(*ports: PortState, mtu: dict[str, int] | None = None, owned: tuple[str, ...] = ()) -> OvsState:
    """A host as load_dump reads it: each bridge with its own port, every member an interface
    (at the MTU `mtu` gives it, unset otherwise); bridges in `owned` carry ovsgen's mark."""
    mtus = mtu or {}
    bridges = sorted({port.bridge for port in ports})
    own = [PortState(bridge, bridge, "bridge", (bridge,)) for bridge in bridges]
    interfaces = [InterfaceState(bridge, mtus.get(bridge), "internal") for bridge in bridges]
    interfaces += [InterfaceState(name, mtus.get(name)) for port in ports for name in port.members]
    rows = tuple(BridgeState(bridge, OWNED if bridge in owned else ()) for bridge in bridges)
    return OvsState(tuple(bridges), (*own, *ports), tuple(interfaces), rows)


def bond(name: str, bridge: str, *members: str, lacp: str | None = None, **options: str) -> PortState:
    other_config = tuple(sorted((key.replace("_", "-"), value) for key, value in options.items()))
    return PortState(name, bridge, "bond", members, bond_mode="balance-tcp", lacp=lacp, other_config=other_config)


def nic(name: str, bridge: str) -> PortState:
    return PortState(name, bridge, "nic", (name,))


def host_changes(host: OvsState, new: ValidDesign, *, prune: bool = False, node: str = "c1") -> list[PortChange]:
    return list(plan_from_host(host, new, node, prune=prune).switch_ports)


def with_labels(folder: Path, name: str, labels: dict[str, str]) -> ValidDesign:
    """A design of tests/designs/changes/ with switch-port labels on some NICs of node c1."""
    data: dict[str, Any] = yaml.safe_load((CHANGES / f"{name}.yaml").read_text())
    nics = data["nodes"][0]["nics"]
    for nic_name, label in labels.items():
        nics[nic_name] = {"speed": nics[nic_name], "switch": label}
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return validate_file(path)


def test_a_host_lacp_bond_is_read_with_its_rate_and_fallback() -> None:
    """LACP active or passive is a port-channel; lacp-time and lacp-fallback-ab give its settings,
    slow and no fallback when unset; a bond without LACP has none."""
    fast = bond("br0-up", "br0", "eth2", "eth3", lacp="passive", lacp_time="fast", lacp_fallback_ab="true")
    assert host_needs(host_state(fast), ()) == {
        name: PortNeeds(name, None, None, PortChannel("br0-up", "fast", fallback=True), 1500)
        for name in ("eth2", "eth3")
    }
    plain = bond("br0-up", "br0", "eth2", "eth3", lacp="active")
    assert host_needs(host_state(plain), ())["eth2"].port_channel == PortChannel("br0-up", "slow", fallback=False)
    off = bond("br0-up", "br0", "eth2", "eth3", lacp_time="fast")
    assert host_needs(host_state(off), ())["eth2"].port_channel is None


def test_a_host_link_mtu_is_the_nics_or_its_bridges_own_port_if_larger() -> None:
    port = bond("br0-up", "br0", "eth2", "eth3")
    assert {n.nic: n.mtu for n in host_needs(host_state(port, mtu={"br0": 9000}), ()).values()} == {
        "eth2": 9000,
        "eth3": 9000,
    }
    assert host_needs(host_state(port, mtu={"eth2": 9000, "br0": 1600}), ())["eth2"].mtu == 9000
    # Another bridge's own port does not count for br0's links.
    other = host_state(port, nic("eth4", "br1"), mtu={"br1": 9000, "eth4": 9000})
    assert host_needs(other, ("eth4",))["eth2"].mtu == 1500
    assert host_needs(other, ("eth4",))["eth4"] == PortNeeds("eth4", None, None, None, 9000)


def test_a_host_single_uplink_counts_only_when_it_is_a_nic_of_the_node() -> None:
    """A VM's tap looks like a single-NIC port: only inventory NICs are switch ports."""
    host = host_state(nic("eth4", "br2"), nic("vnet0", "br2"), PortState("p0", "br2", "internal", ("p0",)))
    found = host_needs(host, ("eth4", "p0"))
    assert list(found) == ["eth4"]
    assert (found["eth4"].nic, found["eth4"].bridge) == ("eth4", "br2")


def test_from_a_host_a_single_uplink_keeps_its_port_and_changes_its_mtu(tmp_path: Path) -> None:
    new = with_labels(tmp_path, "bridge-added", {"eth4": "tor-a Gi1/0/4"})
    host = host_state(bond("br1-up", "br1", "eth0", "eth1"), nic("eth4", "br2"), nic("vnet0", "br2"))
    (eth4,) = [p for p in host_changes(host, new) if p.nic == "eth4"]
    assert (eth4.status, eth4.switch, eth4.mtu, eth4.bridge) == ("changed", "tor-a Gi1/0/4", (1500, 9000), "br2")
    assert [step.text for step in eth4.steps] == [
        "MTU 1500 -> 9000",
        "remove VLANs the host no longer needs (a host dump does not show which the switch allows)",
    ]
    at_9000 = host_state(bond("br1-up", "br1", "eth0", "eth1"), nic("eth4", "br2"), mtu={"eth4": 9000})
    assert [(p.nic, p.mtu) for p in host_changes(at_9000, new) if p.nic == "eth4"] == [("eth4", None)]


def test_from_a_host_nics_dropped_by_the_design_are_freed_with_their_switch_port(tmp_path: Path) -> None:
    """eth4 leaves a bond the design keeps: freed. eth5 (in no inventory) goes with a pruned
    bond; a hand-made tap goes too, but it is no switch port."""
    new = with_labels(tmp_path, "base", {"eth4": "tor-a Gi1/0/4"})
    host = host_state(
        bond("br1-up", "br1", "eth0", "eth1", "eth4"),
        bond("extra", "br0", "eth5", "eth6"),
        nic("tap9", "br0"),
    )
    freed = [(p.label, p.status, [s.text for s in p.steps]) for p in host_changes(host, new, prune=True)]
    assert [item for item in freed if item[1] == "freed"] == [
        ("c1 eth4 (tor-a Gi1/0/4)", "freed", ["port freed: eth4 leaves br1 (bond br1-up); shut it or reuse it"]),
        (f"c1 eth5 {UNKNOWN}", "freed", ["port freed: eth5 leaves br0 (bond extra); shut it or reuse it"]),
        (f"c1 eth6 {UNKNOWN}", "freed", ["port freed: eth6 leaves br0 (bond extra); shut it or reuse it"]),
    ]


def test_from_a_host_ports_the_plan_leaves_alone_keep_their_switch_ports() -> None:
    """Without --prune a hand-made bond and a single NIC on a bridge ovsgen did not build stay:
    their switch ports are not freed."""
    host = host_state(
        bond("br1-up", "br1", "eth0", "eth1"),
        bond("extra", "br0", "eth5", "eth6"),
        nic("eth4", "br-old"),
        owned=("br-old",),
    )
    assert [(p.nic, p.status) for p in host_changes(host, design("base"))] == [
        ("eth0", "changed"),  # the VLANs a dump does not show
        ("eth1", "changed"),
        ("eth2", "needed"),
        ("eth3", "needed"),
    ]
    pruned = host_changes(host, design("base"), prune=True)
    assert [(p.nic, p.status, p.bridge) for p in pruned if p.status == "freed"] == [
        ("eth4", "freed", "br-old"),
        ("eth5", "freed", "br0 (bond extra)"),
        ("eth6", "freed", "br0 (bond extra)"),
    ]


def test_from_a_host_a_node_the_design_lacks_changes_no_switch_port() -> None:
    host = host_state(bond("br1-up", "br1", "eth0", "eth1"), nic("eth4", "br2"))
    assert host_changes(host, design("base"), node="c9") == []


def test_a_node_added_needs_every_port_and_a_node_removed_frees_them() -> None:
    added = plan_designs(design("base"), design("node-added"), ("c3",))
    assert [(p.nic, p.status) for p in added[0].switch_ports] == [(f"eth{i}", "needed") for i in range(4)]
    removed = plan_designs(design("node-added"), design("base"), ("c3",))
    assert [(p.nic, p.status) for p in removed[0].switch_ports] == [(f"eth{i}", "freed") for i in range(4)]
    assert steps(removed)[0] == (
        f"c3 eth0 {UNKNOWN}",
        "port freed: eth0 leaves br1 (bond br1-up); shut it or reuse it",
        "host first",
    )


def test_port_channel_and_native_changes_say_what_they_were() -> None:
    old = PortNeeds("eth2", frozenset(), ("host", "vm-flat"), PortChannel("bond0", "fast", fallback=True), 1500)
    new = PortNeeds("eth2", frozenset(), (), PortChannel("br0-up", "fast", fallback=False), 1500)
    (change,) = port_changes("c1", {"eth2": old}, {"eth2": new})
    assert [(step.text, step.when) for step in change.steps] == [
        (
            "port-channel of bond br0-up: bond bond0 -> br0-up, host fallback to active-backup on -> off; "
            "LACP active, rate fast; the host does not fall back: its bond stays down until LACP forms: " + INDIVIDUAL,
            "switch first",
        ),
        ("native VLAN no longer needed (was for host, vm-flat)", "host first"),
    ]


def test_native_vlan_users_joining_go_switch_first_and_leaving_host_first() -> None:
    def native_step(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, str]:
        needs = [PortNeeds("eth0", frozenset(), users, None, 1500) for users in (old, new)]
        (change,) = port_changes("c1", {"eth0": needs[0]}, {"eth0": needs[1]})
        (step,) = change.steps
        return step.text, step.when

    assert native_step(("host",), ("host", "vm-flat")) == (
        "native VLAN for the untagged traffic of host, vm-flat (was host)",
        "switch first",
    )
    assert native_step(("host", "vm-flat"), ("vm-flat",)) == (
        "native VLAN for the untagged traffic of vm-flat (was host, vm-flat)",
        "host first",
    )
    # The same users in another order (networks reordered in the design): nothing new to serve.
    assert native_step(("vm-flat", "host"), ("host", "vm-flat")) == (
        "native VLAN for the untagged traffic of host, vm-flat (was vm-flat, host)",
        "host first",
    )


def test_a_new_port_joins_the_existing_port_channel_and_ports_come_in_nic_order() -> None:
    channel = PortChannel("br1-up", "slow", fallback=False)
    needs = {name: PortNeeds(name, frozenset({32}), (), channel, 1500) for name in ("eth10", "eth2")}
    changes = port_changes("c1", {"eth2": needs["eth2"]}, needs)
    assert [(change.nic, change.status) for change in changes] == [("eth10", "needed")]
    texts = [step.text for step in changes[0].steps]
    assert texts[2] == (
        "join the LACP port-channel of bond br1-up: LACP active, rate slow; the host does not fall back: "
        "its bond stays down until LACP forms: " + INDIVIDUAL
    )
    both = port_changes("c1", {}, needs)
    assert [change.nic for change in both] == ["eth2", "eth10"]


def test_a_single_uplink_serves_its_bridge_and_a_bond_its_bond() -> None:
    assert steps(plan_designs(design("base"), design("bridge-added"), ("c1",)))[0] == (
        f"c1 eth4 {UNKNOWN}",
        "port newly needed: eth4 joins br2; cable it",
        "switch first",
    )
    lacp = design_needs(design("lacp-on").design, design("lacp-on").layouts[0])
    assert (lacp["eth0"].port_channel, lacp["eth2"].port_channel) == (
        PortChannel("br1-up", "fast", fallback=True),
        None,
    )


def test_a_recabled_nic_keeps_the_changes_of_the_ports_before_it() -> None:
    def needs(nic: str, vlans: set[int], switch: str) -> PortNeeds:
        return PortNeeds(nic, frozenset(vlans), (), None, 1500, switch)

    old = {"eth0": needs("eth0", {32}, "tor 1"), "eth1": needs("eth1", {32}, "tor 2")}
    new = {"eth0": needs("eth0", {32, 35}, "tor 1"), "eth1": needs("eth1", {32}, "tor 3")}
    assert [(change.label, change.status, change.allow) for change in port_changes("c1", old, new)] == [
        ("c1 eth0 (tor 1)", "changed", (35,)),
        ("c1 eth1 (tor 2)", "freed", ()),
        ("c1 eth1 (tor 3)", "needed", (32,)),
    ]


def vm_taps(host: OvsState) -> OvsState:
    """`host` with libvirt's external_ids on every interface named vnet*: running VMs' taps."""
    interfaces = tuple(
        InterfaceState(i.name, i.mtu_request, i.type, columns=(("external_ids", (("vm-id", f"vm-{i.name}"),)),))
        if i.name.startswith("vnet")
        else i
        for i in host.interfaces
    )
    return OvsState(host.bridges, host.ports, interfaces, host.bridge_rows)


def test_from_a_host_the_switch_keeps_the_vlans_of_the_ports_the_plan_leaves_on_a_bridge() -> None:
    """VM taps on br1 (an access port on VLAN 50, a trunk of 60 and 70, one on VLAN 32 the design
    has anyway, one untagged) and a hand-made port on br0 (VLAN 80) stay: every uplink of their
    bridge must keep carrying their VLANs. A port on a bridge without uplinks needs nothing of
    the switch. --prune removes the hand-made port, so VLAN 80 is no longer needed; VM taps stay."""
    host = vm_taps(
        host_state(
            bond("br1-up", "br1", "eth0", "eth1"),
            bond("br0-up", "br0", "eth2", "eth3"),
            PortState("vnet0", "br1", "nic", ("vnet0",), tag=50),
            PortState("vnet1", "br1", "nic", ("vnet1",), columns=(("trunks", (60, 70)), ("vlan_mode", "trunk"))),
            PortState("vnet2", "br1", "nic", ("vnet2",), tag=32),
            PortState("vnet3", "br1", "nic", ("vnet3",), columns=(("vlan_mode", "access"),)),
            PortState("p0", "br0", "internal", ("p0",), tag=80),
            PortState("p1", "br-hand", "internal", ("p1",), tag=90),
        )
    )
    kept = [(p.nic, p.status, p.allow, p.remove) for p in host_changes(host, design("base"))]
    assert kept == [
        ("eth0", "changed", (32, 40, 50, 60, 70), ()),
        ("eth1", "changed", (32, 40, 50, 60, 70), ()),
        ("eth2", "changed", (80,), ()),
        ("eth3", "changed", (80,), ()),
    ]
    pruned = [(p.nic, p.allow) for p in host_changes(host, design("base"), prune=True)]
    assert pruned == [("eth0", (32, 40, 50, 60, 70)), ("eth1", (32, 40, 50, 60, 70)), ("eth2", ()), ("eth3", ())]
    eth0, _, eth2, _ = host_changes(host, design("base"))
    assert [step.text for step in eth0.steps] == [
        "allow VLANs 32, 40, 50, 60, 70 (a host dump does not show which VLANs the switch allows)",
        "remove VLANs the host no longer needs (a host dump does not show which the switch allows)",
    ]
    # The host's own untagged traffic on br0: a dump does not say what the switch's native VLAN is.
    assert [(step.text, step.when) for step in eth2.steps] == [
        ("allow VLAN 80 (a host dump does not show which VLANs the switch allows)", "switch first"),
        ("native VLAN for the untagged traffic of host (a host dump does not show the switch's native VLAN)",
         "switch first"),
        ("remove VLANs the host no longer needs (a host dump does not show which the switch allows)", "host first"),
    ]  # fmt: skip


def test_from_a_host_the_design_s_own_ports_bring_only_the_design_s_vlans() -> None:
    """A port the design keeps (br0's own port, tagged by hand on the host) is the design's: the
    plan retags it, and its old VLAN is not kept on the switch."""
    host = host_state(bond("br1-up", "br1", "eth0", "eth1"), bond("br0-up", "br0", "eth2", "eth3"))
    own = tuple(replace(port, tag=77) if port.name == "br0" else port for port in host.ports)
    changes = host_changes(OvsState(host.bridges, own, host.interfaces, host.bridge_rows), design("base"))
    assert [(p.nic, p.allow) for p in changes] == [
        ("eth0", (32, 40)),
        ("eth1", (32, 40)),
        ("eth2", ()),
        ("eth3", ()),
    ]


def test_from_a_host_columns_carried_over_to_the_design_s_ports_add_no_vlan() -> None:
    """The host's bond has trunks set by hand: the plan carries them over to the design's bond
    (it does not manage them), but they are no port the plan leaves: the switch allows what the
    design needs."""
    host = host_state(bond("br1-up", "br1", "eth0", "eth1"), bond("br0-up", "br0", "eth2", "eth3"))
    trunked = tuple(
        replace(port, columns=(("trunks", (99,)),)) if port.name == "br1-up" else port for port in host.ports
    )
    change = plan_from_host(
        OvsState(host.bridges, trunked, host.interfaces, host.bridge_rows), design("base"), "c1", prune=False
    )
    bond_after = change.ovs.after.port("br1-up")
    assert bond_after is not None
    assert bond_after.columns == (("trunks", (99,)),)
    assert [(p.nic, p.allow) for p in change.switch_ports] == [
        ("eth0", (32, 40)),
        ("eth1", (32, 40)),
        ("eth2", ()),
        ("eth3", ()),
    ]


def test_a_port_channel_gaining_the_host_fallback_says_off_to_on() -> None:
    old = PortNeeds("eth2", frozenset(), (), PortChannel("br0-up", "slow", fallback=False), 1500)
    new = PortNeeds("eth2", frozenset(), (), PortChannel("br0-up", "fast", fallback=True), 1500)
    (change,) = port_changes("c1", {"eth2": old}, {"eth2": new})
    assert [step.text for step in change.steps] == [
        "port-channel of bond br0-up: rate slow -> fast, host fallback to active-backup off -> on; "
        "LACP active, rate fast; the host falls back to active-backup while LACP is down: " + INDIVIDUAL
    ]
