"""A private ovsdb-server for tests, and the state read back from it as plain data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Ovsdb:
    folder: Path
    vsctl_path: str

    @property
    def socket(self) -> Path:
        return self.folder / "db.sock"

    @property
    def vsctl_command(self) -> str:
        """What OVS_VSCTL is set to for the generated scripts."""
        return f"{self.vsctl_path} --db=unix:{self.socket} --no-wait"

    @classmethod
    def start(cls, folder: Path, *, server: str, tool: str, vsctl: str, schema: Path) -> Ovsdb:
        database = folder / "conf.db"
        subprocess.run([tool, "create", str(database), str(schema)], check=True, capture_output=True)
        subprocess.run(
            [
                server,
                str(database),
                f"--remote=punix:{folder / 'db.sock'}",
                f"--pidfile={folder / 'ovsdb-server.pid'}",
                f"--unixctl={folder / 'ovsdb-server.ctl'}",
                f"--log-file={folder / 'ovsdb-server.log'}",
                "--detach",
                "--no-chdir",
            ],
            check=True,
            capture_output=True,
        )
        instance = cls(folder, vsctl)
        instance.vsctl("init")
        return instance

    def stop(self) -> None:
        pidfile = self.folder / "ovsdb-server.pid"
        if not pidfile.exists():
            return
        pid = int(pidfile.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(250):
            if not _running(pid):
                return
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)

    def vsctl(self, *args: str) -> str:
        result = subprocess.run([*self.vsctl_command.split(), *args], check=True, capture_output=True, text=True)
        return result.stdout

    def table(self, name: str) -> list[dict[str, Any]]:
        """Rows of a table, with OVSDB's JSON encoding turned into plain values."""
        raw = json.loads(self.vsctl("--format=json", "list", name))
        return [dict(zip(raw["headings"], (_plain(cell) for cell in row), strict=True)) for row in raw["data"]]

    def state(self) -> dict[str, Any]:
        """Bridges -> ports -> the columns ovsgen manages, by name (UUIDs resolved)."""
        interfaces = {row["_uuid"]: row for row in self.table("Interface")}
        ports = {row["_uuid"]: row for row in self.table("Port")}
        bridges: dict[str, Any] = {}
        for bridge in self.table("Bridge"):
            bridges[bridge["name"]] = {
                ports[uuid]["name"]: _port_state(ports[uuid], interfaces) for uuid in _as_list(bridge["ports"])
            }
        return bridges

    def dump(self) -> str:
        """The whole database, for byte-for-byte 'nothing changed' comparisons."""
        return "\n".join(self.vsctl("--format=json", "list", table) for table in ("Bridge", "Port", "Interface"))


def _running(pid: int) -> bool:
    """Alive and not a zombie (a detached daemon may wait for an init that never reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _port_state(port: dict[str, Any], interfaces: dict[str, dict[str, Any]]) -> dict[str, Any]:
    members = sorted(interfaces[uuid]["name"] for uuid in _as_list(port["interfaces"]))
    return {
        "interfaces": {
            name: {
                "type": interfaces[uuid]["type"],
                "mtu_request": interfaces[uuid]["mtu_request"],
            }
            for uuid in _as_list(port["interfaces"])
            for name in [interfaces[uuid]["name"]]
        },
        "members": members,
        "tag": port["tag"],
        "bond_mode": port["bond_mode"],
        "lacp": port["lacp"],
        "other_config": port["other_config"],
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _plain(cell: Any) -> Any:
    """OVSDB JSON: ["uuid", u] -> u, ["set", []] -> None, ["set", [a, b]] -> [a, b], ["map", ...] -> dict."""
    if isinstance(cell, list) and len(cell) == 2 and isinstance(cell[0], str):
        kind, value = cell
        if kind == "uuid":
            return value
        if kind == "set":
            items = [_plain(item) for item in value]
            return items if items else None
        if kind == "map":
            return {_plain(k): _plain(v) for k, v in value}
    return cell
