"""Every row of an Open_vSwitch database, whole, as `ovsgen rehearse` compares them.

A snapshot holds every row of the tables whose rows have a unique name (Bridge,
Port, Interface), the root row of Open_vSwitch, and the rows of the other root
tables (QoS, Queue, ...), with every column but those only ovs-vswitchd writes.
Rows are keyed by (table, name), never by uuid: a rebuilt row gets a new uuid,
and what counts is what it holds. A reference to a named row becomes that name
(Bridge.ports is the set of its ports' names); a reference to a row without a
name (Port.qos -> QoS) becomes that row's own columns, so that a lost QoS shows.

Values keep their types (generator.ovs.cells): an integer stays an integer, a set
of integers a frozenset of them, a map an OvsMap. The database may come from a
host's backup, so its strings are untrusted: every difference is shown through
`untrusted_text.shown`, and names and keys through the same plain-text rules as
a host dump.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.design.resolve import natural_key
from generator.errors import DumpInvalid
from generator.ovs.cells import Absent, OvsMap, atom_order, plain_atom, typed_value
from generator.ovs.columns import VSWITCHD_COLUMNS, BaseType, ColumnType, column_type
from generator.ovs.state import managed_columns
from generator.ovs.untrusted_text import plain_text, shown

ROOT = "Open_vSwitch"
ROOT_KEY = (ROOT, "")

MAX_SHOWN_DIFFERENCES = 40  # a plan gone wrong on a big host should not bury the first lines


@dataclass(frozen=True)
class Nested:
    """A referenced row that has no name: its table and its columns (empty ones left out)."""

    table: str
    cells: tuple[tuple[str, object], ...]


Key = tuple[str, str]  # (table, name); the Open_vSwitch root row is (ROOT, "")
Row = dict[str, object]
Rows = dict[Key, Row]


# --- the schema: which columns count, and their types ----------------------------


@dataclass(frozen=True)
class Table:
    """What a snapshot needs of a table's schema."""

    name: str
    columns: Mapping[str, ColumnType]  # the compared columns only
    named: bool  # rows have a unique name: keyed by it, referenced by it
    root: bool


def schema_tables(schema: object, source: str) -> dict[str, Table]:
    """The tables of a schema's JSON (as `ovsdb-client get-schema` prints it)."""
    try:
        tables = schema["tables"]  # type: ignore[index]
        return {name: _table(name, spec) for name, spec in tables.items()}
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise DumpInvalid.at(source, 1, 1, f"the database's schema cannot be read: {shown(str(error))}") from None


def _table(name: str, spec: Any) -> Table:
    skipped = VSWITCHD_COLUMNS.get(name, frozenset())
    columns = {
        column: column_type(info["type"])
        for column, info in spec["columns"].items()
        if not info.get("ephemeral") and column not in skipped
    }
    named = "name" in columns and ["name"] in spec.get("indexes", [])
    return Table(name, columns, named, bool(spec.get("isRoot")))


# --- reading a dump ----------------------------------------------------------------


def read_rows(dump: str, schema: object, source: str) -> Rows:
    """The rows of `ovsdb-client dump --format=json` output of a whole Open_vSwitch database."""
    tables = schema_tables(schema, source)
    raw = _raw_tables(dump, source)
    return _Resolver(tables, raw, source).rows()


