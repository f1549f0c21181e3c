"""ovsgen rollout, run by the real Ansible engine against fake hosts (tests/support/rollout.py):
each with its own ovsdb-server, ifcfg folder, libvirt (the test driver, kept between calls) and
host name. The projects also pass ansible-lint's production profile and --syntax-check."""

from __future__ import annotations

import re
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from generator.design.validate import ValidDesign, validate_file
from generator.render.kinds import render_design
from tests.conftest import run
from tests.support.rollout import FakeHost, host_inventory, rigged, run_playbook, start_host

pytestmark = pytest.mark.consumer

DESIGNS = Path(__file__).parent / "designs" / "rollout"
OLD, NEW = DESIGNS / "fleet-old.yaml", DESIGNS / "fleet-new.yaml"
NODES = [f"r{number}" for number in range(1, 6)]
OVSGEN = [sys.executable, "-m", "generator"]


@pytest.fixture(scope="module")
def designs() -> tuple[ValidDesign, ValidDesign]:
    return validate_file(OLD), validate_file(NEW)


def ovsgen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = run([*OVSGEN, *map(str, args)])
    assert result.returncode == 0, result.stderr
    return result


def plan_project(folder: Path, *options: str) -> Path:
    ovsgen("plan", OLD, NEW, "-o", folder / "plan")
    ovsgen("rollout", folder / "plan", "-o", folder / "project", *options)
    return folder / "project"


def without_ids(xml: str) -> str:
    """A network's definition without what libvirt makes up for each host (its UUID)."""
    return re.sub(r"\s*<uuid>[^<]*</uuid>", "", xml)


def expected_new(valid: ValidDesign, reference: FakeHost, node: str) -> dict[str, object]:
    """What a host of `node` holds in the new design: the database its apply.sh builds, its
    ifcfg files as rendered, and its networks as define.sh defines them."""
    files = {f.name: f.text.encode() for f in render_design(valid, [node], ["ifcfg"])}
    networks = {name: without_ids(xml) for name, xml in reference.networks().items()}
    return {"rows": reference.ovsdb.rows(), "files": files, "networks": networks}


def applied(log: str) -> list[str]:
    """The commands of the last run in a node's log (each run starts with `=== date`) that change the host."""
    last = log.rpartition("\n=== ")[2]
    return [line for line in last.splitlines() if line.startswith("$ ") and line.endswith("--apply")]


def rollout_id(project: Path) -> str:
    found = re.search(r'ovsgen_rollout_id: "([0-9a-f]{12})"', (project / "site.yml").read_text())
    assert found is not None
    return found.group(1)


def unstaged(host: FakeHost) -> dict[str, tuple[int, bytes]]:
    """The host's files but the staging folder, where the rollout puts the node's files first."""
    return {path: item for path, item in host.tree().items() if not path.startswith("staging/")}


def held(host: FakeHost) -> dict[str, object]:
    state = host.state()
    return {**state, "networks": {name: without_ids(xml) for name, xml in state["networks"].items()}}  # type: ignore[attr-defined]


