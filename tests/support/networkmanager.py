"""A private NetworkManager for the tests, in mount and network namespaces of its own.

Nothing of the machine's own network is touched: the daemon runs in namespaces held by
tests/support/nm_namespace.sh (a private /run and /var/lib/NetworkManager, read-only sysfs, veth
pairs as the NICs), talks to its own dbus-daemon on a socket in a temporary folder and reads
keyfiles from that folder only. With `ovs=True` it drives a private ovsdb-server (the one ovsgen
rehearse starts, tests.conftest.ovsdb_server) and an ovs-vswitchd on the userspace datapath.
Every daemon is stopped by its pid, then the folder is removed.

Level 2 runs Debian's own daemon (debian_networkmanager); level 3 needs one built with OVS
support (ovs_networkmanager), which .ci/networkmanager-ovs builds into a cache outside the clone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

from tests.conftest import SUPPORT, ovsdb_server, require_file, require_tool, run
from tests.support.ovsdb import Ovsdb

DEBIAN_NETWORKMANAGER = Path("/usr/sbin/NetworkManager")
# Where .ci/networkmanager-ovs builds (same variable, same default).
CI_CACHE = Path(os.environ.get("OVSGEN_CI_CACHE", "/var/cache/ovsgen-ci"))
TOOLS = ("unshare", "nsenter", "ip", "dbus-daemon", "nmcli", "busctl")
NIC = tuple[str, str | None]  # a NIC's name and MAC (None: the kernel picks one)

T = TypeVar("T")

_NM_BUS = "org.freedesktop.NetworkManager"
_SETTINGS = "/org/freedesktop/NetworkManager/Settings"


def _missing(message: str) -> NoReturn:
    """Like tests.conftest.require_tool: a failure in CI, a skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must provide it (see .ci/run)")
    pytest.skip(message)


def debian_networkmanager() -> Path:
    """Debian's NetworkManager (built without OVS support: it loads OVS profiles, never activates them)."""
    return require_file(DEBIAN_NETWORKMANAGER, "network-manager")


def ovs_networkmanager() -> Path:
    """The NetworkManager with OVS support that .ci/networkmanager-ovs built for the installed version."""
    debian_networkmanager()
    version = run([require_tool("dpkg-query"), "-W", "-f=${Version}", "network-manager"]).stdout.strip()
    cache = CI_CACHE / f"networkmanager-ovs-{version}"
    if not (cache / ".complete").exists():
        _missing(f"no NetworkManager with OVS support in {cache}: run .ci/networkmanager-ovs as root")
    return cache / "sbin" / "NetworkManager"


