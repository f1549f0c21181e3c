"""Every output format is an attack surface: hostile values and file names through every sheet.

Designs come from pull requests; their sheets are read in browsers (build-sheet.html,
wiring.svg), on GitHub (build-sheet.md, index.md, plan.md, the diff.md PR comment) and in
spreadsheets (build-sheet.csv). The tests render hostile labels and file names that pass
validation and read every output back with a real consumer: lxml for XML and HTML, GitHub's own
Markdown parser (cmark-gfm, through cmarkgfm), Python's csv module, and headless Chromium,
which must not run anything a value or a file name smuggled in.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
import unicodedata
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from generator.design.loader import load_design
from generator.design.scalars import MAX_NUMBER_LENGTH
from generator.design.validate import validate_file
from generator.errors import DesignInvalid
from generator.render.context import node_context
from generator.render.kinds import render_design
from generator.render.sheets import spreadsheet_safe
from generator.render.templating import comment_safe, markdown_code, markdown_fence, markdown_text
from generator.render.wiring import render_wiring_svg
from tests.conftest import REPO, require_tool, run

BASE = json.loads(json.dumps(__import__("yaml").safe_load((REPO / "designs" / "ahv-host.yaml").read_text())))
SETTINGS = settings(
    derandomize=True, max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
HOSTILE_NAME = "x--><img src=x onerror=document.title=1337>.yaml"
INJECTIONS = (
    "<img src=x onerror=document.title=1337>",
    "<script>document.title=1337</script>",
    "</title><img src=x onerror=document.title=1337>",
    "]]><img src=x onerror=document.title=1337>",
    "--><svg onload=document.title=1337>",
    "</text></svg><img src=x onerror=document.title=1337>",
    "<iframe src=javascript:document.title=1337>",
    "&lt;img src=x onerror=document.title=1337&gt;",
    "<style>*{display:none}</style>",
    "<!--",
)
# Characters and pieces that mean something in Markdown, HTML, XML, CSV or a spreadsheet.
SNIPPETS = (
    *"<>&|*_[]()!#~-+=@:;.,/%{}^ ",
    "<!--",
    "-->",
    "]]>",
    "&amp;",
    "&#60;",
    "<img src=x onerror=alert(1)>",
    "[a](http://x.example)",
    "![i](x.png)",
    "http://x.example",
    "www.x.example",
    "_e_",
    "**b**",
    "~~s~~",
    "1. ",
    "- ",
    "# ",
    "> ",
    "    ",
    "=SUM(A1)",
    "\u00e9",
    "\u05d0",
    "\U0001f600",
    "\uff1d",
)
# What the loader refuses in any value besides controls and format (Cf) characters.
INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0")


def _is_label_text(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] != "C" and category not in ("Zl", "Zp") and char not in INVISIBLE and char not in "\"'`$\\"


def _shorten(text: str) -> str:
    return text[:64] if text.strip() or not text else "x"


LABEL_CHARS = st.characters(codec="utf-8").filter(_is_label_text)
LABELS = (
    st.lists(st.one_of(st.sampled_from(SNIPPETS), LABEL_CHARS), min_size=1, max_size=12)
    .map("".join)
    .map(_shorten)
    .filter(lambda label: "@" not in label)  # e-mail autolinks: see test_markdown_limits_are_known
)
FILE_NAMES = (
    st.lists(st.one_of(st.sampled_from(SNIPPETS), LABEL_CHARS), min_size=1, max_size=8)
    .map(lambda parts: "".join(parts).replace("/", "%")[:40] + ".yaml")
    .filter(lambda name: len(name.encode()) < 200)
)


@pytest.fixture(scope="module")
def cmark() -> ModuleType:
    """GitHub's Markdown parser (cmark-gfm); like require_tool, a failure in CI when missing."""
    try:
        import cmarkgfm  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        message = "cmarkgfm is not installed (pip install cmarkgfm; the test extra lists it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return cmarkgfm  # type: ignore[no-any-return,unused-ignore]


def github_html(cmark: ModuleType, markdown: str) -> html.HtmlElement:
    """The Markdown as GitHub parses it, raw HTML let through (so that any would be seen)."""
    options = cmark.cmark.Options.CMARK_OPT_UNSAFE
    rendered = cmark.github_flavored_markdown_to_html(markdown, options=options)
    return html.fragment_fromstring(rendered or "<p></p>", create_parent="div")


