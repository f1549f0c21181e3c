"""ovsgen rollout without the engine: what it reads of a plan or render, what it refuses (located,
exit 1; usage, exit 2), what it writes (pinned by snapshots), and that a plan's rollout.json
orders the scripts as plan.md does."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from tests.support.cli import invoke

TESTS = Path(__file__).parent
CHANGES = TESTS / "designs" / "changes"
ROLLOUT = TESTS / "designs" / "rollout"
DESIGNS = TESTS.parent / "designs"


def plan(tmp_path: Path, old: str = "fleet-old", new: str = "fleet-new", folder: Path = ROLLOUT) -> Path:
    out = tmp_path / "plan"
    result = invoke("plan", str(folder / f"{old}.yaml"), str(folder / f"{new}.yaml"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def render(tmp_path: Path, *designs: Path) -> Path:
    out = tmp_path / "out"
    result = invoke("render", *map(str, designs), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def name_line(facts: Path, node: str) -> int:
    """The line of rollout.json where the node's entry names it (its column is 7)."""
    return next(
        n for n, text in enumerate(facts.read_text().splitlines(), 1) if text.startswith(f'      "name": "{node}"')
    )


def project_text(project: Path) -> dict[str, str]:
    return {str(path.relative_to(project)): path.read_text() for path in sorted(project.rglob("*")) if path.is_file()}


def inventory_hosts(project: Path) -> dict[str, dict[str, object]]:
    data = yaml.safe_load((project / "inventory.yml").read_text())
    groups = data["all"]["children"]["ovsgen_rollout"]["children"]
    return {name: host for group in groups.values() for name, host in group["hosts"].items()}


