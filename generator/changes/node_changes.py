"""What changes on each node between two designs, or between a host and a design.

For every node this holds the OVS steps of its change and of their rollback (a NodePlan
each, built by generator.changes.steps), the ifcfg files to write or delete and the
libvirt networks to define, redefine or undefine, and the NetworkManager keyfiles with their
profiles (generator.changes.nm_changes). Files are compared without their
header comment, so a design that only moved to another file name changes nothing.
Nodes whose changes are identical are grouped in generator.changes.node_groups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from generator.changes.file_change import FileChange, settings_in_words
from generator.changes.nm_changes import (
    IFCFG,
    TO_NM,
    NmLayer,
    NmSide,
    built_by_networkmanager,
    cutover_of,
    nm_side,
    with_reasons,
)
from generator.changes.node_plan import NodePlan, Scope
from generator.changes.plan_states import carry_over, with_untouched
from generator.changes.steps import plan_node
from generator.changes.switchports import PortChange, design_switch_changes, host_switch_changes
from generator.design.model import Design, InternalNetwork, Network
from generator.design.resolve import NodeLayout
from generator.design.validate import ValidDesign
from generator.ovs.state import EMPTY, OvsState, node_state
from generator.render import ifcfg as ifcfg_files
from generator.render import libvirt as libvirt_files
from generator.render import networkmanager as nm_files
from generator.render.context import node_context
from generator.render.files import OutputFile
from generator.render.ifcfg import render_ifcfg
from generator.render.kinds import render_design


@dataclass(frozen=True)
class NodeChange:
    """What changes on one node between two designs (or a host and a design)."""

    node: str
    status: str  # "added", "removed", "changed" or "unchanged"
    ovs: NodePlan  # the Open vSwitch steps of change.sh
    ovs_rollback: NodePlan  # the Open vSwitch steps of rollback.sh: back to the starting state
    ifcfg: tuple[FileChange, ...]
    networks: tuple[FileChange, ...]
    host_known: bool = True  # False when planning from a dump: files on the host are unknown
    hostname: str = ""  # the host name the dump recorded; "" when unknown (the node name is expected)
    system_id: str = ""  # the dump's Open vSwitch system-id: the plan's OVS scripts insist on it
    switch_ports: tuple[PortChange, ...] = ()  # what changes on the switch ports its NICs are cabled to
    nm: NmLayer = field(default_factory=NmLayer)  # the NetworkManager keyfiles and the backend change
    design: str = ""  # the name of the design the node is in (the new one; the old one's if it left)
    address: str = ""  # where the host is reached now: its host address (the old design's), "" if DHCP

    @property
    def expected_hostname(self) -> str:
        """The host name the plan's scripts insist on before they change anything."""
        return self.hostname or self.node

    @property
    def has_changes(self) -> bool:
        return bool(self.ovs.changes or self.ifcfg or self.networks or self.nm.keyfiles)


def _layout(valid: ValidDesign | None, node: str) -> NodeLayout | None:
    return valid.layout(node) if valid is not None else None


def _state(valid: ValidDesign | None, layout: NodeLayout | None) -> OvsState:
    return node_state(valid.design, layout) if valid is not None and layout is not None else EMPTY


def _managed(state: OvsState) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(port.name for port in state.ports), frozenset(state.bridges)


def _host_bridges(*designs: Design | None) -> frozenset[str]:
    return frozenset(design.host.bridge for design in designs if design is not None)


def node_names(old: ValidDesign | None, new: ValidDesign | None) -> list[str]:
    """Nodes of either design: the new design's order, then nodes only the old one has."""
    names = [layout.node.name for layout in new.layouts] if new else []
    return names + [layout.node.name for layout in old.layouts if layout.node.name not in names] if old else names


class NodeFiles:
    """A design's rendered files by node and output folder, or rendered on demand per node.

    A diff renders both designs whole anyway: handing those files over saves the plan a second
    render of every node's ifcfg and libvirt files (and a scan of every node to find each one).
    """

    def __init__(self, valid: ValidDesign | None, rendered: Iterable[OutputFile] | None = None) -> None:
        self.valid = valid
        self.rendered: dict[tuple[str, str], list[OutputFile]] | None = None
        if rendered is not None:
            self.rendered = {}
            for file in rendered:
                parts = file.path.split("/")  # design/node/folder[/sub]/name, or a design-level file
                if len(parts) >= 4:
                    self.rendered.setdefault((parts[1], "/".join(parts[2:-1])), []).append(file)

    def files(self, node: str, kind: str, folder: str) -> list[OutputFile]:
        """The node's files of output `kind`, which it writes under `folder`."""
        if self.valid is None:
            return []  # a node the design lacks renders no files
        if self.rendered is not None:
            return self.rendered.get((node, folder), [])
        return [file for file in _files(self.valid, node, kind) if "/".join(file.path.split("/")[2:-1]) == folder]


