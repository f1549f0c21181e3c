"""Read a host's Open vSwitch database dump into an OvsState.

The dump is what `ovsdb-client dump --format=json Open_vSwitch` prints on the
host: one JSON object per table per line ({"caption": "Port table",
"data": [...], "headings": [...]}). Only the Bridge, Port and Interface tables
are read; cells use OVSDB's JSON encoding (["uuid", u], ["set", [...]],
["map", [[k, v], ...]]).

A dump comes from a host that may be compromised, so nothing in it is trusted.
Every cell ovsgen reads is checked against its column's type in the Open vSwitch
schema (COLUMNS, the types of vswitch.ovsschema), every name or value that can
reach a script must also be plain text (TEXT_RULES), and every uuid must name a
row. A violation is a located error: the dump, the line of the table, the
character where the offending cell starts.

Memory follows what is kept, not the size of the JSON: the dump is read a line
(one table) at a time, each table a row at a time, and a row is cut down to the
columns ovsgen uses at once. Dumps over MAX_DUMP_BYTES are refused unread.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, NamedTuple

from generator.design.resolve import natural_key
from generator.diagnostics import Diagnostic
from generator.errors import DumpInvalid
from generator.ovs.state import HOST_COLUMNS, BridgeState, Cell, Columns, InterfaceState, OvsState, PortState

TABLES = ("Bridge", "Port", "Interface")  # a dump must have these
# The host's identity, and mirrors: a dump made by hand may leave them out.
OPTIONAL_TABLES = ("Open_vSwitch", "Mirror")
MAX_DUMP_BYTES = 64 * 1024 * 1024
_INT64_MAX = 2**63 - 1  # OVSDB integers are 64-bit


# --- the Open vSwitch schema's types ----------------------------------------


@dataclass(frozen=True)
class BaseType:
    """An OVSDB atomic type with its constraints (RFC 7047 section 3.2, <base-type>)."""

    kind: str  # "integer", "real", "boolean", "string" or "uuid"
    enum: frozenset[object] | None = None
    min_integer: int | None = None
    max_integer: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    ref_table: str | None = None


@dataclass(frozen=True)
class ColumnType:
    """An OVSDB column type (<type>): a set of `key` atoms, or a map to `value` atoms when given."""

    key: BaseType
    value: BaseType | None = None
    min: int = 1
    max: int | None = 1  # None: unlimited


_ATOMIC = ("integer", "real", "boolean", "string", "uuid")


def column_type(spec: object) -> ColumnType:
    """A column type from its JSON in a schema; ValueError for anything RFC 7047 does not allow."""
    if isinstance(spec, str):
        return ColumnType(base_type(spec))
    if not isinstance(spec, dict):
        raise ValueError(f"not a column type: {shown(spec)}")
    least, most = spec.get("min", 1), spec.get("max", 1)
    if type(least) is not int or not (most == "unlimited" or type(most) is int):
        raise ValueError(f"not a column type: {shown(spec)}")
    value = base_type(spec["value"]) if "value" in spec else None
    return ColumnType(base_type(spec.get("key")), value, least, None if most == "unlimited" else most)


def base_type(spec: object) -> BaseType:
    if isinstance(spec, str) and spec in _ATOMIC:
        return BaseType(spec)
    if not isinstance(spec, dict) or spec.get("type") not in _ATOMIC:
        raise ValueError(f"not an atomic type: {shown(spec)}")
    enum = spec.get("enum")
    if enum is not None:
        members = enum[1] if isinstance(enum, list) and len(enum) == 2 and enum[0] == "set" else [enum]
        if not isinstance(members, list) or not all(isinstance(m, str | int | float) for m in members):
            raise ValueError(f"not an enum: {shown(enum)}")
        enum = frozenset(members)
    numbers = {name: spec.get(name) for name in ("minInteger", "maxInteger", "minLength", "maxLength")}
    if not all(number is None or type(number) is int for number in numbers.values()):
        raise ValueError(f"not an atomic type: {shown(spec)}")
    ref = spec.get("refTable")
    if ref is not None and not isinstance(ref, str):
        raise ValueError(f"not a table name: {shown(ref)}")
    return BaseType(
        kind=spec["type"],
        enum=enum,
        min_integer=numbers["minInteger"],
        max_integer=numbers["maxInteger"],
        min_length=numbers["minLength"],
        max_length=numbers["maxLength"],
        ref_table=ref,
    )


_STRING = BaseType("string")
_VLAN = BaseType("integer", min_integer=0, max_integer=4095)
_TEXT_MAP = ColumnType(_STRING, _STRING, 0, None)
_BOOLEAN = BaseType("boolean")

# What a bridge may point at that a plan cannot put back if it removed the bridge.
_BRIDGE_REFERENCES = {
    "controller": ("Controller", None),
    "mirrors": ("Mirror", None),
    "netflow": ("NetFlow", 1),
    "sflow": ("sFlow", 1),
    "ipfix": ("IPFIX", 1),
}

# The columns ovsgen reads, with their types as vswitch.ovsschema declares them
# (tests compare these with the installed schema; rehearse compares a backup's). Spelled out,
# not built by helper functions: mutation testing cannot reach code that runs only at import.
COLUMNS: Mapping[str, Mapping[str, ColumnType]] = MappingProxyType(
    {
        "Bridge": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "ports": ColumnType(BaseType("uuid", ref_table="Port"), min=0, max=None),
                "external_ids": _TEXT_MAP,
                "other_config": _TEXT_MAP,
                "fail_mode": ColumnType(BaseType("string", enum=frozenset({"standalone", "secure"})), min=0),
                "datapath_type": ColumnType(_STRING),
                "protocols": ColumnType(
                    BaseType("string", enum=frozenset(f"OpenFlow1{version}" for version in range(6))), min=0, max=None
                ),
                "stp_enable": ColumnType(_BOOLEAN),
                "rstp_enable": ColumnType(_BOOLEAN),
                "mcast_snooping_enable": ColumnType(_BOOLEAN),
                **{
                    name: ColumnType(BaseType("uuid", ref_table=table), min=0, max=most)
                    for name, (table, most) in _BRIDGE_REFERENCES.items()
                },
            }
        ),
        "Port": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "interfaces": ColumnType(BaseType("uuid", ref_table="Interface"), min=1, max=None),
                "tag": ColumnType(_VLAN, min=0),
                "trunks": ColumnType(_VLAN, min=0, max=4096),
                "vlan_mode": ColumnType(
                    BaseType(
                        "string",
                        enum=frozenset({"trunk", "access", "native-tagged", "native-untagged", "dot1q-tunnel"}),
                    ),
                    min=0,
                ),
                "bond_mode": ColumnType(
                    BaseType("string", enum=frozenset({"balance-tcp", "balance-slb", "active-backup"})), min=0
                ),
                "lacp": ColumnType(BaseType("string", enum=frozenset({"active", "passive", "off"})), min=0),
                "bond_updelay": ColumnType(BaseType("integer")),
                "bond_downdelay": ColumnType(BaseType("integer")),
                "other_config": _TEXT_MAP,
                "external_ids": _TEXT_MAP,
                "qos": ColumnType(BaseType("uuid", ref_table="QoS"), min=0),
            }
        ),
        "Interface": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "type": ColumnType(_STRING),
                "mtu_request": ColumnType(BaseType("integer", min_integer=1), min=0),
                "options": _TEXT_MAP,
                "external_ids": _TEXT_MAP,
                "other_config": _TEXT_MAP,
                "ingress_policing_rate": ColumnType(BaseType("integer", min_integer=0)),
                "ingress_policing_burst": ColumnType(BaseType("integer", min_integer=0)),
                "ofport_request": ColumnType(BaseType("integer", min_integer=1, max_integer=65279), min=0),
                "mac": ColumnType(_STRING, min=0),
                "bfd": _TEXT_MAP,
                "lldp": _TEXT_MAP,
            }
        ),
        "Open_vSwitch": MappingProxyType({"external_ids": _TEXT_MAP}),
        # A mirror that selects a port, or sends to it, loses it when the port is rebuilt.
        "Mirror": MappingProxyType(
            {
                "name": ColumnType(_STRING),
                "select_src_port": ColumnType(BaseType("uuid", ref_table="Port"), min=0, max=None),
                "select_dst_port": ColumnType(BaseType("uuid", ref_table="Port"), min=0, max=None),
                "output_port": ColumnType(BaseType("uuid", ref_table="Port"), min=0),
            }
        ),
    }
)
# Without these a row means nothing; the other columns are empty when a dump lacks them.
REQUIRED = MappingProxyType(
    {
        "Bridge": ("name", "ports"),
        "Port": ("name", "interfaces"),
        "Interface": ("name",),
        "Open_vSwitch": (),
        "Mirror": ("name",),
    }
)


# --- what ovsgen copies into scripts ----------------------------------------

# Whole strings only (fullmatch: a `$` would also match before a final newline).
# Names are positional words of ovs-vsctl: never an option (`-`), never `--`, never `column=value`.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+%-]{0,254}")
_TYPE = re.compile(r"(?:[a-z0-9][a-z0-9_-]{0,63})?")
# Map entries become `other_config:KEY=VALUE` words: ovs-vsctl ends a key at `:`, `=` or `,`
# and reads a value starting with `"` as JSON; it refuses an empty value.
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+%/-]{0,254}")
_VALUE = re.compile(r"[A-Za-z0-9_.:/@+=,%-]{1,1024}")

TEXT_RULES = MappingProxyType(
    {
        "name": (_NAME, "a name: 1-255 of A-Z a-z 0-9 _ . : @ + % -, not starting with . or -"),
        "type": (_TYPE, "an interface type: a-z 0-9 _ -, not starting with -"),
        "key": (_KEY, "a key: 1-255 of A-Z a-z 0-9 _ . @ + % / -, not starting with . or -"),
        "value": (_VALUE, "a value: 1-1024 of A-Z a-z 0-9 _ . : / @ + = , % -"),
    }
)


def plain_text(text: str, rule: str) -> bool:
    """Whether `text` is, as a whole, what TEXT_RULES[rule] allows."""
    return TEXT_RULES[rule][0].fullmatch(text) is not None


def shown(value: object, limit: int = 60) -> str:
    """A value as a message may quote it: escaped like repr (no control or format character
    survives) and cut short, so that a 15 MB value does not become 15 MB of message."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "..."
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "..."