def design_with(labels: list[str], folder: Path, file_name: str) -> Path:
    """ahv-host with `labels` on its switch ports: the first two on the cabled NICs, the
    rest on extra unused NICs (shown in the NIC table). Written as JSON, which is YAML."""
    data: dict[str, Any] = json.loads(json.dumps(BASE))
    nics = data["nodes"][0]["nics"]
    for index, label in enumerate(labels):
        name = f"eth{2 + index}" if index < 2 else f"eth{10 + index}"
        entry = nics.get(name) if isinstance(nics.get(name), dict) else {"speed": "1G"}
        nics[name] = {**entry, "switch": label}
    path = folder / file_name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def rendered(path: Path) -> dict[str, str]:
    return {file.path.partition("/")[2]: file.text for file in render_design(validate_file(path))}


# --- Markdown ----------------------------------------------------------------------------------


MARKDOWN_TAGS = {"div", "p", "table", "thead", "tbody", "tr", "th", "td", "ul", "li"}


@given(st.lists(st.one_of(st.sampled_from(SNIPPETS), LABEL_CHARS), min_size=1, max_size=16).map("".join))
@example("12. port")  # an ordered-list number: escaped as 12\. (digits are no syntax)
@example("3)")
@example("- 4. x")
@example("+1")
@settings(derandomize=True, max_examples=300, deadline=None)
def test_a_markdown_value_shows_as_its_own_characters(cmark: ModuleType, value: str) -> None:
    """In a table cell, a list item and a paragraph, GitHub shows the value's characters and no
    markup: no raw HTML, link, image, emphasis, code span, heading, list or extra cell."""
    escaped = markdown_text(value)
    page = f"| head |\n|---|\n| {escaped} |\n\n- {escaped}\n\nparagraph\n\n{escaped}\n"
    tree = github_html(cmark, page)
    tags = {element.tag for element in tree.iter() if isinstance(element.tag, str)}
    links = [a for a in tree.iter("a") if a.get("href", "").startswith("mailto:")]
    assert tags - {"a"} <= MARKDOWN_TAGS, (escaped, tags)
    assert len(links) == len(list(tree.iter("a"))), escaped
    assert [cell.text_content() for cell in tree.iter("td")] == [value]
    assert [item.text_content() for item in tree.iter("li")] == [value]
    assert [p.text_content() for p in tree.iter("p")][-1] == value


@pytest.mark.parametrize(
    "value",
    ["tor-a Te1/0/1", "NTNX-Local-Network", "10.59.31.77/23", "leaf-2 Eth1/1", "bond_mode: balance-tcp", "1G", "—"],
)
def test_ordinary_values_stay_byte_identical_in_markdown(value: str) -> None:
    assert markdown_text(value) == value


def test_markdown_limits_are_known(cmark: ModuleType) -> None:
    """GitHub links e-mail addresses whatever the escaping (cmark-gfm finds them after parsing);
    the link shows the address's own characters. URLs and www. names are not linked."""
    tree = github_html(cmark, markdown_text("ops@tor-a.example http://x.example www.x.example"))
    assert [a.get("href") for a in tree.iter("a")] == ["mailto:ops@tor-a.example"]
    assert [p.text_content() for p in tree.iter("p")] == ["ops@tor-a.example http://x.example www.x.example"]


@given(st.text(alphabet=st.sampled_from("`a |<*"), min_size=1, max_size=20))
@settings(derandomize=True, max_examples=100, deadline=None)
def test_code_spans_and_fences_hold_any_backticks(cmark: ModuleType, text: str) -> None:
    code = github_html(cmark, f"1. {markdown_code(text)}\n")
    assert [c.text for c in code.iter("code")] == [text]
    block = "\n".join(f" {text}" for _ in range(2)) + "\n"  # diff context lines start with a space
    fence = markdown_fence(block)
    tree = github_html(cmark, f"{fence}diff\n{block}{fence}\n\nafter\n")
    assert [c.text for c in tree.iter("code")] == [block]
    assert [p.text for p in tree.iter("p")] == ["after"]


