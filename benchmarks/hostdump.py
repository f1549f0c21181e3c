"""Peak memory and time of reading a large host dump (`ovsgen plan --from-host`).

Usage:
    python benchmarks/hostdump.py [--megabytes 16] [--repo PATH]

Writes a synthetic `ovsdb-client dump --format=json` of about the given size in
two shapes, then reads each with generator.ovs.hostdump.load_dump in a fresh
process and prints the peak RSS of that process (and of one that only imports
the module, for the baseline) and the wall time. `--repo` reads with the
generator package of another checkout (e.g. an older commit unpacked with
`git archive`), for before/after figures. Nothing here is a test: it prints figures.

Shapes (one bridge with many VM tap ports, one interface each):
  full       every column as ovsdb-client prints it: the realistic large host;
  small      only the columns ovsgen reads: many small rows, where the cost is per row;
  cells      a few ports, and a table ovsgen does not read of rows of 100 empty cells
             (`[]`, 3 bytes of JSON each, a 56-byte list each once decoded).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BRIDGE_HEADINGS = ["_uuid", "datapath_type", "external_ids", "fail_mode", "name", "other_config", "ports", "stp_enable"]
PORT_HEADINGS = [
    "_uuid", "bond_active_slave", "bond_downdelay", "bond_fake_iface", "bond_mode", "bond_updelay", "cvlans",
    "external_ids", "fake_bridge", "interfaces", "lacp", "mac", "name", "other_config", "protected", "qos",
    "rstp_statistics", "rstp_status", "statistics", "status", "tag", "trunks", "vlan_mode",
]  # fmt: skip
INTERFACE_HEADINGS = [
    "_uuid", "admin_state", "bfd", "bfd_status", "cfm_fault", "external_ids", "ifindex", "ingress_policing_burst",
    "ingress_policing_rate", "lacp_current", "link_resets", "link_speed", "link_state", "lldp", "mac", "mac_in_use",
    "mtu", "mtu_request", "name", "ofport", "ofport_request", "options", "other_config", "statistics", "status",
    "type",
]  # fmt: skip
EMPTY_SET: list[object] = ["set", []]
MAP_COLUMNS = frozenset(
    (
        *("bfd", "bfd_status", "lldp", "options", "other_config", "external_ids"),
        *("statistics", "status", "rstp_statistics", "rstp_status"),
    )
)
EMPTY_MAP: list[object] = ["map", []]


def _uuid(number: int) -> list[str]:
    return ["uuid", str(uuid.UUID(int=number + 1))]


def _interface(number: int, name: str) -> list[object]:
    stats = ["map", [["rx_bytes", 123456789], ["rx_packets", 123456], ["tx_bytes", 987654321], ["tx_packets", 98765]]]
    cells: dict[str, object] = {
        "_uuid": _uuid(number),
        "admin_state": "up",
        "external_ids": ["map", [["attached-mac", "52:54:00:12:34:56"], ["vm-id", str(uuid.UUID(int=number))]]],
        "ifindex": 100 + number,
        "ingress_policing_burst": 0,
        "ingress_policing_rate": 0,
        "link_resets": 1,
        "link_speed": 10000000000,
        "link_state": "up",
        "mac_in_use": "fe:54:00:12:34:56",
        "mtu": 1500,
        "name": name,
        "ofport": number + 1,
        "statistics": stats,
        "status": ["map", [["driver_name", "tun"], ["driver_version", "1.6"]]],
        "type": "",
    }
    return [cells.get(heading, EMPTY_MAP if heading in MAP_COLUMNS else EMPTY_SET) for heading in INTERFACE_HEADINGS]


def _port(number: int, name: str, interfaces: list[list[str]]) -> list[object]:
    cells: dict[str, object] = {
        "_uuid": _uuid(number),
        "bond_downdelay": 0,
        "bond_fake_iface": False,
        "bond_updelay": 0,
        "fake_bridge": False,
        "interfaces": interfaces[0] if len(interfaces) == 1 else ["set", interfaces],
        "name": name,
        "protected": False,
        "tag": 32,
        "other_config": EMPTY_MAP,
        "external_ids": EMPTY_MAP,
    }
    return [cells.get(heading, EMPTY_MAP if heading in MAP_COLUMNS else EMPTY_SET) for heading in PORT_HEADINGS]


def _line(caption: str, headings: list[str], rows: Iterator[list[object]]) -> Iterator[str]:
    """One table line, written row by row so that the generator itself stays small."""
    yield f'{{"caption":"{caption} table","data":['
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(row, separators=(",", ":"))
    yield f'],"headings":{json.dumps(headings, separators=(",", ":"))}}}\n\n'


def write_dump(path: Path, megabytes: int, shape: str) -> None:
    """A dump of about `megabytes` MB: sized by the bytes one port (with its interface) takes."""
    small = shape == "small"
    count = 10 if shape == "cells" else megabytes * 1_000_000 // (215 if small else 825)
    base = 10_000_000
    port_uuids = [_uuid(base + index) for index in range(count)]

    def compact(headings: list[str], wanted: tuple[str, ...], row: list[object]) -> list[object]:
        return [cell for heading, cell in zip(headings, row, strict=True) if heading in wanted] if small else row

    def table(headings: list[str], wanted: tuple[str, ...]) -> list[str]:
        return [heading for heading in headings if heading in wanted] if small else headings

    bridge_columns, port_columns, interface_columns = (
        ("_uuid", "name", "ports"),
        ("_uuid", "interfaces", "name"),
        (
            "_uuid",
            "name",
            "type",
        ),
    )

    def bridges() -> Iterator[list[object]]:
        row: list[object] = [_uuid(0), "", EMPTY_MAP, EMPTY_SET, "br0", EMPTY_MAP, ["set", port_uuids], False]
        yield compact(BRIDGE_HEADINGS, bridge_columns, row)

    def ports() -> Iterator[list[object]]:
        for index in range(count):
            yield compact(PORT_HEADINGS, port_columns, _port(base + index, f"vnet{index}", [_uuid(index)]))

    def interfaces() -> Iterator[list[object]]:
        for index in range(count):
            yield compact(INTERFACE_HEADINGS, interface_columns, _interface(index, f"vnet{index}"))

    with path.open("w") as handle:
        for caption, headings, columns, rows in (
            ("Bridge", BRIDGE_HEADINGS, bridge_columns, bridges()),
            ("Interface", INTERFACE_HEADINGS, interface_columns, interfaces()),
            ("Port", PORT_HEADINGS, port_columns, ports()),
        ):
            handle.writelines(_line(caption, table(headings, columns), rows))
        if shape == "cells":
            empty: list[object] = [[] for _ in range(100)]
            rows = (empty for _ in range(megabytes * 1_000_000 // 300))
            handle.writelines(_line("Datapath", [f"c{index}" for index in range(100)], rows))


READER = """
import resource, sys, time
from pathlib import Path
from generator.ovs.hostdump import load_dump
start = time.perf_counter()
if sys.argv[1] != "-":
    try:
        state = load_dump(Path(sys.argv[1]))
        outcome = f"{len(state.ports)} ports"
    except Exception as error:
        outcome = f"refused: {type(error).__name__}"
else:
    outcome = "import only"
seconds = time.perf_counter() - start
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, seconds, outcome)
"""


def measure(repo: Path, dump: str) -> tuple[float, float, str]:
    result = subprocess.run([sys.executable, "-c", READER, dump], cwd=repo, capture_output=True, text=True, check=True)
    megabytes, seconds, outcome = result.stdout.split(maxsplit=2)
    return float(megabytes), float(seconds), outcome.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=16)
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose generator package reads the dump")
    options = parser.parse_args()
    baseline, _, _ = measure(options.repo, "-")
    print(f"reader: {options.repo}; import alone: {baseline:.1f} MB peak RSS")
    print("| shape   | dump MB | peak MB | over import MB | seconds | outcome")
    with tempfile.TemporaryDirectory() as folder:
        for shape in ("full", "small", "cells"):
            dump = Path(folder) / f"{shape}.json"
            write_dump(dump, options.megabytes, shape)
            size = dump.stat().st_size / 1_000_000
            peak, seconds, outcome = measure(options.repo, str(dump))
            print(f"| {shape:7} | {size:7.1f} | {peak:7.1f} | {peak - baseline:14.1f} | {seconds:7.2f} | {outcome}")


if __name__ == "__main__":
    main()
