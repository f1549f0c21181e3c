"""The rows of a host dump's tables, a row at a time: each cell checked as it is read, and
only what ovsgen uses kept, in compact rows.

`Row` gives typed access to one row's cells (generator.ovs.cells checks each against its
column's type, generator.ovs.untrusted_text what may reach a script) and locates what is
wrong at the cell. READERS keep, per table, the compact rows generator.ovs.hostdump turns
into an OvsState once every table is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from generator.errors import DumpInvalid
from generator.ovs.cells import checked_atoms, checked_pairs
from generator.ovs.columns import BRIDGE_REFERENCES, COLUMNS, BaseType, ColumnType
from generator.ovs.json_lines import Where, walk
from generator.ovs.state import HOST_COLUMNS, Cell, Columns
from generator.ovs.untrusted_text import TEXT_RULES, plain_text, shown


class BridgeRow(NamedTuple):
    """What ovsgen keeps of a row of the Bridge table."""

    name: str
    ports: tuple[str, ...]
    where: int  # where the row starts in its table's line, for errors found later
    columns: Columns
    unrestorable: tuple[str, ...]


class PortRow(NamedTuple):
    """What ovsgen keeps of a row of the Port table."""

    name: str
    interfaces: tuple[str, ...]
    tag: int | None
    bond_mode: str | None
    lacp: str | None
    other_config: tuple[tuple[str, str], ...]
    where: int
    columns: Columns
    qos: bool


class InterfaceRow(NamedTuple):
    """What ovsgen keeps of a row of the Interface table."""

    name: str
    type: str
    mtu_request: int | None
    options: tuple[tuple[str, str], ...]
    columns: Columns
    mac: bool  # a requested MAC: ovs-vsctl cannot take it back through an ifcfg file


@dataclass
class Tables:
    """The compact rows of the three tables, by uuid, as they are read."""

    bridges: dict[str, BridgeRow]
    ports: dict[str, PortRow]
    interfaces: dict[str, InterfaceRow]
    seen: dict[str, int]  # tables read so far, and their lines
    names: dict[str, set[str]]  # names per table: OVSDB keeps them unique
    identity: dict[str, str]  # the Open_vSwitch row's system-id and hostname
    mirrors: dict[str, list[str]]  # port uuid -> the mirrors that select it or send to it


_ROW_UUID = ColumnType(BaseType("uuid"))


class Row:
    """One row of a table being read: typed access to its cells, and errors located at them."""

    def __init__(
        self, where: Where, offset: int, *, table: str, number: int, columns: dict[str, int], cells: Any
    ) -> None:
        self.where, self.offset, self.table, self.columns, self.cells = where, offset, table, columns, cells
        self.label = f"{table} row {number}"  # until the name is known
        width = columns[""]
        if not isinstance(cells, list) or len(cells) != width:
            raise where.fail(offset, f"{self.label}: expected an array of {width} cells, one per heading")

    def fail(self, column: str, message: str) -> DumpInvalid:
        return self.where.fail(self._offset_of(column), f"{self.label}: {message}")

    def _offset_of(self, column: str) -> int:
        """Where a cell starts in the line: found again only for an error (always about a cell the row has)."""
        offsets: list[int] = []
        walk(self.where, self.offset, lambda _number, offset, _value: offsets.append(offset))
        return offsets[self.columns[column]]

    def atoms(self, column: str, kind: ColumnType | None = None) -> list[Any]:
        """The atoms of a set (or single-value) column, checked against its schema type."""
        index = self.columns.get(column)
        if index is None:
            return []  # a dump without the column (an older Open vSwitch): empty
        try:
            return checked_atoms(self.cells[index], kind or COLUMNS[self.table][column])
        except ValueError as error:
            raise self.fail(column, f"{column}: {error}") from None

    def optional(self, column: str) -> Any:
        found = self.atoms(column)
        return found[0] if found else None

    def pairs(self, column: str) -> tuple[tuple[str, str], ...]:
        """A map column's entries, sorted, checked against its schema type."""
        index = self.columns.get(column)
        if index is None:
            return ()
        try:
            return checked_pairs(self.cells[index], COLUMNS[self.table][column])
        except ValueError as error:
            raise self.fail(column, f"{column}: {error}") from None

    def text_pairs(self, column: str) -> tuple[tuple[str, str], ...]:
        """A map column whose entries can reach a script: each key and value plain text."""
        found = self.pairs(column)
        for key, value in found:
            self.plain(column, key, "key")
            self.plain(column, value, "value")
        return found

    def plain(self, column: str, text: str, rule: str) -> str:
        if not plain_text(text, rule):
            raise self.fail(column, f"{column}: {shown(text)} is not {TEXT_RULES[rule][1]}")
        return text

    def uuid(self, known: Mapping[str, object]) -> str:
        (found,) = self.atoms("_uuid", _ROW_UUID)
        if found in known:
            raise self.fail("_uuid", f"_uuid: a second row with uuid {found}")
        return str(found)

    def name(self, names: dict[str, set[str]]) -> str:
        """The row's name, unique among the names of its table so far (`names`, by table)."""
        (found,) = self.atoms("name")
        name = self.plain("name", found, "name")
        known = names.setdefault(self.table, set())
        if name in known:
            raise self.fail("name", f"name: a second {self.table} named {name} (names are unique in OVSDB)")
        known.add(name)
        self.label = f"{self.table} {name}"
        return name


