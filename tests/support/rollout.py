"""Fake hosts for rollout tests, run by the real Ansible engine (`ansible_connection: local`).

Each host has its own root folder: a fake sysfs with the node's NICs, its ifcfg folder, a
`hostname` command saying its name, libvirt's test driver kept between calls (virsh_replay.sh),
a recording `ovs-appctl` (no ovs-vswitchd runs here; the recording shows which checks ran), and
its own private ovsdb-server. A host starts in a design's state, built by that design's own
ovs/apply.sh, ifcfg files and libvirt/define.sh.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.changes.rehearse_ovsdb import find_tools, private_ovsdb
from generator.design.validate import ValidDesign
from generator.render.kinds import render_design
from tests.conftest import require_tool, run
from tests.support.fleet import mac_of
from tests.support.ovsdb import Ovsdb

REPLAY = Path(__file__).parent / "virsh_replay.sh"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


@dataclass
class FakeHost:
    name: str
    root: Path
    ovsdb: Ovsdb
    env: dict[str, str]

    @property
    def scripts(self) -> Path:
        return Path(self.env["NETWORK_SCRIPTS"])

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def appctl_calls(self) -> list[str]:
        log = self.root / "appctl.log"
        return log.read_text().splitlines() if log.exists() else []

    def virsh(self, *args: str) -> str:
        result = run([str(REPLAY), *args], env={**os.environ, **self.env})
        assert result.returncode == 0, result.stderr
        return result.stdout

    def networks(self) -> dict[str, str]:
        """Every libvirt network's definition, by name."""
        names = self.virsh("net-list", "--all", "--name").split()
        return {name: self.virsh("net-dumpxml", name) for name in names}

    def files(self) -> dict[str, bytes]:
        """The ifcfg folder, file by file."""
        return {path.name: path.read_bytes() for path in sorted(self.scripts.iterdir())}

    def tree(self) -> dict[str, tuple[int, bytes]]:
        """Every file under the host's root with its mode: 'nothing changed' compares these."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                found[str(path.relative_to(self.root))] = (path.stat().st_mode, path.read_bytes())
        return found

    def state(self) -> dict[str, Any]:
        """What a rollout may change on the host: its database, ifcfg files and networks."""
        return {"rows": self.ovsdb.rows(), "files": self.files(), "networks": self.networks()}


def start_host(
    stack: ExitStack, folder: Path, valid: ValidDesign, node: str, *, rig: str = "", built: bool = True
) -> FakeHost:
    """A fake host in `valid`'s state for `node` (`built`), or new: the node's NICs and nothing
    else. `rig`: a network whose definition its virsh refuses (net-define of RIG.xml), as a
    libvirt that fails part-way."""
    for tool in ("ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovs-vsctl", "virsh"):
        require_tool(tool)
    ovsdb = Ovsdb(stack.enter_context(private_ovsdb(find_tools())))
    root = folder / node
    env = _host_root(root, valid, node, ovsdb)
    host = FakeHost(node, root, ovsdb, env)
    if built:
        _build(host, valid, node)
    if rig:
        rigged(host, rig)
    return host


def rigged(host: FakeHost, network: str) -> None:
    """The host's virsh refuses to define `network` from its file; "": no longer."""
    virsh = host.root / "bin" / "virsh-rigged"
    _script(
        virsh, f'case "$*" in *"/{network}.xml"*) echo "error: rigged to fail" >&2; exit 1;; esac\nexec {REPLAY} "$@"'
    )
    host.env["VIRSH"] = str(virsh) if network else str(REPLAY)


def _host_root(root: Path, valid: ValidDesign, node: str, ovsdb: Ovsdb) -> dict[str, str]:
    spec = next(item for item in valid.design.nodes if item.name == node)
    net = root / "sys" / "class" / "net"
    for nic in spec.nics:
        (net / nic.name / "device").mkdir(parents=True)
        (net / nic.name / "address").write_text((nic.mac or mac_of(node, nic.name)).lower() + "\n")
    scripts = root / "etc" / "sysconfig" / "network-scripts"
    scripts.mkdir(parents=True)
    bin_folder = root / "bin"
    bin_folder.mkdir()
    _script(bin_folder / "hostname", f"echo {node}")
    _script(bin_folder / "ovs-appctl", f'echo "$*" >> {root / "appctl.log"}\necho "---- $2 ----"')
    return {
        "OVS_VSCTL": ovsdb.vsctl_command,
        "OVS_APPCTL": str(bin_folder / "ovs-appctl"),
        "SYSFS_NET": str(net),
        "NETWORK_SCRIPTS": str(scripts),
        "VIRSH": str(REPLAY),
        "VIRSH_REPLAY_LOG": str(root / "libvirt.log"),
        "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
    }


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _build(host: FakeHost, valid: ValidDesign, node: str) -> None:
    """The node as its design's own files build it: apply.sh, the ifcfg files, define.sh."""
    files = render_design(valid, [node], ["ovs", "ifcfg", "libvirt"])
    work = host.root / "built"
    for file in files:
        target = work / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.text)
        target.chmod(0o755 if file.executable else 0o644)
        if "/network-scripts/" in file.path:
            (host.scripts / file.name).write_text(file.text)
    env = {**os.environ, **host.env, "VIRSH": str(REPLAY)}
    for script in sorted(work.rglob("apply.sh")) + sorted(work.rglob("define.sh")):
        result = run([str(script), "--apply"], env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    for path in sorted(work.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    work.rmdir()


def host_inventory(hosts: list[FakeHost], path: Path) -> Path:
    """The test's second inventory: each fake host reached locally, with its environment."""
    entries = {
        host.name: {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "ovsgen_environment": host.env,
            "ovsgen_staging_root": str(host.staging),
            "ovsgen_network_scripts": host.env["NETWORK_SCRIPTS"],
        }
        for host in hosts
    }
    path.write_text(yaml.safe_dump({"all": {"hosts": entries}}))
    return path


def run_playbook(project: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """ansible-playbook site.yml in the project, with both inventories; Ansible's own state in
    the test's folder."""
    home = inventory.parent / "ansible-home"
    temp = inventory.parent / "tmp"
    temp.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(temp / "remote"),
        "TMPDIR": str(temp),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    command = [str(ANSIBLE_PLAYBOOK), "-i", "inventory.yml", "-i", str(inventory), "site.yml", *args]
    return run(command, cwd=str(project), env=env)


def digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()
