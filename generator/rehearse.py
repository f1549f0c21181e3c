"""`ovsgen rehearse`: try a change plan and its rollback on a private ovsdb-server.

The starting state comes from an old design (its apply.sh builds it) or from a
host database file made with `ovsdb-client backup`. change.sh runs; the
database must then hold exactly the new design's state (as the new apply.sh
builds it on an empty database) plus whatever the plan leaves alone.
rollback.sh runs; the database must equal the starting state again. Nothing
touches the host's own Open vSwitch: each server listens on a socket in a
temporary folder and is stopped by pid.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.changes import plan_designs, plan_from_host
from generator.diagnostics import DesignInvalid, Diagnostic
from generator.hoststate import COLUMNS, MAX_DUMP_BYTES, ColumnType, column_type, parse_dump, shown
from generator.ovsstate import OvsState
from generator.pipeline import ValidDesign
from generator.plan import with_untouched
from generator.render.files import OutputFile
from generator.render.ovs_script import render_apply_script
from generator.render.plan_files import render_plan

SCHEMA_PATHS = (
    Path("/usr/share/openvswitch/vswitch.ovsschema"),
    Path("/usr/local/share/openvswitch/vswitch.ovsschema"),
)
TOOLS = ("ovsdb-tool", "ovsdb-server", "ovsdb-client", "ovs-vsctl")


class RehearsalUnavailable(Exception):
    """The Open vSwitch tools a rehearsal needs are not installed."""


@dataclass(frozen=True)
class Step:
    """One step of a rehearsal and how it went."""

    name: str
    passed: bool
    details: str = ""


@dataclass
class Report:
    """The outcome of a rehearsal on one node: its steps; it passed if every step did."""

    node: str
    steps: list[Step] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.passed for step in self.steps)

    def text(self) -> str:
        lines = [f"Rehearsal of node {self.node}:"]
        for step in self.steps:
            lines.append(f"  {'PASS' if step.passed else 'FAIL'}  {step.name}")
            lines += [f"        {line}" for line in step.details.splitlines()]
        lines.append("Result: " + ("every step held." if self.passed else "FAILED."))
        return "\n".join(lines) + "\n"


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
        raise RehearsalUnavailable(
            f"rehearse needs Open vSwitch's database tools; missing: {what} "
            "(Debian/Ubuntu: apt-get install openvswitch-switch; RHEL: dnf install openvswitch)"
        )
    return Tools({name: str(path) for name, path in found.items()}, schema)


def is_database_file(path: Path) -> bool:
    """An OVSDB file (standalone or clustered) starts with its magic word; a design does not."""
    with path.open("rb") as handle:
        return handle.read(5) == b"OVSDB"


class PrivateOvsdb:
    """An ovsdb-server serving one database file on a socket in `folder`."""

    def __init__(self, folder: Path, tools: Tools) -> None:
        self.folder, self.tools = folder, tools
        self.socket = folder / "db.sock"

    @property
    def vsctl(self) -> str:
        return f"{self.tools.paths['ovs-vsctl']} --db=unix:{self.socket} --no-wait"

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

    def state(self, source: str = "ovsdb-client dump") -> OvsState:
        """What the database holds, checked as any host dump is; `source` locates errors."""
        command = [self.tools.paths["ovsdb-client"], "dump", "--format=json", f"unix:{self.socket}", "Open_vSwitch"]
        try:
            result = subprocess.run(command, check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as error:
            raise _refused(source, f"ovsdb-client dump failed: {shown(error.stderr.strip())}") from None
        return parse_dump(result.stdout, source)

    def schema(self) -> object:
        """The schema the server serves its Open_vSwitch database with, as JSON."""
        command = [self.tools.paths["ovsdb-client"], "get-schema", f"unix:{self.socket}", "Open_vSwitch"]
        try:  # what a failed command printed is not trusted, however it looks
            return json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
        except (subprocess.CalledProcessError, ValueError):
            return None


# --- a host's backup: refused unless it is an Open vSwitch database ----------


def refuse_foreign_backup(start: Path, tools: Tools) -> None:
    """Refuse a backup that is not a standalone Open_vSwitch database of the usual size.

    A clustered file would have the private server contact the servers it names; a schema of
    its own could make Port.tag a string; neither may reach a script. Checked with ovsdb-tool
    before any server starts.
    """
    name = str(start)
    size = start.stat().st_size
    if size > MAX_DUMP_BYTES:
        raise _refused(name, f"the backup is {size} bytes; ovsgen rehearses backups of up to {MAX_DUMP_BYTES} bytes")
    tool = tools.paths["ovsdb-tool"]
    try:
        subprocess.run([tool, "db-is-standalone", str(start)], capture_output=True, check=True)
    except subprocess.CalledProcessError:
        raise _refused(name, "not a standalone OVSDB database (make it with: ovsdb-client backup)") from None
    try:
        named = subprocess.run([tool, "db-name", str(start)], capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as error:
        raise _refused(name, f"ovsdb-tool cannot read the database's name: {shown(error.stderr.strip())}") from None
    if named.stdout.strip() != "Open_vSwitch":
        raise _refused(name, f"the database is {shown(named.stdout.strip())}, not Open_vSwitch")


def refuse_foreign_schema(start: Path, server: PrivateOvsdb) -> None:
    """Refuse a backup whose schema gives a column ovsgen reads another type than vswitch.ovsschema."""
    installed = json.loads(server.tools.schema.read_text())
    served = server.schema()
    for table, columns in COLUMNS.items():
        for column in columns:
            want, have = _schema_type(installed, table, column), _schema_type(served, table, column)
            if _parsed(have) is None or _parsed(have) != _parsed(want):
                raise _refused(
                    str(start),
                    f"the database's schema is not Open vSwitch's: {table}.{column} has type {shown(have)}, "
                    f"where {server.tools.schema} has {shown(want)}",
                )


def _schema_type(schema: object, table: str, column: str) -> object:
    """A column's type as a schema's JSON spells it; None if the schema has no such column."""
    try:
        found: object = schema["tables"][table]["columns"][column]["type"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return found


def _parsed(spec: object) -> ColumnType | None:
    try:
        return column_type(spec)
    except (KeyError, TypeError, ValueError):
        return None


def _refused(file: str, message: str) -> DesignInvalid:
    return DesignInvalid([Diagnostic(file, 1, 1, (), message)])


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
            raise _refused(str(start_from), f"ovsdb-server cannot serve it: {shown(said)}") from None
        if start_from is None:
            subprocess.run([*server.vsctl.split(), "init"], check=True, capture_output=True)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _run(file: OutputFile, server: PrivateOvsdb, workdir: Path) -> Step:
    path = workdir / file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(file.text)
    result = subprocess.run(
        ["bash", str(path), "--apply", "--skip-nic-check"],
        capture_output=True,
        text=True,
        env={**os.environ, "OVS_VSCTL": server.vsctl},
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    return Step(f"{file.name} --apply", result.returncode == 0, "" if result.returncode == 0 else output)


def _apply_design(valid: ValidDesign, node: str, server: PrivateOvsdb, workdir: Path) -> Step | None:
    layout = next((layout for layout in valid.layouts if layout.node.name == node), None)
    if layout is None:
        return None  # the node is not in that design: its state is empty
    (script,) = render_apply_script(valid.design, layout, ".")
    return _run(script, server, workdir / valid.design.name)


def _reference(tools: Tools, new: ValidDesign, node: str, workdir: Path) -> tuple[OvsState, Step | None]:
    """The new design's state as its own apply.sh builds it on an empty database."""
    with private_ovsdb(tools) as server:
        step = _apply_design(new, node, server, workdir / "reference")
        return server.state(), step


