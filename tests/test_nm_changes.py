"""The NetworkManager layer of a plan, without daemons: which keyfiles change and why, which
profiles each script takes down and brings up, in which order and on which trigger, and when a
node changes backend. tests/test_nm_plans.py runs the same scripts against a real NetworkManager."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from generator.changes.file_change import FileChange
from generator.changes.nm_changes import (
    COMMENT_ONLY,
    TO_IFCFG,
    TO_NM,
    built_by_networkmanager,
    cutover_of,
    keyfile_reason,
    keyfile_settings,
)
from generator.changes.node_changes import NodeChange, plan_designs, plan_from_host
from generator.changes.plan_folder import render_plan
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.state import EMPTY, OWNED, BridgeState, OvsState
from generator.render.files import OutputFile
from generator.render.kinds import render_design

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


def change_of(old: str, new: str, node: str) -> NodeChange:
    (change,) = plan_designs(design(old), design(new), (node,))
    return change


def script(change: NodeChange, name: str) -> str:
    return next(file.text for file in render_plan([change], "test") if file.path == f"{change.node}/{name}")


def array(text: str, name: str) -> list[str]:
    """A bash array of a generated script, as bash reads it: words, or quoted elements."""
    match = re.search(rf"^{name}=\((.*)\)$", text, re.MULTILINE)
    assert match is not None, name
    return [quoted or bare for quoted, bare in re.findall(r"'([^']*)'|(\S+)", match.group(1))]


# --- keyfile changes in words -------------------------------------------------------------------


def keyfile(text: str, name: str = "migr0-port.nmconnection") -> OutputFile:
    return OutputFile(f"nmchg/c1/NetworkManager/system-connections/{name}", text)


def test_keyfile_settings_are_section_dot_key_without_comments() -> None:
    text = "orphan=1\n# a comment=x\n[connection]\nid=x\ntype=ovs-port\n# members=a\n\n"
    text += "[ovs-port]\ntag=40\nbroken line\n[not a section\nhalf]=1\n[ovs-other-config]\ndata.x=a=b\n"
    assert keyfile_settings(text) == {
        "connection.id": "x",
        "connection.type": "ovs-port",
        "ovs-port.tag": "40",
        "ovs-port.half]": "1",
        "ovs-other-config.data.x": "a=b",
    }


def test_a_changed_keyfile_says_each_key_that_changed_went_or_came() -> None:
    old = keyfile("[connection]\nid=a\n[ovs-port]\ntag=40\nlacp=active\n")
    new = keyfile("[connection]\nid=a\n[ovs-port]\ntag=41\n[ethernet]\nmtu=9000\n")
    reason = keyfile_reason(FileChange("migr0-port.nmconnection", "change", new, old=old))
    assert reason == "ovs-port.tag 40 -> 41, ovs-port.lacp=active removed, ethernet.mtu=9000 added"


def test_a_keyfile_whose_comment_alone_changes_says_so() -> None:
    old, new = keyfile("# members eth0\n[ovs-port]\ntag=4\n"), keyfile("# members eth1\n[ovs-port]\ntag=4\n")
    assert keyfile_reason(FileChange("x", "change", new, old=old)) == COMMENT_ONLY


def test_plans_word_changed_keyfiles() -> None:
    change = change_of("nm-base", "nm-changed", "c1")
    reasons = {item.name: (item.action, item.reason) for item in change.nm.keyfiles}
    assert reasons == {
        "eth0-nic.nmconnection": ("change", "ethernet.mtu=9000 added"),
        "eth1-nic.nmconnection": ("change", "ethernet.mtu=9000 added"),
        "migr0-if.nmconnection": ("change", "ethernet.mtu=9000 added"),
        "migr0-port.nmconnection": ("change", "ovs-port.tag 40 -> 41"),
    }
    assert change.nm.cutover == ""
    assert change.nm.backends == (("networkmanager",), ("networkmanager",))


def test_an_ifcfg_node_has_no_networkmanager_layer() -> None:
    change = change_of("nm-base", "nm-changed", "c2")
    assert change.nm.keyfiles == ()
    assert not change.nm.uses_networkmanager
    assert not any(file.path.startswith("c2/nm-") for file in render_plan([change], "test"))


# --- backend changes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "cutover"),
    [
        (("ifcfg",), ("networkmanager",), TO_NM),
        (("networkmanager",), ("ifcfg",), TO_IFCFG),
        (("ifcfg",), ("ifcfg", "networkmanager"), ""),  # both rendered: the operator chooses
        (("ifcfg", "networkmanager"), ("networkmanager",), ""),
        (("networkmanager",), ("networkmanager", "ifcfg"), ""),
        (("networkmanager",), ("networkmanager",), ""),
        ((), ("networkmanager",), ""),  # a new node
        (("ifcfg",), (), ""),  # a removed node
    ],
)
def test_only_a_whole_move_is_a_backend_change(old: tuple[str, ...], new: tuple[str, ...], cutover: str) -> None:
    assert cutover_of(old, new) == cutover


def test_a_cutover_deletes_every_ifcfg_file_and_adds_every_keyfile() -> None:
    change = change_of("nm-base", "nm-cutover", "c2")
    assert change.nm.cutover == TO_NM
    assert {item.action for item in change.ifcfg} == {"delete"}
    assert len(change.ifcfg) == 9
    assert {item.action for item in change.nm.keyfiles} == {"add"}
    assert len(change.nm.keyfiles) == 14
    assert change.nm.bridges == ["br1", "br0"]  # the host's last
    back = change_of("nm-cutover", "nm-base", "c2")
    assert back.nm.cutover == TO_IFCFG
    assert back.nm.bridges == ["br1", "br0"]


def bridges(*marks: dict[str, str]) -> OvsState:
    rows = tuple(
        BridgeState(f"br{number}", (("external_ids", tuple(sorted(ids.items()))),)) for number, ids in enumerate(marks)
    )
    return replace(EMPTY, bridge_rows=rows)


def test_a_host_networkmanager_built_is_told_by_its_marks() -> None:
    assert built_by_networkmanager(bridges({"NM.connection.uuid": "u"}))
    assert built_by_networkmanager(bridges({"managed-by": "ovsgen"}, {"NM.connection.uuid": "u"}))
    assert not built_by_networkmanager(bridges({"managed-by": "ovsgen"}))
    assert not built_by_networkmanager(bridges({"NM.connection": "u"}))
    assert not built_by_networkmanager(replace(EMPTY, bridge_rows=(BridgeState("br0", OWNED),)))


def test_a_dump_plan_to_networkmanager_is_a_cutover_unless_networkmanager_built_the_host() -> None:
    new = design("nm-cutover")
    moving = plan_from_host(bridges({"managed-by": "ovsgen"}), new, "c2", prune=False)
    assert moving.nm.cutover == TO_NM
    assert {item.action for item in moving.ifcfg if item.name.startswith("ifcfg-")} >= {"delete"}
    staying = plan_from_host(bridges({"NM.connection.uuid": "u"}), new, "c2", prune=False)
    assert staying.nm.cutover == ""
    assert not [item for item in staying.ifcfg if item.action == "delete"]
    assert not staying.nm.host_known
    assert {item.action for item in staying.nm.keyfiles} == {"add"}
    on_ifcfg = plan_from_host(bridges({"managed-by": "ovsgen"}), design("nm-base"), "c2", prune=False)
    assert (on_ifcfg.nm.cutover, on_ifcfg.nm.keyfiles) == ("", ())


# --- what the scripts bring up and take down ----------------------------------------------------


def test_a_change_brings_up_changed_controllers_before_their_leaves() -> None:
    change = change_of("nm-base", "nm-changed", "c1")
    assert change.nm.up_after_change == ["eth0-nic", "eth1-nic", "migr0-port", "migr0-if"]
    assert change.nm.up_after_rollback == ["eth0-nic", "eth1-nic", "migr0-port", "migr0-if"]
    text = script(change, "nm-change.sh")
    names = array(text, "names")
    ids = array(text, "activation_ids")
    triggers = array(text, "activation_triggers")
    assert ids == change.nm.up_after_change
    # Each entry is brought up for its own keyfile, and a leaf for its controllers' too.
    by_id = dict(zip(ids, triggers, strict=True))
    assert [names[int(index)] for index in by_id["migr0-port"].split()] == ["migr0-port.nmconnection"]
    assert [names[int(index)] for index in by_id["migr0-if"].split()] == [
        "migr0-if.nmconnection",
        "migr0-port.nmconnection",
    ]
    assert [names[int(index)] for index in by_id["eth0-nic"].split()] == ["eth0-nic.nmconnection"]
    assert array(text, "deactivation") == []
    assert array(text, "nics") == ["eth0", "eth1"]
    assert array(text, "macs") == ["-", "-"]


def test_a_comment_only_change_writes_the_keyfile_and_brings_nothing_up() -> None:
    change = change_of("nm-base", "nm-changed", "c1")
    quiet = tuple(replace(item, reason=COMMENT_ONLY) for item in change.nm.keyfiles)
    layer = replace(change.nm, keyfiles=quiet)
    assert layer.up_after_change == []
    assert layer.up_after_rollback == []


def test_a_dump_plan_brings_up_every_controller_it_finds_it_had_to_write() -> None:
    change = plan_from_host(EMPTY, design("nm-changed"), "c1", prune=False)
    up = change.nm.up_after_change
    # Every bridge and port before the first leaf under it, the host's bridge last.
    assert up[:3] == ["br1-bridge", "br1-up-port", "eth0-nic"]
    assert up.index("br0-bridge") > up.index("br1-if")
    assert up[-3:] == ["eth3-nic", "br0-port", "br0-if"]
    assert len(up) == 14  # all 14 profiles, each once
    assert len(set(up)) == 14
    assert change.nm.up_after_rollback == []  # the host's own profiles are unknown


def test_keyfiles_that_go_take_their_profiles_down_leaves_first() -> None:
    change = change_of("nm-cutover", "nm-base", "c2")  # back to ifcfg files: every keyfile goes
    text = script(change, "nm-change.sh")
    down = array(text, "deactivation_ids")
    leaves = ["eth0-nic", "eth1-nic", "migr0-if", "br1-if", "eth2-nic", "eth3-nic", "br0-if"]
    ports = ["br0-port", "br0-up-port", "br1-port", "br1-up-port", "migr0-port"]
    assert down == [*leaves, *ports, "br0-bridge", "br1-bridge"]
    assert array(text, "activation") == []
    assert array(text, "guard_present") == sorted(item.name for item in change.ifcfg)
    assert array(text, "guard_absent") == []
    rollback = script(change, "nm-rollback.sh")
    assert array(rollback, "activation_ids") == leaves
    assert array(rollback, "guard_absent") == sorted(item.name for item in change.ifcfg)


def test_a_plan_holds_the_new_and_the_old_keyfiles_and_two_executable_scripts() -> None:
    change = change_of("nm-base", "nm-changed", "c1")
    files = {file.path: file for file in render_plan([change], "test") if file.path.startswith("c1/")}
    new = {file.name: file.text for file in render_design(design("nm-changed"), ["c1"], ["networkmanager"])}
    old = {file.name: file.text for file in render_design(design("nm-base"), ["c1"], ["networkmanager"])}
    for item in change.nm.keyfiles:
        assert files[f"c1/system-connections/{item.name}"].text == new[item.name]
        assert files[f"c1/system-connections.old/{item.name}"].text == old[item.name]
    assert files["c1/nm-change.sh"].executable
    assert files["c1/nm-rollback.sh"].executable


def test_only_the_leaves_come_up_when_every_keyfile_is_new() -> None:
    change = change_of("nm-base", "nm-cutover", "c2")
    leaves = ["eth0-nic", "eth1-nic", "migr0-if", "br1-if", "eth2-nic", "eth3-nic", "br0-if"]
    assert change.nm.up_after_change == leaves  # activating a leaf brings its port and bridge up
    assert array(script(change, "nm-change.sh"), "activation_ids") == leaves
    assert array(script(change, "nm-rollback.sh"), "target_uuids") == ["-"] * len(change.nm.keyfiles)


def test_a_change_deep_in_the_order_brings_up_only_what_is_under_it() -> None:
    change = change_of("nm-base", "nm-changed", "c1")
    host = next(item for item in change.nm.keyfiles if item.name == "migr0-port.nmconnection")
    only_host = replace(host, name="br0-port.nmconnection")
    layer = replace(change.nm, keyfiles=(only_host,))
    assert layer.up_after_change == ["br0-port", "br0-if"]


def test_a_dump_plan_brings_up_what_its_scripts_say_and_checks_the_macs() -> None:
    valid = validate_file(CHANGES.parent.parent.parent / "designs" / "rhel9-migration.yaml")
    change = plan_from_host(EMPTY, valid, "kvm-r-1", prune=False)
    text = script(change, "nm-change.sh")
    assert array(text, "activation_ids") == change.nm.up_after_change
    assert array(text, "nics") == ["ens2f0", "ens2f1", "eno1", "eno2"]
    assert array(text, "macs") == ["b8:59:9f:30:00:01", "b8:59:9f:30:00:02", "3c:ec:ef:30:00:01", "3c:ec:ef:30:00:02"]


def test_scripts_know_the_node_profiles_interfaces_and_macs_that_other_profiles_compete_for() -> None:
    change = change_of("nm-base", "nm-changed", "c1")
    text = script(change, "nm-change.sh")
    after = change.nm.after.profiles
    assert array(text, "own_uuids") == [profile.uuid for profile in after]  # the same on both sides
    assert array(text, "interfaces") == list(dict.fromkeys(profile.interface for profile in after))
    assert array(text, "own_macs") == ["-"] * 4
    moving = change_of("nm-base", "nm-cutover", "c2")
    assert len(array(script(moving, "nm-change.sh"), "own_uuids")) == 14  # the new side's alone
    assert array(script(moving, "nm-rollback.sh"), "interfaces") == []  # back to ifcfg: none to compete with
    valid = validate_file(CHANGES.parent.parent.parent / "designs" / "rhel9-migration.yaml")
    from_dump = plan_from_host(EMPTY, valid, "kvm-r-1", prune=False)
    macs = array(script(from_dump, "nm-change.sh"), "own_macs")
    assert macs == ["3c:ec:ef:30:00:01", "3c:ec:ef:30:00:02", "b8:59:9f:30:00:01", "b8:59:9f:30:00:02"]
