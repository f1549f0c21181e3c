"""Read a host's Open vSwitch database dump into an OvsState.

The dump is what `ovsdb-client dump --format=json Open_vSwitch` prints on the
host: one JSON object per table per line ({"caption": "Port table",
"data": [...], "headings": [...]}). Only the Bridge, Port and Interface tables
are read; cells use OVSDB's JSON encoding (["uuid", u], ["set", [...]],
["map", [[k, v], ...]]).

A dump comes from a host that may be compromised, so nothing in it is trusted.
Every cell ovsgen reads is checked against its column's type in the Open vSwitch
schema (generator.ovs.columns), every name or value that can reach a script must
also be plain text (generator.ovs.untrusted_text), and every uuid must name a
row. A violation is a located error (DumpInvalid): the dump, the line of the
table, the character where the offending cell starts.

Memory follows what is kept, not the size of the JSON: the dump is read a line
(one table) at a time, each table a row at a time (generator.ovs.json_lines), and
a row is cut down to the columns ovsgen uses at once (generator.ovs.dump_rows).
Dumps over MAX_DUMP_BYTES are refused unread. This module reads the lines, checks
each table's line, and makes the OvsState of the rows kept, every uuid resolved.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from generator.design.resolve import natural_key
from generator.errors import DumpInvalid
from generator.ovs.columns import COLUMNS, REQUIRED
from generator.ovs.dump_rows import READERS, BridgeRow, InterfaceRow, PortRow, Row, Tables
from generator.ovs.json_lines import Where, object_members, walk
from generator.ovs.state import BridgeState, InterfaceState, OvsState, PortState
from generator.ovs.untrusted_text import shown

TABLES = ("Bridge", "Port", "Interface")  # a dump must have these
# The host's identity, and mirrors: a dump made by hand may leave them out.
OPTIONAL_TABLES = ("Open_vSwitch", "Mirror")
MAX_DUMP_BYTES = 64 * 1024 * 1024


def load_dump(path: Path, display_name: str | None = None) -> OvsState:
    name = display_name or str(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_DUMP_BYTES:
                raise DumpInvalid.at(name, 1, 1, f"the dump is {size} bytes; {_LIMIT}")
            return _parse(_file_lines(handle, name), name)
    except OSError as error:
        raise DumpInvalid.at(name, 1, 1, f"cannot read the dump: {error.strerror or error}") from None


_LIMIT = f"ovsgen reads dumps of up to {MAX_DUMP_BYTES // (1024 * 1024)} MiB"


def parse_dump(text: str, name: str) -> OvsState:
    """The state in `ovsdb-client dump --format=json` output; `name` locates errors."""
    if len(text) > MAX_DUMP_BYTES:
        raise DumpInvalid.at(name, 1, 1, f"the dump is {len(text)} characters; {_LIMIT}")
    return _parse(_text_lines(text), name)


def _file_lines(handle: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """Numbered lines of a dump, never reading past the size limit (a pipe or device has no size)."""
    remaining = MAX_DUMP_BYTES
    number = 0
    while raw := handle.readline(remaining + 1):
        number += 1
        remaining -= len(raw)
        if remaining < 0:
            raise DumpInvalid.at(name, number, 1, f"the dump goes on past {MAX_DUMP_BYTES} bytes; {_LIMIT}")
        try:
            text = raw.decode()  # UTF-8
        except UnicodeDecodeError as error:
            raise DumpInvalid.at(name, number, error.start + 1, "not UTF-8 text") from None
        del raw  # the line is parsed from `text`: not both in memory meanwhile
        yield number, text


_LINE = re.compile(r"^.*$", re.MULTILINE)  # `.` and `^`/`$` stop at "\n" only


def _text_lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines split at newlines only (a JSON string may hold U+2028, which splitlines() splits at),
    one at a time."""
    for number, line in enumerate(_LINE.finditer(text), start=1):
        yield number, line.group()


def _parse(lines: Iterator[tuple[int, str]], name: str) -> OvsState:
    tables = Tables({}, {}, {}, {}, {}, {}, {})
    for number, line in lines:
        if line.strip():
            _read_table(Where(name, number, line), tables)
    missing = [table for table in TABLES if table not in tables.seen]
    if missing:
        raise DumpInvalid.at(
            name,
            1,
            1,
            f"the dump has no {', '.join(missing)} table; make it with: ovsdb-client dump --format=json Open_vSwitch",
        )
    return _state(tables, name)


# --- one table line, streamed ---------------------------------------------------


def _read_table(where: Where, tables: Tables) -> None:
    """Check one table line and keep the compact rows of Bridge, Port and Interface."""
    members = object_members(where)
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
    reader = READERS[table]

    def read(number: int, row_offset: int, cells: Any) -> None:
        reader(Row(where, row_offset, table=table, number=number + 1, columns=columns, cells=cells), tables)

    walk(where, members["data"][0], read)


def _columns(where: Where, table: str, headings: tuple[int, Any], rows: int) -> dict[str, int]:
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


# --- the state ------------------------------------------------------------------


def _state(tables: Tables, file: str) -> OvsState:
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


def _natural_name(row: InterfaceRow) -> tuple[tuple[int, str], ...]:
    return natural_key(row.name)


@dataclass
class _Owners:
    """Resolves uuids: each must name a row, and each port or interface belong to one owner
    only (what ovs-vswitchd would make of anything else is anyone's guess)."""

    tables: Tables
    file: str
    owner_of: dict[str, str]

    def port(self, bridge: BridgeRow, uuid: str) -> PortRow:
        where = (self.tables.seen["Bridge"], bridge.where + 1)
        found: PortRow = self._claim(self.tables.ports, uuid, f"Bridge {bridge.name}", ("ports", "Port"), where)
        return found

    def interface(self, port: PortRow, uuid: str) -> InterfaceRow:
        where = (self.tables.seen["Port"], port.where + 1)
        found: InterfaceRow = self._claim(
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
            message = f"{owner}: {name}: uuid {uuid} is not a row of the {table} table"
            raise DumpInvalid.at(self.file, line, offset, message)
        if uuid in self.owner_of:
            message = f"{owner}: {name}: uuid {uuid} already belongs to {self.owner_of[uuid]}"
            raise DumpInvalid.at(self.file, line, offset, message)
        self.owner_of[uuid] = owner  # a name may hold ':', so the owner is kept whole, not cut from a message
        return rows[uuid]


def _port(row: PortRow, bridge: str, members: list[InterfaceRow], unrestorable: tuple[str, ...]) -> PortState:
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


def _kind(name: str, bridge: str, members: list[InterfaceRow]) -> str:
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


def _interface(row: InterfaceRow) -> InterfaceState:
    return InterfaceState(
        name=row.name, mtu_request=row.mtu_request, type=row.type, options=row.options, columns=row.columns
    )