@pytest.mark.parametrize("text", [" X ", " \u00a0 ", "  ", " a", "a ", "`a` "])
def test_code_spans_keep_the_spaces_at_their_ends(cmark: ModuleType, text: str) -> None:
    """GitHub drops one space at each end of a code span whose ends are both spaces, unless it is
    all spaces; a no-break space or a letter inside is no reason to lose them."""
    code = github_html(cmark, f"1. {markdown_code(text)}\n")
    assert [c.text for c in code.iter("code")] == [text]


@pytest.mark.parametrize(
    ("text", "fence"),
    [("plain\n", "```"), ("x `` y\n", "```"), ("```\n", "````"), ("````\nx ``\n", "`````")],
)
def test_a_fence_is_the_shortest_that_holds_the_text(cmark: ModuleType, text: str, fence: str) -> None:
    assert markdown_fence(text) == fence
    tree = github_html(cmark, f"{fence}\n{text}{fence}\n\nafter\n")
    assert [c.text for c in tree.iter("code")] == [text]
    assert [p.text for p in tree.iter("p")] == ["after"]


# --- file names in comments --------------------------------------------------------------------


@given(st.text(max_size=24))
@settings(derandomize=True, max_examples=200, deadline=None)
def test_a_file_name_in_a_comment_reads_back_and_ends_no_comment(name: str) -> None:
    """Letters, digits and plain punctuation stay; everything else is %-encoded (UTF-8), `%`
    included, so the name reads back; no `--` (which ends an XML or HTML comment) remains."""
    shown = comment_safe(name)
    assert unquote(shown) == name
    assert "--" not in shown
    assert all(char.isalnum() or char in "._+@=,~ -%" for char in shown), shown


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("rack-a.yaml", "rack-a.yaml"),
        ("ré seau_1+2@x=y,~z.yaml", "ré seau_1+2@x=y,~z.yaml"),
        ("rack--a.yaml", "rack-%2Da.yaml"),
        ("a/b<c>$(d)%\n.yaml", "a%2Fb%3Cc%3E%24%28d%29%25%0A.yaml"),
        ("\u202egnp.yaml", "%E2%80%AEgnp.yaml"),
        ("caf\udce9.yaml", "caf%ED%B3%A9.yaml"),  # a byte that was not UTF-8 (surrogateescape)
    ],
)
def test_file_names_in_comments(name: str, shown: str) -> None:
    assert comment_safe(name) == shown


@pytest.mark.parametrize(("header", "body"), [("rack--a", "rack- -a"), ("a---b-", "a- - -b-"), ("--", "- -")])
def test_the_svg_comment_is_well_formed_whatever_it_is_given(header: str, body: str) -> None:
    valid = validate_file(REPO / "designs" / "ahv-host.yaml")
    svg = render_wiring_svg(node_context(valid.design, valid.layouts[0], "ahv-a-1").sheet, header)
    root = etree.fromstring(svg.encode())  # raises on a comment holding `--`
    comments = [node for node in root.itersiblings(preceding=True) if isinstance(node, etree._Comment)]
    assert [comment.text for comment in comments] == [f" {body} "]


# --- every format, rendered from hostile designs ------------------------------------------------


def check_svg(svg: str, labels: list[str]) -> None:
    root = etree.fromstring(svg.encode())  # raises on anything ill-formed
    assert {element.tag for element in root.iter() if isinstance(element.tag, str)} <= {
        f"{{http://www.w3.org/2000/svg}}{tag}" for tag in ("svg", "title", "text", "path", "g", "rect")
    }
    texts = [text.text for text in root.iter("{http://www.w3.org/2000/svg}text")]
    assert all(label in texts for label in labels[:2])
    comments = [node for node in root.itersiblings(preceding=True) if isinstance(node, etree._Comment)]
    assert len(comments) == 1
    assert comments[0].text.startswith(" Generated by ovsgen from ")


