"""`ovsgen diff` for pull requests, and the plan/diff/rehearse command lines."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import run
from tests.support.cli import invoke

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"
DIFF_PAIRS = [
    ("base", "lacp-on"),
    ("base", "networks-changed"),
    ("node-added", "base"),
    ("base", "host-vlan-10"),
    ("nm-base", "nm-changed"),  # keyfiles change on c1, ifcfg files on c2
    ("nm-base", "nm-cutover"),  # c2 moves from ifcfg files to NetworkManager
]


@pytest.mark.parametrize(("old", "new"), DIFF_PAIRS, ids=[f"{o}->{n}" for o, n in DIFF_PAIRS])
def test_diff_markdown(old: str, new: str, snapshot: SnapshotAssertion, tmp_path: Path) -> None:
    # Copies under fixed names: the report shows the paths it was given.
    shutil.copy(CHANGES / f"{old}.yaml", tmp_path / "old.yaml")
    shutil.copy(CHANGES / f"{new}.yaml", tmp_path / "new.yaml")
    result = invoke("diff", "old.yaml", "new.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == snapshot


def test_diff_names_the_changes_and_folds_the_file_diffs(tmp_path: Path) -> None:
    result = invoke("diff", str(CHANGES / "base.yaml"), str(CHANGES / "lacp-on.yaml"))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "- br1-up: bond_mode balance-slb -> balance-tcp, LACP active fast with fallback" in text
    assert "<details><summary>Rendered files of c1 that change (" in text
    assert '-OVS_OPTIONS="bond_mode=balance-slb"' in text
    assert '+OVS_OPTIONS="bond_mode=balance-tcp lacp=active other_config:lacp-time=fast' in text


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    result = run(["git", *args], cwd=repo, env=env)
    assert result.returncode == 0, result.stderr


def test_diff_against_a_git_base_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "designs").mkdir(parents=True)
    design = repo / "designs" / "chg.yaml"
    design.write_text((CHANGES / "base.yaml").read_text())
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    design.write_text((CHANGES / "host-vlan-10.yaml").read_text())
    (repo / "designs" / "new.yaml").write_text((CHANGES / "base.yaml").read_text().replace("name: chg", "name: fresh"))
    result = invoke("diff", "--base-ref", "main", "designs/chg.yaml", "designs/new.yaml", cwd=repo)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "main:designs/chg.yaml -> designs/chg.yaml" in text
    assert "- br0 host port: VLAN untagged -> 10" in text
    assert "> **Risk:**" in text
    assert "main:designs/new.yaml (absent) -> designs/new.yaml" in text
    assert "## Node c1: added" in text


def test_plan_writes_the_folder_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    (out / "stale").mkdir(parents=True)
    result = invoke("plan", str(CHANGES / "base.yaml"), str(CHANGES / "member-added.yaml"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "- eth4 joins br1-up (br1-up rebuilt in the same transaction)" in result.stdout
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "c1/change.sh",
        "c1/ifcfg-change.sh",
        "c1/ifcfg-rollback.sh",
        "c1/network-scripts.old/ifcfg-br1-up",
        "c1/network-scripts/ifcfg-br1-up",
        "c1/network-scripts/ifcfg-eth4",
        "c1/rollback.sh",
        "c2/change.sh",
        "c2/ifcfg-change.sh",
        "c2/ifcfg-rollback.sh",
        "c2/network-scripts.old/ifcfg-br1-up",
        "c2/network-scripts/ifcfg-br1-up",
        "c2/network-scripts/ifcfg-eth4",
        "c2/rollback.sh",
        "plan.md",
        "rollout.json",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["plan", str(CHANGES / "base.yaml")],
        ["plan", str(CHANGES / "base.yaml"), str(CHANGES / "lacp-on.yaml"), "--prune"],
        ["plan", "--from-host", str(CHANGES / "base.yaml"), str(CHANGES / "base.yaml")],
        ["diff", str(CHANGES / "base.yaml")],
        ["rehearse", str(CHANGES / "base.yaml"), str(CHANGES / "lacp-on.yaml")],
    ],
)
def test_change_command_usage_errors_exit_two(args: list[str]) -> None:
    assert invoke(*args).exit_code == 2


def test_plan_from_a_bad_dump_is_a_located_error(tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    dump.write_text('{"caption": "Bridge table", "headings": [], "data": []}\nnot json\n')
    result = invoke(
        "plan", "--from-host", str(dump), str(CHANGES / "base.yaml"), "--node", "c1", "-o", str(tmp_path / "p")
    )
    assert result.exit_code == 1
    assert f"{dump}:2:1: error: not a line of 'ovsdb-client dump --format=json' output" in result.stderr
    assert not (tmp_path / "p").exists()


def test_rehearse_without_open_vswitch_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.changes.rehearse_ovsdb.SCHEMA_PATHS", (Path("/nonexistent/vswitch.ovsschema"),))
    result = invoke("rehearse", str(CHANGES / "base.yaml"), str(CHANGES / "lacp-on.yaml"), "--node", "c1")
    assert result.exit_code == 1
    assert "rehearse needs Open vSwitch's database tools; missing: the Open_vSwitch schema" in result.stderr


@pytest.mark.consumer
def test_rehearse_command_reports_each_step() -> None:
    result = invoke("rehearse", str(CHANGES / "base.yaml"), str(CHANGES / "lacp-on.yaml"), "--node", "c2")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "Rehearsal of node c2:",
        "  PASS  build the starting state with the old design's apply.sh",
        "  PASS  change.sh --apply",
        "  PASS  the database holds the new design's state",
        "  PASS  rollback.sh --apply",
        "  PASS  the database is back to the starting state",
        "Result: every step held.",
    ]


def test_a_dump_with_unsafe_names_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    heading = '"headings": ["_uuid", "name", "ports"]'
    dump.write_text(
        '{"caption": "Bridge table", ' + heading + ', "data": [[["uuid", "u1"], "br0\\nEXPECTED", ["set", []]]]}\n'
        '{"caption": "Port table", "headings": ["_uuid"], "data": []}\n'
        '{"caption": "Interface table", "headings": ["_uuid"], "data": []}\n'
    )
    result = invoke(
        "plan", "--from-host", str(dump), str(CHANGES / "base.yaml"), "--node", "c1", "-o", str(tmp_path / "p")
    )
    assert result.exit_code == 1
    assert "Bridge row 1: name: 'br0\\nEXPECTED' is not a name" in result.stderr
