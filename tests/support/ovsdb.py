"""The private ovsdb-server of the tests, and what it holds, read back as plain data."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.changes.rehearse_ovsdb import PrivateOvsdb


@dataclass
class Ovsdb:
    server: PrivateOvsdb

    @property
    def folder(self) -> Path:
        return self.server.folder

    @property
    def socket(self) -> Path:
        return self.server.socket

    @property
    def vsctl_path(self) -> str:
        return self.server.tools.paths["ovs-vsctl"]

    @property
    def vsctl_command(self) -> str:
        """What OVS_VSCTL is set to for the generated scripts."""
        return self.server.vsctl

    def vsctl(self, *args: str) -> str:
        result = subprocess.run([*self.vsctl_command.split(), *args], check=True, capture_output=True, text=True)
        return result.stdout

    def table(self, name: str) -> list[dict[str, Any]]:
        """Rows of a table, with OVSDB's JSON encoding turned into plain values."""
        raw = json.loads(self.vsctl("--format=json", "list", name))
        return [dict(zip(raw["headings"], (plain(cell) for cell in row), strict=True)) for row in raw["data"]]

    def state(self) -> dict[str, Any]:
        """Bridges -> ports -> the columns ovsgen manages, by name (UUIDs resolved).

        Read independently of generator.ovs.hostdump's model, so that tests compare the
        database with what the design means, not with ovsgen's own reading of it.
        """
        interfaces = {row["_uuid"]: row for row in self.table("Interface")}
        ports = {row["_uuid"]: row for row in self.table("Port")}
        bridges: dict[str, Any] = {}
        for bridge in self.table("Bridge"):
            bridges[bridge["name"]] = {
                ports[uuid]["name"]: _port_state(ports[uuid], interfaces) for uuid in _as_list(bridge["ports"])
            }
        return bridges

    def rows(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every Bridge, Port and Interface row, whole, by (table, name), with references as names
        and without _uuid: equal databases give equal rows whatever uuids their rows got.
        Columns only ovs-vswitchd writes are empty here: no vswitchd runs."""
        tables = {name: self.table(name) for name in ("Bridge", "Port", "Interface")}
        names = {row["_uuid"]: row["name"] for rows in tables.values() for row in rows}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for table, rows in tables.items():
            for row in rows:
                cells = {column: _named(value, names) for column, value in row.items() if column != "_uuid"}
                found[(table, row["name"])] = cells
        return found

    def root(self) -> dict[str, Any]:
        (row,) = self.table("Open_vSwitch")
        return {"external_ids": row["external_ids"]}

    def dump(self) -> str:
        """The whole database, for byte-for-byte 'nothing changed' comparisons."""
        return "\n".join(self.vsctl("--format=json", "list", table) for table in ("Bridge", "Port", "Interface"))


def _port_state(port: dict[str, Any], interfaces: dict[str, dict[str, Any]]) -> dict[str, Any]:
    members = [interfaces[uuid] for uuid in _as_list(port["interfaces"])]
    return {
        "interfaces": {m["name"]: {"type": m["type"], "mtu_request": m["mtu_request"]} for m in members},
        "members": sorted(m["name"] for m in members),
        "tag": port["tag"],
        "bond_mode": port["bond_mode"],
        "lacp": port["lacp"],
        "other_config": port["other_config"] or {},
    }


def _named(value: Any, names: dict[str, str]) -> Any:
    """A cell with row uuids replaced by the rows' names (sorted, for sets)."""
    if isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, list) and value and all(isinstance(item, str) and item in names for item in value):
        return sorted(names[item] for item in value)
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def plain(cell: Any) -> Any:
    """OVSDB JSON -> Python: uuids as strings, sets as lists (empty: None), maps as dicts.

    The tests' own reading of ovs-vsctl's trusted output, independent of generator.ovs.hostdump.
    """
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
