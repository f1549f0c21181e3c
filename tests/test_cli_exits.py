"""generator.cli.exits: what a command raised becomes one exit status and one message, the same
way for every command (issue 14)."""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from generator.cli.change_settings import RehearseSettings
from generator.cli.exits import EXIT_OK, EXIT_PROBLEMS, exit_status, os_error_text, run_command, signal_status
from generator.cli.settings import CommonSettings, RenderSettings
from generator.diagnostics import Diagnostic
from generator.errors import DesignInvalid, DumpInvalid, OutputRefused, SelectionInvalid, ToolUnavailable


def settings(output_format: str = "text") -> CommonSettings:
    return CommonSettings(output_format=output_format, stdout=io.StringIO(), stderr=io.StringIO())


def stderr_of(settings_: CommonSettings) -> str:
    stream = settings_.stderr
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def outcome(error: Exception, output_format: str = "text") -> tuple[int, str]:
    """The status and stderr of a command that raised `error`."""
    settings_ = settings(output_format)

    def command(_: CommonSettings) -> int:
        raise error

    return run_command(command, settings_), stderr_of(settings_)


def test_a_command_that_raises_nothing_ends_with_its_own_status() -> None:
    settings_ = settings()
    assert run_command(lambda _: EXIT_OK, settings_) == EXIT_OK
    assert run_command(lambda _: EXIT_PROBLEMS, settings_) == EXIT_PROBLEMS
    assert stderr_of(settings_) == ""


def test_a_refusal_reads_as_the_oserror_it_replaces() -> None:
    """The writer's refusals were `OSError(errno.EINVAL, text)` and are OutputRefused(text): the
    user reads the same line and gets the same status either way."""
    text = "out/x is not a name ovsgen writes; remove it"
    assert outcome(OutputRefused(text)) == outcome(OSError(errno.EINVAL, text)) == (1, f"ovsgen: {text}\n")
    assert outcome(OSError(errno.ELOOP, f"{text} (a link)")) == (1, f"ovsgen: {text} (a link)\n")


def test_an_oserror_names_the_file_it_is_about() -> None:
    error = PermissionError(errno.EACCES, "Permission denied", "out/x")
    assert os_error_text(error) == "Permission denied: out/x"
    assert outcome(error) == (1, "ovsgen: Permission denied: out/x\n")
    assert outcome(OSError("no errno at all")) == (1, "ovsgen: no errno at all\n")


@pytest.mark.parametrize(
    "error",
    [
        SelectionInvalid("no node named x in the given designs (nodes: a)"),
        ToolUnavailable("rehearse needs Open vSwitch's database tools; missing: ovsdb-tool"),
        OutputRefused("golden folder g/ does not exist; create it with: ovsgen render d.yaml -o g"),
    ],
)
def test_an_ovsgen_error_is_its_message(error: Exception) -> None:
    assert outcome(error) == (1, f"ovsgen: {error}\n")


def test_a_message_is_escaped_for_the_terminal() -> None:
    assert outcome(SelectionInvalid("no node named \x1b[2Jx")) == (1, "ovsgen: no node named \\x1b[2Jx\n")


def test_invalid_input_is_its_located_problems_in_the_format_asked_for() -> None:
    problem = Diagnostic("host.json", 3, 7, ("Bridge",), "not an object")
    code, text = outcome(DumpInvalid([problem]))
    assert (code, text) == (1, "host.json:3:7: error: Bridge: not an object\n")
    code, text = outcome(DesignInvalid([problem]), output_format="json")
    assert code == 1
    assert json.loads(text) == [
        {"file": "host.json", "line": 3, "column": 7, "severity": "error", "path": "Bridge", "message": "not an object"}
    ]


def test_a_bug_is_not_mistaken_for_a_problem_of_the_user() -> None:
    with pytest.raises(ZeroDivisionError):
        outcome(ZeroDivisionError("a bug"))


def test_exit_status_is_the_one_mapping() -> None:
    settings_ = settings()
    assert exit_status(SelectionInvalid("x"), settings_) == EXIT_PROBLEMS
    assert stderr_of(settings_) == "ovsgen: x\n"


def test_each_command_has_settings_of_its_own_that_nothing_changes() -> None:
    render = RenderSettings(designs=(), nodes=("a",), kinds=("ifcfg",), jobs=2)
    for field in dataclasses.fields(render):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(render, field.name, None)
    assert not hasattr(render, "golden")
    required = [
        field.name
        for field in dataclasses.fields(RehearseSettings)
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    ]
    assert required == ["node"]  # rehearse is about one node; everything else has a default


def test_a_command_ended_by_a_signal_has_the_status_a_shell_reports() -> None:
    assert signal_status(signal.SIGINT) == 130
    assert signal_status(signal.SIGTERM) == 143


def test_a_reader_that_went_away_ends_the_command_quietly_as_sigpipe_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ovsgen check ... | head`: the status of SIGPIPE, nothing said, and stdout sent to
    /dev/null so that the last flush cannot fail again."""
    target = tmp_path / "stdout"
    with target.open("w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert outcome(BrokenPipeError()) == (128 + signal.SIGPIPE, "")
        assert os.path.samestat(os.fstat(stdout.fileno()), os.stat(os.devnull))
        os.write(stdout.fileno(), b"lost")  # written, and gone
    assert target.read_bytes() == b""
