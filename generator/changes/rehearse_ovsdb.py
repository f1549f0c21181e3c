"""The private Open vSwitch database a rehearsal works on: the tools it needs, and an
ovsdb-server serving one database file on a socket in a temporary folder, stopped by pid.

Nothing here touches the host's own Open vSwitch: the scripts run against this server get
its socket in OVS_VSCTL, and a stand-in `hostname` that names the node the plan was made for.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator.errors import DumpInvalid, ToolUnavailable
from generator.ovs.dbrows import Rows, read_rows
from generator.ovs.hostdump import parse_dump
from generator.ovs.state import OvsState
from generator.ovs.untrusted_text import shown

SCHEMA_PATHS = (
    Path("/usr/share/openvswitch/vswitch.ovsschema"),
    Path("/usr/local/share/openvswitch/vswitch.ovsschema"),
)
TOOLS = ("ovsdb-tool", "ovsdb-server", "ovsdb-client", "ovs-vsctl")


@dataclass(frozen=True)
class Tools:
    """Where the Open vSwitch programs and the OVSDB schema a rehearsal uses are."""

    paths: dict[str, str]
    schema: Path


def find_tools() -> Tools:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
    found = {name: shutil.which(name, path=search) for name in TOOLS}
    missing = [name for name, path in found.items() if path is None]
    schema = next((path for path in SCHEMA_PATHS if path.exists()), None)
    if missing or schema is None:
        what = ", ".join(missing) if missing else "the Open_vSwitch schema (vswitch.ovsschema)"
        raise ToolUnavailable(
            f"rehearse needs Open vSwitch's database tools; missing: {what} "
            "(Debian/Ubuntu: apt-get install openvswitch-switch; RHEL: dnf install openvswitch)"
        )
    return Tools({name: str(path) for name, path in found.items()}, schema)


class PrivateOvsdb:
    """An ovsdb-server serving one database file on a socket in `folder`."""

    def __init__(self, folder: Path, tools: Tools) -> None:
        self.folder, self.tools = folder, tools
        self.socket = folder / "db.sock"
        self.host_bin: Path | None = None  # where the stand-in `hostname` is, once the node's name is known

    @property
    def vsctl(self) -> str:
        return f"{self.tools.paths['ovs-vsctl']} --db=unix:{self.socket} --no-wait"

    def pose_as(self, hostname: str) -> None:
        """Have the scripts run here see `hostname` as the host's name: the plan's host guard
        compares it with the node the plan was made for, and this server stands for that node."""
        folder = self.folder / "host-bin"
        folder.mkdir(exist_ok=True)
        stand_in = folder / "hostname"
        stand_in.write_text(f"#!/bin/sh\nprintf '%s\\n' {shlex.quote(hostname)}\n")
        stand_in.chmod(0o755)
        self.host_bin = folder

    def environment(self) -> dict[str, str]:
        """What a script run against this server gets: OVS_VSCTL, and the stand-in `hostname` first on PATH."""
        found = {**os.environ, "OVS_VSCTL": self.vsctl}
        if self.host_bin is not None:
            found["PATH"] = os.pathsep.join([str(self.host_bin), os.environ.get("PATH", "")])
        return found

    def start(self, database: Path) -> None:
        subprocess.run(
            [
                self.tools.paths["ovsdb-server"],
                str(database),
                f"--remote=punix:{self.socket}",
                f"--pidfile={self.folder / 'ovsdb-server.pid'}",
                f"--unixctl={self.folder / 'ovsdb-server.ctl'}",
                f"--log-file={self.folder / 'ovsdb-server.log'}",
                "--detach",
                "--no-chdir",
            ],
            check=True,
            capture_output=True,
        )

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
            if not _alive(pid):
                return
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)

    def dump(self, source: str = "ovsdb-client dump") -> str:
        """The whole database as `ovsdb-client dump --format=json` prints it; `source` locates errors."""
        command = [self.tools.paths["ovsdb-client"], "dump", "--format=json", f"unix:{self.socket}", "Open_vSwitch"]
        try:
            return subprocess.run(command, check=True, capture_output=True, text=True).stdout
        except subprocess.CalledProcessError as error:
            raise DumpInvalid.at(source, 1, 1, f"ovsdb-client dump failed: {shown(error.stderr.strip())}") from None

    def snapshot(self, source: str = "ovsdb-client dump") -> tuple[OvsState, Rows]:
        """What the database holds, both as ovsgen models it and as every row, whole (one dump)."""
        text = self.dump(source)
        return parse_dump(text, source), read_rows(text, self.schema(), source)

    def schema(self) -> object:
        """The schema the server serves its Open_vSwitch database with, as JSON."""
        command = [self.tools.paths["ovsdb-client"], "get-schema", f"unix:{self.socket}", "Open_vSwitch"]
        try:  # what a failed command printed is not trusted, however it looks
            return json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
        except (subprocess.CalledProcessError, ValueError):
            return None


def _alive(pid: int) -> bool:
    """Running and not a zombie: a detached daemon may wait for an init that never reaps it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@contextmanager
def private_ovsdb(tools: Tools, start_from: Path | None = None) -> Iterator[PrivateOvsdb]:
    """A running server on an empty database, or on a copy of `start_from`."""
    folder = Path(tempfile.mkdtemp(prefix="ovsgen-", dir="/tmp"))  # short: unix socket paths are limited
    server = PrivateOvsdb(folder, tools)
    database = folder / "conf.db"
    try:
        if start_from is None:
            create = [tools.paths["ovsdb-tool"], "create", str(database), str(tools.schema)]
            subprocess.run(create, check=True, capture_output=True)
        else:
            shutil.copyfile(start_from, database)
        try:
            server.start(database)
        except subprocess.CalledProcessError as error:
            if start_from is None:
                raise
            said = error.stderr.decode(errors="replace").strip()  # bytes: the server ran without text=True
            raise DumpInvalid.at(str(start_from), 1, 1, f"ovsdb-server cannot serve it: {shown(said)}") from None
        if start_from is None:
            subprocess.run([*server.vsctl.split(), "init"], check=True, capture_output=True)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
