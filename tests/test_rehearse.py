"""`ovsgen rehearse` compares whole rows, and rehearses libvirt too: through a real private
ovsdb-server and `virsh -c test:///default`, with plans broken on purpose to show it notices."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.changes import rehearse as rehearsal
from generator.changes import rehearse_libvirt, rehearse_ovsdb, rehearse_start
from generator.changes.node_changes import NodeChange
from generator.changes.rehearse import rehearse
from generator.changes.rehearse_report import Report, Step
from generator.design.validate import ValidDesign, validate_file
from generator.errors import DumpInvalid, ToolUnavailable
from generator.ovs.cells import OvsMap
from generator.ovs.dbrows import differences, read_rows
from generator.ovs.hostdump import MAX_DUMP_BYTES
from generator.render.context import node_context
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
    (script,) = render_apply_script(node_context(valid.design, layout, "."))
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
    broken = re.sub(r""" '?(?:trunks=\[?10,20\]?|vlan_mode="?trunk"?)'?""", "", text)
    assert broken != text, "rollback.sh does not set trunks or vlan_mode"
    return broken


def test_a_rehearsal_from_a_dump_prunes_only_when_asked(trunk_host: Path) -> None:
    report = rehearse(trunk_host, None, validate_file(AHV), NODE)
    assert report.text().startswith(f"Rehearsal of node {NODE}:\n")
    assert step(report, "change.sh --apply") == Step("change.sh --apply", True, "nothing to change on this node")
    assert report.passed


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
        first, *rest = change.ovs.changes
        extra = replace(first, commands=(*first.commands, ("set", "Port", "br1-up", "bond_updelay=500")))
        return [replace(change, ovs=replace(change.ovs, changes=(extra, *rest)))]

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
    monkeypatch.setattr(shutil, "which", lambda name, **kw: None if name == "virsh" else real(name, **kw))
    report = rehearse(STORAGE, old, new, "kvm-s-1")
    assert not report.passed
    assert step(report, "libvirt not rehearsed: virsh is missing") == Step(
        "libvirt not rehearsed: virsh is missing", False
    )
    assert step(report, "the database is back to the starting state").passed


def test_the_rehearsal_virsh_is_shellcheck_clean_and_keeps_networks(tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck")
    driver = rehearse_libvirt.LibvirtTestDriver(tmp_path, require_tool("virsh"))
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
    option = tmp_path / "option.xml"  # a name that reads as an option unless given as --network's
    option.write_text("<network>\n  <name>--x</name>\n  <bridge name='br7'/>\n</network>\n")
    driver.query("net-define", "--file", str(option))
    assert driver.networks() == {
        "n1": rehearse_libvirt.Network(
            '<network>\n  <name>n1</name>\n  <bridge name="br8" stp="on" delay="0"/>\n</network>\n',
            (("Active", "yes"), ("Persistent", "yes"), ("Autostart", "no")),
        ),
        "--x": rehearse_libvirt.Network(
            '<network>\n  <name>--x</name>\n  <bridge name="br7" stp="on" delay="0"/>\n</network>\n',
            (("Active", "no"), ("Persistent", "yes"), ("Autostart", "no")),
        ),
    }
    # Everything in its folder: the stand-in (not writable by others) and the networks it keeps.
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "n1-again.xml",
        "n1.xml",
        "option.xml",
        "state",
        "virsh",
    ]
    assert stat.S_IMODE(driver.command.stat().st_mode) == 0o755
    assert sorted(path.name for path in (tmp_path / "state" / "networks").iterdir()) == ["--x", "n1"]
    assert driver.query("net-uuid", "--network", "n1").strip() == uuid
    with pytest.raises(subprocess.CalledProcessError):  # a failed query is no empty answer
        driver.query("net-info", "--network", "n2")


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


# --- the whole rehearsal, step by step -------------------------------------------------


def steps(report: Report) -> list[tuple[str, bool]]:
    return [(s.name, s.passed) for s in report.steps]


OVS_STEPS = [
    ("change.sh --apply", True),
    ("the database holds the new design's state", True),
    ("rollback.sh --apply", True),
    ("the database is back to the starting state", True),
]


def test_a_bridge_the_new_design_drops_is_rehearsed_away_and_back() -> None:
    require_tool("ovsdb-server")
    old, new = validate_file(CHANGES / "bridge-added.yaml"), validate_file(CHANGES / "base.yaml")
    report = rehearse(CHANGES / "bridge-added.yaml", old, new, "c1")
    assert steps(report) == [("build the starting state with the old design's apply.sh", True), *OVS_STEPS]
    assert report.passed


TINY = """\
version: 1
name: tiny
host: {bridge: br0, gateway: 10.30.0.1}
bridges:
  br0: {uplinks: {nics: [eth0]}}
networks:
  - {name: vm, bridge: br0, vlan: 32}
nodes:
  - {name: c1, nics: {eth0: 1G}, address: 10.30.0.11/24}