def _raw_tables(dump: str, source: str) -> dict[str, dict[str, dict[str, Any]]]:
    """table -> uuid -> column -> cell, as the dump has them."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for number, line in enumerate(dump.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            table = json.loads(line)
            name = table["caption"].removesuffix(" table")
            headings = table["headings"]
            rows = [dict(zip(headings, cells, strict=True)) for cells in table["data"]]
            found[name] = {row["_uuid"][1]: row for row in rows}
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            message = f"line {number} is not ovsdb-client dump output: {shown(str(error))}"
            raise DumpInvalid.at(source, 1, 1, message) from None
    return found


class _Resolver:
    """Turns raw cells into typed values, references into names or nested rows."""

    def __init__(self, tables: dict[str, Table], raw: dict[str, dict[str, dict[str, Any]]], source: str) -> None:
        self.tables, self.raw, self.source = tables, raw, source
        self.table_of = {uuid: table for table, rows in raw.items() for uuid in rows}
        self.copies: dict[Key, int] = {}  # rows without a name, by what they hold: how many so far

    def rows(self) -> Rows:
        rows: Rows = {}
        for name, table in self.tables.items():
            if not (table.named or table.root):
                continue  # reachable only through references: part of the rows that refer to them
            for uuid, raw in self.raw.get(name, {}).items():
                row = self._row(table, raw, frozenset({uuid}))
                rows[self._unique_key(table, row)] = row
        return rows

    def _unique_key(self, table: Table, row: Row) -> Key:
        if table.name == ROOT:
            return ROOT_KEY
        if table.named:
            return (table.name, str(row["name"]))
        # A root row without a name (an unreferenced QoS, say) is known by what it holds, and
        # by a number when another row holds the same.
        key = (table.name, format_value(Nested(table.name, _nonempty(row))))
        copy = self.copies[key] = self.copies.get(key, 0) + 1
        return key if copy == 1 else (table.name, f"{key[1]} (copy {copy})")

    def _row(self, table: Table, raw: dict[str, Any], seen: frozenset[str]) -> Row:
        try:
            return {
                column: self._value(raw[column], kind, seen) for column, kind in table.columns.items() if column in raw
            }
        except (ValueError, TypeError, IndexError) as error:
            message = f"a {table.name} row cannot be read: {shown(str(error))}"
            raise DumpInvalid.at(self.source, 1, 1, message) from None

    def _value(self, cell: Any, kind: ColumnType, seen: frozenset[str]) -> object:
        return typed_value(cell, kind, lambda atom, base: self._atom(atom, base, seen))

    def _atom(self, atom: Any, base: BaseType, seen: frozenset[str]) -> object:
        """An atom's value: a reference to a named row that name, to a row without one that row."""
        if base.kind != "uuid":
            return plain_atom(atom)
        uuid = atom[1]  # not checked: the server that dumped it did
        table = base.ref_table or self.table_of.get(uuid) or ""
        target = self.tables.get(table)
        row = self.raw.get(table, {}).get(uuid)
        if target is None or row is None:
            return f"<a missing {table or 'row'}>"
        if target.named:
            return str(row.get("name"))
        if uuid in seen:
            return f"<{table}: a reference back>"  # no cycles in Open vSwitch's schema; a backup's could have one
        return Nested(table, _nonempty(self._row(target, row, seen | {uuid})))


def _nonempty(row: Row) -> tuple[tuple[str, object], ...]:
    return tuple((column, value) for column, value in sorted(row.items()) if value not in (None, frozenset()))


# --- what the database should hold ---------------------------------------------------


@dataclass(frozen=True)
class PlanScope:
    """What a plan does to rows the new design lacks: the ports and bridges it touches
    (a touched port or bridge the design does not have is removed)."""

    touched_ports: frozenset[str]
    touched_bridges: frozenset[str]


def names(rows: Rows, table: str) -> set[str]:
    return {name for found, name in rows if found == table}


def _references(row: Row | None, column: str) -> frozenset[str]:
    value = row.get(column) if row is not None else None
    return frozenset(str(item) for item in value) if isinstance(value, frozenset) else frozenset()


def expected_after_change(start: Rows, reference: Rows, kinds: Mapping[Key, str], scope: PlanScope) -> Rows:
    """The rows after a correct change: the new design's rows (`reference`, the new design's
    apply.sh on an empty database), their managed columns as the reference has them and the
    others carried over from the starting row of the same name; and the starting rows the
    design does not have, unchanged, unless the plan removes them. `kinds` gives the port kind
    (PortState.kind) of the reference's ports and "internal" for its internal interfaces."""
    bridges = names(reference, "Bridge") | {
        bridge for bridge in names(start, "Bridge") if bridge not in scope.touched_bridges
    }
    designed_ports = names(reference, "Port")
    expected: Rows = {}
    for bridge in bridges:
        key = ("Bridge", bridge)
        kept = {
            port
            for port in _references(start.get(key), "ports")
            if port not in designed_ports and port not in scope.touched_ports
        }
        ports = _references(reference.get(key), "ports") | kept
        expected[key] = {**_merged(key, start, reference, kinds), "ports": ports}
        for port in ports:
            _expect_port(expected, port, start, reference, kinds)
    root = reference.get(ROOT_KEY, {})
    keys = root.get("external_ids")
    managed = frozenset(f"external_ids:{key}" for key in (keys.keys if isinstance(keys, OvsMap) else []))
    expected[ROOT_KEY] = {**_merge(start.get(ROOT_KEY), root, managed), "bridges": frozenset(bridges)}
    expected.update({key: row for key, row in start.items() if key[0] not in ("Bridge", "Port", "Interface", ROOT)})
    return expected


def _expect_port(expected: Rows, port: str, start: Rows, reference: Rows, kinds: Mapping[Key, str]) -> None:
    key = ("Port", port)
    row = _merged(key, start, reference, kinds)
    expected[key] = row
    for interface in _references(row, "interfaces"):
        expected[("Interface", interface)] = _merged(("Interface", interface), start, reference, kinds)


def _merged(key: Key, start: Rows, reference: Rows, kinds: Mapping[Key, str]) -> Row:
    """A row of the expected state: merged with the reference's when the design has it, else the start's."""
    designed = reference.get(key)
    if designed is None:
        return dict(start.get(key, {}))
    table, _ = key
    return _merge(start.get(key), designed, managed_columns(table, kinds.get(key, "")))