def test_the_project_of_a_plan(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    source = plan(tmp_path)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--batch", "1,10%,50%", "--pause", "60")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.endswith(f"cd {tmp_path / 'rollout'} && ansible-playbook site.yml --check\n")
    texts = project_text(tmp_path / "rollout")
    node_files = {path for path in texts if path.startswith("files/")}
    planned = {
        f"files/{path.relative_to(source)}" for path in source.rglob("*") if path.is_file() and path.parent != source
    }
    assert node_files == planned  # every node file of the plan, and nothing else (no plan.md)
    assert texts == snapshot


def test_the_project_of_a_render(tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    out = render(tmp_path, ROLLOUT / "fleet-new.yaml")
    result = invoke(
        "rollout", str(out), "-o", str(tmp_path / "rollout"), "--node", "r2", "--inventory-var", "r2=kvm-r2.lab"
    )
    assert result.exit_code == 0, result.stderr
    texts = project_text(tmp_path / "rollout")
    assert sorted(path for path in texts if path.startswith("files/")) == [
        "files/r2/libvirt/define.sh",
        "files/r2/libvirt/vm-vlan33.xml",
        "files/r2/libvirt/vm-vlan40.xml",
        "files/r2/network-scripts/ifcfg-br0",
        "files/r2/network-scripts/ifcfg-br0-up",
        "files/r2/network-scripts/ifcfg-br1",
        "files/r2/network-scripts/ifcfg-br1-up",
        "files/r2/network-scripts/ifcfg-eth0",
        "files/r2/network-scripts/ifcfg-eth1",
        "files/r2/network-scripts/ifcfg-eth2",
        "files/r2/network-scripts/ifcfg-eth3",
        "files/r2/ovs/apply.sh",
    ]  # the build sheets stay on the controller
    assert inventory_hosts(tmp_path / "rollout")["r2"]["ansible_host"] == "kvm-r2.lab"
    assert texts == snapshot


def test_hosts_are_reached_at_their_address_unless_told_otherwise(tmp_path: Path) -> None:
    source = plan(tmp_path)
    mapping = tmp_path / "hosts.yaml"
    mapping.write_text("r1: kvm-r1.lab.example\nr2: 192.0.2.2\n")
    result = invoke(
        "rollout",
        str(source),
        "-o",
        str(tmp_path / "rollout"),
        "--inventory-map",
        str(mapping),
        "--inventory-var",
        "r2=r2-mgmt",
    )
    assert result.exit_code == 0, result.stderr
    hosts = inventory_hosts(tmp_path / "rollout")
    assert {name: host["ansible_host"] for name, host in hosts.items()} == {
        "r1": "kvm-r1.lab.example",
        "r2": "r2-mgmt",  # --inventory-var wins over the map
        "r3": "10.40.0.13",
        "r4": "10.40.0.14",
        "r5": "10.40.0.15",
    }
    assert hosts["r3"]["ovsgen_steps"] == [
        {"layer": "ovs", "change": "change.sh", "rollback": "rollback.sh"},
        {"layer": "ifcfg", "change": "ifcfg-change.sh", "rollback": "ifcfg-rollback.sh"},
        {"layer": "libvirt", "change": "libvirt-change.sh", "rollback": "libvirt-rollback.sh"},
    ]
    assert hosts["r3"]["ovsgen_rollback_order"] == ["libvirt", "ifcfg", "ovs"]
    assert hosts["r3"]["ovsgen_bond_checks"] == [
        ["bond/show", "br0-up"],
        ["bond/show", "br1-up"],
        ["lacp/show", "br1-up"],
    ]


def test_a_plan_reaches_hosts_at_their_address_before_the_change(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    text = (ROLLOUT / "fleet-old.yaml").read_text()
    old.write_text(text)
    new.write_text(text.replace("address: 10.40.0.11/24", "address: 10.40.0.99/24"))
    source = plan(tmp_path, "old", "new", tmp_path)
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout")).exit_code == 0
    assert inventory_hosts(tmp_path / "rollout")["r1"]["ansible_host"] == "10.40.0.11"


@pytest.mark.parametrize(
    ("mapping", "where", "message"),
    [
        ("r1: [a, b]\n", "1:5", "r1: not a host name or address"),
        ("r1: '-oProxyCommand=x'\n", "1:5", "r1: not a host name or address"),
        ("r1: a\n  b: c\n", "2:4", "not a YAML mapping of NODE: HOST"),
        ("r1: a\nr9: b\n", "2:1", "r9: not a node of PLAN"),
        ("- r1\n", "1:1", "not a YAML mapping of NODE: HOST"),
        ("r1: a\nr1: b\n", "2:1", "r1: given twice"),
        ("r4: null\n", "1:5", "r4: not a host name"),
        ("r2: 12\n", "1:5", "r2: not a host name"),
    ],
)
def test_a_bad_mapping_file_is_located(tmp_path: Path, mapping: str, where: str, message: str) -> None:
    source = plan(tmp_path)
    path = tmp_path / "hosts.yaml"
    path.write_text(mapping)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--inventory-map", str(path))
    assert result.exit_code == 1
    assert f"{path}:{where}: error: {message.replace('PLAN', str(source))}" in result.stderr
    assert not (tmp_path / "rollout").exists()


def test_a_node_without_an_address_needs_one(tmp_path: Path) -> None:
    design = tmp_path / "dhcp.yaml"
    design.write_text((ROLLOUT / "fleet-new.yaml").read_text().replace("address: 10.40.0.12/24", "address: dhcp"))
    out = render(tmp_path, design)
    result = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    facts = out / "fleet" / "rollout.json"
    assert (
        f"{facts}:{name_line(facts, 'r2')}:7: error: r2: has no host address (DHCP): give --inventory-var r2=HOST"
        in result.stderr
    )
    unknown = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"), "--inventory-var", "r9=h")
    assert unknown.exit_code == 1
    assert f"--inventory-var r9=...: not a node of {out}" in unknown.stderr
    assert not (tmp_path / "rollout").exists()
    fixed = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"), "--inventory-var", "r2=kvm-r2")
    assert fixed.exit_code == 0, fixed.stderr
    assert inventory_hosts(tmp_path / "rollout")["r2"]["ansible_host"] == "kvm-r2"


def test_a_folder_without_rollout_facts_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("rollout", str(tmp_path / "empty"), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'empty' / 'rollout.json'}:1:1: error: no rollout.json here" in result.stderr


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{\n  "generated": "Generated by ovsgen plan",\n  "kind": plan\n}\n', "3:11", "not JSON: Expecting value"),
        ('{"kind": "plan", "nodes": []}\n', "1:1", "not a rollout.json ovsgen wrote: its 'generated' line is missing"),
        (
            '{"generated": "Generated by ovsgen x", "kind": "other", "nodes": []}',
            "1:1",
            "'kind' is neither plan nor render",
        ),
        ('{"generated": "Generated by ovsgen x", "kind": "plan", "nodes": {}}', "1:1", "'nodes' is not a list"),
        (
            '{"generated": "Generated by ovsgen x", "kind": "plan", "nodes": [{"name": "r1"}]}',
            "1:1",
            "a node lacks design, address, bonds, steps, rollback_order, backend_change, risks",
        ),
        (
            '{"generated": "Generated by ovsgen x", "kind": "render", "nodes": ["r1"]}',
            "1:1",
            "a node lacks name, design, address, bonds, bridges, backends",
        ),
        ("{\xff}", "1:1", "not UTF-8 text: not a rollout.json ovsgen wrote"),
    ],
)
def test_a_bad_rollout_json_is_located(tmp_path: Path, text: str, where: str, message: str) -> None:
    source = plan(tmp_path)
    facts = source / "rollout.json"
    facts.write_bytes(text.encode("latin-1"))
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{facts}:{where}: error: " in result.stderr
    assert f"{message}\n" in result.stderr


def test_a_node_folder_that_went_missing_is_refused(tmp_path: Path) -> None:
    source = plan(tmp_path)
    for path in sorted((source / "r2").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (source / "r2").rmdir()
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{source / 'r2'}:1:1: error: the node's folder is missing" in result.stderr


def test_only_the_nodes_asked_for(tmp_path: Path) -> None:
    source = plan(tmp_path)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--node", "r4", "--node", "r2")
    assert result.exit_code == 0, result.stderr
    assert list(inventory_hosts(tmp_path / "rollout")) == ["r2", "r4"]
    assert sorted(path.name for path in (tmp_path / "rollout" / "files").iterdir()) == ["r2", "r4"]
    assert (
        "from the plan (fleet-old.yaml -> fleet-new.yaml). Review it"
        in (tmp_path / "rollout" / "README.md").read_text()
    )
    unknown = invoke("rollout", str(source), "-o", str(tmp_path / "other"), "--node", "r9")
    assert unknown.exit_code == 1
    assert f"--node r9: not a node of {source} (its nodes: r1, r2, r3, r4, r5)" in unknown.stderr


def test_backups_a_script_saved_stay_on_the_controller(tmp_path: Path) -> None:
    source = plan(tmp_path)
    (source / "r1" / "libvirt.backup").mkdir()
    (source / "r1" / "libvirt.backup" / "vm-vlan32.xml").write_text("<network/>")
    (source / "r1" / "network-scripts.restored").mkdir()
    (source / "r1" / "network-scripts.restored" / "ifcfg-br1").write_text("x")
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--node", "r1").exit_code == 0
    staged = {path.name for path in (tmp_path / "rollout" / "files" / "r1").iterdir()}
    assert "libvirt.backup" not in staged
    assert "network-scripts.restored" not in staged
    assert "libvirt.old" in staged


def test_a_backend_change_needs_a_console(tmp_path: Path) -> None:
    source = plan(tmp_path, "nm-base", "nm-cutover", CHANGES)
    facts = json.loads((source / "rollout.json").read_text())
    cutover = [node["name"] for node in facts["nodes"] if node["backend_change"]]
    others = [node["name"] for node in facts["nodes"] if not node["backend_change"]]
    assert cutover
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    facts_file = source / "rollout.json"
    change = next(node["backend_change"] for node in facts["nodes"] if node["name"] == cutover[0])
    where = f"{facts_file}:{name_line(facts_file, cutover[0])}:7"
    assert f"{where}: error: {cutover[0]}: changes backend ({change}); its steps need a console" in result.stderr
    assert "its steps need a console; leave it out (--node with the others) or run it by hand" in result.stderr
    assert not (tmp_path / "rollout").exists()
    if others:
        nodes = [item for name in others for item in ("--node", name)]
        assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), *nodes).exit_code == 0


