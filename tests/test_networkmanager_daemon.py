"""Real NetworkManager daemons read and build what the networkmanager backend's keyfiles say.

Level 2: Debian's NetworkManager loads every keyfile of every node that uses NetworkManager
without a word on stderr and reads back, property by property, what the DESIGN says: the values
expected come from the node's OVS state (generator.ovs.state.node_state) and the design, never
from the keyfiles. Level 3: a NetworkManager built with OVS support (.ci/networkmanager-ovs)
activates them against a private ovsdb-server and ovs-vswitchd (userspace datapath, veth pairs
as the NICs); the database then holds the rows ovs/apply.sh builds on an empty database, and the
host's address is on the host bridge's interface.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.design.model import Design
from generator.design.resolve import NodeLayout
from generator.design.validate import validate_file
from generator.ovs.state import OvsState, PortState, column, node_state
from tests.conftest import ALL_DESIGNS, example_nodes, ovsdb_server, run
from tests.support.networkmanager import (
    PrivateNetworkManager,
    Rows,
    as_apply_writes,
    comparable,
    debian_networkmanager,
    netdev_copies,
    ovs_networkmanager,
    private_networkmanager,
    settled,
)
from tests.support.ovsdb import Ovsdb

pytestmark = pytest.mark.consumer

BACKEND = "networkmanager"
Key = tuple[str, str]  # a profile: (connection.type as nmcli prints it, connection.interface-name)


NODES = example_nodes(BACKEND)


def facts(design_name: str, node_name: str) -> tuple[Design, NodeLayout, OvsState]:
    """The design, the node's layout and the OVS state the design wants for it."""
    valid = next(valid for valid in map(validate_file, ALL_DESIGNS) if valid.design.name == design_name)
    layout = next(layout for layout in valid.layouts if layout.node.name == node_name)
    return valid.design, layout, node_state(valid.design, layout)


def keyfiles(tree: Path, design: str, node: str) -> list[Path]:
    found = sorted((tree / design / node / "NetworkManager" / "system-connections").glob("*.nmconnection"))
    assert found, f"no keyfiles rendered for {design}/{node}"
    return found


def test_some_nodes_use_networkmanager() -> None:
    assert ("rhel9-migration", "kvm-r-1") in NODES
    assert ("rhel9-migration", "kvm-r-3") not in NODES  # its own backends: ifcfg only


# Level 2: what NetworkManager reads back -------------------------------------------------------


@dataclass(frozen=True)
class Want:
    """A profile the design calls for: its master's key and what `nmcli -g` must print."""

    master: Key | None
    properties: dict[str, str]
    data: dict[str, str] | None = None  # [ovs-other-config] of a port, [ovs-external-ids] of a bridge


def wanted_profiles(design: Design, layout: NodeLayout, state: OvsState) -> dict[Key, Want]:
    """Every profile the node needs, from its OVS state: a bridge, its ports, their interfaces."""
    wants = {}
    for bridge in state.bridges:
        ids = column(state.bridge_row(bridge).columns, "external_ids")  # ovsgen's mark on its bridges
        marks = {pair[0]: pair[1] for pair in ids if isinstance(pair, tuple)} if isinstance(ids, tuple) else {}
        wants[("ovs-bridge", bridge)] = Want(None, {}, marks)
    for port in state.ports:
        wants[("ovs-port", port.name)] = Want(
            ("ovs-bridge", port.bridge), _port_properties(port), dict(port.other_config)
        )
        for name in port.members:
            own = port.kind in ("bridge", "internal")
            key = ("ovs-interface" if own else "802-3-ethernet", name)
            properties = (
                _internal_properties(design, layout, state, name) if own else _nic_properties(layout, state, name)
            )
            wants[key] = Want(("ovs-port", port.name), properties)
    return wants


def _port_properties(port: PortState) -> dict[str, str]:
    # nmcli prints an unset tag as 0 and an unset bond mode or LACP as nothing.
    return {
        "ovs-port.tag": str(port.tag or 0),
        "ovs-port.bond-mode": port.bond_mode or "",
        "ovs-port.lacp": port.lacp or "",
    }


def _mtu(state: OvsState, name: str) -> str:
    mtu = state.interface(name).mtu_request
    return "auto" if mtu is None else str(mtu)  # nmcli's word for "leave the MTU alone"


