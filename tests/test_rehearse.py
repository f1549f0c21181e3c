"""`ovsgen rehearse` compares whole rows, and rehearses libvirt too: through a real private
ovsdb-server and `virsh -c test:///default`, with plans broken on purpose to show it notices."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import rehearse as rehearsal
from generator.changes import NodeChange
from generator.dbrows import OvsMap, differences, read_rows
from generator.pipeline import ValidDesign, validate_file
from generator.rehearse import Report, Step, rehearse
from generator.render.files import OutputFile
from generator.render.ovs_script import render_apply_script
from tests.conftest import REPO, require_tool, run
from tests.support.ovsdb import Ovsdb

pytestmark = pytest.mark.consumer

AHV = REPO / "designs" / "ahv-host.yaml"
NODE = "ahv-a-1"
CHANGES = REPO / "tests" / "designs" / "changes"
STORAGE = REPO / "designs" / "lacp-storage.yaml"


def step(report: Report, name: str) -> Step:
    (found,) = [s for s in report.steps if s.name == name]
    return found


def apply_design(ovsdb: Ovsdb, valid: ValidDesign, node: str, tmp_path: Path) -> None:
    """The design's own apply.sh on the private server: a host built by ovsgen."""
    (layout,) = [layout for layout in valid.layouts if layout.node.name == node]
    (script,) = render_apply_script(valid.design, layout, ".")
    path = tmp_path / "apply.sh"
    path.write_text(script.text)
    result = run(
        ["bash", str(path), "--apply", "--skip-nic-check"], env={**os.environ, "OVS_VSCTL": ovsdb.vsctl_command}
    )
    assert result.returncode == 0, result.stderr


def backup(ovsdb: Ovsdb, tmp_path: Path) -> Path:
    """The host's database file, as `ovsdb-client backup` makes it on a host."""
    client = require_tool("ovsdb-client")
    path = tmp_path / "host.db"
    path.write_bytes(subprocess.run([client, "backup", f"unix:{ovsdb.socket}"], check=True, capture_output=True).stdout)
    return path


def rows_now(ovsdb: Ovsdb) -> dict[tuple[str, str], dict[str, object]]:
    return read_rows(ovsdb.server.dump(), ovsdb.server.schema(), "test")


def edit_plan(monkeypatch: pytest.MonkeyPatch, name: str, edit: Callable[[str], str]) -> None:
    """Rehearse a plan whose file `name` is edited: a plan broken on purpose."""
    real = rehearsal.render_plan

    def edited(changes: list[NodeChange], source: str) -> list[OutputFile]:
        files = real(changes, source)
        assert name in {file.name for file in files}, "the plan has no file to break"
        return [
            OutputFile(file.path, edit(file.text), executable=file.executable) if file.name == name else file
            for file in files
        ]

    monkeypatch.setattr(rehearsal, "render_plan", edited)


# --- (a) a pruned port comes back whole, or rehearse says what it lost -------------


@pytest.fixture
def trunk_host(ovsdb: Ovsdb, tmp_path: Path) -> Path:
    """ahv-a-1 as ovsgen built it, plus a hand-made trunk port on br0 that a prune plan removes."""
    apply_design(ovsdb, validate_file(AHV), NODE, tmp_path)
    ovsdb.vsctl(
        "add-port", "br0", "trunk0", "trunks=10,20", "vlan_mode=trunk",
        "external_ids:owner=storage-team", "external_ids:ticket=OPS-42",
        "--", "set", "Interface", "trunk0", "external_ids:attached-by=hand",
    )  # fmt: skip
    return backup(ovsdb, tmp_path)


def test_a_pruned_trunk_port_is_rehearsed_back_whole(trunk_host: Path) -> None:
    report = rehearse(trunk_host, None, validate_file(AHV), NODE, prune=True)
    assert report.passed, report.text()


def _without_trunk_columns(text: str) -> str:
    """rollback.sh minus the trunks and vlan_mode it sets on trunk0 (whatever quoting it uses)."""
    broken = re.sub(r" '?(?:trunks=\[?10,20\]?|vlan_mode=trunk)'?", "", text)
    assert broken != text, "rollback.sh does not set trunks or vlan_mode"
    return broken