"""


def test_a_node_the_old_design_lacks_starts_empty_and_one_the_new_design_lacks_ends_empty(tmp_path: Path) -> None:
    require_tool("ovsdb-server")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "tiny.yaml").write_text(TINY)
    (tmp_path / "two" / "tiny.yaml").write_text(TINY + "  - {name: c2, nics: {eth0: 1G}, address: 10.30.0.12/24}\n")
    one, two = validate_file(tmp_path / "one" / "tiny.yaml"), validate_file(tmp_path / "two" / "tiny.yaml")
    libvirt = [
        ("libvirt-change.sh --apply", True),
        ("libvirt holds the new design's networks", True),
        ("libvirt-rollback.sh --apply", True),
        ("libvirt is back to the starting networks", True),
    ]
    assert steps(rehearse(tmp_path / "one" / "tiny.yaml", one, two, "c2")) == [*OVS_STEPS, *libvirt]
    removed = rehearse(tmp_path / "two" / "tiny.yaml", two, one, "c2")
    assert steps(removed) == [
        ("build the starting state with the old design's apply.sh", True),
        *OVS_STEPS,
        ("build the starting networks with the old design's define.sh", True),
        *libvirt,
    ]


def test_a_failing_reference_or_starting_apply_ends_the_rehearsal_there(monkeypatch: pytest.MonkeyPatch) -> None:
    """The new design's apply.sh runs first (on its own server), the old design's second."""
    require_tool("ovsdb-server")
    real, calls = rehearsal._run, []

    def failing(at: int) -> Callable[..., Step]:
        def run_or_fail(file: OutputFile, server: rehearse_ovsdb.PrivateOvsdb, workdir: Path) -> Step:
            calls.append(workdir)
            return Step(f"{file.name} --apply", False, "it broke") if len(calls) == at else real(file, server, workdir)

        return run_or_fail

    old, new = validate_file(CHANGES / "base.yaml"), validate_file(CHANGES / "lacp-on.yaml")
    monkeypatch.setattr(rehearsal, "_run", failing(1))
    report = rehearse(CHANGES / "base.yaml", old, new, "c1")
    assert report.steps == [Step("build the new design's state on an empty database", False, "it broke")]
    assert [path.name for path in calls] == ["chg"]
    assert calls[0].parent.name == "reference"
    calls.clear()
    monkeypatch.setattr(rehearsal, "_run", failing(2))
    report = rehearse(CHANGES / "base.yaml", old, new, "c1")
    assert report.steps == [Step("build the starting state with the old design's apply.sh", False, "it broke")]
    assert [(path.parent.name, path.name) for path in calls] == [("reference", "chg"), ("start", "chg")]


def test_a_backup_is_checked_before_a_server_serves_it(tmp_path: Path) -> None:
    require_tool("ovsdb-tool")
    garbage = tmp_path / "host.db"
    garbage.write_bytes(b"OVSDB JSON 5 0000\n{}\n")
    with pytest.raises(DumpInvalid) as refused:
        rehearse(garbage, None, validate_file(AHV), NODE)
    assert [d.message for d in refused.value.diagnostics] == [
        "not a standalone OVSDB database (make it with: ovsdb-client backup)"
    ]


def test_what_the_server_reads_back_from_a_backup_is_checked_as_a_host_dump(ovsdb: Ovsdb, tmp_path: Path) -> None:
    ovsdb.vsctl("add-br", "br 1")  # Open vSwitch's schema allows any name; ovsgen does not
    path = backup(ovsdb, tmp_path)
    with pytest.raises(DumpInvalid) as refused:
        rehearse(path, None, validate_file(AHV), NODE)
    (found,) = refused.value.diagnostics
    assert (found.file, found.message) == (
        f"{path} (read back by ovsdb-client dump)",
        "Bridge row 1: name: 'br 1' is not a name: 1-255 of A-Z a-z 0-9 _ . : @ + % -, not starting with . or -",
    )


def test_a_backup_with_a_schema_of_its_own_is_refused_once_served(tmp_path: Path) -> None:
    tools = rehearse_ovsdb.find_tools()
    schema = json.loads(tools.schema.read_text())
    schema["tables"]["Port"]["columns"]["tag"]["type"] = {"key": "string", "min": 0, "max": 1}
    (tmp_path / "own.ovsschema").write_text(json.dumps(schema))
    backup = tmp_path / "host.db"
    subprocess.run([tools.paths["ovsdb-tool"], "create", str(backup), str(tmp_path / "own.ovsschema")], check=True)
    with pytest.raises(DumpInvalid) as refused:
        rehearse(backup, None, validate_file(AHV), NODE)
    (found,) = refused.value.diagnostics
    assert (found.file, found.message.split(" has type ")[0]) == (
        str(backup), "the database's schema is not Open vSwitch's: Port.tag"
    )  # fmt: skip


# --- the parts of a rehearsal, one by one ----------------------------------------------


def test_a_report_reads_step_by_step() -> None:
    report = Report("c1", [Step("change.sh --apply", True), Step("the database holds it", False, "one\ntwo")])
    assert not report.passed
    assert report.text() == (
        "Rehearsal of node c1:\n"
        "  PASS  change.sh --apply\n"
        "  FAIL  the database holds it\n"
        "        one\n"
        "        two\n"
        "Result: FAILED.\n"
    )
    held = Report("c2", [Step("a", True, "fine")])
    assert held.passed
    assert held.text() == "Rehearsal of node c2:\n  PASS  a\n        fine\nResult: every step held.\n"
    assert not Report("c3").passed  # nothing rehearsed is no pass


def stand_ins(folder: Path, *names: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text("#!/bin/sh\n")
        (folder / name).chmod(0o755)
    return folder


def test_the_tools_are_found_on_path_and_in_sbin_and_what_is_missing_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/usr/sbin/ovsdb-server").exists() or Path("/usr/sbin/ovsdb-client").exists():
        pytest.skip("needs ovsdb-server in /usr/sbin and ovsdb-client elsewhere (Debian's layout)")
    schemas = (tmp_path / "none.ovsschema", tmp_path / "a.ovsschema", tmp_path / "b.ovsschema")
    schemas[1].write_text("{}")
    schemas[2].write_text("{}")
    monkeypatch.setattr(rehearse_ovsdb, "SCHEMA_PATHS", schemas)
    folder = stand_ins(tmp_path / "bin", "ovsdb-tool", "ovs-vsctl")
    monkeypatch.setenv("PATH", str(folder))
    with pytest.raises(ToolUnavailable) as missing:
        rehearse_ovsdb.find_tools()
    assert str(missing.value) == (
        "rehearse needs Open vSwitch's database tools; missing: ovsdb-client "
        "(Debian/Ubuntu: apt-get install openvswitch-switch; RHEL: dnf install openvswitch)"
    )
    stand_ins(folder, "ovsdb-client")
    assert rehearse_ovsdb.find_tools() == rehearse_ovsdb.Tools(
        {"ovsdb-tool": f"{folder}/ovsdb-tool", "ovsdb-server": "/usr/sbin/ovsdb-server",
         "ovsdb-client": f"{folder}/ovsdb-client", "ovs-vsctl": f"{folder}/ovs-vsctl"},
        schemas[1],
    )  # fmt: skip
    monkeypatch.setattr(rehearse_ovsdb, "SCHEMA_PATHS", schemas[:1])
    with pytest.raises(ToolUnavailable, match=r"missing: the Open_vSwitch schema \(vswitch.ovsschema\) "):
        rehearse_ovsdb.find_tools()
    monkeypatch.delenv("PATH")
    with pytest.raises(ToolUnavailable, match=r"missing: ovsdb-tool, ovsdb-client, ovs-vsctl \("):
        rehearse_ovsdb.find_tools()


def test_a_database_file_is_told_from_a_design_by_its_first_word(tmp_path: Path) -> None:
    cases = {
        "db": b"OVSDB JSON 5 abc\n",
        "short": b"OVSD",
        "design": b"# OVSDB\nnodes: []\n",
        "clustered": b"OVSDB CLUSTER",
    }
    for name, text in cases.items():
        (tmp_path / name).write_bytes(text)
    assert [name for name in cases if rehearse_start.is_database_file(tmp_path / name)] == ["db", "clustered"]
    assert not rehearse_start.is_database_file(AHV)


def fake_tools() -> rehearse_ovsdb.Tools:
    return rehearse_ovsdb.Tools({"ovs-vsctl": "/opt/ovs/ovs-vsctl"}, Path("/opt/ovs/vswitch.ovsschema"))


def test_a_driver_whose_virsh_fails_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError):
        rehearse_libvirt.LibvirtTestDriver(tmp_path, "/bin/false").start()


def test_a_private_server_poses_as_the_node_to_the_scripts_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = rehearse_ovsdb.PrivateOvsdb(tmp_path, fake_tools())
    assert server.vsctl == f"/opt/ovs/ovs-vsctl --db=unix:{tmp_path}/db.sock --no-wait"
    env = server.environment()
    assert (env["OVS_VSCTL"], env["PATH"]) == (server.vsctl, os.environ["PATH"])
    server.pose_as("kvm-b-2 'it's me'")
    server.pose_as("kvm-b-2 $(it's me)")  # again: the stand-in is rewritten
    env = server.environment()
    assert env["PATH"] == f"{tmp_path}/host-bin:{os.environ['PATH']}"
    assert run(["hostname"], env=env).stdout == "kvm-b-2 $(it's me)\n"
    assert stat.S_IMODE((tmp_path / "host-bin" / "hostname").stat().st_mode) == 0o755
    monkeypatch.delenv("PATH")
    assert server.environment()["PATH"] == f"{tmp_path}/host-bin:"


def test_a_script_runs_with_apply_on_the_server_and_its_output_is_kept_when_it_fails(tmp_path: Path) -> None:
    server = rehearse_ovsdb.PrivateOvsdb(tmp_path / "server", fake_tools())
    text = 'echo "$* [$OVS_VSCTL]"\necho oops >&2\nexit 3\n'
    failed = rehearsal._run(OutputFile("c1/x.sh", text, executable=True), server, tmp_path / "work")
    assert failed == Step("x.sh --apply", False, f"--apply --skip-nic-check [{server.vsctl}]\noops")
    assert (tmp_path / "work" / "c1" / "x.sh").read_text() == text
    assert rehearsal._run(OutputFile("y.sh", "echo fine\n"), server, tmp_path / "work") == Step("y.sh --apply", True)


def test_a_virsh_script_runs_with_apply_on_the_driver_and_its_output_is_kept_when_it_fails(tmp_path: Path) -> None:
    driver = rehearse_libvirt.LibvirtTestDriver(tmp_path / "driver", "/usr/bin/virsh")
    plan = rehearse_libvirt.LibvirtPlan([], tmp_path, {"PATH": os.environ["PATH"], "FROM_PLAN": "yes"})
    script = tmp_path / "s.sh"
    script.write_text('echo "$* [$VIRSH] $FROM_PLAN"\necho oops >&2\nexit 2\n')
    assert rehearse_libvirt._run_virsh_script(script, driver, plan) == Step(
        "s.sh --apply", False, f"--apply [{driver.command}] yes\noops"
    )
    script.write_text("echo fine\n")
    assert rehearse_libvirt._run_virsh_script(script, driver, plan) == Step("s.sh --apply", True)


def test_a_script_the_plan_lacks_is_a_passed_step_saying_so(tmp_path: Path) -> None:
    report = Report("c1")
    rehearsal._check_script(report, {}, "change.sh", rehearse_ovsdb.PrivateOvsdb(tmp_path, fake_tools()), tmp_path)
    assert report.steps == [Step("change.sh --apply", True, "nothing to change on this node")]


def test_a_node_outside_a_design_has_no_apply_step(tmp_path: Path) -> None:
    server = rehearse_ovsdb.PrivateOvsdb(tmp_path, fake_tools())
    assert rehearsal._apply_design(validate_file(AHV), "no-such-node", server, tmp_path) is None


def test_what_the_reference_says_of_port_and_interface_kinds() -> None:
    from generator.ovs.state import InterfaceState, OvsState, PortState

    state = OvsState(
        ("br0",),
        (PortState("bond0", "br0", "bond", ("eth2", "eth3")), PortState("mgmt0", "br0", "internal", ("mgmt0",))),
        (InterfaceState("eth2", 9000), InterfaceState("mgmt0", None, "internal"), InterfaceState("vx0", None, "vxlan")),
    )
    assert rehearsal._kinds(state) == {
        ("Port", "bond0"): "bond",
        ("Port", "mgmt0"): "internal",
        ("Interface", "eth2"): "",
        ("Interface", "mgmt0"): "internal",
        ("Interface", "vx0"): "",
    }


def test_a_stopped_server_cannot_be_read_and_says_so(ovsdb: Ovsdb, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (ovsdb.folder.parent, ovsdb.folder.name[:7]) == (Path("/tmp"), "ovsgen-")  # a short socket path
    ovsdb.vsctl("add-br", "br0")
    state, rows = ovsdb.server.snapshot()
    assert (state.bridges, rows[("Bridge", "br0")]["name"]) == (("br0",), "br0")
    with monkeypatch.context() as patched:
        patched.setattr(ovsdb.server, "schema", lambda: None)  # its schema cannot be read back
        with pytest.raises(DumpInvalid) as refused:
            ovsdb.server.snapshot("the test's rows")
        assert [(d.file, d.message.split(":")[0]) for d in refused.value.diagnostics] == [
            ("the test's rows", "the database's schema cannot be read")
        ]
    ovsdb.vsctl("add-br", "br 1")  # checked as any host dump is
    for source in ("the test's snapshot", None):
        with pytest.raises(DumpInvalid) as refused:
            ovsdb.server.snapshot(source) if source else ovsdb.server.snapshot()
        assert [(d.file, "name: 'br 1' is not a name" in d.message) for d in refused.value.diagnostics] == [
            (source or "ovsdb-client dump", True)
        ]
    client = ovsdb.folder / "ovsdb-client"
    client.write_text(f'#!/bin/sh\n{ovsdb.server.tools.paths["ovsdb-client"]} "$@"\nexit 1\n')
    client.chmod(0o755)
    failing = replace(ovsdb.server.tools, paths={**ovsdb.server.tools.paths, "ovsdb-client": str(client)})
    assert rehearse_ovsdb.PrivateOvsdb(ovsdb.folder, failing).schema() is None  # it printed the schema, then failed
    ovsdb.server.stop()
    assert ovsdb.server.schema() is None
    for source in ("the test's snapshot", None):
        with pytest.raises(DumpInvalid) as refused:
            ovsdb.server.snapshot(source) if source else ovsdb.server.snapshot()
        assert [d.file for d in refused.value.diagnostics] == [source or "ovsdb-client dump"]
    for source in ("the test's dump", None):
        with pytest.raises(DumpInvalid) as refused:
            ovsdb.server.dump(source) if source else ovsdb.server.dump()
        (found,) = refused.value.diagnostics
        assert found.file == (source or "ovsdb-client dump")
        assert found.message.startswith("ovsdb-client dump failed: 'ovsdb-client: failed to connect to ")
    ovsdb.server.stop()  # stopped already: nothing to do


def test_a_server_that_does_not_start_is_an_error_and_for_a_backup_a_refusal_in_its_words(tmp_path: Path) -> None:
    tools = rehearse_ovsdb.find_tools()
    broken = replace(tools, paths={**tools.paths, "ovsdb-server": str(tmp_path / "ovsdb-server")})
    (tmp_path / "ovsdb-server").write_text('#!/bin/sh\necho "ovsdb-server: I/O error: $1" >&2\nexit 1\n')
    (tmp_path / "ovsdb-server").chmod(0o755)
    with pytest.raises(subprocess.CalledProcessError), rehearse_ovsdb.private_ovsdb(broken):
        pass
    path = database(tmp_path)
    with pytest.raises(DumpInvalid) as refused, rehearse_ovsdb.private_ovsdb(broken, path):
        pass
    (found,) = refused.value.diagnostics
    assert (found.file, found.message[:48]) == (str(path), "ovsdb-server cannot serve it: 'ovsdb-server: I/O")
    assert found.message.endswith("/conf.db'")  # its copy of the backup


def test_a_server_gone_before_it_is_stopped_is_no_error(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / "ovsdb-server.pid").write_text(f"{gone.pid}\n")
    rehearse_ovsdb.PrivateOvsdb(tmp_path, fake_tools()).stop()


def test_a_server_that_ignores_sigterm_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(60)"
    stubborn = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert stubborn.stdout is not None
    stubborn.stdout.readline()  # SIGTERM is ignored from here on
    (tmp_path / "ovsdb-server.pid").write_text(f"{stubborn.pid}\n")
    monkeypatch.setattr(rehearse_ovsdb.time, "sleep", lambda seconds: None)  # not the five seconds it waits
    rehearse_ovsdb.PrivateOvsdb(tmp_path, fake_tools()).stop()
    assert stubborn.wait(timeout=10) == -signal.SIGKILL
    stubborn.stdout.close()


def test_a_process_is_alive_whatever_its_name(tmp_path: Path) -> None:
    """/proc/<pid>/stat shows the name in parentheses, and a name may hold ") Z (" itself."""
    name = tmp_path / "x) Z (y"
    name.symlink_to(shutil.which("sleep") or "/bin/sleep")
    process = subprocess.Popen([str(name), "30"])
    try:
        assert rehearse_ovsdb._alive(process.pid)
    finally:
        process.kill()
        process.wait()


def test_a_zombie_is_not_alive(tmp_path: Path) -> None:
    assert rehearse_ovsdb._alive(os.getpid())
    child = subprocess.Popen(["true"])
    for _ in range(500):
        if Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.01)
    assert not rehearse_ovsdb._alive(child.pid)
    child.wait()
    assert not rehearse_ovsdb._alive(child.pid)


# --- a backup, before it is served --------------------------------------------------


def database(tmp_path: Path, edit: Callable[[dict[str, Any]], None] = lambda schema: None) -> Path:
    tools = rehearse_ovsdb.find_tools()
    schema = json.loads(tools.schema.read_text())
    edit(schema)
    (tmp_path / "schema.ovsschema").write_text(json.dumps(schema))
    path = tmp_path / "host.db"
    subprocess.run([tools.paths["ovsdb-tool"], "create", str(path), str(tmp_path / "schema.ovsschema")], check=True)
    return path


def refused_backup(path: Path) -> tuple[str, str]:
    with pytest.raises(DumpInvalid) as refused:
        rehearse_start.refuse_foreign_backup(path, rehearse_ovsdb.find_tools())
    (found,) = refused.value.diagnostics
    assert (found.line, found.column, found.path) == (1, 1, ())
    return found.file, found.message


def test_a_standalone_open_vswitch_database_is_accepted(tmp_path: Path) -> None:
    require_tool("ovsdb-tool")
    rehearse_start.refuse_foreign_backup(database(tmp_path), rehearse_ovsdb.find_tools())


def test_a_database_of_another_name_is_refused(tmp_path: Path) -> None:
    require_tool("ovsdb-tool")
    path = database(tmp_path, lambda schema: schema.update(name="Evil"))
    assert refused_backup(path) == (str(path), "the database is 'Evil', not Open_vSwitch")


def test_a_backup_too_big_or_not_a_database_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    require_tool("ovsdb-tool")
    path = tmp_path / "host.db"
    with path.open("wb") as handle:
        handle.truncate(MAX_DUMP_BYTES + 1)
    limit = f"the backup is {MAX_DUMP_BYTES + 1} bytes; ovsgen rehearses backups of up to 67108864 bytes"
    assert refused_backup(path) == (str(path), limit)
    with path.open("wb") as handle:
        handle.truncate(MAX_DUMP_BYTES)
    assert refused_backup(path) == (str(path), "not a standalone OVSDB database (make it with: ovsdb-client backup)")
    assert capfd.readouterr() == ("", "")  # in ovsgen's words only: what ovsdb-tool said does not show


def test_a_backup_whose_name_ovsdb_tool_cannot_read_is_refused_in_its_words(tmp_path: Path) -> None:
    require_tool("ovsdb-tool")
    record = b"{}"
    path = tmp_path / "host.db"
    path.write_bytes(b"OVSDB JSON 2 %s\n%s\n" % (hashlib.sha1(record).hexdigest().encode(), record))
    file, message = refused_backup(path)
    assert file == str(path)
    assert message.startswith("ovsdb-tool cannot read the database's name: 'ovsdb-tool: syntax \"{}\": syntax error: ")


class Served:
    """What refuse_foreign_schema asks of a server: the installed schema's path and the served schema."""

    def __init__(self, tools: rehearse_ovsdb.Tools, schema: object) -> None:
        self.tools, self.served = tools, schema

    def schema(self) -> object:
        return self.served