def _nic_properties(layout: NodeLayout, state: OvsState, name: str) -> dict[str, str]:
    nic = layout.node.nic(name)
    assert nic is not None
    mac = (nic.mac or "").upper()  # NetworkManager prints MACs in capitals; none pinned: empty
    return {"802-3-ethernet.mac-address": mac, "802-3-ethernet.mtu": _mtu(state, name)}


def _internal_properties(design: Design, layout: NodeLayout, state: OvsState, name: str) -> dict[str, str]:
    """An internal interface: its MTU, and the host's address (or a port's) where the design puts one."""
    found = {"ovs-interface.type": "internal", "802-3-ethernet.mtu": _mtu(state, name)}
    node, host = layout.node, design.host
    empty = {"ipv4.addresses": "", "ipv4.gateway": "", "ipv4.dns": "", "ipv4.dns-search": ""}
    port_address = next((item.address for item in node.ports if item.port == name), None)
    if name == host.bridge:
        gateway = design.gateway_of(node) if node.address is not None else None  # DHCP brings its own
        ip = {
            "ipv4.method": "auto" if node.address is None else "manual",
            "ipv4.addresses": "" if node.address is None else str(node.address),
            "ipv4.gateway": "" if gateway is None else str(gateway),
            "ipv4.dns": ",".join(str(server) for server in host.dns),
            "ipv4.dns-search": ",".join(host.search),
        }
    elif port_address is not None:
        ip = {**empty, "ipv4.method": "manual", "ipv4.addresses": str(port_address)}
    else:
        ip = {**empty, "ipv4.method": "disabled"}  # never DHCP on an interface the design gives no address
    return {**found, **ip}


def found_profiles(nm: PrivateNetworkManager) -> dict[Key, str]:
    """Key -> UUID of every profile the daemon loaded from the keyfiles."""
    found: dict[Key, str] = {}
    for uuid in nm.uuids():
        got = nm.get(uuid, ["connection.type", "connection.interface-name"])
        key = (got["connection.type"], got["connection.interface-name"])
        assert key not in found, f"two profiles for {key}: {found[key]} and {uuid}"
        found[key] = uuid
    return found


def differences(nm: PrivateNetworkManager, wants: dict[Key, Want]) -> dict[str, Any]:
    """What the daemon reads back that differs from the design, per profile and property."""
    found = found_profiles(nm)
    assert sorted(found) == sorted(wants)
    differ: dict[str, Any] = {}
    for key, want in wants.items():
        master = {"connection.master": "", "connection.slave-type": ""}
        if want.master is not None:  # by UUID, so that a renamed profile keeps its ports
            master = {"connection.master": found[want.master], "connection.slave-type": want.master[0]}
        expected = {"connection.autoconnect": "yes", **master, **want.properties}
        got = nm.get(found[key], list(expected))
        wrong: dict[str, Any] = {name: (value, got[name]) for name, value in expected.items() if got[name] != value}
        if want.data is not None:  # nmcli 1.42 cannot show these: D-Bus can
            section = "ovs-external-ids" if key[0] == "ovs-bridge" else "ovs-other-config"
            data = nm.settings(found[key]).get(section, {}).get("data", {})
            if data != want.data:
                wrong[section] = (want.data, data)
        if wrong:
            differ["/".join(key)] = wrong  # property: (design, NetworkManager)
    return differ


@pytest.mark.parametrize(("design", "node"), NODES)
def test_debian_networkmanager_reads_back_the_design(rendered_tree: Path, design: str, node: str) -> None:
    with private_networkmanager(debian_networkmanager()) as nm:
        nm.load(keyfiles(rendered_tree, design, node))  # fails on anything nmcli says on stderr
        assert differences(nm, wanted_profiles(*facts(design, node))) == {}


# Level 3: what NetworkManager builds -----------------------------------------------------------


def applied_rows(tree: Path, design: str, node: str, ovsdb: Ovsdb) -> Rows:
    """What the node's ovs/apply.sh builds on an empty private database."""
    script = tree / design / node / "ovs" / "apply.sh"
    result = run(
        ["bash", str(script), "--apply", "--skip-nic-check"], env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command}
    )
    assert result.returncode == 0, result.stderr
    return ovsdb.rows()