def test_a_first_build_on_networkmanager_needs_a_console(tmp_path: Path) -> None:
    out = render(tmp_path, DESIGNS / "rhel9-migration.yaml")
    result = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    facts = out / "rhel9-migration" / "rollout.json"
    line = name_line(facts, "kvm-r-1")
    assert f"{facts}:{line}:7: error: kvm-r-1: a first build on NetworkManager needs a console" in result.stderr
    assert "kvm-r-3" not in result.stderr  # on ifcfg files
    assert invoke("rollout", str(out), "-o", str(tmp_path / "rollout"), "--node", "kvm-r-3").exit_code == 0


def test_a_render_of_several_designs_groups_hosts_by_design(tmp_path: Path) -> None:
    out = render(tmp_path, ROLLOUT / "fleet-new.yaml", DESIGNS / "two-tier-cluster.yaml")
    assert invoke("rollout", str(out), "-o", str(tmp_path / "rollout")).exit_code == 0
    data = yaml.safe_load((tmp_path / "rollout" / "inventory.yml").read_text())
    groups = data["all"]["children"]["ovsgen_rollout"]["children"]
    assert sorted(groups) == ["design_fleet", "design_two_tier_cluster"]
    assert list(groups["design_fleet"]["hosts"]) == ["r1", "r2", "r3", "r4", "r5"]
    assert groups["design_fleet"]["hosts"]["r3"]["ansible_host"] == "10.40.0.13"
    readme = (tmp_path / "rollout" / "README.md").read_text()
    assert "from the render of design fleet, two-tier-cluster. Review it" in readme
    assert invoke("rollout", str(out / "fleet"), "-o", str(tmp_path / "one")).exit_code == 0  # one design's folder
    assert invoke("rollout", str(out), "-o", str(tmp_path / "some"), "--node", "r2").exit_code == 0
    assert "from the render of design fleet. Review it" in (tmp_path / "some" / "README.md").read_text()


def test_a_plan_and_a_render_together_are_refused(tmp_path: Path) -> None:
    source = plan(tmp_path)
    render(tmp_path, ROLLOUT / "fleet-new.yaml")
    both = tmp_path / "both"
    both.mkdir()
    (tmp_path / "plan").rename(both / "plan")
    (tmp_path / "out" / "fleet").rename(both / "fleet")
    result = invoke("rollout", str(both), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    first = both / "fleet" / "rollout.json"  # before plan/rollout.json
    assert f"{first}:1:1: error: the folder holds both a plan and a render: give one of them\n" in result.stderr
    assert source != both


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--batch", "0"], "'0' is neither a number of hosts"),
        (["--batch", "1,101%"], "'101%' is neither a number of hosts"),
        (["--batch", "1,,2"], "'' is neither a number of hosts"),
        (["--batch", "x%"], "'x%' is neither a number of hosts"),
        (["--batch", "²"], "'²' is neither a number of hosts"),
        (["--pause", "-1"], "-1 is not in the range x>=0"),
        (["--inventory-var", "r1"], "'r1': give NODE=HOST"),
        (["--inventory-var", "=h"], "'=h': give NODE=HOST"),
        (["--inventory-var", "r1=a b"], "'r1=a b': give NODE=HOST"),
        (["--inventory-var", "r1=a=b"], "'r1=a=b': give NODE=HOST"),
    ],
)
def test_usage_errors(tmp_path: Path, options: list[str], message: str) -> None:
    source = plan(tmp_path)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), *options)
    assert result.exit_code == 2
    assert f"Invalid value for '{options[0]}': {message}" in result.stderr