def test_a_plan_is_checked_then_rolled_out_stopped_at_a_failure_rolled_back_and_resumed(
    tmp_path: Path, designs: tuple[ValidDesign, ValidDesign]
) -> None:
    old, new = designs
    project = plan_project(tmp_path, "--batch", "1,2")
    with ExitStack() as stack:
        hosts = [
            start_host(stack, tmp_path / "hosts", old, node, rig="vm-vlan33" if node == "r3" else "") for node in NODES
        ]
        reference = start_host(stack, tmp_path / "reference", new, "r1")
        inventory = host_inventory(hosts, tmp_path / "test-hosts.yml")
        start = {host.name: host.state() for host in hosts}
        trees = {host.name: host.tree() for host in hosts}

        # The same plan in one batch of five (the same staging folders: the same files), for the
        # runs that do not depend on the batches: check mode and the run that resumes.
        at_once = tmp_path / "at-once"
        ovsgen("rollout", tmp_path / "plan", "-o", at_once, "--batch", "100%")
        assert rollout_id(at_once) == rollout_id(project)
        checked = run_playbook(at_once, inventory, "--check")
        assert checked.returncode == 0, checked.stdout[-3000:]
        assert {host.name: host.state() for host in hosts} == start
        assert {host.name: host.tree() for host in hosts} == trees  # no staging folder, no file
        for node in NODES:
            log = (at_once / "logs" / f"{node}.log").read_text()
            assert "change.sh, ifcfg-change.sh, libvirt-change.sh --dry-run" in log
            assert applied(log) == []

        failed = run_playbook(project, inventory)
        assert failed.returncode != 0
        assert "r3: libvirt-change.sh --apply exited 1" in failed.stdout
        assert "rolled back: libvirt, ifcfg, ovs" in failed.stdout
        for host in hosts[:2]:
            assert held(host) == expected_new(new, reference, host.name)
            assert host.appctl_calls == ["bond/show br0-up", "bond/show br1-up", "lacp/show br1-up"]
        assert hosts[2].state() == start["r3"]  # every layer put back: database, files, networks
        assert hosts[2].appctl_calls == []
        for host in hosts[3:]:
            assert host.state() == start[host.name]
            assert host.tree() == trees[host.name]

        rigged(hosts[2], "")  # the cause fixed: run again (r2 left out: --limit, as an operator may)
        host_inventory(hosts, inventory)
        resumed = run_playbook(at_once, inventory, "--limit", "r1,r3,r4,r5")
        assert resumed.returncode == 0, resumed.stdout[-3000:]
        for host in hosts:
            assert held(host) == expected_new(new, reference, host.name)
        assert "No change: node r1 already matches the new design" in (at_once / "logs" / "r1.log").read_text()
        assert applied((at_once / "logs" / "r2.log").read_text()) == []  # still check mode's


def test_a_drifted_host_another_host_and_running_vms_are_refused_before_anything_is_applied(
    tmp_path: Path, designs: tuple[ValidDesign, ValidDesign]
) -> None:
    old, _ = designs
    project = plan_project(tmp_path, "--node", "r1", "--node", "r2", "--node", "r3", "--batch", "3")
    with ExitStack() as stack:
        drifted, elsewhere, busy = (start_host(stack, tmp_path / "hosts", old, node) for node in ("r1", "r2", "r3"))
        drifted.ovsdb.vsctl("set", "Port", "br1-up", "bond_mode=active-backup")  # by hand, since the plan
        (elsewhere.root / "bin" / "hostname").write_text("#!/bin/sh\necho r9.lab.example\n")
        start_vm(busy, "vm-vlan40")  # a network the plan retags
        hosts = [drifted, elsewhere, busy]
        inventory = host_inventory(hosts, tmp_path / "test-hosts.yml")
        before = {host.name: (host.state(), unstaged(host)) for host in hosts}

        result = run_playbook(project, inventory)

        assert result.returncode != 0
        assert {host.name: (host.state(), unstaged(host)) for host in hosts} == before
        staged = sorted(str(path.relative_to(drifted.staging)) for path in drifted.staging.rglob("*") if path.is_file())
        node_files = tmp_path / "plan" / "r1"
        plan_files = [path.relative_to(node_files) for path in node_files.rglob("*") if path.is_file()]
        assert staged == sorted(f"{rollout_id(project)}/r1/{path}" for path in plan_files)
        assert not elsewhere.staging.exists()  # refused before its files were staged
        assert "r1: change.sh, ifcfg-change.sh, libvirt-change.sh --check exited 1" in result.stdout
        assert "drifted" in (project / "logs" / "r1.log").read_text()
        assert "r2: this host is r9.lab.example, not r2; nothing was changed" in result.stdout
        assert "r3: running VMs use networks the plan changes" in result.stdout
        assert "network vm-vlan40 is used by running domains:" in (project / "logs" / "r3.log").read_text()
        for node in ("r1", "r2", "r3"):
            assert re.search(rf"fatal: \[{node}\]: FAILED! .*nothing had been applied", result.stdout)


def start_vm(host: FakeHost, network: str) -> None:
    """A running VM with an interface on `network` (libvirt's test driver, kept between calls)."""
    domain = host.root / "vm1.xml"
    domain.write_text(
        "<domain type='test'><name>vm1</name><memory unit='KiB'>1024</memory>"
        "<os><type arch='i686'>hvm</type></os><devices><interface type='network'>"
        f"<source network='{network}'/><target dev='vnet7'/></interface></devices></domain>"
    )
    host.virsh("define", "--file", str(domain))
    host.virsh("start", "--domain", "vm1")


