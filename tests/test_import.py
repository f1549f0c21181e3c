"""`ovsgen import` of hosts not built by ovsgen: made by hand with ovs-vsctl in a private
ovsdb-server, with VM taps and settings the design language lacks, captured by the real capture
script. The import warns about exactly those, each at its row of the dump; hosts that disagree
are named in comments and in the report; what no capture gives is left for a person to fill in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from generator.design.validate import validate_file
from tests.support.cli import invoke
from tests.support.fleet import capture_into, empty, host_root, rows_without_ids
from tests.support.ovsdb import Ovsdb

pytestmark = pytest.mark.consumer

SPEEDS = ["1000", "1000", "10000", "10000"]
IFCFG_BR0 = (
    "DEVICE=br0\nTYPE=OVSBridge\nDEVICETYPE=ovs\nBOOTPROTO=static\nIPADDR={ip}\nNETMASK=255.255.255.0\n"
    "GATEWAY=10.1.0.1\nDNS1=10.1.0.53\n"
)
IFCFG_MGMT = "DEVICE=mgmt0\nTYPE=OVSIntPort\nDEVICETYPE=ovs\nOVS_BRIDGE=br0\nBOOTPROTO=static\nIPADDR={ip}\nPREFIX=24\n"
NAT = (
    "<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>"
    "<ip address='192.168.122.1' netmask='255.255.255.0'/></network>"
)
VMS = (
    "<network><name>vms</name><forward mode='bridge'/><bridge name='br0'/>"
    "<virtualport type='openvswitch'/><vlan><tag id='{vlan}'/></vlan></network>"
)


def build_by_hand(ovsdb: Ovsdb, *, vlan: int = 20, extras: bool = True) -> None:
    """A host as a person builds one: a bond, an internal port, and (extras) what no design says."""
    empty(ovsdb)
    ovsdb.vsctl("add-br", "br0")
    ovsdb.vsctl("add-bond", "br0", "bond0", "eth2", "eth3", "bond_mode=balance-slb")
    ovsdb.vsctl("add-port", "br0", "mgmt0", f"tag={vlan}", "--", "set", "Interface", "mgmt0", "type=internal")
    if not extras:
        return
    ovsdb.vsctl("set", "Bridge", "br0", "stp_enable=true")
    ovsdb.vsctl("set", "Port", "bond0", "bond_updelay=100", "other_config:bond-detect-mode=miimon")
    ovsdb.vsctl("add-port", "br0", "vnet0", "--", "set", "Interface", "vnet0", "external_ids:vm-id=vm-7")
    ovsdb.vsctl("add-port", "br0", "vx0", "--", "set", "Interface", "vx0", "type=vxlan", "options:remote_ip=10.9.0.1")
    ovsdb.vsctl("add-br", "br-int")
    ovsdb.vsctl("add-port", "br-int", "to-br0", "--", "set", "Interface", "to-br0", "type=patch", "options:peer=x")
    ovsdb.vsctl("set-controller", "br-int", "tcp:10.9.0.2:6653")
    ovsdb.vsctl("set", "Interface", "eth2", "ingress_policing_rate=1000")


def capture_host(ovsdb: Ovsdb, tmp_path: Path, name: str, ip: str, *, vlan: int = 20) -> Path:
    files = {
        "network-scripts/ifcfg-br0": IFCFG_BR0.format(ip=ip),
        "network-scripts/ifcfg-mgmt0": IFCFG_MGMT.format(ip=f"172.16.0.{ip.rsplit('.', 1)[1]}"),
    }
    root = tmp_path / "roots" / name
    host = int(ip.rsplit(".", 1)[1])
    nics = {f"eth{index}": (f"0c:c4:7a:00:{host:02x}:{index:02x}", speed) for index, speed in enumerate(SPEEDS)}
    env = host_root(root, name, nics, files, [NAT, VMS.format(vlan=vlan)])
    capture = tmp_path / "capture"
    capture_into(root, env, ovsdb, capture)
    return capture


def not_imported(stderr: str) -> list[tuple[str, str]]:
    """(file:line:column, what) of each "not imported" warning."""
    found = []
    for line in stderr.splitlines():
        where, marker, what = line.partition(": warning: not imported: ")
        if marker:
            found.append((where, what))
    return found


def test_a_host_built_by_hand_is_imported_and_what_no_design_says_is_listed(
    ovsdb: Ovsdb, tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    build_by_hand(ovsdb)
    capture = capture_host(ovsdb, tmp_path, "kvm-9", "10.1.0.19")
    out = tmp_path / "design.yaml"
    result = invoke("import", str(capture), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    warnings = not_imported(result.stderr)
    assert sorted(what for _where, what in warnings) == sorted([
        "bridge br-int: no uplink NIC (a design's bridge needs one)",
        "bridge br-int: its controller",
        "bridge br0: STP true",
        "port bond0: bond_updelay 100",
        "port bond0: other_config 'bond-detect-mode'",
        "interface eth2: ingress policing rate 1000",
        "port to-br0 on br-int: a patch port (peer 'x')",
        "port vnet0 on br0: a VM's port ('vm-7'); VM ports belong to their VMs",
        "port vx0 on br0: a vxlan tunnel port",
        "network default: forward mode nat (not bridge on Open vSwitch)",
    ])  # fmt: skip
    for where, what in warnings:
        _points_at_its_row(where, what)
    assert out.read_text() == snapshot
    design = validate_file(out)
    assert [node.name for node in design.design.nodes] == ["kvm-9"]
    # What it would change on the host: only what ovsgen's scripts always set, never a VM's port.
    also = result.stderr.split(
        "every host: a plan from its capture would also (what ovsgen always sets or writes):\n", 1
    )[1]
    changes = [line.removeprefix("ovsgen:   ") for line in also.splitlines() if line.startswith("ovsgen:   ")]
    assert changes == [
        "bridge br0 marked as built by ovsgen (external_ids:managed-by)",
        "br0 host port: MTU default -> 1500",
        "network-scripts/ifcfg-bond0: missing on the host",  # the host's own files, written by hand
        "network-scripts/ifcfg-br0: NETMASK=255.255.255.0 removed",  # the same address, said as a prefix
        "network-scripts/ifcfg-br0: ONBOOT=yes added",
        "network-scripts/ifcfg-br0: NM_CONTROLLED=no added",
        "network-scripts/ifcfg-br0: HOTPLUG=no added",
        "network-scripts/ifcfg-br0: PREFIX=24 added",
        "network-scripts/ifcfg-br0: MTU=1500 added",
        "network-scripts/ifcfg-br0: OVS_EXTRA=set Bridge br0 external_ids:managed-by=ovsgen -- "
        "set Interface br0 mtu_request=1500 added",
        "network-scripts/ifcfg-eth2: missing on the host",
        "network-scripts/ifcfg-eth3: missing on the host",
        "network-scripts/ifcfg-mgmt0: OVS_OPTIONS=tag=20 added",
        "network-scripts/ifcfg-mgmt0: ONBOOT=yes added",
        "network-scripts/ifcfg-mgmt0: NM_CONTROLLED=no added",
        "network-scripts/ifcfg-mgmt0: HOTPLUG=no added",
    ]
    # Its warnings are where the written design has what they are about.
    lines = out.read_text().splitlines()
    for where in (line.split(": warning: ")[0] for line in result.stderr.splitlines() if line.startswith(str(out))):
        number, column = map(int, where.rsplit(":", 2)[1:])
        assert lines[number - 1][column - 1 :].startswith("eth"), (where, lines[number - 1])
    # drift of the host against the design: what it has set by hand on the design's objects is apart
    drift = invoke("drift", str(out), str(capture))
    apart = [line for line in drift.stdout.splitlines() if "(set on the host; no design says it)" in line]
    assert apart == [
        "  apart: bridge br0: STP true (set on the host; no design says it)",
        "  apart: port bond0: bond_updelay 100 (set on the host; no design says it)",
        "  apart: port bond0: other_config 'bond-detect-mode' (set on the host; no design says it)",
        "  apart: interface eth2: ingress policing rate 1000 (set on the host; no design says it)",
    ]


def _points_at_its_row(where: str, what: str) -> None:
    """A warning about a row of the dump is at that row: the name it is about is in it."""
    file, line, column = where.rsplit(":", 2)
    if not file.endswith("ovsdb.json"):
        assert file.endswith(".xml"), where
        return
    text = Path(file).read_text().splitlines()[int(line) - 1][int(column) - 1 :]
    row = json.JSONDecoder().raw_decode(text)[0]
    named = what.split(":", 1)[0].split()[1]  # "port vx0 on br0" -> vx0
    assert named in json.dumps(row), (where, what)


def test_hosts_that_disagree_are_named_where_they_differ(
    ovsdb: Ovsdb, tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    for index, name in enumerate(["kvm-1", "kvm-2", "kvm-3"], start=1):
        vlan = 33 if name == "kvm-3" else 20
        build_by_hand(ovsdb, vlan=vlan, extras=False)
        capture = capture_host(ovsdb, tmp_path, name, f"10.1.0.{10 + index}", vlan=vlan)
    out = tmp_path / "design.yaml"
    result = invoke("import", str(capture), "-o", str(out), "--name", "lab")
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert text == snapshot
    assert "# kvm-3: VLAN 33 on br0\n" in text  # above the internal port the other two share
    report = result.stderr.split("kvm-3: differs from the imported design; a plan from its capture would:\n", 1)
    assert len(report) == 2, result.stderr
    assert "kvm-1: differs" not in result.stderr
    assert "kvm-2: differs" not in result.stderr
    assert report[1].splitlines()[:2] == ["ovsgen:   mgmt0: VLAN 33 -> 20", "ovsgen:   libvirt/vms: VLAN 33 -> 20"]
    strict = invoke("import", str(capture), "-o", str(out), "--strict")
    assert strict.exit_code == 1
    assert "ovsgen: --strict: exit 1: 3 warning(s) above, 1 host(s) differ" in strict.stderr.splitlines()


def test_the_imported_design_rebuilds_a_hand_built_host(ovsdb: Ovsdb, tmp_path: Path) -> None:
    """Hand-built without extras: the design's apply.sh on an empty database gives the same rows,
    apart from what apply.sh always sets (the host interface's MTU, the bridge's mark)."""
    build_by_hand(ovsdb, extras=False)
    by_hand = rows_without_ids(ovsdb)
    capture = capture_host(ovsdb, tmp_path, "kvm-9", "10.1.0.19")
    out = tmp_path / "design.yaml"
    assert invoke("import", str(capture), "-o", str(out)).exit_code == 0
    from tests.support.fleet import apply_node

    apply_node(validate_file(out), "kvm-9", ovsdb, tmp_path)
    rebuilt = rows_without_ids(ovsdb)
    assert rebuilt.keys() == by_hand.keys()
    changed = {
        key: {column for column in rebuilt[key] if rebuilt[key][column] != by_hand[key][column]} for key in rebuilt
    }
    assert {key: columns for key, columns in changed.items() if columns} == {("Interface", "br0"): {"mtu_request"}}


def test_no_host_in_the_capture_is_refused(tmp_path: Path) -> None:
    (tmp_path / "capture").mkdir()
    result = invoke("import", str(tmp_path / "capture"), "-o", str(tmp_path / "d.yaml"))
    assert result.exit_code == 1
    assert "no host folder with an ovsdb.json" in result.stderr
    assert not (tmp_path / "d.yaml").exists()


def test_a_design_import_did_not_write_is_never_replaced(ovsdb: Ovsdb, tmp_path: Path) -> None:
    build_by_hand(ovsdb, extras=False)
    capture = capture_host(ovsdb, tmp_path, "kvm-9", "10.1.0.19")
    mine = tmp_path / "design.yaml"
    mine.write_text("version: 1\n")
    result = invoke("import", str(capture), "-o", str(mine))
    assert result.exit_code == 1
    assert "was not written by `ovsgen import`" in result.stderr
    assert mine.read_text() == "version: 1\n"
    again = tmp_path / "again.yaml"
    assert invoke("import", str(capture), "-o", str(again)).exit_code == 0
    assert invoke("import", str(capture), "-o", str(again)).exit_code == 0  # its own file: replaced
    to_stdout = invoke("import", str(capture), "-o", "-")
    assert to_stdout.exit_code == 0
    assert to_stdout.stdout == again.read_text()
    reviewed = again.read_text().replace("  - name: kvm-9\n", "  - name: kvm-9  # rack 4\n")
    again.write_text(reviewed)  # a review's edit, import's first and last lines kept
    refused = invoke("import", str(capture), "-o", str(again))
    assert refused.exit_code == 1
    assert f"ovsgen: -o {again}: changed since `ovsgen import` wrote it" in refused.stderr
    assert again.read_text() == reviewed