def schema_refusal(served: object) -> str | None:
    tools = rehearse_ovsdb.find_tools()
    try:
        rehearse_start.refuse_foreign_schema(Path("host.db"), Served(tools, served))  # type: ignore[arg-type]
    except DumpInvalid as refused:
        (found,) = refused.diagnostics
        assert (found.file, found.line, found.column) == ("host.db", 1, 1)
        return found.message.replace(str(tools.schema), "SCHEMA")
    return None


def test_a_served_schema_is_compared_type_by_type_with_the_installed_one() -> None:
    require_tool("ovsdb-tool")
    installed = json.loads(rehearse_ovsdb.find_tools().schema.read_text())
    assert schema_refusal(installed) is None
    installed["tables"]["Port"]["columns"]["note"] = {"type": "string"}  # a column ovsgen does not read
    installed["tables"]["Bridge"]["columns"]["name"]["type"] = {"key": "string"}  # the same type, spelled out
    assert schema_refusal(installed) is None
    assert schema_refusal(None) == (
        "the database's schema is not Open vSwitch's: Bridge.name has type None, where SCHEMA has 'string'"
    )
    installed["tables"]["Interface"]["columns"]["mtu_request"]["type"] = {"key": "real", "min": 0, "max": 1}
    assert schema_refusal(installed) == (
        "the database's schema is not Open vSwitch's: Interface.mtu_request has type {'key': 'real', 'min': 0, "
        "'max': 1}, where SCHEMA has {'key': {'type': 'integer', 'minInteger': 1}, 'min': 0, 'max..."
    )
    installed["tables"]["Interface"]["columns"]["mtu_request"]["type"] = {"key": "decimal"}  # not a type at all
    assert schema_refusal(installed) == (
        "the database's schema is not Open vSwitch's: Interface.mtu_request has type {'key': 'decimal'}, "
        "where SCHEMA has {'key': {'type': 'integer', 'minInteger': 1}, 'min': 0, 'max..."
    )
    del installed["tables"]["Interface"]
    assert schema_refusal(installed) == (
        "the database's schema is not Open vSwitch's: Interface.name has type None, where SCHEMA has 'string'"
    )
    assert schema_refusal({"tables": {"Bridge": {"columns": []}}}) == (
        "the database's schema is not Open vSwitch's: Bridge.name has type None, where SCHEMA has 'string'"
    )


