"""NetworkManager keyfiles (RHEL 9/10) for a node's Open vSwitch configuration (docs/outputs.md).

The profiles come from the same OVS state as the ifcfg files and ovs/apply.sh, one per object
as `nmcli connection add` makes them: per bridge an ovs-bridge, the bridge's own ovs-port and
its ovs-interface (type internal); an ovs-port per uplink (a bond, with its settings, or a single
NIC) and per internal port, each internal port with its ovs-interface; an ethernet profile per
NIC of an uplink. Every file is written in NetworkManager 1.42's own form: the keys, sections and
order `nmcli --offline connection modify` prints, so that NetworkManager reads back exactly what
the file says (tests/test_networkmanager_keyfiles.py compares them byte for byte).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from generator.design.model import Design, Nic
from generator.design.resolve import NodeLayout
from generator.ovs.state import OWNER_KEY, OWNER_VALUE, OvsState, PortState
from generator.render.context import NodeContext
from generator.render.files import OutputFile

FOLDER = "NetworkManager"
KEYFILE_FOLDER = f"{FOLDER}/system-connections"
BACKEND = "networkmanager"

# The namespace of every profile's UUID: uuid5 of design, node and object under it, so that a
# profile keeps its UUID across renders (NetworkManager knows a profile by its UUID).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ovsgen.invalid/networkmanager")

Section = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Profile:
    """One NetworkManager connection profile, as its keyfile holds it."""

    id: str  # connection.id, and the file's name without .nmconnection
    uuid: str
    type: str  # ovs-bridge, ovs-port, ovs-interface or ethernet
    interface: str  # connection.interface-name
    master: Profile | None  # the profile this one is a port of
    sections: tuple[Section, ...]  # every section after [connection], in NetworkManager's order
    summary: str  # what the profile is, for the file's comment and the build sheet

    @property
    def file_name(self) -> str:
        return f"{self.id}.nmconnection"

    @property
    def controller_name(self) -> str:
        """The interface name of the profile's master ("" without one)."""
        return "" if self.master is None else self.master.interface

    @property
    def slave_type(self) -> str:
        """connection.slave-type: what kind of controller the master is."""
        return "" if self.master is None else self.master.type

    @property
    def _connection(self) -> tuple[tuple[str, str], ...]:
        pairs = [("id", self.id), ("uuid", self.uuid), ("type", self.type), ("interface-name", self.interface)]
        if self.master is not None:
            pairs += [("master", self.master.uuid), ("slave-type", self.slave_type)]
        return tuple(pairs)

    def read_back(self) -> list[tuple[str, str]]:
        """What `nmcli -g FIELD connection show UUID` prints for every key the keyfile sets (as
        nmcli 1.42 prints it), and connection.autoconnect. nmcli 1.42 cannot show the
        [ovs-other-config] and [ovs-external-ids] data: the OVSDB shows those (ovs/apply.sh --check)."""
        found = [
            ("connection.id", self.id),
            ("connection.type", "802-3-ethernet" if self.type == "ethernet" else self.type),
            ("connection.interface-name", self.interface),
            ("connection.autoconnect", "yes"),
        ]
        if self.master is not None:
            found += [("connection.master", self.master.uuid), ("connection.slave-type", self.slave_type)]
        for section, pairs in self.sections:
            found += [pair for key, value in pairs for pair in _nmcli_fields(section, key, value)]
        return found

    def keyfile(self, header: str) -> str:
        """The keyfile's text: a comment naming its origin, then NetworkManager's own form."""
        lines = [f"# {header}", f"# {self.summary}", "[connection]"]
        lines += [f"{key}={value}" for key, value in self._connection]
        for name, pairs in self.sections:
            lines += ["", f"[{name}]", *(f"{key}={value}" for key, value in pairs)]
        return "\n".join(lines) + "\n"


