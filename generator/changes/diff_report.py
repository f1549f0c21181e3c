"""`ovsgen diff`: a Markdown summary of what a design change does, for pull requests.

The report must fit one pull-request comment whatever the change. Nodes whose changes are
identical share one section (generator.changes.node_groups.group_changes; for a diff, their host files must
also change identically but for the node's name), showing the first node's file diffs. The
build sheet's HTML page and wiring diagram are summarised by the Markdown sheet's diff, the CSV by
its row counts. The whole report stays under the comment limit: node sections come before file
diffs, and whatever does not fit is cut with a last line that says what and how to get it
(`ovsgen diff --full FILE`: the unified diff of every rendered file, for a CI artifact).
"""

from __future__ import annotations

import difflib
import hashlib
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from generator.changes.node_changes import NodeChange, plan_designs, without_header
from generator.changes.node_groups import NodeGroup, change_key, group_changes
from generator.changes.plan_folder import describe_files, describe_networks
from generator.design.validate import ValidDesign
from generator.render.files import OutputFile
from generator.render.kinds import KINDS, render_design
from generator.render.sheets import NODE_FILES
from generator.render.templating import macro

SHEET_KIND = "sheet"  # generator.render's kind of the build sheets, diagram, CSV and index
# rollout.json is for `ovsgen rollout`, not for a host or a person: a diff does not show it.
ROLLOUT_KIND = "rollout"

COMMENT_LIMIT = 65_536  # characters GitHub takes in a pull-request comment
# The report stays this far below the limit: room for the title or link a CI job adds.
REPORT_BUDGET = COMMENT_LIMIT - 1_536
MARKDOWN_SHEET = "build-sheet.md"
# Said by build-sheet.md in Markdown: their diffs are summarised, never printed (--full has them).
SUMMARISED_SHEETS = tuple(name for name in NODE_FILES if name != MARKDOWN_SHEET)
PORTS_NAMED = 10  # switch ports a line of the summary names before "and N more"
RUNS_NAMED = 20  # runs of node names a section lists before "and N more"
NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True)
class FileDiff:
    """One file's diff between two renders."""

    path: str  # relative to the design folder
    lines: str  # the unified diff

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


@dataclass(frozen=True)
class LineCounts:
    """A design-wide file said by how many of its lines go and come (build-sheet.csv: a row each)."""

    path: str
    removed: int
    added: int


def _line_counts(path: str, old: OutputFile | None, new: OutputFile | None) -> LineCounts:
    # Lines compared as multisets, not by difflib: a row changed on each of 1,000 nodes made
    # difflib's matching take seconds, for two numbers.
    before = Counter(old.text.splitlines() if old else [])
    after = Counter(new.text.splitlines() if new else [])
    return LineCounts(path, (before - after).total(), (after - before).total())


@dataclass(frozen=True)
class GroupDiff:
    """A section of the report: a group of nodes, and its first node's files that change."""

    group: NodeGroup
    files: list[FileDiff]  # host files (ifcfg, ovs, libvirt), then build-sheet.md
    summarised: list[str]  # names of the sheet files said by build-sheet.md

    @property
    def changed(self) -> int:
        return len(self.files) + len(self.summarised)

    @property
    def names(self) -> list[str]:
        return [file.path.partition("/")[2] for file in self.files] + self.summarised


@dataclass(frozen=True)
class DesignDiff:
    """What changed in a design between two revisions: its sources, node sections and design files."""

    title: str
    old_source: str
    new_source: str
    changes: list[NodeChange]
    groups: list[GroupDiff]
    design_diffs: list[FileDiff]  # printed: index.md
    design_summaries: list[LineCounts]  # counted: build-sheet.csv


def _rendered(valid: ValidDesign | None, kinds: tuple[str, ...], nodes: set[str], jobs: int) -> list[OutputFile]:
    """The design's files of these kinds, of `nodes` (all when empty); none for a missing design."""
    # Nodes the design lacks (removed ones) select none of its nodes: still its design-level files.
    return render_design(valid, nodes, kinds, jobs) if valid is not None else []


def _by_node(files: list[OutputFile]) -> dict[str, dict[str, OutputFile]]:
    """Files by node ("" for design-level files), keyed by their path without the design name,
    so that a renamed design still compares file by file."""
    found: dict[str, dict[str, OutputFile]] = {}
    for file in files:
        path = file.path.partition("/")[2]
        node, _, rest = path.partition("/")
        found.setdefault(node if rest else "", {})[path] = file
    return found