@dataclass
class PrivateNetworkManager:
    """A running private NetworkManager; every command runs in its namespaces."""

    folder: Path
    holder: int  # the pid holding the namespaces
    ovsdb: Ovsdb | None = None
    daemon: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bus(self) -> str:
        return f"unix:path={self.folder / 'dbus.sock'}"

    @property
    def keyfiles(self) -> Path:
        return self.folder / "connections"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command in the daemon's namespaces, with the private bus as its system bus."""
        command = ["nsenter", "-t", str(self.holder), "-m", "-n", *args]
        return run(command, env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus})

    def nmcli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("nmcli", *args)

    def checked(self, *args: str) -> str:
        """A command's stdout; the test fails if it exits non-zero or says anything on stderr."""
        result = self.run(*args)
        if result.returncode != 0 or result.stderr:
            pytest.fail(f"{' '.join(args)}: exit {result.returncode}: {result.stderr}\n{self.log_tail()}")
        return result.stdout

    def load(self, paths: Iterable[Path]) -> list[Path]:
        """Copies keyfiles into the daemon's keyfile folder (root's only, or NetworkManager refuses
        them) and loads them. Any stderr fails: `nmcli connection load` exits 0 even when a file
        does not load, and only says "Could not load file" there."""
        copies = []
        for path in paths:
            copy = self.keyfiles / path.name
            shutil.copyfile(path, copy)
            copy.chmod(0o600)
            copies.append(copy)
        self.checked("nmcli", "connection", "load", *(str(copy) for copy in copies))
        return copies

    def uuids(self) -> list[str]:
        """The UUIDs of the profiles loaded from the keyfile folder; not those NetworkManager makes
        itself for devices it finds up (the loopback, the tap devices of the userspace datapath)."""
        lines = self.checked("nmcli", "-g", "UUID,FILENAME", "connection", "show").splitlines()
        pairs = [line.split(":", 1) for line in lines]
        return [uuid for uuid, filename in pairs if Path(filename).parent == self.keyfiles]

    def get(self, uuid: str, properties: Sequence[str]) -> dict[str, str]:
        """Properties as `nmcli -g` prints them (one line each, in the order asked), unescaped."""
        lines = self.checked("nmcli", "-g", ",".join(properties), "connection", "show", uuid).split("\n")
        return {name: _unescaped(line) for name, line in zip(properties, lines[: len(properties)], strict=True)}

    def settings(self, uuid: str) -> dict[str, dict[str, Any]]:
        """The profile as the daemon hands it out on D-Bus (GetSettings): the data nmcli 1.42
        cannot show ([ovs-other-config], [ovs-external-ids]) included."""
        found = self._busctl(_SETTINGS, f"{_NM_BUS}.Settings", "GetConnectionByUuid", "s", uuid)
        path = found["data"][0]
        reply = self._busctl(path, f"{_NM_BUS}.Settings.Connection", "GetSettings")["data"][0]
        return {name: {key: value["data"] for key, value in keys.items()} for name, keys in reply.items()}

    def _busctl(self, path: str, interface: str, method: str, *args: str) -> dict[str, Any]:
        output = self.checked(
            "busctl", f"--address={self.bus}", "--json=short", "call", _NM_BUS, path, interface, method, *args
        )
        found: dict[str, Any] = json.loads(output)
        return found

    def active(self) -> dict[str, str]:
        """UUID -> state of every active profile."""
        lines = self.checked("nmcli", "-g", "UUID,STATE", "connection", "show", "--active").splitlines()
        return dict(line.split(":", 1) for line in lines if line)

    def wait_active(self, uuids: Iterable[str], timeout: float) -> float:
        """Waits until every profile is activated; the seconds it took. Fails with their states."""
        wanted, start = set(uuids), time.monotonic()
        while True:
            states = self.active()
            if all(states.get(uuid) == "activated" for uuid in wanted):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                left = {uuid: states.get(uuid, "inactive") for uuid in sorted(wanted)}
                pytest.fail(f"not activated after {timeout} s: {left}\n{self.log_tail()}")
            time.sleep(0.05)

    def ovsdb_json(self) -> str:
        """The private database as `ovsdb-client dump --format=json Open_vSwitch` prints it."""
        assert self.ovsdb is not None, "started without ovs=True"
        return self.ovsdb.server.dump()

    def addresses(self, interface: str) -> list[str]:
        """The interface's IPv4 addresses as address/prefix, as the kernel has them."""
        found = json.loads(self.checked("ip", "-4", "-j", "addr", "show", "dev", interface))
        return [f"{item['local']}/{item['prefixlen']}" for entry in found for item in entry["addr_info"]]

    def log_tail(self, lines: int = 40) -> str:
        """The end of the daemon's log, for failure messages."""
        log = self.folder / "NetworkManager.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "NetworkManager said:\n" + "\n".join(text.splitlines()[-lines:])


def settled(probe: Callable[[], T], want: T, timeout: float = 10.0) -> T:
    """What `probe` returns once it returns `want`, or after `timeout` seconds (the caller asserts):
    for what daemons write a moment after NetworkManager says a profile is up."""
    deadline = time.monotonic() + timeout
    found = probe()
    while found != want and time.monotonic() < deadline:
        time.sleep(0.05)
        found = probe()
    return found


def _unescaped(value: str) -> str:
    """nmcli's terse output escapes ':' and '\\' with a backslash."""
    return re.sub(r"\\(.)", r"\1", value)


@contextmanager
def private_networkmanager(
    binary: Path, nics: Sequence[NIC] = (), ovs: bool = False
) -> Iterator[PrivateNetworkManager]:
    """A NetworkManager running `binary` in namespaces of its own, with veth pairs as `nics`,
    and with `ovs` its own ovsdb-server and ovs-vswitchd. Stops them all on exit."""
    for tool in (*TOOLS, *(("ovs-vswitchd",) if ovs else ())):
        require_tool(tool)
    if os.geteuid() != 0:
        _missing("a private NetworkManager needs root (mount and network namespaces)")
    folder = Path(tempfile.mkdtemp(prefix="ovsgen-nm-", dir="/tmp"))  # short: unix socket paths are limited
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        _write_config(folder)
        nm = PrivateNetworkManager(folder, _start_holder(folder, nics, stack))
        _start_dbus(nm)
        stack.callback(_stop, folder / "dbus.pid")
        if ovs:
            nm.ovsdb = stack.enter_context(_private_ovs(nm))
        stack.callback(_stop_daemon, nm)
        _start_daemon(nm, binary)
        yield nm