def check_html(page: str, labels: list[str]) -> None:
    document = html.document_fromstring(page)
    allowed = MARKDOWN_TAGS | {"html", "head", "meta", "title", "style", "body", "h1", "h2", "section", "ol"}
    allowed |= {"code", "br", "svg", "text", "path", "g", "rect"}
    tags = {element.tag for element in document.iter() if isinstance(element.tag, str)}
    assert tags <= allowed, tags - allowed
    assert not [name for element in document.iter() for name in element.attrib if name.lower().startswith("on")]
    cells = [cell.text_content() for cell in document.iter("td")]
    assert all(label in cells for label in labels)
    comments = [node for node in document.itersiblings(preceding=True) if isinstance(node, etree._Comment)]
    comments += document.iter(etree.Comment)
    assert len(comments) == 2
    assert all(c.text.startswith(" Generated by ovsgen from ") for c in comments)


def check_markdown(cmark: ModuleType, text: str, labels: list[str], node: str) -> None:
    tree = github_html(cmark, text)
    allowed = MARKDOWN_TAGS | {"h1", "h2", "ol", "code", "br", "img", "a"}
    tags = {element.tag for element in tree.iter() if isinstance(element.tag, str)}
    assert tags <= allowed, tags - allowed
    assert [img.get("src") for img in tree.iter("img")] in ([], ["wiring.svg"])
    assert {a.get("href") for a in tree.iter("a")} <= {f"{node}/build-sheet.md", f"{node}/build-sheet.html"}
    cells = [cell.text_content() for cell in tree.iter("td")]
    assert all(label in cells for label in labels)
    assert len(list(tree.iter(etree.Comment))) == 1  # the header, whole


def check_csv(text: str, labels: list[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert all(not cell.startswith(FORMULA_START) for row in rows for cell in row.values())
    shown = [row["switch_port"] for row in rows]
    assert shown == [("'" + label if label.lstrip(" ").startswith(FORMULA_START) else label) for label in labels[:2]]


@given(labels=st.lists(LABELS, min_size=2, max_size=4), file_name=FILE_NAMES)
@SETTINGS
def test_hostile_labels_and_file_names_reach_no_format_as_markup(
    cmark: ModuleType, labels: list[str], file_name: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = rendered(design_with(labels, Path(folder), file_name))
    check_svg(files["ahv-a-1/wiring.svg"], labels)
    check_html(files["ahv-a-1/build-sheet.html"], labels)
    check_markdown(cmark, files["ahv-a-1/build-sheet.md"], labels, "ahv-a-1")
    check_markdown(cmark, files["index.md"], [], "ahv-a-1")
    check_csv(files["build-sheet.csv"], labels)


# --- CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(http://x.example,click)", "'=HYPERLINK(http://x.example,click)"),
        ("+1+cmd|/C calc!A0", "'+1+cmd|/C calc!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("  =1+1", "'  =1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("tor-a Te1/0/1", "tor-a Te1/0/1"),
        ("10.59.31.77/23", "10.59.31.77/23"),
        ("a=b", "a=b"),
        ("X-1/1", "X-1/1"),
        ("\u00a0=1", "'\u00a0=1"),  # any white space is skipped, a no-break space too
    ],
)
def test_spreadsheet_cells_never_start_a_formula(value: str, cell: str) -> None:
    assert spreadsheet_safe(value) == cell


def test_csv_of_formula_labels_reads_back_as_text(tmp_path: Path) -> None:
    labels = ["=cmd|/C calc!A0", "@SUM(1+1)*cmd|/C calc!A0"]
    text = rendered(design_with(labels, tmp_path, "d.yaml"))["build-sheet.csv"]
    check_csv(text, labels)
    assert [row["switch_port"] for row in csv.DictReader(io.StringIO(text))] == ["'" + label for label in labels]


def test_the_csv_and_index_of_a_dhcp_node_with_a_single_uplink(cmark: ModuleType) -> None:
    files = rendered(REPO / "tests" / "designs" / "edge-cases.yaml")
    text = files["build-sheet.csv"]
    assert "\r" not in text  # one "\n" per row, as the golden files and `ovsgen diff` show it
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["nic"], row["bond"]) for row in rows if row["bridge"] == "br-stor"] == [("ens2f0", "")]
    tree = github_html(cmark, files["index.md"])
    (table,) = [table for table in tree.iter("table") if table.findtext(".//th") == "Node"]
    cells = [cell.text_content() for cell in table.iter("td")]
    assert cells[:3] == ["edge-1", "DHCP", "—"]
    assert cells[4] == "edge-1 (printable)"
    assert [a.get("href") for a in table.iter("a")] == ["edge-1/build-sheet.md", "edge-1/build-sheet.html"]