def plan_designs(
    old: ValidDesign | None,
    new: ValidDesign | None,
    nodes: tuple[str, ...] = (),
    rendered: tuple[Sequence[OutputFile], Sequence[OutputFile]] | None = None,
) -> list[NodeChange]:
    """What changes on each node (only `nodes` when given); `rendered`: both designs' files, when
    the caller has them."""
    before_files = NodeFiles(old, rendered[0] if rendered else None)
    after_files = NodeFiles(new, rendered[1] if rendered else None)
    old_layouts, new_layouts = _layouts(old), _layouts(new)
    hosts = _host_bridges(old.design if old else None, new.design if new else None)
    result = []
    for name in node_names(old, new):
        if nodes and name not in nodes:
            continue
        before, after = _state(old, old_layouts.get(name)), _state(new, new_layouts.get(name))
        ports, bridges = _managed(before)
        managed = ports | _managed(after)[0]
        ovs = plan_node(name, before, after, Scope(ports, bridges, hosts, managed))
        ports, bridges = _managed(after)
        ovs_rollback = plan_node(name, after, before, Scope(ports, bridges, hosts, managed))
        in_old, in_new = name in old_layouts, name in new_layouts
        status = "added" if not in_old else "removed" if not in_new else "changed"
        ifcfg = _file_changes(before_files, after_files, name)
        networks = _network_changes(old, new, before_files, after_files, name)
        switch = design_switch_changes(old, new, name)
        nm = _nm_layer(old, new, before_files, after_files, name)
        design, address = _whereabouts(old, new, name)
        node_change = NodeChange(
            name, status, ovs, ovs_rollback, ifcfg, networks, switch_ports=switch, nm=nm, design=design, address=address
        )
        if status == "changed" and not node_change.has_changes:
            node_change = replace(node_change, status="unchanged")
        result.append(node_change)
    return result


def _whereabouts(old: ValidDesign | None, new: ValidDesign | None, node: str) -> tuple[str, str]:
    """The node's design (the new one, or the old one it left) and where its host is reached now:
    the old design's address, since the plan has not run yet (the new one's for a new node)."""
    old_layout, new_layout = _layout(old, node), _layout(new, node)
    design = new if new_layout is not None else old
    now = old_layout or new_layout
    address = now.node.address if now is not None else None
    return (design.design.name if design is not None else "", str(address.ip) if address is not None else "")


def _nm_layer(
    old: ValidDesign | None, new: ValidDesign | None, before: NodeFiles, after: NodeFiles, node: str
) -> NmLayer:
    """The node's keyfiles to add, change or delete, its profiles on both sides, its backend change."""
    kind, folder = "networkmanager", nm_files.KEYFILE_FOLDER
    keyfiles = with_reasons(_compare(before.files(node, kind, folder), after.files(node, kind, folder)))
    old_layout, new_layout = _layout(old, node), _layout(new, node)
    backends = (_backends(old, old_layout), _backends(new, new_layout))
    if not keyfiles and not any(nm_files.BACKEND in side for side in backends):
        return NmLayer(backends=backends)  # no profile on either side: nothing to render
    before_side = nm_side(old.design, old_layout) if old is not None else NmSide()
    after_side = nm_side(new.design, new_layout) if new is not None else NmSide()
    return NmLayer(keyfiles, before_side, after_side, backends, cutover_of(*backends))


def _backends(valid: ValidDesign | None, layout: NodeLayout | None) -> tuple[str, ...]:
    return valid.design.backends_of(layout.node) if valid is not None and layout is not None else ()


def _layouts(valid: ValidDesign | None) -> dict[str, NodeLayout]:
    return {layout.node.name: layout for layout in valid.layouts} if valid is not None else {}


