"""The shortcuts taken for speed say exactly what the slow, obvious way says.

Escaping done by hand must equal markupsafe's and XML parsers must read it
back; address formats checked by pattern must accept what ipaddress accepts;
the per-design memo must never answer for another design; and a
parallel render must give the same tree, and the same check, as a serial one.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree, html
from markupsafe import escape

from generator.cli import commands as app
from generator.cli.exits import EXIT_OK, EXIT_PROBLEMS
from generator.cli.settings import CheckSettings, RenderSettings
from generator.design import schema_file
from generator.design.validate import validate_file
from generator.render import switch_side as sheet
from generator.render.context import DesignContext
from generator.render.kinds import selected_layouts
from generator.render.sheets import Table
from generator.render.templating import _escape, html_table
from generator.render.wiring import Box, Diagram, _svg
from tests.conftest import REPO

# Text XML can carry: no control characters (the loader refuses them anyway), no surrogates.
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=40))
def test_html_escape_equals_markupsafe(text: str) -> None:
    assert _escape(text) == str(escape(text))


def _parses(parse: object, text: str) -> bool:
    try:
        parse(text)  # type: ignore[operator]
    except ValueError:
        return False
    return True


def _cidr_by_parsing(text: str) -> bool:
    """The obvious definition: one- or two-digit prefix, and ipaddress accepts the interface."""
    return re.match(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$", text) is not None and _parses(ipaddress.IPv4Interface, text)


# Numbers around the edges (leading zeros, 255/256, 32/33), non-ASCII digits, stray separators.
NUMBER = st.sampled_from(["0", "00", "01", "1", "9", "10", "99", "100", "199", "249", "255", "256", "300", "٣", "1000"])
ADDRESS_LIKE = st.one_of(
    st.builds(
        lambda parts, prefix: ".".join(parts) + prefix,
        st.lists(NUMBER, min_size=3, max_size=5),
        st.sampled_from(["", "/0", "/8", "/09", "/24", "/32", "/33", "/024", "/", "/2 ", "\n", "/24\n"]),
    ),
    st.text(alphabet="0123456789./ \n", max_size=20),
)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(ADDRESS_LIKE)
@example("10.0.0.1/24")
@example("255.255.255.255/32")
@example("0.0.0.0/0")
@example("1.2.3.4/09")
@example("01.2.3.4/24")
@example("1.2.3.4/024")
@example("256.1.1.1")
@example("1.2.3.4\n")
def test_address_patterns_accept_what_ipaddress_accepts(text: str) -> None:
    assert schema_file.is_ipv4(text) == _parses(ipaddress.IPv4Address, text)
    assert schema_file.is_ipv4_cidr(text) == _cidr_by_parsing(text)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.tuples(XML_TEXT, XML_TEXT), min_size=1, max_size=4), XML_TEXT)
def test_html_tables_read_back_cell_for_cell(rows: list[tuple[str, str]], header: str) -> None:
    table = html.fragment_fromstring(str(html_table(Table((header, "b"), tuple(rows)))))
    assert [th.text_content() for th in table.iter("th")] == [header, "b"]
    assert [[td.text_content() for td in tr.iter("td")] for tr in table.iter("tr")][1:] == [list(r) for r in rows]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=4), max_size=4), st.lists(st.text(max_size=8)))
def test_html_table_equals_escaping_each_cell(rows: list[list[str]], headers: list[str]) -> None:
    """Rows are escaped in one pass, and one by one when a cell holds the separator (NUL)."""

    def cells(tag: str, texts: list[str]) -> str:
        return "".join(f"<{tag}>{escape(text)}</{tag}>" for text in texts)

    body = "".join(f"<tr>{cells('td', row)}</tr>\n" for row in rows)
    expected = f"<table>\n<thead><tr>{cells('th', headers)}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"
    table = Table(tuple(headers), tuple(tuple(row) for row in rows))
    assert str(html_table(table)) == expected
    assert str(html_table(Table(("a\0b", "<"), (("\0", "&"),)))) == (
        "<table>\n<thead><tr><th>a\0b</th><th>&lt;</th></tr></thead>\n<tbody>\n"
        "<tr><td>\0</td><td>&amp;</td></tr>\n</tbody>\n</table>"
    )


@settings(max_examples=100, deadline=None, derandomize=True)
@given(XML_TEXT, st.lists(st.tuples(XML_TEXT, XML_TEXT), min_size=1, max_size=3))
def test_svg_text_is_escaped_and_reads_back(title: str, lines: list[tuple[str, str]]) -> None:
    boxes = tuple(Box(16.0, 48.0 * index, 100.0, line, "nic") for index, line in enumerate(lines))
    links = tuple(itertools.pairwise(boxes))
    root = etree.fromstring(_svg(Diagram(title, 300.0, 200.0, boxes, links)).encode())
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == [title, *[text for line in lines for text in line]]
    assert root.findtext("{http://www.w3.org/2000/svg}title") == title


def test_each_design_context_answers_for_its_own_design() -> None:
    """What each bridge carries is worked out once per design; two designs' contexts side by
    side each keep their own answers, and their nodes' sheets read them."""
    first = validate_file(REPO / "designs" / "two-tier-cluster.yaml")
    second = validate_file(REPO / "designs" / "lacp-storage.yaml")
    contexts = [(valid, DesignContext.of(valid.design)) for valid in (first, second)]
    for valid, shared in (*contexts, *contexts):
        design = valid.design
        assert set(shared.carried) == {bridge.name for bridge in design.bridges}
        for bridge in design.bridges:
            assert shared.carried[bridge.name] == sheet.carried_on(design, bridge.name)
        assert shared.node(valid.layouts[0], "n").sheet.carried is shared.carried