def test_a_rollback_that_loses_trunks_and_vlan_mode_fails_naming_them(
    trunk_host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_plan(monkeypatch, "rollback.sh", _without_trunk_columns)
    report = rehearse(trunk_host, None, validate_file(AHV), NODE, prune=True)
    assert not report.passed
    back = step(report, "the database is back to the starting state")
    assert not back.passed
    assert "Port trunk0 trunks: expected [10, 20], database []" in back.details.splitlines()
    assert "Port trunk0 vlan_mode: expected 'trunk', database empty" in back.details.splitlines()
    assert "FAIL  the database is back to the starting state" in report.text()


# --- (b) what the design does not manage stays, and rehearse does not mind it -------


def test_a_bond_keeps_hand_set_options_and_the_rehearsal_passes(ovsdb: Ovsdb, tmp_path: Path) -> None:
    """Only bond_mode differs from the design; bond_updelay and a detect-mode key set by hand stay."""
    apply_design(ovsdb, validate_file(AHV), NODE, tmp_path)
    ovsdb.vsctl(
        "set", "Port", "bond0", "bond_mode=balance-slb", "bond_updelay=30000",
        "other_config:bond-detect-mode=miimon", "other_config:bond-miimon-interval=100",
    )  # fmt: skip
    report = rehearse(backup(ovsdb, tmp_path), None, validate_file(AHV), NODE)
    assert report.passed, report.text()
    assert step(report, "change.sh --apply").passed
    assert step(report, "libvirt not rehearsed: a dump does not hold libvirt networks").passed


# --- (c) change.sh must not set what the design does not manage ---------------------


def test_a_change_that_sets_an_unmanaged_column_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("ovsdb-server")
    real = rehearsal.plan_designs

    def with_an_extra_command(*args: Any) -> list[NodeChange]:
        """The plan's change, plus a command setting bond_updelay, which no design manages."""
        (change,) = real(*args)
        first, *rest = change.change.changes
        extra = replace(first, commands=(*first.commands, ("set", "Port", "br1-up", "bond_updelay=500")))
        return [replace(change, change=replace(change.change, changes=(extra, *rest)))]

    monkeypatch.setattr(rehearsal, "plan_designs", with_an_extra_command)
    old, new = validate_file(CHANGES / "base.yaml"), validate_file(CHANGES / "lacp-on.yaml")
    report = rehearse(CHANGES / "base.yaml", old, new, "c1")
    assert step(report, "change.sh --apply").passed, report.text()
    after = step(report, "the database holds the new design's state")
    assert not after.passed
    assert after.details.splitlines() == ["Port br1-up bond_updelay: expected 0, database 500"]
    assert not report.passed


# --- (d) what only ovs-vswitchd writes does not count -------------------------------


def as_vswitchd_writes(ovsdb: Ovsdb) -> None:
    """What ovs-vswitchd writes on a running host (ovs-vsctl refuses to): on eth2, bond0 and the root row."""
    client = require_tool("ovsdb-client")
    update = [
        "Open_vSwitch",
        {"op": "update", "table": "Interface", "where": [["name", "==", "eth2"]],
         "row": {"ofport": 1, "link_state": "up", "mac_in_use": "0c:c4:7a:58:91:50", "lacp_current": True,
                 "statistics": ["map", [["rx_packets", 12]]], "status": ["map", [["driver_name", "ixgbe"]]]}},
        {"op": "update", "table": "Port", "where": [["name", "==", "bond0"]],
         "row": {"bond_active_slave": "0c:c4:7a:58:91:50", "status": ["map", [["bond_active_member", "eth2"]]]}},
        {"op": "update", "table": "Open_vSwitch", "where": [], "row": {"cur_cfg": 12, "next_cfg": 12}},
    ]  # fmt: skip
    result = run([client, "transact", f"unix:{ovsdb.socket}", json.dumps(update)])
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stdout, result.stdout


def test_columns_only_ovs_vswitchd_writes_do_not_count(ovsdb: Ovsdb) -> None:
    ovsdb.vsctl("add-br", "br0", "--", "add-bond", "br0", "bond0", "eth2", "eth3")
    before = rows_now(ovsdb)
    as_vswitchd_writes(ovsdb)
    assert differences(before, rows_now(ovsdb)) == []
    ovsdb.vsctl("set", "Interface", "eth2", "mtu_request=9000", "--", "set", "Port", "bond0", "trunks=5")
    assert differences(before, rows_now(ovsdb)) == [
        "Port bond0 trunks: expected [], database [5]",
        "Interface eth2 mtu_request: expected empty, database 9000",
    ]


def test_a_host_as_ovs_vswitchd_left_it_rehearses_clean(ovsdb: Ovsdb, tmp_path: Path) -> None:
    """The rebuilt bond loses ofport, status and the rest until ovs-vswitchd writes them again: not a difference."""
    apply_design(ovsdb, validate_file(AHV), NODE, tmp_path)
    ovsdb.vsctl("set", "Port", "bond0", "bond_mode=balance-tcp")
    as_vswitchd_writes(ovsdb)
    report = rehearse(backup(ovsdb, tmp_path), None, validate_file(AHV), NODE)
    assert report.passed, report.text()


def test_a_difference_shows_untrusted_text_escaped_and_cut() -> None:
    key = ("Port", "p\x1b[2J")
    lines = differences({key: {"external_ids": None}}, {key: {"external_ids": "x" * 500 + "\n"}})
    assert lines == [f"Port 'p\\x1b[2J' external_ids: expected empty, database {'x' * 60!r}..."]


# --- (e) libvirt change and rollback on the test driver -------------------------------


@pytest.fixture
def storage_pair(tmp_path: Path) -> tuple[ValidDesign, ValidDesign]:
    """lacp-storage, and a copy whose tenant network's portgroups change."""
    require_tool("virsh")
    text = STORAGE.read_text()
    changed = text.replace("{name: db, vlan: 101}", "{name: db, vlan: 105}").replace(
        "trunk: [100, 101, 102]", "trunk: [100, 101, 102, 103]"
    )
    assert changed != text
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / STORAGE.name).write_text(changed)
    return validate_file(STORAGE), validate_file(folder / STORAGE.name)


