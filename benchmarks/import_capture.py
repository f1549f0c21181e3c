"""Benchmark `ovsgen import` (and `ovsgen drift`) on a synthetic capture of 10 to 1,000 hosts.

Usage:
    python benchmarks/import_capture.py [--sizes 10,100,1000] [--runs 3] [--ovsgen PATH] [--work DIR]

The hosts are the nodes of benchmarks/fleet.py's design (three bridges, an LACP bond with jumbo
frames, a host VLAN, a storage port, five libvirt networks). Each host's capture holds what the
capture script packs: the database dump (made once by the node's own ovs/apply.sh in a private
ovsdb-server: every node has the same Open vSwitch rows), its ifcfg files, its NICs with their
MACs and speeds (nics.tsv) and its libvirt networks. Each command runs as its own process,
interpreter start included; the table gives the median, min and max wall seconds and the peak
RSS. Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fleet import fleet_design, measure

MEGABITS = {"1G": "1000", "10G": "10000", "25G": "25000"}


def one_dump(design: Path, work: Path) -> str:
    """The dump of the first node as its apply.sh builds it, from a private ovsdb-server."""
    from generator.changes.rehearse_ovsdb import find_tools, private_ovsdb
    from generator.design.validate import validate_file
    from generator.render.kinds import render_design

    valid = validate_file(design)
    node = valid.design.nodes[0].name
    script = work / "apply.sh"
    script.write_text(next(file.text for file in render_design(valid, [node], ["ovs"]) if file.name == "apply.sh"))
    with private_ovsdb(find_tools()) as server:
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "OVS_VSCTL": server.vsctl}
        subprocess.run(["bash", str(script), "--apply", "--skip-nic-check"], env=env, check=True, capture_output=True)
        return server.dump()


def write_capture(design: Path, capture: Path, dump: str) -> None:
    from generator.design.validate import validate_file
    from generator.render.kinds import render_design

    valid = validate_file(design)
    for number, node in enumerate(valid.design.nodes):
        host = capture / node.name
        (host / "network-scripts").mkdir(parents=True)
        (host / "libvirt").mkdir()
        (host / "ovsdb.json").write_text(dump)
        (host / "hostname").write_text(node.name + "\n")
        rows = ["name\tmac\tspeed\tdriver"]
        rows += [
            f"{nic.name}\t{nic.mac or f'02:00:00:{number >> 8 & 255:02x}:{number & 255:02x}:{index:02x}'}"
            f"\t{MEGABITS[nic.speed]}\tixgbe"
            for index, nic in enumerate(node.nics)
        ]
        (host / "nics.tsv").write_text("\n".join(rows) + "\n")
        for file in render_design(valid, [node.name], ["ifcfg", "libvirt"]):
            if "/network-scripts/" in file.path:
                (host / "network-scripts" / file.name).write_text(file.text)
            elif file.name.endswith(".xml"):
                (host / "libvirt" / file.name).write_text(file.text)


def _same(command: list[str], _run: int) -> list[str]:
    """The command of every run (fleet.measure asks for one per run)."""
    return command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ovsgen", default=str(Path(sys.executable).with_name("ovsgen")))
    parser.add_argument("--work", type=Path, default=None)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ovsgen-import-", dir=options.work))
    try:
        print("|  hosts | command   | median s |   min s |   max s |  peak MB |   hosts/s |")
        print("|-------:|-----------|---------:|--------:|--------:|---------:|----------:|")
        for size in (int(text) for text in options.sizes.split(",")):
            design = work / f"fleet-{size}.yaml"
            design.write_text(fleet_design(size))
            capture = work / f"capture-{size}"
            write_capture(design, capture, one_dump(design, work))
            out = work / f"imported-{size}.yaml"
            for label, command in (
                ("import", [options.ovsgen, "import", str(capture), "-o", str(out)]),
                ("drift", [options.ovsgen, "drift", str(design), str(capture)]),
            ):
                measure(label, size, functools.partial(_same, command), options.runs)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
