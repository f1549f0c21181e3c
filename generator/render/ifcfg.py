"""RHEL network-scripts files with the Open vSwitch types (rhel/README.RHEL.rst).

Each file is an ordered list of VARIABLE=value pairs. ifup-ovs word-splits
BOND_IFACES, OVS_OPTIONS and OVS_EXTRA and hands them to ovs-vsctl, so those
carry exactly the ovs-vsctl arguments apply.sh uses for the same settings.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.design.model import Design, Nic
from generator.design.resolve import NodeLayout
from generator.ovs.commands import bond_options, cell_arguments
from generator.ovs.state import OWNER_KEY, OWNER_VALUE, Columns, OvsState, PortState
from generator.render.context import NodeContext
from generator.render.files import OutputFile
from generator.render.templating import macro

Settings = list[tuple[str, str]]

# Variables that hold lists: always double-quoted, as README.RHEL writes them.
_LIST_VARIABLES = frozenset({"BOND_IFACES", "OVS_OPTIONS", "OVS_EXTRA", "DOMAIN", "OVSDHCPINTERFACES"})
_COMMON = [("ONBOOT", "yes"), ("NM_CONTROLLED", "no"), ("HOTPLUG", "no")]


FOLDER = "network-scripts"
BACKEND = "ifcfg"


def render_ifcfg(context: NodeContext) -> list[OutputFile]:
    """The node's ifcfg files, from its context's OVS state: the design's, or for a plan from a
    host dump the design's with what the host has in the columns no design manages
    (generator.changes.plan_states.carry_over), so that the files the plan installs keep what
    change.sh kept. None for a node whose backends leave ifcfg out."""
    if BACKEND not in context.design.backends_of(context.layout.node):
        return []
    folder = f"{context.folder}/{FOLDER}"
    return [
        OutputFile(f"{folder}/ifcfg-{device}", _text(context.header, summary, settings))
        for device, summary, settings in _devices(context.design, context.layout, context.state)
    ]


def _text(header: str, summary: str, settings: Settings) -> str:
    pairs = [(key, _quote(key, value)) for key, value in settings]
    return macro("ifcfg.j2", "ifcfg_file")(header, summary, pairs)


# ovsgen's mark on every bridge it manages, as apply.sh sets it (generator.ovs.state.OWNER_KEY).
_OWNER_MARK = f"set Bridge {{name}} external_ids:{OWNER_KEY}={OWNER_VALUE}"


def _quote(key: str, value: str) -> str:
    # The validator keeps quotes, $, backticks, backslashes and newlines out of every value.
    return f'"{value}"' if key in _LIST_VARIABLES or " " in value or not value else value


def _devices(design: Design, layout: NodeLayout, state: OvsState) -> Iterator[tuple[str, str, Settings]]:
    for bridge in design.bridges:
        yield bridge.name, f"OVS bridge {bridge.name}", _bridge(design, layout, state, bridge.name)
    nics = {nic.name: nic for nic in layout.node.nics}
    for port in state.ports:
        if port.kind == "bond":
            yield port.name, f"OVS bond of bridge {port.bridge}: {', '.join(port.members)}", _bond(state, port)
            for member in port.members:
                yield member, f"member of bond {port.name} (bridge {port.bridge})", _member(state, nics[member])
        elif port.kind == "nic":
            yield port.name, f"uplink of bridge {port.bridge}", _single_uplink(state, port, nics[port.name])
        elif port.kind == "internal":
            yield port.name, f"OVS internal port on bridge {port.bridge}", _internal(layout, state, port)


def _ovs(kind: str, bridge: str | None = None) -> Settings:
    settings = [("DEVICETYPE", "ovs"), ("TYPE", kind)]
    if bridge is not None:
        settings.append(("OVS_BRIDGE", bridge))
    return settings


def _bridge(design: Design, layout: NodeLayout, state: OvsState, name: str) -> Settings:
    settings = [("DEVICE", name), *_ovs("OVSBridge"), *_COMMON]
    if name != design.host.bridge:
        return [*settings, ("BOOTPROTO", "none"), ("OVS_EXTRA", _OWNER_MARK.format(name=name))]
    host, node = design.host, layout.node
    if node.address is None:
        # No BOOTPROTO here: ifup-eth re-reads this file and would undo the dhcp
        # that ifup-ovs passes for OVSBOOTPROTO.
        uplinks = layout.uplinks_of(name)
        settings += [("OVSBOOTPROTO", "dhcp")]
        if uplinks is not None:
            settings += [("OVSDHCPINTERFACES", uplinks.port_name)]
    else:
        settings += [
            ("BOOTPROTO", "static"),
            ("IPADDR", str(node.address.ip)),
            ("PREFIX", str(node.address.network.prefixlen)),
        ]
        gateway = design.gateway_of(node)
        if gateway is not None:
            settings.append(("GATEWAY", str(gateway)))
    settings += [(f"DNS{index}", str(server)) for index, server in enumerate(host.dns, start=1)]
    if host.search:
        settings.append(("DOMAIN", " ".join(host.search)))
    settings.append(("MTU", str(host.mtu)))
    port = state.port(name)
    assert port is not None
    extra = [_OWNER_MARK.format(name=name), f"set Interface {name} mtu_request={host.mtu}"]
    if port.tag is not None:
        extra.insert(1, f"set Port {name} tag={port.tag}")
    return [*settings, ("OVS_EXTRA", " -- ".join(extra))]


def _mtu_extra(state: OvsState, names: tuple[str, ...]) -> Settings:
    requests = [
        f"set Interface {name} mtu_request={state.interface(name).mtu_request}"
        for name in names
        if state.interface(name).mtu_request is not None
    ]
    requests += [
        f"set Interface {name} {' '.join(_kept(state.interface(name).columns))}"
        for name in names
        if state.interface(name).columns
    ]
    return [("OVS_EXTRA", " -- ".join(requests))] if requests else []


def _kept(columns: Columns) -> list[str]:
    """A host's settings in the columns no design manages, as ovs-vsctl arguments."""
    return [argument for name, value in columns for argument in cell_arguments(name, value)]