def uses_networkmanager(design: Design, layout: NodeLayout) -> bool:
    return BACKEND in design.backends_of(layout.node)


def render_keyfiles(context: NodeContext) -> list[OutputFile]:
    """The node's keyfiles, if the node uses NetworkManager; none otherwise."""
    if not uses_networkmanager(context.design, context.layout):
        return []
    return [
        OutputFile(f"{context.folder}/{KEYFILE_FOLDER}/{profile.file_name}", profile.keyfile(context.header))
        for profile in node_profiles(context)
    ]


def node_profiles(context: NodeContext) -> list[Profile]:
    """Every profile of the node, controllers before their ports: the order apply.sh loads them in."""
    return list(_profiles(context.design, context.layout, context.state))


def _profiles(design: Design, layout: NodeLayout, state: OvsState) -> Iterator[Profile]:
    make = _Maker(design.name, layout.node.name)
    nics = {nic.name: nic for nic in layout.node.nics}
    for name in state.bridges:
        bridge = make.bridge(name)
        yield bridge
        own = state.port(name)
        assert own is not None, "every bridge has its own port"
        port = make.port(own, bridge)
        yield port
        yield make.interface(name, port, _host_ip(design, layout) if name == design.host.bridge else _NO_IP, state)
        for uplink in (p for p in state.ports if p.bridge == name and p.kind in ("bond", "nic")):
            uplink_port = make.port(uplink, bridge)
            yield uplink_port
            yield from (make.ethernet(nics[member], uplink_port, state) for member in uplink.members)
        for internal in (p for p in state.ports if p.bridge == name and p.kind == "internal"):
            internal_port = make.port(internal, bridge)
            yield internal_port
            yield make.interface(internal.name, internal_port, _port_ip(layout, internal.name), state)


@dataclass(frozen=True)
class _Maker:
    """Makes a node's profiles, each with its stable UUID."""

    design: str
    node: str

    def _uuid(self, kind: str, name: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.design}/{self.node}/{kind}/{name}"))

    def bridge(self, name: str) -> Profile:
        # No address on the bridge itself: the bridge's own ovs-interface carries the host's.
        # ovsgen's mark, as apply.sh sets it: plans and ovs/apply.sh --check know the bridge as ours.
        sections = (
            ("ovs-bridge", ()),
            ("ovs-external-ids", ((f"data.{OWNER_KEY}", OWNER_VALUE),)),
            *_ip_sections(_NO_IP),
        )
        return Profile(
            f"{name}-bridge", self._uuid("ovs-bridge", name), "ovs-bridge", name, None, sections, f"OVS bridge {name}"
        )

    def port(self, port: PortState, bridge: Profile) -> Profile:
        sections: list[Section] = [("ovs-port", _port_settings(port))]
        if port.other_config:
            sections.append(("ovs-other-config", tuple(sorted((f"data.{k}", v) for k, v in port.other_config))))
        return Profile(
            f"{port.name}-port",
            self._uuid("ovs-port", port.name),
            "ovs-port",
            port.name,
            bridge,
            tuple(sections),
            _port_summary(port),
        )

    def interface(self, name: str, port: Profile, ip: _Ip, state: OvsState) -> Profile:
        mtu = state.interface(name).mtu_request
        sections = (
            ("ethernet", (("mtu", str(mtu)),) if mtu is not None else ()),
            ("ovs-interface", (("type", "internal"),)),
            *_ip_sections(ip),
        )
        summary = f"OVS internal interface {name} of port {port.interface} (bridge {port.controller_name})"
        return Profile(f"{name}-if", self._uuid("ovs-interface", name), "ovs-interface", name, port, sections, summary)

    def ethernet(self, nic: Nic, port: Profile, state: OvsState) -> Profile:
        mtu = state.interface(nic.name).mtu_request
        link = [("mac-address", nic.mac.upper())] if nic.mac is not None else []
        link += [("mtu", str(mtu))] if mtu is not None else []
        sections = (("ethernet", tuple(link)), ("ovs-interface", (("type", "system"),)))
        summary = f"NIC {nic.name}, on port {port.interface} (bridge {port.controller_name})"
        return Profile(
            f"{nic.name}-nic", self._uuid("ethernet", nic.name), "ethernet", nic.name, port, sections, summary
        )


