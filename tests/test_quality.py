"""Lint, format and type checks, and the README's promises about commands."""

from __future__ import annotations

import re
import shutil
import sys

import pytest

from tests.conftest import REPO, require_tool, run


def tool(name: str) -> list[str]:
    if shutil.which(name) is None and run([sys.executable, "-m", name, "--version"]).returncode != 0:
        pytest.fail(f"{name} is missing: install the test extras (pip install -e '.[test]')")
    return [sys.executable, "-m", name]


def test_ruff_check_is_clean() -> None:
    result = run([*tool("ruff"), "check", "generator", "tests"], cwd=REPO)
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_clean() -> None:
    result = run([*tool("ruff"), "format", "--check", "generator", "tests"], cwd=REPO)
    assert result.returncode == 0, result.stdout


def test_mypy_strict_is_clean() -> None:
    result = run([*tool("mypy"), "--strict", "generator"], cwd=REPO)
    assert result.returncode == 0, result.stdout


def quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)


def test_readme_quick_start_has_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert "render designs/*.yaml -o out/" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci/run").read_text().splitlines()
    assert quick_start_commands()[1] in ci
    for package in ("openvswitch-switch", "libvirt-clients", "shellcheck"):
        assert package in (REPO / ".ci/run").read_text()


def test_missing_consumer_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        require_tool("ovsgen-no-such-tool")


def test_missing_consumer_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_tool("ovsgen-no-such-tool")
