"""Pull-request review at fleet scale: `ovsgen diff` fits a comment, plan.md groups nodes,
`--full FILE`, a missing `--base-ref`, and output that does not depend on the design's file name.

Every test runs the installed command (`python -m generator`) in a subprocess, with a private
template cache, and reads its Markdown as GitHub does (cmark-gfm).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.changes.node_changes import plan_designs
from generator.changes.node_groups import group_changes
from generator.design.validate import validate_file
from tests.conftest import REPO, require_tool, run

COMMENT_LIMIT = 65_536
NODES = 300
CHANGES = REPO / "tests" / "designs" / "changes"


def cmark() -> Any:
    try:
        import cmarkgfm  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("cmarkgfm is not installed (the test extra lists it)")
        pytest.skip("cmarkgfm is not installed")
    return cmarkgfm


def ovsgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OVSGEN_CACHE_DIR": str(cwd / ".cache")}
    return run([sys.executable, "-m", "generator", *args], cwd=cwd, env=env, timeout=240)


def fleet(nodes: int, *, portgroup: bool = False, renumbered: bool = False) -> str:
    """A design of `nodes` nodes, each cabled to its own switch ports; `portgroup` adds pg110
    (VLAN 110) to the tenants network, `renumbered` gives every node another address."""
    lines = [
        "version: 1",
        "name: fleet",
        "host: {bridge: br0, gateway: 10.0.0.1}",
        "bridges:",
        "  br0: {uplinks: 2x10G active-backup}",
        "  br1: {uplinks: 2x25G balance-slb}",
        "networks:",
        "  - name: tenants",
        "    bridge: br1",
        "    portgroups:",
        "      - {name: web, vlan: 100, default: true}",
        *(["      - {name: pg110, vlan: 110}"] if portgroup else []),
        "nodes:",
    ]
    for index in range(nodes):
        a, b = divmod(index, 200)
        mac = f"0c:c4:7a:{index >> 8:02x}:{index & 255:02x}"
        host = index + 2 + (1000 if renumbered else 0)
        lines += [
            f"  - name: node-{index:05d}",
            "    nics:",
            f'      eth0: {{speed: 10G, mac: "{mac}:00", switch: "tor-{a}a Eth1/{b + 1}"}}',
            f'      eth1: {{speed: 10G, mac: "{mac}:01", switch: "tor-{a}b Eth1/{b + 1}"}}',
            f'      eth2: {{speed: 25G, mac: "{mac}:02", switch: "leaf-{a}a Eth1/{b + 1}"}}',
            f'      eth3: {{speed: 25G, mac: "{mac}:03", switch: "leaf-{a}b Eth1/{b + 1}"}}',
            f"    address: 10.0.{host // 250}.{host % 250 + 2}/16",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def portgroup_added(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding old.yaml and new.yaml: portgroup pg110 added on every node."""
    folder = tmp_path_factory.mktemp("fleet")
    (folder / "old.yaml").write_text(fleet(NODES))
    (folder / "new.yaml").write_text(fleet(NODES, portgroup=True))
    return folder


def as_html(markdown: str) -> str:
    """The Markdown as GitHub shows it; raw HTML (the <details> folds) kept."""
    cmarkgfm = cmark()
    return str(cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE))


def section_headings(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)


def test_identical_changes_of_many_nodes_are_one_section_under_the_comment_limit(portgroup_added: Path) -> None:
    result = ovsgen("diff", "old.yaml", "new.yaml", cwd=portgroup_added)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert len(report) < COMMENT_LIMIT
    last = f"node-{NODES - 1:05d}"
    assert section_headings(report) == ["Switch ports (network team)", f"300 nodes, node-00000 … {last}: changed"]
    assert f"The same changes on each of these 300 nodes: node-00000 … {last}." in report
    assert "- network tenants portgroups changed (redefine)" in report
    assert "- the port of eth2 on each of the 300 nodes: allow VLAN 110 (switch first)" in report
    # The first node's diffs stand for all; the HTML page and the diagram are said, not printed.
    assert "+++ b/node-00000/libvirt/tenants.xml" in report
    assert "+++ b/node-00001/" not in report
    assert "build-sheet.html, wiring.svg change as build-sheet.md does" in report
    assert "+++ b/node-00000/build-sheet.html" not in report
    # The network team's summary names the first ports and says how many more.
    assert "and 590 more (`ovsgen plan` lists every one): allow VLAN 110" in report
    html = as_html(report)
    assert html.count("<details>") == html.count("</details>") == 2
    assert "<h2>300 nodes, node-00000 … node-00299: changed</h2>" in html