@pytest.mark.parametrize("where", ["inside", "same", "parent"])
def test_the_project_never_goes_where_it_would_replace_its_input(tmp_path: Path, where: str) -> None:
    source = plan(tmp_path)
    out = {"inside": source / "rollout", "same": source, "parent": tmp_path}[where]
    result = invoke("rollout", str(source), "-o", str(out))
    assert result.exit_code == 2
    assert f"-o {out}:" in result.stderr
    assert sorted(path.name for path in source.iterdir()) == ["plan.md", "r1", "r2", "r3", "r4", "r5", "rollout.json"]


def test_a_project_is_replaced_only_while_it_holds_no_log(tmp_path: Path) -> None:
    source = plan(tmp_path)
    project = tmp_path / "rollout"
    assert invoke("rollout", str(source), "-o", str(project), "--batch", "5").exit_code == 0
    assert invoke("rollout", str(source), "-o", str(project), "--node", "r1").exit_code == 0
    assert list(inventory_hosts(project)) == ["r1"]
    (project / "logs" / "ansible.log").write_text("a run\n")
    refused = invoke("rollout", str(source), "-o", str(project))
    assert refused.exit_code == 1
    assert f"{project / 'logs' / 'ansible.log'}: a log of ansible-playbook (a run, or --syntax-check)" in refused.stderr
    assert "keep it and write the project elsewhere (-o NEW); nothing was written" in refused.stderr
    assert list(inventory_hosts(project)) == ["r1"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = invoke("rollout", str(source), "-o", str(foreign))
    assert result.exit_code == 1
    assert f"{foreign} is not a rollout project" in result.stderr
    assert f"{foreign / 'notes.txt'} would be lost: ovsgen rollout does not write it" in result.stderr
    assert "write the project to a new folder (-o NEW); nothing was written" in result.stderr
    assert (foreign / "notes.txt").read_text() == "mine"


ORDER = re.compile(r"Order on the node, each script `--check` first, then `--apply`:\n(.*)\nTo go back[^\n]*\n(.*)\n")

# Plans whose nodes change in one layer or several, on ifcfg files or NetworkManager.
ORDER_CASES = [
    ("base", "lacp-on"),
    ("base", "networks-changed"),
    ("base", "node-added"),
    ("node-added", "base"),
    ("base", "internal-port-added"),
    ("nm-base", "nm-changed"),
    ("switch-br0-lacp", "base"),
    ("trunk-base", "trunk-changed"),
]


@pytest.mark.parametrize(("old", "new"), ORDER_CASES)
def test_rollout_json_orders_the_scripts_as_plan_md_does(tmp_path: Path, old: str, new: str) -> None:
    source = plan(tmp_path, old, new, CHANGES)
    summary = (source / "plan.md").read_text()
    in_words = {
        (tuple(re.findall(r"[\w-]+\.sh", forward)), tuple(re.findall(r"[\w-]+\.sh", re.sub(r"\([^)]*\)", "", back))))
        for forward, back in ORDER.findall(summary)
    }
    facts = json.loads((source / "rollout.json").read_text())
    layers = {step["layer"]: step for node in facts["nodes"] for step in node["steps"]}
    in_facts = {
        (
            tuple(step["change"] for step in node["steps"]),
            tuple(layers[layer]["rollback"] for layer in node["rollback_order"]),
        )
        for node in facts["nodes"]
    }
    assert in_facts == in_words
    assert in_words


def test_a_plan_from_a_host_dump_expects_the_host_name_the_dump_recorded(tmp_path: Path) -> None:
    from tests.support.dumps import dump_text

    dump = tmp_path / "host.json"
    dump.write_text(dump_text(hostname="hv17.dc.example"))
    out = tmp_path / "plan"
    planned = invoke("plan", "--from-host", str(dump), str(CHANGES / "base.yaml"), "--node", "c1", "-o", str(out))
    assert planned.exit_code == 0, planned.stderr
    assert invoke("rollout", str(out), "-o", str(tmp_path / "rollout"), "--accept-risks").exit_code == 0
    host = inventory_hosts(tmp_path / "rollout")["c1"]
    assert (host["ansible_host"], host["ovsgen_hostname"]) == ("10.30.0.11", "hv17.dc.example")
    between = invoke("rollout", str(plan(tmp_path / "two")), "-o", str(tmp_path / "other"))
    assert between.exit_code == 0
    assert inventory_hosts(tmp_path / "other")["r1"]["ovsgen_hostname"] == "r1"


def test_a_loop_of_links_as_the_project_folder_is_a_usage_error(tmp_path: Path) -> None:
    source = plan(tmp_path)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    result = invoke("rollout", str(source), "-o", str(loop))
    assert result.exit_code == 2
    assert f"-o {loop}: the rollout project is replaced whole, but cannot tell which folder it is: " in result.stderr
    assert loop.is_symlink()


def edit_facts(source: Path, node: str, **changes: object) -> Path:
    """rollout.json with the node's entry changed, as a hand or a tool might."""
    path = source / "rollout.json"
    facts = json.loads(path.read_text())
    for entry in facts["nodes"]:
        if entry["name"] == node:
            entry.update(changes)
    path.write_text(json.dumps(facts, indent=2) + "\n")
    return path


LAYERS = [
    {"layer": "ovs", "change": "change.sh", "rollback": "rollback.sh"},
    {"layer": "ifcfg", "change": "ifcfg-change.sh", "rollback": "ifcfg-rollback.sh"},
    {"layer": "libvirt", "change": "libvirt-change.sh", "rollback": "libvirt-rollback.sh"},
]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"address": '{{ lookup("pipe", "id") }}'}, 'r2: address \'{{ lookup("pipe", "id") }}\' is not a host name'),
        ({"hostname": "r2 x"}, "r2: 'r2 x' is not a plain name"),
        ({"bonds": [{"name": "{{x}}", "lacp": False}]}, "r2: '{{x}}' is not a plain name"),
        (
            {"steps": [{"layer": "ovs", "change": "../../etc/passwd", "rollback": "rollback.sh"}]},
            "r2: its steps are not",
        ),
        ({"steps": LAYERS[::-1]}, "r2: its steps are not the plan's layers in their order"),
        ({"rollback_order": ["libvirt", "ovs"]}, "r2: its rollback order is not libvirt, ifcfg, ovs"),
        ({"bonds": ["br0-up"]}, "r2: '?' is not a plain name"),
        ({"bonds": "br0-up"}, "r2: '?' is not a plain name"),
        ({"bonds": 5}, "r2: '?' is not a plain name"),
        ({"risks": "x"}, "r2: its risk notes are not lines of text"),
        ({"risks": [1]}, "r2: its risk notes are not lines of text"),
        ({"risks": ["a\nb"]}, "r2: its risk notes are not lines of text"),
    ],
)
def test_a_plan_node_a_rollout_cannot_take_is_refused_at_its_entry(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    source = plan(tmp_path)
    facts = edit_facts(source, "r2", **changes)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{facts}:{name_line(facts, 'r2')}:7: error: {message}" in result.stderr
    assert not (tmp_path / "rollout").exists()


def test_a_missing_rollback_script_is_refused(tmp_path: Path) -> None:
    source = plan(tmp_path)
    (source / "r2" / "libvirt-rollback.sh").unlink()
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert (
        "r2: libvirt-rollback.sh is missing from its folder, or not executable: write the plan again" in result.stderr
    )


def test_a_node_name_that_is_a_path_is_refused_before_it_is_read(tmp_path: Path) -> None:
    source = plan(tmp_path)
    facts = edit_facts(source, "r2", name="../r1")
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{facts}:{name_line(facts, '../r1')}:7: error: '../r1' is not a plain node name" in result.stderr


def test_a_header_with_a_line_break_is_refused(tmp_path: Path) -> None:
    source = plan(tmp_path)
    path = source / "rollout.json"
    facts = json.loads(path.read_text())
    facts["generated"] += "\n[defaults]\nlog_path = /tmp/x"
    path.write_text(json.dumps(facts))
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert "error: not a rollout.json ovsgen wrote: its 'generated' line holds a control character\n" in result.stderr


def test_a_render_without_its_ifcfg_files_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for kind in ("ovs", "rollout"):
        assert invoke("render", str(ROLLOUT / "fleet-new.yaml"), "-o", str(out), "--only", kind).exit_code == 0
    result = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"), "--node", "r1")
    assert result.exit_code == 1
    assert "r1: network-scripts/ is missing from its folder: render the design again, without --only" in result.stderr


def test_two_designs_with_one_node_name_are_refused(tmp_path: Path) -> None:
    twin = tmp_path / "twin.yaml"
    twin.write_text((ROLLOUT / "fleet-new.yaml").read_text().replace("name: fleet", "name: twin"))
    out = render(tmp_path, ROLLOUT / "fleet-new.yaml", twin)
    result = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    facts = out / "twin" / "rollout.json"
    assert f"{facts}:{name_line(facts, 'r1')}:7: error: r1: a second node of this name" in result.stderr


def test_a_mapping_file_for_the_fleet_serves_a_rollout_of_some_nodes(tmp_path: Path) -> None:
    source = plan(tmp_path)
    mapping = tmp_path / "hosts.yaml"
    mapping.write_text("".join(f"r{n}: r{n}.mgmt\n" for n in range(1, 6)))
    result = invoke(
        "rollout", str(source), "-o", str(tmp_path / "rollout"), "--inventory-map", str(mapping), "--node", "r3"
    )
    assert result.exit_code == 0, result.stderr
    assert {name: host["ansible_host"] for name, host in inventory_hosts(tmp_path / "rollout").items()} == {
        "r3": "r3.mgmt"
    }


def test_some_nodes_stage_where_the_whole_plan_does(tmp_path: Path) -> None:
    source = plan(tmp_path)
    assert invoke("rollout", str(source), "-o", str(tmp_path / "all")).exit_code == 0
    assert invoke("rollout", str(source), "-o", str(tmp_path / "one"), "--node", "r2").exit_code == 0
    ids = {
        (tmp_path / name / "site.yml").read_text().split("ovsgen_rollout_id: ")[1].split()[0] for name in ("all", "one")
    }
    assert len(ids) == 1


def test_a_plan_with_risk_notes_is_rolled_out_only_when_they_are_accepted(tmp_path: Path) -> None:
    source = plan(tmp_path, "base", "host-vlan-10", CHANGES)
    facts = source / "rollout.json"
    refused = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert refused.exit_code == 1
    where = f"{facts}:{name_line(facts, 'c1')}:7"
    assert f"{where}: error: c1: its plan has a risk note (this change touches the host bridge br0" in refused.stderr
    assert "or give --accept-risks (and --batch 1)" in refused.stderr
    assert not (tmp_path / "rollout").exists()
    accepted = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--accept-risks", "--batch", "1")
    assert accepted.exit_code == 0, accepted.stderr
    readme = (tmp_path / "rollout" / "README.md").read_text()
    assert "- c2: the host VLAN of br0 moves (untagged -> 10)" in readme
    assert "Risk notes" not in project_readme(tmp_path / "no-risk")


def project_readme(tmp_path: Path) -> str:
    tmp_path.mkdir()
    source = plan(tmp_path)
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout")).exit_code == 0
    return (tmp_path / "rollout" / "README.md").read_text()


def test_a_long_list_of_what_is_in_the_way_is_cut_at_ten(tmp_path: Path) -> None:
    source = plan(tmp_path)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    for number in range(12):
        (foreign / f"n{number:02}").write_text("mine")
    (foreign / "logs").mkdir()
    result = invoke("rollout", str(source), "-o", str(foreign))
    assert result.exit_code == 1
    assert result.stderr.count("would be lost") == 10
    assert f"{foreign / 'n09'} would be lost" in result.stderr
    assert "n10" not in result.stderr


def test_mapping_files_that_are_no_text_or_too_large_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.rollout import inventory

    source = plan(tmp_path)
    path = tmp_path / "hosts.yaml"
    path.write_bytes(b"r1: \xff\n")
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--inventory-map", str(path))
    assert result.exit_code == 1
    assert f"{path}:1:1: error: not a YAML mapping of NODE: HOST: not UTF-8 text" in result.stderr
    path.write_text("r1: a\n  b: c\n")
    indented = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--inventory-map", str(path))
    assert (
        f"{path}:2:4: error: not a YAML mapping of NODE: HOST: mapping values are not allowed here" in indented.stderr
    )
    monkeypatch.setattr(inventory, "MAX_MAP_BYTES", 8)
    path.write_text("r1: kvm-r1\n")
    large = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--inventory-map", str(path))
    assert large.exit_code == 1
    assert f"{path}:1:1: error: larger than 0 MiB: not a mapping of NODE: HOST" in large.stderr


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"backends": ["x"]}, "its backends are neither ifcfg nor networkmanager"),
        ({"backends": []}, "its backends are neither ifcfg nor networkmanager"),
        ({"backends": "ifcfg"}, "its backends are neither ifcfg nor networkmanager"),
        ({"bridges": [{"name": "br0", "ports": "br0-up"}]}, "'?' is not a plain name"),
        ({"bridges": ["br0"]}, "'?' is not a plain name"),
        ({"bridges": "br0"}, "'?' is not a plain name"),
        ({"bridges": [{"name": "br0", "ports": ["a b"]}]}, "'a b' is not a plain name"),
        ({"bridges": [{"name": "a b", "ports": []}]}, "'a b' is not a plain name"),
        ({"bridges": 5}, "'?' is not a plain name"),
        ({"bonds": [{"name": "a b", "lacp": False}]}, "'a b' is not a plain name"),
        ({"backends": ["ifcfg", "networkmanager"]}, "a first build on NetworkManager needs a console"),
    ],
)
def test_a_render_node_a_rollout_cannot_take_is_refused_at_its_entry(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    out = render(tmp_path, ROLLOUT / "fleet-new.yaml")
    facts = edit_facts(out / "fleet", "r2", **changes)
    result = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{facts}:{name_line(facts, 'r2')}:7: error: r2: {message}" in result.stderr


def test_a_render_with_networks_but_no_define_sh_is_refused(tmp_path: Path) -> None:
    out = render(tmp_path, ROLLOUT / "fleet-new.yaml")
    (out / "fleet" / "r3" / "libvirt" / "define.sh").unlink()
    result = invoke("rollout", str(out), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert "r3: libvirt/define.sh is missing from its folder: render the design again, without --only" in result.stderr
    for path in sorted((out / "fleet" / "r3" / "libvirt").iterdir()):
        path.unlink()
    (out / "fleet" / "r3" / "libvirt").rmdir()
    assert invoke("rollout", str(out), "-o", str(tmp_path / "no-networks"), "--node", "r3").exit_code == 0
    both = render(tmp_path / "two", DESIGNS / "rhel9-migration.yaml")
    assert invoke("rollout", str(both), "-o", str(tmp_path / "ifcfg"), "--node", "kvm-r-3").exit_code == 0


def test_a_node_file_that_is_no_text_is_refused(tmp_path: Path) -> None:
    source = plan(tmp_path)
    (source / "r2" / "network-scripts" / "ifcfg-br1-up").write_bytes(b"\xff\n")
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    where = source / "r2" / "network-scripts" / "ifcfg-br1-up"
    assert f"{where}:1:1: error: not UTF-8 text: not a file ovsgen wrote\n" in result.stderr


@pytest.mark.parametrize(
    ("name", "word"), [("network-scripts/ifcfg-x y", "ifcfg-x y"), ("libvirt/vm{{x}}.xml", "vm{{x}}")]
)
def test_a_file_whose_name_is_no_plain_word_is_refused(tmp_path: Path, name: str, word: str) -> None:
    source = plan(tmp_path)
    (source / "r2" / name).write_text("x\n")
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"r2: {word!r} is not a plain name" in result.stderr


def test_a_compact_rollout_json_locates_its_nodes_at_its_start(tmp_path: Path) -> None:
    source = plan(tmp_path)
    path = source / "rollout.json"
    facts = json.loads(path.read_text())
    facts["nodes"][1]["address"] = "a b"
    path.write_text(json.dumps(facts))
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{path}:1:1: error: r2: address 'a b' is not a host name or address" in result.stderr


def test_scripts_stay_executable_and_backups_deep_in_a_layer_stay_behind(tmp_path: Path) -> None:
    source = plan(tmp_path)
    saved = source / "r1" / "network-scripts.backup" / "files"
    saved.mkdir(parents=True)
    (saved / "ifcfg-br1-up").write_text("x\n")
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--node", "r1").exit_code == 0
    files = tmp_path / "rollout" / "files" / "r1"
    assert not (files / "network-scripts.backup").exists()
    modes = {path.name: path.stat().st_mode & 0o111 != 0 for path in files.rglob("*") if path.is_file()}
    assert modes["change.sh"]
    assert modes["libvirt-rollback.sh"]
    assert not modes["ifcfg-br1-up"]
    assert not modes["vm-vlan33.xml"]


def test_a_plan_is_named_by_its_designs_file_names_in_the_project(tmp_path: Path) -> None:
    """The plan's header in rollout.json is cut at its last ". Review": a file name may hold one;
    and written as it is (not as \\u escapes), as in plan.md."""
    designs = tmp_path / "designs"
    designs.mkdir()
    (designs / "flöte. Review.yaml").write_text((ROLLOUT / "fleet-old.yaml").read_text())
    (designs / "new.yaml").write_text((ROLLOUT / "fleet-new.yaml").read_text())
    source = plan(tmp_path, "flöte. Review", "new", designs)
    assert "(flöte. Review.yaml -> new.yaml)" in (source / "rollout.json").read_text(encoding="utf-8")
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout")).exit_code == 0
    readme = (tmp_path / "rollout" / "README.md").read_text()
    assert "Generated by ovsgen rollout from the plan (flöte. Review.yaml -> new.yaml). Review it;" in readme


def test_rollout_json_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.rollout import source as rollout_source

    source = plan(tmp_path)
    path = source / "rollout.json"
    # Blanks before the JSON, none after: a file read one byte short would no longer parse.
    text = path.read_text().rstrip("\n")
    monkeypatch.setattr(rollout_source, "MAX_FACTS_BYTES", 2**20)
    path.write_text(" " * (2**20 - len(text.encode())) + text)
    assert invoke("rollout", str(source), "-o", str(tmp_path / "at-the-limit")).exit_code == 0
    path.write_text(" " + path.read_text())
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{path}:1:1: error: larger than 1 MiB: not a rollout.json ovsgen wrote\n" in result.stderr


def test_a_mapping_file_at_the_size_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.rollout import inventory

    source = plan(tmp_path)
    path = tmp_path / "hosts.yaml"
    path.write_text("r1: kvm-r1")
    monkeypatch.setattr(inventory, "MAX_MAP_BYTES", len("r1: kvm-r1"))
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--inventory-map", str(path)).exit_code == 0
    assert inventory_hosts(tmp_path / "rollout")["r1"]["ansible_host"] == "kvm-r1"
    monkeypatch.setattr(inventory, "MAX_MAP_BYTES", 2**20)
    path.write_text("r1: kvm-r1\n" + "#" * 2**20)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "other"), "--inventory-map", str(path))
    assert result.exit_code == 1
    assert f"{path}:1:1: error: larger than 1 MiB: not a mapping of NODE: HOST\n" in result.stderr


