"""What drift and import do, given their settings."""

from __future__ import annotations

from pathlib import Path

from generator.adopt.drift import UNKNOWN_HOST, design_drift
from generator.adopt.drift_report import REPORTS
from generator.adopt.importer import ImportResult, import_capture, unedited
from generator.cli.commands import selected_node_names, validate_designs
from generator.cli.exits import EXIT_OK, EXIT_PROBLEMS
from generator.cli.fleet_settings import DriftSettings, ImportSettings
from generator.cli.reporting import report_diagnostics, say
from generator.errors import OutputRefused
from generator.output.one_file import written_whole

IMPORT_MARK = "# Imported by ovsgen "  # the first line of a design import wrote
NOT_IMPORTED = "not imported:"  # how each warning about what a design cannot say starts
MAX_REPLACED_BYTES = 64 * 1024 * 1024  # a design import wrote is smaller: a bigger file is not one


def run_drift(settings: DriftSettings) -> int:
    """The report on stdout: exit 0 when every host matches its node, 1 when one differs (or a
    node was not captured), or on a problem with the design or a capture."""
    valid, ok = validate_designs(settings, settings.designs)
    if not ok:
        return EXIT_PROBLEMS
    nodes = selected_node_names(settings.nodes, valid) if settings.nodes else ()  # as other commands say it
    report = design_drift(valid[0], settings.capture, nodes, jobs=settings.jobs)
    settings.stdout.write(REPORTS[settings.report](report))
    if not report.drifted(strict=False) and report.drifted(strict=settings.apart_counts):
        apart = sum(bool(host.apart) or host.status == UNKNOWN_HOST for host in report.hosts)
        say(settings.stderr, f"--strict: exit 1: {apart} host(s) with what the design does not mention (apart)")
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
    differing = sum(bool(drift.differences) for drift in result.hosts)
    if settings.strict and (result.notes or differing):
        say(settings.stderr, f"--strict: exit 1: {len(result.notes)} warning(s) above, {differing} host(s) differ")
        failed = True
    return EXIT_PROBLEMS if failed else EXIT_OK


def _require_own_file(out: Path) -> None:
    """import replaces only a file it wrote and nobody changed since, never a design of someone's
    or one reviewed after an import."""
    if out.is_dir():
        raise OutputRefused(f"-o {out}: a folder; give the design file to write")
    if not out.exists():
        return
    with out.open("rb") as handle:
        text = handle.read(MAX_REPLACED_BYTES + 1).decode(errors="replace")
    if not text.startswith(IMPORT_MARK):
        raise OutputRefused(f"-o {out}: exists and was not written by `ovsgen import`; give a new file")
    if not unedited(text):
        raise OutputRefused(
            f"-o {out}: changed since `ovsgen import` wrote it (a review's edits would be lost); "
            "import into a new file and compare"
        )


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
    say(
        settings.stderr,
        f"wrote {shown} from {_hosts(result.count)}; {_counts(result)}; the design is {_validity(result)}",
    )


def _hosts(count: int) -> str:
    return f"{count} host{'s' if count != 1 else ''}"


def _counts(result: ImportResult) -> str:
    """How many things were not imported, and how many other warnings there are."""
    not_imported = sum(note.message.startswith(NOT_IMPORTED) for note in result.notes)
    others = len(result.notes) - not_imported
    return f"{not_imported} not imported" + (f", {others} other warning(s)" if others else "")


def _validity(result: ImportResult) -> str:
    if not any(problem.is_error for problem in result.problems):
        return "valid"
    fill = f"{result.unknowns} value(s) written as 'unknown' to fill in; " if result.unknowns else ""
    return f"not valid yet: {fill}see the errors above"