def test_a_host_that_does_not_answer_stops_the_rollout(
    tmp_path: Path, designs: tuple[ValidDesign, ValidDesign]
) -> None:
    """Ansible does not count an unreachable host as failed: the playbook stops after its batch."""
    old, new = designs
    project = plan_project(tmp_path, "--node", "r3", "--node", "r4", "--node", "r5", "--batch", "2")
    with ExitStack() as stack:
        done, later = (start_host(stack, tmp_path / "hosts", old, node) for node in ("r4", "r5"))
        reference = start_host(stack, tmp_path / "reference", new, "r1")
        inventory = host_inventory([done, later], tmp_path / "test-hosts.yml")
        # r3 is reached over ssh at a closed port of this machine's loopback: it does not answer.
        inventory.write_text(
            inventory.read_text() + "    r3: {ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 9}\n"
        )
        before = later.state(), later.tree()

        result = run_playbook(project, inventory)

        assert result.returncode != 0
        assert "fatal: [r3]: UNREACHABLE!" in result.stdout
        assert (
            "r3 did not answer (unreachable): the rollout stops after this batch, no later batch starts"
            in result.stdout
        )
        assert held(done) == expected_new(new, reference, "r4")  # r3's batch finished
        assert (later.state(), later.tree()) == before  # the next batch never started


def test_a_first_build_from_a_render_is_rolled_back_to_a_new_host(
    tmp_path: Path, designs: tuple[ValidDesign, ValidDesign]
) -> None:
    _, new = designs
    ovsgen("render", NEW, "-o", tmp_path / "out")
    ovsgen("rollout", tmp_path / "out", "-o", tmp_path / "project", "--node", "r1", "--node", "r2", "--batch", "2")
    project = tmp_path / "project"
    with ExitStack() as stack:
        built, failing = (
            start_host(stack, tmp_path / "hosts", new, node, built=False, rig="vm-vlan33" if node == "r2" else "")
            for node in ("r1", "r2")
        )
        reference = start_host(stack, tmp_path / "reference", new, "r1")
        inventory = host_inventory([built, failing], tmp_path / "test-hosts.yml")
        empty = failing.state()

        result = run_playbook(project, inventory)

        assert result.returncode != 0
        assert held(built) == expected_new(new, reference, "r1")
        assert failing.state() == empty
        assert "r2: libvirt/define.sh --apply exited 1" in result.stdout
        assert "rolled back: libvirt, ifcfg, ovs" in result.stdout

        rigged(failing, "")
        host_inventory([built, failing], inventory)
        again = run_playbook(project, inventory)
        assert again.returncode == 0, again.stdout[-3000:]
        assert held(failing) == expected_new(new, reference, "r2")
        assert applied((project / "logs" / "r1.log").read_text()) == []  # found built: left as it is


@pytest.mark.parametrize("kind", ["plan", "render"])
def test_the_project_passes_ansible_lint_and_the_syntax_check(tmp_path: Path, kind: str) -> None:
    if kind == "plan":
        project = plan_project(tmp_path)
    else:
        ovsgen("render", NEW, "-o", tmp_path / "out")
        ovsgen("rollout", tmp_path / "out", "-o", tmp_path / "project", "--pause", "30")
        project = tmp_path / "project"
    bin_folder = Path(sys.executable).parent
    syntax = run([str(bin_folder / "ansible-playbook"), "--syntax-check", "site.yml"], cwd=str(project))
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    lint = run(
        [str(bin_folder / "ansible-lint"), "--profile", "production", "--offline", "--nocolor"],
        cwd=str(project),
        env={"PATH": f"{bin_folder}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Profile 'production' was required, and it passed" in lint.stdout + lint.stderr


def test_a_run_that_would_match_no_node_fails_instead_of_doing_nothing(tmp_path: Path) -> None:
    """From another folder Ansible reads no ansible.cfg, so no inventory.yml: refused, not green."""
    project = plan_project(tmp_path, "--node", "r1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
    }
    result = run([str(Path(sys.executable).parent / "ansible-playbook"), str(project / "site.yml"), "--check"],
                 cwd=str(elsewhere), env=env)  # fmt: skip
    assert result.returncode != 0
    assert "no node of this rollout is in the inventory: run ansible-playbook from the project's folder" in (
        result.stdout
    )