def test_a_plan_without_changes_has_no_node_to_pick(tmp_path: Path) -> None:
    source = plan(tmp_path, "base", "base", CHANGES)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--node", "c1")
    assert result.exit_code == 1
    assert f"--node c1: not a node of {source} (its nodes: none)" in result.stderr


def test_a_long_list_of_logs_is_cut_at_ten(tmp_path: Path) -> None:
    source = plan(tmp_path)
    project = tmp_path / "rollout"
    assert invoke("rollout", str(source), "-o", str(project)).exit_code == 0
    for number in range(12):
        (project / "logs" / f"r{number:02}.log").write_text("a run\n")
    result = invoke("rollout", str(source), "-o", str(project))
    assert result.exit_code == 1
    assert result.stderr.count("ovsgen never deletes one") == 10
    assert f"{project / 'logs' / 'r09.log'}: a log of ansible-playbook" in result.stderr
    assert "r10.log" not in result.stderr


@pytest.mark.parametrize("sizes", ["150", "1,1000000"])
def test_batches_of_more_than_a_hundred_hosts(tmp_path: Path, sizes: str) -> None:
    source = plan(tmp_path)
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout"), "--batch", sizes).exit_code == 0
    site = (tmp_path / "rollout" / "site.yml").read_text()
    assert f"serial: [{sizes.replace(',', ', ')}]" in site


