"""What plan, diff and rehearse do, given their settings (see generator.cli.commands for the others)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import NoReturn

from generator.changes.diff_report import design_diff, render_diff_report
from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.changes.plan_folder import LIBVIRT_BACKUP, LIBVIRT_NEW, LIBVIRT_OLD, plan_header, render_plan
from generator.changes.plan_host_files import BACKUP, NEW, OLD
from generator.changes.plan_nm_files import BACKUP as NM_BACKUP
from generator.changes.plan_nm_files import NEW as NM_NEW
from generator.changes.plan_nm_files import OLD as NM_OLD
from generator.changes.rehearse import rehearse
from generator.changes.rehearse_start import dump_not_database, is_database_file, not_a_start
from generator.cli.change_settings import DiffSettings, PlanSettings, RehearseSettings
from generator.cli.commands import fail, nothing_written, selected_node_names, validate_designs
from generator.cli.exits import EXIT_OK, EXIT_PROBLEMS
from generator.cli.reporting import report_diagnostics, say
from generator.cli.settings import CommonSettings
from generator.design.validate import ValidDesign
from generator.errors import DumpInvalid, InputInvalid, OutputRefused
from generator.output.one_file import written_whole
from generator.output.whole_folder import FolderShape, InTheWay, replace_folder
from generator.ovs.hostdump import load_dump
from generator.render.rollout_facts import FACTS
from generator.render.templating import comment_safe


def _write_plan(settings: PlanSettings, changes: list[NodeChange], source: str) -> int:
    files = render_plan(changes, source)
    obstacles = replace_folder(settings.out, files, PLAN_FOLDER)
    if obstacles is not None:
        _refuse_plan_folder(settings, obstacles)
    summary = next(file for file in files if file.name == "plan.md")
    settings.stdout.write(summary.text)
    say(settings.stderr, f"wrote the plan ({len(files)} files) to {settings.out}/")
    return EXIT_OK


# What a plan folder holds (generator.changes.plan_folder renders it, output.whole_folder replaces
# it): plan.md, and per node folder its scripts and the folders of a layer's new and old files.
# Backups (*.backup) are made on the host by the scripts themselves, and rollback needs them: a
# plan folder holding one is never replaced.
PLAN_SUMMARY = "plan.md"
PLAN_SCRIPTS = ("change.sh", "rollback.sh", "ifcfg-*.sh", "nm-*.sh", "libvirt-*.sh")
PLAN_LAYER_FOLDERS = frozenset({NEW, OLD, NM_NEW, NM_OLD, LIBVIRT_NEW, LIBVIRT_OLD})
BACKUPS = {
    BACKUP: "holds the host's files saved by ifcfg-change.sh --apply: rollback needs them",
    NM_BACKUP: "holds the host's keyfiles saved by nm-change.sh --apply: rollback needs them",
    LIBVIRT_BACKUP: "holds the host's network definitions saved by libvirt-change.sh --apply: rollback needs them",
}
SHOWN_IN_THE_WAY = 10  # entries named before "and N more": the advice matters more than a long list


def _plan_writes(path: PurePosixPath, is_folder: bool) -> bool:
    """Whether a plan writes `path` (relative to its folder) as a folder or a file."""
    if path.name.startswith("."):  # a plan writes no hidden name (its lock, in the folder, is not looked at)
        return False
    match path.parts:
        case (name,):
            return is_folder or name in (PLAN_SUMMARY, FACTS)  # a node's folder, the summary, rollout.json
        case (_, name):
            if is_folder:
                return name in PLAN_LAYER_FOLDERS
            return any(fnmatchcase(name, pattern) for pattern in PLAN_SCRIPTS)
        case (_, layer, _):
            return layer in PLAN_LAYER_FOLDERS and not is_folder
    return False


def _is_backup(path: PurePosixPath) -> bool:
    return path.name.endswith(".backup")


def _made_by_plan(line: str) -> bool:
    """Whether `line` is the first line of a plan.md: plan_header in an HTML comment (plan.md.j2)."""
    head, _, tail = plan_header("\0", None).partition("\0")  # the header around its source
    return line.startswith(f"<!-- {head}") and line.rstrip("\r").endswith(f"{tail} -->")


PLAN_FOLDER = FolderShape(marker=PLAN_SUMMARY, made_by=_made_by_plan, writes=_plan_writes, keeps=_is_backup)


def _refuse_plan_folder(settings: PlanSettings, obstacles: InTheWay) -> NoReturn:
    """Name what is in the folder's way, then (OutputRefused) what to do; nothing was written."""
    out = settings.out
    for path in obstacles.kept:
        say(settings.stderr, f"{out / path} {BACKUPS.get(path.name, 'is a backup: ovsgen never deletes one')}")
    if not obstacles.made_by_command:
        say(settings.stderr, f"{out} is not a plan folder: it holds no {PLAN_SUMMARY} written by ovsgen plan")
    for path in obstacles.lost[:SHOWN_IN_THE_WAY]:
        say(settings.stderr, f"{out / path} would be lost: ovsgen plan does not write it")
    if len(obstacles.lost) > SHOWN_IN_THE_WAY:
        say(settings.stderr, f"and {len(obstacles.lost) - SHOWN_IN_THE_WAY} more in {out}")
    raise OutputRefused(f"{_plan_folder_advice(out, obstacles)}; nothing was written")


