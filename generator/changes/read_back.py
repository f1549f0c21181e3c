"""What a plan's scripts read back from the database: before they change anything (the rows
must be what the plan starts from) and after (the rows must be what it promised).

Every row a plan deletes must be, column for column, what the plan's rollback would put back:
such a row is read whole, and so is a row the plan builds.
"""

from __future__ import annotations

from collections.abc import Iterable

from generator.ovs.commands import (
    UNSET,
    Expectation,
    absent,
    bridge_row_expectations,
    full_port_expectations,
    owner_expectation,
    port_expectations,
)
from generator.ovs.state import OvsState, PortState


def read_back(
    state: OvsState,
    *,
    bridges: Iterable[str],
    removed_bridges: Iterable[str],
    ports: Iterable[str],
    whole_ports: Iterable[str],
) -> list[Expectation]:
    """What the scripts read back for the bridges and ports a plan touches, as `state` has them.
    A removed bridge and a port in `whole_ports` (deleted or rebuilt) are checked whole: what is
    not as expected would be lost."""
    found = _bridge_expectations(state, bridges, frozenset(removed_bridges))
    whole = frozenset(whole_ports)
    for name in sorted(set(ports)):
        port = state.port(name)
        if port is None:
            found.append(absent(name))
            continue
        rows = full_port_expectations(state, port) if name in whole else _port_and_mtu(state, port)
        # A bridge's own port is read back as its bridge, which the bridges' part reads if the plan touches it.
        found += [e for e in rows if e.table != "Bridge"]
    return _unique(found)


def _bridge_expectations(state: OvsState, bridges: Iterable[str], removed: frozenset[str]) -> list[Expectation]:
    found: list[Expectation] = []
    for bridge in sorted(bridges):
        found.append(Expectation("Bridge", bridge, "name", bridge if bridge in state.bridges else UNSET))
        if bridge in state.bridges:
            found.append(owner_expectation(bridge, state.bridge_row(bridge).owned))
        if bridge in state.bridges and bridge in removed:
            found += bridge_row_expectations(state, bridge)
    return found


def _port_and_mtu(state: OvsState, port: PortState) -> list[Expectation]:
    """A port the plan changes in place: the columns a design manages, and its interfaces' MTU."""
    return port_expectations(port) + [
        Expectation("Interface", i.name, "mtu_request", str(i.mtu_request) if i.mtu_request is not None else UNSET)
        for i in state.interfaces_of(port)
    ]


def _unique(found: list[Expectation]) -> list[Expectation]:
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for expectation in found:
        key = (expectation.table, expectation.record, expectation.column)
        if key not in seen:
            seen.add(key)
            kept.append(expectation)
    return kept
