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
from generator.adopt.host_files import NETWORKMANAGER, read_ifcfg, read_keyfile
from generator.adopt.host_view import HostView, view_host
from generator.adopt.libvirt_networks import network_differences, read_network
from generator.changes.file_change import setting_changes
from generator.changes.node_changes import plan_from_host, without_header
from generator.design.validate import ValidDesign
from generator.diagnostics import Diagnostic
from generator.errors import DumpInvalid
from generator.ovs.state import node_state
from generator.render.kinds import OutputFile, render_design
from generator.speed.collector import collector_paused
from generator.speed.pool import fork_map

MATCHES, DRIFTED, NOT_CAPTURED, UNKNOWN_HOST = "matches", "drifted", "not captured", "not in the design"
UNREADABLE = "capture not readable"  # its dump: the other hosts are still compared
# Where a capture holds each kind of host file (capture.sh.j2), and how their names start.
_HOST_FILES = (
    ("ifcfg", IFCFG_FOLDER, "ifcfg-"),
    ("networkmanager", KEYFILE_FOLDER, ""),
)
_COMPARED = ("ifcfg", "networkmanager", "libvirt")
_ROLE = "drift"  # names the workers in an error (generator.speed.pool)


@dataclass(frozen=True)
class HostDrift:
    """One host against its node: what differs (host -> design) and what the design does not mention."""

    node: str
    status: str  # MATCHES, DRIFTED, NOT_CAPTURED, UNREADABLE or UNKNOWN_HOST
    differences: tuple[str, ...] = ()
    apart: tuple[str, ...] = ()  # VM ports and objects the design does not mention


@dataclass(frozen=True)
class DriftReport:
    design: str
    hosts: tuple[HostDrift, ...]

    def drifted(self, *, strict: bool) -> bool:
        """Whether any node's host differs from the design, or was not captured or read (with
        `strict`, also by what it has apart, and when the capture has hosts the design lacks)."""
        if strict:
            return any(host.status != MATCHES or host.apart for host in self.hosts)
        return any(host.status not in (MATCHES, UNKNOWN_HOST) for host in self.hosts)


def design_drift(
    valid: ValidDesign, capture: Path, nodes: Sequence[str] = (), shown: str = "", *, jobs: int = 1
) -> DriftReport:
    """Every node of the design (or of `nodes`) against its capture, then the captured hosts
    the design lacks. A large fleet's hosts are read and compared in `jobs` processes."""
    hosts = captured_hosts(capture)
    names = [node.name for node in valid.design.nodes if not nodes or node.name in nodes]
    compare = functools.partial(_captured_drifts, valid, hosts, shown or str(capture))
    with collector_paused():  # many small objects, no cycles: see generator.adopt.importer
        found: list[HostDrift] = list(fork_map(names, compare, tuple, jobs=jobs, role=_ROLE))
    known = {node.name for node in valid.design.nodes}
    found += [HostDrift(name, UNKNOWN_HOST) for name in hosts if name not in known and not nodes]
    return DriftReport(valid.design.name, tuple(found))


def _captured_drifts(
    valid: ValidDesign, hosts: dict[str, Path], shown: str, names: Sequence[str]
) -> Iterator[HostDrift]:
    for name in names:
        if name not in hosts:
            yield HostDrift(name, NOT_CAPTURED)
            continue
        try:
            host = load_host(hosts[name], f"{shown}/{name}")
        except DumpInvalid as error:
            yield HostDrift(name, UNREADABLE, tuple(_located(problem) for problem in error.diagnostics))
        else:
            yield host_drift(valid, view_host(host))


def _located(problem: Diagnostic) -> str:
    return f"{problem.file}:{problem.line}:{problem.column}: {problem.message}"


def host_drift(valid: ValidDesign, view: HostView) -> HostDrift:
    """The captured host (as view_host sees it) against the design's node of its name."""
    host = view.host
    node = host.name
    change = plan_from_host(host.state, valid, node, prune=False)
    differences = [item.text for item in change.ovs.changes]
    apart = list(change.ovs.left_alone)
    rendered = render_design(valid, [node], _COMPARED)  # once: a fleet's hosts are compared one by one
    unread = {problem.file.rpartition("/")[2] for problem in host.problems}  # said as they are
    for kind, captured_folder, prefix in _HOST_FILES:
        want = {file.name: file.text for file in rendered if _host_file(file.path, kind)}
        found, extra = _file_drift(want, host.path / captured_folder, prefix, kind, unread)
        differences += [f"{captured_folder}/{line}" for line in found]
        apart += [f"{captured_folder}/{line}" for line in extra]
    found, extra = _network_drift([file for file in rendered if _network_file(file.path)], host, unread)
    differences += found
    apart += extra + _hand_settings(valid, view)
    differences += _unread_files(host)
    status = DRIFTED if differences else MATCHES
    return HostDrift(node, status, tuple(differences), tuple(apart))