def _tree(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_ino, path.stat().st_mode)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every design counts as large: its nodes render in worker processes."""
    monkeypatch.setattr("generator.speed.pool.ITEMS_PER_WORKER", 1)


def _render(design: Path, out: Path, jobs: int) -> None:
    assert app.run_render(RenderSettings(designs=(design,), out=out, jobs=jobs)) == EXIT_OK


def test_parallel_render_writes_what_a_serial_one_does_and_touches_only_changes(tmp_path: Path, parallel: None) -> None:
    design = REPO / "designs" / "two-tier-cluster.yaml"
    _render(design, tmp_path / "serial", jobs=1)
    _render(design, tmp_path / "parallel", jobs=2)
    serial, fresh = _tree(tmp_path / "serial"), _tree(tmp_path / "parallel")
    assert {name: (data, mode) for name, (data, _, mode) in fresh.items()} == {
        name: (data, mode) for name, (data, _, mode) in serial.items()
    }
    changed = tmp_path / design.name  # same file name: the headers stay the same
    changed.write_text(design.read_text().replace("address: 10.20.0.13/24", "address: 10.20.0.23/24"))
    _render(changed, tmp_path / "parallel", jobs=2)
    after = _tree(tmp_path / "parallel")
    moved = {name for name in after if after[name] != fresh.get(name)}
    assert "two-tier-cluster/kvm-a-3/network-scripts/ifcfg-br0" in moved
    assert not any(name.startswith("two-tier-cluster/kvm-a-1/") for name in moved)  # same inodes: untouched


def test_parallel_check_finds_the_same_differences(
    tmp_path: Path, parallel: None, capsys: pytest.CaptureFixture[str]
) -> None:
    design = REPO / "designs" / "two-tier-cluster.yaml"
    golden = tmp_path / "golden"
    _render(design, golden, jobs=1)
    (golden / "two-tier-cluster/kvm-a-2/ovs/apply.sh").write_text("edited\n")
    (golden / "two-tier-cluster/kvm-a-2/stale.txt").write_text("left over\n")
    results = []
    for jobs in (1, 2):
        code = app.run_check(CheckSettings(designs=(design,), golden=golden, jobs=jobs))
        results.append((code, capsys.readouterr().out))
    assert results[0] == results[1]
    code, diff = results[0]
    assert code == EXIT_PROBLEMS
    assert "+++ b/two-tier-cluster/kvm-a-2/ovs/apply.sh" in diff
    assert "--- a/two-tier-cluster/kvm-a-2/stale.txt" in diff


def test_a_worker_that_fails_leaves_out_as_it_was(
    tmp_path: Path, parallel: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = REPO / "designs" / "two-tier-cluster.yaml"
    out = tmp_path / "out"
    _render(design, out, jobs=1)
    before = _tree(out)
    import generator.render.kinds as render_module

    def failing(*args: object) -> object:
        raise RuntimeError("renderer failed in a worker")

    kinds = tuple(
        render_module.Kind(k.name, failing, k.node_paths, k.render_design, k.design_paths) if k.name == "ovs" else k
        for k in render_module.REGISTRY
    )
    monkeypatch.setattr(render_module, "REGISTRY", kinds)
    changed = tmp_path / design.name
    changed.write_text(design.read_text().replace("address: 10.20.0.13/24", "address: 10.20.0.23/24"))
    with pytest.raises(RuntimeError, match="in a worker"):
        app.run_render(RenderSettings(designs=(changed,), out=out, jobs=2))
    assert _tree(out) == before
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".out.ovsgen-")]


def test_a_node_looked_up_by_name_is_the_one_a_scan_finds() -> None:
    valid = validate_file(REPO / "designs" / "two-tier-cluster.yaml")
    names = [layout.node.name for layout in valid.layouts]
    assert len(names) >= 3
    for name in [*names, "absent"]:
        assert valid.layout(name) is next((layout for layout in valid.layouts if layout.node.name == name), None)
    # selected_layouts keeps the design's order, whatever order the names come in, each node once
    chosen = [names[-1], "absent", names[0], names[-1]]
    assert [layout.node.name for layout in selected_layouts(valid, chosen)] == [names[0], names[-1]]
    assert selected_layouts(valid) == list(valid.layouts)
