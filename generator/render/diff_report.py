"""`ovsgen diff`: a Markdown summary of what a design change does, for pull requests.

Per node: the changes in plain words (from the change plan), the risk note,
and the unified diff of every rendered file that changes, folded in
<details> blocks so that a review comment stays readable.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from generator.changes import NodeChange, plan_designs, without_header
from generator.pipeline import ValidDesign
from generator.render import OutputFile, render_design
from generator.render.plan_files import describe_files, describe_networks
from generator.render.templating import template


@dataclass(frozen=True)
class FileDiff:
    """One file's diff between two renders."""

    path: str
    lines: str  # the unified diff


@dataclass(frozen=True)
class DesignDiff:
    """What changed in a design between two revisions: its sources, node changes and file diffs."""

    title: str
    old_source: str
    new_source: str
    changes: list[NodeChange]
    node_diffs: dict[str, list[FileDiff]]
    design_diffs: list[FileDiff]


def _by_path(valid: ValidDesign | None) -> dict[str, OutputFile]:
    if valid is None:
        return {}
    # Paths without the design name, so that a renamed design still compares file by file.
    return {file.path.partition("/")[2]: file for file in render_design(valid)}


def _file_diffs(old: ValidDesign | None, new: ValidDesign | None) -> list[FileDiff]:
    before, after = _by_path(old), _by_path(new)
    diffs = []
    for path in sorted(before.keys() | after.keys(), key=lambda path: path.split("/")):  # folder by folder
        old_text = before[path].text if path in before else ""
        new_text = after[path].text if path in after else ""
        if without_header(old_text) == without_header(new_text):
            continue
        lines = difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{path}" if path in before else "/dev/null",
            tofile=f"b/{path}" if path in after else "/dev/null",
        )
        text = "".join(lines)
        # The report closes a code fence after the diff: it must start on a line of its own.
        diffs.append(FileDiff(path, text if text.endswith("\n") else text + "\n"))
    return diffs


def design_diff(old: ValidDesign | None, new: ValidDesign | None, old_source: str, new_source: str) -> DesignDiff:
    changes = plan_designs(old, new)
    diffs = _file_diffs(old, new)
    node_names = {change.node for change in changes}
    node_diffs = {name: [d for d in diffs if d.path.split("/", 1)[0] == name] for name in node_names}
    design_diffs = [d for d in diffs if d.path.split("/", 1)[0] not in node_names]
    either = new or old
    assert either is not None, "a diff needs at least one of the two designs"
    return DesignDiff(either.design.name, old_source, new_source, changes, node_diffs, design_diffs)


def render_diff_report(diffs: list[DesignDiff]) -> str:
    return template("diff.md.j2").render(
        diffs=diffs, describe_files=describe_files, describe_networks=describe_networks
    )
