"""`ovsgen rehearse`: try a change plan and its rollback on a private ovsdb-server.

The starting state comes from an old design (its apply.sh builds it) or from a
host database file made with `ovsdb-client backup`. change.sh runs; then every
row of the database, every column but those only ovs-vswitchd writes
(generator.ovs.dbrows), must be what the plan promises: the new design's rows (as
the new apply.sh builds them on an empty database) with the columns the design
manages as that reference has them and every other column as the starting row
had it, and the starting rows the design does not have unchanged, or gone if
the plan removes them. rollback.sh runs; the database must equal the starting
one again, row for row, column for column.

For a plan between designs, libvirt-change.sh and libvirt-rollback.sh are
rehearsed the same way on libvirt's test driver (test:///default), starting
from the old design's networks. Nothing touches the host's own Open vSwitch or
libvirt: each server listens on a socket in a temporary folder and is stopped
by pid.
"""

from __future__ import annotations

import difflib
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
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from generator.changes.files import render_plan
from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.design.validate import ValidDesign
from generator.diagnostics import Diagnostic
from generator.errors import DumpInvalid, ToolUnavailable
from generator.ovs.dbrows import ROOT, Key, PlanScope, Rows, differences, expected_after_change, read_rows
from generator.ovs.hostdump import COLUMNS, MAX_DUMP_BYTES, ColumnType, column_type, load_dump, parse_dump, shown
from generator.ovs.state import OvsState
from generator.render.files import OutputFile
from generator.render.kinds import render_design
from generator.render.ovs_script import render_apply_script

SCHEMA_PATHS = (
    Path("/usr/share/openvswitch/vswitch.ovsschema"),
    Path("/usr/local/share/openvswitch/vswitch.ovsschema"),
)
TOOLS = ("ovsdb-tool", "ovsdb-server", "ovsdb-client", "ovs-vsctl")


class RehearsalUnavailable(ToolUnavailable):
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


_TAKES = "rehearse starts from an old design or a host's database made with: ovsdb-client backup"


def not_a_start(path: Path) -> str:
    """What to say of a first file that is neither a database, a dump nor a valid design (the
    design's own problems are reported before this)."""
    return f"{path} is neither a valid design nor an OVSDB database; {_TAKES}; nothing was rehearsed"


def dump_not_database(path: Path) -> str | None:
    """What to say when the first file is a host dump (`ovsdb-client dump --format=json`), the
    input of `plan --from-host`, instead of a database; None when it is no dump. Told before the
    file is read as a design, whose YAML errors about a JSON dump would only mislead."""
    try:
        load_dump(path)
    except DumpInvalid:
        return None
    return (
        f"{path} is a dump (ovsdb-client dump --format=json), not a database; {_TAKES} "
        "(a dump is for: ovsgen plan --from-host); nothing was rehearsed"
    )


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
            raise _refused(source, f"ovsdb-client dump failed: {shown(error.stderr.strip())}") from None

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