# --- file names through the commands -----------------------------------------------------------


def ovsgen(*args: str, cwd: Path) -> Any:
    return run([sys.executable, "-m", "generator", *args], cwd=cwd, timeout=120)


@pytest.mark.parametrize("name", ["rack--a.yaml", HOSTILE_NAME, "_e_ *b* [l](x) `c` #1 ~s~ <!--.yaml"])
def test_file_names_reach_render_diff_and_plan_as_text(cmark: ModuleType, tmp_path: Path, name: str) -> None:
    """rack--a.yaml crashed render, diff and plan (an XML comment may not hold '--')."""
    (tmp_path / name).write_text((REPO / "designs" / "ahv-host.yaml").read_text())
    (tmp_path / "new.yaml").write_text((REPO / "designs" / "ahv-host.yaml").read_text().replace("vlan: 32", "vlan: 33"))
    rendered_out = ovsgen("render", name, "-o", "out", cwd=tmp_path)
    assert rendered_out.returncode == 0, rendered_out.stderr
    check_svg((tmp_path / "out/ahv-host/ahv-a-1/wiring.svg").read_text(), ["tor-a Te1/0/1"])
    check_html((tmp_path / "out/ahv-host/ahv-a-1/build-sheet.html").read_text(), ["tor-a Te1/0/1"])
    diff = ovsgen("diff", name, "new.yaml", cwd=tmp_path)
    assert diff.returncode == 0, diff.stderr
    tree = github_html(cmark, diff.stdout)
    assert f"{name} -> new.yaml" in [p.text_content() for p in tree.iter("p")]
    assert not {element.tag for element in tree.iter()} & {"img", "em", "strong", "a", "del", "script", "h3"}
    blocks = [c.text for c in tree.iter("code") if c.getparent().tag == "pre"]
    assert blocks[0].startswith("--- a/ahv-a-1/")  # the diffs stay code blocks
    plan = ovsgen("plan", name, "new.yaml", "-o", "plan", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    tree = github_html(cmark, (tmp_path / "plan/plan.md").read_text())
    assert len(list(tree.iter(etree.Comment))) == 1
    assert not {element.tag for element in tree.iter()} & {"img", "em", "strong", "a", "del", "script", "h3"}


# --- Chromium: one page, every injection -------------------------------------------------------


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def dump_dom(page: Path) -> str:
    """The page's DOM after its scripts ran, as headless Chromium serialises it."""
    chromium = require_tool("chromium")
    with tempfile.TemporaryDirectory() as profile:
        result = run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            timeout=120,
            env={**os.environ, "HOME": profile},
        )
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


