"""A libvirt network as `virsh net-dumpxml` prints it, read for what a design can say: a network
in bridge mode on an Open vSwitch bridge (VLAN or portgroups), or an isolated network on its own
Linux bridge. What libvirt adds by itself (uuid, MAC, stp and delay defaults) is not the design's;
anything else a design cannot say is kept in `unsupported` to be reported, never dropped.

The XML comes from a host: lxml parses it without entities, network or huge trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Interface

from lxml import etree

from generator.ovs.untrusted_text import shown

OVS, ISOLATED = "ovs", "isolated"
# What net-dumpxml adds to a network that ovsgen's XML does not set: not a difference.
_LIBVIRT_OWN = frozenset({"uuid", "mac"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


@dataclass(frozen=True)
class Portgroup:
    name: str
    vlan: int | None = None
    trunk: tuple[int, ...] = ()
    native: int | None = None
    default: bool = False


@dataclass(frozen=True)
class CapturedNetwork:
    """One libvirt network; `kind` OVS, ISOLATED or "" (a kind no design has: see `unsupported`)."""

    name: str
    kind: str
    bridge: str
    line: int  # of the <network> element
    vlan: int | None = None
    portgroups: tuple[Portgroup, ...] = ()
    address: str = ""  # an isolated network's host address with prefix
    unsupported: tuple[tuple[int, str], ...] = ()  # (line, what) the design language cannot say
    file: str = ""  # the capture's file of it, relative to the host's folder

    @property
    def design_part(self) -> tuple[object, ...]:
        """What a design says of the network: equal for a host's copy and the design's own."""
        return (self.name, self.kind, self.bridge, self.vlan, self.portgroups, self.address, self.unsupported_words)

    @property
    def unsupported_words(self) -> tuple[str, ...]:
        return tuple(what for _line, what in self.unsupported)


class NetworkUnreadable(ValueError):
    """Not a libvirt network's XML; the message says why, `line` where."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def read_network(text: bytes) -> CapturedNetwork:
    try:
        root = etree.fromstring(text, _PARSER)
    except etree.XMLSyntaxError as error:
        raise NetworkUnreadable(f"not XML: {error.msg}", error.lineno if isinstance(error.lineno, int) else 1) from None
    if root.tag != "network":
        raise NetworkUnreadable(f"expected a <network> element, found <{root.tag}>", _line(root))
    name = root.findtext("name") or ""
    bridge = root.find("bridge")
    forward = root.find("forward")
    virtualport = root.find("virtualport")
    unsupported = list(_unknown_children(root))
    base = CapturedNetwork(name, "", bridge.get("name", "") if bridge is not None else "", _line(root))
    if forward is not None and forward.get("mode") == "bridge" and _is_ovs(virtualport):
        vlan, trunk_words = _vlan(root.find("vlan"))
        unsupported += trunk_words
        groups = [_portgroup(group, unsupported) for group in root.findall("portgroup")]
        return _with(base, OVS, unsupported, vlan=vlan, portgroups=tuple(groups))
    if forward is None and bridge is not None:
        return _isolated(root, base, unsupported)
    mode = forward.get("mode", "nat") if forward is not None else "none"
    line = _line(forward, base.line) if forward is not None else base.line
    return _with(base, "", [*unsupported, (line, f"forward mode {mode} (not bridge on Open vSwitch)")])


def _with(base: CapturedNetwork, kind: str, unsupported: list[tuple[int, str]], **parts: object) -> CapturedNetwork:
    return CapturedNetwork(
        base.name,
        kind,
        base.bridge,
        base.line,
        unsupported=tuple(unsupported),
        **parts,  # type: ignore[arg-type]
    )


def _is_ovs(virtualport: etree._Element | None) -> bool:
    return virtualport is not None and virtualport.get("type") == "openvswitch" and len(virtualport) == 0


def _unknown_children(root: etree._Element) -> list[tuple[int, str]]:
    known = {"name", "bridge", "forward", "virtualport", "vlan", "portgroup", "ip", *_LIBVIRT_OWN}
    return [(_line(child), f"<{child.tag}>") for child in root if child.tag not in known]


def _vlan(element: etree._Element | None) -> tuple[int | None, list[tuple[int, str]]]:
    """A network's single VLAN tag; a trunk on the network itself is not the design's."""
    if element is None:
        return None, []
    tags = element.findall("tag")
    if element.get("trunk") == "yes" or len(tags) != 1 or tags[0].get("nativeMode"):
        return None, [(_line(element), "a VLAN trunk on the network itself (the design has them in portgroups)")]
    return _tag_id(tags[0]), []


