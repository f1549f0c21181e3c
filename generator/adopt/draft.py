"""The design drafted from every host's view: what the hosts share (bridges, uplinks, host VLAN
and MTU, internal ports, libvirt networks) is what most of them have, each host that differs named
in a comment above it; per node, what is the node's own (NICs, addresses, gateway, backends).

A shared part most hosts lack is left out and reported at each host that has it. A value no
capture gives (a host address without a network file) is written as UNKNOWN, which the design's
validation refuses until someone fills it in: a guess would reach production unnoticed.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from typing import Any

from generator.adopt.capture_folder import LIBVIRT_FOLDER, CapturedHost
from generator.adopt.drafting import Draft, Shared, is_shared, shared
from generator.adopt.host_view import HostView, UplinkView
from generator.adopt.libvirt_networks import ISOLATED, OVS, CapturedNetwork, Portgroup
from generator.adopt.node_draft import node_entry
from generator.design.resolve import natural_key

_DEFAULT_HOST_MTU = 1500


def draft_design(views: Sequence[HostView], name: str, named: frozenset[str]) -> Draft:
    """The design of `views` (hosts in name order); bridges in `named` list their NICs by name."""
    draft = Draft({"version": 1, "name": name})
    bridges = _bridges(views, draft)
    host_bridge = _host_bridge(views, bridges, draft)
    draft.document["host"] = _host(views, host_bridge, draft)
    draft.document["bridges"] = {bridge: _bridge(views, bridge, named, draft) for bridge in bridges}
    ports = _internal_ports(views, bridges, draft)
    if ports:
        draft.document["internal_ports"] = ports
    _networks(views, bridges, draft)
    backends = shared([(view.host.name, view.host.backends or ("ifcfg",)) for view in views], _backend_words)
    if backends.value != ("ifcfg",):
        draft.document["backends"] = list(backends.value)
    draft.document["nodes"] = [node_entry(view, index, backends.value, draft) for index, view in enumerate(views)]
    return draft


def _backend_words(backends: tuple[str, ...]) -> str:
    return "[" + ", ".join(backends) + "]"


def _bridges(views: Sequence[HostView], draft: Draft) -> list[str]:
    """The bridges most hosts have and that have an uplink somewhere, in name order."""
    counts = Counter(name for view in views for name in view.bridges)
    kept = []
    for name in sorted(counts, key=natural_key):
        with_uplink = [view for view in views if name in view.bridges and view.bridges[name].uplink is not None]
        if is_shared(counts[name], len(views)) and with_uplink:
            kept.append(name)
            continue
        why = (
            "no uplink NIC (a design's bridge needs one)"
            if not with_uplink
            else f"on {counts[name]} of {len(views)} hosts"
        )
        for view in views:
            if name in view.bridges:
                _note_row(view, draft, "Bridge", name, f"bridge {name}: {why}")
    return kept


def _note_row(view: HostView, draft: Draft, table: str, name: str, message: str) -> None:
    """A located "not imported" warning about a row of the host's dump."""
    draft.notes.append(view.rows.at(table, name, f"not imported: {message}"))


def _host_bridge(views: Sequence[HostView], bridges: Sequence[str], draft: Draft) -> str:
    known = [view.host_bridge for view in views if view.host_bridge in bridges]
    if known:
        return Counter(known).most_common(1)[0][0]  # type: ignore[return-value]
    return bridges[0] if bridges else draft.unknown()


def _host(views: Sequence[HostView], bridge: str, draft: Draft) -> dict[str, Any]:
    path = ("host",)
    host: dict[str, Any] = {"bridge": bridge}
    where = [(view.host.name, view.host_bridge or "no bridge with the host's address") for view in views]
    draft.differs((*path, "bridge"), shared(where, str))
    own = [view for view in views if bridge in view.bridges]
    vlan = shared([(view.host.name, view.bridges[bridge].own_tag) for view in own], _untagged)
    if vlan.value is not None:
        host["vlan"] = vlan.value
    _host_differs(draft, host, "vlan", vlan)
    gateway = shared([(view.host.name, _file(view, bridge, "gateway")) for view in views], _gateway_words)
    if gateway.value:
        host["gateway"] = gateway.value
    _host_differs(draft, host, "gateway", gateway)  # a host with one of its own also has it on its node
    for key, none in (("dns", "no DNS servers"), ("search", "no search domains")):
        found = shared([(view.host.name, _file(view, bridge, key)) for view in views], functools.partial(_list, none))
        if found.value:
            host[key] = list(found.value)
        _host_differs(draft, host, key, found)
    mtu = shared([(view.host.name, view.bridges[bridge].own_mtu) for view in own], _mtu_words)
    if mtu.value not in (None, _DEFAULT_HOST_MTU):
        host["mtu"] = mtu.value
    _host_differs(draft, host, "mtu", mtu)
    return host


