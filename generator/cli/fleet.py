"""The commands that work on a fleet's hosts rather than on designs alone: capture-script prints
what runs on a host, import turns the captures into a design, drift compares them with one,
rollout writes the Ansible project that runs a plan on them. Each parses its options into its
settings and hands over to generator.cli.fleet_commands (rollout: generator.cli.rollout_commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from generator.cli.commands import run_capture_script
from generator.cli.exits import exit_with
from generator.cli.options import DESIGN_FILE, HOST_JOBS, NODES, OUT, InputFile, PlainPath, PlainText, processes
from generator.cli.progress import use_color
from generator.cli.settings import SchemaSettings
from generator.cli.usage import require_replaceable, resolved

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


class BatchSizes(click.ParamType[tuple[str, ...], Any]):
    """--batch 1,10%,50%: Ansible's serial, each a count of hosts or a percentage of them."""

    name = "SIZES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        sizes = tuple(str(value).split(","))
        for size in sizes:
            number = size.removesuffix("%")
            most = 100 if size.endswith("%") else 10**6
            if not (number.isdigit() and number.isascii() and 0 < int(number) <= most):
                # Without param and ctx: click adds both to the error (augment_usage_errors).
                self.fail(f"{size!r} is neither a number of hosts (1, 10, ...) nor a percentage (1% to 100%)")
        return sizes


class NodeHost(click.ParamType[tuple[str, str], Any]):
    """--inventory-var NODE=HOST: where Ansible reaches the node, instead of its host address."""

    name = "NODE=HOST"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        from generator.rollout.inventory import is_host

        if isinstance(value, tuple):
            return value
        node, equals, host = str(value).partition("=")
        if not equals or not node or not is_host(host):
            self.fail(f"{value!r}: give NODE=HOST, HOST a host name or address")
        return node, host


@click.command()
@click.argument("source", metavar="PLAN_OR_RENDER", type=PlainPath(exists=True, file_okay=False, path_type=Path))
@OUT(default=Path("rollout"), help="The project folder, replaced as a whole.")
@NODES
@click.option(
    "--batch", "batches", type=BatchSizes(), default="1,10%,100%", show_default=True,
    help="Hosts per batch (Ansible's serial); the last size repeats.",
)  # fmt: skip
@click.option("--pause", type=click.IntRange(min=0), default=0, metavar="SECONDS", help="Seconds between batches.")
@click.option(
    "--inventory-var", "hosts", multiple=True, type=NodeHost(),
    help="Reach NODE at HOST instead of its host address (repeatable).",
)  # fmt: skip
@click.option(
    "--accept-risks", is_flag=True,
    help="Also take nodes whose plan has risk notes (they say: from a console).",
)  # fmt: skip
@click.option(
    "--inventory-map", "host_map", type=InputFile(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
    help="A YAML mapping NODE: HOST, as --inventory-var.",
)  # fmt: skip
def rollout(
    *,
    source: Path,
    out: Path,
    nodes: tuple[str, ...],
    batches: tuple[str, ...],
    pause: int,
    hosts: tuple[tuple[str, str], ...],
    host_map: Path | None,
    accept_risks: bool,
) -> None:
    """Roll out plans and builds (Ansible).

    Write an Ansible project that rolls out a plan. PLAN_OR_RENDER is a plan folder (ovsgen
    plan) or, for first builds, a render's output folder (ovsgen render). The project runs
    each node batch by batch: it refuses another host, stages the node's files on it, checks
    the host (every script's --check), applies in the plan's order, verifies (read-back,
    ovs-vsctl show, bond/show, lacp/show), and on a failure rolls back what it applied and
    stops. `ansible-playbook site.yml --check` runs the dry runs only.

    \b
    Example:
      ovsgen rollout plan/ -o rollout/ --batch 1,10%,50%
      cd rollout && ansible-playbook site.yml --check && ansible-playbook site.yml
    """
    from generator.cli.fleet_settings import RolloutSettings
    from generator.cli.rollout_commands import run_rollout

    require_replaceable(out, (source,), "the rollout project")
    _require_outside(out, source)
    _require_once(hosts)
    settings = RolloutSettings(
        source=source, out=out, nodes=nodes, batches=batches, pause=pause, hosts=hosts, host_map=host_map,
        accept_risks=accept_risks,
        color=use_color(),
    )  # fmt: skip
    exit_with(run_rollout, settings)


def _require_once(hosts: tuple[tuple[str, str], ...]) -> None:
    """One --inventory-var per node (a mapping file refuses a node given twice, too)."""
    seen: set[str] = set()
    for node, host in hosts:
        if node in seen:
            raise click.UsageError(f"--inventory-var {node}={host}: {node} is given twice")
        seen.add(node)


def _require_outside(out: Path, source: Path) -> None:
    """The project never goes into the plan or render it is made from (they are replaced whole)."""
    try:
        inside = resolved(out).is_relative_to(resolved(source))
    except (OSError, RuntimeError) as error:
        raise click.UsageError(f"-o {out}: cannot tell which folder it is: {error}") from None
    if inside:
        raise click.UsageError(f"-o {out}: inside {source}, which the command reads; give another folder (-o NEW)")