def _merge(start: Row | None, reference: Row, managed: frozenset[str]) -> Row:
    """`reference`'s managed columns and map keys; everything else as `start` has it (a new row: the reference's)."""
    if start is None:
        return dict(reference)
    row = dict(start)
    for column, value in reference.items():
        keys = {entry.split(":", 1)[1] for entry in managed if entry.startswith(f"{column}:")}
        if column in managed:
            row[column] = value
        elif keys and isinstance(value, OvsMap):
            row[column] = _merge_map(start.get(column), value, keys)
        elif column not in row:
            row[column] = value
    return row


def _merge_map(start: object, reference: OvsMap, keys: set[str]) -> OvsMap:
    """`reference`'s entries for `keys`, `start`'s for every other key."""
    kept: list[tuple[object, object]] = [
        (key, value) for key, value in (start.pairs if isinstance(start, OvsMap) else ()) if key not in keys
    ]
    managed: list[tuple[object, object]] = [(key, value) for key, value in reference.pairs if key in keys]
    return OvsMap(tuple(sorted(kept + managed, key=lambda pair: atom_order(pair[0]))))


# --- how they differ ------------------------------------------------------------------

_TABLE_ORDER = {ROOT: 0, "Bridge": 1, "Port": 2, "Interface": 3}


def differences(expected: Rows, actual: Rows) -> list[str]:
    """Each row and column where `actual` is not `expected`, in words, at most MAX_SHOWN_DIFFERENCES."""
    found: list[str] = []
    for key in sorted(expected.keys() | actual.keys(), key=_key_order):
        want, have = expected.get(key), actual.get(key)
        if have is None:
            found.append(f"{row_label(key)}: expected, not in the database")
        elif want is None:
            found.append(f"{row_label(key)}: in the database, not expected")
        else:
            found += _row_differences(row_label(key), want, have)
    if len(found) > MAX_SHOWN_DIFFERENCES:
        more = len(found) - MAX_SHOWN_DIFFERENCES
        found = [*found[:MAX_SHOWN_DIFFERENCES], f"... and {more} more differences"]
    return found


def _key_order(key: Key) -> tuple[int, str, tuple[tuple[int, str], ...]]:
    table, name = key
    return (_TABLE_ORDER.get(table, len(_TABLE_ORDER)), table, natural_key(name))


def _row_differences(label: str, want: Row, have: Row) -> list[str]:
    # Only the columns `want` has: a new row comes from the reference database, built with the
    # installed schema; a backup's schema may have more columns, which hold their defaults.
    found = []
    for column in sorted(want):
        expected, actual = want.get(column), have.get(column)
        if expected == actual:
            continue
        if isinstance(expected, OvsMap) and isinstance(actual, OvsMap):
            found += _map_differences(f"{label} {_column(column)}", expected, actual)
        else:
            found.append(
                f"{label} {_column(column)}: expected {format_value(expected)}, database {format_value(actual)}"
            )
    return found


def _map_differences(label: str, want: OvsMap, have: OvsMap) -> list[str]:
    keys = sorted({*want.keys, *have.keys}, key=atom_order)
    return [
        f"{label}:{_map_key(key)}: expected {format_value(want.get(key))}, database {format_value(have.get(key))}"
        for key in keys
        if want.get(key) != have.get(key)
    ]


def row_label(key: Key) -> str:
    """A row as a message names it: `Port br0-up`; a name that is not plain text is quoted and cut."""
    table, name = key
    if key == ROOT_KEY:
        return f"{ROOT} (root row)"
    if table in _TABLE_ORDER:
        return f"{table} {name if plain_text(name, 'name') else shown(name)}"
    return f"{_column(table)} row {name}"  # an unnamed row's name is already format_value's


def _column(name: str) -> str:
    return name if plain_text(name, "key") else shown(name)


def _map_key(key: object) -> str:
    return key if isinstance(key, str) and plain_text(key, "key") else format_value(key)


def format_value(value: object, limit: int = 200) -> str:
    """A value as a difference shows it: numbers and booleans as OVSDB writes them, strings
    quoted (untrusted_text.shown), sets in [], maps and nested rows in {}; cut at `limit` characters."""
    text = _format(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _format(value: object) -> str:
    if isinstance(value, frozenset):
        return "[" + ", ".join(_format(item) for item in sorted(value, key=atom_order)) + "]"
    if isinstance(value, OvsMap):
        return "{" + ", ".join(f"{_map_key(key)}={_format(item)}" for key, item in value.pairs) + "}"
    if isinstance(value, Nested):
        return f"{value.table}{{" + ", ".join(f"{_column(c)}={_format(item)}" for c, item in value.cells) + "}"
    return _format_atom(value)


def _format_atom(value: object) -> str:
    if value is None or isinstance(value, Absent):
        return "empty" if value is None else "absent"
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown(value)  # a number as it is written (its repr), a string quoted