def refuse_hostless_database(start: Path, server: PrivateOvsdb) -> None:
    """Refuse a database without the Open_vSwitch row every host has (ovs-vswitchd makes it): one
    made with `ovsdb-tool create`, say, is no host's, and a rehearsal from it would fail for that."""
    _, rows = server.snapshot(f"{start} (read back by ovsdb-client dump)")
    if not any(table == ROOT for table, _ in rows):
        raise _refused(
            str(start),
            "the database has no Open_vSwitch row, so it is no host's database "
            "(make it on the host with: ovsdb-client backup)",
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


def _refused(file: str, message: str) -> DumpInvalid:
    return DumpInvalid([Diagnostic(file, 1, 1, (), message)])


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
        env=server.environment(),
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


@dataclass(frozen=True)
class Reference:
    """The new design's state as its own apply.sh builds it on an empty database."""

    state: OvsState
    rows: Rows
    built: Step | None  # None: the node is not in the new design


def _reference(tools: Tools, new: ValidDesign, node: str, workdir: Path) -> Reference:
    with private_ovsdb(tools) as server:
        step = _apply_design(new, node, server, workdir / "reference")
        return Reference(*server.snapshot(), step)


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
            refuse_hostless_database(start, server)
        reference = _reference(tools, new, node, workdir)
        if reference.built is not None and not reference.built.passed:
            report.steps.append(
                Step("build the new design's state on an empty database", False, reference.built.details)
            )
            return report
        if old is not None:
            step = _apply_design(old, node, server, workdir / "start")
            if step is not None:
                report.steps.append(Step("build the starting state with the old design's apply.sh", *_result(step)))
                if not step.passed:
                    return report
        starting, start_rows = server.snapshot(f"{start} (read back by ovsdb-client dump)")
        change = (
            plan_designs(old, new, (node,))[0] if old is not None else plan_from_host(starting, new, node, prune=prune)
        )
        server.pose_as(change.expected_hostname)
        files = render_plan([change], "rehearsal")
        scripts = {file.name: file for file in files}
        _check_script(report, scripts, "change.sh", server, workdir)
        expected = expected_after_change(start_rows, reference.rows, _kinds(reference.state), _scope(change))
        report.steps.append(_same("the database holds the new design's state", expected, server.snapshot()[1]))
        _check_script(report, scripts, "rollback.sh", server, workdir)
        report.steps.append(_same("the database is back to the starting state", start_rows, server.snapshot()[1]))
        _rehearse_libvirt(report, change, old, new, _Plan(files, workdir / "libvirt", server.environment()))
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


def _kinds(reference: OvsState) -> dict[Key, str]:
    """What generator.ovs.state.managed_columns needs to know of the reference's rows."""
    kinds: dict[Key, str] = {("Port", port.name): port.kind for port in reference.ports}
    kinds |= {("Interface", i.name): "internal" if i.type == "internal" else "" for i in reference.interfaces}
    return kinds


def _scope(change: NodeChange) -> PlanScope:
    return PlanScope(frozenset(change.change.touched_ports), frozenset(change.change.touched_bridges))


def _same(title: str, expected: Rows, actual: Rows) -> Step:
    found = differences(expected, actual)
    return Step(title, not found, "\n".join(found))


# --- libvirt, on its test driver ----------------------------------------------------

LIBVIRT_URI = "test:///default"

# VIRSH for the scripts a rehearsal runs (rehearse writes it, headed by the `virsh` and
# `state` it uses). libvirt's test driver forgets everything when its connection closes,
# so this keeps the networks in a folder (state/networks/<name>/: the stored definition
# and files marking it persistent, active, autostart) and the virsh commands that rebuild
# them (state/batch, after those in state/reset that remove the driver's own networks).
# Every call runs that batch and then its own command in one connection; a command that
# changes a network, once it succeeded, updates the folder. The stored definition is
# libvirt's form of what was defined, read in a connection of its own: the test driver
# shows an active network's old definition after a redefinition, and refuses
# `net-dumpxml --inactive` (answered here with the stored definition).
_VIRSH_STAND_IN = r"""
set -euo pipefail
shopt -s nullglob
batch=$(<"$state/batch")

# Write state/batch again from the folder.
rebuild() {
  local dir name text
  text=$(<"$state/reset")
  for dir in "$state"/networks/*/; do
    name=${dir%/}
    name=${name##*/}
    if [[ -e $dir/persistent ]]; then
      printf -v text '%snet-define --file %q; ' "$text" "${dir}definition.xml"
      if [[ -e $dir/autostart ]]; then
        printf -v text '%snet-autostart --network %q; ' "$text" "$name"
      fi
      if [[ -e $dir/active ]]; then
        printf -v text '%snet-start --network %q; ' "$text" "$name"
      fi
    else
      printf -v text '%snet-create --file %q; ' "$text" "${dir}definition.xml"
    fi
  done
  printf '%s' "$text" > "$state/batch"
}

# The word after option $1 in the rest, else the rest's last word that is no option.
argument() {
  local option=$1 previous='' word
  found=''
  shift
  for word in "$@"; do
    if [[ $previous == "$option" ]]; then
      found=$word
      return 0
    fi
    [[ $word == --* ]] || found=$word
    previous=$word
  done
}

# Keep libvirt's form of definition file $2, made with $1 (net-define or net-create), in $dir.
keep() {
  local name reset
  name=$(sed -n 's|^ *<name>\(.*\)</name> *$|\1|p' "$2" | head -n 1)
  if [[ -z $name || $name == */* || $name == .* ]]; then
    echo "rehearsal virsh: cannot keep a network named '$name'" >&2
    exit 1
  fi
  dir=$state/networks/$name
  mkdir -p "$dir"
  reset=$(<"$state/reset")
  printf -v reset '%s%s --file %q; net-dumpxml --network %q' "$reset" "$1" "$2" "$name"
  "${virsh[@]}" "$reset" > "$dir/new.xml"
  mv -f "$dir/new.xml" "$dir/definition.xml"
}

command=''
for word in "$@"; do
  if [[ ${1:-} == net-dumpxml && $word == --inactive ]]; then
    continue
  fi
  printf -v command '%s%q ' "$command" "$word"
done
case ${1:-} in
  net-define|net-create|net-start|net-destroy|net-undefine|net-autostart) ;;
  *) exec "${virsh[@]}" "$batch$command" ;;
esac
"${virsh[@]}" "$batch$command" || exit
argument --network "${@:2}"
dir=$state/networks/$found
case $1 in
  net-define)
    argument --file "${@:2}"
    keep net-define "$found"
    touch "$dir/persistent" ;;
  net-create)
    argument --file "${@:2}"
    keep net-create "$found"
    touch "$dir/active" ;;
  net-start) touch "$dir/active" ;;
  net-destroy)
    rm -f "$dir/active"
    [[ -e $dir/persistent ]] || rm -rf "$dir" ;;
  net-undefine)
    rm -f "$dir/persistent" "$dir/autostart"
    [[ -e $dir/active ]] || rm -rf "$dir" ;;
  *)
    if [[ " $* " == *" --disable "* ]]; then rm -f "$dir/autostart"; else touch "$dir/autostart"; fi ;;
esac
rebuild
"""


@dataclass(frozen=True)
class Network:
    """A libvirt network as a rehearsal compares it: its definition without UUID and MAC
    (libvirt makes them up), and whether it is persistent, active and autostarted."""

    definition: str
    flags: tuple[tuple[str, str], ...]


class LibvirtTestDriver:
    """libvirt's test driver whose networks outlive each virsh call (see _VIRSH_STAND_IN)."""

    def __init__(self, folder: Path, virsh: str) -> None:
        self.folder, self.real = folder, virsh
        self.state = folder / "state"
        self.command = folder / "virsh"

    def start(self) -> None:
        """An empty driver: the networks test:///default starts with are removed on every call."""
        self.state.mkdir(parents=True)  # the stand-in keeps networks in state/networks/, made as needed
        every = self._real("net-list --all --name").split()
        active = set(self._real("net-list --name").split())
        reset = [f"net-destroy --network {shlex.quote(name)}; " for name in every if name in active]
        reset += [f"net-undefine --network {shlex.quote(name)}; " for name in every]
        (self.state / "reset").write_text("".join(reset))
        (self.state / "batch").write_text("".join(reset))
        head = (
            f"#!/bin/bash\nvirsh=({shlex.quote(self.real)} -q -c {LIBVIRT_URI})\nstate={shlex.quote(str(self.state))}\n"
        )
        self.command.write_text(head + _VIRSH_STAND_IN)
        self.command.chmod(0o755)

    def _real(self, batch: str) -> str:
        command = [self.real, "-q", "-c", LIBVIRT_URI, batch]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def query(self, *args: str) -> str:
        return subprocess.run([str(self.command), *args], capture_output=True, text=True, check=True).stdout

    def networks(self) -> dict[str, Network]:
        found = {}
        for name in self.query("net-list", "--all", "--name").split():
            info = self.query("net-info", "--network", name)
            fields = [[part.strip() for part in line.split(":")] for line in info.splitlines()]
            kept = tuple((key, rest[-1]) for key, *rest in fields if key in ("Active", "Persistent", "Autostart"))
            found[name] = Network(_normalised(self.query("net-dumpxml", "--network", name)), kept)
        return found


def _normalised(xml: str) -> str:
    """A network definition without what libvirt makes up (UUID, MAC), laid out one way."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    for made_up in list(root.iter("uuid", "mac")):
        parent = made_up.getparent()
        if parent is not None:
            parent.remove(made_up)
    return etree.tostring(root, encoding=str, pretty_print=True)


@dataclass(frozen=True)
class _Plan:
    """A node's plan files, the folder the libvirt rehearsal writes them to, and the environment scripts run in."""

    files: list[OutputFile]
    folder: Path
    environment: dict[str, str]


def _rehearse_libvirt(
    report: Report, change: NodeChange, old: ValidDesign | None, new: ValidDesign, plan: _Plan
) -> None:
    """libvirt-change.sh and libvirt-rollback.sh on the test driver, from the old design's networks."""
    if not change.networks:
        return
    if old is None:
        report.steps.append(Step("libvirt not rehearsed: a dump does not hold libvirt networks", True))
        return
    virsh = shutil.which("virsh")
    if virsh is None:
        report.steps.append(Step("libvirt not rehearsed: virsh is missing", False))
        return
    reference = LibvirtTestDriver(plan.folder / "reference", virsh)
    built = _define_design(reference, new, change.node, plan)
    if built is not None and not built.passed:
        report.steps.append(Step("build the new design's networks on libvirt's test driver", False, built.details))
        return
    driver = LibvirtTestDriver(plan.folder / "rehearsal", virsh)
    step = _define_design(driver, old, change.node, plan)
    if step is not None:
        report.steps.append(Step("build the starting networks with the old design's define.sh", *_result(step)))
        if not step.passed:
            return
    starting = driver.networks()
    for file in plan.files:
        _write(plan.folder / "plan", file)
    scripts = {file.name: plan.folder / "plan" / file.path for file in plan.files}
    report.steps.append(_run_virsh_script(scripts["libvirt-change.sh"], driver, plan))
    report.steps.append(_same_networks("libvirt holds the new design's networks", reference.networks(), driver))
    if "libvirt-rollback.sh" not in scripts:
        report.steps.append(Step("libvirt rollback not rehearsed: the plan has no libvirt-rollback.sh", False))
        return
    report.steps.append(_run_virsh_script(scripts["libvirt-rollback.sh"], driver, plan))
    report.steps.append(_same_networks("libvirt is back to the starting networks", starting, driver))


def _write(folder: Path, file: OutputFile) -> Path:
    path = folder / file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(file.text)
    return path


def _define_design(driver: LibvirtTestDriver, valid: ValidDesign, node: str, plan: _Plan) -> Step | None:
    """Start `driver` with `valid`'s networks for `node`, by the design's own define.sh."""
    driver.start()
    if not any(layout.node.name == node for layout in valid.layouts):
        return None
    files = render_design(valid, [node], ["libvirt"])
    paths = [_write(driver.folder, file) for file in files]  # beside state/ and virsh: <node>/libvirt/...
    (script,) = [path for path in paths if path.name == "define.sh"]
    return _run_virsh_script(script, driver, plan)


def _run_virsh_script(script: Path, driver: LibvirtTestDriver, plan: _Plan) -> Step:
    result = subprocess.run(
        ["bash", str(script), "--apply"],
        capture_output=True,
        text=True,
        env={**plan.environment, "VIRSH": str(driver.command)},
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    return Step(f"{script.name} --apply", result.returncode == 0, "" if result.returncode == 0 else output)


def _same_networks(title: str, expected: dict[str, Network], driver: LibvirtTestDriver) -> Step:
    actual = driver.networks()
    found = []
    for name in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(name), actual.get(name)
        if have is None:
            found.append(f"network {name}: expected, not defined")
        elif want is None:
            found.append(f"network {name}: defined, not expected")
        else:
            found += [
                f"network {name} {key}: expected {value}, libvirt {dict(have.flags).get(key, 'unknown')}"
                for key, value in want.flags
                if dict(have.flags).get(key) != value
            ]
            if want.definition != have.definition:
                found.append(f"network {name}: its definition differs")
                lines = difflib.unified_diff(
                    want.definition.splitlines(), have.definition.splitlines(), "expected", "libvirt", lineterm="", n=1
                )
                found += [f"  {line}" for line in lines]
    return Step(title, not found, "\n".join(found))