# --- libvirt, piece by piece ----------------------------------------------------------


class Networks:
    """A driver as _same_networks reads it."""

    def __init__(self, found: dict[str, rehearse_libvirt.Network]) -> None:
        self.found = found

    def networks(self) -> dict[str, rehearse_libvirt.Network]:
        return self.found


def test_networks_are_compared_by_presence_flags_and_definition() -> None:
    flags = (("Active", "yes"), ("Persistent", "yes"), ("Autostart", "no"))
    one = rehearse_libvirt.Network("<network>\n  <name>a</name>\n  <tag id='1'/>\n</network>\n", flags)
    other = rehearse_libvirt.Network(
        "<network>\n  <name>a</name>\n  <tag id='2'/>\n</network>\n", (("Active", "no"), flags[1])
    )
    same = rehearse_libvirt._same_networks("t", {"a": one}, Networks({"a": one}))  # type: ignore[arg-type]
    assert same == Step("t", True, "")
    differ = rehearse_libvirt._same_networks("t", {"0": one, "a": one, "b": one}, Networks({"a": other, "c": one}))  # type: ignore[arg-type]
    assert (differ.name, differ.passed) == ("t", False)
    assert differ.details.splitlines() == [
        "network 0: expected, not defined",
        "network a Active: expected yes, libvirt no",
        "network a Autostart: expected no, libvirt unknown",
        "network a: its definition differs",
        "  --- expected",
        "  +++ libvirt",
        "  @@ -2,3 +2,3 @@",
        "     <name>a</name>",
        "  -  <tag id='1'/>",
        "  +  <tag id='2'/>",
        "   </network>",
        "network b: expected, not defined",
        "network c: defined, not expected",
    ]