# Only what a test needs, and nothing that reaches outside the folder: no DNS or hostname
# handling (they would write /etc), no profiles made up for unconfigured NICs, no polkit.
_NM_CONF = """\
[main]
plugins=keyfile
auth-polkit=false
dns=none
rc-manager=unmanaged
systemd-resolved=false
hostname-mode=none
no-auto-default=*

[keyfile]
path={folder}/connections

[connectivity]
enabled=false

[device-ovsgen-taps]
match-device=type:tun
managed=0
"""

# A system bus of the test's own: one socket, no activation of services, everything allowed.
_DBUS_CONF = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={folder}/dbus.sock</listen>
  <pidfile>{folder}/dbus.pid</pidfile>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


def _write_config(folder: Path) -> None:
    for name in ("run", "state", "connections", "conf.d"):
        (folder / name).mkdir(mode=0o700)
    (folder / "NetworkManager.conf").write_text(_NM_CONF.format(folder=folder))
    (folder / "dbus.conf").write_text(_DBUS_CONF.format(folder=folder))


def _start_holder(folder: Path, nics: Sequence[NIC], stack: ExitStack) -> int:
    """Starts the namespaces' holder; its pid once the namespaces are ready."""
    script = SUPPORT / "nm_namespace.sh"
    pairs = [item for name, mac in nics for item in (name, mac or "-")]
    command = ["unshare", "--mount", "--net", "--fork", "--kill-child", "--propagation", "private"]
    with (folder / "holder.log").open("wb") as log:
        holder = subprocess.Popen([*command, "bash", str(script), str(folder), *pairs], stdout=log, stderr=log)
    stack.callback(_stop_holder, folder, holder)
    pidfile = folder / "holder.pid"
    deadline = time.monotonic() + 10
    while not pidfile.exists():
        if holder.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the namespaces did not come up: {(folder / 'holder.log').read_text()}")
        time.sleep(0.01)
    return int(pidfile.read_text())


def _stop_holder(folder: Path, holder: subprocess.Popen[bytes]) -> None:
    """Ends the holder's sleep, which ends unshare (it ignores SIGTERM itself), and reaps it."""
    _stop(folder / "holder.pid")
    try:
        holder.wait(timeout=10)
    except subprocess.TimeoutExpired:
        holder.kill()  # unshare's --kill-child then ends what it started
        holder.wait()


def _start_dbus(nm: PrivateNetworkManager) -> None:
    # --fork returns once the bus listens; its pid file is the config's <pidfile>.
    nm.checked("dbus-daemon", f"--config-file={nm.folder / 'dbus.conf'}", "--fork")


def _start_daemon(nm: PrivateNetworkManager, binary: Path) -> None:
    """Starts NetworkManager (nsenter execs it: the pid is the daemon's) and waits until it runs."""
    folder = nm.folder
    command = [
        "nsenter", "-t", str(nm.holder), "-m", "-n", str(binary), "--debug",  # --debug: no fork, log to stderr
        f"--config={folder / 'NetworkManager.conf'}",
        f"--config-dir={folder / 'conf.d'}",
        f"--system-config-dir={folder / 'conf.d'}",
        f"--state-file={folder / 'state' / 'NetworkManager.state'}",
        f"--intern-config={folder / 'state' / 'NetworkManager-intern.conf'}",
    ]  # fmt: skip
    with (folder / "NetworkManager.log").open("wb") as log:
        nm.daemon = subprocess.Popen(
            command, stdout=log, stderr=log, env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": nm.bus}
        )
    (folder / "NetworkManager.pid").write_text(f"{nm.daemon.pid}\n")
    deadline = time.monotonic() + 20
    while nm.nmcli("-g", "RUNNING", "general").stdout.strip() != "running":
        if nm.daemon.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"NetworkManager did not start\n{nm.log_tail()}")
        time.sleep(0.02)


def _stop_daemon(nm: PrivateNetworkManager) -> None:
    _stop(nm.folder / "NetworkManager.pid")
    if nm.daemon is not None:
        nm.daemon.wait()


@contextmanager
def _private_ovs(nm: PrivateNetworkManager) -> Iterator[Ovsdb]:
    """A private ovsdb-server, where NetworkManager looks for it (/run/openvswitch/db.sock in the
    namespace is a link to its socket), and an ovs-vswitchd with the userspace datapath only
    (--disable-system: no kernel datapath is ever asked for)."""
    with ovsdb_server() as database:
        rundir = nm.folder / "run" / "openvswitch"
        rundir.mkdir()
        (rundir / "db.sock").symlink_to(database.socket)
        folder = nm.folder
        try:
            nm.checked(
                require_tool("ovs-vswitchd"),
                f"unix:{database.socket}",
                "--disable-system",
                "--disable-system-route",
                "-vconsole:off",  # it logs to the file; anything on stderr is a failure
                f"--pidfile={folder / 'ovs-vswitchd.pid'}",
                f"--unixctl={folder / 'ovs-vswitchd.ctl'}",
                f"--log-file={folder / 'ovs-vswitchd.log'}",
                "--detach",
                "--no-chdir",
            )
            yield database
        finally:
            _stop(folder / "ovs-vswitchd.pid")


