"""What plan, diff and rehearse do, given parsed settings (see generator.app for the others)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from generator.app import EXIT_INVALID, EXIT_OK, Settings, fail, report, validate_designs
from generator.changes import NodeChange, plan_designs, plan_from_host
from generator.diagnostics import DesignInvalid
from generator.hoststate import load_dump
from generator.pipeline import ValidDesign
from generator.rehearse import RehearsalUnavailable, is_database_file, rehearse
from generator.render.diff_report import design_diff, render_diff_report
from generator.render.plan_files import render_plan
from generator.render.templating import comment_safe
from generator.reporting import say
from generator.writer import replace_folder


def _unknown_nodes(settings: Settings, designs: list[ValidDesign]) -> str | None:
    known = {layout.node.name for design in designs for layout in design.layouts}
    unknown = sorted(set(settings.nodes) - known)
    return f"no node named {', '.join(unknown)} in the given designs" if unknown else None


def _write_plan(settings: Settings, changes: list[NodeChange], source: str) -> int:
    files = render_plan(changes, source)
    replace_folder(settings.out, files)
    summary = next(file for file in files if file.name == "plan.md")
    settings.stdout.write(summary.text)
    say(settings.stderr, f"wrote the plan ({len(files)} files) to {settings.out}/")
    return EXIT_OK


def run_plan(settings: Settings) -> int:
    if settings.from_host is not None:
        return _plan_from_host(settings, settings.from_host)
    valid, ok = validate_designs(settings, settings.designs)
    if not ok:
        return fail(settings, "nothing was written")
    old, new = valid
    unknown = _unknown_nodes(settings, valid)
    if unknown:
        return fail(settings, f"{unknown}; nothing was written")
    changes = plan_designs(old, new, settings.nodes)
    old_path, new_path = settings.designs
    return _write_plan(settings, changes, f"{comment_safe(old_path.name)} -> {comment_safe(new_path.name)}")


def _plan_from_host(settings: Settings, dump: Path) -> int:
    valid, ok = validate_designs(settings, settings.designs)
    try:
        host = load_dump(dump)
    except DesignInvalid as invalid:
        report(settings, invalid.diagnostics)
        return fail(settings, "nothing was written")
    if not ok:
        return fail(settings, "nothing was written")
    (new,) = valid
    (node,) = settings.nodes
    unknown = _unknown_nodes(settings, valid)
    if unknown:
        return fail(settings, f"{unknown}; nothing was written")
    change = plan_from_host(host, new, node, prune=settings.prune)
    source = f"host dump {comment_safe(dump.name)} -> {comment_safe(settings.designs[0].name)}"
    return _write_plan(settings, [change], source)


def _old_from_git(ref: str, path: Path, folder: Path) -> tuple[Path | None, str]:
    """The design at `ref` (None if it did not exist there), copied under its own name into `folder`."""
    name = f"{ref}:{path}"
    # "./" makes git read the path relative to the working directory, as the user typed it.
    # --end-of-options: a revision can never be read as an option of git's (`--output=...`).
    shown = subprocess.run(
        ["git", "show", "--end-of-options", f"{ref}:./{path}"], capture_output=True, check=False, cwd=Path.cwd()
    )
    if shown.returncode != 0:
        return None, name
    copy = folder / path.name
    copy.write_bytes(shown.stdout)
    return copy, name


def run_diff(settings: Settings) -> int:
    pairs: list[tuple[Path | None, str, Path]]
    if settings.base_ref is None:
        pairs = [(settings.designs[0], str(settings.designs[0]), settings.designs[1])]
        folder = None
    else:
        folder = Path(tempfile.mkdtemp(prefix="ovsgen-base-"))
        pairs = [(*_old_from_git(settings.base_ref, path, folder), path) for path in settings.designs]
    diffs = []
    ok = True
    for old_path, old_name, new_path in pairs:
        old_valid, old_ok = validate_designs(settings, (old_path,), (old_name,)) if old_path else ([], True)
        new_valid, new_ok = validate_designs(settings, (new_path,))
        ok = ok and old_ok and new_ok
        if old_ok and new_ok:
            old = old_valid[0] if old_valid else None
            diffs.append(design_diff(old, new_valid[0], old_name if old else f"{old_name} (absent)", str(new_path)))
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    if not ok:
        return EXIT_INVALID
    settings.stdout.write(render_diff_report(diffs))
    return EXIT_OK


def run_rehearse(settings: Settings) -> int:
    start, new_path = settings.designs
    (node,) = settings.nodes
    from_database = is_database_file(start)
    valid, ok = validate_designs(settings, (new_path,) if from_database else (start, new_path))
    if not ok:
        return EXIT_INVALID
    old, new = (None, valid[0]) if from_database else (valid[0], valid[1])
    unknown = _unknown_nodes(settings, valid)
    if unknown:
        return fail(settings, unknown)
    try:
        result = rehearse(start, old, new, node, prune=settings.prune)
    except RehearsalUnavailable as missing:
        return fail(settings, str(missing))
    except DesignInvalid as invalid:  # a backup that is not Open vSwitch's database, or holds unsafe values
        report(settings, invalid.diagnostics)
        return fail(settings, "nothing was rehearsed")
    settings.stdout.write(result.text())
    return EXIT_OK if result.passed else EXIT_INVALID
