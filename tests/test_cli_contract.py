"""The command line's contract with its users: help texts, defaults, messages and exit codes.

Scripts and CI jobs depend on these words and numbers, so they are pinned exactly. Every
test runs ovsgen in this process (click's CliRunner, or `main` itself where a real terminal
or a closed pipe must stand in for stderr or stdout).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import sys
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from syrupy.assertion import SnapshotAssertion

from generator import __version__
from generator.cli.main import main
from generator.cli.reporting import EXCERPT_SOURCE_LIMIT, SourceLines
from generator.design.schema_file import schema_document
from tests.conftest import DESIGNS, REPO, require_tool, run

AHV = REPO / "designs" / "ahv-host.yaml"
CLUSTER = REPO / "designs" / "two-tier-cluster.yaml"
WARNINGS = [
    f"{AHV}:35:7: warning: nodes[0].nics.eth0: node ahv-a-1: NIC eth0 (1G) is not used by any bridge",
    "   35 |       eth0: 1G",
    "      |       ^",
    f"{AHV}:36:7: warning: nodes[0].nics.eth1: node ahv-a-1: NIC eth1 (1G) is not used by any bridge",
    "   36 |       eth1: 1G",
    "      |       ^",
]
COMMANDS = ["validate", "render", "check", "schema", "plan", "diff", "rehearse", "rollout"]


def invoke(*args: str) -> Result:
    # A fixed width and program name: help text must not depend on the terminal running the tests.
    return CliRunner().invoke(main, list(args), prog_name="ovsgen", terminal_width=80, catch_exceptions=False)


def usage_error(result: Result) -> str:
    """The last line of a usage error, after asserting it is one."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    return result.stderr.splitlines()[-1]


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.fixture(autouse=True)
def no_color_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR, FORCE_COLOR or TERM=dumb from the developer's shell (or a CI runner's) must not
    decide what the colour tests see, nor a progress delay what a render prints."""
    for name in ("NO_COLOR", "FORCE_COLOR", "OVSGEN_PROGRESS_DELAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")


# --- Help, version and defaults -----------------------------------------------------------------


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)], ids=["ovsgen", *COMMANDS])
def test_help_text(command: list[str], snapshot: SnapshotAssertion) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert invoke(*command, "-h").stdout == result.stdout
    assert result.stdout == snapshot


def test_version() -> None:
    result = invoke("--version")
    assert (result.exit_code, result.stdout) == (0, f"ovsgen, version {__version__}\n")


def test_render_writes_into_out_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("render", str(AHV), "--only", "ifcfg")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "ovsgen: rendered 4 files for 1 node under out/: 4 files changed"
    assert files_under(tmp_path / "out") == [
        "ahv-host/ahv-a-1/network-scripts/ifcfg-bond0",
        "ahv-host/ahv-a-1/network-scripts/ifcfg-br0",
        "ahv-host/ahv-a-1/network-scripts/ifcfg-eth2",
        "ahv-host/ahv-a-1/network-scripts/ifcfg-eth3",
    ]


@pytest.mark.parametrize("option", ["-o", "--out"])
def test_out_is_taken_from_either_spelling(tmp_path: Path, option: str) -> None:
    result = invoke("render", str(AHV), option, str(tmp_path / "elsewhere"), "--only", "ifcfg")
    assert result.exit_code == 0, result.stderr
    assert len(files_under(tmp_path / "elsewhere")) == 4


def test_out_must_not_be_a_file(tmp_path: Path) -> None:
    existing = tmp_path / "a-file"
    existing.write_text("kept\n")
    result = invoke("render", str(AHV), "-o", str(existing))
    assert usage_error(result) == f"Error: Invalid value for '-o' / '--out': Directory '{existing}' is a file."
    assert existing.read_text() == "kept\n"


# --- Values from the command line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ahv-a-1\x1b[2J", "ahv-a-1\\x1b[2J: the control character U+001B is not allowed; values are single-line text"),
        (
            "ahv\u202e1-a",
            "ahv\\u202e1-a: the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed: "
            "it changes how a value looks without being seen",
        ),
        ("-x", "-x starts with '-'"),
        ("-", "- starts with '-'"),
    ],
)
def test_a_node_name_that_is_not_a_plain_word_is_a_usage_error(tmp_path: Path, value: str, message: str) -> None:
    result = invoke("render", str(AHV), "-o", str(tmp_path / "out"), "--node", value)
    assert usage_error(result) == f"Error: Invalid value for '--node': {message}"
    assert list(tmp_path.iterdir()) == []


def test_a_long_refused_value_is_shown_cut_to_200_characters() -> None:
    value = "n" * 250 + "\x07"
    result = invoke("diff", "--base-ref", value, str(AHV))
    assert usage_error(result) == (
        f"Error: Invalid value for '--base-ref': {'n' * 200}... (51 more characters): "
        "the control character U+0007 is not allowed; values are single-line text"
    )
    dashed = "-" + "d" * 210
    result = invoke("diff", "--base-ref", dashed, str(AHV))
    assert usage_error(result) == (
        f"Error: Invalid value for '--base-ref': {dashed[:200]}... (11 more characters) starts with '-'"
    )


def test_a_value_of_exactly_200_characters_is_shown_whole() -> None:
    value = "v" * 199 + "\x7f"
    result = invoke("diff", "--base-ref", value, str(AHV))
    assert usage_error(result) == (
        f"Error: Invalid value for '--base-ref': {'v' * 199}\\x7f: "
        "the control character U+007F is not allowed; values are single-line text"
    )


def test_plain_words_with_inner_dashes_pass(tmp_path: Path) -> None:
    result = invoke("render", str(CLUSTER), "-o", str(tmp_path), "--node", "kvm-a-2", "--only", "ifcfg")
    assert result.exit_code == 0, result.stderr
    assert {path.split("/")[1] for path in files_under(tmp_path)} == {"kvm-a-2"}


def test_a_design_name_is_checked_before_it_is_looked_up(tmp_path: Path) -> None:
    missing = tmp_path / "no\tsuch.yaml"
    result = invoke("validate", str(missing))
    assert usage_error(result) == (
        f"Error: Invalid value for 'DESIGNS...': {tmp_path}/no\\tsuch.yaml: "
        "the control character U+0009 is not allowed; values are single-line text"
    )


def test_a_long_refused_file_name_is_cut_too(tmp_path: Path) -> None:
    name = "f" * 300 + "\u2028.yaml"
    result = invoke("validate", name)
    assert usage_error(result) == (
        f"Error: Invalid value for 'DESIGNS...': {'f' * 200}... (106 more characters): "
        "the control character U+2028 is not allowed; values are single-line text"
    )


def test_a_missing_design_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = invoke("validate", str(missing))
    assert usage_error(result) == f"Error: Invalid value for 'DESIGNS...': File '{missing}' does not exist."


def test_output_folder_names_are_checked(tmp_path: Path) -> None:
    result = invoke("render", str(AHV), "-o", str(tmp_path / "out\x1b"))
    assert usage_error(result) == (
        f"Error: Invalid value for '-o' / '--out': {tmp_path}/out\\x1b: "
        "the control character U+001B is not allowed; values are single-line text"
    )
    assert list(tmp_path.iterdir()) == []


# --- Argument combinations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", str(AHV)], "plan takes OLD and NEW designs (or --from-host DUMP and NEW)"),
        (["plan", str(AHV), str(AHV), str(AHV)], "plan takes OLD and NEW designs (or --from-host DUMP and NEW)"),
        (["plan", str(AHV), str(AHV), "--prune"], "--prune goes with --from-host"),
        (
            ["plan", "--from-host", str(AHV), str(AHV), str(AHV), "--node", "ahv-a-1"],
            "--from-host takes one NEW design and exactly one --node",
        ),
        (["plan", "--from-host", str(AHV), str(AHV)], "--from-host takes one NEW design and exactly one --node"),
        (["diff", str(AHV)], "diff takes OLD and NEW designs (or --base-ref REF and designs)"),
        (["diff", str(AHV), "/nonexistent/new.yaml"], "no such design file: /nonexistent/new.yaml"),
        (["rehearse", str(AHV), str(AHV), "--node", "a", "--node", "b"], "rehearse takes exactly one --node"),
    ],
)
def test_wrong_argument_combinations_are_usage_errors(args: list[str], message: str) -> None:
    assert usage_error(invoke(*args)) == f"Error: {message}"


# --- What each command prints -----------------------------------------------------------------


def test_validate_names_each_valid_design_with_its_node_count() -> None:
    result = invoke("validate", *map(str, DESIGNS))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[:6] == WARNINGS
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: valid: {DESIGNS[0]} (1 node), {DESIGNS[1]} (2 nodes), {DESIGNS[2]} (3 nodes), {DESIGNS[3]} (3 nodes)"
    )


def test_validate_reports_every_design_and_says_nothing_else_when_one_is_invalid(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(AHV.read_text().replace("vlan: 32", "vlan: 5000", 1))
    assert "vlan: 5000" in broken.read_text()
    result = invoke("validate", str(AHV), str(broken))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:6] == WARNINGS
    assert lines[6].startswith(f"{broken}:")
    assert "error:" in lines[6]
    assert not any(line.startswith("ovsgen:") for line in lines)


def test_strict_turns_warnings_into_errors_in_every_command(tmp_path: Path) -> None:
    errors = [line.replace("warning:", "error:") for line in WARNINGS]
    for args in (["validate"], ["render", "-o", str(tmp_path / "out")], ["check", "--golden", str(REPO / "golden")]):
        result = invoke(*args, "--strict", str(AHV))
        assert result.exit_code == 1, args
        assert result.stderr.splitlines()[:6] == errors
    assert not (tmp_path / "out").exists()


def test_json_format_reports_warnings_as_records() -> None:
    result = invoke("validate", "--format", "json", str(AHV))
    assert result.exit_code == 0
    records = json.loads(result.stderr[: result.stderr.rindex("]") + 1])
    assert [(r["line"], r["severity"], r["path"]) for r in records] == [
        (35, "warning", "nodes[0].nics.eth0"),
        (36, "warning", "nodes[0].nics.eth1"),
    ]


def test_render_says_how_many_files_it_wrote_and_what_changed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = invoke("render", *map(str, DESIGNS), "-o", str(out))
    assert first.exit_code == 0, first.stderr
    assert first.stdout == ""
    assert len(files_under(out)) == 166
    assert first.stderr.splitlines()[-1] == f"ovsgen: rendered 166 files for 9 nodes under {out}/: 166 files changed"
    again = invoke("render", *map(str, DESIGNS), "-o", str(out))
    assert again.stderr.splitlines()[-1] == f"ovsgen: rendered 166 files for 9 nodes under {out}/: no file changed"
    # The same file name elsewhere: the headers stay the same. A new gateway changes ifcfg-br0 alone.
    moved = out.parent / AHV.name
    moved.write_text(AHV.read_text().replace("gateway: 10.59.30.1\n", "gateway: 10.59.30.2\n"))
    one = invoke("render", str(moved), "-o", str(out), "--only", "ifcfg")
    assert one.stderr.splitlines()[-1] == f"ovsgen: rendered 4 files for 1 node under {out}/: 1 file changed"


def test_render_counts_files_added_changed_and_removed(tmp_path: Path) -> None:
    """A node taken out of the design takes its files with it; the count says how many went."""
    out = tmp_path / "out"
    design = tmp_path / CLUSTER.name  # the same file name: the headers stay the same
    design.write_text(CLUSTER.read_text())
    assert invoke("render", str(design), "-o", str(out)).exit_code == 0
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    text = CLUSTER.read_text()
    start = text.index("  - name: kvm-a-3")
    end = text.find("\n  - name:", start + 1)
    design.write_text(text[:start] + (text[end + 1 :] if end != -1 else ""))
    result = invoke("render", str(design), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    after = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    changed = sum(1 for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    assert changed > len([path for path in before if "kvm-a-3" in path.parts])  # and the index and CSV
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: rendered {len(after)} files for 2 nodes under {out}/: {changed} files changed"
    )


def test_render_with_unknown_nodes_names_them_all_sorted(tmp_path: Path) -> None:
    result = invoke("render", str(CLUSTER), "-o", str(tmp_path / "out"), "--node", "zz", "--node", "kvm-a-1")
    result2 = invoke("render", str(CLUSTER), "-o", str(tmp_path / "out"), "--node", "zz", "--node", "aa")
    assert result.exit_code == result2.exit_code == 1
    nodes = "(nodes: kvm-a-1, kvm-a-2, kvm-a-3)"
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: no node named zz in the given designs {nodes}; nothing was written"
    )
    assert result2.stderr.splitlines()[-1] == (
        f"ovsgen: no nodes named aa, zz in the given designs {nodes}; nothing was written"
    )
    assert not (tmp_path / "out").exists()


def test_render_names_both_files_of_designs_with_one_name(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text(AHV.read_text())
    result = invoke("render", str(AHV), str(copy), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: designs {AHV} and {copy} have the same name 'ahv-host' and would render into the same folder; "
        "nothing was written"
    )


@pytest.fixture
def golden(tmp_path: Path) -> Path:
    copy = tmp_path / "golden"
    shutil.copytree(REPO / "golden", copy, symlinks=True)
    return copy


def test_check_says_golden_is_up_to_date_with_its_file_count(golden: Path) -> None:
    result = invoke("check", *map(str, DESIGNS), "--golden", str(golden))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"ovsgen: {golden}/ is up to date (166 files)"


def test_check_prints_the_diff_and_the_command_that_fixes_it(golden: Path) -> None:
    index = golden / "ahv-host" / "index.md"
    index.write_text(index.read_text() + "added by hand\n")
    stale = golden / "ahv-host" / "ahv-a-1" / "stale.txt"
    stale.write_text("old\n")
    result = invoke("check", str(AHV), str(CLUSTER), "--golden", str(golden))
    assert result.exit_code == 1
    assert "-added by hand\n" in result.stdout
    assert "ahv-host/ahv-a-1/stale.txt" in result.stdout
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: {golden}/ is stale; run: ovsgen render {AHV} {CLUSTER} -o {golden}"
    )


def test_check_with_an_invalid_design_or_a_name_clash_fails_without_a_diff(golden: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\n")
    result = invoke("check", str(broken), "--golden", str(golden))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert not any(line.startswith("ovsgen:") for line in result.stderr.splitlines())
    copy = tmp_path / "copy.yaml"
    copy.write_text(AHV.read_text())
    result = invoke("check", str(AHV), str(copy), "--golden", str(golden))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: designs {AHV} and {copy} have the same name 'ahv-host' and would render into the same folder"
    )


def test_schema_prints_the_schema_file_as_json() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout) == schema_document()
    assert result.stdout.endswith("}\n")


# --- Where messages go: terminals, pipes, unwritable folders -----------------------------------


def run_main(args: list[str]) -> int:
    """`ovsgen ARGS` in this process with the streams as they are; its exit code."""
    with pytest.raises(SystemExit) as exited:
        main.main(args, prog_name="ovsgen", standalone_mode=False)
    code = exited.value.code
    assert isinstance(code, int)
    return code


@contextlib.contextmanager
def stderr_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """sys.stderr on a pseudo-terminal (raw: line ends arrive as written); what it showed, once closed.

    Set inside the test, not in a fixture: pytest swaps sys.stderr again when the test starts."""
    master, slave = os.openpty()
    tty.setraw(slave)
    stream = io.TextIOWrapper(os.fdopen(slave, "wb", buffering=0), encoding="utf-8", write_through=True)
    shown: list[str] = []
    try:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stderr", stream)
            yield shown
        stream.close()
        shown += b"".join(iter(functools.partial(read_or_end, master), b"")).decode().splitlines()
    finally:
        stream.close()
        os.close(master)


def read_or_end(master: int) -> bytes:
    try:
        return os.read(master, 65536)
    except OSError:  # EIO: the terminal's other side is closed and everything was read
        return b""


def test_severities_are_coloured_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with stderr_on_a_terminal(monkeypatch) as shown:
        assert run_main(["validate", str(AHV)]) == 0
    yellow = "\x1b[1;33mwarning\x1b[0m"
    assert shown[:6] == [line.replace("warning", yellow, 1) for line in WARNINGS]


def test_no_color_turns_colour_off_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    with stderr_on_a_terminal(monkeypatch) as shown:
        assert run_main(["validate", str(AHV)]) == 0
    assert shown[:6] == WARNINGS


def test_no_colour_off_a_terminal() -> None:
    result = invoke("validate", str(AHV))
    assert "\x1b" not in result.stderr
    assert result.stderr.splitlines()[:6] == WARNINGS


def test_a_reader_that_went_away_ends_the_command_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a shell tool killed by SIGPIPE: no message (the reader is gone; the user sees what they
    asked for), the status 128+SIGPIPE for `set -o pipefail`."""
    reading, writing = os.pipe()
    os.close(reading)  # like `ovsgen schema | head -c0`
    stdout = io.TextIOWrapper(os.fdopen(writing, "wb", buffering=0), encoding="utf-8", write_through=True)
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    try:
        assert run_main(["schema"]) == 141
    finally:
        stdout.close()
    assert stderr.getvalue() == ""