def _plan_folder_advice(out: Path, obstacles: InTheWay) -> str:
    if obstacles.kept:
        return "keep this plan folder and write the new plan elsewhere (-o NEW)"
    if obstacles.made_by_command:
        return f"ovsgen plan replaces {out} whole: move these out of it, or write the new plan elsewhere (-o NEW)"
    return f"ovsgen plan replaces {out} whole: write the plan to a new or empty folder or over a previous one (-o NEW)"


def run_plan(settings: PlanSettings) -> int:
    if settings.from_host is not None:
        return _plan_from_host(settings, settings.from_host)
    valid, ok = validate_designs(settings)
    if not ok:
        return fail(settings, "nothing was written")
    old, new = valid
    with nothing_written():
        nodes = selected_node_names(settings.nodes, valid)
    changes = plan_designs(old, new, nodes)
    old_path, new_path = settings.designs
    return _write_plan(settings, changes, f"{comment_safe(old_path.name)} -> {comment_safe(new_path.name)}")


def _plan_from_host(settings: PlanSettings, dump: Path) -> int:
    valid, ok = validate_designs(settings)
    try:
        host = load_dump(dump)
    except DumpInvalid as invalid:
        report_diagnostics(settings, invalid.diagnostics)
        return fail(settings, "nothing was written")
    if not ok:
        return fail(settings, "nothing was written")
    (new,) = valid
    with nothing_written():
        (node,) = selected_node_names(settings.nodes, valid)
    change = plan_from_host(host, new, node, prune=settings.prune)
    for reason in change.ovs.blocked:  # a step no rollback could undo: no plan at all
        say(settings.stderr, f"node {node}: {reason}")
    if change.ovs.blocked:
        return fail(settings, "nothing was written")
    source = f"host dump {comment_safe(dump.name)} -> {comment_safe(settings.designs[0].name)}"
    return _write_plan(settings, [change], source)


def base_ref_problem(ref: str) -> str | None:
    """Why `ovsgen diff --base-ref REF` cannot read old designs, or None. Without this, a ref
    missing from a shallow CI checkout made every node look added: a misleading review comment."""
    try:
        inside = _git("rev-parse", "--is-inside-work-tree")
    except FileNotFoundError:
        return "--base-ref reads the old designs with git, which is not installed"
    if inside.returncode != 0 or inside.stdout.strip() != b"true":
        return (
            f"--base-ref reads the old designs from git, but {Path.cwd()} is not in a git checkout; "
            "run ovsgen diff in the checkout, or compare two files: ovsgen diff OLD.yaml NEW.yaml"
        )
    # --verify --quiet: one object or nothing; REF^{commit}: a tag or branch must lead to a commit.
    if _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        return f"base revision {ref} is not in this checkout; in CI fetch it first: {_fetch_advice(ref)}"
    return None


def _fetch_advice(ref: str) -> str:
    """How to fetch `ref` in a shallow CI checkout: a branch by name; anything else (`main~5`,
    a commit id) only with the history that holds it."""
    branch = _remote_branch(ref)
    if re.fullmatch(r"[A-Za-z0-9._/-]+", branch) and not re.fullmatch(r"[0-9a-f]{7,64}", branch):
        return f"git fetch origin {branch} --depth=1 (or actions/checkout with fetch-depth: 0)"
    return "git fetch --unshallow origin (or actions/checkout with fetch-depth: 0)"


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], capture_output=True, check=False)


