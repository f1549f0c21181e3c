"""One node of a drafted design: the host's NIC inventory, its address and gateway, its backends,
and the addresses of its internal ports, from its capture.

The inventory holds the NICs whose speed the design language has; a bridge's member whose speed
the kernel does not give (a link that is down) takes the speed of the bridge's other members. A
NIC keeps its MAC unless the host's own file for it pins none: the rendered file then equals the
host's.
"""

from __future__ import annotations

from typing import Any

from generator.adopt.capture_folder import NICS, CapturedHost
from generator.adopt.design_text import Flow
from generator.adopt.drafting import UNKNOWN, Draft
from generator.adopt.host_view import HostView
from generator.design.resolve import natural_key


def node_entry(view: HostView, index: int, backends: tuple[str, ...], draft: Draft) -> dict[str, Any]:
    host = view.host
    path = ("nodes", index)
    entry: dict[str, Any] = {"name": host.name, "nics": _inventory(view, draft, path)}
    entry["address"] = _address(view, draft.document["host"]["bridge"], draft, (*path, "address"))
    gateway = _gateway(host, draft.document["host"])
    if gateway:
        entry["gateway"] = gateway
    if host.backends and host.backends != backends:
        entry["backends"] = list(host.backends)
    ports = {
        port["name"]: _address(view, port["name"], draft, (*path, "ports"))  # a one-line mapping: comments go above it
        for port in draft.document.get("internal_ports", ())
    }
    if ports:
        entry["ports"] = Flow(ports)
    if host.hostname and host.hostname.split(".")[0] != host.name:
        draft.comment(path, f"its capture says the host is called {host.hostname}")
    return entry


def _address(view: HostView, interface: str, draft: Draft, path: tuple[str | int, ...]) -> str:
    found = view.host.file_of(interface)
    if found is not None and found.address:
        return found.address
    draft.comment(path, f"not captured: no ifcfg file or keyfile of {view.host.name} gives {interface}'s address")
    message = f"no network file gives {interface}'s address: written as {UNKNOWN}, fill it in"
    draft.notes.append(view.rows.at("Interface", interface, message))
    return draft.unknown()


def _gateway(host: CapturedHost, shared: dict[str, Any]) -> str:
    """The node's gateway where it is not the design's (a node cannot be without the shared one)."""
    found = host.file_of(shared["bridge"])
    gateway = found.gateway if found is not None else ""
    return gateway if gateway and gateway != shared.get("gateway") else ""


def _inventory(view: HostView, draft: Draft, path: tuple[str | int, ...]) -> dict[str, Any]:
    host = view.host
    members = _members(view, draft.document["bridges"])
    nics: dict[str, Any] = {}
    for nic in host.nics:
        speed = nic.speed or members.get(nic.name)
        if speed is None:
            why = f"speed {nic.megabits} Mb/s" if nic.megabits not in ("", "-", "-1") else "speed unknown (link down?)"
            draft.notes.append(host.warning(NICS, nic.line, f"not imported: NIC {nic.name}: {why}, on no bridge"))
            continue
        nics[nic.name] = _nic(host, nic.name, speed, nic.mac)
    for name, speed in members.items():
        if name not in nics:  # a member the capture has no NIC line for
            draft.comment((*path, "nics"), f"not captured: NIC {name} (on a bridge) is not in {NICS}")
            nics[name] = speed or draft.unknown()
    ordered = {name: nics[name] for name in sorted(nics, key=natural_key)}
    if all(isinstance(value, str) for value in ordered.values()):
        return Flow(ordered)
    return ordered


def _nic(host: CapturedHost, name: str, speed: str, mac: str) -> Any:
    found = host.file_of(name)
    pinned = found.mac if found is not None else mac
    return Flow({"speed": speed, "mac": pinned}) if pinned else speed


def _members(view: HostView, bridges: dict[str, Any]) -> dict[str, str | None]:
    """Each NIC of an imported bridge on this host, with the speed its bridge's NICs have."""
    found: dict[str, str | None] = {}
    for name in bridges:
        uplink = view.bridges[name].uplink if name in view.bridges else None
        if uplink is None:
            continue
        speeds = [nic.speed for nic in map(view.host.nic, uplink.members) if nic is not None and nic.speed]
        for member in uplink.members:
            found[member] = speeds[0] if speeds else None
    return found
