"""Build sheets: per node Markdown and printable HTML, per design CSV and index (docs/outputs.md).

The content is assembled once as sections of tables, notes and checks; the
Markdown and HTML templates only lay those sections out, so the two sheets
cannot say different things.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import quote

from generator.design.model import DEFAULT_MTU, Design, Network, Uplinks
from generator.design.resolve import NodeLayout
from generator.render.context import DesignContext, NodeContext
from generator.render.files import OutputFile
from generator.render.switch_side import NicRow, NodeSheet, node_sheet, vlan_ranges
from generator.render.templating import MarkdownText, header_comment, markdown_text, template
from generator.render.wiring import render_wiring_svg

NONE = "—"
CSV_COLUMNS = (
    "node",
    "nic",
    "speed",
    "mac",
    "bridge",
    "bond",
    "switch_port",
    "mode",
    "native_vlan",
    "allowed_vlans",
    "lacp",
    "mtu",
    "port_channel",
)


@dataclass(frozen=True)
class Table:
    """A table of a build sheet."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Check:
    """A command to run after cabling, and what healthy output looks like."""

    command: str
    healthy: str


@dataclass(frozen=True)
class Section:
    """A section of a build sheet: a title, then a table, notes, checks or the diagram."""

    title: str
    table: Table | None = None
    notes: tuple[str, ...] = ()
    checks: tuple[Check, ...] = field(default=())
    diagram: bool = False


NODE_FILES = ("build-sheet.md", "build-sheet.html", "wiring.svg")
DESIGN_FILES = ("build-sheet.csv", "index.md")


def render_node_sheets(context: NodeContext) -> list[OutputFile]:
    """The node's build sheet in Markdown and printable HTML, and its wiring diagram."""
    sheet, header = context.sheet, context.header
    title = f"Build sheet: {context.name}"
    subtitle = f"Design {context.design.name}"  # the file name is in the header comment only: renames stay quiet
    svg = render_wiring_svg(sheet, header)
    page = {"header": header, "title": title, "subtitle": subtitle, "sections": node_sections(sheet)}
    folder = context.folder
    return [
        OutputFile(f"{folder}/build-sheet.md", template("build-sheet.md.j2").render(**page)),
        OutputFile(f"{folder}/build-sheet.html", template("build-sheet.html.j2").render(**page, svg=svg)),
        OutputFile(f"{folder}/wiring.svg", svg),
    ]


def node_sections(sheet: NodeSheet) -> list[Section]:
    return [
        _host_section(sheet),
        _nic_section(sheet),
        _switch_section(sheet),
        Section("Wiring", diagram=True),
        _network_section(sheet.design),
        _verify_section(sheet),
    ]


def _host_section(sheet: NodeSheet) -> Section:
    design, node = sheet.design, sheet.layout.node
    host = design.host
    gateway = design.gateway_of(node)
    rows = [
        ("Configured by", ", ".join(_BACKEND_WORDS[backend] for backend in design.backends_of(node))),
        ("Host interface", f"{host.bridge} (internal port of the OVS bridge)"),
        ("Address", str(node.address) if node.address else "DHCP"),
        ("Gateway", str(gateway) if gateway else ("from DHCP" if node.address is None else NONE)),
        ("Host VLAN", str(host.vlan) if host.vlan else "untagged"),
        ("DNS", ", ".join(map(str, host.dns)) or NONE),
        ("Search domains", ", ".join(host.search) or NONE),
        ("MTU", str(host.mtu)),
    ]
    for port in design.internal_ports:
        address = next((p.address for p in node.ports if p.port == port.name), None)
        vlan = f"VLAN {port.vlan}" if port.vlan else "untagged"
        rows.append((f"Internal port {port.name}", f"{address} on {port.bridge}, {vlan}"))
    return Section("Host addresses", Table(("Setting", "Value"), tuple(rows)))


def _nic_section(sheet: NodeSheet) -> Section:
    rows = tuple(
        (
            row.nic.name,
            row.nic.speed,
            row.nic.mac or NONE,
            row.bridge or "unused",
            row.bond or (NONE if row.bridge else "unused"),
            row.nic.switch or NONE,
        )
        for row in sheet.rows
    )
    notes = ("Unused NICs stay uncabled (or shut on the switch).",) if len(sheet.cabled) < len(sheet.rows) else ()
    return Section("NICs", Table(("NIC", "Speed", "MAC", "Bridge", "Bond", "Switch port"), rows), notes)


def _switch_section(sheet: NodeSheet) -> Section:
    rows = tuple(_switch_row(row) for row in sheet.cabled)
    bundles = sorted({f"{row.bridge}: {row.port.bundle}." for row in sheet.cabled if row.port is not None})
    headers = ("Switch port", "NIC", "Mode", "Native VLAN", "Allowed VLANs", "LACP", "MTU")
    return Section("Switch ports", Table(headers, rows), tuple(bundles))


