"""Hostile and careless input: mutated designs, write safety, script safety."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.cli import commands as app
from generator.cli.main import main
from generator.cli.settings import RenderSettings
from generator.design.loader import load_design
from tests.conftest import DESIGNS, REPO, require_tool, run
from tests.support.ovsdb import Ovsdb

SETTINGS = settings(
    derandomize=True,  # a fixed seed: CI sees the same examples every run
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LOCATED_ERROR = re.compile(r"^.+:\d+:\d+: error: ")
# Latin letters -> the Cyrillic letters that look the same.
LOOKALIKES = str.maketrans({"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "x": "\u0445"})


def paths_in(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_in(value, (*prefix, index))
    return found


def replacement(original: Any) -> st.SearchStrategy[Any]:
    text = original if isinstance(original, str) else "br0"
    return st.one_of(
        st.integers(min_value=-(2**40), max_value=2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
        st.text(max_size=40),
        st.just("x" * 500),
        st.just(text.translate(LOOKALIKES)),
        st.just("../../etc/" + text),
        st.just(text + "\x00"),
        st.just(text + "\n"),
        st.just("$(touch pwned)"),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


@st.composite
def mutated_designs(draw: st.DrawFn) -> tuple[str, str]:
    source = draw(st.sampled_from(DESIGNS))
    data = load_design(source).data
    path = draw(st.sampled_from(paths_in(data)))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[last]
        what = f"delete {path}"
    else:
        parent[last] = draw(replacement(parent[last]))
        what = f"replace {path}"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False), what


@SETTINGS
@given(mutated_designs())
def test_mutated_designs_are_valid_or_located_errors(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]
) -> None:
    text, what = case
    folder = tmp_path_factory.mktemp("mutant")
    design = folder / "design.yaml"
    design.write_text(text, encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(main, ["render", str(design), "-o", str(out), "-j", "1"])
    assert result.exit_code in (0, 1), (what, result.stderr, result.exception)
    assert "Traceback" not in result.stderr, what
    if result.exit_code == 1:
        assert any(LOCATED_ERROR.match(line) for line in result.stderr.splitlines()), (what, result.stderr)
        assert not out.exists(), what
        return
    assert not (folder.parent / "etc").exists()
    for path in out.rglob("*"):
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to(out.resolve()), path


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_loader(tmp_path_factory: pytest.TempPathFactory, blob: bytes) -> None:
    design = tmp_path_factory.mktemp("bytes") / "design.yaml"
    design.write_bytes(blob)
    result = CliRunner().invoke(main, ["validate", str(design)])
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.stderr


# --- write safety ---------------------------------------------------------------


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_renderer_failing_halfway_leaves_the_output_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    design = REPO / "designs" / "two-tier-cluster.yaml"
    assert CliRunner().invoke(main, ["render", str(design), "-o", str(out)]).exit_code == 0
    (out / "two-tier-cluster" / "kvm-a-1" / "ovs" / "apply.sh").write_text("older\n")
    before = tree(out)
    from generator.render import sheets

    real, calls = sheets.render_node_sheets, []  # the real renderer, for the nodes before the failure

    def failing(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("renderer failed on the second node")
        return real(*args)

    import generator.render.kinds as render_module

    monkeypatch.setattr(
        render_module,
        "REGISTRY",
        tuple(
            render_module.Kind(k.name, failing, k.node_paths, k.render_design, k.design_paths)
            if k.name == "sheet"
            else k
            for k in render_module.REGISTRY
        ),
    )
    settings_ = RenderSettings(designs=(design,), out=out, jobs=1)
    with pytest.raises(RuntimeError, match="second node"):
        app.run_render(settings_)
    assert tree(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.ovsgen-")]


def test_two_renders_at_once_leave_one_complete_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    designs = [str(path) for path in DESIGNS]
    errors: list[str] = []

    def render() -> None:
        result = subprocess.run(
            [sys.executable, "-m", "generator", "render", *designs, "-o", str(out)],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
        )
        if result.returncode != 0:
            errors.append(result.stderr)

    threads = [threading.Thread(target=render) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = CliRunner().invoke(main, ["check", *designs, "--golden", str(out)])
    assert result.exit_code == 0, result.stdout
    # The lock in OUT, removed by each run as it ends, still kept them apart; nothing is left.
    assert os.listdir(tmp_path) == ["out"]
    assert not (out / ".ovsgen.lock").exists()


# --- script safety --------------------------------------------------------------

# Optional shellcheck checks left out, and why:
#   SC2250  braces around every variable: style only.
#   SC2310  functions in `if`: the scripts' predicates (is_active, diff) are meant to be tested there.
#   SC2312  a command substitution inside another command: observe() maps every failure to "(unset)".
SHELLCHECK_EXCLUDED = "SC2250,SC2310,SC2312"


def generated_scripts(tree_root: Path) -> list[Path]:
    return sorted(tree_root.glob("*/*/*/*.sh"))


@pytest.mark.consumer
def test_scripts_pass_every_applicable_optional_shellcheck(rendered_tree: Path) -> None:
    shellcheck = require_tool("shellcheck")
    paths = [str(path) for path in generated_scripts(rendered_tree)]
    result = run([shellcheck, "--shell=bash", "--enable=all", f"--exclude={SHELLCHECK_EXCLUDED}", *paths])
    assert result.returncode == 0, result.stdout


def test_scripts_name_ovs_vsctl_and_virsh_only_through_their_variables(rendered_tree: Path) -> None:
    """Outside comments, usage text and the variable's default, the tools' names never appear."""
    defaults = ('"${OVS_VSCTL:-ovs-vsctl}"', '"${VIRSH:-virsh}"')
    for path in generated_scripts(rendered_tree):
        in_heredoc: str | None = None
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if in_heredoc is not None:
                if line.strip() == in_heredoc:
                    in_heredoc = None
                continue
            opened = re.search(r"<<'(\w+)'", line)
            if opened:
                in_heredoc = opened.group(1)
            code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
            if any(default in code for default in defaults):
                continue
            if re.match(r"\s*(echo|printf)\b", code):
                code = re.sub(r"\"[^\"]*\"|'[^']*'", '""', code)  # what a message says is not a command
            # A command word, not the arrays ${vsctl[@]} / ${virsh[@]} that hold the configured command.
            assert not re.search(r"(?<![\w${-])(ovs-vsctl|virsh)\b(?!\[)", code), f"{path}:{number}: {line}"


@pytest.mark.consumer
def test_apply_never_runs_a_tool_found_on_path(rendered_tree: Path, ovsdb: Ovsdb, tmp_path: Path) -> None:
    """A hostile ovs-vsctl early on PATH is never called: the script uses OVS_VSCTL."""
    traps = tmp_path / "traps"
    traps.mkdir()
    marker = tmp_path / "trap-was-called"
    for name in ("ovs-vsctl", "virsh"):
        trap = traps / name
        trap.write_text(f"#!/bin/sh\ntouch {marker}\nexit 0\n")
        trap.chmod(0o755)
    env = {**os.environ, "PATH": f"{traps}:{os.environ['PATH']}", "OVS_VSCTL": ovsdb.vsctl_command}
    script = rendered_tree / "lacp-storage/kvm-s-1/ovs/apply.sh"
    for args in (["--dry-run"], ["--apply", "--skip-nic-check"]):
        result = run(["bash", str(script), *args], env=env)
        assert result.returncode == 0, result.stderr
    assert not marker.exists()


@pytest.mark.consumer
def test_dry_runs_write_nothing_to_the_database(ovsdb: Ovsdb, tmp_path: Path) -> None:
    from generator.changes.node_changes import plan_designs
    from generator.changes.plan_folder import render_plan
    from generator.design.validate import validate_file

    changes = Path(__file__).resolve().parent / "designs" / "changes"
    old, new = validate_file(changes / "base.yaml"), validate_file(changes / "lacp-on.yaml")
    files = {f.name: f for f in render_plan(plan_designs(old, new, ("c1",)), "test")}
    before = ovsdb.dump()
    for name in ("change.sh", "rollback.sh"):
        script = tmp_path / name
        script.write_text(files[name].text)
        result = run(["bash", str(script), "--dry-run"], env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command})
        assert result.returncode == 0, result.stderr
        assert ovsdb.dump() == before