def plan_from_host(host: OvsState, new: ValidDesign, node: str, *, prune: bool) -> NodeChange:
    """Plan from what a host has now; objects the design does not mention stay unless `prune`."""
    # What the host has in the columns no design manages stays on every row the design keeps.
    after = carry_over(host, _state(new, _layout(new, node)))
    hosts = _host_bridges(new.design)
    # With --prune every host port the design lacks may go; plan_node still keeps bridges' own
    # ports, VM taps and the ports of bridges it does not remove.
    pruned = frozenset(port.name for port in host.ports) if prune else frozenset()
    ports, bridges = _managed(after)
    ovs = plan_node(node, host, after, Scope(pruned, frozenset(), hosts, ports, prune_bridges=prune))
    # Rolling back starts from what the change leaves (the design plus what it left alone),
    # removes what it created and restores what it altered or pruned.
    ovs_rollback = plan_node(
        node, with_untouched(after, ovs), host, Scope(ports, bridges - frozenset(host.bridges), hosts, ports)
    )
    ifcfg = tuple(FileChange(f.name, "add", f) for f in _host_ifcfg(new, node, after))
    nm = _host_nm_layer(new, node, moving=not built_by_networkmanager(host))
    ifcfg += _cutover_files(new, node, after) if nm.cutover else ()
    ifcfg += _removed_bridge_files(ovs, frozenset(item.name for item in ifcfg))
    networks = tuple(
        FileChange(f.name, "add", f, "define, or redefine if the host has it")
        for f in _files(new, node, "libvirt")
        if f.path.endswith(".xml")
    )
    switch = host_switch_changes(host, ovs, new, node)
    return NodeChange(
        node,
        "changed",
        ovs,
        ovs_rollback,
        ifcfg,
        networks,
        host_known=False,
        hostname=host.hostname,
        system_id=host.system_id,
        switch_ports=switch,
        nm=nm,
        design=new.design.name,
        address=_whereabouts(None, new, node)[1],
    )


def _host_nm_layer(new: ValidDesign, node: str, *, moving: bool) -> NmLayer:
    """From a dump, every keyfile of the node is added: the host's keyfiles are unknown. A node
    on NetworkManager alone whose host NetworkManager did not build (`moving`) is a cut-over
    from ifcfg files (deleted where present)."""
    layout = _layout(new, node)
    backends = ((), _backends(new, layout))
    if layout is None or nm_files.BACKEND not in backends[1]:
        return NmLayer(backends=backends)
    files = nm_files.render_keyfiles(node_context(new.design, layout, node))
    keyfiles = tuple(FileChange(f.name, "add", f) for f in sorted(files))
    cutover = TO_NM if moving and IFCFG not in backends[1] else ""
    return NmLayer(keyfiles, NmSide(), nm_side(new.design, layout), backends, cutover, host_known=False)


def _cutover_files(new: ValidDesign, node: str, state: OvsState) -> tuple[FileChange, ...]:
    """Deletions of the ifcfg files the design would write for the node on ifcfg: left on a host
    moving to NetworkManager, their NM_CONTROLLED=no keeps NetworkManager off the devices."""
    layout = _layout(new, node)
    assert layout is not None
    design = replace(new.design, backends=(IFCFG,))
    ifcfg = replace(layout, node=replace(layout.node, backends_override=None))
    files = render_ifcfg(node_context(design, ifcfg, node, state=state))
    return tuple(FileChange(f.name, "delete", None, "the node moves to NetworkManager") for f in sorted(files))


def _host_ifcfg(new: ValidDesign, node: str, state: OvsState) -> list[OutputFile]:
    """The design's ifcfg files, keeping what the host has in the columns no design manages."""
    layout = _layout(new, node)
    return sorted(render_ifcfg(node_context(new.design, layout, node, state=state))) if layout is not None else []


def _removed_bridge_files(plan: NodePlan, written: frozenset[str]) -> tuple[FileChange, ...]:
    """Deletions of the ifcfg files of the bridges `plan` removes: ifcfg-<bridge>, ifcfg-<port> of
    each port it removes with the bridge and ifcfg-<nic> of their NICs, unless the design writes
    a file of that name. Left on the host, they would build the bridge again at the next boot."""
    found: dict[str, str] = {}
    for bridge in plan.removed_bridges:
        for device in _bridge_devices(plan.before, bridge):
            name = f"ifcfg-{device}"
            if name not in written:
                found.setdefault(name, f"bridge {bridge} removed")
    return tuple(FileChange(name, "delete", None, reason) for name, reason in found.items())