def _read_bridge(row: Row, tables: Tables) -> None:
    name = row.name(tables.names)
    uuid = row.uuid(tables.bridges)
    unrestorable = tuple(column for column in BRIDGE_REFERENCES if row.atoms(column))
    tables.bridges[uuid] = BridgeRow(name, tuple(row.atoms("ports")), row.offset, _host_columns(row), unrestorable)


def _read_port(row: Row, tables: Tables) -> None:
    name = row.name(tables.names)
    uuid = row.uuid(tables.ports)
    tables.ports[uuid] = PortRow(
        name=name,
        interfaces=tuple(row.atoms("interfaces")),
        tag=row.optional("tag"),
        bond_mode=row.optional("bond_mode"),
        lacp=row.optional("lacp"),
        other_config=row.text_pairs("other_config"),
        where=row.offset,
        columns=_host_columns(row),
        qos=bool(row.atoms("qos")),
    )


def _read_interface(row: Row, tables: Tables) -> None:
    name = row.name(tables.names)
    uuid = row.uuid(tables.interfaces)
    (kind,) = row.atoms("type") or [""]
    tables.interfaces[uuid] = InterfaceRow(
        name=name,
        type=row.plain("type", kind, "type"),
        mtu_request=row.optional("mtu_request"),
        options=row.text_pairs("options"),
        columns=_host_columns(row),
        mac=bool(row.atoms("mac")),
    )


def _read_root(row: Row, tables: Tables) -> None:
    """The Open_vSwitch row: the host's system-id and hostname, which plans insist on."""
    found = dict(row.text_pairs("external_ids"))
    tables.identity.update({key: found[key] for key in ("system-id", "hostname") if key in found})


def _read_mirror(row: Row, tables: Tables) -> None:
    name = row.plain("name", row.optional("name") or "", "name")
    ports = {*row.atoms("select_src_port"), *row.atoms("select_dst_port"), *row.atoms("output_port")}
    for port in sorted(ports):
        tables.mirrors.setdefault(port, []).append(name)


def _host_columns(row: Row) -> Columns:
    """The row's HOST_COLUMNS that differ from a new row's value, checked; strings plain text."""
    columns: list[tuple[str, Cell]] = []
    for name, default in HOST_COLUMNS[row.table].items():
        kind = COLUMNS[row.table][name]
        value: Cell
        if kind.value is not None:
            value = row.text_pairs(name)
        elif kind.max == 1:  # a value, or an optional one (OVSDB's set of at most one)
            (value,) = row.atoms(name) or [default]
        else:
            value = tuple(sorted(row.atoms(name)))
        if isinstance(value, str):  # identifiers (enums, datapath types): ovs-vsctl reads them unquoted
            row.plain(name, value, "type")
        if value != default:
            columns.append((name, value))
    return tuple(columns)


READERS: Mapping[str, Callable[[Row, Tables], None]] = MappingProxyType(
    {
        "Bridge": _read_bridge,
        "Port": _read_port,
        "Interface": _read_interface,
        "Open_vSwitch": _read_root,
        "Mirror": _read_mirror,
    }
)
