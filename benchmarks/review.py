"""Benchmark a pull-request review at fleet scale: one portgroup added to a 1,000-node design.

Usage:
    python benchmarks/review.py [--nodes 1000] [--runs 3] [--ovsgen PATH] [--work DIR]

Runs, each as its own process and several times: `ovsgen render` of the new design (the
yardstick: the target is a diff in no more than twice its time), `ovsgen diff OLD NEW`,
`ovsgen diff --full FILE OLD NEW` and `ovsgen plan OLD NEW`. The table gives the median wall
time, the peak RSS and the size of what a reviewer reads (diff.md on stdout, plan.md).
Nothing here is a test: it prints figures.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import fleet_design  # the same fleet as benchmarks/fleet.py

# The change under review: one more portgroup (one more VLAN) on the tenants network of every node.
PORTGROUP_ANCHOR = "      - {name: trunk, trunk: [100, 101, 102, 103], native: 100}\n"
ADDED_PORTGROUP = "      - {name: pg110, vlan: 110}\n"


def changed_design(design: str) -> str:
    """`design` with portgroup pg110 (VLAN 110) added to its tenants network."""
    assert PORTGROUP_ANCHOR in design, "fleet_design's tenants network changed: update the anchor"
    return design.replace(PORTGROUP_ANCHOR, PORTGROUP_ANCHOR + ADDED_PORTGROUP, 1)


def run_once(command: list[str], stdout: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process; its standard output goes to `stdout`."""
    environment = {**os.environ, "OVSGEN_CACHE_DIR": os.environ.get("OVSGEN_CACHE_DIR", "")}
    with stdout.open("wb") as output:
        started = time.perf_counter()
        # From the work folder: `python -m` puts the current folder first on the module path.
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.DEVNULL, env=environment, cwd=stdout.parent
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss / 1024


def measure(label: str, command: Callable[[int], list[str]], runs: int, stdout: Path, read: Path | None) -> float:
    """Run `command(run)` `runs` times, print one row and return the median wall time."""
    results = [run_once(command(run), stdout) for run in range(runs)]
    median = statistics.median(wall for wall, _ in results)
    rss = max(peak for _, peak in results)
    shown = read if read is not None else stdout
    size = f"{len(shown.read_text()):,}" if shown.exists() and shown.stat().st_size else "-"
    print(f"| {label:<22} | {median:8.3f} | {rss:8.1f} | {size:>12} |", flush=True)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ovsgen", default=str(Path(sys.executable).with_name("ovsgen")))
    parser.add_argument("--work", default=None, help="folder for designs and output (default: a temporary folder)")
    parser.add_argument("--no-full", action="store_true", help="skip diff --full (an ovsgen from before it existed)")
    args = parser.parse_args()
    if args.work is not None:
        Path(args.work).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ovsgen-review-", dir=args.work))
    try:
        old, new = work / "old.yaml", work / "new.yaml"
        old.write_text(fleet_design(args.nodes))
        new.write_text(changed_design(old.read_text()))
        stdout, full = work / "stdout.md", work / "full.diff"
        ovsgen = args.ovsgen
        print(f"ovsgen: {ovsgen}; {os.cpu_count()} cores; {args.nodes} nodes, one portgroup added; {args.runs} runs\n")
        print("| command                | median s |  peak MB | chars out    |")
        print("|------------------------|---------:|---------:|-------------:|")
        render = measure(
            "render", lambda run: [ovsgen, "render", str(new), "-o", str(work / f"out-{run}")], args.runs, stdout, None
        )
        diff = measure("diff", lambda _: [ovsgen, "diff", str(old), str(new)], args.runs, stdout, None)
        full_command = [ovsgen, "diff", "--full", str(full), str(old), str(new)]
        if not args.no_full:
            measure("diff --full (full.diff)", lambda _: full_command, args.runs, stdout, full)
        measure(
            "plan (plan.md)",
            lambda run: [ovsgen, "plan", str(old), str(new), "-o", str(work / f"plan-{run}")],
            args.runs,
            stdout,
            work / "plan-0" / "plan.md",
        )
        print(f"\ndiff / render: {diff / render:.2f} (target: at most 2)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
