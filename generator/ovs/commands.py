"""ovs-vsctl commands and read-back expectations for an OvsState.

Two ways to reach a state: `converge` (apply.sh: --may-exist for what it
creates, then every managed column set or cleared, whatever was there) and the
minimal steps of a change plan (`create_port`, `update_port`,
`update_interface`), which know what was there before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from generator.ovs.state import (
    HOST_COLUMNS,
    MANAGED_BOND_KEYS,
    OWNER_KEY,
    OWNER_VALUE,
    BridgeState,
    Cell,
    Columns,
    InterfaceState,
    OvsState,
    PortState,
)

Command = tuple[str, ...]
UNSET = "(unset)"


def bond_options(port: PortState) -> list[str]:
    """The Port columns of a bond as ovs-vsctl add-bond/set arguments. A host's bond may have no
    bond_mode (ovs-vsctl add-bond sets none): then there is none to set."""
    options = [f"bond_mode={port.bond_mode}"] if port.bond_mode is not None else []
    if port.lacp is not None:
        options.append(f"lacp={port.lacp}")
    options += [f"other_config:{key}={value}" for key, value in port.other_config]
    return options


def _set_bond(port: PortState) -> list[Command]:
    options = bond_options(port)
    return [("set", "Port", port.name, *options)] if options else []


def cell_arguments(name: str, value: Cell) -> list[str]:
    """A host column as ovs-vsctl `set` arguments: a map one key at a time, a set whole. No
    quotes: the ifcfg files carry these words inside a double-quoted value. The string columns
    of HOST_COLUMNS hold identifiers (enums, datapath types), which ovs-vsctl reads unquoted;
    a requested `mac`, which it would not, stops a plan instead (generator.ovs.hostdump)."""
    if isinstance(value, bool):
        return [f"{name}={str(value).lower()}"]
    if not isinstance(value, tuple):
        return [f"{name}={value}"]
    if value and isinstance(value[0], tuple):
        return [f"{name}:{pair[0]}={pair[1]}" for pair in value if isinstance(pair, tuple)]
    return [f"{name}=[{','.join(str(atom) for atom in value)}]"]


def read_back(value: Cell) -> str:
    """A column's value as the scripts' observe() prints `ovs-vsctl get` (quotes dropped)."""
    if isinstance(value, bool):
        return str(value).lower()
    if not isinstance(value, tuple):
        return str(value) if value != "" else UNSET
    if not value:
        return UNSET
    # OVSDB keeps sets and maps sorted (by key), and ovs-vsctl prints them so: whatever order a
    # design or dump gave, the expectation is in the database's.
    if isinstance(value[0], tuple):
        pairs = sorted(pair for pair in value if isinstance(pair, tuple))
        return "{" + ", ".join(f"{key}={atom}" for key, atom in pairs) + "}"
    return "[" + ", ".join(str(atom) for atom in sorted(value)) + "]"


def _set_columns(table: str, record: str, columns: Columns) -> list[Command]:
    arguments = [argument for name, value in columns for argument in cell_arguments(name, value)]
    return [("set", table, record, *arguments)] if arguments else []


def create_bridge(row: BridgeState) -> list[Command]:
    """A bridge with the columns it had (a host's) or ovsgen's mark (a design's)."""
    return [("add-br", row.name), *_set_columns("Bridge", row.name, row.columns)]


def update_bridge(before: BridgeState, after: BridgeState) -> list[Command]:
    """Only the mark changes on a bridge that stays: set when the design takes it over, removed on rollback."""
    if before.owned == after.owned:
        return []
    if after.owned:
        return [("set", "Bridge", after.name, f"external_ids:{OWNER_KEY}={OWNER_VALUE}")]
    return [("remove", "Bridge", after.name, "external_ids", OWNER_KEY)]


def _tag(port: PortState) -> Command:
    return (
        ("set", "Port", port.name, f"tag={port.tag}") if port.tag is not None else ("clear", "Port", port.name, "tag")
    )


def _mtu(interface: InterfaceState) -> Command:
    if interface.mtu_request is None:
        return ("clear", "Interface", interface.name, "mtu_request")
    return ("set", "Interface", interface.name, f"mtu_request={interface.mtu_request}")


# --- converge: apply.sh -----------------------------------------------------


def converge(state: OvsState) -> list[Command]:
    """Commands that bring any database to `state`, safe to run again."""
    commands: list[Command] = []
    for bridge in state.bridges:
        commands.append(("--may-exist", "add-br", bridge))
        commands.append(("set", "Bridge", bridge, f"external_ids:{OWNER_KEY}={OWNER_VALUE}"))
        for port in (p for p in state.ports if p.bridge == bridge):
            commands.extend(_converge_port(port))
    commands += [_mtu(interface) for interface in state.interfaces]
    return commands


def _converge_port(port: PortState) -> list[Command]:
    if port.kind == "bond":
        commands = [("--may-exist", "add-bond", port.bridge, port.name, *port.members)]
        commands += _set_bond(port)
        if port.lacp is None:
            commands.append(("clear", "Port", port.name, "lacp"))
        unset = [key for key in MANAGED_BOND_KEYS if key not in dict(port.other_config)]
        if unset:
            commands.append(("remove", "Port", port.name, "other_config", *unset))
        return commands
    commands = []
    if port.kind in ("nic", "internal"):
        commands.append(("--may-exist", "add-port", port.bridge, port.name))
    if port.kind == "internal":
        commands.append(("set", "Interface", port.name, "type=internal"))
    if port.tagged:
        commands.append(_tag(port))
    return commands


# --- minimal steps: change plans --------------------------------------------


def create_port(state: OvsState, port: PortState) -> list[Command]:
    """Commands that create `port` as `state` describes it (nothing is there yet)."""
    if port.kind == "bond":
        commands: list[Command] = [("add-bond", port.bridge, port.name, *port.members)]
        commands += _set_bond(port)
    else:
        commands = [("add-port", port.bridge, port.name)]
        options = [f"other_config:{key}={value}" for key, value in port.other_config]
        if options:
            commands.append(("set", "Port", port.name, *options))
    if port.tag is not None:
        commands.append(_tag(port))
    commands += _set_columns("Port", port.name, port.columns)
    for interface in state.interfaces_of(port):
        commands += _create_interface(interface)
    return commands


def _create_interface(interface: InterfaceState) -> list[Command]:
    columns = [f"type={interface.type}"] if interface.type else []
    columns += [f"options:{key}={value}" for key, value in interface.options]
    if interface.mtu_request is not None:
        columns.append(f"mtu_request={interface.mtu_request}")
    columns += [argument for name, value in interface.columns for argument in cell_arguments(name, value)]
    return [("set", "Interface", interface.name, *columns)] if columns else []


def update_port(before: PortState, after: PortState) -> list[Command]:
    """Commands that change the managed columns of an existing port from `before` to `after`."""
    commands: list[Command] = []
    if before.tag != after.tag and (after.tagged or after.kind == "other"):
        commands.append(_tag(after))
    if after.kind != "bond":
        return commands
    changed = []
    if before.bond_mode != after.bond_mode and after.bond_mode is not None:
        changed.append(f"bond_mode={after.bond_mode}")
    if before.lacp != after.lacp and after.lacp is not None:
        changed.append(f"lacp={after.lacp}")
    old, new = dict(before.other_config), dict(after.other_config)
    changed += [
        f"other_config:{key}={new[key]}" for key in MANAGED_BOND_KEYS if key in new and old.get(key) != new[key]
    ]
    if changed:
        commands.append(("set", "Port", after.name, *changed))
    if before.lacp is not None and after.lacp is None:
        commands.append(("clear", "Port", after.name, "lacp"))
    if before.bond_mode is not None and after.bond_mode is None:  # back to a host's bond without one
        commands.append(("clear", "Port", after.name, "bond_mode"))
    removed = [key for key in MANAGED_BOND_KEYS if key in old and key not in new]
    if removed:
        commands.append(("remove", "Port", after.name, "other_config", *removed))
    return commands


def update_interface(before: InterfaceState, after: InterfaceState) -> list[Command]:
    return [_mtu(after)] if before.mtu_request != after.mtu_request else []


# --- read-back ----------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """One managed setting as the scripts read it back: `Port br0-up bond_mode = active-backup`."""

    table: str
    record: str
    column: str  # a column, column:key, or @bridge / @members (see the scripts' observe())
    value: str

    def line(self) -> str:
        return f"{self.table} {self.record} {self.column} = {self.value}"


def expectations(state: OvsState, ports: Iterable[str] | None = None) -> list[Expectation]:
    """Read-back expectations for `state`, limited to `ports` (by name) when given."""
    wanted = None if ports is None else set(ports)
    found: list[Expectation] = [] if wanted is not None else [owner_expectation(b) for b in state.bridges]
    for port in state.ports:
        if wanted is not None and port.name not in wanted:
            continue
        found += port_expectations(port)
        found += [_interface_expectation(interface) for interface in state.interfaces_of(port)]
        found += [
            Expectation("Interface", interface.name, "type", interface.type)
            for interface in state.interfaces_of(port)
            if interface.type
        ]
    return sorted(found, key=lambda e: (e.table, e.record, e.column))  # Bridge, Interface, Port


def owner_expectation(bridge: str, owned: bool = True) -> Expectation:
    return Expectation("Bridge", bridge, f"external_ids:{OWNER_KEY}", OWNER_VALUE if owned else UNSET)


def bridge_row_expectations(state: OvsState, bridge: str) -> list[Expectation]:
    """Every column of a bridge a plan removes, and exactly the ports it had: a VM tap added
    since the plan was made, or a setting made by hand, stops the plan before it deletes them."""
    row = state.bridge_row(bridge)
    ports = sorted(p.name for p in state.ports if p.bridge == bridge and p.kind != "bridge")
    return [
        Expectation("Bridge", bridge, "@ports", " ".join(ports) or UNSET),
        *_host_expectations("Bridge", bridge, row.columns),
    ]


def full_port_expectations(state: OvsState, port: PortState) -> list[Expectation]:
    """Every column of a port (and its interfaces) a plan deletes or rebuilds, as `state` has it:
    what rollback would put back, so nothing else may be there."""
    found = [e for e in port_expectations(port) if e.column != "tag"]
    found += [
        Expectation("Port", port.name, "tag", str(port.tag) if port.tag is not None else UNSET),
        Expectation("Port", port.name, "other_config", read_back(port.other_config)),
        *_host_expectations("Port", port.name, port.columns),
        # What no rollback puts back must not be there (a plan from a dump refuses such a port).
        Expectation("Port", port.name, "qos", UNSET),
        Expectation("Port", port.name, "@mirrors", UNSET),
    ]
    if port.kind != "bond":
        found += [
            Expectation("Port", port.name, "bond_mode", port.bond_mode or UNSET),
            Expectation("Port", port.name, "lacp", port.lacp or UNSET),
        ]
    for interface in state.interfaces_of(port):
        found += [
            _interface_expectation(interface),
            Expectation("Interface", interface.name, "type", interface.type or UNSET),
            Expectation("Interface", interface.name, "options", read_back(interface.options)),
            Expectation("Interface", interface.name, "mac", UNSET),
            *_host_expectations("Interface", interface.name, interface.columns),
        ]
    return found


def _host_expectations(table: str, record: str, columns: Columns) -> list[Expectation]:
    have = dict(columns)
    return [
        Expectation(table, record, name, read_back(have.get(name, default)))
        for name, default in HOST_COLUMNS[table].items()
    ]


def absent(port: str) -> Expectation:
    return Expectation("Port", port, "@bridge", UNSET)


def port_expectations(port: PortState) -> list[Expectation]:
    if port.kind == "bridge":
        # A bridge's own port belongs to it by definition; the bridge must exist.
        found = [Expectation("Bridge", port.name, "name", port.name)]
    else:
        found = [Expectation("Port", port.name, "@bridge", port.bridge)]
    if port.tagged or port.kind == "other":
        found.append(Expectation("Port", port.name, "tag", str(port.tag) if port.tag is not None else UNSET))
    if port.kind == "bond":
        options = dict(port.other_config)
        found += [
            # The scripts list members sorted (LC_ALL=C), as Python's sorted() does.
            Expectation("Port", port.name, "@members", " ".join(sorted(port.members))),
            Expectation("Port", port.name, "bond_mode", port.bond_mode or UNSET),
            Expectation("Port", port.name, "lacp", port.lacp or UNSET),
            *(
                Expectation("Port", port.name, f"other_config:{key}", options.get(key, UNSET))
                for key in MANAGED_BOND_KEYS
            ),
        ]
    return found


def _interface_expectation(interface: InterfaceState) -> Expectation:
    mtu = str(interface.mtu_request) if interface.mtu_request is not None else UNSET
    return Expectation("Interface", interface.name, "mtu_request", mtu)
