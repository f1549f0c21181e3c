"""Benchmark `ovsgen rollout` run by Ansible on 10 to 50 fake hosts: check mode, then the plan.

Usage (with the development venv, which has ansible-core and the test support):
    .venv/bin/python benchmarks/rollout_fleet.py [--sizes 10,50] [--forks 5] [--work DIR]

The plan is tests/designs/rollout/'s change (br1 becomes an LACP bond: Open vSwitch and its ifcfg
file; vm-vlan32 goes, vm-vlan40 moves, vm-vlan33 comes: libvirt) on a fleet of N nodes, rolled out
with the default batches (one host, 10%, the rest) against fake hosts on this machine, each with
its own ovsdb-server, root folder and libvirt test driver (tests/support/rollout.py), reached by
`ansible_connection: local`. Each run is `ansible-playbook` from start to end; the table gives
its wall seconds and seconds per host. Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DESIGNS = ROOT / "tests" / "designs" / "rollout"
NODE = re.compile(r"  - \{name: r1, (.*), address: 10\.40\.0\.11/24\}\n")


def fleet_of(template: Path, nodes: int, out: Path) -> Path:
    """The design with `nodes` nodes (r1, r2, ...) like its first one."""
    text = template.read_text()
    found = NODE.search(text)
    assert found is not None, template
    head = text[: text.index("nodes:\n") + len("nodes:\n")]
    body = "".join(
        f"  - {{name: r{n}, {found.group(1)}, address: 10.40.{n // 250}.{n % 250 + 1}/16}}\n"
        for n in range(1, nodes + 1)
    )
    path = out / template.name
    path.write_text(head + body)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,50")
    parser.add_argument("--forks", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    options = parser.parse_args()
    print(f"| hosts | run | wall s | s/host |   (forks {options.forks}, batches 1, 10%, the rest)")
    print("| ---: | --- | ---: | ---: |")
    for size in (int(item) for item in options.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix="ovsgen-rollout-", dir=options.work))
        try:
            run_fleet(size, work, options.forks)
        finally:
            shutil.rmtree(work)


def run_fleet(size: int, work: Path, forks: int) -> None:
    from generator.design.validate import validate_file
    from tests.support.rollout import host_inventory, run_playbook, start_host

    old, new = (fleet_of(DESIGNS / name, size, work) for name in ("fleet-old.yaml", "fleet-new.yaml"))
    ovsgen = [sys.executable, "-m", "generator"]
    subprocess.run([*ovsgen, "plan", str(old), str(new), "-o", str(work / "plan")], check=True, capture_output=True)
    subprocess.run(
        [*ovsgen, "rollout", str(work / "plan"), "-o", str(work / "project")], check=True, capture_output=True
    )
    valid = validate_file(old)
    with ExitStack() as stack:
        hosts = [start_host(stack, work / "hosts", valid, node.name) for node in valid.design.nodes]
        inventory = host_inventory(hosts, work / "hosts.yml")
        for label, args in (("check mode", ("--check",)), ("the plan", ())):
            started = time.perf_counter()
            result = run_playbook(work / "project", inventory, "--forks", str(forks), *args)
            wall = time.perf_counter() - started
            assert result.returncode == 0, result.stdout[-2000:]
            print(f"| {size} | {label} | {wall:.1f} | {wall / size:.2f} |", flush=True)
        assert all("br1-up" in host.ovsdb.vsctl("list-ports", "br1") for host in hosts)
        lacp = {host.ovsdb.vsctl("get", "Port", "br1-up", "lacp").strip() for host in hosts}
        assert lacp == {"active"}, lacp


if __name__ == "__main__":
    main()