def _switch_row(row: NicRow) -> tuple[str, ...]:
    port = row.port
    assert port is not None
    return (
        row.nic.switch or "? (not in the design)",
        row.nic.name,
        port.mode,
        port.native,
        port.allowed,
        port.lacp_text,
        str(port.mtu),
    )


def network_vlans(network: Network) -> str:
    if not network.portgroups:
        return str(network.vlan) if network.vlan else "untagged"
    groups = []
    for group in network.portgroups:
        if group.trunk:
            native = f", native {group.native} untagged" if group.native else ""
            text = f"{group.name}: trunk of {vlan_ranges(group.trunk)}{native}"
        else:
            text = f"{group.name}: {group.vlan or 'untagged'}"
        groups.append(text + (" (default)" if group.default else ""))
    return "portgroups " + "; ".join(groups)


def _network_section(design: Design) -> Section:
    rows = [(network.name, network.bridge, network_vlans(network)) for network in design.networks]
    rows += [
        (network.name, f"{network.bridge} (isolated Linux bridge)", f"host address {network.address}")
        for network in design.internal_networks
    ]
    notes = () if rows else ("No libvirt networks in this design.",)
    return Section("libvirt networks", Table(("Network", "Bridge", "VLANs"), tuple(rows)) if rows else None, notes)


# How each backend configures the host, as the build sheet says it.
_BACKEND_WORDS = {
    "ifcfg": "ifcfg files (network-scripts/, ifup-ovs; RHEL 7/8)",
    "networkmanager": "NetworkManager keyfiles (NetworkManager/apply.sh; RHEL 9/10)",
}


def _verify_section(sheet: NodeSheet) -> Section:
    checks = [Check("ovs-vsctl show", _show_healthy(sheet))]
    if "networkmanager" in sheet.design.backends_of(sheet.layout.node):
        checks += _networkmanager_checks(sheet)
    for uplinks in sheet.layout.uplinks:
        if not uplinks.is_bond:
            checks.append(Check(f"ip link show {uplinks.nics[0].name}", "state UP, and the switch port shows link up."))
            continue
        bond, spec = uplinks.bridge.bond_name, uplinks.bridge.uplinks
        members = ", ".join(nic.name for nic in uplinks.nics)
        healthy = f"bond_mode: {spec.mode}; every member ({members}) 'enabled' with 'may_enable: true'"
        if spec.mode == "active-backup":
            healthy += "; one of them marked 'active member'"
        if spec.has_lacp:
            healthy += "; lacp_status: negotiated"
        checks.append(Check(f"ovs-appctl bond/show {bond}", healthy + "."))
        if spec.has_lacp:
            checks.append(
                Check(
                    f"ovs-appctl lacp/show {bond}",
                    f"status: {spec.lacp} negotiated; every member ({members}) 'current attached'.",
                )
            )
    return Section("Verify after cabling", checks=tuple(checks))


def _networkmanager_checks(sheet: NodeSheet) -> list[Check]:
    design, node = sheet.design, sheet.layout.node
    bridge = design.host.bridge
    healthy = "GENERAL.STATE: 100 (connected)"
    if node.address is None:
        healthy += "; IP4.ADDRESS[1]: the address DHCP gave"
    else:
        healthy += f"; IP4.ADDRESS[1]: {node.address}"
        gateway = design.gateway_of(node)
        if gateway is not None:
            healthy += f"; IP4.GATEWAY: {gateway}"
    return [
        Check(
            "rpm -q NetworkManager-ovs; systemctl is-active NetworkManager openvswitch",
            "the package's version; active; active (NetworkManager restarted after installing the package).",
        ),
        Check(f"nmcli -f GENERAL,IP4 device show {bridge}", healthy + "."),
        Check("NetworkManager/apply.sh --check", f"No change: node {node.name} already matches the design."),
    ]


def _show_healthy(sheet: NodeSheet) -> str:
    parts = []
    for uplinks in sheet.layout.uplinks:
        port = uplinks.port_name
        parts.append(f"bridge {uplinks.bridge.name} has port {port}")
    tag = sheet.design.host.vlan
    if tag:
        parts.append(f"port {sheet.design.host.bridge} shows tag: {tag}")
    return "; ".join(parts) + "."


def render_design_sheets(shared: DesignContext, layouts: tuple[NodeLayout, ...], root: str) -> list[OutputFile]:
    """The fleet CSV and the index; both always cover every node of the design."""
    design = shared.design
    sheets = [node_sheet(design, layout, shared.carried) for layout in layouts]
    index = template("index.md.j2").render(
        header=header_comment(design.name, None),
        title=f"Design {design.name}",
        subtitle=f"{len(layouts)} node(s); each has a build sheet, a printable page and a wiring diagram.",
        sections=design_sections(shared, layouts),
    )
    return [
        OutputFile(f"{root}/build-sheet.csv", _csv(sheets)),
        OutputFile(f"{root}/index.md", index),
    ]