def test_full_writes_every_rendered_files_diff(portgroup_added: Path) -> None:
    full = portgroup_added / "artifacts" / "full.diff"
    full.parent.mkdir(exist_ok=True)
    result = ovsgen("diff", "--full", str(full), "old.yaml", "new.yaml", cwd=portgroup_added)
    assert result.returncode == 0, result.stderr
    text = full.read_text()
    for kind in ("libvirt/tenants.xml", "build-sheet.md", "build-sheet.html", "wiring.svg"):
        assert len(re.findall(rf"^\+\+\+ b/fleet/node-\d{{5}}/{re.escape(kind)}$", text, flags=re.MULTILINE)) == NODES
    assert "+++ b/fleet/build-sheet.csv" in text
    # Written beside FILE and renamed into place: no temporary file is left.
    assert sorted(path.name for path in full.parent.iterdir()) == ["full.diff"]
    assert f"wrote the full diff to {full}" in result.stderr


def test_a_report_of_distinct_changes_on_every_node_is_cut_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(fleet(NODES))
    (tmp_path / "new.yaml").write_text(fleet(NODES, renumbered=True))
    result = ovsgen("diff", "old.yaml", "new.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert 60_000 < len(report) < COMMENT_LIMIT
    last = report.rstrip("\n").splitlines()
    assert last[-2].startswith("**Cut to fit a pull-request comment (65,536 characters):** ")
    assert re.fullmatch(r".* \d+ more section\(s\) of \d+ node\(s\).* are not shown\.", last[-2])
    assert last[-1] == (
        "`ovsgen diff --full FILE ...` writes the unified diff of every rendered file to FILE (for a CI artifact)."
    )
    html = as_html(report)
    assert html.count("<details>") == html.count("</details>")
    assert html.count("<pre>") == html.count("</pre>")  # no code block is cut open


def test_plan_md_groups_the_nodes_and_every_node_keeps_its_scripts(portgroup_added: Path) -> None:
    out = portgroup_added / "plan"
    result = ovsgen("plan", "old.yaml", "new.yaml", "-o", str(out), cwd=portgroup_added)
    assert result.returncode == 0, result.stderr
    summary = (out / "plan.md").read_text()
    assert section_headings(summary) == ["Switch ports (network team)", "300 nodes, node-00000 … node-00299: changed"]
    assert len(summary) < 40_000  # the network team's summary names all 600 ports, once
    assert "node-00299 eth3 (leaf-1b Eth1/100)" in summary
    assert len(list(out.glob("node-*/libvirt-change.sh"))) == NODES


@pytest.mark.parametrize("target", ["old.yaml", "folder"])
def test_full_is_never_an_input_design_nor_a_folder(portgroup_added: Path, target: str) -> None:
    (portgroup_added / "folder").mkdir(exist_ok=True)
    before = (portgroup_added / "old.yaml").read_bytes()
    result = ovsgen("diff", "--full", target, "old.yaml", "new.yaml", cwd=portgroup_added)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = "--full old.yaml: this is old.yaml, which the command reads" if target == "old.yaml" else "is a directory"
    assert message in result.stderr
    assert result.stdout == ""
    assert (portgroup_added / "old.yaml").read_bytes() == before


def test_full_in_a_missing_folder_is_a_clear_error_and_nothing_is_printed(portgroup_added: Path) -> None:
    result = ovsgen("diff", "--full", "no-such-folder/full.diff", "old.yaml", "new.yaml", cwd=portgroup_added)
    assert result.returncode == 1
    assert result.stderr.rstrip().endswith("ovsgen: No such file or directory: no-such-folder/full.diff")
    assert result.stdout == ""


def git(repo: Path, *args: str) -> None:
    require_tool("git")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    result = run(["git", *args], cwd=repo, env={**env, "GIT_COMMITTER_EMAIL": "t@e"})
    assert result.returncode == 0, result.stderr


def test_a_base_ref_missing_from_the_checkout_is_a_usage_error_that_says_how_to_fetch_it(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(fleet(2))
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    for ref, branch in (("nosuchref", "nosuchref"), ("origin/main", "main")):
        result = ovsgen("diff", "--base-ref", ref, "d.yaml", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        assert (
            f"base revision {ref} is not in this checkout; in CI fetch it first: git fetch origin {branch} "
            "--depth=1 (or actions/checkout with fetch-depth: 0)"
        ) in " ".join(result.stderr.split())
    # A ref that exists, and a design new since it: all of its nodes are added.
    (tmp_path / "new.yaml").write_text(fleet(2).replace("name: fleet", "name: fresh"))
    result = ovsgen("diff", "--base-ref", "main", "d.yaml", "new.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "main:new.yaml (absent) -> new.yaml" in result.stdout
    # Their files differ by more than the node's name (addresses, MACs): a section each.
    assert "## Node node-00000: added" in result.stdout
    assert "## Node node-00001: added" in result.stdout


def test_a_base_ref_outside_a_git_checkout_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(fleet(2))
    env = {**os.environ, "OVSGEN_CACHE_DIR": "", "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    result = run([sys.executable, "-m", "generator", "diff", "--base-ref", "main", "d.yaml"], cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "is not in a git checkout" in result.stderr
    assert "Traceback" not in result.stderr


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("design", ["ahv-host.yaml", "lacp-storage.yaml"])
def test_renaming_or_moving_a_design_file_changes_no_rendered_file(tmp_path: Path, design: str) -> None:
    moved = tmp_path / "elsewhere" / "deeper" / "renamed-design.yaml"
    moved.parent.mkdir(parents=True)
    shutil.copy(REPO / "designs" / design, moved)
    first = ovsgen("render", str(REPO / "designs" / design), "-o", str(tmp_path / "one"), cwd=tmp_path)
    second = ovsgen("render", str(moved), "-o", str(tmp_path / "two"), cwd=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    rendered, again = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert rendered  # a render that wrote nothing would compare equal too
    assert sorted(again) == sorted(rendered)
    assert [path for path, text in rendered.items() if again[path] != text] == []
    assert not any(b".yaml" in text.split(b"\n", 2)[1] for text in rendered.values() if b"\n" in text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=40))
def test_groups_partition_the_nodes_in_runs_of_design_order(keys: list[int]) -> None:
    nodes = [SimpleNamespace(node=f"n{index:02d}") for index in range(len(keys))]
    groups = group_changes(nodes, keys)  # type: ignore[arg-type]  # grouping reads only .node
    assert sorted(change.node for group in groups for change in group.changes) == [n.node for n in nodes]
    assert [keys[int(group.first.node[1:])] for group in groups] == list(dict.fromkeys(keys))
    for group in groups:
        indices = [int(change.node[1:]) for change in group.changes]
        assert len({keys[index] for index in indices}) == 1
        # The runs name exactly the group's nodes, each run a stretch of consecutive nodes.
        covered = [i for first, last in group.runs for i in range(int(first[1:]), int(last[1:]) + 1)]
        assert covered == indices
        assert all(int(b[0][1:]) > int(a[1][1:]) + 1 for a, b in zip(group.runs, group.runs[1:], strict=False))
        assert group.node_list().count("…") == sum(first != last for first, last in group.runs)
        for limit in (1, 2, 3):
            named = [i for first, last in group.runs[:limit] for i in range(int(first[1:]), int(last[1:]) + 1)]
            text = group.node_list(limit)
            more = f" and {group.size - len(named):,} more" if limit < len(group.runs) else ""
            assert text == ", ".join(run_text for run_text in group.node_list().split(", ")[:limit]) + more


def test_a_groups_title_and_node_list_name_runs_of_consecutive_nodes() -> None:
    nodes = [SimpleNamespace(node=f"kvm-{index:02d}") for index in range(12)]
    first, second = group_changes(nodes, [0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0])  # type: ignore[arg-type]
    assert first.size == 8
    assert first.title == "8 nodes, kvm-00 … kvm-02, kvm-04, kvm-06 … kvm-07, …"
    assert first.node_list() == "kvm-00 … kvm-02, kvm-04, kvm-06 … kvm-07, kvm-10 … kvm-11"
    assert first.node_list(1) == "kvm-00 … kvm-02 and 5 more"
    assert first.node_list(3) == "kvm-00 … kvm-02, kvm-04, kvm-06 … kvm-07 and 2 more"
    assert first.node_list(4) == first.node_list(20) == first.node_list()
    assert second.title == "4 nodes, kvm-03, kvm-05, kvm-08 … kvm-09"  # three runs: no "…"
    assert second.node_list(2) == "kvm-03, kvm-05 and 2 more"
    (alone,) = group_changes(nodes[:1], [0])  # type: ignore[arg-type]
    assert alone.title == "Node kvm-00"
    many = [SimpleNamespace(node=f"n{index:04d}") for index in range(1_200)]
    (everyone,) = group_changes(many, [0] * 1_200)  # type: ignore[arg-type]
    assert everyone.title == "1,200 nodes, n0000 … n1199"
    halves = group_changes(many, [index % 2 for index in range(1_200)])  # type: ignore[arg-type]
    assert halves[0].node_list(1) == "n0000 and 599 more"
    assert halves[1].node_list(2) == "n0001, n0003 and 598 more"


def test_nodes_with_the_same_change_are_grouped_without_keys() -> None:
    base, vlan10 = (validate_file(CHANGES / f"{name}.yaml") for name in ("base", "host-vlan-10"))
    (both,) = group_changes(plan_designs(base, vlan10))
    assert both.title == "2 nodes, c1 … c2"
    assert [change.node for change in both.changes] == ["c1", "c2"]
    grown = group_changes(plan_designs(base, validate_file(CHANGES / "node-added.yaml")))
    assert [(group.title, group.first.status) for group in grown] == [
        ("2 nodes, c1 … c2", "unchanged"),
        ("Node c3", "added"),
    ]
