"""What drift and import do, given their settings."""

from __future__ import annotations

from pathlib import Path

from generator.adopt.drift import design_drift
from generator.adopt.drift_report import REPORTS
from generator.adopt.importer import ImportResult, import_capture
from generator.cli.commands import validate_designs
from generator.cli.exits import EXIT_OK, EXIT_PROBLEMS
from generator.cli.fleet_settings import DriftSettings, ImportSettings
from generator.cli.reporting import report_diagnostics, say
from generator.errors import OutputRefused, SelectionInvalid
from generator.output.one_file import written_whole

IMPORT_MARK = "# Imported by ovsgen "  # the first line of a design import wrote: it may replace it


def run_drift(settings: DriftSettings) -> int:
    """The report on stdout: exit 0 when every host matches its node, 1 when one differs (or a
    node was not captured), or on a problem with the design or a capture."""
    valid, ok = validate_designs(settings, settings.designs)
    if not ok:
        return EXIT_PROBLEMS
    nodes = settings.nodes
    unknown = sorted(set(nodes) - {node.name for node in valid[0].design.nodes})
    if unknown:
        raise SelectionInvalid(f"no node named {', '.join(unknown)} in {settings.designs[0]}")
    report = design_drift(valid[0], settings.capture, nodes, jobs=settings.jobs)
    settings.stdout.write(REPORTS[settings.report](report))
    return EXIT_PROBLEMS if report.drifted(strict=settings.apart_counts) else EXIT_OK


def run_import(settings: ImportSettings) -> int:
    """The design to its file (or stdout); on stderr what was not imported, each host that differs
    from the design, and what is left to fill in. Exit 1 when the design is not valid yet (or,
    with --strict, when anything was reported)."""
    out = settings.out
    if out is not None:
        _require_own_file(out)
    shown = str(out) if out is not None else "<stdout>"
    result = import_capture(settings.capture, str(settings.capture), shown, settings.name, jobs=settings.jobs)
    with written_whole(out) as stream:
        (stream or settings.stdout).write(result.text)
    _report(settings, result, shown)
    failed = any(problem.is_error for problem in result.problems)
    if settings.strict:
        failed = failed or bool(result.notes) or any(drift.differences for drift in result.hosts)
    return EXIT_PROBLEMS if failed else EXIT_OK


def _require_own_file(out: Path) -> None:
    """import replaces only a file it wrote (its first line says so), never a design of someone's."""
    if out.is_dir():
        raise OutputRefused(f"-o {out}: a folder; give the design file to write")
    if out.exists():
        with out.open("rb") as handle:
            first = handle.readline(200).decode(errors="replace")
        if not first.startswith(IMPORT_MARK):
            raise OutputRefused(f"-o {out}: exists and was not written by `ovsgen import`; give a new file")


def _report(settings: ImportSettings, result: ImportResult, shown: str) -> None:
    report_diagnostics(settings, result.notes)
    if result.everywhere:
        say(settings.stderr, "every host: a plan from its capture would also (what ovsgen always sets or writes):")
        for line in result.everywhere:
            say(settings.stderr, f"  {line}")
    for drift in result.hosts:
        if drift.differences:
            say(settings.stderr, f"{drift.node}: differs from the imported design; a plan from its capture would:")
            for line in drift.differences:
                say(settings.stderr, f"  {line}")
    if result.problems:
        report_diagnostics(settings, result.problems)
    valid = (
        "valid"
        if not any(problem.is_error for problem in result.problems)
        else "not valid yet: see the errors above (fill in what is marked unknown)"
    )
    plural = "s" if result.count != 1 else ""
    say(
        settings.stderr,
        f"wrote {shown} from {result.count} host{plural}; {len(result.notes)} not imported; the design is {valid}",
    )
