"""`ovsgen diff`'s report in-process (generator.changes.diff_report): sections of nodes whose
changes are identical, the first node's file diffs, --full, and the cut that keeps the report
under a pull-request comment (GitHub counts UTF-16 code units). Small designs, so it stays fast;
tests/test_fleet_review.py runs the command on 300 nodes.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.changes.diff_report import (
    DesignDiff,
    FileDiff,
    GroupDiff,
    LineCounts,
    _unified,
    design_diff,
    render_diff_report,
)
from generator.changes.node_groups import group_changes
from generator.design.validate import ValidDesign, validate_file
from generator.render.files import OutputFile
from tests.test_fleet_review import fleet

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"
COMMENT_LIMIT = 65_536
ROOM_FOR_CI = 1_536  # the report leaves this much of a comment to the title or link a CI job adds
CUT = "**Cut to fit a pull-request comment (65,536 characters):**"
HINT = "`ovsgen diff --full FILE ...` writes the unified diff of every rendered file to FILE (for a CI artifact)."


def github_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def write(folder: Path, name: str, text: str) -> ValidDesign:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_file(path)


def base_edited(folder: Path, file: str, **changes: Any) -> ValidDesign:
    data: dict[str, Any] = yaml.safe_load((CHANGES / "base.yaml").read_text())
    data.update(changes)
    return write(folder, file, json.dumps(data))


def headings(report: str) -> list[str]:
    return re.findall(r"^## (.+)$", report, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def portgroup_added(tmp_path_factory: pytest.TempPathFactory) -> tuple[ValidDesign, ValidDesign]:
    folder = tmp_path_factory.mktemp("fleet4")
    return write(folder, "old", fleet(4)), write(folder, "new", fleet(4, portgroup=True))


def test_identical_changes_are_one_section_showing_the_first_nodes_files(
    portgroup_added: tuple[ValidDesign, ValidDesign],
) -> None:
    diff = design_diff(*portgroup_added, "old.yaml", "new.yaml")
    assert diff.title == "fleet"
    assert [change.node for change in diff.changes] == [f"node-0000{i}" for i in range(4)]
    (section,) = diff.groups
    assert section.group.title == "4 nodes, node-00000 … node-00003"
    # Host files first, then the Markdown sheet; the HTML page and the diagram are only named.
    assert [file.path for file in section.files] == ["node-00000/libvirt/tenants.xml", "node-00000/build-sheet.md"]
    assert section.summarised == ["build-sheet.html", "wiring.svg"]
    assert section.names == ["libvirt/tenants.xml", "build-sheet.md", "build-sheet.html", "wiring.svg"]
    assert section.changed == 4
    xml = section.files[0].lines
    assert xml.startswith("--- a/node-00000/libvirt/tenants.xml\n+++ b/node-00000/libvirt/tenants.xml\n@@ ")
    assert re.search(r"^\+.*pg110", xml, flags=re.MULTILINE)
    assert "node-00001" not in xml
    # index.md is printed; build-sheet.csv counted: VLAN 110 on eth2 and eth3 of 4 nodes.
    assert [(file.path, file.lines.splitlines()[:2]) for file in diff.design_diffs] == [
        ("index.md", ["--- a/index.md", "+++ b/index.md"])
    ]
    assert diff.design_summaries == [LineCounts("build-sheet.csv", 8, 8)]
    report = render_diff_report([diff])
    assert headings(report) == ["Switch ports (network team)", "4 nodes, node-00000 … node-00003: changed"]
    assert "+++ b/node-00000/libvirt/tenants.xml" in report
    assert "build-sheet.html, wiring.svg change as build-sheet.md does" in report
    assert "- build-sheet.csv: 8 line(s) removed, 8 added" in report
    assert "+++ b/index.md" in report
    assert CUT not in report


def test_full_writes_every_nodes_every_changed_file_and_the_report_is_the_same(
    portgroup_added: tuple[ValidDesign, ValidDesign],
) -> None:
    stream = io.StringIO()
    with_full = design_diff(*portgroup_added, "old.yaml", "new.yaml", full=stream)
    text = stream.getvalue()
    for kind in ("libvirt/tenants.xml", "build-sheet.md", "build-sheet.html", "wiring.svg"):
        found = re.findall(rf"^\+\+\+ b/fleet/(node-\d{{5}})/{re.escape(kind)}$", text, flags=re.MULTILINE)
        assert found == [f"node-0000{i}" for i in range(4)], kind
        assert len(re.findall(rf"^--- a/fleet/node-\d{{5}}/{re.escape(kind)}$", text, flags=re.MULTILINE)) == 4
    assert re.findall(r"^\+\+\+ b/fleet/(\S+)$", text, flags=re.MULTILINE)[-2:] == ["build-sheet.csv", "index.md"]
    assert re.findall(r"^--- a/fleet/(\S+)$", text, flags=re.MULTILINE)[-2:] == ["build-sheet.csv", "index.md"]
    assert text.endswith("\n")
    # Nothing unchanged is in it (the ovs and ifcfg files of the nodes stay as they were).
    assert "ovs/" not in text
    assert "network-scripts/" not in text
    without = design_diff(*portgroup_added, "old.yaml", "new.yaml")
    assert render_diff_report([with_full]) == render_diff_report([without])
    assert with_full.groups[0].files == without.groups[0].files


def test_the_diff_renders_with_the_jobs_it_is_given(
    portgroup_added: tuple[ValidDesign, ValidDesign], monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.changes import diff_report

    seen: list[int] = []
    real = diff_report.render_design

    def spy(valid: ValidDesign, nodes: Any, kinds: Any, jobs: int = 1) -> list[OutputFile]:
        seen.append(jobs)
        return real(valid, nodes, kinds, jobs)

    monkeypatch.setattr(diff_report, "render_design", spy)
    design_diff(*portgroup_added, "old.yaml", "new.yaml", jobs=3)
    assert seen == [3, 3, 3, 3]
    seen.clear()
    design_diff(*portgroup_added, "old.yaml", "new.yaml")
    assert seen == [1, 1, 1, 1]


def test_a_section_renders_only_the_sheets_it_shows_and_compares_the_handed_over_files(
    portgroup_added: tuple[ValidDesign, ValidDesign], monkeypatch: pytest.MonkeyPatch
) -> None:
    import generator.changes.node_changes as changes_module
    from generator.changes import diff_report

    calls: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    real = diff_report.render_design

    def spy(valid: ValidDesign, nodes: Any, kinds: Any, jobs: int = 1) -> list[OutputFile]:
        calls.append((valid.design.name, tuple(sorted(nodes)), tuple(kinds)))
        return real(valid, nodes, kinds, jobs)

    monkeypatch.setattr(diff_report, "render_design", spy)
    monkeypatch.setattr(changes_module, "render_design", spy)  # the plan reuses the diff's render
    design_diff(*portgroup_added, "old.yaml", "new.yaml")
    host = ("ifcfg", "networkmanager", "ovs", "libvirt")
    sheets = (("node-00000",), ("sheet",))
    assert [(nodes, kinds) for _, nodes, kinds in calls] == [((), host), ((), host), sheets, sheets]


def test_nodes_whose_host_files_differ_beyond_their_name_get_a_section_each(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old", fleet(3)), write(tmp_path, "new", fleet(3, renumbered=True))
    diff = design_diff(old, new, "old.yaml", "new.yaml")
    assert [section.group.title for section in diff.groups] == [f"Node node-0000{i}" for i in range(3)]
    for index, section in enumerate(diff.groups):
        assert all(file.path.startswith(f"node-0000{index}/") for file in section.files)
        assert "network-scripts/ifcfg-br0" in section.names


def test_nodes_whose_new_files_agree_but_whose_old_ones_differ_are_not_one_section(tmp_path: Path) -> None:
    # Old: each node has its own MACs; new: no MACs, so the new files agree but for the name.
    macs = re.compile(r', mac: "[0-9a-f:]+"')
    old, new = write(tmp_path, "old", fleet(2)), write(tmp_path, "new", macs.sub("", fleet(2)))
    diff = design_diff(old, new, "old.yaml", "new.yaml")
    assert [section.group.title for section in diff.groups] == ["Node node-00000", "Node node-00001"]
    # The other way round, the old files agree and the new ones differ.
    reverse = design_diff(new, old, "old.yaml", "new.yaml")
    assert [section.group.title for section in reverse.groups] == ["Node node-00000", "Node node-00001"]
    # Without any MAC on either side, the two nodes' changes are one section again.
    portgroup = write(tmp_path, "pg", macs.sub("", fleet(2, portgroup=True)))
    (together,) = design_diff(new, portgroup, "old.yaml", "new.yaml").groups
    assert together.group.title == "2 nodes, node-00000 … node-00001"


def test_a_design_renamed_shows_only_the_files_that_name_it(tmp_path: Path) -> None:
    diff = design_diff(validate_file(CHANGES / "base.yaml"), base_edited(tmp_path, "r", name="renamed"), "a", "b")
    (section,) = diff.groups
    assert section.group.first.status == "unchanged"
    # The host files differ only in their header comment: not shown. The sheets name the design.
    assert [file.path for file in section.files] == ["c1/build-sheet.md"]
    assert section.summarised == ["build-sheet.html"]
    assert [file.path for file in diff.design_diffs] == ["index.md"]
    assert diff.design_summaries == []
    report = render_diff_report([diff])
    assert "- index.md" not in report
    assert "+++ b/index.md" in report
    assert "<summary>Design-wide files that change (1)</summary>" in report


def test_an_added_and_a_removed_node_diff_against_nothing(tmp_path: Path) -> None:
    base, more = validate_file(CHANGES / "base.yaml"), validate_file(CHANGES / "node-added.yaml")
    added = design_diff(base, more, "a", "b").groups[-1]
    removed = design_diff(more, base, "a", "b").groups[-1]
    assert added.group.title == "Node c3"
    assert added.group.first.status == "added"
    assert removed.group.first.status == "removed"
    assert [file.path for file in added.files] == [file.path for file in removed.files]
    assert added.files[-1].path == "c3/build-sheet.md"
    assert added.files[0].lines.startswith("--- /dev/null\n+++ b/c3/libvirt/define.sh\n")
    assert removed.files[0].lines.startswith("--- a/c3/libvirt/define.sh\n+++ /dev/null\n")
    # A design that did not exist: all of its nodes are added, its design files counted from nothing.
    new = design_diff(None, base, "a (absent)", "b")
    assert [section.group.title for section in new.groups] == ["Node c1", "Node c2"]
    assert new.design_summaries == [LineCounts("build-sheet.csv", 0, 9)]
    gone = design_diff(base, None, "a", "b (absent)")
    assert gone.title == "chg"
    assert [section.group.first.status for section in gone.groups] == ["removed", "removed"]
    assert gone.design_summaries == [LineCounts("build-sheet.csv", 9, 0)]


def test_a_diff_of_a_file_without_a_last_newline_still_ends_its_line() -> None:
    # The report closes a code fence after each diff: it must start on a line of its own.
    diff = _unified("c1/x", OutputFile("d/c1/x", "a\nb"), OutputFile("d/c1/x", "a\nc"))
    no_newline = "\\ No newline at end of file\n"
    assert diff.lines == f"--- a/c1/x\n+++ b/c1/x\n@@ -1,2 +1,2 @@\n a\n-b\n{no_newline}+c\n{no_newline}"
    kept = _unified("c1/x", OutputFile("d/c1/x", "a\n"), OutputFile("d/c1/x", "b\n"))
    assert kept.lines == "--- a/c1/x\n+++ b/c1/x\n@@ -1 +1 @@\n-a\n+b\n"


# The cut: reports made of sections whose diffs are as long as a test needs.


def padded(diff: DesignDiff, sizes: list[int], char: str = "x", *, design: int | None = None) -> DesignDiff:
    """`diff` with one section per size (its first section's group), each showing one file diff of
    that many characters, and its design-level diff padded to `design` characters when given."""
    group = diff.groups[0]
    sections = [
        replace(group, files=[FileDiff(f"{group.group.first.node}/pad{i}", "+" + char * size + "\n")], summarised=[])
        for i, size in enumerate(sizes)
    ]
    design_diffs = diff.design_diffs
    if design is not None:
        design_diffs = [FileDiff("index.md", "+" + char * design + "\n")]
    return replace(diff, groups=sections, design_diffs=design_diffs)


@pytest.fixture(scope="module")
def one_change(portgroup_added: tuple[ValidDesign, ValidDesign]) -> DesignDiff:
    return design_diff(*portgroup_added, "old.yaml", "new.yaml")


def shown_full(report: str) -> list[int]:
    """The sections of `padded` whose diff is printed."""
    return [len(match) for match in re.findall(r"^\+(x+)$", report, flags=re.MULTILINE)]


def test_a_report_that_fits_is_whole(one_change: DesignDiff) -> None:
    report = render_diff_report([padded(one_change, [20_000, 20_000])])
    assert shown_full(report) == [20_000, 20_000]
    assert CUT not in report
    assert "left out" not in report


def test_diffs_that_do_not_fit_are_left_out_first_from_the_last_sections(one_change: DesignDiff) -> None:
    diff = padded(one_change, [20_000, 20_000, 20_000, 20_000, 500], design=20_000)
    report = render_diff_report([diff])
    assert github_length(report) <= COMMENT_LIMIT - ROOM_FOR_CI
    # Sections in order: the first ones whole while every later one still fits in short form.
    assert shown_full(report) == [20_000, 20_000, 500]
    # What comes before the sections is the same as in a report that is not cut.
    whole = render_diff_report([padded(one_change, [500])])
    assert report.partition("\n## ")[0] == whole.partition("\n## ")[0]
    assert report.count("that change (1; diffs left out to fit a pull-request comment): pad") == 2
    assert "- index.md changes (diff left out to fit a pull-request comment)" in report
    assert "- build-sheet.csv: 8 line(s) removed, 8 added" in report
    assert headings(report)[1:] == ["4 nodes, node-00000 … node-00003: changed"] * 5
    last = report.rstrip("\n").splitlines()
    assert last[-2] == f"{CUT} the diffs of 3 rendered file(s) are not shown."
    assert last[-1] == HINT
    named = render_diff_report([diff], "ci/full d.txt")
    assert named.rstrip("\n").splitlines()[-1] == "The unified diff of every rendered file is in `ci/full d.txt`."


def test_sections_that_do_not_fit_even_without_diffs_are_cut_and_counted(one_change: DesignDiff) -> None:
    # Sections with no file diff at all (the short form is the whole section), many of them.
    group = replace(one_change.groups[0], files=[], summarised=[])
    diff = replace(one_change, groups=[group] * 150)
    report = render_diff_report([diff])
    assert github_length(report) <= COMMENT_LIMIT - ROOM_FOR_CI
    assert report.startswith("# ovsgen diff\n")
    assert report.count("# Design fleet") == 1
    shown = len(headings(report)) - 1  # less the switch ports
    assert 10 < shown < 150
    last = report.rstrip("\n").splitlines()
    # The cut ones: the rest of the sections, then the design-wide files (not a section).
    cut = 150 - shown
    assert last[-2] == f"{CUT} {cut:,} more section(s) of {cut * 4:,} node(s) are not shown."
    assert last[-1] == HINT
    # The design-wide files come after a design's sections: here they are cut with it.
    assert "Design-wide files" not in report


def test_a_cut_also_counts_the_diffs_left_out_before_it(one_change: DesignDiff) -> None:
    diff = padded(one_change, [30_000, 30_000] + [0] * 150)
    report = render_diff_report([diff])
    assert github_length(report) <= COMMENT_LIMIT - ROOM_FOR_CI
    last = report.rstrip("\n").splitlines()
    shown = len(headings(report)) - 1
    counts = r" ([\d,]+) more section\(s\) of ([\d,]+) node\(s\) and the diffs of (\d+) rendered file\(s\)"
    match = re.fullmatch(re.escape(CUT) + counts + r" are not shown\.", last[-2])
    assert match, last[-2]
    assert int(match[1]) == 152 - shown
    assert int(match[2].replace(",", "")) == 4 * (152 - shown)
    # Even the sections' short forms do not all fit: none shows its diff, and each shown one
    # counts its file among those left out.
    assert shown_full(report) == []
    assert int(match[3]) == report.count("that change (1; diffs left out to fit a pull-request comment)") == shown


def test_many_runs_of_nodes_are_listed_up_to_twenty_in_both_forms(one_change: DesignDiff) -> None:
    change = one_change.groups[0].group.first
    changes = [replace(change, node=f"kvm-{index:03d}") for index in range(60)]
    (odd, even) = sorted(group_changes(changes, [index % 2 for index in range(60)]), key=lambda g: g.first.node)[::-1][
        :2
    ]
    group = even if even.first.node == "kvm-000" else odd
    item = GroupDiff(group, [FileDiff("kvm-000/pad", "+small\n")], [])
    whole = render_diff_report([replace(one_change, groups=[item])])
    listed = ", ".join(f"kvm-{index:03d}" for index in range(0, 40, 2))
    assert f"these 30 nodes: {listed} and 10 more." in whole
    assert "+small" in whole
    big = GroupDiff(group, [FileDiff("kvm-000/pad", "+" + "x" * 70_000 + "\n")], [])
    short = render_diff_report([replace(one_change, groups=[big])])
    assert f"these 30 nodes: {listed} and 10 more." in short
    assert "diffs left out" in short


def test_only_a_csv_that_changes_still_makes_a_design_files_block(one_change: DesignDiff) -> None:
    report = render_diff_report([replace(one_change, design_diffs=[])])
    assert "<summary>Design-wide files that change (1)</summary>" in report
    assert "- build-sheet.csv: 8 line(s) removed, 8 added" in report
    nothing = render_diff_report([replace(one_change, design_diffs=[], design_summaries=[])])
    assert "Design-wide files" not in nothing


@pytest.mark.parametrize(
    ("char", "count", "whole"),
    [
        ("\U00010000", 34_000, False),  # 34,000 characters, 68,000 UTF-16 code units: over the limit
        ("\U0001f600", 27_000, True),  # 54,000 code units: fits
        ("\uffff", 50_000, True),  # the last character of one code unit
    ],
)
def test_the_limit_counts_characters_as_github_does(one_change: DesignDiff, char: str, count: int, whole: bool) -> None:
    report = render_diff_report([padded(one_change, [count], char)])
    assert github_length(report) <= COMMENT_LIMIT - ROOM_FOR_CI
    assert (char * count in report) is whole
    assert ("diffs left out" in report) is not whole


def test_a_report_filled_to_the_last_character_still_leaves_the_room_and_says_what_was_cut(
    one_change: DesignDiff,
) -> None:
    # The first section's short form names its file, one character longer for each step of
    # `size`: the largest size that still shows as many sections fills the report exactly, and
    # the line saying what was cut (of over 100 sections, naming a long --full file) must fit too.
    empty = replace(one_change.groups[0], files=[], summarised=[])
    full_name = "ci/" + "f" * 300

    def report(size: int) -> str:
        first = replace(empty, files=[FileDiff("node-00000/" + "p" * size, "+x\n")])
        return render_diff_report([replace(one_change, groups=[first] + [empty] * 200)], full_name)

    def sections(size: int) -> int:
        return len(headings(report(size)))

    low, high = 0, 2_500
    most = sections(low)
    assert most > sections(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if sections(middle) == most else (low, middle)
    fullest = report(low)
    assert github_length(fullest) <= COMMENT_LIMIT - ROOM_FOR_CI
    assert github_length(report(high)) <= COMMENT_LIMIT - ROOM_FOR_CI
    cut = 201 - (most - 1)
    assert cut >= 100  # counts of three digits and more
    assert f"{cut:,} more section(s) of {cut * 4:,} node(s) and the diffs of 1 rendered file(s)" in fullest
    assert fullest.rstrip("\n").endswith(f"`{full_name}`.")