def test_a_batch_of_more_than_a_million_hosts_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("rollout", str(plan(tmp_path)), "-o", str(tmp_path / "rollout"), "--batch", "1000001")
    assert result.exit_code == 2
    assert "Invalid value for '--batch': '1000001' is neither a number of hosts" in result.stderr


def test_a_project_folder_that_cannot_be_told_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder vanishes between the two checks of -o (its own, then: not inside the plan)."""
    from generator.cli import fleet

    source = plan(tmp_path)

    def vanished(path: Path) -> Path:
        raise OSError(2, "No such file or directory", str(path))

    monkeypatch.setattr(fleet, "resolved", vanished)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 2
    assert f"-o {tmp_path / 'rollout'}: cannot tell which folder it is: [Errno 2] No such file" in result.stderr


def test_a_design_group_keeps_letters_digits_and_underscores() -> None:
    from generator.rollout.project import group_name

    assert group_name("Fleet-2.b_x") == "design_Fleet_2_b_x"


def test_folders_of_a_render_without_rollout_json_are_not_read(tmp_path: Path) -> None:
    out = render(tmp_path, ROLLOUT / "fleet-new.yaml")
    (out / "notes").mkdir()
    (out / "notes" / "r1").mkdir()
    (out / "README.txt").write_text("ours\n")
    assert invoke("rollout", str(out), "-o", str(tmp_path / "rollout")).exit_code == 0
    assert list(inventory_hosts(tmp_path / "rollout")) == ["r1", "r2", "r3", "r4", "r5"]


def test_a_render_of_some_nodes_rolls_out_those_nodes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rendered = invoke("render", str(ROLLOUT / "fleet-new.yaml"), "-o", str(out), "--node", "r2", "--node", "r4")
    assert rendered.exit_code == 0, rendered.stderr
    assert invoke("rollout", str(out), "-o", str(tmp_path / "rollout")).exit_code == 0
    assert list(inventory_hosts(tmp_path / "rollout")) == ["r2", "r4"]
    other = invoke("rollout", str(out), "-o", str(tmp_path / "other"), "--node", "r1")
    assert other.exit_code == 1
    assert f"--node r1: not a node of {out} (its nodes: r2, r4)" in other.stderr
    for node in ("r2", "r4"):
        shutil.rmtree(out / "fleet" / node)
    none = invoke("rollout", str(out), "-o", str(tmp_path / "none"))
    assert none.exit_code == 1
    facts = out / "fleet" / "rollout.json"
    assert f"{facts}:1:1: error: no node of this render has its folder: render the design again\n" in none.stderr


def test_a_fifo_among_a_nodes_files_is_refused_unread(tmp_path: Path) -> None:
    import os

    source = plan(tmp_path)
    fifo = source / "r1" / "libvirt" / "extra.xml"
    os.mkfifo(fifo)
    result = invoke("rollout", str(source), "-o", str(tmp_path / "rollout"))
    assert result.exit_code == 1
    assert f"{fifo}:1:1: error: not a regular file: not a file ovsgen wrote\n" in result.stderr


def test_a_node_given_twice_with_inventory_var_is_a_usage_error(tmp_path: Path) -> None:
    options = ["--inventory-var", "r1=a", "--inventory-var", "r1=b"]
    result = invoke("rollout", str(plan(tmp_path)), "-o", str(tmp_path / "rollout"), *options)
    assert result.exit_code == 2
    assert "--inventory-var r1=b: r1 is given twice" in result.stderr


def test_accepted_risks_in_batches_of_more_than_one_are_pointed_out(tmp_path: Path) -> None:
    source = plan(tmp_path, "base", "host-vlan-10", CHANGES)
    wide = invoke("rollout", str(source), "-o", str(tmp_path / "wide"), "--accept-risks")
    assert wide.exit_code == 0, wide.stderr
    warning = "warning: risk notes accepted for 2 node(s) (c1 first), but batches are 1,10%,100%: plan.md says one"
    assert f"{warning} node at a time (--batch 1)\n" in wide.stderr
    assert "`ovsgen rollout --accept-risks --batch 1`" in (tmp_path / "wide" / "README.md").read_text()
    one = invoke("rollout", str(source), "-o", str(tmp_path / "one"), "--accept-risks", "--batch", "1")
    assert "warning" not in one.stderr
    assert "--batch 1`" not in (tmp_path / "one" / "README.md").read_text()


def test_the_project_says_what_it_rolls_out(tmp_path: Path) -> None:
    source = plan(tmp_path)
    assert invoke("rollout", str(source), "-o", str(tmp_path / "rollout")).exit_code == 0
    title = (tmp_path / "rollout" / "README.md").read_text().splitlines()[1]
    assert re.fullmatch(r"# Rollout [0-9a-f]{12}: the plan \(fleet-old\.yaml -> fleet-new\.yaml\)", title)
    out = render(tmp_path, ROLLOUT / "fleet-new.yaml")
    assert invoke("rollout", str(out), "-o", str(tmp_path / "build")).exit_code == 0
    readme = (tmp_path / "build" / "README.md").read_text()
    assert "**Before a first build**: Ansible must reach each new host on a connection" in readme
    assert "The build installs\nthe ifcfg files but brings nothing up" in readme
