"""Read a host's Open vSwitch database dump into an OvsState.

The dump is what `ovsdb-client dump --format=json Open_vSwitch` prints on the
host: one JSON object per table per line ({"caption": "Port table",
"headings": [...], "data": [...]}). Only the Bridge, Port and Interface tables
are read; cells use OVSDB's JSON encoding (["uuid", u], ["set", [...]],
["map", [[k, v], ...]]).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from generator.diagnostics import DesignInvalid, Diagnostic
from generator.ovsstate import InterfaceState, OvsState, PortState
from generator.resolve import natural_key

TABLES = ("Bridge", "Port", "Interface")
Row = dict[str, Any]


def load_dump(path: Path, display_name: str | None = None) -> OvsState:
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(name, 1, f"cannot read the dump: {error}") from None
    return parse_dump(text, name)


def parse_dump(text: str, name: str) -> OvsState:
    """The state in `ovsdb-client dump --format=json` output; `name` locates errors."""
    tables = _tables(text, name)
    missing = [table for table in TABLES if table not in tables]
    if missing:
        raise _fail(
            name,
            1,
            f"the dump has no {', '.join(missing)} table; make it with: ovsdb-client dump --format=json Open_vSwitch",
        )
    unsafe = _unsafe_value(tables)
    if unsafe is not None:
        table, value = unsafe
        raise _fail(name, 1, f"the {table} table holds {value!r}, which ovsgen will not copy into a script")
    return state_from_tables(tables)


def _fail(file: str, line: int, message: str) -> DesignInvalid:
    return DesignInvalid([Diagnostic(file, line, 1, (), message)])


def _tables(text: str, name: str) -> dict[str, list[Row]]:
    tables: dict[str, list[Row]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            table = json.loads(line)
            caption = str(table["caption"])
            headings = table["headings"]
            rows = [dict(zip(headings, (plain(cell) for cell in row), strict=True)) for row in table["data"]]
        except (ValueError, KeyError, TypeError) as error:
            raise _fail(name, number, f"not a line of 'ovsdb-client dump --format=json' output ({error})") from None
        tables[caption.removesuffix(" table")] = rows
    return tables


def plain(cell: Any) -> Any:
    """OVSDB JSON -> Python: uuids as strings, sets as lists (empty: None), maps as dicts."""
    if isinstance(cell, list) and len(cell) == 2 and isinstance(cell[0], str):
        kind, value = cell
        if kind == "uuid":
            return value
        if kind == "set":
            items = [plain(item) for item in value]
            return items or None
        if kind == "map":
            return {plain(key): plain(item) for key, item in value}
    return cell


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# What may come from a dump into a script: names and values go into quoted words and into
# quoted heredocs, where a newline or a line like `EXPECTED` would end the heredoc early.
_SAFE = re.compile(r"^[A-Za-z0-9_.:/@+=,%-]*$")


def _unsafe_value(tables: dict[str, list[Row]]) -> tuple[str, str] | None:
    """The first name or value ovsgen would copy into a script that is not plain text."""
    for table in TABLES:
        for row in tables[table]:
            values: list[Any] = [row.get("name"), row.get("type"), row.get("bond_mode"), row.get("lacp")]
            for column in ("other_config", "options"):
                mapping = row.get(column) or {}
                values += [*mapping.keys(), *mapping.values()]
            for value in values:
                if isinstance(value, str) and not _SAFE.match(value):
                    return table, value
    return None


def state_from_tables(tables: dict[str, list[Row]]) -> OvsState:
    interfaces = {row["_uuid"]: row for row in tables["Interface"]}
    ports_by_uuid = {row["_uuid"]: row for row in tables["Port"]}
    bridges = sorted(tables["Bridge"], key=lambda row: str(row["name"]))
    ports: list[PortState] = []
    seen_interfaces: list[InterfaceState] = []
    for bridge in bridges:
        for uuid in _as_list(bridge["ports"]):
            row = ports_by_uuid[uuid]
            members = [interfaces[member] for member in _as_list(row["interfaces"])]
            members.sort(key=lambda member: natural_key(str(member["name"])))
            ports.append(_port(row, str(bridge["name"]), members))
            seen_interfaces += [_interface(member) for member in members]
    ports.sort(key=lambda port: (port.bridge, natural_key(port.name)))
    return OvsState(tuple(str(row["name"]) for row in bridges), tuple(ports), tuple(seen_interfaces))


def _port(row: Row, bridge: str, members: list[Row]) -> PortState:
    name = str(row["name"])
    lacp = row.get("lacp")
    return PortState(
        name=name,
        bridge=bridge,
        kind=_kind(name, bridge, members),
        members=tuple(str(member["name"]) for member in members),
        tag=row.get("tag"),
        bond_mode=row.get("bond_mode") if len(members) > 1 else None,
        lacp=lacp if isinstance(lacp, str) else None,
        other_config=tuple(sorted((row.get("other_config") or {}).items())),
    )


def _kind(name: str, bridge: str, members: list[Row]) -> str:
    if len(members) > 1:
        return "bond"
    only = members[0] if members else {"name": "", "type": ""}
    if name == bridge and only["type"] == "internal":
        return "bridge"
    if only["type"] == "internal":
        return "internal"
    if only["type"] == "" and only["name"] == name:
        return "nic"
    return "other"


def _interface(row: Row) -> InterfaceState:
    mtu = row.get("mtu_request")
    return InterfaceState(
        name=str(row["name"]),
        mtu_request=mtu if isinstance(mtu, int) else None,
        type=str(row.get("type") or ""),
        options=tuple(sorted((row.get("options") or {}).items())),
    )