@pytest.fixture(scope="module")
def hostile_sheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile file name and every injection, rendered by `ovsgen render` once."""
    folder = tmp_path_factory.mktemp("hostile")
    design_with(list(INJECTIONS), folder, HOSTILE_NAME)
    result = ovsgen("render", HOSTILE_NAME, "-o", "out", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "out/ahv-host/ahv-a-1"


def injected(root: Any) -> list[str]:
    """What the injections would leave in a DOM: elements they add, and event handlers."""
    tags = [etree.QName(element).localname for element in root.iter() if isinstance(element.tag, str)]
    handlers = [name for element in root.iter() for name in element.attrib if name.lower().startswith("on")]
    return [tag for tag in tags if tag in ("img", "script", "iframe", "a")] + handlers


@pytest.mark.consumer
def test_chromium_runs_nothing_from_the_html_sheet(hostile_sheet: Path) -> None:
    document = html.document_fromstring(dump_dom(hostile_sheet / "build-sheet.html"))
    assert document.findtext(".//title") == "Build sheet: ahv-a-1"
    assert injected(document) == []
    cells = [cell.text_content() for cell in document.iter("td")]
    assert all(injection in cells for injection in INJECTIONS)
    svg_texts = [text.text_content() for text in document.iter("text")]
    assert INJECTIONS[0] in svg_texts
    assert INJECTIONS[1] in svg_texts


@pytest.mark.consumer
def test_chromium_runs_nothing_from_the_svg(hostile_sheet: Path) -> None:
    root = etree.fromstring(dump_dom(hostile_sheet / "wiring.svg").encode())
    assert root.findtext("{http://www.w3.org/2000/svg}title") == "Wiring of ahv-a-1"
    assert injected(root) == []
    texts = [text.text for text in root.iter("{http://www.w3.org/2000/svg}text")]
    assert INJECTIONS[0] in texts
    assert INJECTIONS[1] in texts


@pytest.mark.consumer
def test_the_injection_check_sees_an_injection(hostile_sheet: Path, tmp_path: Path) -> None:
    """Control: the same sheet with one label left unescaped changes the title in Chromium."""
    page = tmp_path / "injected.html"
    text = (hostile_sheet / "build-sheet.html").read_text()
    page.write_text(text.replace("&lt;img src=x onerror=document.title=1337&gt;", INJECTIONS[0], 1))
    document = html.document_fromstring(dump_dom(page))
    assert document.findtext(".//title") == "1337"
    assert injected(document) == ["img", "onerror"]


# --- the loader: what the eye does not see, numbers out of range --------------------------------


MINIMAL = "version: 1\nname: t\nhost: {bridge: br0}\nbridges: {br0: {uplinks: 1x10G}}\nnodes:\n  - name: n1\n"


def refused(tmp_path: Path, line: str) -> list[tuple[int, int, str]]:
    path = tmp_path / "d.yaml"
    path.write_text(MINIMAL + line, encoding="utf-8")
    with pytest.raises(DesignInvalid) as caught:
        load_design(path)
    return [(d.line, d.column, d.message) for d in caught.value.diagnostics]


def test_every_format_character_is_refused_where_it_is(tmp_path: Path) -> None:
    """All of Unicode's Cf characters (bidirectional controls, zero-width characters, the BOM,
    tag characters...), as this Python knows them, in a value and in a key."""
    format_characters = [chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Cf"]
    assert {"\u202e", "\u200b", "\u2066", "\u2069", "\ufeff", "\u200f"} <= set(format_characters)
    for char in format_characters:
        code = f"U+{ord(char):04X}"
        assert refused(tmp_path, f'    nics: {{eth0: {{speed: 10G, switch: "a{char}b"}}}}\n') == [
            (
                7,
                39,
                f"the invisible character {code} ({unicodedata.name(char)}) is not allowed: "
                "it changes how a value looks without being seen",
            ),
        ], code
    assert refused(tmp_path, '    nics: {"eth\\u202e0": 10G}\n')[0][:2] == (7, 12)


@pytest.mark.parametrize("char", sorted(INVISIBLE | {"\ufffe", "\uffff", "\ufdd0", "\U0010ffff"}))
def test_invisible_fillers_and_noncharacters_are_refused(tmp_path: Path, char: str) -> None:
    problems = refused(tmp_path, f'    nics: {{eth0: {{speed: 10G, switch: "a\\U{ord(char):08X}b"}}}}\n')
    assert [(line, column) for line, column, _ in problems] == [(7, 39)]
    assert f"U+{ord(char):04X}" in problems[0][2]


@pytest.mark.parametrize(
    "number",
    ["9" * 5000, "-" + "9" * 4301, "0x" + "f" * 5000, "0o" + "7" * 5000, "1" + "0" * 400 + ".5", "1e" + "9" * 50],
)
def test_numbers_past_any_design_value_are_located_errors(tmp_path: Path, number: str) -> None:
    assert refused(tmp_path, f"    nics: {{eth0: 10G}}\n    mtu: {number}\n") == [
        (8, 10, f"a number of {len(number)} characters is out of range (at most {MAX_NUMBER_LENGTH})")
    ]


@pytest.mark.parametrize("number", ["9" * 5000, "1e999", ".nan", "-.inf", "!!int " + "0x" + "f" * 60])
def test_huge_numbers_give_exit_1_and_no_traceback(tmp_path: Path, number: str) -> None:
    design = (REPO / "designs" / "ahv-host.yaml").read_text().replace("vlan: 32", f"vlan: {number}")
    (tmp_path / "d.yaml").write_text(design)
    result = ovsgen("validate", "d.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("d.yaml:25:11: error: networks[1].vlan: ")
    assert "Traceback" not in result.stderr
