"""The commands that work on a fleet's hosts rather than on designs alone: capture-script prints
what runs on a host, import turns the captures into a design, drift compares them with one.
Each parses its options into its settings and hands over to generator.cli.fleet_commands."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.commands import run_capture_script
from generator.cli.exits import exit_with
from generator.cli.options import DESIGN_FILE, HOST_JOBS, NODES, PlainPath, PlainText, processes
from generator.cli.progress import use_color
from generator.cli.settings import SchemaSettings

CAPTURE = click.argument("capture", type=PlainPath(exists=True, file_okay=False, path_type=Path))


@click.command(name="capture-script")
def capture_script() -> None:
    """Print the script that captures a host.

    A POSIX shell script to run on a hypervisor as root: read-only, it packs the host's Open
    vSwitch database (ovsdb-client dump), its NICs, ifcfg files, NetworkManager keyfiles
    (without secrets) and libvirt networks into <host>.tar.gz in a new temporary folder, and
    prints that archive's path. Unpack the archives of a fleet into one new, empty folder
    (CAPTURE/<host>/).

    \b
    Example:
      ovsgen capture-script > capture.sh
      ssh root@kvm-a-1 sh -s < capture.sh
    """
    exit_with(run_capture_script, SchemaSettings(color=use_color()))


@click.command(name="import")
@CAPTURE
@click.option(
    "-o", "--out", required=True, type=PlainPath(dir_okay=False, allow_dash=True, path_type=Path),
    help="The design file to write ('-': stdout); replaced only if `ovsgen import` wrote it.",
)  # fmt: skip
@click.option("--name", type=PlainText(), help="The design's name (default: from the hosts' files, or CAPTURE's).")
@click.option("--strict", is_flag=True, help="Exit 1 if anything was not imported or a host differs.")
@HOST_JOBS
def import_design(*, capture: Path, out: Path, name: str | None, strict: bool, jobs: int) -> None:
    """Write a design from captured hosts.

    CAPTURE holds one folder per host (CAPTURE/<host>/ovsdb.json, ...). What most hosts share
    becomes the design's bridges, networks and host settings, with a comment naming each host
    that differs; each host becomes a node (NICs, addresses). stderr lists, at its place in the
    capture, everything not imported (VM ports, tunnels, STP, ...), and what the design would
    change on each host. Exit 1 if the design is not valid yet (values to fill in, hosts
    that collide, folder names that are no node names) or -o is refused.

    \b
    Example:
      ovsgen import capture/ -o designs/cluster.yaml
    """
    from generator.cli.fleet_commands import run_import
    from generator.cli.fleet_settings import ImportSettings

    target = None if str(out) == "-" else out
    settings = ImportSettings(
        capture=capture, out=target, name=name, strict=strict, jobs=processes(jobs), color=use_color()
    )
    exit_with(run_import, settings)


@click.command()
@click.argument("design", type=DESIGN_FILE)
@CAPTURE
@NODES
@click.option("--strict", is_flag=True, help="Also count what the design does not mention.")
@click.option(
    "--format", "report", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
    help="The report on stdout: words, JSON for monitoring, Markdown for a ticket.",
)  # fmt: skip
@HOST_JOBS
def drift(*, design: Path, capture: Path, nodes: tuple[str, ...], strict: bool, report: str, jobs: int) -> None:
    """Compare captured hosts with a design.

    CAPTURE holds one folder per host, as the archives of `ovsgen capture-script` unpack
    (CAPTURE/<host>/ovsdb.json, ...); each host is compared with the node of its name: its Open
    vSwitch database (what a plan from it would change, worded host -> design), its ifcfg
    files or keyfiles, and its libvirt networks. Exit 0 when every node's host matches, 1 otherwise.

    \b
    Example:
      ovsgen drift designs/cluster.yaml capture/ --format json
    """
    from generator.cli.fleet_commands import run_drift
    from generator.cli.fleet_settings import DriftSettings

    settings = DriftSettings(
        designs=(design,),
        capture=capture,
        nodes=nodes,
        report=report,
        apart_counts=strict,  # the design's own warnings stay warnings: an imported design has some
        output_format="json" if report == "json" else "text",
        jobs=processes(jobs),
        color=use_color(),
    )
    exit_with(run_drift, settings)