def _unread_files(host: CapturedHost) -> list[str]:
    """The host network files and networks the capture has but could not be read: drift cannot say
    they match. (What drift does not compare, such as nics.tsv, is import's concern.)"""
    compared = tuple(f"{host.folder}/{folder}/" for folder in (IFCFG_FOLDER, KEYFILE_FOLDER, LIBVIRT_FOLDER))
    return [_located(problem) for problem in host.problems if problem.file.startswith(compared)]


def _hand_settings(valid: ValidDesign, view: HostView) -> list[str]:
    """What the host has set on the design's own bridges, ports and interfaces that no design says
    (STP, fail_mode, bond_updelay, options): plans keep it, import does not take it. Apart, so that
    `--strict` can count it."""
    layout = valid.layout(view.host.name)
    if layout is None:
        return []
    want = node_state(valid.design, layout)
    names = {
        "Bridge": set(want.bridges),
        "Port": {port.name for port in want.ports},
        "Interface": {interface.name for interface in want.interfaces},
    }
    said = view.rows.said
    return [f"{what} (set on the host; no design says it)" for table, name, what in said if name in names[table]]


def _network_drift(rendered: Sequence[OutputFile], host: CapturedHost, unread: set[str]) -> tuple[list[str], list[str]]:
    """The node's libvirt networks (their rendered XML) against the host's: (differences, networks
    only the host has); those whose file is in `unread` are said as they are (_unread_files). A
    capture virsh did not answer has no networks to compare: said apart, never drift."""
    if not host.libvirt:
        return [], [f"{LIBVIRT_FOLDER}/ not captured (virsh did not answer)"]
    want = {network.name: network for network in (read_network(file.text.encode()) for file in rendered)}
    have = {network.name: network for network in host.networks}
    differences = []
    for name, network in sorted(want.items()):
        if f"{name}.xml" in unread:
            continue
        if name not in have:
            differences.append(f"{LIBVIRT_FOLDER}/{name}: network missing on the host")
        elif have[name].design_part != network.design_part:
            words = network_differences(have[name], network) or ["differs from the design's"]
            differences += [f"{LIBVIRT_FOLDER}/{name}: {word}" for word in words]
    return differences, [
        f"{LIBVIRT_FOLDER}/{name} (network not in the design)" for name in sorted(have) if name not in want
    ]


def _file_drift(
    want: dict[str, str], captured: Path, prefix: str, backend: str, unread: set[str]
) -> tuple[list[str], list[str]]:
    """The node's rendered files of a backend (name: text) against the captured ones: (differences,
    what is apart: files only the host has, and files whose settings are the design's but written
    otherwise). A node without that backend has no files of it: the host's are then apart."""
    have = {path.name: path for path in sorted(captured.glob(f"{prefix}*")) if path.is_file()}  # none: no folder
    differences, apart = [], []
    for name, text in sorted(want.items()):
        if name in unread:  # the capture could not read it: said as it is (_unread_files)
            continue
        if name not in have:
            differences.append(f"{name}: missing on the host")
            continue
        host_text = have[name].read_text(errors="replace")
        if without_header(host_text) == without_header(text):
            continue
        words = setting_changes(_settings(host_text, backend), _settings(text, backend))
        if words:
            differences += [f"{name}: {word}" for word in words]  # one each: what every host shares is said once
        else:
            apart.append(f"{name} (the design's settings, written otherwise: comments, order or quoting)")
    extra = [name for name in have if name not in want and name not in unread]
    return differences, apart + [f"{name} (not in the design)" for name in extra]


def _settings(text: str, backend: str) -> dict[str, str]:
    """A host network file's settings as the shell or NetworkManager reads them."""
    read = read_keyfile if backend == NETWORKMANAGER else read_ifcfg
    return {key: value.text for key, value in read(text).settings.items()}


def _host_file(path: str, kind: str) -> bool:
    """A rendered host network file (not a script beside them)."""
    return path.endswith(".nmconnection") if kind == "networkmanager" else "/network-scripts/" in path


def _network_file(path: str) -> bool:
    """A rendered libvirt network (not define.sh beside them)."""
    return f"/{LIBVIRT_FOLDER}/" in path and path.endswith(".xml")