def _differs(old: OutputFile | None, new: OutputFile | None) -> bool:
    if old is None or new is None:
        return True
    # Equal texts (the common case) need no look at the header comments.
    return old.text != new.text and without_header(old.text) != without_header(new.text)


def _changed_paths(old: dict[str, OutputFile], new: dict[str, OutputFile]) -> list[str]:
    paths = sorted(old.keys() | new.keys())
    return [path for path in paths if _differs(old.get(path), new.get(path))]


def _unified(path: str, old: OutputFile | None, new: OutputFile | None, prefix: str = "") -> FileDiff:
    lines = difflib.unified_diff(
        old.text.splitlines(keepends=True) if old else [],
        new.text.splitlines(keepends=True) if new else [],
        fromfile=f"a/{prefix}{path}" if old else "/dev/null",
        tofile=f"b/{prefix}{path}" if new else "/dev/null",
    )
    # A file's last line without a newline is marked as git does; the report closes a code fence
    # after the diff, which must start on a line of its own.
    return FileDiff(path, "".join(line if line.endswith("\n") else f"{line}\n{NO_NEWLINE}" for line in lines))


def _text_without_name(file: OutputFile | None, node: str) -> bytes | None:
    """A digest of the file's text with the node's name (as a whole word) replaced: what decides
    "identical". A digest, not the text: 1,000 added nodes would otherwise keep a copy of every file."""
    if file is None:
        return None
    text = re.sub(rf"(?<![\w.-]){re.escape(node)}(?![\w-])", "\0", file.text)
    return hashlib.blake2b(text.encode()).digest()  # no lone surrogates: validation refuses them


class _NodeDiffs:
    """Each node's changed files, and the key that groups nodes whose changes are identical.

    The key holds the node's host files (ifcfg, ovs, libvirt), not its build sheets: they say what
    the structured change and the host files say, with the node's own switch-port labels, which
    differ on every node. So the sheets (half of a render) are rendered only for the first node of
    each section, and for every node only when --full asks for every diff.
    """

    def __init__(self, change: NodeChange, old: dict[str, OutputFile], new: dict[str, OutputFile]) -> None:
        self.change = change
        self.old, self.new = old, new
        self.paths = _changed_paths(old, new)
        # Both texts of each changed host file, the node's name taken out: equal for two nodes
        # exactly when their diffs are (and far cheaper than diffing every node's files).
        node = change.node
        # (Their paths need no place in it: change_key names the files, and a file's text its kind.)
        host = tuple(
            (_text_without_name(old.get(path), node), _text_without_name(new.get(path), node)) for path in self.paths
        )
        self.key: Hashable = (change_key(change), host)

    def add_sheets(self, old: dict[str, OutputFile], new: dict[str, OutputFile]) -> None:
        """Take in the node's build sheets, rendered once its section is known."""
        self.old, self.new = {**self.old, **old}, {**self.new, **new}
        self.paths = _changed_paths(self.old, self.new)

    def section(self, group: NodeGroup) -> GroupDiff:
        """The group's section, with this (its first) node's diffs."""
        # A node's file names tell its sheets from its host files (ifcfg-*, *.sh, *.xml).
        names = [posixpath.basename(path) for path in self.paths]
        files = [self.diff(path) for path in self.paths if posixpath.basename(path) not in NODE_FILES]
        files += [self.diff(path) for path in self.paths if posixpath.basename(path) == MARKDOWN_SHEET]
        return GroupDiff(group, files, [name for name in names if name in SUMMARISED_SHEETS])

    def diff(self, path: str, prefix: str = "") -> FileDiff:
        """The unified diff of one of the node's files; `prefix`: before its path in the ---/+++ lines."""
        return _unified(path, self.old.get(path), self.new.get(path), prefix)


HOST_KINDS = tuple(kind for kind in KINDS if kind not in (SHEET_KIND, ROLLOUT_KIND))