def rehearse(start: Path, old: ValidDesign | None, new: ValidDesign, node: str, *, prune: bool = False) -> Report:
    """Rehearse the plan to `new` from `old` (a design) or, when `old` is None, from the database file `start`."""
    tools = find_tools()
    report = Report(node)
    if old is None:
        refuse_foreign_backup(start, tools)
    with tempfile.TemporaryDirectory() as work, private_ovsdb(tools, None if old is not None else start) as server:
        workdir = Path(work)
        if old is None:
            # Before anything runs: a backup's own schema could let any text into a script.
            refuse_foreign_schema(start, server)
        reference, built = _reference(tools, new, node, workdir)
        if built is not None and not built.passed:
            report.steps.append(Step("build the new design's state on an empty database", False, built.details))
            return report
        if old is not None:
            step = _apply_design(old, node, server, workdir / "start")
            if step is not None:
                report.steps.append(Step("build the starting state with the old design's apply.sh", *_result(step)))
                if not step.passed:
                    return report
        starting = server.state(f"{start} (read back by ovsdb-client dump)")
        change = (
            plan_designs(old, new, (node,))[0] if old is not None else plan_from_host(starting, new, node, prune=prune)
        )
        scripts = {file.name: file for file in render_plan([change], "rehearsal")}
        _check_script(report, scripts, "change.sh", server, workdir)
        expected = with_untouched(reference, change.change)
        report.steps.append(_same("the database holds the new design's state", expected, server.state()))
        _check_script(report, scripts, "rollback.sh", server, workdir)
        report.steps.append(_same("the database is back to the starting state", starting, server.state()))
    return report


def _result(step: Step) -> tuple[bool, str]:
    return step.passed, step.details


def _check_script(
    report: Report, scripts: dict[str, OutputFile], name: str, server: PrivateOvsdb, workdir: Path
) -> None:
    if name not in scripts:
        report.steps.append(Step(f"{name} --apply", True, "nothing to change on this node"))
        return
    report.steps.append(_run(scripts[name], server, workdir))


def _lines(state: OvsState) -> list[str]:
    return sorted(
        [f"bridge {bridge}" for bridge in state.bridges]
        + [repr(p) for p in state.ports]
        + [repr(i) for i in state.interfaces]
    )


def _same(title: str, expected: OvsState, actual: OvsState) -> Step:
    want, have = _lines(expected), _lines(actual)
    if want == have:
        return Step(title, True)
    diff = difflib.unified_diff(want, have, "expected", "database", lineterm="", n=0)
    return Step(title, False, "\n".join(diff))