@dataclass(frozen=True)
class _Ip:
    """What an ovs-interface carries at layer 3: the [ipv4] and [ipv6] sections."""

    ipv4: tuple[tuple[str, str], ...]
    ipv6: str  # ipv6.method


# Bridges other than the host's, and the bridges themselves: no address of any kind.
_NO_IP = _Ip((("method", "disabled"),), "disabled")


def _ip_sections(ip: _Ip) -> tuple[Section, ...]:
    ipv6 = (("addr-gen-mode", "default"), ("method", ip.ipv6))
    return (("ipv4", ip.ipv4), ("ipv6", ipv6), ("proxy", ()))


def _host_ip(design: Design, layout: NodeLayout) -> _Ip:
    """The host's address, gateway, DNS servers and search domains, as the ifcfg files set them.
    IPv6 is left to the kernel (method=ignore), as ifcfg files without IPV6INIT leave it."""
    node, host = layout.node, design.host
    pairs: list[tuple[str, str]] = []
    if node.address is not None:
        gateway = design.gateway_of(node)
        pairs.append(("address1", f"{node.address}" + (f",{gateway}" if gateway is not None else "")))
    if host.dns:
        pairs.append(("dns", "".join(f"{server};" for server in host.dns)))
    if host.search:
        pairs.append(("dns-search", "".join(f"{domain};" for domain in host.search)))
    pairs.append(("method", "auto" if node.address is None else "manual"))
    return _Ip(tuple(pairs), "ignore")


def _port_ip(layout: NodeLayout, port: str) -> _Ip:
    address = next(item.address for item in layout.node.ports if item.port == port)
    return _Ip((("address1", str(address)), ("method", "manual")), "ignore")


def _port_settings(port: PortState) -> tuple[tuple[str, str], ...]:
    """The [ovs-port] keys, in NetworkManager's order (by name), for what apply.sh sets as columns."""
    pairs: list[tuple[str, str]] = []
    if port.bond_mode is not None:
        pairs.append(("bond-mode", port.bond_mode))
    if port.lacp is not None:
        pairs.append(("lacp", port.lacp))
    if port.tag is not None:
        pairs.append(("tag", str(port.tag)))
    return tuple(pairs)


def _port_summary(port: PortState) -> str:
    if port.kind == "bond":
        return f"OVS bond {port.name} of bridge {port.bridge}: {', '.join(port.members)}"
    if port.kind == "nic":
        return f"OVS port of uplink {port.name} (bridge {port.bridge})"
    if port.kind == "internal":
        return f"OVS port of internal port {port.name} (bridge {port.bridge})"
    return f"OVS port {port.name}, the own port of bridge {port.bridge}"


# nmcli's name for a keyfile section, where it differs.
_NMCLI_SETTING = {"ethernet": "802-3-ethernet"}


def _nmcli_fields(section: str, key: str, value: str) -> list[tuple[str, str]]:
    """The nmcli fields and values a keyfile key stands for (none for the data nmcli cannot show)."""
    if section in ("ovs-other-config", "ovs-external-ids") or (section, key) == ("ipv6", "addr-gen-mode"):
        return []
    field = f"{_NMCLI_SETTING.get(section, section)}.{key}"
    if (section, key) == ("ipv4", "address1"):
        address, _, gateway = value.partition(",")
        return [("ipv4.addresses", address), *((("ipv4.gateway", gateway),) if gateway else ())]
    if key in ("dns", "dns-search"):
        return [(field, value.rstrip(";").replace(";", ","))]
    return [(field, value)]
