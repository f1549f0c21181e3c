"""ovs/apply.sh: one atomic, idempotent ovs-vsctl transaction per node, with read-back.

The transaction uses --may-exist for what it creates and then sets (or clears)
every managed column explicitly, so a second run converges. The script also
carries the expected value of every managed setting; it compares them with
the database before (nothing to do?) and after (did it hold?) applying.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from generator.model import Design
from generator.ovsstate import MANAGED_BOND_KEYS, OvsState, PortState, node_state
from generator.render.files import OutputFile
from generator.render.ifcfg import bond_options
from generator.render.templating import header_comment, template
from generator.resolve import NodeLayout, natural_key

UNSET = "(unset)"


@dataclass(frozen=True)
class Expectation:
    """One managed setting as the script reads it back: `Port br0-up bond_mode = active-backup`."""

    table: str
    record: str
    column: str  # a column, column:key, or @bridge / @members (see the script's observe())
    value: str

    def line(self) -> str:
        return f"{self.table} {self.record} {self.column} = {self.value}"


FOLDER = "ovs"


def render_apply_script(design: Design, layout: NodeLayout, node_folder: PurePosixPath) -> list[OutputFile]:
    state = node_state(design, layout)
    text = template("apply.sh.j2").render(
        header=header_comment(design.file_name, layout.node.name),
        node=layout.node.name,
        commands=transaction(state),
        nics=sorted({nic for port in state.ports for nic in port.members} | _single_nics(state), key=natural_key),
        expected=[expectation.line() for expectation in expectations(state)],
    )
    return [OutputFile(node_folder / FOLDER / "apply.sh", text, executable=True)]


def _single_nics(state: OvsState) -> set[str]:
    return {port.name for port in state.ports if port.kind == "nic"}


def transaction(state: OvsState) -> list[list[str]]:
    """The ovs-vsctl commands (without the `--` separators) that converge a node."""
    commands: list[list[str]] = []
    for bridge in state.bridges:
        commands.append(["--may-exist", "add-br", bridge])
        for port in (p for p in state.ports if p.bridge == bridge):
            commands.extend(_port_commands(port))
    for interface in state.interfaces:
        if interface.mtu_request is None:
            commands.append(["clear", "Interface", interface.name, "mtu_request"])
        else:
            commands.append(["set", "Interface", interface.name, f"mtu_request={interface.mtu_request}"])
    return commands


def _port_commands(port: PortState) -> list[list[str]]:
    if port.kind == "bond":
        commands = [
            ["--may-exist", "add-bond", port.bridge, port.name, *port.members],
            ["set", "Port", port.name, *bond_options(port)],
        ]
        if port.lacp is None:
            commands.append(["clear", "Port", port.name, "lacp"])
        unset = [key for key in MANAGED_BOND_KEYS if key not in dict(port.other_config)]
        if unset:
            commands.append(["remove", "Port", port.name, "other_config", *unset])
        return commands
    commands = []
    if port.kind in ("nic", "internal"):
        commands.append(["--may-exist", "add-port", port.bridge, port.name])
    if port.kind == "internal":
        commands.append(["set", "Interface", port.name, "type=internal"])
    if port.tagged:
        commands.append(
            ["set", "Port", port.name, f"tag={port.tag}"]
            if port.tag is not None
            else ["clear", "Port", port.name, "tag"]
        )
    return commands


def expectations(state: OvsState) -> list[Expectation]:
    found = [Expectation("Bridge", bridge, "name", bridge) for bridge in state.bridges]
    for port in state.ports:
        if port.kind != "bridge":  # a bridge's own port belongs to it by definition
            found.append(Expectation("Port", port.name, "@bridge", port.bridge))
        if port.tagged:
            found.append(Expectation("Port", port.name, "tag", str(port.tag) if port.tag is not None else UNSET))
        if port.kind == "bond":
            found += _bond_expectations(port)
    for interface in state.interfaces:
        if interface.internal:
            found.append(Expectation("Interface", interface.name, "type", "internal"))
        mtu = str(interface.mtu_request) if interface.mtu_request is not None else UNSET
        found.append(Expectation("Interface", interface.name, "mtu_request", mtu))
    return found


def _bond_expectations(port: PortState) -> list[Expectation]:
    options = dict(port.other_config)
    return [
        # The script lists members sorted (LC_ALL=C), as Python's sorted() does.
        Expectation("Port", port.name, "@members", " ".join(sorted(port.members))),
        Expectation("Port", port.name, "bond_mode", port.bond_mode or UNSET),
        Expectation("Port", port.name, "lacp", port.lacp or UNSET),
        *(Expectation("Port", port.name, f"other_config:{key}", options.get(key, UNSET)) for key in MANAGED_BOND_KEYS),
    ]