def ovs_check(tree: Path, design: str, node: str, ovsdb: Ovsdb) -> subprocess.CompletedProcess[str]:
    script = tree / design / node / "ovs" / "apply.sh"
    return run(
        ["bash", str(script), "--check", "--skip-nic-check"], env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command}
    )


def addresses_in_place(nm: PrivateNetworkManager, layout: NodeLayout, host: str) -> None:
    """The host's address is on the host bridge's interface and each port's on its port, as the
    kernel has them. Routes are not compared: on the userspace datapath ovs-vswitchd takes the
    bridge's tap device down to give it the bridge's MAC when a NIC joins, the kernel then drops
    the routes through it, and NetworkManager 1.42 does not put them back (seen in about one run
    of four; an internal port of the kernel datapath changes its MAC without going down)."""
    address = layout.node.address
    assert nm.addresses(host) == ([] if address is None else [str(address)])
    for port in layout.node.ports:
        assert nm.addresses(port.port) == [str(port.address)]


@pytest.mark.parametrize(("design", "node"), NODES)
def test_ovs_networkmanager_builds_what_apply_builds(
    rendered_tree: Path, ovsdb: Ovsdb, tmp_path: Path, design: str, node: str
) -> None:
    binary = ovs_networkmanager()
    the_design, layout, _ = facts(design, node)
    applied = applied_rows(rendered_tree, design, node, ovsdb)
    want = comparable(applied)
    nics = [(nic.name, nic.mac) for nic in layout.node.nics]  # every NIC of the node, as the design names it
    with private_networkmanager(binary, nics, ovs=True) as nm:
        database = nm.ovsdb
        assert database is not None
        nm.load(netdev_copies(keyfiles(rendered_tree, design, node), tmp_path))
        profiles = found_profiles(nm)
        # No DHCP server here: a DHCP host interface stays at asking for its address (its OVS rows
        # are made by then); every other profile comes up. autoconnect=yes: loading is enough, as at boot.
        dhcp = [profiles[("ovs-interface", the_design.host.bridge)]] if layout.node.address is None else []
        nm.wait_active(set(profiles.values()) - set(dhcp), timeout=60)
        assert [nm.active().get(uuid) for uuid in dhcp] == ["activating"] * len(dhcp)
        built = settled(lambda: comparable(as_apply_writes(database.rows(), applied)), want)
        addresses_in_place(nm, layout, the_design.host.bridge)
        # The node's own ovs/apply.sh finds the host as designed: a NIC's MTU that NetworkManager
        # set on the device counts as the MTU apply.sh requests (mtu_request stays empty).
        check = ovs_check(rendered_tree, design, node, database)
    assert built == want
    assert (check.returncode, check.stderr) == (0, ""), check.stdout


# NetworkManager/apply.sh itself, against both daemons -----------------------------------------


def apply_folder(tree: Path, design: str, node: str, where: Path) -> Path:
    """A copy of the node's NetworkManager/ folder, its keyfiles on the userspace datapath."""
    folder = where / "NetworkManager"
    folder.mkdir()
    script = tree / design / node / "NetworkManager" / "apply.sh"
    (folder / "apply.sh").write_text(script.read_text())
    (folder / "system-connections").mkdir()
    netdev_copies(keyfiles(tree, design, node), folder / "system-connections")
    return folder / "apply.sh"


def test_apply_refuses_a_networkmanager_without_its_ovs_plugin(rendered_tree: Path) -> None:
    script = rendered_tree / "rhel9-migration" / "kvm-r-1" / "NetworkManager" / "apply.sh"
    with private_networkmanager(debian_networkmanager()) as nm:  # Debian's: built without the plugin
        result = nm.run("env", f"NM_KEYFILE_DIR={nm.keyfiles}", "bash", str(script), "--apply", "--skip-nic-check")
        assert result.returncode == 1
        assert "NetworkManager has no Open vSwitch plugin: install NetworkManager-ovs" in result.stderr
        assert list(nm.keyfiles.iterdir()) == []


