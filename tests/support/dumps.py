"""Host dumps written in `ovsdb-client dump --format=json` form from a few lines of Python, for
tests of what reads them that need no daemon (the daemon-backed tests check the form against the
real ovsdb-client)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from itertools import count
from typing import Any

from generator.ovs.columns import COLUMNS

Row = dict[str, Any]  # column -> value: dict a map, list a set, None an empty optional


def bridge(name: str, *ports: Row, **columns: Any) -> Row:
    """A bridge with its own internal port first, as add-br makes it."""
    own = port(name, interface(name, type="internal"))
    return {"name": name, "ports": [own, *ports], **columns}


def port(name: str, *interfaces: Row, **columns: Any) -> Row:
    return {"name": name, "interfaces": list(interfaces) or [interface(name)], **columns}


def interface(name: str, **columns: Any) -> Row:
    return {"name": name, **columns}


def bond(name: str, *members: str, **columns: Any) -> Row:
    return port(name, *(interface(member) for member in members), **columns)


def dump_text(*bridges: Row, hostname: str = "") -> str:
    numbers = count(1)
    tables: dict[str, list[Row]] = {"Bridge": [], "Port": [], "Interface": []}
    for found in bridges:
        ports = []
        for item in found["ports"]:
            members = [_row(tables, "Interface", member, numbers) for member in item["interfaces"]]
            ports.append(_row(tables, "Port", {**item, "interfaces": members}, numbers))
        _row(tables, "Bridge", {**found, "ports": ports}, numbers)
    root = {"_uuid": _uuid(next(numbers)), "external_ids": {"hostname": hostname} if hostname else {}}
    lines = [_table("Open_vSwitch", [root])]
    lines += [_table(name, rows) for name, rows in tables.items()]
    return "\n".join(lines) + "\n"


def _uuid(number: int) -> str:
    return str(uuid.UUID(int=number))


def _row(tables: dict[str, list[Row]], table: str, row: Row, numbers: Iterator[int]) -> str:
    identity = _uuid(next(numbers))
    tables[table].append({"_uuid": identity, **row})
    return identity


def _table(name: str, rows: list[Row]) -> str:
    headings = sorted({column for row in rows for column in row})
    data = [[_cell(name, column, row.get(column)) for column in headings] for row in rows]
    return json.dumps({"caption": f"{name} table", "data": data, "headings": headings})


_REFERENCES = ("ports", "interfaces")


def _cell(table: str, column: str, value: Any) -> Any:
    if value is None:
        return _empty(table, column)
    if column == "_uuid":
        return ["uuid", value]
    if column in _REFERENCES:
        return ["set", [["uuid", item] for item in value]]
    if isinstance(value, dict):
        return ["map", [[key, item] for key, item in sorted(value.items())]]
    if isinstance(value, list):
        return ["set", value]
    return value


def _empty(table: str, column: str) -> Any:
    """A row without the column: its empty value (an empty map or set, or a default atom)."""
    kind = COLUMNS.get(table, {}).get(column)
    if kind is not None and kind.value is not None:
        return ["map", []]
    if kind is not None and kind.min == 1:  # a column that always has a value
        return {"string": "", "integer": 0, "boolean": False}[kind.key.kind]
    return ["set", []]
