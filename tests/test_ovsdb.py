"""apply.sh and the ifcfg files against a real, private ovsdb-server."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SUPPORT, example_nodes, run
from tests.support.ovsdb import Ovsdb

NODES = example_nodes()
IFCFG_NODES = example_nodes("ifcfg")  # the nodes with network-scripts/


def bridge_port(name: str, *, tag: int | None = None, mtu: int | None = 1500) -> dict[str, Any]:
    """A bridge's own internal port as OVSDB shows it."""
    return {
        "interfaces": {name: {"type": "internal", "mtu_request": mtu}},
        "members": [name],
        "tag": tag,
        "bond_mode": None,
        "lacp": None,
        "other_config": {},
    }


def bond(
    members: list[str],
    mode: str,
    *,
    lacp: str | None = None,
    other_config: dict[str, str] | None = None,
    mtu: int | None = None,
) -> dict[str, Any]:
    return {
        "interfaces": {name: {"type": "", "mtu_request": mtu} for name in members},
        "members": sorted(members),
        "tag": None,
        "bond_mode": mode,
        "lacp": lacp,
        "other_config": other_config or {},
    }


def internal_port(name: str, *, tag: int | None, mtu: int | None) -> dict[str, Any]:
    return bridge_port(name, tag=tag, mtu=mtu)


def nic_port(name: str, *, mtu: int | None) -> dict[str, Any]:
    """A single uplink NIC: a plain port."""
    return {**bridge_port(name, mtu=mtu), "interfaces": {name: {"type": "", "mtu_request": mtu}}}


def two_tier(ten_g: list[str], one_g: list[str]) -> dict[str, Any]:
    return {
        "br0": {"br0": bridge_port("br0"), "br0-up": bond(ten_g, "active-backup")},
        "br1": {"br1": bridge_port("br1", mtu=None), "br1-up": bond(one_g, "balance-slb")},
    }


def lacp_storage(members: list[str]) -> dict[str, Any]:
    return {
        "br0": {
            "br0": bridge_port("br0", tag=10),
            "br0-up": bond(
                members,
                "balance-tcp",
                lacp="active",
                other_config={"lacp-time": "fast", "lacp-fallback-ab": "true"},
                mtu=9000,
            ),
            "storage0": internal_port("storage0", tag=20, mtu=9000),
        }
    }


def rhel9_migration() -> dict[str, Any]:
    return {
        "br-mgmt": {
            "br-mgmt": bridge_port("br-mgmt", tag=30),
            "mgmt-bond": bond(["eno1", "eno2"], "active-backup", other_config={"bond-primary": "eno1"}),
        },
        "br-vm": {
            "br-vm": bridge_port("br-vm", mtu=None),
            "br-vm-up": bond(
                ["ens2f0", "ens2f1"], "balance-slb", other_config={"bond-rebalance-interval": "10000"}, mtu=9000
            ),
            "migr0": internal_port("migr0", tag=40, mtu=9000),
        },
    }


# What each example design means in OVSDB terms, written from the designs' intent.
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("ahv-host", "ahv-a-1"): {"br0": {"br0": bridge_port("br0"), "bond0": bond(["eth2", "eth3"], "active-backup")}},
    ("two-tier-cluster", "kvm-a-1"): two_tier(["eth2", "eth3"], ["eth0", "eth1"]),
    ("two-tier-cluster", "kvm-a-2"): two_tier(["eth2", "eth3"], ["eth0", "eth1"]),
    ("two-tier-cluster", "kvm-a-3"): two_tier(["ens1f0", "ens1f1"], ["eno1", "eno2"]),
    ("lacp-storage", "kvm-s-1"): lacp_storage(["ens1f0", "ens1f1"]),
    ("lacp-storage", "kvm-s-2"): lacp_storage(["ens1f0", "ens1f1"]),
    ("rhel9-migration", "kvm-r-1"): rhel9_migration(),
    ("rhel9-migration", "kvm-r-2"): rhel9_migration(),
    ("rhel9-migration", "kvm-r-3"): rhel9_migration(),
    ("edge-cases", "edge-1"): {
        "br-lacp": {
            "br-lacp": bridge_port("br-lacp", mtu=None),
            "br-lacp-up": bond(
                ["eno3", "eno4"],
                "balance-tcp",
                lacp="passive",
                other_config={"lacp-time": "slow", "lacp-fallback-ab": "true"},
            ),
        },
        "br-mgmt": {
            "br-mgmt": bridge_port("br-mgmt"),
            "mgmt-bond": bond(["eno1", "eno2"], "active-backup", other_config={"bond-primary": "eno2"}),
        },
        "br-stor": {
            "br-stor": bridge_port("br-stor", mtu=None),
            "ens2f0": nic_port("ens2f0", mtu=9000),
            "backup0": internal_port("backup0", tag=None, mtu=9000),
        },
        "br-vm": {
            "br-vm": bridge_port("br-vm", mtu=None),
            "br-vm-up": bond(
                ["ens3f0", "ens3f1", "ens3f2"], "balance-slb", other_config={"bond-rebalance-interval": "30000"}
            ),
        },
    },
}