def _remote_branch(ref: str) -> str:
    """The branch to fetch for `ref`: origin/main and refs/remotes/origin/main are main of origin."""
    for prefix in ("refs/remotes/origin/", "origin/", "refs/heads/"):
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def _old_from_git(ref: str, path: Path, folder: Path) -> tuple[Path | None, str]:
    """The design at `ref` (None if it did not exist there), copied under its own name into `folder`.

    The ref exists (base_ref_problem said so before): a design git cannot show there is new."""
    name = f"{ref}:{path}"
    # "./" makes git read the path relative to the working directory, as the user typed it.
    # --end-of-options: a revision can never be read as an option of git's (`--output=...`).
    shown = _git("show", "--end-of-options", f"{ref}:./{path}")
    if shown.returncode != 0:
        return None, name
    copy = folder / path.name
    copy.write_bytes(shown.stdout)
    return copy, name


def run_diff(settings: DiffSettings) -> int:
    """The Markdown report on stdout; with --full, the unified diff of every rendered file there."""
    with tempfile.TemporaryDirectory(prefix="ovsgen-base-") as folder:  # the old designs read from git
        return _diff(settings, Path(folder))


def _diff(settings: DiffSettings, folder: Path) -> int:
    full = settings.full
    pairs: list[tuple[Path | None, str, Path]]
    if settings.base_ref is None:
        pairs = [(settings.designs[0], str(settings.designs[0]), settings.designs[1])]
    else:
        pairs = [(*_old_from_git(settings.base_ref, path, folder), path) for path in settings.designs]
    valid: list[tuple[ValidDesign | None, str, ValidDesign, Path]] = []
    ok = True
    for old_path, old_name, new_path in pairs:
        old_valid, old_ok = validate_designs(settings, (old_path,), (old_name,)) if old_path else ([], True)
        new_valid, new_ok = validate_designs(settings, (new_path,))
        ok = ok and old_ok and new_ok
        if old_ok and new_ok:
            valid.append((old_valid[0] if old_valid else None, old_name, new_valid[0], new_path))
    if not ok:
        return EXIT_PROBLEMS  # every design was validated first: nothing is written
    with written_whole(full) as stream:
        diffs = [
            design_diff(old, new, name if old else f"{name} (absent)", str(path), full=stream)
            for old, name, new, path in valid
        ]
    settings.stdout.write(render_diff_report(diffs, str(full) if full is not None else None))
    if full is not None:
        say(settings.stderr, f"wrote the full diff to {full}")
    return EXIT_OK


def _rehearse_refused(settings: CommonSettings, start: Path, valid: list[ValidDesign], from_database: bool) -> int:
    """After the designs' problems: for a first file that is no design at all (garbage, an empty
    file), say what rehearse takes."""
    if not from_database and not any(design.source.file == str(start) for design in valid):
        return fail(settings, not_a_start(start))
    return EXIT_PROBLEMS


def run_rehearse(settings: RehearseSettings) -> int:
    start, new_path = settings.designs
    from_database = is_database_file(start)
    dumped = None if from_database else dump_not_database(start)
    if dumped:
        return fail(settings, dumped)
    valid, ok = validate_designs(settings, (new_path,) if from_database else (start, new_path))
    if not ok:
        return _rehearse_refused(settings, start, valid, from_database)
    old, new = (None, valid[0]) if from_database else (valid[0], valid[1])
    node = selected_node_names((settings.node,), valid)[-1]  # the new design's spelling when the two differ
    try:  # missing Open vSwitch tools (ToolUnavailable) go to the command line as they are
        result = rehearse(start, old, new, node, prune=settings.prune)
    except InputInvalid as invalid:  # a design, or a backup that is not Open vSwitch's database, or holds unsafe values
        report_diagnostics(settings, invalid.diagnostics)
        return fail(settings, "nothing was rehearsed")
    settings.stdout.write(result.text())
    return EXIT_OK if result.passed else EXIT_PROBLEMS