def _stop(pidfile: Path) -> None:
    """SIGTERM to the pid in `pidfile`, SIGKILL if it still runs after 10 s."""
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Running and not a zombie: a daemon that forked away is not reaped by its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def on_netdev(text: str) -> str:
    """A keyfile with datapath-type=netdev in its [ovs-bridge] section (added where it has none):
    the tests' ovs-vswitchd has the userspace datapath only, no kernel datapath is touched."""
    if "\ntype=ovs-bridge\n" not in text:
        return text
    sections = text.split("\n[ovs-bridge]\n")
    if len(sections) == 2:
        return "\n[ovs-bridge]\ndatapath-type=netdev\n".join(sections)
    return text + "\n[ovs-bridge]\ndatapath-type=netdev\n"


def netdev_copies(paths: list[Path], folder: Path) -> list[Path]:
    """Copies of the keyfiles in `folder`, each on the userspace datapath (on_netdev)."""
    copies = []
    for path in paths:
        copy = folder / path.name
        copy.write_text(on_netdev(path.read_text()))
        copies.append(copy)
    return copies


# Columns only ovs-vswitchd writes (what it found and counts); apply.sh's database has no
# ovs-vswitchd, so they are empty there. Interface.mtu is the device's MTU, used below.
VSWITCHD_COLUMNS = {
    "Bridge": {"datapath_id", "datapath_version", "status", "rstp_status"},
    "Port": {"bond_active_slave", "status", "statistics", "rstp_status", "rstp_statistics"},
    "Interface": {
        "ofport", "ifindex", "mac_in_use", "admin_state", "link_state", "link_resets", "link_speed", "duplex",
        "mtu", "status", "statistics", "error", "lacp_current", "bfd_status", "cfm_fault", "cfm_fault_status",
        "cfm_remote_mpids", "cfm_flap_count", "cfm_health", "cfm_remote_opstate",
    },
}  # fmt: skip
# The test's own choice: the userspace datapath, as no kernel datapath may be touched.
TEST_COLUMNS = {"Bridge": {"datapath_type"}}
# NetworkManager marks every row it makes with the profile's UUID (external_ids:NM.connection.uuid).
NM_KEY_PREFIX = "NM."
Rows = dict[tuple[str, str], dict[str, Any]]  # (table, name) -> the row's columns (tests.support.ovsdb)


def comparable(rows: Rows) -> Rows:
    """Rows without the columns neither backend decides (see above), and without NetworkManager's
    own external_ids keys: ovsgen's mark (managed-by) must still be there."""
    found = {}
    for (table, name), row in rows.items():
        skip = VSWITCHD_COLUMNS.get(table, set()) | TEST_COLUMNS.get(table, set())
        cells = {column: value for column, value in row.items() if column not in skip}
        ids = {key: value for key, value in (row["external_ids"] or {}).items() if not key.startswith(NM_KEY_PREFIX)}
        cells["external_ids"] = ids
        found[(table, name)] = cells
    return found


def as_apply_writes(built: Rows, applied: Rows) -> Rows:
    """The rows NetworkManager built, with the two things it writes its own way where apply.sh
    writes them otherwise turned into apply.sh's form (the two functions below)."""
    nic_mtus_as_requested(built, applied)
    system_type_as_empty(built)
    return built


def nic_mtus_as_requested(built: Rows, applied: Rows) -> None:
    """NetworkManager sets a NIC's MTU on the device itself and leaves Interface.mtu_request empty:
    it writes mtu_request only for internal interfaces. Where apply.sh requests an MTU for a NIC,
    the device's MTU (Interface.mtu, which ovs-vswitchd reads from the device) must be that MTU."""
    for key, row in built.items():
        want = applied.get(key, {})
        if key[0] == "Interface" and row["type"] in ("", "system") and row["mtu_request"] is None:
            row["mtu_request"] = row["mtu"] if want.get("mtu_request") is not None else None


def system_type_as_empty(rows: Rows) -> None:
    """NetworkManager writes a NIC's type as "system"; apply.sh leaves it empty. OVS defines the
    empty type as "system" (ovs-vswitchd.conf.db(5)), so both are the same interface."""
    for (table, _), row in rows.items():
        if table == "Interface" and row["type"] == "system":
            row["type"] = ""