def test_a_definition_is_laid_out_one_way() -> None:
    xml = "<network>\n      <name>n</name>\n<bridge name='br0'/>\n</network>"
    assert rehearse_libvirt._normalised(xml) == '<network>\n  <name>n</name>\n  <bridge name="br0"/>\n</network>\n'


def test_a_definition_is_compared_without_what_libvirt_makes_up() -> None:
    xml = (
        "<network><name>n</name><uuid>1234</uuid>  <mac address='52:54:00:00:00:01'/>"
        "<bridge name='br0'/><portgroup name='p'><vlan><tag id='5'/></vlan></portgroup></network>"
    )
    assert rehearse_libvirt._normalised(xml) == (
        '<network>\n  <name>n</name>\n  <bridge name="br0"/>\n  <portgroup name="p">\n    <vlan>\n'
        '      <tag id="5"/>\n    </vlan>\n  </portgroup>\n</network>\n'
    )


def libvirt_plan(
    tmp_path: Path, old: ValidDesign, new: ValidDesign, node: str = "kvm-s-1"
) -> tuple[NodeChange, rehearse_libvirt.LibvirtPlan]:
    from generator.changes.node_changes import plan_designs
    from generator.changes.plan_folder import render_plan

    (change,) = plan_designs(old, new, (node,))
    files = render_plan([change], "rehearsal")
    host = rehearse_ovsdb.PrivateOvsdb(tmp_path, fake_tools())
    host.pose_as(change.expected_hostname)  # what the plan's host guard checks
    return change, rehearse_libvirt.LibvirtPlan(files, tmp_path / "libvirt", host.environment())