pytestmark = pytest.mark.consumer


def test_every_example_node_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(NODES)


def apply_script(tree: Path, design: str, node: str) -> Path:
    return tree / design / node / "ovs" / "apply.sh"


def run_script(script: Path, *args: str, env: dict[str, str]) -> Any:
    return run(["bash", str(script), *args], env={**os.environ, **env})


@pytest.mark.parametrize(("design", "node"), NODES)
def test_apply_builds_the_designed_state(rendered_tree: Path, ovsdb: Ovsdb, design: str, node: str) -> None:
    result = run_script(
        apply_script(rendered_tree, design, node), "--apply", "--skip-nic-check", env={"OVS_VSCTL": ovsdb.vsctl_command}
    )
    assert result.returncode == 0, result.stderr
    assert "Applied and verified" in result.stdout
    assert ovsdb.state() == EXPECTED[(design, node)]


@pytest.mark.parametrize(("design", "node"), NODES)
def test_second_apply_changes_nothing(rendered_tree: Path, ovsdb: Ovsdb, design: str, node: str) -> None:
    script = apply_script(rendered_tree, design, node)
    env = {"OVS_VSCTL": ovsdb.vsctl_command}
    assert run_script(script, "--apply", "--skip-nic-check", env=env).returncode == 0
    before = ovsdb.dump()
    second = run_script(script, "--apply", "--skip-nic-check", env=env)
    assert second.returncode == 0, second.stderr
    assert f"No change: node {node} already matches the design." in second.stdout
    assert ovsdb.dump() == before


@pytest.mark.parametrize(("design", "node"), IFCFG_NODES)
def test_ifcfg_files_build_the_same_state_as_apply(rendered_tree: Path, ovsdb: Ovsdb, design: str, node: str) -> None:
    scripts = rendered_tree / design / node / "network-scripts"
    env = {**os.environ, "OVS_VSCTL": ovsdb.vsctl_command}
    result = run(["bash", str(SUPPORT / "ifup_ovs.sh"), str(scripts)], env=env)
    assert result.returncode == 0, result.stderr
    from_ifcfg, rows_from_ifcfg = ovsdb.state(), ovsdb.rows()
    for bridge in from_ifcfg:
        ovsdb.vsctl("del-br", bridge)
    applied = run_script(
        apply_script(rendered_tree, design, node), "--apply", "--skip-nic-check", env={"OVS_VSCTL": ovsdb.vsctl_command}
    )
    assert applied.returncode == 0, applied.stderr
    assert from_ifcfg == ovsdb.state() == EXPECTED[(design, node)]
    # Whole rows too: both mark every bridge as ovsgen's, so that a plan may prune it later.
    assert rows_from_ifcfg == ovsdb.rows()
    marks = {name: row["external_ids"] for (table, name), row in rows_from_ifcfg.items() if table == "Bridge"}
    assert marks == {bridge: {"managed-by": "ovsgen"} for bridge in from_ifcfg}


def test_apply_converges_from_drift(rendered_tree: Path, ovsdb: Ovsdb) -> None:
    """Settings someone changed by hand are put back: every managed column is set or cleared."""
    script = apply_script(rendered_tree, "lacp-storage", "kvm-s-1")
    env = {"OVS_VSCTL": ovsdb.vsctl_command}
    assert run_script(script, "--apply", "--skip-nic-check", env=env).returncode == 0
    ovsdb.vsctl(
        "set",
        "Port",
        "br0-up",
        "bond_mode=balance-slb",
        "lacp=passive",
        "other_config:bond-primary=ens1f1",
        "other_config:lacp-time=slow",
    )
    ovsdb.vsctl("clear", "Port", "br0", "tag")
    ovsdb.vsctl("set", "Interface", "ens1f0", "mtu_request=1500")
    result = run_script(script, "--apply", "--skip-nic-check", env=env)
    assert result.returncode == 0, result.stderr
    assert ovsdb.state() == EXPECTED[("lacp-storage", "kvm-s-1")]


def test_refused_transaction_changes_nothing(rendered_tree: Path, ovsdb: Ovsdb) -> None:
    """A bond with other members on the host: ovs-vsctl refuses, and the one transaction leaves no trace."""
    ovsdb.vsctl("add-br", "br0", "--", "add-bond", "br0", "bond0", "eth2", "eth9")
    before = ovsdb.dump()
    result = run_script(
        apply_script(rendered_tree, "ahv-host", "ahv-a-1"),
        "--apply",
        "--skip-nic-check",
        env={"OVS_VSCTL": ovsdb.vsctl_command},
    )
    assert result.returncode == 1
    assert "but bond0 actually has interface(s) eth2, eth9" in result.stderr
    assert "apply.sh: ovs-vsctl refused the transaction (message above); nothing was changed" in result.stderr
    assert ovsdb.dump() == before