def test_an_unwritable_output_folder_is_reported_with_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("kept\n")
    result = invoke("render", str(AHV), "-o", str(blocker / "out"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"ovsgen: Not a directory: {blocker}/out"
    assert blocker.read_text() == "kept\n"


# --- Source lines under messages ----------------------------------------------------------------


def validate_text(tmp_path: Path, data: bytes) -> list[str]:
    design = tmp_path / "design.yaml"
    design.write_bytes(data)
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    return [line.replace(str(design), "design.yaml") for line in result.stderr.splitlines()]


def test_a_problem_on_the_first_line_after_a_byte_order_mark_is_shown_under_it(tmp_path: Path) -> None:
    lines = validate_text(tmp_path, b"\xef\xbb\xbfversion: 2\nname: x\n")
    assert lines[3:] == [
        "design.yaml:1:10: error: version: 2 is not 1, the only version of the design language",
        "    1 | version: 2",
        "      |          ^",
    ]


def test_a_problem_on_a_last_line_without_a_line_end_is_shown_under_it(tmp_path: Path) -> None:
    last = len(AHV.read_bytes().splitlines()) + 1
    lines = validate_text(tmp_path, AHV.read_bytes() + b"extra: 1")
    assert lines[-3].startswith(f"design.yaml:{last}:1: error: extra: unknown key 'extra'")
    assert lines[-2:] == [f"{last:5d} | extra: 1", "      | ^"]


def test_a_problem_past_the_last_line_has_no_source_line(tmp_path: Path) -> None:
    lines = validate_text(tmp_path, b"version: [1, 2\n")
    assert lines == ["design.yaml:2:1: error: YAML syntax error: did not find expected ',' or ']'"]


def test_bytes_that_are_not_utf8_show_as_replacement_characters(tmp_path: Path) -> None:
    lines = validate_text(tmp_path, b'version: 1\nname: "x\xff"\n')
    assert lines == [
        "design.yaml:2:9: error: file is not valid UTF-8 (byte 0xff at offset 19)",
        '    2 | name: "x\ufffd"',
        "      |         ^",
    ]


@pytest.mark.parametrize(("extra", "shown"), [(0, True), (1, False)])
def test_source_lines_come_only_from_files_within_64_mib(tmp_path: Path, extra: int, shown: bool) -> None:
    design = tmp_path / "design.yaml"
    with design.open("wb") as handle:  # sparse: the size without the writing
        handle.write(b"version: 1\n")
        handle.truncate(EXCERPT_SOURCE_LIMIT + extra)
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    excerpt = ["    1 | version: 1", "      | ^"] if shown else []
    assert result.stderr.splitlines() == [
        f"{design}:1:1: error: file is {EXCERPT_SOURCE_LIMIT + extra} bytes; designs are limited to 16777216 bytes",
        *excerpt,
    ]


def test_a_fifo_is_refused_as_a_design_and_never_read_for_source_lines(tmp_path: Path) -> None:
    fifo = tmp_path / "design.yaml"
    os.mkfifo(fifo)
    # Should anything open the FIFO and wait for a writer, this one comes after 5 s: the test fails, not hangs.
    rescuer = threading.Timer(5, unblock_reader, args=(fifo,))
    rescuer.start()
    started = time.monotonic()
    try:
        result = invoke("validate", str(fifo))
        source = SourceLines().line(str(fifo), 1)
    finally:
        rescuer.cancel()
    assert time.monotonic() - started < 5
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for 'DESIGNS...': {fifo} is not a regular file"
    assert source is None


def unblock_reader(fifo: Path) -> None:
    with contextlib.suppress(OSError):  # ENXIO: nobody is waiting to read
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def test_old_designs_from_git_are_named_by_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("git")
    design = tmp_path / "designs" / "a.yaml"
    design.parent.mkdir()
    design.write_text(AHV.read_text().replace("vlan: 32", "vlan: 5000"))
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "old"]):
        env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
        env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
        assert run(["git", *args], cwd=tmp_path, env={**os.environ, **env}).returncode == 0
    design.write_text(AHV.read_text())
    monkeypatch.chdir(tmp_path)
    result = invoke("diff", "--base-ref", "main", "designs/a.yaml")
    assert result.exit_code == 1
    # The old design is no file here: its message has no source line under it.
    assert result.stderr.splitlines()[0] == "main:designs/a.yaml:25:11: error: networks[1].vlan: 5000 is outside 1-4094"
    # The new design is: its warnings have theirs.
    assert result.stderr.splitlines()[1:4] == [line.replace(str(AHV), "designs/a.yaml") for line in WARNINGS[:3]]


def test_rendering_one_node_leaves_the_other_nodes_as_they_are(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("render", str(CLUSTER), "-o", str(out)).exit_code == 0
    other = out / "two-tier-cluster" / "kvm-a-1" / "ovs" / "apply.sh"
    other.write_text(other.read_text() + "# edited by hand\n")  # its header kept: ovsgen's file still
    edited = other.read_text()
    chosen = out / "two-tier-cluster" / "kvm-a-2" / "ovs" / "apply.sh"
    rendered = chosen.read_text()
    chosen.write_text(rendered + "# edited by hand\n")
    result = invoke("render", str(CLUSTER), "-o", str(out), "--node", "kvm-a-2")
    assert result.stderr.splitlines()[-1] == f"ovsgen: rendered 18 files for 1 node under {out}/: 1 file changed"
    assert other.read_text() == edited
    assert chosen.read_text() == rendered