def test_libvirt_is_rehearsed_only_for_a_plan_between_designs_that_changes_networks(
    storage_pair: tuple[ValidDesign, ValidDesign], tmp_path: Path
) -> None:
    old, new = storage_pair
    change, plan = libvirt_plan(tmp_path, old, new)
    report = Report("kvm-s-1")
    rehearse_libvirt.rehearse_networks(report, change, None, new, plan)
    assert report.steps == [Step("libvirt not rehearsed: a dump does not hold libvirt networks", True)]
    unchanged, plan = libvirt_plan(tmp_path, old, old)
    report = Report("kvm-s-1")
    rehearse_libvirt.rehearse_networks(report, unchanged, old, old, plan)
    assert report.steps == []
    assert not (tmp_path / "libvirt").exists()


def broken_define(monkeypatch: pytest.MonkeyPatch, design: ValidDesign) -> None:
    """The libvirt define.sh of `design` fails; other designs' work."""
    real = rehearse_libvirt.render_design

    def rendered(valid: ValidDesign, nodes: list[str], parts: list[str]) -> list[OutputFile]:
        files = real(valid, nodes, parts)
        if valid is not design:
            return files
        return [OutputFile(f.path, "echo 'virsh: broken' >&2\nexit 1\n") if f.name == "define.sh" else f for f in files]

    monkeypatch.setattr(rehearse_libvirt, "render_design", rendered)


