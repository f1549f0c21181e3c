"""Benchmark ovsgen on synthetic fleets of 1 to 10,000 nodes.

Usage:
    python benchmarks/fleet.py [--sizes 1,10,100,1000,10000] [--runs 5] [--ovsgen PATH]

Each command runs as its own process (interpreter start included), several
times; the table gives the median, min and max wall time, the peak RSS of the
process and nodes per second. Then an in-process breakdown by stage for the
1,000-node design. Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def fleet_design(nodes: int) -> str:
    """Three bridges (active-backup, LACP, single uplink), host VLAN, storage port, portgroups."""
    lines = [
        "version: 1",
        f"name: fleet-{nodes}",
        "host: {bridge: br-mgmt, vlan: 10, gateway: 10.0.0.1, dns: [10.0.0.53, 10.0.1.53], search: [dc.example.com]}",
        "bridges:",
        "  br-mgmt: {uplinks: 2x10G active-backup}",
        "  br-vm: {uplinks: 2x25G balance-tcp, mtu: 9000}",
        "  br-bkp: {uplinks: 1x1G}",
        "internal_ports:",
        "  - {name: storage0, bridge: br-vm, vlan: 20}",
        "networks:",
        "  - {name: vm-untagged, bridge: br-vm}",
        "  - {name: vlan32, bridge: br-vm, vlan: 32}",
        "  - {name: backup, bridge: br-bkp, vlan: 60}",
        "  - name: tenants",
        "    bridge: br-vm",
        "    portgroups:",
        "      - {name: web, vlan: 100, default: true}",
        "      - {name: db, vlan: 101}",
        "      - {name: trunk, trunk: [100, 101, 102, 103], native: 100}",
        "internal_networks:",
        "  - {name: local, bridge: virbr0, address: 192.168.5.1/24}",
        "nodes:",
    ]
    assert nodes <= 60_000, "addresses are drawn from one /16"
    for index in range(nodes):
        a, b = divmod(index, 250)
        mac = f"0c:c4:{(index >> 16) & 255:02x}:{(index >> 8) & 255:02x}:{index & 255:02x}"
        lines += [
            f"  - name: kvm-{index:05d}",
            "    nics:",
            "      eno1: 1G",
            "      eno2: 1G",
            f'      ens1f0: {{speed: 10G, mac: "{mac}:00", switch: "tor-{a}a Eth1/{b + 1}"}}',
            f'      ens1f1: {{speed: 10G, mac: "{mac}:01", switch: "tor-{a}b Eth1/{b + 1}"}}',
            f'      ens2f0: {{speed: 25G, mac: "{mac}:02", switch: "leaf-{a}a Eth1/{b + 1}"}}',
            f'      ens2f1: {{speed: 25G, mac: "{mac}:03", switch: "leaf-{a}b Eth1/{b + 1}"}}',
            f"    address: 10.0.{index // 250}.{index % 250 + 2}/16",
            f"    ports: {{storage0: 172.16.{index // 250}.{index % 250 + 2}/16}}",
        ]
    return "\n".join(lines) + "\n"


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0,):
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss / 1024


def measure(label: str, nodes: int, command: Callable[[int], list[str]], runs: int) -> None:
    """Run `command(run)` `runs` times and print one row of the table."""
    results = [run_once(command(run)) for run in range(runs)]
    walls = [wall for wall, _ in results]
    median = statistics.median(walls)
    rss = max(peak for _, peak in results)
    print(
        f"| {nodes:>6} | {label:<9} | {median:8.3f} | {min(walls):7.3f} | {max(walls):7.3f} | {rss:8.1f} | "
        f"{nodes / median:9.0f} |",
        flush=True,
    )


def files_floor(rendered: Path, work: Path) -> float:
    """Seconds this machine's disk needs to create the rendered tree again, with no ovsgen in the way."""
    files = [(path.relative_to(rendered), path.read_bytes()) for path in rendered.rglob("*") if path.is_file()]
    target = work / "floor"
    started = time.perf_counter()
    made: set[Path] = set()
    for relative, data in files:
        folder = (target / relative).parent
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        descriptor = os.open(target / relative, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(descriptor, data)
        os.close(descriptor)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed


def breakdown(design: Path, out: Path) -> None:
    """Seconds per stage for one design, in this process (imports excluded)."""
    sys.path.insert(0, str(REPO))
    from generator.design import loader, model, resolve, schema
    from generator.design import rules as checks
    from generator.output.writer import write_tree
    from generator.render import ifcfg, libvirt, ovs_script, sheets
    from generator.render.context import DesignContext, NodeContext

    stages: list[tuple[str, float]] = []

    def timed(name: str, work: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = work()
        stages.append((name, time.perf_counter() - started))
        return result

    source = timed("load", lambda: loader.load_design(design))
    assert isinstance(source, loader.SourceDocument)
    problems = timed("schema", lambda: schema.check_schema(source))
    assert problems == []
    valid = timed("model", lambda: model.build_design(source.data))
    assert isinstance(valid, model.Design)
    layouts = timed("layouts", lambda: tuple(resolve.layout_node(valid, node) for node in valid.nodes))
    assert isinstance(layouts, tuple)
    timed("checks", lambda: checks.run_checks(source, valid, layouts))
    root = valid.name
    shared = DesignContext.of(valid)
    # As a render does: one context per node, whose facts the renderers below work out once and share.
    contexts = [shared.node(layout, f"{root}/{layout.node.name}") for layout in layouts]
    files: list[object] = []
    renderers: list[tuple[str, Callable[[NodeContext], list[Any]]]] = [
        ("ifcfg", ifcfg.render_ifcfg),
        ("ovs", ovs_script.render_apply_script),
        ("libvirt", libvirt.render_libvirt),
        ("sheets", sheets.render_node_sheets),
    ]
    for name, renderer in renderers:
        files += timed(name, lambda r=renderer: [f for context in contexts for f in r(context)])  # type: ignore[misc]
    files += timed("csv+index", lambda: sheets.render_design_sheets(shared, layouts, root))  # type: ignore[operator]
    timed("write", lambda: write_tree(out, files, [PurePosixPath(root)]))  # type: ignore[arg-type]
    total = sum(seconds for _, seconds in stages)
    print(f"\nIn-process stages for {design.name} ({len(valid.nodes)} nodes), {len(files)} files:\n")
    print("| stage | seconds | share |\n|---|---:|---:|")
    for name, seconds in stages:
        print(f"| {name} | {seconds:.3f} | {seconds / total:5.1%} |")
    print(f"| total | {total:.3f} | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--ovsgen",
        default=str(Path(sys.executable).with_name("ovsgen")),
        help="the ovsgen executable (default: the one beside this Python)",
    )
    parser.add_argument("--work", default=None, help="folder for designs and output (default: a temporary folder)")
    parser.add_argument("--no-breakdown", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.work is not None:
        Path(args.work).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ovsgen-bench-", dir=args.work))
    try:
        print(f"ovsgen: {args.ovsgen}; {os.cpu_count()} cores; {args.runs} runs each\n")
        print("|  nodes | command   | median s |   min s |   max s | peak MB | nodes/s |")
        print("|-------:|-----------|---------:|--------:|--------:|--------:|----------:|")
        for nodes in sizes:
            design = work / f"fleet-{nodes}.yaml"
            design.write_text(fleet_design(nodes))
            runs = args.runs if nodes <= 1000 else max(1, args.runs // 3)
            out = work / f"out-{nodes}"
            render = [args.ovsgen, "render", str(design), "-o"]
            measure("validate", nodes, lambda _, d=design: [args.ovsgen, "validate", str(d)], runs)
            # A fresh render writes every file into a new folder (deleting the last run's output
            # first would charge this run for the disk's discards of the old files).
            measure("render", nodes, lambda run, r=render, n=nodes: [*r, str(work / f"fresh-{n}-{run}")], runs)
            measure("re-render", nodes, lambda _, r=render, o=out: [*r, str(o)], runs)
            measure("check", nodes, lambda _, d=design, o=out: [args.ovsgen, "check", str(d), "--golden", str(o)], runs)
            if nodes >= 1000:
                print(
                    f"|        | (disk: {files_floor(out, work):.3f} s to write the same files with bare os.write) |",
                    flush=True,
                )
        examples = sorted(str(path) for path in (REPO / "designs").glob("*.yaml"))
        print()
        measure_examples = [args.ovsgen, "check", *examples, "--golden", str(REPO / "golden")]
        results = [run_once(measure_examples) for _ in range(args.runs)]
        print(
            f"`ovsgen check designs/*.yaml --golden golden/`: median {statistics.median(r[0] for r in results):.3f} s"
        )
        if not args.no_breakdown and 1000 in sizes:
            breakdown(work / "fleet-1000.yaml", work / "breakdown")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
