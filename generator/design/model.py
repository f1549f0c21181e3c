"""The typed design, built from data the schema has already accepted.

The schema is the single statement of what is allowed; this module only gives
the accepted data names and types, fills in documented defaults and expands
the uplink shorthand. Every object keeps its design path so that semantic
checks can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from generator.diagnostics import DesignPath

DEFAULT_MTU = 1500
DEFAULT_MODE = "active-backup"
DEFAULT_BACKENDS = ("ifcfg",)
_SHORTHAND = re.compile(r"^(?P<count>\d+)x(?P<speed>\d+G)(?: (?P<mode>[a-z-]+))?$")


@dataclass(frozen=True)
class Uplinks:
    """A bridge's uplinks: which NICs, and the bond settings when there are several."""

    path: DesignPath
    speed: str | None  # speed selector, or None when NICs are named
    names: tuple[str, ...]  # NICs named explicitly
    count: int | None  # with a selector: how many (None = all free)
    mode: str
    lacp: str  # off | active | passive
    lacp_time: str | None  # as written; None when not given
    lacp_fallback: bool | None
    rebalance_interval: int | None
    primary: str | None
    shorthand: str | None  # the shorthand as written, if that form was used
    mode_given: bool

    @property
    def has_lacp(self) -> bool:
        return self.lacp != "off"


@dataclass(frozen=True)
class Bridge:
    """An OVS bridge of every node, with its uplinks and bond name."""

    path: DesignPath
    name: str
    uplinks: Uplinks
    bond_name: str
    bond_given: bool
    mtu: int | None


@dataclass(frozen=True)
class Host:
    """The host's own interface: its bridge, VLAN, gateway, DNS and MTU."""

    path: DesignPath
    bridge: str
    vlan: int | None
    gateway: IPv4Address | None
    dns: tuple[IPv4Address, ...]
    search: tuple[str, ...]
    mtu: int


@dataclass(frozen=True)
class InternalPort:
    """An OVS internal port (storage, migration) on a bridge, optionally tagged."""

    path: DesignPath
    name: str
    bridge: str
    vlan: int | None


@dataclass(frozen=True)
class Portgroup:
    """A libvirt portgroup: one VLAN, or a trunk with an optional native VLAN."""

    path: DesignPath
    name: str
    vlan: int | None
    trunk: tuple[int, ...]
    native: int | None
    default: bool


@dataclass(frozen=True)
class Network:
    """A libvirt network on an OVS bridge."""

    path: DesignPath
    name: str
    bridge: str
    vlan: int | None
    portgroups: tuple[Portgroup, ...]


@dataclass(frozen=True)
class InternalNetwork:
    """A libvirt network on an isolated Linux bridge with a host address."""

    path: DesignPath
    name: str
    bridge: str
    address: IPv4Interface


@dataclass(frozen=True)
class Nic:
    """A NIC of a node's inventory."""

    path: DesignPath
    name: str
    speed: str
    mac: str | None
    switch: str | None


@dataclass(frozen=True)
class PortAddress:
    """A node's address on an internal port."""

    path: DesignPath
    port: str
    address: IPv4Interface


@dataclass(frozen=True)
class Node:
    """One hypervisor: its NICs, host address and internal port addresses."""

    path: DesignPath
    name: str
    nics: tuple[Nic, ...]
    address: IPv4Interface | None  # None means DHCP
    gateway_override: IPv4Address | None
    ports: tuple[PortAddress, ...]
    backends_override: tuple[str, ...] | None = None  # None: the design's backends

    def nic(self, name: str) -> Nic | None:
        return next((nic for nic in self.nics if nic.name == name), None)


@dataclass(frozen=True)
class Design:
    """A whole design: what every node shares, and the nodes."""

    name: str
    host: Host
    bridges: tuple[Bridge, ...]  # in name order (NICs are resolved bridge by bridge in this order)
    internal_ports: tuple[InternalPort, ...]
    networks: tuple[Network, ...]
    internal_networks: tuple[InternalNetwork, ...]
    nodes: tuple[Node, ...]
    backends: tuple[str, ...] = DEFAULT_BACKENDS  # ifcfg and/or networkmanager, as written

    def bridge(self, name: str) -> Bridge | None:
        return next((bridge for bridge in self.bridges if bridge.name == name), None)

    def gateway_of(self, node: Node) -> IPv4Address | None:
        return node.gateway_override or self.host.gateway

    def backends_of(self, node: Node) -> tuple[str, ...]:
        """The node's backends: its own when it names them, else the design's."""
        return node.backends_override if node.backends_override is not None else self.backends