# --- reading ------------------------------------------------------------------


class _Bridge(NamedTuple):
    name: str
    ports: tuple[str, ...]
    where: int  # where the row starts in its table's line, for errors found later
    columns: Columns
    unrestorable: tuple[str, ...]


class _Port(NamedTuple):
    name: str
    interfaces: tuple[str, ...]
    tag: int | None
    bond_mode: str | None
    lacp: str | None
    other_config: tuple[tuple[str, str], ...]
    where: int
    columns: Columns
    qos: bool


class _Interface(NamedTuple):
    name: str
    type: str
    mtu_request: int | None
    options: tuple[tuple[str, str], ...]
    columns: Columns
    mac: bool  # a requested MAC: ovs-vsctl cannot take it back through an ifcfg file


@dataclass
class _Tables:
    """The compact rows of the three tables, by uuid, as they are read."""

    bridges: dict[str, _Bridge]
    ports: dict[str, _Port]
    interfaces: dict[str, _Interface]
    seen: dict[str, int]  # tables read so far, and their lines
    names: dict[str, set[str]]  # names per table: OVSDB keeps them unique
    identity: dict[str, str]  # the Open_vSwitch row's system-id and hostname
    mirrors: dict[str, list[str]]  # port uuid -> the mirrors that select it or send to it