def test_dry_run_prints_the_transaction_and_changes_nothing(rendered_tree: Path, ovsdb: Ovsdb) -> None:
    before = ovsdb.dump()
    result = run_script(
        apply_script(rendered_tree, "ahv-host", "ahv-a-1"), "--dry-run", env={"OVS_VSCTL": ovsdb.vsctl_command}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{ovsdb.vsctl_command} \\",
        "   -- --may-exist add-br br0 \\",
        "   -- set Bridge br0 external_ids:managed-by=ovsgen \\",
        "   -- clear Port br0 tag \\",
        "   -- --may-exist add-bond br0 bond0 eth2 eth3 \\",
        "   -- set Port bond0 bond_mode=active-backup \\",
        "   -- clear Port bond0 lacp \\",
        "   -- remove Port bond0 other_config lacp-time lacp-fallback-ab bond-rebalance-interval bond-primary \\",
        "   -- set Interface br0 mtu_request=1500 \\",
        "   -- clear Interface eth2 mtu_request \\",
        "   -- clear Interface eth3 mtu_request",
    ]
    assert ovsdb.dump() == before


def test_preflight_stops_when_a_nic_is_missing(rendered_tree: Path, ovsdb: Ovsdb, tmp_path: Path) -> None:
    (tmp_path / "eth2").mkdir()  # eth3 is missing
    before = ovsdb.dump()
    result = run_script(
        apply_script(rendered_tree, "ahv-host", "ahv-a-1"),
        "--apply",
        env={"OVS_VSCTL": ovsdb.vsctl_command, "SYSFS_NET": str(tmp_path)},
    )
    assert result.returncode == 1
    assert f"apply.sh: NIC eth3 is missing (not under {tmp_path})" in result.stderr
    assert "eth2 is missing" not in result.stderr
    assert ovsdb.dump() == before


def test_preflight_passes_when_every_nic_exists(rendered_tree: Path, ovsdb: Ovsdb, tmp_path: Path) -> None:
    for nic in ("eth2", "eth3"):
        (tmp_path / nic).mkdir()
    result = run_script(
        apply_script(rendered_tree, "ahv-host", "ahv-a-1"),
        "--apply",
        env={"OVS_VSCTL": ovsdb.vsctl_command, "SYSFS_NET": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert ovsdb.state() == EXPECTED[("ahv-host", "ahv-a-1")]


def test_unreachable_database_changes_nothing(rendered_tree: Path, ovsdb: Ovsdb) -> None:
    missing = ovsdb.folder / "no-such.sock"
    result = run_script(
        apply_script(rendered_tree, "ahv-host", "ahv-a-1"),
        "--apply",
        "--skip-nic-check",
        env={"OVS_VSCTL": f"{ovsdb.vsctl_path} --db=unix:{missing} --no-wait"},
    )
    assert result.returncode == 1
    assert "apply.sh: cannot reach the Open vSwitch database" in result.stderr
    assert "nothing was changed" in result.stderr


def test_read_back_catches_a_database_that_did_not_take_the_change(
    rendered_tree: Path, ovsdb: Ovsdb, tmp_path: Path
) -> None:
    # An ovs-vsctl that answers queries but silently drops the transaction.
    wrapper = tmp_path / "lossy-vsctl"
    wrapper.write_text(
        f'#!/bin/bash\nfor arg in "$@"; do [[ $arg == add-br ]] && exit 0; done\nexec {ovsdb.vsctl_command} "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    result = run_script(
        apply_script(rendered_tree, "ahv-host", "ahv-a-1"),
        "--apply",
        "--skip-nic-check",
        env={"OVS_VSCTL": str(wrapper)},
    )
    assert result.returncode == 1
    assert "apply.sh: the database does not hold what was asked" in result.stderr
    assert "-Port bond0 bond_mode = active-backup" in result.stderr


@pytest.mark.parametrize(("args", "code"), [((), 2), (("--help",), 0), (("--bogus",), 2)])
def test_usage_and_exit_codes(rendered_tree: Path, args: tuple[str, ...], code: int) -> None:
    result = run_script(apply_script(rendered_tree, "ahv-host", "ahv-a-1"), *args, env={})
    assert result.returncode == code
    usage = result.stdout if code == 0 else result.stderr
    assert "Usage: apply.sh --dry-run | --check | --apply [--skip-nic-check] | --help" in usage