def _portgroup(group: etree._Element, unsupported: list[tuple[int, str]]) -> Portgroup:
    name = group.get("name", "")
    default = group.get("default") == "yes"
    vlan = group.find("vlan")
    for child in group:
        if child.tag != "vlan":
            unsupported.append((_line(child), f"portgroup {name}: <{child.tag}>"))
    if vlan is None:
        return Portgroup(name, default=default)
    tags = vlan.findall("tag")
    if vlan.get("trunk") != "yes" and len(tags) == 1:
        return Portgroup(name, vlan=_tag_id(tags[0]), default=default)
    natives = [_tag_id(tag) for tag in tags if tag.get("nativeMode") == "untagged"]
    if any(tag.get("nativeMode") == "tagged" for tag in tags):
        unsupported.append((_line(vlan), f"portgroup {name}: nativeMode tagged"))
    trunk = tuple(_tag_id(tag) for tag in tags)
    return Portgroup(name, trunk=trunk, native=natives[0] if natives else None, default=default)


def _isolated(root: etree._Element, base: CapturedNetwork, unsupported: list[tuple[int, str]]) -> CapturedNetwork:
    addresses = root.findall("ip")
    if len(addresses) != 1:
        return _with(base, "", [*unsupported, (base.line, f"an isolated network with {len(addresses)} addresses")])
    ip = addresses[0]
    bridge = root.find("bridge")
    if bridge is not None and bridge.get("stp") != "off":  # libvirt's default (no stp) is on; a design's is off
        unsupported.append((_line(bridge), "STP on the Linux bridge (a design's isolated network has it off)"))
    for child in ip:  # <dhcp>, <tftp>: more than the design's isolated network
        unsupported.append((_line(child), f"<ip><{child.tag}>"))
    prefix = ip.get("prefix") or ip.get("netmask") or ""
    try:
        address = str(IPv4Interface(f"{ip.get('address', '')}/{prefix}"))
    except ValueError:
        return _with(base, "", [*unsupported, (_line(ip), "an address that is not IPv4")])
    return _with(base, ISOLATED, unsupported, address=address)


def _line(element: etree._Element, default: int = 1) -> int:
    """The element's line in the XML (lxml's stubs allow it to be absent)."""
    found = element.sourceline
    return found if isinstance(found, int) else default


def _tag_id(tag: etree._Element) -> int:
    text = tag.get("id", "")
    if not text.isdigit():
        raise NetworkUnreadable(f"a VLAN tag id that is not a number: {shown(text)}", _line(tag))
    return int(text)


_KINDS = {OVS: "a bridge network on Open vSwitch", ISOLATED: "an isolated network", "": "another kind of network"}


def network_differences(have: CapturedNetwork, want: CapturedNetwork) -> list[str]:
    """What a design says of a network that differs between the host's copy and the design's, in
    words, host -> design (`VLAN 32 -> 33`, `portgroup pg-db added`)."""
    words = [
        f"{label} {old} -> {new}"
        for label, old, new in (
            ("kind", _KINDS[have.kind], _KINDS[want.kind]),
            ("bridge", have.bridge or "none", want.bridge or "none"),
            ("VLAN", have.vlan or "none", want.vlan or "none"),
            ("address", have.address or "none", want.address or "none"),
        )
        if old != new
    ]
    have_groups = {group.name: group for group in have.portgroups}
    want_groups = {group.name: group for group in want.portgroups}
    for name in dict.fromkeys([*have_groups, *want_groups]):
        if name not in want_groups:
            words.append(f"portgroup {name} removed")
        elif name not in have_groups:
            words.append(f"portgroup {name} added ({_group_words(want_groups[name])})")
        elif have_groups[name] != want_groups[name]:
            words.append(f"portgroup {name} {_group_words(have_groups[name])} -> {_group_words(want_groups[name])}")
    words += [f"{what} removed" for what in have.unsupported_words if what not in want.unsupported_words]
    return words


def _group_words(group: Portgroup) -> str:
    if group.trunk:
        vlans = f"trunk {','.join(map(str, group.trunk))}" + (f" native {group.native}" if group.native else "")
    else:
        vlans = f"VLAN {group.vlan}" if group.vlan is not None else "untagged"
    return f"{vlans}, default" if group.default else vlans