def load_dump(path: Path, display_name: str | None = None) -> OvsState:
    name = display_name or str(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_DUMP_BYTES:
                raise _fail(name, 1, 1, f"the dump is {size} bytes; {_LIMIT}")
            return _parse(_file_lines(handle, name), name)
    except OSError as error:
        raise _fail(name, 1, 1, f"cannot read the dump: {error.strerror or error}") from None


_LIMIT = f"ovsgen reads dumps of up to {MAX_DUMP_BYTES // (1024 * 1024)} MiB"


def parse_dump(text: str, name: str) -> OvsState:
    """The state in `ovsdb-client dump --format=json` output; `name` locates errors."""
    if len(text) > MAX_DUMP_BYTES:
        raise _fail(name, 1, 1, f"the dump is {len(text)} characters; {_LIMIT}")
    return _parse(_text_lines(text), name)


def _fail(file: str, line: int, column: int, message: str) -> DumpInvalid:
    return DumpInvalid([Diagnostic(file, line, column, (), message)])


def _file_lines(handle: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """Numbered lines of a dump, never reading past the size limit (a pipe or device has no size)."""
    remaining = MAX_DUMP_BYTES
    number = 0
    while raw := handle.readline(remaining + 1):
        number += 1
        remaining -= len(raw)
        if remaining < 0:
            raise _fail(name, number, 1, f"the dump goes on past {MAX_DUMP_BYTES} bytes; {_LIMIT}")
        try:
            text = raw.decode()  # UTF-8
        except UnicodeDecodeError as error:
            raise _fail(name, number, error.start + 1, "not UTF-8 text") from None
        del raw  # the line is parsed from `text`: not both in memory meanwhile
        yield number, text


_LINE = re.compile(r"^.*$", re.MULTILINE)  # `.` and `^`/`$` stop at "\n" only


def _text_lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines split at newlines only (a JSON string may hold U+2028, which splitlines() splits at),
    one at a time."""
    for number, line in enumerate(_LINE.finditer(text), start=1):
        yield number, line.group()


def _parse(lines: Iterator[tuple[int, str]], name: str) -> OvsState:
    tables = _Tables({}, {}, {}, {}, {}, {}, {})
    for number, line in lines:
        if line.strip():
            _read_table(_Where(name, number, line), tables)
    missing = [table for table in TABLES if table not in tables.seen]
    if missing:
        raise _fail(
            name,
            1,
            1,
            f"the dump has no {', '.join(missing)} table; make it with: ovsdb-client dump --format=json Open_vSwitch",
        )
    return _state(tables, name)


@dataclass(frozen=True)
class _Where:
    """A line of the dump, to locate what is wrong in it."""

    file: str
    line: int
    text: str

    def fail(self, offset: int, message: str) -> DumpInvalid:
        return _fail(self.file, self.line, offset + 1, message)


# --- one table line, streamed ---------------------------------------------------

_DECODER = json.JSONDecoder()
_NOT_SPACE = re.compile(r"[^ \t\n\r]")  # JSON's white space


def _skip(text: str, position: int) -> int:
    """The position of the first character at or after `position` that is not white space."""
    found = _NOT_SPACE.search(text, position)
    return found.start() if found else len(text)


def _decode(where: _Where, position: int) -> tuple[Any, int]:
    """The JSON value at `position` and where it ends; a located error for bad JSON, a
    5,000-digit number (ValueError) or nesting deep enough to exhaust the stack."""
    try:
        return _DECODER.raw_decode(where.text, position)
    except json.JSONDecodeError as error:
        raise where.fail(error.pos, f"not JSON: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        raise where.fail(position, f"not a value ovsgen reads: {shown(str(error))}") from None


def _expect(where: _Where, position: int, char: str, what: str) -> int:
    """The position after `char` at `position` (after white space)."""
    position = _skip(where.text, position)
    if where.text[position : position + 1] != char:
        raise where.fail(position, f"expected {what}")
    return _skip(where.text, position + 1)


def _walk(where: _Where, position: int, visit: Callable[[int, int, Any], None]) -> tuple[int, int]:
    """Decode the JSON array at `position` one element at a time, calling `visit(index, offset,
    element)` for each; the position after the array and how many elements it has."""
    text = where.text
    position = _expect(where, position, "[", "an array")
    index = 0
    while text[position : position + 1] != "]":
        if index:
            position = _expect(where, position, ",", "',' or ']' in an array")
        value, end = _decode(where, position)
        visit(index, position, value)
        index += 1
        position = _skip(text, end)
    return position + 1, index


def _ignore(_index: int, _offset: int, _value: Any) -> None:
    """A visitor that keeps nothing: the first pass only checks the JSON."""


def _members(where: _Where) -> dict[str, tuple[int, Any]]:
    """The members of the line's JSON object (offset and value). `data` is checked a row at a time
    and left undecoded, its value the number of rows: its rows never all sit in memory."""
    text = where.text
    start = _skip(text, 0)
    if text[start : start + 1] != "{":
        raise where.fail(start, "not a line of 'ovsdb-client dump --format=json' output (not a JSON object)")
    position = _skip(text, start + 1)
    found: dict[str, tuple[int, Any]] = {}
    while text[position : position + 1] != "}":
        if found:
            position = _expect(where, position, ",", "',' or '}' in an object")
        key, end = _decode(where, position)
        if not isinstance(key, str):
            raise where.fail(position, "expected a member name")
        start = _expect(where, end, ":", "':'")
        if key == "data":
            end, rows = _walk(where, start, _ignore)
            found[key] = (start, rows)
        else:
            value, end = _decode(where, start)
            found[key] = (start, value)
        position = _skip(text, end)
    if _skip(text, position + 1) != len(text):
        raise where.fail(_skip(text, position + 1), "unexpected text after the object")
    return found


def _read_table(where: _Where, tables: _Tables) -> None:
    """Check one table line and keep the compact rows of Bridge, Port and Interface."""
    members = _members(where)
    offset, caption = members.get("caption", (0, None))
    if not isinstance(caption, str) or not caption.endswith(" table"):
        raise where.fail(offset, 'expected a \'caption\' naming the table, as in {"caption": "Port table", ...}')
    table = caption.removesuffix(" table")
    if "data" not in members or "headings" not in members:
        raise where.fail(0, f"the {shown(table)} table has no 'data' or no 'headings'")
    if table not in TABLES + OPTIONAL_TABLES:
        return
    if table in tables.seen:
        raise where.fail(offset, f"a second {table} table")
    tables.seen[table] = where.line
    columns = _columns(where, table, members["headings"], members["data"][1])
    reader = _READERS[table]

    def read(number: int, row_offset: int, cells: Any) -> None:
        reader(_Row(where, row_offset, table=table, number=number + 1, columns=columns, cells=cells), tables)

    _walk(where, members["data"][0], read)


def _columns(where: _Where, table: str, headings: tuple[int, Any], rows: int) -> dict[str, int]:
    """Where each column ovsgen reads is in a row of `table`."""
    offset, names = headings
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise where.fail(offset, f"the {table} table's headings are not a list of column names")
    if len(set(names)) != len(names):
        raise where.fail(offset, f"the {table} table names a column twice")
    missing = [name for name in ("_uuid", *REQUIRED[table]) if name not in names]
    if missing and rows:
        raise where.fail(offset, f"the {table} table has no {', '.join(missing)} column")
    wanted = ("_uuid", *COLUMNS[table])
    return {name: index for index, name in enumerate(names) if name in wanted} | {"": len(names)}


_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_ROW_UUID = ColumnType(BaseType("uuid"))


class _Row:
    """One row of a table being read: typed access to its cells, and errors located at them."""

    def __init__(
        self, where: _Where, offset: int, *, table: str, number: int, columns: dict[str, int], cells: Any
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
        _walk(self.where, self.offset, lambda _number, offset, _value: offsets.append(offset))
        return offsets[self.columns[column]]

    def atoms(self, column: str, kind: ColumnType | None = None) -> list[Any]:
        """The atoms of a set (or single-value) column, checked against its schema type."""
        index = self.columns.get(column)
        if index is None:
            return []  # a dump without the column (an older Open vSwitch): empty
        try:
            return _set_atoms(self.cells[index], kind or COLUMNS[self.table][column])
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
            return _map_pairs(self.cells[index], COLUMNS[self.table][column])
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


def _set_atoms(cell: Any, kind: ColumnType) -> list[Any]:
    if isinstance(cell, list) and len(cell) == 2 and cell[0] == "set":
        items = cell[1]
        if not isinstance(items, list):
            raise ValueError(f"{shown(cell)} is not an OVSDB set")
    else:
        items = [cell]  # a set of one atom is written as the atom
    _check_count(len(items), kind)
    atoms = [_atom(item, kind.key) for item in items]
    if len(set(atoms)) != len(atoms):
        raise ValueError(f"{shown(cell)} holds a value twice")
    return atoms


def _map_pairs(cell: Any, kind: ColumnType) -> tuple[tuple[str, str], ...]:
    assert kind.value is not None
    if not (isinstance(cell, list) and len(cell) == 2 and cell[0] == "map" and isinstance(cell[1], list)):
        raise ValueError(f"{shown(cell)} is not an OVSDB map")
    pairs = []
    for pair in cell[1]:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"{shown(pair)} is not a [key, value] pair")
        pairs.append((_atom(pair[0], kind.key), _atom(pair[1], kind.value)))
    _check_count(len(pairs), kind)
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError(f"{shown(cell)} holds a key twice")
    return tuple(sorted(pairs))


def _check_count(count: int, kind: ColumnType) -> None:
    most = "any number of" if kind.max is None else f"at most {kind.max}"
    if count < kind.min or (kind.max is not None and count > kind.max):
        raise ValueError(f"holds {count} values; the schema allows {most} values and at least {kind.min}")


def _atom(item: Any, base: BaseType) -> Any:
    """`item` if it is an atom of type `base` (uuids as their string); ValueError otherwise."""
    if base.kind == "uuid":
        is_uuid = isinstance(item, list) and len(item) == 2 and item[0] == "uuid" and isinstance(item[1], str)
        if is_uuid and _UUID.fullmatch(item[1]):
            return sys.intern(item[1])  # a row's uuid and every reference to it: one string kept
        raise ValueError(f"{shown(item)} is not a uuid")
    # The kinds COLUMNS has: no column ovsgen reads is real, or limits a string's length.
    checks = {"integer": _integer, "string": _string, "boolean": _boolean}
    checks[base.kind](item, base)
    if base.enum is not None and item not in base.enum:
        raise ValueError(f"{shown(item)} is not one of {', '.join(sorted(map(str, base.enum)))}")
    return item


def _integer(item: Any, base: BaseType) -> None:
    low = base.min_integer if base.min_integer is not None else -_INT64_MAX - 1
    high = base.max_integer if base.max_integer is not None else _INT64_MAX
    if type(item) is not int or not low <= item <= high:  # bool is an int in Python, not in JSON
        raise ValueError(f"{shown(item)} is not an integer {low}-{high}")


def _boolean(item: Any, _base: BaseType) -> None:
    if type(item) is not bool:
        raise ValueError(f"{shown(item)} is not true or false")


def _string(item: Any, _base: BaseType) -> None:
    if not isinstance(item, str):
        raise ValueError(f"{shown(item)} is not a string")


def _read_bridge(row: _Row, tables: _Tables) -> None:
    name = row.name(tables.names)
    uuid = row.uuid(tables.bridges)
    unrestorable = tuple(column for column in _BRIDGE_REFERENCES if row.atoms(column))
    tables.bridges[uuid] = _Bridge(name, tuple(row.atoms("ports")), row.offset, _host_columns(row), unrestorable)


def _read_port(row: _Row, tables: _Tables) -> None:
    name = row.name(tables.names)
    uuid = row.uuid(tables.ports)
    tables.ports[uuid] = _Port(
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


def _read_interface(row: _Row, tables: _Tables) -> None:
    name = row.name(tables.names)
    uuid = row.uuid(tables.interfaces)
    (kind,) = row.atoms("type") or [""]
    tables.interfaces[uuid] = _Interface(
        name=name,
        type=row.plain("type", kind, "type"),
        mtu_request=row.optional("mtu_request"),
        options=row.text_pairs("options"),
        columns=_host_columns(row),
        mac=bool(row.atoms("mac")),
    )


def _read_root(row: _Row, tables: _Tables) -> None:
    """The Open_vSwitch row: the host's system-id and hostname, which plans insist on."""
    found = dict(row.text_pairs("external_ids"))
    tables.identity.update({key: found[key] for key in ("system-id", "hostname") if key in found})


def _read_mirror(row: _Row, tables: _Tables) -> None:
    name = row.plain("name", row.optional("name") or "", "name")
    ports = {*row.atoms("select_src_port"), *row.atoms("select_dst_port"), *row.atoms("output_port")}
    for port in sorted(ports):
        tables.mirrors.setdefault(port, []).append(name)


def _host_columns(row: _Row) -> Columns:
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


_READERS: Mapping[str, Callable[[_Row, _Tables], None]] = MappingProxyType(
    {
        "Bridge": _read_bridge,
        "Port": _read_port,
        "Interface": _read_interface,
        "Open_vSwitch": _read_root,
        "Mirror": _read_mirror,
    }
)


# --- the state ------------------------------------------------------------------


def _state(tables: _Tables, file: str) -> OvsState:
    """The OvsState of the compact rows."""
    owners = _Owners(tables, file, {})
    ports: list[PortState] = []
    interfaces: list[InterfaceState] = []
    bridges = sorted(tables.bridges.values())  # by name: the first field, and unique
    for bridge in bridges:
        for uuid in bridge.ports:
            port = owners.port(bridge, uuid)
            members = sorted((owners.interface(port, member) for member in port.interfaces), key=_natural_name)
            lost = (
                *(("qos",) * port.qos),
                *(f"mirror {name}" for name in tables.mirrors.get(uuid, ())),
                *(f"the MAC requested for {member.name}" for member in members if member.mac),
            )
            ports.append(_port(port, bridge.name, members, lost))
            interfaces += [_interface(member) for member in members]
    ports.sort(key=lambda port: (port.bridge, natural_key(port.name)))
    rows = tuple(BridgeState(bridge.name, bridge.columns, bridge.unrestorable) for bridge in bridges)
    return OvsState(
        tuple(bridge.name for bridge in bridges),
        tuple(ports),
        tuple(interfaces),
        rows,
        system_id=tables.identity.get("system-id", ""),
        hostname=tables.identity.get("hostname", ""),
    )


def _natural_name(row: _Interface) -> tuple[tuple[int, str], ...]:
    return natural_key(row.name)


@dataclass
class _Owners:
    """Resolves uuids: each must name a row, and each port or interface belong to one owner
    only (what ovs-vswitchd would make of anything else is anyone's guess)."""

    tables: _Tables
    file: str
    owner_of: dict[str, str]

    def port(self, bridge: _Bridge, uuid: str) -> _Port:
        where = (self.tables.seen["Bridge"], bridge.where + 1)
        found: _Port = self._claim(self.tables.ports, uuid, f"Bridge {bridge.name}", ("ports", "Port"), where)
        return found

    def interface(self, port: _Port, uuid: str) -> _Interface:
        where = (self.tables.seen["Port"], port.where + 1)
        found: _Interface = self._claim(
            self.tables.interfaces, uuid, f"Port {port.name}", ("interfaces", "Interface"), where
        )
        return found

    def _claim(
        self, rows: Mapping[str, Any], uuid: str, owner: str, column: tuple[str, str], where: tuple[int, int]
    ) -> Any:
        """The row `uuid` names in `column` (its name, and the table it refers to) of `owner`."""
        line, offset = where
        name, table = column
        if uuid not in rows:
            raise _fail(self.file, line, offset, f"{owner}: {name}: uuid {uuid} is not a row of the {table} table")
        if uuid in self.owner_of:
            message = f"{owner}: {name}: uuid {uuid} already belongs to {self.owner_of[uuid]}"
            raise _fail(self.file, line, offset, message)
        self.owner_of[uuid] = owner  # a name may hold ':', so the owner is kept whole, not cut from a message
        return rows[uuid]


def _port(row: _Port, bridge: str, members: list[_Interface], unrestorable: tuple[str, ...]) -> PortState:
    return PortState(
        name=row.name,
        bridge=bridge,
        kind=_kind(row.name, bridge, members),
        members=tuple(member.name for member in members),
        tag=row.tag,
        bond_mode=row.bond_mode if len(members) > 1 else None,
        lacp=row.lacp,
        other_config=row.other_config,
        columns=row.columns,
        unrestorable=unrestorable,
    )


def _kind(name: str, bridge: str, members: list[_Interface]) -> str:
    if len(members) > 1:
        return "bond"
    (only,) = members
    if name == bridge and only.type == "internal":
        return "bridge"
    if only.type == "internal":
        return "internal"
    if only.type == "" and only.name == name:
        return "nic"
    return "other"


def _interface(row: _Interface) -> InterfaceState:
    return InterfaceState(
        name=row.name, mtu_request=row.mtu_request, type=row.type, options=row.options, columns=row.columns
    )