def _host_differs(draft: Draft, host: dict[str, Any], key: str, found: Shared) -> None:
    """Each host with another value, above the key; above `host:`, with the key's name, where
    the design leaves the key out (most hosts have none, or the default)."""
    where, label = (("host", key), "") if key in host else (("host",), f"{key} ")
    for name, words in found.others:
        draft.comment(where, f"{name}: {label}{words}")


def _gateway_words(value: str) -> str:
    return value or "no gateway"


def _mtu_words(value: int | None) -> str:
    return str(value) if value else "MTU not set"


def _nothing(_value: object) -> str:
    """Words for a value too big to put in a comment (the import report has the differences)."""
    return ""


def _port_words(value: tuple[str, int | None]) -> str:
    bridge, tag = value
    return f"VLAN {tag} on {bridge}" if tag is not None else f"untagged on {bridge}"


_NO_FILE = {"gateway": "", "dns": (), "search": ()}  # what a host without the interface's file has


def _file(view: HostView, interface: str, key: str) -> Any:
    found = view.host.file_of(interface)
    return getattr(found, key) if found is not None else _NO_FILE[key]


def _list(none: str, value: Sequence[str]) -> str:
    return "[" + ", ".join(value) + "]" if value else none


def _untagged(tag: int | None) -> str:
    return str(tag) if tag is not None else "untagged"


def _bridge(views: Sequence[HostView], name: str, named: frozenset[str], draft: Draft) -> dict[str, Any]:
    having = [view for view in views if name in view.bridges and view.bridges[name].uplink is not None]
    settings = shared([(view.host.name, _uplink(view, name).bond_settings) for view in having], _nothing)
    uplink = next(_uplink(view, name) for view in having if _uplink(view, name).bond_settings == settings.value)
    for view in having:
        if _uplink(view, name).bond_settings != settings.value:
            draft.comment(("bridges", name), f"{view.host.name}: {_uplink_words(_uplink(view, name))}")
    members = shared([(view.host.name, _uplink(view, name).members) for view in having], ", ".join)
    speeds = {speed for view in having for speed in _member_speeds(view.host, _uplink(view, name).members)}
    speed = next(iter(speeds)) if len(speeds) == 1 else None
    # By name where no one speed picks them, or where a selector picked other NICs on some host:
    # the NICs most hosts have, each host with others named above them.
    by_name = speed is None or name in named
    entry: dict[str, Any] = {"uplinks": _uplinks(uplink, speed, members.value if by_name else None)}
    if by_name:
        draft.differs(("bridges", name, "uplinks"), members)
    if uplink.mode and uplink.port != f"{name}-up":
        entry["bond"] = uplink.port
    if uplink.mtu is not None:
        entry["mtu"] = uplink.mtu
    return entry


def _uplink(view: HostView, bridge: str) -> UplinkView:
    found = view.bridges[bridge].uplink
    assert found is not None  # only bridges with an uplink are asked
    return found


def _member_speeds(host: CapturedHost, members: Sequence[str]) -> set[str | None]:
    """The speeds of a bond's members on a host; a member whose speed is unknown (its link is
    down) has its bond's, when the others agree (as node_draft puts it in the inventory)."""
    speeds = {found.speed if (found := host.nic(nic)) is not None else None for nic in members}
    known = speeds - {None}
    return known if len(known) == 1 else speeds


def _uplinks(uplink: UplinkView, speed: str | None, names: Sequence[str] | None) -> Any:
    """Shorthand where it says it all; the long form otherwise."""
    extras: dict[str, Any] = {}
    if uplink.lacp != "off":
        extras["lacp"] = uplink.lacp
        if uplink.lacp_time == "fast":
            extras["lacp_time"] = "fast"
        if uplink.fallback:
            extras["lacp_fallback"] = True
    if uplink.rebalance is not None and uplink.mode != "active-backup":
        extras["rebalance_interval"] = uplink.rebalance
    if uplink.primary is not None:
        extras["primary"] = uplink.primary
    count = len(uplink.members)
    if names is None and speed is not None and not extras:
        return f"{count}x{speed}" + (f" {uplink.mode}" if uplink.mode else "")
    entry: dict[str, Any] = {"nics": list(names)} if names is not None else {"nics": speed, "count": count}
    if (uplink.mode and uplink.mode != "active-backup") or extras:  # extras: a bond's, with a mode
        entry["mode"] = uplink.mode
    return entry | extras


def _uplink_words(uplink: UplinkView) -> str:
    words = [f"{uplink.port}", ", ".join(uplink.members)]
    if uplink.mode:
        words.append(uplink.mode)
    if uplink.lacp != "off":
        words.append(f"lacp {uplink.lacp}")
    for label, value in (("lacp-time", uplink.lacp_time), ("rebalance", uplink.rebalance), ("primary", uplink.primary)):
        if value is not None:
            words.append(f"{label} {value}")
    if uplink.mtu is not None:
        words.append(f"mtu {uplink.mtu}")
    return " ".join(words[:1]) + ": " + "; ".join(words[1:])