def test_libvirt_change_and_rollback_are_rehearsed(storage_pair: tuple[ValidDesign, ValidDesign]) -> None:
    old, new = storage_pair
    report = rehearse(STORAGE, old, new, "kvm-s-1")
    assert report.passed, report.text()
    names = [s.name for s in report.steps]
    assert names[-5:] == [
        "build the starting networks with the old design's define.sh",
        "libvirt-change.sh --apply",
        "libvirt holds the new design's networks",
        "libvirt-rollback.sh --apply",
        "libvirt is back to the starting networks",
    ]


def test_a_libvirt_rollback_that_does_nothing_is_caught(
    storage_pair: tuple[ValidDesign, ValidDesign], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = storage_pair
    edit_plan(monkeypatch, "libvirt-rollback.sh", lambda text: "#!/bin/bash\necho 'Applied and verified.'\n")
    report = rehearse(STORAGE, old, new, "kvm-s-1")
    assert not report.passed
    back = step(report, "libvirt is back to the starting networks")
    assert not back.passed
    assert "network tenant: its definition differs" in back.details
    lines = back.details.splitlines()
    assert (lines[5], lines[6]) == ('  -      <tag id="101"/>', '  +      <tag id="105"/>'), back.details


def test_a_libvirt_change_that_does_nothing_is_caught(
    storage_pair: tuple[ValidDesign, ValidDesign], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = storage_pair
    edit_plan(monkeypatch, "libvirt-change.sh", lambda text: "#!/bin/bash\necho 'Applied and verified.'\n")
    report = rehearse(STORAGE, old, new, "kvm-s-1")
    after = step(report, "libvirt holds the new design's networks")
    assert not after.passed
    assert '  -      <tag id="103"/>' in after.details.splitlines()


def test_without_virsh_a_plan_with_libvirt_changes_fails_saying_so(
    storage_pair: tuple[ValidDesign, ValidDesign], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = storage_pair
    real = shutil.which
    monkeypatch.setattr(rehearsal.shutil, "which", lambda name, **kw: None if name == "virsh" else real(name, **kw))
    report = rehearse(STORAGE, old, new, "kvm-s-1")
    assert not report.passed
    assert not step(report, "libvirt not rehearsed: virsh is missing").passed
    assert step(report, "the database is back to the starting state").passed


def test_the_rehearsal_virsh_is_shellcheck_clean_and_keeps_networks(tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck")
    driver = rehearsal.LibvirtTestDriver(tmp_path, require_tool("virsh"))
    driver.start()
    assert run([shellcheck, "--shell=bash", str(driver.command)]).returncode == 0
    assert driver.query("net-list", "--all", "--name").split() == []  # the driver's own "default" is gone
    xml = tmp_path / "n1.xml"
    xml.write_text("<network>\n  <name>n1</name>\n  <bridge name='br9'/>\n</network>\n")
    driver.query("net-define", "--file", str(xml))
    driver.query("net-start", "--network", "n1")
    xml.write_text("<network>\n  <name>n1</name>\n  <bridge name='br8'/>\n</network>\n")
    uuid = driver.query("net-uuid", "--network", "n1").strip()
    with_uuid = tmp_path / "n1-again.xml"
    with_uuid.write_text(f"<network>\n  <name>n1</name>\n  <uuid>{uuid}</uuid>\n  <bridge name='br8'/>\n</network>\n")
    driver.query("net-define", "--file", str(with_uuid))  # redefined while active: the stored definition changes
    assert driver.networks() == {
        "n1": rehearsal.Network(
            '<network>\n  <name>n1</name>\n  <bridge name="br8" stp="on" delay="0"/>\n</network>\n',
            (("Active", "yes"), ("Persistent", "yes"), ("Autostart", "no")),
        )
    }
    assert driver.query("net-uuid", "--network", "n1").strip() == uuid


# --- the comparison itself, on any values ----------------------------------------------

ATOMS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=8), st.booleans())
VALUES = st.one_of(
    st.none(),
    ATOMS,
    st.frozensets(st.integers(0, 4095), max_size=4),
    st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=6), max_size=3).map(
        lambda found: OvsMap(tuple(sorted(found.items())))
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    row=st.dictionaries(st.sampled_from(["tag", "trunks", "other_config", "bond_updelay"]), VALUES, min_size=1),
    column=st.sampled_from(["tag", "trunks", "other_config", "bond_updelay"]),
    value=VALUES,
)
def test_every_changed_cell_is_named_and_nothing_else(row: dict[str, object], column: str, value: object) -> None:
    key = ("Port", "p1")
    changed = {**row, column: value}
    lines = differences({key: row}, {key: changed})
    if column not in row or row[column] == value:
        assert lines == []
    else:
        assert lines
        assert all(line.startswith(f"Port p1 {column}") for line in lines)
    assert differences({key: row}, {key: row}) == []
    assert differences({key: row}, {}) == ["Port p1: expected, not in the database"]