def design_sections(shared: DesignContext, layouts: tuple[NodeLayout, ...]) -> list[Section]:
    design = shared.design
    host = design.host
    host_rows = (
        ("Host bridge", host.bridge),
        ("Host VLAN", str(host.vlan) if host.vlan else "untagged"),
        ("Gateway", str(host.gateway) if host.gateway else NONE),
        ("DNS", ", ".join(map(str, host.dns)) or NONE),
        ("Search domains", ", ".join(host.search) or NONE),
        ("MTU", str(host.mtu)),
    )
    sections = [
        Section("Host", Table(("Setting", "Value"), host_rows)),
        Section("Bridges", Table(("Bridge", "Uplinks", "Bond", "MTU", "Carries"), tuple(_bridge_rows(shared)))),
    ]
    if design.internal_ports:
        rows = tuple(
            (port.name, port.bridge, str(port.vlan) if port.vlan else "untagged") for port in design.internal_ports
        )
        sections.append(Section("Internal ports", Table(("Port", "Bridge", "VLAN"), rows)))
    sections.append(_network_section(design))
    node_rows = tuple(_node_row(design, layout) for layout in layouts)
    headers = ("Node", "Address", "Gateway", "Uplinks", "Build sheet")
    sections.append(Section("Nodes", Table(headers, node_rows)))
    return sections


def _bridge_rows(shared: DesignContext) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for bridge in shared.design.bridges:
        carried = shared.carried[bridge.name]
        tagged = vlan_ranges(tuple(vlan for item in carried for vlan in item.vlans))
        untagged = ", ".join(item.name for item in carried if not item.vlans)
        carries = "; ".join(
            part for part in (f"VLANs {tagged}" if tagged else "", f"untagged: {untagged}" if untagged else "") if part
        )
        rows.append(
            (
                bridge.name,
                uplinks_in_words(bridge.uplinks),
                bridge.bond_name,
                str(bridge.mtu or DEFAULT_MTU),
                carries or NONE,
            )
        )
    return rows


def uplinks_in_words(uplinks: Uplinks) -> str:
    """A bridge's uplinks as people say them: the shorthand as written (`2x10G active-backup`),
    else which NICs (`eth2 and eth3`, `2 10G NICs`, `all 10G NICs`), the bond mode, and LACP if on."""
    if uplinks.shorthand is not None:
        return uplinks.shorthand
    if uplinks.count == 1 or len(uplinks.names) == 1:
        return _uplink_nics(uplinks)  # a plain port: no bond, so no mode
    lacp = f", LACP {uplinks.lacp}" if uplinks.has_lacp else ""
    return f"{_uplink_nics(uplinks)}, {uplinks.mode}{lacp}"


def _uplink_nics(uplinks: Uplinks) -> str:
    if uplinks.names:
        *first, last = uplinks.names
        return f"{', '.join(first)} and {last}" if first else last
    if uplinks.count is None:
        return f"all {uplinks.speed} NICs"
    return f"{uplinks.count} {uplinks.speed} NIC{'' if uplinks.count == 1 else 's'}"


def _node_row(design: Design, layout: NodeLayout) -> tuple[str, ...]:
    node = layout.node
    gateway = design.gateway_of(node)
    uplinks = "; ".join(f"{u.bridge.name}: {', '.join(nic.name for nic in u.nics)}" for u in layout.uplinks)
    folder = quote(node.name)
    sheet = MarkdownText(
        f"[{markdown_text(node.name)}]({folder}/build-sheet.md) ([printable]({folder}/build-sheet.html))"
    )
    return (node.name, str(node.address) if node.address else "DHCP", str(gateway) if gateway else NONE, uplinks, sheet)


def _csv(sheets: list[NodeSheet]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for sheet in sheets:
        for row in sheet.cabled:
            port = row.port
            assert port is not None
            writer.writerow(
                map(
                    spreadsheet_safe,
                    (
                        sheet.layout.node.name,
                        row.nic.name,
                        row.nic.speed,
                        row.nic.mac or "",
                        row.bridge,
                        row.bond or "",
                        row.nic.switch or "",
                        port.mode,
                        port.native,
                        port.allowed,
                        port.lacp_text,
                        port.mtu,
                        port.bundle,
                    ),
                )
            )
    return buffer.getvalue()


# A cell that starts with one of these is a formula (or, after a tab or CR, may become one) in
# Excel, LibreOffice and Google Sheets; fullwidth forms count too in some locales.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: the OWASP guard, a leading `'` before a
    cell that starts (after any white space) like a formula. Every other cell is left as it is."""
    text = str(value)
    # Any white space before it, not only ASCII spaces: a no-break or ideographic space too.
    return "'" + text if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START) else text
