"""apply.sh quotes every value, even ones the validator would never let through."""

from __future__ import annotations

import os
from pathlib import Path

from generator.design.model import build_design
from generator.design.resolve import layout_node
from generator.render.context import node_context
from generator.render.ovs_script import render_apply_script
from tests.conftest import run

HOSTILE_BRIDGE = "br0$(touch pwned)"
HOSTILE_NIC = "eth'2;touch pwned"
HOSTILE_BOND = 'up"`touch pwned`'


def hostile_script(tmp_path: Path) -> Path:
    """Render apply.sh from a model built without validation, names full of shell syntax."""
    data = {
        "version": 1,
        "name": "hostile",
        "host": {"bridge": HOSTILE_BRIDGE, "vlan": 10},
        "bridges": {HOSTILE_BRIDGE: {"uplinks": {"nics": [HOSTILE_NIC, "eth3 x"]}, "bond": HOSTILE_BOND}},
        "nodes": [{"name": "n1", "nics": {HOSTILE_NIC: "10G", "eth3 x": "10G"}, "address": "10.0.0.11/24"}],
    }
    design = build_design(data)
    (file,) = render_apply_script(node_context(design, layout_node(design, design.nodes[0]), "n1"))
    script = tmp_path / "apply.sh"
    script.write_text(file.text)
    return script


def recording_vsctl(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in ovs-vsctl that records each call's arguments, one per line."""
    log = tmp_path / "calls.log"
    fake = tmp_path / "fake-vsctl"
    fake.write_text(f"#!/bin/bash\nprintf '%s\\n' \"$@\" '----' >> {log}\n")
    fake.chmod(0o755)
    return fake, log


def test_hostile_names_stay_single_arguments_and_never_run(tmp_path: Path) -> None:
    script = hostile_script(tmp_path)
    fake, log = recording_vsctl(tmp_path)
    assert run(["bash", "-n", str(script)]).returncode == 0
    result = run(
        ["bash", str(script), "--apply", "--skip-nic-check"], cwd=tmp_path, env={**os.environ, "OVS_VSCTL": str(fake)}
    )
    # The stand-in database holds nothing, so the read-back fails: that is expected here.
    assert result.returncode == 1
    assert not (tmp_path / "pwned").exists()
    calls = log.read_text().split("----\n")
    transaction = next(call.splitlines() for call in calls if "add-bond" in call)
    add_bond = transaction.index("add-bond")
    assert transaction[add_bond + 1 : add_bond + 5] == [HOSTILE_BRIDGE, HOSTILE_BOND, HOSTILE_NIC, "eth3 x"]
    assert transaction[1:4] == ["--may-exist", "add-br", HOSTILE_BRIDGE]


def test_dry_run_prints_hostile_names_quoted(tmp_path: Path) -> None:
    script = hostile_script(tmp_path)
    result = run(["bash", str(script), "--dry-run"], cwd=tmp_path, env={**os.environ, "OVS_VSCTL": "ovs-vsctl"})
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "pwned").exists()
    # Each printed line is valid shell that gives back the same words.
    line = next(line for line in result.stdout.splitlines() if "add-bond" in line)
    printed = line.removeprefix("   -- ").removesuffix(" \\")
    words = run(["bash", "-c", "printf '%s\\n' " + printed]).stdout
    assert words.splitlines() == ["--may-exist", "add-bond", HOSTILE_BRIDGE, HOSTILE_BOND, HOSTILE_NIC, "eth3 x"]
    assert not (tmp_path / "pwned").exists()