def _bond(state: OvsState, port: PortState) -> Settings:
    return [
        ("DEVICE", port.name),
        *_ovs("OVSBond", port.bridge),
        ("BOND_IFACES", " ".join(port.members)),
        ("OVS_OPTIONS", " ".join([*bond_options(port), *_kept(port.columns)])),
        *_mtu_extra(state, port.members),
        *_COMMON,
        ("BOOTPROTO", "none"),
    ]


def _link_settings(state: OvsState, nic: Nic) -> Settings:
    mtu = state.interface(nic.name).mtu_request
    settings = [("MTU", str(mtu))] if mtu is not None else []
    if nic.mac is not None:
        settings.append(("HWADDR", nic.mac))
    return settings


def _member(state: OvsState, nic: Nic) -> Settings:
    # A plain file: ifup-ovs brings members up itself and adds them with add-bond.
    return [("DEVICE", nic.name), *_COMMON, ("BOOTPROTO", "none"), *_link_settings(state, nic)]


def _single_uplink(state: OvsState, port: PortState, nic: Nic) -> Settings:
    return [
        ("DEVICE", nic.name),
        *_ovs("OVSPort", port.bridge),
        *_COMMON,
        ("BOOTPROTO", "none"),
        *_link_settings(state, nic),
        *_mtu_extra(state, (nic.name,)),
    ]


def _internal(layout: NodeLayout, state: OvsState, port: PortState) -> Settings:
    settings = [("DEVICE", port.name), *_ovs("OVSIntPort", port.bridge)]
    options = [*((f"tag={port.tag}",) if port.tag is not None else ()), *_kept(port.columns)]
    if options:
        settings.append(("OVS_OPTIONS", " ".join(options)))
    settings += [*_COMMON, ("BOOTPROTO", "static")]
    address = next(p.address for p in layout.node.ports if p.port == port.name)
    settings += [("IPADDR", str(address.ip)), ("PREFIX", str(address.network.prefixlen))]
    mtu = state.interface(port.name).mtu_request
    if mtu is not None:
        settings.append(("MTU", str(mtu)))
    return [*settings, *_mtu_extra(state, (port.name,))]
