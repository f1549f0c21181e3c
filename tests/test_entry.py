"""The `ovsgen` process entry: exit codes and output arrive as with a normal interpreter exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from generator.design.schema_file import schema_document
from tests.conftest import REPO


def ovsgen(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "generator", *args]
    return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False, cwd=REPO)


def test_valid_design_exits_0_and_says_so() -> None:
    result = ovsgen("validate", "designs/lacp-storage.yaml")
    assert result.returncode == 0, result.stderr
    assert "ovsgen: valid: designs/lacp-storage.yaml" in result.stderr


def test_invalid_design_exits_1_with_a_located_message(tmp_path: Path) -> None:
    design = tmp_path / "bad.yaml"
    design.write_text("version: 1\nname: x\nbridges: []\nnodes: []\nextra: 1\n")
    result = ovsgen("validate", str(design))
    assert result.returncode == 1
    assert f"{design}:5:1: error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2() -> None:
    result = ovsgen("render", "--no-such-option")
    assert result.returncode == 2
    assert "No such option '--no-such-option'" in result.stderr


def test_long_output_through_a_pipe_arrives_whole() -> None:
    result = ovsgen("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == schema_document()


def test_a_reader_that_went_away_gives_the_status_of_sigpipe_without_a_word() -> None:
    reading, writing = os.pipe()
    os.close(reading)  # like `ovsgen schema | head -c0`
    try:
        result = ovsgen("schema", stdout=writing)
    finally:
        os.close(writing)
    assert result.returncode == 141  # 128 + SIGPIPE, as a shell tool's
    assert result.stderr == ""
