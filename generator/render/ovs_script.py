"""ovs/apply.sh: one atomic, idempotent ovs-vsctl transaction per node, with read-back.

The transaction uses --may-exist for what it creates and then sets (or clears)
every managed column explicitly, so a second run converges. The script also
carries the expected value of every managed setting; it compares them with
the database before (nothing to do?) and after (did it hold?) applying.
The same template renders change plans (generator.changes.plan_folder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.design.resolve import natural_key
from generator.ovs.commands import Command, Expectation, converge, expectations
from generator.ovs.state import OvsState
from generator.render.context import NodeContext
from generator.render.files import OutputFile
from generator.render.networkmanager import BACKEND
from generator.render.templating import template

FOLDER = "ovs"


def render_apply_script(context: NodeContext) -> list[OutputFile]:
    """ovs/apply.sh of the node, from its context's OVS state."""
    node, state = context.name, context.state
    on_networkmanager = BACKEND in context.design.backends_of(context.layout.node)
    purpose: tuple[str, ...] = (
        f"Brings the Open vSwitch configuration of node {node} to the design in one",
        "atomic ovs-vsctl transaction. Safe to run again: a second run finds nothing to do.",
    )
    if on_networkmanager:
        purpose += (
            "Where NetworkManager configures this node (NetworkManager/apply.sh), it owns these",
            "rows: run this with --check there, not --apply.",
        )
    text = ovs_script(
        header=context.header,
        script="apply.sh",
        node=node,
        purpose=purpose,
        commands=converge(state),
        nics=uplink_nics(state),
        expected=expectations(state),
        device_mtu=uplink_nics(state) if on_networkmanager else (),
    )
    return [OutputFile(f"{context.folder}/{FOLDER}/apply.sh", text, executable=True)]


@dataclass(frozen=True)
class HostGuard:
    """The host a plan's script insists on: the Open vSwitch system-id a dump recorded, else a host name."""

    system_id: str
    hostname: str

    @property
    def describe(self) -> str:
        if self.system_id:
            return f"the Open vSwitch system-id {self.system_id}"
        return f"host name {self.hostname}"


def uplink_nics(state: OvsState) -> list[str]:
    """NICs that must exist on the host: bond members and single uplinks."""
    names = {name for port in state.ports if port.kind in ("bond", "nic") for name in port.members}
    return sorted(names, key=natural_key)


def ovs_script(
    *,
    header: str,
    script: str,
    node: str,
    purpose: Sequence[str],
    commands: Sequence[Command],
    nics: Sequence[str],
    expected: Sequence[Expectation],
    before: Sequence[Expectation] | None = None,
    risks: Sequence[str] = (),
    target: str = "the design",
    guard: HostGuard | None = None,
    origin: str = "the starting state",
    removed: Sequence[tuple[str, Sequence[str]]] = (),
    hint: str = "",
    device_mtu: Sequence[str] = (),
) -> str:
    """The text of an ovs-vsctl script; `before` makes it refuse a host in another state (`origin`
    names that state in messages), `removed` lists the bridges it removes with the ports it knows
    on each, `hint` says what to do when the host is in another state. `device_mtu` names the NICs
    of a node on NetworkManager: NetworkManager sets a NIC's MTU on the device and leaves its
    mtu_request empty (it writes mtu_request for internal interfaces only), so the script takes an
    empty mtu_request with the device at the MTU asked for as that MTU."""
    return template("ovs-script.sh.j2").render(
        header=header,
        script=script,
        node=node,
        purpose=purpose,
        commands=commands,
        nics=nics,
        expected=[e.line() for e in expected],
        before=None if before is None else [e.line() for e in before],
        risks=risks,
        target=target,
        guard=guard,
        origin=origin,
        removed_bridges=[bridge for bridge, _ in removed],
        known_ports=[" ".join(ports) for _, ports in removed],
        hint=hint,
        device_mtu=device_mtu,
    )
