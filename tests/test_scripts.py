"""Every generated script through bash -n and shellcheck."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SUPPORT, require_tool, run

pytestmark = pytest.mark.consumer


def scripts(tree: Path) -> list[Path]:
    return sorted(tree.glob("*/*/*/*.sh"))


def test_every_node_has_both_scripts(rendered_tree: Path) -> None:
    found = {path.relative_to(rendered_tree).as_posix() for path in scripts(rendered_tree)}
    assert "two-tier-cluster/kvm-a-3/ovs/apply.sh" in found
    assert "two-tier-cluster/kvm-a-3/libvirt/define.sh" in found
    assert "rhel9-migration/kvm-r-1/NetworkManager/apply.sh" in found
    # Two per node (1 + 2 + 3 + 3 example nodes, 1 test node), and NetworkManager/apply.sh on
    # the five nodes with that backend (kvm-r-1, kvm-r-2, kvm-s-1, kvm-s-2, edge-1).
    assert len(found) == 2 * 10 + 5


def test_scripts_parse_with_bash(rendered_tree: Path) -> None:
    for path in scripts(rendered_tree):
        result = run(["bash", "-n", str(path)])
        assert result.returncode == 0, f"{path}: {result.stderr}"


def test_scripts_are_shellcheck_clean(rendered_tree: Path) -> None:
    shellcheck = require_tool("shellcheck")
    paths = [str(path) for path in scripts(rendered_tree)] + [str(p) for p in SUPPORT.glob("*.sh")]
    result = run([shellcheck, "--shell=bash", "--severity=style", *paths])
    assert result.returncode == 0, result.stdout


def test_scripts_are_executable(rendered_tree: Path) -> None:
    for path in scripts(rendered_tree):
        assert path.stat().st_mode & 0o111 == 0o111, path
