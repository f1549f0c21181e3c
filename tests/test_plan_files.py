"""The files of a plan (generator.changes.plan_folder, ifcfg_plan and libvirt.plan_script), read
in-process: which files a node's plan holds, and what each script was told (its header, the
host it insists on, its steps from which file to which). tests/test_layer_rollback.py runs the
same scripts against a folder of ifcfg files and `virsh -c test:///default`.

Also the ifcfg files of a plan from a host dump: they keep what the host set by hand in the
columns no design manages (render_ifcfg(..., state)), as change.sh keeps it."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest

from generator.changes.node_changes import NodeChange, plan_designs
from generator.changes.plan_folder import DESIGN_PLAN_HINT, render_plan
from generator.design.validate import ValidDesign, validate_file
from generator.ovs.state import Columns, OvsState, node_state
from generator.render import libvirt
from generator.render.context import node_context
from generator.render.files import OutputFile
from generator.render.ifcfg import render_ifcfg
from generator.render.kinds import render_design
from generator.render.libvirt import plan_script, restored_folder, start_state
from tests.conftest import DESIGNS, REPO, TEST_DESIGNS
from tests.test_host_columns import SYSTEM_ID, ahv_host, ovs_map, plan

CHANGES = Path(__file__).resolve().parent / "designs" / "changes"


def design(name: str) -> ValidDesign:
    return validate_file(CHANGES / f"{name}.yaml")


def node_change(old: str, new: str, node: str = "c1") -> NodeChange:
    (change,) = plan_designs(design(old), design(new), (node,))
    return change


def plan_files(change: NodeChange, source: str = "old -> new") -> dict[str, OutputFile]:
    return {file.path: file for file in render_plan([change], source)}


def array(text: str, name: str) -> list[str]:
    """The words of the bash array `name=(...)` of a script (one line, or one element a line)."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"{name}=("))
    first = lines[start].removeprefix(f"{name}=(")
    if first.endswith(")"):
        return shlex.split(first[:-1])
    end = lines.index(")", start)
    return [word for line in lines[start + 1 : end] for word in shlex.split(line)]


def assignment(text: str, name: str) -> str | None:
    """The value of the top-level `name=...` of a script (None: the script has none)."""
    values = [line.removeprefix(f"{name}=") for line in text.splitlines() if line.startswith(f"{name}=")]
    assert len(values) <= 1, values
    return values[0] if values else None


def comment(text: str) -> str:
    """The script's comment block after its header, joined into one line."""
    lines = text.splitlines()
    block = []
    for line in lines[3:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("#").strip())
    return " ".join(part for part in block if part)


# --- which files a plan holds ----------------------------------------------------


def test_a_plan_between_designs_holds_each_layers_new_and_old_files_and_its_scripts() -> None:
    files = plan_files(node_change("base", "member-added"))
    assert [(path, file.executable) for path, file in sorted(files.items())] == [
        ("c1/change.sh", True),
        ("c1/ifcfg-change.sh", True),
        ("c1/ifcfg-rollback.sh", True),
        ("c1/network-scripts.old/ifcfg-br1-up", False),
        ("c1/network-scripts/ifcfg-br1-up", False),
        ("c1/network-scripts/ifcfg-eth4", False),
        ("c1/rollback.sh", True),
        ("plan.md", False),
        ("rollout.json", False),
    ]
    change = node_change("base", "member-added")
    (bond,) = [item for item in change.ifcfg if item.name == "ifcfg-br1-up"]
    assert bond.file is not None
    assert bond.old is not None
    assert files["c1/network-scripts/ifcfg-br1-up"].text == bond.file.text
    assert files["c1/network-scripts.old/ifcfg-br1-up"].text == bond.old.text
    assert bond.file.text != bond.old.text


def test_render_plan_returns_its_files_sorted_by_path_and_skips_unchanged_nodes() -> None:
    changes = plan_designs(design("base"), design("networks-changed"))
    assert [(change.node, change.status) for change in changes] == [("c1", "changed"), ("c2", "changed")]
    unchanged = dataclasses.replace(changes[1], status="unchanged")
    files = render_plan([changes[0], unchanged], "base -> networks-changed")
    assert [file.path for file in files] == sorted(file.path for file in files)
    assert {file.path.split("/")[0] for file in files} == {"c1", "plan.md", "rollout.json"}
    both = render_plan(changes, "base -> networks-changed")
    assert {file.path.split("/")[0] for file in both} == {"c1", "c2", "plan.md", "rollout.json"}


def test_a_libvirt_only_plan_has_no_ovs_scripts_and_its_networks_in_libvirt_folders() -> None:
    files = plan_files(node_change("base", "networks-changed"))
    assert [(path, file.executable) for path, file in sorted(files.items())] == [
        ("c1/libvirt-change.sh", True),
        ("c1/libvirt-rollback.sh", True),
        ("c1/libvirt.old/vm-vlan32.xml", False),
        ("c1/libvirt.old/vm-vlan40.xml", False),
        ("c1/libvirt/vm-vlan33.xml", False),
        ("c1/libvirt/vm-vlan40.xml", False),
        ("plan.md", False),
        ("rollout.json", False),
    ]
    assert "<tag id='41'/>" in files["c1/libvirt/vm-vlan40.xml"].text.replace('"', "'")
    assert "<tag id='40'/>" in files["c1/libvirt.old/vm-vlan40.xml"].text.replace('"', "'")


def test_every_file_of_a_node_and_plan_md_say_which_plan_made_them() -> None:
    files = plan_files(node_change("base", "member-added"), "base.yaml -> member-added.yaml")
    header = (
        "Generated by ovsgen plan (base.yaml -> member-added.yaml) for node c1. Review it; re-plan rather than edit."
    )
    for name in ("change.sh", "rollback.sh", "ifcfg-change.sh", "ifcfg-rollback.sh"):
        assert files[f"c1/{name}"].text.splitlines()[:2] == ["#!/bin/bash", f"# {header}"], name
    assert files["plan.md"].text.splitlines()[0] == (
        "<!-- Generated by ovsgen plan (base.yaml -> member-added.yaml). Review it; re-plan rather than edit. -->"
    )
    libvirt = plan_files(node_change("base", "networks-changed"), "x")
    assert libvirt["c1/libvirt-rollback.sh"].text.splitlines()[1] == (
        "# Generated by ovsgen plan (x) for node c1. Review it; re-plan rather than edit."
    )


def test_plan_md_words_each_file_and_network_step() -> None:
    text = plan_files(node_change("base", "member-added"))["plan.md"].text
    assert (
        '- write (changed) ifcfg-br1-up (BOND_IFACES "eth0 eth1" -> "eth0 eth1 eth4")\n- write (new) ifcfg-eth4\n'
        in text
    )
    removed = plan_files(node_change("bridge-added", "base"))["plan.md"].text
    assert "- delete ifcfg-br2\n- delete ifcfg-eth4\n" in removed
    networks = plan_files(node_change("base", "networks-changed"))["plan.md"].text
    assert (
        "- network vm-vlan32 removed (undefine)\n"
        "- network vm-vlan33 added on br1, VLAN 33 (define)\n"
        "- network vm-vlan40 retagged: VLAN 40 -> 41 (redefine)\n"
    ) in networks


# --- change.sh and rollback.sh ---------------------------------------------------


def test_change_and_rollback_take_the_node_between_the_two_states_each_way() -> None:
    change = node_change("bridge-added", "base")
    files = plan_files(change)
    forward, back = files["c1/change.sh"].text, files["c1/rollback.sh"].text
    assert comment(forward) == (
        "Takes node c1 from its starting state to the new design"
        " in one atomic ovs-vsctl transaction. It refuses a host that is in neither state."
    )
    assert comment(back) == (
        "Takes node c1 from the new design back to its starting state"
        " in one atomic ovs-vsctl transaction. It refuses a host that is in neither state."
    )
    assert array(forward, "transaction") == ["--", *(word for c in change.ovs.commands for word in (*c, "--"))][:-1]
    assert (
        array(back, "transaction") == ["--", *(word for c in change.ovs_rollback.commands for word in (*c, "--"))][:-1]
    )
    assert "del-br" in array(forward, "transaction")
    assert "add-br" in array(back, "transaction")
    # Each script checks the host against its own plan's states, before and after.
    for text, node_plan in ((forward, change.ovs), (back, change.ovs_rollback)):
        assert array(text, "starting") == [item.line() for item in node_plan.expectations_before()]
        assert array(text, "expected") == [item.line() for item in node_plan.expectations_after()]
        assert array(text, "nics") == node_plan.nics()
    assert "Bridge br2 name = br2" in array(forward, "starting")
    assert "Bridge br2 name = (unset)" in array(forward, "expected")
    assert array(back, "nics") == ["eth4"]
    assert 'echo "No change: node c1 already matches the new design. Read back:"' in forward
    assert 'echo "No change: node c1 already matches the starting state. Read back:"' in back
    assert 'echo "Node c1 is in the starting state; --apply would run:"' in forward
    assert 'echo "Node c1 is in the state change.sh leaves; --apply would run:"' in back


def test_change_sh_names_the_ports_it_knows_on_each_bridge_it_removes() -> None:
    files = plan_files(node_change("bridge-added", "base"))
    forward, back = files["c1/change.sh"].text, files["c1/rollback.sh"].text
    assert array(forward, "removed_bridges") == ["br2"]
    assert array(forward, "known_ports") == ["eth4"]
    assert array(back, "removed_bridges") == []
    assert array(back, "known_ports") == []
    node_removed = plan_files(node_change("node-added", "base", "c3"))["c3/change.sh"].text
    assert array(node_removed, "removed_bridges") == ["br0", "br1"]
    assert array(node_removed, "known_ports") == ["br0-up", "br1-up"]


def test_a_plan_between_designs_insists_on_the_node_name_and_says_how_to_keep_hand_set_columns() -> None:
    files = plan_files(node_change("base", "host-vlan-10"))
    for name in ("change.sh", "rollback.sh"):
        text = files[f"c1/{name}"].text
        assert assignment(text, "expected_hostname") == "c1"
        assert assignment(text, "expected_system_id") == "''"
        assert f'echo "{name}: {DESIGN_PLAN_HINT}" >&2' in text
        assert "  --skip-host-check  do not insist on the host this plan was made for (host name c1)" in text
    assert "# RISK: this change touches the host bridge" in files["c1/change.sh"].text


def test_a_plan_from_a_dump_insists_on_the_dumps_host_and_has_no_hint() -> None:
    change = plan(
        ahv_host(
            root={"external_ids": ovs_map(system_id=SYSTEM_ID, hostname="ahv-a-1.lab")},
            more_bridges={"br9": {"external_ids": ovs_map(managed_by="ovsgen")}},
        ),
        prune=True,
    )
    files = plan_files(change, "host.json")
    for name in ("change.sh", "rollback.sh"):
        text = files[f"ahv-a-1/{name}"].text
        assert assignment(text, "expected_system_id") == SYSTEM_ID
        assert assignment(text, "expected_hostname") == "ahv-a-1.lab"
        assert DESIGN_PLAN_HINT not in text
        assert f"(the Open vSwitch system-id {SYSTEM_ID})" in text
    assert array(files["ahv-a-1/change.sh"].text, "removed_bridges") == ["br9"]
    assert array(files["ahv-a-1/change.sh"].text, "known_ports") == [""]
    for name in ("ifcfg-change.sh", "ifcfg-rollback.sh", "libvirt-change.sh", "libvirt-rollback.sh"):
        assert assignment(files[f"ahv-a-1/{name}"].text, "expected_hostname") == "ahv-a-1.lab", name


# --- ifcfg-change.sh and ifcfg-rollback.sh -----------------------------------------


def test_ifcfg_scripts_of_a_plan_between_designs_go_from_the_old_files_to_the_new_and_back() -> None:
    files = plan_files(node_change("base", "member-added"))
    forward, back = files["c1/ifcfg-change.sh"].text, files["c1/ifcfg-rollback.sh"].text
    for text in (forward, back):
        assert array(text, "names") == ["ifcfg-br1-up", "ifcfg-eth4"]
        assert assignment(text, "backup") == "$here/network-scripts.backup"
        assert assignment(text, "expected_hostname") == "c1"
        # Every path a step names is a file of the plan, beside the script.
        for path in array(text, "starts") + array(text, "targets"):
            assert path == "absent" or f"c1/{path}" in files, path
    assert array(forward, "starts") == ["network-scripts.old/ifcfg-br1-up", "absent"]
    assert array(forward, "targets") == ["network-scripts/ifcfg-br1-up", "network-scripts/ifcfg-eth4"]
    assert array(back, "starts") == array(forward, "targets")
    assert array(back, "targets") == array(forward, "starts")
    assert assignment(forward, "restored") is None
    assert assignment(back, "restored") == "$here/network-scripts.restored"
    assert comment(forward).startswith(
        "Installs the ifcfg files of node c1: writes 2 file(s) from network-scripts/ and deletes 0."
    )
    assert "Installs the new ifcfg files of node c1 from network-scripts/ (2 to write,\n0 to delete)" in forward
    assert comment(back).startswith("Puts back the ifcfg files of node c1 that ifcfg-change.sh wrote or deleted")
    assert "A file without a saved copy is set from the old design: network-scripts.old/" in comment(back)
    assert "or in the starting state\n" in forward
    assert "or in the state after ifcfg-change.sh\n" in back
    assert 'echo "ifcfg-change.sh: ${names[i]}: in the starting state"' in forward
    assert 'echo "ifcfg-rollback.sh: ${names[i]}: in the state after ifcfg-change.sh"' in back
    assert "save_copy()" in forward
    assert "save_copy()" not in back
    assert "retire_backup()" in back
    assert "retire_backup()" not in forward
    assert "mode 0644" in forward
    assert "mode as saved" in back


def test_ifcfg_scripts_count_the_files_they_delete() -> None:
    files = plan_files(node_change("bridge-added", "base"))
    forward, back = files["c1/ifcfg-change.sh"].text, files["c1/ifcfg-rollback.sh"].text
    assert comment(forward).startswith(
        "Installs the ifcfg files of node c1: writes 0 file(s) from network-scripts/ and deletes 2."
    )
    assert array(forward, "starts") == ["network-scripts.old/ifcfg-br2", "network-scripts.old/ifcfg-eth4"]
    assert array(forward, "targets") == ["absent", "absent"]
    assert array(back, "targets") == ["network-scripts.old/ifcfg-br2", "network-scripts.old/ifcfg-eth4"]
    added = plan_files(node_change("base", "bridge-added"))["c1/ifcfg-change.sh"].text
    assert "from network-scripts/ (2 to write,\n0 to delete)" in added


def test_ifcfg_scripts_of_a_plan_from_a_dump_know_no_starting_file() -> None:
    change = plan(
        ahv_host(
            root={"external_ids": ovs_map(hostname="ahv-a-1.lab")},
            more_bridges={"br9": {"external_ids": ovs_map(managed_by="ovsgen")}},
        ),
        prune=True,
    )
    assert not change.host_known
    files = plan_files(change, "host.json")
    forward, back = files["ahv-a-1/ifcfg-change.sh"].text, files["ahv-a-1/ifcfg-rollback.sh"].text
    names = ["ifcfg-bond0", "ifcfg-br0", "ifcfg-eth2", "ifcfg-eth3", "ifcfg-br9"]
    assert array(forward, "names") == names
    assert array(forward, "starts") == ["unknown"] * 5
    assert array(forward, "targets") == [f"network-scripts/{name}" for name in names[:4]] + ["absent"]
    assert array(back, "starts") == array(forward, "targets")
    assert array(back, "targets") == ["unknown"] * 5
    assert comment(forward).startswith(
        "Installs the ifcfg files of node ahv-a-1: writes 4 file(s) from network-scripts/ and deletes 1."
    )
    assert "This plan was made from a host dump: the host's files are not known" in comment(forward)
    assert "This plan was made from a host dump, which does not show the host's files" in comment(back)
    assert "refuse_without_backup()" in back
    assert "refuse_without_backup()" not in forward
    # Nothing of a dump plan's old files exists: no network-scripts.old/.
    assert not [path for path in files if "network-scripts.old" in path]
    assert sorted(path for path in files if "/network-scripts/" in path) == [
        f"ahv-a-1/network-scripts/{name}" for name in sorted(names[:4])
    ]


def test_a_plan_without_file_changes_has_no_ifcfg_scripts() -> None:
    files = plan_files(node_change("base", "networks-changed"))
    assert not [path for path in files if "ifcfg" in path or "network-scripts" in path]


# --- libvirt-change.sh and libvirt-rollback.sh ---------------------------------------


def test_libvirt_scripts_of_a_plan_between_designs_go_between_the_old_and_new_networks() -> None:
    files = plan_files(node_change("base", "networks-changed"))
    forward, back = files["c1/libvirt-change.sh"].text, files["c1/libvirt-rollback.sh"].text
    for text in (forward, back):
        assert array(text, "names") == ["vm-vlan32", "vm-vlan33", "vm-vlan40"]
        assert assignment(text, "backup") == "$here/libvirt.backup"
        assert assignment(text, "expected_hostname") == "c1"
    assert array(forward, "starts") == ["libvirt.old/vm-vlan32.xml", "absent", "libvirt.old/vm-vlan40.xml"]
    assert array(forward, "targets") == ["absent", "libvirt/vm-vlan33.xml", "libvirt/vm-vlan40.xml"]
    assert array(back, "starts") == array(forward, "targets")
    assert array(back, "targets") == array(forward, "starts")
    assert assignment(forward, "restored") is None
    assert assignment(back, "restored") == "$here/libvirt.restored"
    assert comment(forward).startswith("Changes the libvirt networks of node c1: undefines those the design dropped")
    assert "(libvirt.old/) nor the new one." in comment(forward)
    assert comment(back).startswith("Puts back the libvirt networks of node c1 that libvirt-change.sh changed")
    assert "set from the old design: libvirt.old/<name>.xml" in comment(back)
    assert 'echo "libvirt-change.sh: network ${names[i]}: in the starting state"' in forward
    assert 'echo "libvirt-rollback.sh: network ${names[i]}: in the state after libvirt-change.sh"' in back
    assert "Usage: libvirt-rollback.sh --dry-run" in back
    assert "Usage: libvirt-change.sh --dry-run" in forward


def test_libvirt_scripts_of_a_plan_from_a_dump_know_no_starting_definition() -> None:
    change = plan(ahv_host(root={"external_ids": ovs_map(hostname="ahv-a-1.lab")}))
    files = plan_files(change, "host.json")
    forward, back = files["ahv-a-1/libvirt-change.sh"].text, files["ahv-a-1/libvirt-rollback.sh"].text
    names = ["NTNX-Local-Network", "VM-Network", "vlan32"]
    assert array(forward, "names") == names
    assert array(forward, "starts") == ["unknown"] * 3
    assert array(forward, "targets") == [f"libvirt/{name}.xml" for name in names]
    assert array(back, "targets") == ["unknown"] * 3
    assert "This plan was made from a host dump, which does not show libvirt's networks" in comment(back)
    assert "neither the old design's definition" not in comment(forward)
    assert not [path for path in files if "libvirt.old" in path]


def test_plan_script_renders_the_steps_and_folders_it_is_given() -> None:
    folders = {"new": "N", "old": "O", "backup": "B.backup", "absent": "gone", "unknown": "who"}
    text = plan_script(
        header="H",
        script="libvirt-rollback.sh",
        node="n1",
        hostname="n1.example",
        rollback=True,
        host_known=True,
        steps=[("a", "N/a.xml", "O/a.xml"), ("b", "gone", "who")],
        folders=folders,
    )
    assert text.splitlines()[1:3] == ["# H", "#"]
    assert array(text, "names") == ["a", "b"]
    assert array(text, "starts") == ["N/a.xml", "gone"]
    assert array(text, "targets") == ["O/a.xml", "who"]
    assert assignment(text, "backup") == "$here/B.backup"
    assert assignment(text, "restored") == "$here/B.restored"
    assert assignment(text, "expected_hostname") == "n1.example"
    assert "    gone|who) printf '%s\\n' \"$1\" ;;" in text
    assert "set from the old design: O/<name>.xml" in text
    assert "in the state after libvirt-change.sh" in text


@pytest.mark.parametrize(
    ("backup", "restored"),
    [
        ("libvirt.backup", "libvirt.restored"),
        ("network-scripts.backup", "network-scripts.restored"),
        ("x", "x.restored"),
    ],
)
def test_a_spent_backup_moves_beside_it(backup: str, restored: str) -> None:
    assert restored_folder(backup) == restored


def test_a_rollback_starts_where_its_change_ends() -> None:
    assert start_state(True, "ifcfg-change.sh") == "the state after ifcfg-change.sh"
    assert start_state(False, "ifcfg-change.sh") == "the starting state"


# --- ifcfg files that keep what a host set by hand ------------------------------------


def kept_state(valid: ValidDesign, node: str, ports: dict[str, Columns], interfaces: dict[str, Columns]) -> OvsState:
    """The design's state of `node` with host columns on the named ports and interfaces."""
    layout = next(layout for layout in valid.layouts if layout.node.name == node)
    state = node_state(valid.design, layout)
    return dataclasses.replace(
        state,
        ports=tuple(dataclasses.replace(p, columns=ports.get(p.name, ())) for p in state.ports),
        interfaces=tuple(dataclasses.replace(i, columns=interfaces.get(i.name, ())) for i in state.interfaces),
    )


def ifcfg_settings(valid: ValidDesign, node: str, state: OvsState | None = None) -> dict[str, dict[str, str]]:
    layout = next(layout for layout in valid.layouts if layout.node.name == node)
    files = render_ifcfg(node_context(valid.design, layout, node, state=state))
    assert all(file.path.startswith(f"{node}/network-scripts/ifcfg-") for file in files)
    return {
        file.name: dict(line.split("=", 1) for line in file.text.splitlines() if line and not line.startswith("#"))
        for file in files
    }


def test_an_ifcfg_file_keeps_a_bonds_hand_set_columns_in_ovs_options() -> None:
    valid = design("base")
    plain = ifcfg_settings(valid, "c1")
    kept = ifcfg_settings(
        valid,
        "c1",
        kept_state(
            valid,
            "c1",
            {"br1-up": (("bond_updelay", 30000), ("trunks", (32, 40)), ("lacp", "off"))},
            {"eth0": (("other_config", (("a", "1"), ("b", "2"))),), "eth1": (("ingress_policing_rate", 100),)},
        ),
    )
    assert plain["ifcfg-br1-up"]["OVS_OPTIONS"] == '"bond_mode=balance-slb"'
    assert kept["ifcfg-br1-up"]["OVS_OPTIONS"] == '"bond_mode=balance-slb bond_updelay=30000 trunks=[32,40] lacp=off"'
    assert "OVS_EXTRA" not in plain["ifcfg-br1-up"]
    assert kept["ifcfg-br1-up"]["OVS_EXTRA"] == (
        '"set Interface eth0 other_config:a=1 other_config:b=2 -- set Interface eth1 ingress_policing_rate=100"'
    )
    # The rest of the file is the design's.
    assert {k: v for k, v in kept["ifcfg-br1-up"].items() if k not in ("OVS_OPTIONS", "OVS_EXTRA")} == {
        k: v for k, v in plain["ifcfg-br1-up"].items() if k != "OVS_OPTIONS"
    }
    assert kept["ifcfg-eth0"] == plain["ifcfg-eth0"]


def test_an_ifcfg_file_keeps_mtu_requests_before_hand_set_interface_columns() -> None:
    valid = design("mtu-9000")
    plain = ifcfg_settings(valid, "c1")
    assert plain["ifcfg-br1-up"]["OVS_EXTRA"] == (
        '"set Interface eth0 mtu_request=9000 -- set Interface eth1 mtu_request=9000"'
    )
    kept = ifcfg_settings(valid, "c1", kept_state(valid, "c1", {}, {"eth1": (("bfd", (("enable", "true"),)),)}))
    assert kept["ifcfg-br1-up"]["OVS_EXTRA"] == (
        '"set Interface eth0 mtu_request=9000 -- set Interface eth1 mtu_request=9000'
        ' -- set Interface eth1 bfd:enable=true"'
    )
    assert kept["ifcfg-eth1"]["MTU"] == "9000"


def test_an_internal_ports_ifcfg_file_keeps_its_tag_and_hand_set_columns() -> None:
    valid = design("internal-port-added")
    plain = ifcfg_settings(valid, "c1")
    assert plain["ifcfg-storage0"]["OVS_OPTIONS"] == '"tag=50"'
    kept = ifcfg_settings(
        valid,
        "c1",
        kept_state(valid, "c1", {"storage0": (("vlan_mode", "access"),)}, {"storage0": (("mac", "x"),)}),
    )
    assert kept["ifcfg-storage0"]["OVS_OPTIONS"] == '"tag=50 vlan_mode=access"'
    assert kept["ifcfg-storage0"]["OVS_EXTRA"] == '"set Interface storage0 mac=x"'
    assert kept["ifcfg-storage0"]["TYPE"] == "OVSIntPort"


def test_an_untagged_internal_port_writes_only_its_hand_set_columns() -> None:
    valid = design("internal-port-added")
    layout = next(layout for layout in valid.layouts if layout.node.name == "c1")
    state = node_state(valid.design, layout)
    untagged = dataclasses.replace(
        state,
        ports=tuple(
            dataclasses.replace(p, tag=None, columns=(("vlan_mode", "trunk"),)) if p.name == "storage0" else p
            for p in state.ports
        ),
    )
    assert ifcfg_settings(valid, "c1", untagged)["ifcfg-storage0"]["OVS_OPTIONS"] == '"vlan_mode=trunk"'
    bare = dataclasses.replace(
        state, ports=tuple(dataclasses.replace(p, tag=None) if p.name == "storage0" else p for p in state.ports)
    )
    assert "OVS_OPTIONS" not in ifcfg_settings(valid, "c1", bare)["ifcfg-storage0"]


# --- the design's own ifcfg files and networks, rendered in this process ---------------


@pytest.fixture
def fresh_networks() -> None:
    """Each network's XML is built once per process (an lru_cache): build it again here."""
    libvirt._ovs_network_xml.cache_clear()
    libvirt._internal_network_xml.cache_clear()


@pytest.mark.usefixtures("fresh_networks")
@pytest.mark.parametrize("path", DESIGNS, ids=[path.stem for path in DESIGNS])
def test_the_ifcfg_files_and_networks_of_each_example_are_the_golden_ones(path: Path) -> None:
    files = render_design(validate_file(path), kinds=["ifcfg", "libvirt"])
    golden = REPO / "golden"
    expected = {
        str(file.relative_to(golden)): (file.read_text(), bool(file.stat().st_mode & 0o100))
        for kind in ("network-scripts", "libvirt")
        for file in (golden / path.stem).glob(f"*/{kind}/*")
    }
    assert {file.path: (file.text, file.executable) for file in files} == expected


@pytest.mark.usefixtures("fresh_networks")
def test_edge_cases_dhcp_bridge_internal_network_and_portgroups() -> None:
    (edge,) = TEST_DESIGNS
    valid = validate_file(edge)
    node = valid.layouts[0].node.name
    settings = ifcfg_settings(valid, node)
    assert settings["ifcfg-br-mgmt"] == {
        "DEVICE": "br-mgmt",
        "DEVICETYPE": "ovs",
        "TYPE": "OVSBridge",
        "ONBOOT": "yes",
        "NM_CONTROLLED": "no",
        "HOTPLUG": "no",
        "OVSBOOTPROTO": "dhcp",
        "OVSDHCPINTERFACES": '"mgmt-bond"',
        "MTU": "1500",
        "OVS_EXTRA": '"set Bridge br-mgmt external_ids:managed-by=ovsgen -- set Interface br-mgmt mtu_request=1500"',
    }