def _bridge_devices(host: OvsState, bridge: str) -> list[str]:
    """The bridge, its ports and their NICs (interfaces of no special type), in that order. The
    bridge's own port has the bridge's name (and an internal interface): it repeats the first."""
    ports = [port for port in host.ports if port.bridge == bridge]
    nics = [i.name for port in ports for i in host.interfaces if i.name in port.members and i.type == ""]
    return [bridge, *(port.name for port in ports), *nics]


def _files(valid: ValidDesign, node: str, kind: str) -> list[OutputFile]:
    return render_design(valid, [node], [kind])


# A whole line that is a header comment (templating.header_comment in a shell, ifcfg, XML, SVG,
# HTML or Markdown comment). Only whole lines: a switch label holding the same words sits in a
# table row or a quoted value, and a change to it must show.
_HEADER_LINE = re.compile(
    r"(?:# |<!-- )Generated by ovsgen from [^\n]*\. Edit the design and re-render; do not edit this file\.(?: -->)?"
)


def without_header(text: str) -> str:
    """A rendered file minus its header comment(s): what a reviewer compares."""
    return "\n".join(line for line in text.splitlines() if not _HEADER_LINE.fullmatch(line))


def _compare(old_files: list[OutputFile], new_files: list[OutputFile]) -> list[FileChange]:
    old = {file.name: file for file in old_files}
    new = {file.name: file for file in new_files}
    changes = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            changes.append(FileChange(name, "delete", None, old=old[name]))
        elif name not in old:
            changes.append(FileChange(name, "add", new[name]))
        elif old[name].text != new[name].text and without_header(old[name].text) != without_header(new[name].text):
            changes.append(FileChange(name, "change", new[name], old=old[name]))
    return changes


def _file_changes(old: NodeFiles, new: NodeFiles, node: str) -> tuple[FileChange, ...]:
    kind, folder = "ifcfg", ifcfg_files.FOLDER
    found = _compare(old.files(node, kind, folder), new.files(node, kind, folder))
    return tuple(replace(item, reason=_ifcfg_reason(item)) if item.action == "change" else item for item in found)


def _ifcfg_reason(change: FileChange) -> str:
    """A changed ifcfg file's settings in words (generator.changes.file_change.settings_in_words)."""
    assert change.old is not None
    assert change.file is not None
    return settings_in_words(_ifcfg_settings(change.old.text), _ifcfg_settings(change.file.text))


def _ifcfg_settings(text: str) -> dict[str, str]:
    """An ifcfg file's KEY=value lines (values as written, quotes included); comments left out."""
    pairs = (line.partition("=") for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, sign, value in pairs if sign}


def _network_changes(
    old: ValidDesign | None, new: ValidDesign | None, old_files: NodeFiles, new_files: NodeFiles, node: str
) -> tuple[FileChange, ...]:
    def xml(files: NodeFiles) -> list[OutputFile]:
        return [file for file in files.files(node, "libvirt", libvirt_files.FOLDER) if file.path.endswith(".xml")]

    networks = []
    for change in _compare(xml(old_files), xml(new_files)):
        name = change.name.removesuffix(".xml")
        reason = _network_reason(_network(old, name), _network(new, name))
        networks.append(FileChange(change.name, change.action, change.file, reason, change.old))
    return tuple(networks)


def _network(valid: ValidDesign | None, name: str) -> Network | InternalNetwork | None:
    if valid is None:
        return None
    design = valid.design
    found = [n for n in design.networks if n.name == name] + [n for n in design.internal_networks if n.name == name]
    return found[0] if found else None


def _groups(network: Network) -> list[tuple[object, ...]]:
    return [(g.name, g.vlan, g.trunk, g.native, g.default) for g in network.portgroups]


def _network_reason(old: Network | InternalNetwork | None, new: Network | InternalNetwork | None) -> str:
    if new is None:
        return "removed"
    if old is None:
        return f"added on {new.bridge}" + (f", VLAN {new.vlan}" if isinstance(new, Network) and new.vlan else "")
    # An internal network (or a network turning into the other kind) is just "changed".
    words = _network_words(old, new) if isinstance(old, Network) and isinstance(new, Network) else []
    return ", ".join(words) or "changed"


def _network_words(old: Network, new: Network) -> list[str]:
    words = []
    if old.bridge != new.bridge:
        words.append(f"moves from {old.bridge} to {new.bridge}")
    if old.vlan != new.vlan:
        words.append(f"retagged: VLAN {old.vlan or 'untagged'} -> {new.vlan or 'untagged'}")
    if _groups(old) != _groups(new):
        words.append("portgroups changed")
    return words
