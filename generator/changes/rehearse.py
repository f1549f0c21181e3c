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

The parts: generator.changes.rehearse_ovsdb (the tools and the private server),
rehearse_start (what a rehearsal may start from), rehearse_libvirt (the libvirt
side) and rehearse_report (the steps and how they went).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.changes.plan_folder import render_plan
from generator.changes.rehearse_libvirt import LibvirtPlan, rehearse_networks
from generator.changes.rehearse_ovsdb import PrivateOvsdb, Tools, find_tools, private_ovsdb
from generator.changes.rehearse_report import Report, Step
from generator.changes.rehearse_start import refuse_foreign_backup, refuse_foreign_schema, refuse_hostless_database
from generator.design.validate import ValidDesign
from generator.ovs.dbrows import Key, PlanScope, Rows, differences, expected_after_change
from generator.ovs.state import OvsState
from generator.render.context import node_context
from generator.render.files import OutputFile
from generator.render.ovs_script import render_apply_script


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
    layout = valid.layout(node)
    if layout is None:
        return None  # the node is not in that design: its state is empty
    (script,) = render_apply_script(node_context(valid.design, layout, "."))
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
                report.steps.append(step.titled("build the starting state with the old design's apply.sh"))
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
        rehearse_networks(report, change, old, new, LibvirtPlan(files, workdir / "libvirt", server.environment()))
    return report


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
    return PlanScope(frozenset(change.ovs.touched_ports), frozenset(change.ovs.touched_bridges))


def _same(title: str, expected: Rows, actual: Rows) -> Step:
    found = differences(expected, actual)
    return Step(title, not found, "\n".join(found))