def test_a_new_design_whose_networks_cannot_be_built_is_reported_and_nothing_else_runs(
    storage_pair: tuple[ValidDesign, ValidDesign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = storage_pair
    change, plan = libvirt_plan(tmp_path, old, new)
    broken_define(monkeypatch, new)
    report = Report("kvm-s-1")
    rehearse_libvirt.rehearse_networks(report, change, old, new, plan)
    assert report.steps == [Step("build the new design's networks on libvirt's test driver", False, "virsh: broken")]


def test_old_networks_that_cannot_be_built_end_the_libvirt_rehearsal(
    storage_pair: tuple[ValidDesign, ValidDesign], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = storage_pair
    change, plan = libvirt_plan(tmp_path, old, new)
    broken_define(monkeypatch, old)
    report = Report("kvm-s-1")
    rehearse_libvirt.rehearse_networks(report, change, old, new, plan)
    assert report.steps == [Step("build the starting networks with the old design's define.sh", False, "virsh: broken")]


def test_a_plan_without_libvirt_rollback_fails_the_rehearsal(
    storage_pair: tuple[ValidDesign, ValidDesign], tmp_path: Path
) -> None:
    old, new = storage_pair
    change, plan = libvirt_plan(tmp_path, old, new)
    plan = replace(plan, files=[file for file in plan.files if file.name != "libvirt-rollback.sh"])
    report = Report("kvm-s-1")
    rehearse_libvirt.rehearse_networks(report, change, old, new, plan)
    assert steps(report) == [
        ("build the starting networks with the old design's define.sh", True),
        ("libvirt-change.sh --apply", True),
        ("libvirt holds the new design's networks", True),
        ("libvirt rollback not rehearsed: the plan has no libvirt-rollback.sh", False),
    ]
    assert (plan.folder / "plan" / "kvm-s-1" / "libvirt-change.sh").exists()


def test_a_node_new_to_libvirt_starts_with_no_networks(tmp_path: Path) -> None:
    require_tool("virsh")
    base, added = validate_file(STORAGE), validate_file(STORAGE)
    driver = rehearse_libvirt.LibvirtTestDriver(tmp_path / "d", require_tool("virsh"))
    plan = rehearse_libvirt.LibvirtPlan([], tmp_path, dict(os.environ))
    assert rehearse_libvirt._define_design(driver, base, "no-such-node", plan) is None
    assert driver.networks() == {}
    other = rehearse_libvirt.LibvirtTestDriver(tmp_path / "e", require_tool("virsh"))
    step_ = rehearse_libvirt._define_design(other, added, "kvm-s-1", plan)
    assert step_ == Step("define.sh --apply", True)
    files = [path.relative_to(tmp_path / "e") for path in (tmp_path / "e").rglob("*") if path.is_file()]
    assert {file.parts[0] for file in files} == {"lacp-storage", "state", "virsh"}
    designed = {file.parent for file in files if file.parts[0] == "lacp-storage"}
    assert designed == {Path("lacp-storage/kvm-s-1/libvirt")}  # the design's libvirt files only


# --- a first file that is no database and no valid design ------------------------------------


def rehearse_command(start: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`ovsgen rehearse START ahv-host.yaml --node ahv-a-1` as a user runs it."""
    env = {**os.environ, "OVSGEN_CACHE_DIR": str(cwd / "cache")}
    return run([sys.executable, "-m", "generator", "rehearse", str(start), str(AHV), "--node", NODE], cwd=cwd, env=env)


NOT_A_START = {
    "garbage": b"\x00\x9f\x92\x96 not text \xff\n",
    "an empty file": b"",
    "a broken design": AHV.read_bytes().replace(b"active-backup", b"active-bakup"),
}
NEITHER = (
    "is neither a valid design nor an OVSDB database; rehearse starts from an old design or a host's "
    "database made with: ovsdb-client backup; nothing was rehearsed"
)


@pytest.mark.parametrize("kind", NOT_A_START, ids=list(NOT_A_START))
def test_a_first_file_that_is_neither_database_nor_design_is_named_with_what_rehearse_takes(
    tmp_path: Path, kind: str
) -> None:
    start = tmp_path / "host.db"
    start.write_bytes(NOT_A_START[kind])
    result = rehearse_command(start, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{start}:")  # what is wrong with it as a design, where
    assert result.stderr.endswith(f"ovsgen: {start} {NEITHER}\n")


def test_a_json_dump_given_as_the_database_is_told_apart(ovsdb: Ovsdb, tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    dump.write_text(ovsdb.server.dump())
    result = rehearse_command(dump, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # Only the hint: the file's YAML errors (it is JSON, not a design) would only mislead.
    assert result.stderr == (
        f"ovsgen: {dump} is a dump (ovsdb-client dump --format=json), not a database; rehearse starts from "
        "an old design or a host's database made with: ovsdb-client backup (a dump is for: "
        "ovsgen plan --from-host); nothing was rehearsed\n"
    )


def _created_database(path: Path) -> None:
    """A database with Open vSwitch's schema but no row at all, as `ovsdb-tool create` makes it."""
    tools = rehearse_ovsdb.find_tools()
    subprocess.run([tools.paths["ovsdb-tool"], "create", str(path), str(tools.schema)], check=True)


DATABASES_REFUSED: dict[str, tuple[Callable[[Path], object], str]] = {
    "OVSDB then garbage": (
        lambda path: path.write_bytes(b"OVSDB JSON \x00\x9f garbage\n"),
        "not a standalone OVSDB database (make it with: ovsdb-client backup)",
    ),
    "a record cut short": (
        lambda path: path.write_bytes(b"OVSDB JSON 400 0123456789abcdef0123456789abcdef01234567\n{}\n"),
        "ovsdb-tool cannot read the database's name: ",
    ),
    "no host's database": (
        _created_database,
        "the database has no Open_vSwitch row, so it is no host's database "
        "(make it on the host with: ovsdb-client backup)",
    ),
}


@pytest.mark.parametrize("kind", DATABASES_REFUSED, ids=list(DATABASES_REFUSED))
def test_a_database_file_rehearse_cannot_use_is_named_and_refused(tmp_path: Path, kind: str) -> None:
    for tool in ("ovsdb-tool", "ovsdb-server", "ovsdb-client", "ovs-vsctl"):
        require_tool(tool)
    make, message = DATABASES_REFUSED[kind]
    start = tmp_path / "host.db"
    make(start)
    result = rehearse_command(start, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"\n{start}:1:1: error: {message}" in result.stderr
    assert result.stderr.endswith("ovsgen: nothing was rehearsed\n")
    assert result.stdout == ""