def design_diff(
    old: ValidDesign | None,
    new: ValidDesign | None,
    old_source: str,
    new_source: str,
    *,
    full: TextIO | None = None,
    jobs: int = 1,
) -> DesignDiff:
    """The report's part about one design; with `full`, also writes there the unified diff of
    every rendered file that changes, node by node. `jobs`: processes that render large designs."""
    either = new or old
    assert either is not None  # a diff needs at least one of the two designs
    before, after = _rendered(old, HOST_KINDS, set(), jobs), _rendered(new, HOST_KINDS, set(), jobs)
    changes = plan_designs(old, new, rendered=(before, after))
    old_files, new_files = _by_node(before), _by_node(after)
    nodes = [_NodeDiffs(change, old_files.get(change.node, {}), new_files.get(change.node, {})) for change in changes]
    groups = group_changes(changes, [node.key for node in nodes])
    first = {node.change.node: node for node in nodes}
    # Sheets of the nodes shown (all with --full); the design-level sheets (CSV, index) come with them.
    shown = set() if full is not None else {group.first.node for group in groups}
    old_sheets = _by_node(_rendered(old, (SHEET_KIND,), shown, jobs))
    new_sheets = _by_node(_rendered(new, (SHEET_KIND,), shown, jobs))
    for name in (old_sheets.keys() | new_sheets.keys()) - {""}:
        first[name].add_sheets(old_sheets.get(name, {}), new_sheets.get(name, {}))
    sections = [first[group.first.node].section(group) for group in groups]
    old_design, new_design = old_sheets.get("", {}), new_sheets.get("", {})
    design_paths = _changed_paths(old_design, new_design)
    printed = [_unified(p, old_design.get(p), new_design.get(p)) for p in design_paths if p.endswith(".md")]
    counted = [_line_counts(p, old_design.get(p), new_design.get(p)) for p in design_paths if not p.endswith(".md")]
    if full is not None:
        _write_full(full, either.design.name, nodes, (old_design, new_design, design_paths))
    return DesignDiff(either.design.name, old_source, new_source, changes, sections, printed, counted)


def _write_full(
    full: TextIO,
    design: str,
    nodes: list[_NodeDiffs],
    design_files: tuple[dict[str, OutputFile], dict[str, OutputFile], list[str]],
) -> None:
    """Every changed file's unified diff, paths from the output folder (a/<design>/<node>/...)."""
    for node in nodes:
        for path in node.paths:
            full.write(node.diff(path, f"{design}/").lines)
    old, new, paths = design_files
    for path in paths:
        full.write(_unified(path, old.get(path), new.get(path), f"{design}/").lines)


def _utf16_length(text: str) -> int:
    """Length as GitHub counts it (JavaScript string length): characters beyond the BMP count twice."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


@dataclass
class _Piece:
    """A self-contained part of the report (whole Markdown blocks), with a shorter form."""

    full: str
    short: str = ""  # the same without file diffs ("": the full form is its shortest)
    nodes: int = 0  # nodes of the section (0: not a node section)
    diffs: int = 0  # file diffs the full form shows and the short one does not


def _pieces(diffs: list[DesignDiff]) -> Iterator[_Piece]:
    head = macro("diff.md.j2", "design_head")
    section = macro("diff.md.j2", "group_section")
    design_files = macro("diff.md.j2", "design_files")
    words: dict[str, Callable[..., list[str]]] = {"files": describe_files, "networks": describe_networks}
    yield _Piece(macro("diff.md.j2", "title")())
    for diff in diffs:
        yield _Piece(head(diff, PORTS_NAMED))
        for item in diff.groups:
            full, short = section(item, words, RUNS_NAMED, True), section(item, words, RUNS_NAMED, False)
            yield _Piece(full, short, item.group.size, len(item.files))
        if diff.design_diffs or diff.design_summaries:
            yield _Piece(design_files(diff, True), design_files(diff, False), 0, len(diff.design_diffs))


def render_diff_report(diffs: list[DesignDiff], full_name: str | None = None) -> str:
    """The Markdown report, under REPORT_BUDGET characters; `full_name`: where --full wrote the
    whole diff, if it was given."""
    pieces = list(_pieces(diffs))
    lengths = [(_utf16_length(piece.full), _utf16_length(piece.short or piece.full)) for piece in pieces]
    cut_note = macro("diff.md.j2", "cut_note")
    # Room for the note saying what was cut: its longest form, with every count at its largest.
    budget = REPORT_BUDGET - _utf16_length(cut_note(10**9, 10**9, 10**9, full_name or ""))
    shown: list[str] = []
    used = 0
    shortened = 0
    for index, piece in enumerate(pieces):
        rest = sum(short for _, short in lengths[index + 1 :])  # the others at least in short form
        full, short = lengths[index]
        if used + full + rest <= budget:
            shown.append(piece.full)
            used += full
        elif used + short <= budget:
            shown.append(piece.short or piece.full)
            used += short
            shortened += piece.diffs
        else:
            return "".join(shown) + cut_note(*_cut(pieces[index:]), shortened, full_name or "")
    if shortened:
        return "".join(shown) + cut_note(0, 0, shortened, full_name or "")
    return "".join(shown)


def _cut(pieces: Sequence[_Piece]) -> tuple[int, int]:
    """Node sections and nodes in `pieces`."""
    sections = [piece for piece in pieces if piece.nodes]
    return len(sections), sum(piece.nodes for piece in sections)