def build_design(data: dict[str, Any]) -> Design:
    """The typed design from schema-valid data."""
    return Design(
        name=data["name"],
        host=_host(data["host"]),
        bridges=tuple(_bridge(name, data["bridges"][name]) for name in sorted(data["bridges"])),
        internal_ports=tuple(_internal_port(i, item) for i, item in enumerate(data.get("internal_ports", []))),
        networks=tuple(_network(i, item) for i, item in enumerate(data.get("networks", []))),
        internal_networks=tuple(_internal_network(i, item) for i, item in enumerate(data.get("internal_networks", []))),
        nodes=tuple(_node(i, item) for i, item in enumerate(data["nodes"])),
        backends=tuple(data.get("backends", DEFAULT_BACKENDS)),
    )


def _host(data: dict[str, Any]) -> Host:
    gateway = data.get("gateway")
    return Host(
        path=("host",),
        bridge=data["bridge"],
        vlan=data.get("vlan"),
        gateway=IPv4Address(gateway) if gateway else None,
        dns=tuple(IPv4Address(server) for server in data.get("dns", [])),
        search=tuple(data.get("search", [])),
        mtu=data.get("mtu", DEFAULT_MTU),
    )


def _bridge(name: str, data: dict[str, Any]) -> Bridge:
    path: DesignPath = ("bridges", name)
    raw = data["uplinks"]
    uplinks = _shorthand(raw, (*path, "uplinks")) if isinstance(raw, str) else _long_uplinks(raw, (*path, "uplinks"))
    return Bridge(
        path=path,
        name=name,
        uplinks=uplinks,
        bond_name=data.get("bond", f"{name}-up"),
        bond_given="bond" in data,
        mtu=data.get("mtu"),
    )


def _shorthand(text: str, path: DesignPath) -> Uplinks:
    match = _SHORTHAND.match(text)
    assert match is not None, "the schema pattern admits only the shorthand"
    mode = match["mode"] or DEFAULT_MODE
    # The shorthand balance-tcp means LACP active, fast, with fallback.
    lacp_tcp = mode == "balance-tcp"
    return Uplinks(
        path=path,
        speed=match["speed"],
        names=(),
        count=int(match["count"]),
        mode=mode,
        lacp="active" if lacp_tcp else "off",
        lacp_time="fast" if lacp_tcp else None,
        lacp_fallback=True if lacp_tcp else None,
        rebalance_interval=None,
        primary=None,
        shorthand=text,
        mode_given=match["mode"] is not None,
    )


def _long_uplinks(data: dict[str, Any], path: DesignPath) -> Uplinks:
    nics = data["nics"]
    return Uplinks(
        path=path,
        speed=nics if isinstance(nics, str) else None,
        names=tuple(nics) if isinstance(nics, list) else (),
        count=data.get("count"),
        mode=data.get("mode", DEFAULT_MODE),
        lacp=data.get("lacp", "off"),
        lacp_time=data.get("lacp_time"),
        lacp_fallback=data.get("lacp_fallback"),
        rebalance_interval=data.get("rebalance_interval"),
        primary=data.get("primary"),
        shorthand=None,
        mode_given="mode" in data,
    )


def _internal_port(index: int, data: dict[str, Any]) -> InternalPort:
    return InternalPort(("internal_ports", index), data["name"], data["bridge"], data.get("vlan"))


def _network(index: int, data: dict[str, Any]) -> Network:
    path: DesignPath = ("networks", index)
    portgroups = tuple(
        Portgroup(
            path=(*path, "portgroups", i),
            name=item["name"],
            vlan=item.get("vlan"),
            trunk=tuple(item.get("trunk", [])),
            native=item.get("native"),
            default=item.get("default", False),
        )
        for i, item in enumerate(data.get("portgroups", []))
    )
    return Network(path, data["name"], data["bridge"], data.get("vlan"), portgroups)


def _internal_network(index: int, data: dict[str, Any]) -> InternalNetwork:
    return InternalNetwork(("internal_networks", index), data["name"], data["bridge"], IPv4Interface(data["address"]))


def _node(index: int, data: dict[str, Any]) -> Node:
    path: DesignPath = ("nodes", index)
    address = data["address"]
    gateway = data.get("gateway")
    return Node(
        path=path,
        name=data["name"],
        nics=tuple(_nic((*path, "nics", name), name, spec) for name, spec in data["nics"].items()),
        address=None if address == "dhcp" else IPv4Interface(address),
        gateway_override=IPv4Address(gateway) if gateway else None,
        ports=tuple(
            PortAddress((*path, "ports", port), port, IPv4Interface(cidr))
            for port, cidr in data.get("ports", {}).items()
        ),
        backends_override=tuple(data["backends"]) if "backends" in data else None,
    )


def _nic(path: DesignPath, name: str, spec: str | dict[str, Any]) -> Nic:
    if isinstance(spec, str):
        return Nic(path, name, spec, None, None)
    mac = spec.get("mac")
    return Nic(path, name, spec["speed"], mac.lower() if mac else None, spec.get("switch"))