def _internal_ports(views: Sequence[HostView], bridges: Sequence[str], draft: Draft) -> list[dict[str, Any]]:
    counts = Counter(name for view in views for name in view.internal)
    ports: list[dict[str, Any]] = []
    for name in sorted(counts, key=natural_key):
        having = [view for view in views if name in view.internal]
        found = shared([(view.host.name, view.internal[name]) for view in having], _port_words)
        bridge, tag = found.value
        if not is_shared(counts[name], len(views)) or bridge not in bridges:
            why = (
                f"on {counts[name]} of {len(views)} hosts"
                if bridge in bridges
                else f"its bridge {bridge} is not imported"
            )
            for view in having:
                _note_row(view, draft, "Port", name, f"internal port {name}: {why}")
            continue
        path = ("internal_ports", len(ports))
        draft.differs(path, found)
        ports.append({"name": name, "bridge": bridge, **({"vlan": tag} if tag is not None else {})})
    return ports


def _networks(views: Sequence[HostView], bridges: Sequence[str], draft: Draft) -> None:
    """The networks most hosts whose libvirt answered the capture have: a host without an answer
    has networks nobody knows, neither for nor against."""
    counts = Counter(network.name for view in views for network in view.host.networks)
    answered = [view for view in views if view.host.libvirt]
    for view in views:
        if not view.host.libvirt:
            draft.notes.append(view.host.warning(LIBVIRT_FOLDER, 1, _NO_LIBVIRT.format(answered=len(answered))))
    kinds: dict[str, list[dict[str, Any]]] = {OVS: [], ISOLATED: []}
    for name in sorted(counts):
        copies = [(view.host.name, network) for view in views if (network := _network(view, name)) is not None]
        having = [view for view in views if _network(view, name) is not None]
        found = shared([(host, network.design_part) for host, network in copies], _network_words)
        network = next(network for _host, network in copies if network.design_part == found.value)
        why = _network_refused(network, bridges, counts[name], len(answered))
        for view in having:
            _network_notes(view, name, why, draft)
        if why:
            continue
        key = "networks" if network.kind == OVS else "internal_networks"
        for host, _words in found.others:
            draft.comment((key, len(kinds[network.kind])), f"{host}: {_words}")
        for view in answered:
            if _network(view, name) is None:
                draft.comment((key, len(kinds[network.kind])), f"{view.host.name}: not on this host")
        kinds[network.kind].append(_network_entry(network))
    for key, kind in (("networks", OVS), ("internal_networks", ISOLATED)):
        if kinds[kind]:
            draft.document[key] = kinds[kind]


_NO_LIBVIRT = (
    "libvirt networks not captured (virsh did not answer): the design's networks are those of the "
    "{answered} host(s) whose libvirt answered"
)


def _network(view: HostView, name: str) -> CapturedNetwork | None:
    return next((network for network in view.host.networks if network.name == name), None)


def _network_words(part: tuple[object, ...]) -> str:
    """A host's own copy of a network in words (CapturedNetwork.design_part)."""
    _name, kind, bridge, vlan, groups, address, unsupported = part
    words = [f"on {bridge}" if kind else "of a kind no design has"]
    if vlan is not None:
        words.append(f"VLAN {vlan}")
    if address:
        words.append(f"address {address}")
    if groups:
        words.append("portgroups " + ", ".join(getattr(group, "name", "") for group in groups))  # type: ignore[attr-defined]
    if unsupported:
        words.append("with more than a design says")
    return ", ".join(words)


def _network_refused(network: CapturedNetwork, bridges: Sequence[str], count: int, hosts: int) -> str:
    if not network.kind:
        return "a kind of network no design has"
    if network.kind == OVS and network.bridge not in bridges:
        return f"its bridge {network.bridge} is not imported"
    return "" if is_shared(count, hosts) else f"on {count} of {hosts} hosts"


def _network_notes(view: HostView, name: str, why: str, draft: Draft) -> None:
    network = _network(view, name)
    assert network is not None
    if why and network.kind:  # a kind no design has is said by its `unsupported` words
        draft.notes.append(view.host.warning(network.file, network.line, f"not imported: network {name}: {why}"))
    for line, what in network.unsupported:
        draft.notes.append(view.host.warning(network.file, line, f"not imported: network {name}: {what}"))


def _network_entry(network: CapturedNetwork) -> dict[str, Any]:
    if network.kind == ISOLATED:
        return {"name": network.name, "bridge": network.bridge, "address": network.address}
    entry: dict[str, Any] = {"name": network.name, "bridge": network.bridge}
    if network.vlan is not None:
        entry["vlan"] = network.vlan
    if network.portgroups:
        entry["portgroups"] = [_portgroup(group) for group in network.portgroups]
    return entry


def _portgroup(group: Portgroup) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": group.name}
    if group.vlan is not None:
        entry["vlan"] = group.vlan
    if group.trunk:
        entry["trunk"] = list(group.trunk)
    if group.native is not None:
        entry["native"] = group.native
    if group.default:
        entry["default"] = True
    return entry
