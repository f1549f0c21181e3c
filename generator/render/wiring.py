"""The wiring diagram of a node as SVG, laid out by ovsgen itself.

Left to right: NICs (speed, switch port) -> bond -> bridge -> what the bridge
carries (host port, internal ports, libvirt networks with their VLANs). One
band per bridge, unused NICs at the bottom. Text is monospace and boxes are
sized from character counts, so the layout is the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from generator.design.model import DEFAULT_MTU, Bridge
from generator.design.resolve import BridgeUplinks
from generator.render.switch_side import Carried, NodeSheet, vlan_ranges

SVG_NS = "http://www.w3.org/2000/svg"
CHAR_WIDTH = 7.2  # 12px monospace
ROW = 48
BOX_HEIGHT = 36
GAP = 48
MARGIN = 16
TITLE_HEIGHT = 32
BAND_GAP = 16
COLORS = {
    "nic": "#e8f0fe",
    "bond": "#fef7e0",
    "bridge": "#e6f4ea",
    "host": "#fce8e6",
    "internal port": "#f3e8fd",
    "network": "#e8eaed",
    "portgroup": "#e8eaed",
    "unused": "#ffffff",
}


class Box(NamedTuple):
    """A box of the wiring diagram: position, width, text lines and kind.

    A named tuple, not a frozen dataclass: a node's diagram makes ~20, and a frozen
    dataclass costs three times as much to create (benchmarks/README.md)."""

    x: float
    y: float
    width: float
    lines: tuple[str, ...]
    kind: str

    @property
    def left(self) -> tuple[float, float]:
        return self.x, self.y + BOX_HEIGHT / 2

    @property
    def right(self) -> tuple[float, float]:
        return self.x + self.width, self.y + BOX_HEIGHT / 2


def _width(texts: list[tuple[str, ...]]) -> float:
    longest = max((len(line) for lines in texts for line in lines), default=8)
    return round(longest * CHAR_WIDTH + 16, 1)


def _nic_lines(sheet: NodeSheet) -> list[tuple[str, ...]]:
    return [(f"{row.nic.name} {row.nic.speed}", row.nic.switch or "switch port ?") for row in sheet.rows]


def _carried_lines(item: Carried, sheet: NodeSheet) -> tuple[str, ...]:
    vlans = f"VLAN {vlan_ranges(item.vlans)}" if item.vlans else "untagged"
    if item.kind == "host":
        address = sheet.layout.node.address
        return (f"host {address or 'DHCP'}", vlans)
    if item.kind == "internal port":
        address = next((p.address for p in sheet.layout.node.ports if p.port == item.name), None)
        return (f"{item.name} {address}", vlans)
    return (f"{item.kind} {item.name}", vlans)


def _bond_lines(uplinks: BridgeUplinks) -> tuple[str, ...]:
    spec = uplinks.bridge.uplinks
    lacp = f" LACP {spec.lacp} {spec.lacp_time or 'slow'}" if spec.has_lacp else ""
    return (uplinks.bridge.bond_name, f"{spec.mode}{lacp}")


@dataclass(frozen=True)
class Diagram:
    """The laid-out wiring diagram of a node."""

    title: str
    width: float
    height: float
    boxes: tuple[Box, ...]
    links: tuple[tuple[Box, Box], ...]


def render_wiring_svg(sheet: NodeSheet, header: str) -> str:
    return f"<!-- {_comment(header)} -->\n{_svg(layout_diagram(sheet))}"


def _comment(text: str) -> str:
    """`text` as the body of an XML comment, which may not hold `--`. The header comes without
    it (templating.comment_safe); this keeps the SVG well-formed whatever a caller passes."""
    while "--" in text:
        text = text.replace("--", "- -")
    return text


def _column_widths(sheet: NodeSheet, carried: dict[str, list[tuple[Carried, tuple[str, ...]]]]) -> list[float]:
    design = sheet.design
    return [
        _width(_nic_lines(sheet)),
        _width([_bond_lines(u) for u in sheet.layout.uplinks if u.is_bond]),
        _width([_bridge_lines(b) for b in design.bridges]),
        _width([lines for items in carried.values() for _, lines in items]),
    ]


def _bridge_lines(bridge: Bridge) -> tuple[str, ...]:
    return (bridge.name, f"MTU {bridge.mtu or DEFAULT_MTU}")


def layout_diagram(sheet: NodeSheet) -> Diagram:
    """Place the boxes: one band per bridge, NICs and carried items centred on it."""
    design = sheet.design
    carried = {
        bridge.name: [(item, _carried_lines(item, sheet)) for item in sheet.carried[bridge.name]]
        for bridge in design.bridges
    }
    widths = _column_widths(sheet, carried)
    columns = [float(MARGIN)]
    for width in widths[:-1]:
        columns.append(columns[-1] + width + GAP)
    nic_lines = dict(zip((row.nic.name for row in sheet.rows), _nic_lines(sheet), strict=True))
    boxes: list[Box] = []
    links: list[tuple[Box, Box]] = []
    y = float(MARGIN + TITLE_HEIGHT)
    for bridge in design.bridges:
        uplinks = sheet.layout.uplinks_of(bridge.name)
        nics = list(uplinks.nics) if uplinks else []
        items = carried[bridge.name]
        rows = max(len(nics), len(items), 1)
        middle = y + (rows - 1) * ROW / 2
        bridge_box = Box(columns[2], middle, widths[2], _bridge_lines(bridge), "bridge")
        boxes.append(bridge_box)
        target = bridge_box
        if uplinks is not None and uplinks.is_bond:
            target = Box(columns[1], middle, widths[1], _bond_lines(uplinks), "bond")
            boxes.append(target)
            links.append((target, bridge_box))
        for index, nic in enumerate(nics):
            box = Box(columns[0], y + (rows - len(nics)) * ROW / 2 + index * ROW, widths[0], nic_lines[nic.name], "nic")
            boxes.append(box)
            links.append((box, target))
        for index, (item, lines) in enumerate(items):
            top = y + (rows - len(items)) * ROW / 2 + index * ROW
            box = Box(columns[3], top, widths[3], lines, item.kind)
            boxes.append(box)
            links.append((bridge_box, box))
        y += rows * ROW + BAND_GAP
    for nic in sheet.layout.unused_nics:
        boxes.append(Box(columns[0], y, widths[0], (f"{nic.name} {nic.speed}", "unused"), "unused"))
        y += ROW
    width = columns[3] + widths[3] + MARGIN
    title = f"Wiring of {sheet.layout.node.name}"
    return Diagram(title, width, y + MARGIN, tuple(boxes), tuple(links))


# Written as text, laid out as libxml2 pretty-prints it. Numbers, colours and
# classes come from this module; only names from the design need escaping.
_LINK = 'fill="none" stroke="#5f6368" stroke-width="1.5"'


def _text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _svg(diagram: Diagram) -> str:
    width, height = f"{diagram.width:g}", f"{diagram.height:g}"
    title = _text(diagram.title)
    lines = [
        f'<svg xmlns="{SVG_NS}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'font-family="monospace" font-size="12">\n',
        f"  <title>{title}</title>\n",
        f'  <text x="{MARGIN}" y="{MARGIN + 14}" font-size="14">{title}</text>\n',
    ]
    for start, end in diagram.links:
        (x1, y1), (x2, y2) = start.right, end.left
        bend = (x1 + x2) / 2
        lines.append(f'  <path d="M{x1:g},{y1:g} C{bend:g},{y1:g} {bend:g},{y2:g} {x2:g},{y2:g}" {_LINK}/>\n')
    for box in diagram.boxes:
        lines += _box(box)
    lines.append("</svg>\n")
    return "".join(lines)


def _box(box: Box) -> list[str]:
    unused = box.kind == "unused"
    stroke = '"#9aa0a6" stroke-dasharray="4 3"' if unused else '"#3c4043"'
    lines = [
        f'  <g class="{box.kind.replace(" ", "-")}">\n',
        f'    <rect x="{box.x:g}" y="{box.y:g}" width="{box.width:g}" height="{BOX_HEIGHT}" rx="4" '
        f'fill="{COLORS[box.kind]}" stroke={stroke}/>\n',
    ]
    x = f"{box.x + 8:g}"
    for index, line in enumerate(box.lines):
        fill = ' fill="#5f6368"' if index else ""
        lines.append(f'    <text x="{x}" y="{box.y + 15 + index * 14:g}"{fill}>{_text(line)}</text>\n')
    lines.append("  </g>\n")
    return lines
