"""Drift: each captured host (`ovsgen capture-script`, unpacked as CAPTURE/<host>/) compared with its
node in a design.

The Open vSwitch side is the plan from the host's dump to the design (plan_from_host, never
pruning): each of its changes, worded host -> design, is a difference, and what it leaves alone
(VM ports, bridges and ports the design does not mention) is listed apart. The host network
files (ifcfg files, NetworkManager keyfiles) are compared with the node's rendered ones without
their header comment, and libvirt networks by what a design says of them (generator.adopt.
libvirt_networks: the uuid and MAC libvirt adds are not differences). A host is matched to a node
by its folder's name.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.adopt.capture_folder import (
    IFCFG_FOLDER,
    KEYFILE_FOLDER,
    LIBVIRT_FOLDER,
    CapturedHost,
    captured_hosts,
    load_host,
)
from generator.adopt.libvirt_networks import read_network
from generator.changes.node_changes import plan_from_host, without_header
from generator.design.validate import ValidDesign
from generator.render.kinds import OutputFile, render_design
from generator.speed.collector import collector_paused
from generator.speed.pool import fork_map

MATCHES, DRIFTED, NOT_CAPTURED, UNKNOWN_HOST = "matches", "drifted", "not captured", "not in the design"
# Where a capture holds each kind of host file (capture.sh.j2), and how their names start.
_HOST_FILES = (
    ("ifcfg", IFCFG_FOLDER, "ifcfg-"),
    ("networkmanager", KEYFILE_FOLDER, ""),
)
_COMPARED = ("ifcfg", "networkmanager", "libvirt")


@dataclass(frozen=True)
class HostDrift:
    """One host against its node: what differs (host -> design) and what the design does not mention."""

    node: str
    status: str  # MATCHES, DRIFTED, NOT_CAPTURED or UNKNOWN_HOST
    differences: tuple[str, ...] = ()
    apart: tuple[str, ...] = ()  # VM ports and objects the design does not mention


@dataclass(frozen=True)
class DriftReport:
    design: str
    hosts: tuple[HostDrift, ...]

    def drifted(self, *, strict: bool) -> bool:
        """Whether any host differs from the design (with `strict`, also by what it has apart)."""
        return any(host.status != MATCHES or (strict and host.apart) for host in self.hosts)


def design_drift(
    valid: ValidDesign, capture: Path, nodes: Sequence[str] = (), shown: str = "", *, jobs: int = 1
) -> DriftReport:
    """Every node of the design (or of `nodes`) against its capture, then the captured hosts
    the design lacks. A large fleet's hosts are read and compared in `jobs` processes."""
    hosts = captured_hosts(capture)
    names = [node.name for node in valid.design.nodes if not nodes or node.name in nodes]
    compare = functools.partial(_captured_drifts, valid, hosts, shown or str(capture))
    with collector_paused():  # many small objects, no cycles: see generator.adopt.importer
        found: list[HostDrift] = list(fork_map(names, compare, tuple, jobs=jobs, role="drift"))
    known = {node.name for node in valid.design.nodes}
    found += [HostDrift(name, UNKNOWN_HOST) for name in hosts if name not in known and not nodes]
    return DriftReport(valid.design.name, tuple(found))


def _captured_drifts(
    valid: ValidDesign, hosts: dict[str, Path], shown: str, names: Sequence[str]
) -> Iterator[HostDrift]:
    for name in names:
        yield (
            host_drift(valid, load_host(hosts[name], f"{shown}/{name}"))
            if name in hosts
            else HostDrift(name, NOT_CAPTURED)
        )


def host_drift(valid: ValidDesign, host: CapturedHost) -> HostDrift:
    """The captured host against the design's node of its name."""
    node = host.name
    change = plan_from_host(host.state, valid, node, prune=False)
    differences = [item.text for item in change.ovs.changes]
    apart = list(change.ovs.left_alone)
    rendered = render_design(valid, [node], _COMPARED)  # once: a fleet's hosts are compared one by one
    for kind, captured_folder, prefix in _HOST_FILES:
        want = {file.name: file.text for file in rendered if _host_file(file.path, kind)}
        found, extra = _file_drift(want, host.path / captured_folder, prefix)
        differences += [f"{captured_folder}/{line}" for line in found]
        apart += [f"{captured_folder}/{name} (not in the design)" for name in extra]
    found, extra = _network_drift([file for file in rendered if _network_file(file.path)], host)
    differences += found
    apart += extra
    status = DRIFTED if differences else MATCHES
    return HostDrift(node, status, tuple(differences), tuple(apart))


def _network_drift(rendered: Sequence[OutputFile], host: CapturedHost) -> tuple[list[str], list[str]]:
    """The node's libvirt networks (their rendered XML) against the host's: (differences, networks
    only the host has). A capture virsh did not answer has no networks to compare: said apart, never drift."""
    if not host.libvirt:
        return [], [f"{LIBVIRT_FOLDER}/ not captured (virsh did not answer)"]
    want = {network.name: network for network in (read_network(file.text.encode()) for file in rendered)}
    have = {network.name: network for network in host.networks}
    differences = []
    for name, network in sorted(want.items()):
        if name not in have:
            differences.append(f"{LIBVIRT_FOLDER}/{name}: network missing on the host")
        elif have[name].design_part != network.design_part:
            differences.append(f"{LIBVIRT_FOLDER}/{name}: network differs from the design's")
    return differences, [
        f"{LIBVIRT_FOLDER}/{name} (network not in the design)" for name in sorted(have) if name not in want
    ]


def _file_drift(want: dict[str, str], captured: Path, prefix: str) -> tuple[list[str], list[str]]:
    """The node's rendered files of a kind (name: text) against the captured ones: (differences,
    files only the host has). A node without that backend has no files of it: the host's are then apart."""
    have = {path.name: path for path in sorted(captured.glob(f"{prefix}*")) if path.is_file()}  # none: no folder
    differences = []
    for name, text in sorted(want.items()):
        if name not in have:
            differences.append(f"{name}: missing on the host")
        elif without_header(have[name].read_text(errors="replace")) != without_header(text):
            differences.append(f"{name}: differs from the design's")
    return differences, [name for name in have if name not in want]


def _host_file(path: str, kind: str) -> bool:
    """A rendered host network file (not a script beside them)."""
    return path.endswith(".nmconnection") if kind == "networkmanager" else "/network-scripts/" in path


def _network_file(path: str) -> bool:
    """A rendered libvirt network (not define.sh beside them)."""
    return f"/{LIBVIRT_FOLDER}/" in path and path.endswith(".xml")
