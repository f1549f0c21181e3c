"""Fake hosts for capture, import and drift: a node's database built by its own apply.sh in a
private ovsdb-server, a fake root (sysfs NICs, the node's ifcfg files or keyfiles, a hostname
command), libvirt's test driver holding the node's networks, and the real capture script run on
it by dash, its archive unpacked as an operator would (CAPTURE/<host>/)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from generator.design.validate import ValidDesign
from generator.render.capture import capture_script
from generator.render.kinds import render_design
from tests.conftest import require_tool, run
from tests.support.ovsdb import Ovsdb

MEGABITS = {"1G": "1000", "10G": "10000", "25G": "25000", "40G": "40000", "50G": "50000", "100G": "100000"}


def empty(ovsdb: Ovsdb) -> None:
    """Every bridge gone: the database as a fresh host has it."""
    for bridge in ovsdb.vsctl("list-br").split():
        ovsdb.vsctl("del-br", bridge)


def apply_node(valid: ValidDesign, node: str, ovsdb: Ovsdb, folder: Path) -> None:
    """The node's ovs/apply.sh --apply on an emptied database."""
    empty(ovsdb)
    script = folder / f"apply-{node}.sh"
    script.write_text(next(f.text for f in render_design(valid, [node], ["ovs"]) if f.name == "apply.sh"))
    result = run(
        ["bash", str(script), "--apply", "--skip-nic-check"], env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command}
    )
    assert result.returncode == 0, result.stderr


def rows_without_ids(ovsdb: Ovsdb) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row, uuids resolved to names, external_ids left out (the comparison import promises)."""
    return {
        key: {column: value for column, value in row.items() if column != "external_ids"}
        for key, row in ovsdb.rows().items()
    }


def mac_of(node: str, nic: str) -> str:
    """A stable, locally administered MAC for a NIC the design gives none."""
    digest = hashlib.sha256(f"{node}/{nic}".encode()).digest()
    return "02:" + ":".join(f"{byte:02x}" for byte in digest[:5])


def fake_root(root: Path, valid: ValidDesign, node: str, speeds: dict[str, str] | None = None) -> dict[str, str]:
    """The node's NICs (sysfs), network files and libvirt networks under `root`; the capture's env."""
    spec = next(item for item in valid.design.nodes if item.name == node)
    nics = {
        nic.name: ((nic.mac or mac_of(node, nic.name)).lower(), (speeds or {}).get(nic.name, MEGABITS[nic.speed]))
        for nic in spec.nics
    }
    files: dict[str, str] = {}
    for file in render_design(valid, [node], ["ifcfg", "networkmanager"]):
        if "/network-scripts/" in file.path:
            files[f"network-scripts/{file.name}"] = file.text
        elif file.name.endswith(".nmconnection"):
            files[f"NetworkManager/{file.name}"] = file.text
    return host_root(root, node, nics, files, design_networks(valid, node))


def host_root(
    root: Path, name: str, nics: dict[str, tuple[str, str]], files: dict[str, str], networks: list[str]
) -> dict[str, str]:
    """A fake host under `root`: NICs (name: MAC, speed in Mb/s), files (`network-scripts/NAME` or
    `NetworkManager/NAME`), libvirt networks (XML) in a test-driver node; the capture's env."""
    net = root / "sys" / "class" / "net"
    for nic, (mac, speed) in nics.items():
        (net / nic / "device").mkdir(parents=True)
        (net / nic / "address").write_text(mac + "\n")
        (net / nic / "speed").write_text(speed + "\n")
    scripts = root / "etc" / "sysconfig" / "network-scripts"
    keyfiles = root / "etc" / "NetworkManager" / "system-connections"
    scripts.mkdir(parents=True)
    keyfiles.mkdir(parents=True)
    for path, text in files.items():
        folder, file = path.split("/")
        (scripts if folder == "network-scripts" else keyfiles).joinpath(file).write_text(text)
    virsh = virsh_holding(root, networks)
    bin_folder = root / "bin"
    bin_folder.mkdir()
    (bin_folder / "hostname").write_text(f"#!/bin/sh\necho {name}\n")
    (bin_folder / "hostname").chmod(0o755)
    return {
        "SYSFS_NET": str(net),
        "NETWORK_SCRIPTS": str(scripts),
        "NM_KEYFILE_DIR": str(keyfiles),
        "VIRSH": virsh,
        "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
    }


def virsh_holding(root: Path, networks: list[str]) -> str:
    """VIRSH for libvirt's test driver holding these networks (XML), whose net-dumpxml is libvirt's own."""
    node = root / "libvirt-node.xml"
    node.write_text("<node>\n" + "".join(networks) + "</node>\n")
    return f"{require_tool('virsh')} -c test://{node}"


def design_networks(valid: ValidDesign, node: str) -> list[str]:
    """The node's rendered libvirt networks, without their header comment."""
    rendered = render_design(valid, [node], ["libvirt"])
    return [file.text.split("\n", 1)[1] for file in rendered if file.name.endswith(".xml")]


def capture_into(root: Path, env: dict[str, str], ovsdb: Ovsdb, capture: Path) -> subprocess.CompletedProcess[str]:
    """The capture script run by dash on the fake root against the database, unpacked into `capture`."""
    script = root / "capture.sh"
    script.write_text(capture_script())
    (root / "tmp").mkdir(exist_ok=True)
    full = {**os.environ, **env, "TMPDIR": str(root / "tmp"), "OVSDB_SERVER": f"unix:{ovsdb.socket}"}
    result = run([require_tool("dash"), str(script)], env=full, cwd=str(root))
    assert result.returncode == 0, result.stderr
    with tarfile.open(result.stdout.strip()) as packed:
        members = packed.getmembers()
        assert all((member.isfile() or member.isdir()) and ".." not in member.name for member in members)
        if hasattr(tarfile, "data_filter"):
            packed.extractall(capture, members, filter="data")
        else:  # Debian 12's Python 3.11.2: every member checked above
            packed.extractall(capture, members)
    return result


def capture_design(valid: ValidDesign, ovsdb: Ovsdb, folder: Path) -> tuple[Path, dict[str, Any]]:
    """Every node built by its apply.sh and captured: the capture folder, and each node's rows."""
    capture = folder / "capture"
    rows = {}
    for node in valid.design.nodes:
        apply_node(valid, node.name, ovsdb, folder)
        rows[node.name] = rows_without_ids(ovsdb)
        root = folder / "roots" / node.name
        capture_into(root, fake_root(root, valid, node.name), ovsdb, capture)
    return capture, rows