def test_apply_sh_installs_activates_and_checks_a_node(rendered_tree: Path, tmp_path: Path) -> None:
    design, node = "rhel9-migration", "kvm-r-1"
    the_design, layout, _ = facts(design, node)
    with ovsdb_server() as empty:
        want = comparable(applied_rows(rendered_tree, design, node, empty))
    script = apply_folder(rendered_tree, design, node, tmp_path)
    nics = [(nic.name, nic.mac) for nic in layout.node.nics]
    with private_networkmanager(ovs_networkmanager(), nics, ovs=True) as nm:
        database = nm.ovsdb
        assert database is not None
        env = ("env", f"NM_KEYFILE_DIR={nm.keyfiles}", "NM_WAIT=30", "bash", str(script))
        result = nm.run(*env, "--apply")  # the NIC check runs: the veths have the design's MACs
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{nm.log_tail()}"
        assert result.stdout.splitlines()[-2] == (
            "Applied and verified: every profile is installed, reads back as designed, and is active."
        )
        assert {path.stat().st_mode & 0o777 for path in nm.keyfiles.iterdir()} == {0o600}
        again = nm.run(*env, "--check")
        assert (again.returncode, again.stdout) == (0, f"No change: node {node} already matches the design.\n")
        built = settled(lambda: comparable(as_apply_writes(database.rows(), want)), want)
        assert nm.addresses(the_design.host.bridge) == [str(layout.node.address)]
    assert built == want


INSTALLER = "1f0e5a4c-0000-4000-8000-000000000001"  # the installer's profile for the first NIC
BY_MAC = "1f0e5a4c-0000-4000-8000-000000000002"  # one that finds its NIC by MAC alone
DORMANT = "1f0e5a4c-0000-4000-8000-000000000003"  # one that never comes up by itself


def other_profile(uuid: str, name: str, match: str, autoconnect: bool = True) -> str:
    """A keyfile as an installer or an administrator leaves it for one NIC, with the host address."""
    auto = "" if autoconnect else "autoconnect=false\n"
    return (
        f"[connection]\nid={name}\nuuid={uuid}\ntype=ethernet\n{auto}{match}"
        "[ipv4]\naddress1=10.30.0.11/24\nmethod=manual\n\n[ipv6]\nmethod=ignore\n"
    )


def test_apply_sh_refuses_other_profiles_for_its_nics_until_told_to_disable_them(
    rendered_tree: Path, tmp_path: Path
) -> None:
    design, node = "rhel9-migration", "kvm-r-1"
    _, layout, _ = facts(design, node)
    script = apply_folder(rendered_tree, design, node, tmp_path)
    eno2 = next(nic.mac for nic in layout.node.nics if nic.name == "eno2")
    assert eno2 is not None
    others = {
        "eno1.nmconnection": other_profile(INSTALLER, "eno1", "interface-name=eno1\n"),
        "eno2.nmconnection": other_profile(BY_MAC, "Wired connection 2", f"\n[ethernet]\nmac-address={eno2.upper()}\n"),
        "spare.nmconnection": other_profile(DORMANT, "spare", "interface-name=ens2f0\n", autoconnect=False),
    }
    nics = [(nic.name, nic.mac) for nic in layout.node.nics]
    with private_networkmanager(ovs_networkmanager(), nics, ovs=True) as nm:
        for name, text in others.items():
            (nm.keyfiles / name).write_text(text)
            (nm.keyfiles / name).chmod(0o600)
        nm.checked("nmcli", "connection", "load", *(str(nm.keyfiles / name) for name in others))
        env = ("env", f"NM_KEYFILE_DIR={nm.keyfiles}", "NM_WAIT=30", "bash", str(script))
        refused = nm.run(*env, "--apply")
        assert refused.returncode == 1
        named = [line.split()[0] for line in refused.stderr.splitlines() if line.startswith("  ")]
        assert sorted(named) == sorted([INSTALLER, BY_MAC])  # not DORMANT: it never comes up by itself
        assert "--disable-other-profiles" in refused.stderr
        assert sorted(path.name for path in nm.keyfiles.iterdir()) == sorted(others)  # nothing installed
        done = nm.run(*env, "--apply", "--disable-other-profiles")
        assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{nm.log_tail()}"
        autoconnect = {uuid: nm.get(uuid, ["connection.autoconnect"]) for uuid in (INSTALLER, BY_MAC, DORMANT)}
        assert {uuid: found["connection.autoconnect"] for uuid, found in autoconnect.items()} == {
            INSTALLER: "no",
            BY_MAC: "no",
            DORMANT: "no",
        }
        assert all((nm.keyfiles / name).exists() for name in others)  # kept, not deleted
        again = nm.run(*env, "--check")
        assert (again.returncode, again.stderr) == (0, "")
