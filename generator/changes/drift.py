"""Drift: each captured host (`ovsgen capture-script`, unpacked as CAPTURE/<host>/) compared with its
node in a design.

The Open vSwitch side is the plan from the host's dump to the design (plan_from_host, never
pruning): each of its changes, worded host -> design, is a difference, and what it leaves alone
(VM ports, bridges and ports the design does not mention) is listed apart. The host network
files (ifcfg files, NetworkManager keyfiles) are compared with the node's rendered ones without
their header comment. A host is matched to a node by its folder's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.changes.node_changes import plan_from_host, without_header
from generator.design.validate import ValidDesign
from generator.ovs.hostdump import load_dump
from generator.render.kinds import render_design

DUMP = "ovsdb.json"
MATCHES, DRIFTED, NOT_CAPTURED, UNKNOWN_HOST = "matches", "drifted", "not captured", "not in the design"
# Where a capture holds each kind of host file (capture.sh.j2), and how their names start.
_HOST_FILES = (
    ("ifcfg", "network-scripts", "ifcfg-"),
    ("networkmanager", "NetworkManager/system-connections", ""),
)


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


def captured_hosts(capture: Path) -> dict[str, Path]:
    """The host folders of a capture folder: those holding a database dump, by name."""
    return {path.name: path for path in sorted(capture.iterdir()) if (path / DUMP).is_file()}


def design_drift(valid: ValidDesign, capture: Path, nodes: Sequence[str] = ()) -> DriftReport:
    """Every node of the design (or of `nodes`) against its capture, then the captured hosts
    the design lacks."""
    hosts = captured_hosts(capture)
    names = [node.name for node in valid.design.nodes if not nodes or node.name in nodes]
    found = [host_drift(valid, name, hosts[name]) if name in hosts else HostDrift(name, NOT_CAPTURED) for name in names]
    known = {node.name for node in valid.design.nodes}
    found += [HostDrift(name, UNKNOWN_HOST) for name in hosts if name not in known and not nodes]
    return DriftReport(valid.design.name, tuple(found))


def host_drift(valid: ValidDesign, node: str, folder: Path) -> HostDrift:
    host = load_dump(folder / DUMP)
    change = plan_from_host(host, valid, node, prune=False)
    differences = [item.text for item in change.ovs.changes]
    apart = list(change.ovs.left_alone)
    for kind, captured_folder, prefix in _HOST_FILES:
        found, extra = _file_drift(valid, node, kind, folder / captured_folder, prefix)
        differences += [f"{captured_folder}/{line}" for line in found]
        apart += [f"{captured_folder}/{name} (not in the design)" for name in extra]
    status = DRIFTED if differences else MATCHES
    return HostDrift(node, status, tuple(differences), tuple(apart))


def _file_drift(valid: ValidDesign, node: str, kind: str, captured: Path, prefix: str) -> tuple[list[str], list[str]]:
    """The node's rendered files of `kind` against the captured ones: (differences, files only the
    host has). A node without that backend has no files of it: the host's are then apart."""
    want = {file.name: file.text for file in render_design(valid, [node], [kind]) if _host_file(file.path, kind)}
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
