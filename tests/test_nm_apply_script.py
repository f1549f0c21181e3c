"""NetworkManager/apply.sh without a daemon: its refusals, its dry run, and the design's
backends in validation. (tests/test_networkmanager_daemon.py runs it against a real one.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run
from tests.support.cli import invoke

NODE = "rhel9-migration/kvm-r-1"
DESIGN = REPO / "designs" / "rhel9-migration.yaml"


def script(tree: Path) -> Path:
    return tree / NODE / "NetworkManager" / "apply.sh"


def fake_nics(folder: Path, nics: dict[str, str]) -> Path:
    """A stand-in for /sys/class/net with these NICs and MACs."""
    for name, mac in nics.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "address").write_text(mac + "\n", encoding="utf-8")
    return folder


def fake_nmcli(folder: Path) -> str:
    """An nmcli that answers `general` (NetworkManager is running) and fails everything else."""
    path = folder / "nmcli"
    path.write_text("#!/bin/bash\nif [[ $* == *general* ]]; then echo running; exit 0; fi\nexit 10\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def fake_busctl(folder: Path, capabilities: str) -> str:
    """A busctl that answers NetworkManager's Capabilities property as busctl prints it."""
    path = folder / "busctl"
    path.write_text(f"#!/bin/bash\necho '{capabilities}'\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


WITH_OVS = "au 2 1 2"  # NM_CAPABILITY_TEAM and NM_CAPABILITY_OVS: both plugins loaded


KVM_R_1 = {
    "eno1": "3c:ec:ef:30:00:01",
    "eno2": "3c:ec:ef:30:00:02",
    "ens2f0": "b8:59:9f:30:00:01",
    "ens2f1": "b8:59:9f:30:00:02",
}


def environment(tmp_path: Path, nics: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "NMCLI": fake_nmcli(tmp_path),
        "BUSCTL": fake_busctl(tmp_path, WITH_OVS),
        "SYSFS_NET": str(fake_nics(tmp_path / "net", nics)),
        "NM_KEYFILE_DIR": str(tmp_path / "keyfiles"),
    }


def test_apply_refuses_a_host_whose_nic_has_another_mac(rendered_tree: Path, tmp_path: Path) -> None:
    nics = {**KVM_R_1, "ens2f1": "B8:59:9F:30:00:99"}
    result = run([str(script(rendered_tree)), "--apply"], env=environment(tmp_path, nics))
    assert result.returncode == 1
    assert "NIC ens2f1 has MAC B8:59:9F:30:00:99, not b8:59:9f:30:00:02" in result.stderr
    assert "nothing was changed" in result.stderr
    assert not (tmp_path / "keyfiles").exists()


def test_apply_refuses_a_missing_nic(rendered_tree: Path, tmp_path: Path) -> None:
    nics = {name: mac for name, mac in KVM_R_1.items() if name != "eno2"}
    result = run([str(script(rendered_tree)), "--apply"], env=environment(tmp_path, nics))
    assert result.returncode == 1
    assert "NIC eno2 is missing" in result.stderr
    assert not (tmp_path / "keyfiles").exists()


def test_macs_compare_case_insensitively(rendered_tree: Path, tmp_path: Path) -> None:
    """The NIC check passes with upper-case MACs; the fake nmcli then makes --check report drift."""
    nics = {name: mac.upper() for name, mac in KVM_R_1.items()}
    result = run([str(script(rendered_tree)), "--check"], env=environment(tmp_path, nics))
    assert result.returncode == 1
    assert "differs from the design" in result.stderr
    assert "Keyfiles not installed" in result.stderr
    assert "MAC" not in result.stderr


def test_unreachable_networkmanager_changes_nothing(rendered_tree: Path, tmp_path: Path) -> None:
    env = {**environment(tmp_path, KVM_R_1), "NMCLI": shutil.which("false") or "/bin/false"}
    result = run([str(script(rendered_tree)), "--apply"], env=env)
    assert result.returncode == 1
    assert "cannot reach NetworkManager" in result.stderr
    assert not (tmp_path / "keyfiles").exists()


def test_dry_run_installs_loads_then_activates_host_address_last(rendered_tree: Path, tmp_path: Path) -> None:
    result = run([str(script(rendered_tree)), "--dry-run"], env=environment(tmp_path, KVM_R_1))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    installs = [line for line in lines if line.startswith("install -m 0600 ")]
    assert len(installs) == len(list((rendered_tree / NODE / "NetworkManager" / "system-connections").iterdir()))
    load = lines.index(next(line for line in lines if " connection load " in line))
    ups = [line.split(" connection up ", 1)[1].split()[0] for line in lines if " connection up " in line]
    names = [line.rsplit("  # ", 1)[1] for line in lines if " connection up " in line]
    assert load > lines.index(installs[-1])
    ids = {
        path.read_text(encoding="utf-8").split("uuid=", 1)[1].split("\n", 1)[0]: path.stem
        for path in (rendered_tree / NODE / "NetworkManager" / "system-connections").iterdir()
    }
    order = [ids[uuid] for uuid in ups]
    # br-vm before the host bridge br-mgmt; on each, NICs, then internal ports, then its own interface.
    assert order == ["ens2f0-nic", "ens2f1-nic", "migr0-if", "br-vm-if", "eno1-nic", "eno2-nic", "br-mgmt-if"]
    assert names == order  # each line says which profile it brings up
    assert not (tmp_path / "keyfiles").exists()


@pytest.mark.parametrize(
    ("capabilities", "message"),
    [
        ("au 1 1", "NetworkManager has no Open vSwitch plugin: install NetworkManager-ovs"),
        ("au 0", "NetworkManager has no Open vSwitch plugin"),
        ("au 1 12", "NetworkManager has no Open vSwitch plugin"),  # 2 is a number, not a digit
    ],
)
def test_apply_refuses_a_networkmanager_without_its_ovs_plugin(
    rendered_tree: Path, tmp_path: Path, capabilities: str, message: str
) -> None:
    env = {**environment(tmp_path, KVM_R_1), "BUSCTL": fake_busctl(tmp_path, capabilities)}
    for mode in ("--check", "--apply"):
        result = run([str(script(rendered_tree)), mode], env=env)
        assert result.returncode == 1
        assert message in result.stderr
        assert result.stderr.endswith("nothing was changed\n")
    assert not (tmp_path / "keyfiles").exists()


def test_apply_refuses_when_busctl_cannot_ask(rendered_tree: Path, tmp_path: Path) -> None:
    env = {**environment(tmp_path, KVM_R_1), "BUSCTL": shutil.which("false") or "/bin/false"}
    result = run([str(script(rendered_tree)), "--apply"], env=env)
    assert result.returncode == 1
    assert "cannot ask NetworkManager whether its Open vSwitch plugin is loaded" in result.stderr
    assert not (tmp_path / "keyfiles").exists()


@pytest.mark.parametrize("args", [["--apply", "--check"], ["--bogus"], []])
def test_bad_arguments_exit_2(rendered_tree: Path, tmp_path: Path, args: list[str]) -> None:
    result = run([str(script(rendered_tree)), *args], env=environment(tmp_path, KVM_R_1))
    assert result.returncode == 2
    assert "Usage: apply.sh" in result.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "backends: [networkmanger]",
            "backends[0]: 'networkmanger' is not one of 'ifcfg', 'networkmanager' (did you mean 'networkmanager'?)",
        ),
        ("backends: []", "backends: needs at least 1 entry"),
        ("backends: [ifcfg, ifcfg]", "backends: 'ifcfg' is listed more than once"),
    ],
)
def test_bad_backends_are_located(tmp_path: Path, line: str, message: str) -> None:
    text = DESIGN.read_text(encoding="utf-8").replace("backends: [networkmanager]", line)
    design = tmp_path / "design.yaml"
    design.write_text(text, encoding="utf-8")
    result = invoke("validate", str(design))
    assert result.exit_code == 1
    row = text.splitlines().index(line) + 1
    assert f"design.yaml:{row}:" in result.output
    assert message in result.output
