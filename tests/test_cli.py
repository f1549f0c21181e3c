"""The command line: exit codes, messages on stderr, atomic writes, golden checks."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli.main import main
from generator.cli.reporting import TextReporter
from generator.diagnostics import Diagnostic, Severity
from generator.errors import WorkerFailed
from generator.render.context import NodeContext
from generator.render.files import OutputFile
from tests.conftest import DESIGNS, REPO

INVALID = """version: 1
name: broken
host: {bridge: br0, vlan: 5000}
bridges:
  br0: {uplinks: 2x10G active-bakup}
nodes:
  - {name: n1, nics: {eth0: 10G, eth1: 10G}, address: 10.0.0.11/24}
"""


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def tree_bytes(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime, to prove nothing was touched."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def invalid_design(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(INVALID)
    return path


@pytest.mark.parametrize("command", [[], ["validate"], ["render"], ["check"], ["schema"]])
def test_help_has_an_example(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout


SHORT_HELP_WIDTH = 45  # what click's command list shows of a description on a narrow terminal


@pytest.mark.parametrize("name", sorted(main.commands))
def test_each_command_has_a_short_complete_sentence_for_the_command_list(name: str) -> None:
    command = main.commands[name]
    first = (command.help or "").split("\n\n")[0].strip()
    assert "\n" not in first
    assert len(first) <= SHORT_HELP_WIDTH, first
    assert first.endswith(".")
    assert command.get_short_help_str(SHORT_HELP_WIDTH) == first


@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_the_command_list_of_help_shows_every_description_whole(columns: str) -> None:
    """As a user sees it: the installed command's help, on terminals of a few widths."""
    result = subprocess.run(
        [sys.executable, "-m", "generator", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": columns},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert sorted(line.split()[0] for line in listed) == sorted(main.commands)
    for line in listed:
        name, description = line.split(None, 1)
        assert description == (main.commands[name].help or "").split("\n\n")[0].strip()


def test_a_run_under_the_suite_leaves_the_users_cache_alone(tmp_path: Path) -> None:
    """The suite points OVSGEN_CACHE_DIR at a folder of its own (conftest.py), in this process and in
    every ovsgen process it starts: ~/.cache/ovsgen (here a stand-in home) is never created."""
    from generator.speed import cache

    home = tmp_path / "home"
    home.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "XDG_CACHE_HOME"}
    suite_cache = Path(env["OVSGEN_CACHE_DIR"])
    assert not suite_cache.resolve().is_relative_to(Path.home().resolve() / ".cache")
    assert cache.cache_dir() == suite_cache
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(REPO / "designs/ahv-host.yaml"), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "HOME": str(home)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert list(home.iterdir()) == []
    assert any(suite_cache.iterdir())  # the run did cache: in the suite's folder


def fleet(nodes: int) -> str:
    """A synthetic fleet design of `nodes` nodes (benchmarks/fleet.py)."""
    spec = importlib.util.spec_from_file_location("fleet", REPO / "benchmarks" / "fleet.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.fleet_design(nodes))


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # it ended
        return []


@pytest.mark.parametrize(
    ("signal_number", "code", "last_line"),
    [(signal.SIGTERM, 128 + signal.SIGTERM, None), (signal.SIGINT, 1, "Aborted!")],
    ids=["service-manager-stop", "ctrl-c"],
)
def test_a_parallel_render_stopped_as_a_group_ends_without_a_traceback(
    tmp_path: Path, signal_number: int, code: int, last_line: str | None
) -> None:
    """A service manager stops every process of the service, Ctrl-C reaches every process of the
    terminal's group: the workers leave the cleaning up and the message to ovsgen itself."""
    design = tmp_path / "fleet.yaml"
    design.write_text(fleet(400))
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "render", str(design), "-o", str(tmp_path / "out"), "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, like a service or a terminal's job
    )
    try:
        deadline = time.monotonic() + 60
        while len(children(process.pid)) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(children(process.pid)) >= 2, "the workers never started"
        os.killpg(process.pid, signal_number)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    assert "Error" not in stderr
    if last_line is not None:
        assert stderr.splitlines()[-1] == last_line
    assert not (tmp_path / "out" / "fleet-400").exists()  # OUT as it was: nothing was swapped in


def test_a_worker_killed_mid_render_fails_the_render_instead_of_hanging_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OOM killer or a `kill -9` of one worker: the render stops with an error, OUT untouched."""
    import generator.render.kinds as render_module
    from generator.cli import commands as app
    from generator.cli.settings import RenderSettings

    def killed_on_the_last_node(context: NodeContext) -> list[OutputFile]:
        if context.name == "kvm-00199" and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return []

    parent = os.getpid()
    monkeypatch.setattr(
        render_module,
        "REGISTRY",
        tuple(
            render_module.Kind(k.name, killed_on_the_last_node, k.node_paths) if k.name == "ovs" else k
            for k in render_module.REGISTRY
        ),
    )
    design = tmp_path / "fleet.yaml"
    design.write_text(fleet(200))
    started = time.monotonic()
    with pytest.raises(WorkerFailed, match=r"a render worker \(process \d+\) ended before it sent its results"):
        app.run_render(RenderSettings(designs=(design,), out=tmp_path / "out", jobs=2))
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out" / "fleet-200").exists()


def test_validate_examples_exits_zero_with_warnings_on_stderr() -> None:
    result = invoke("validate", *map(str, DESIGNS))
    assert result.exit_code == 0
    assert "warning: nodes[0].nics.eth0: node ahv-a-1: NIC eth0 (1G) is not used by any bridge" in result.stderr
    assert result.stdout == ""


def test_validate_strict_fails_on_warnings() -> None:
    result = invoke("validate", "--strict", str(REPO / "designs/ahv-host.yaml"))
    assert result.exit_code == 1
    assert "error: nodes[0].nics.eth0: node ahv-a-1: NIC eth0 (1G) is not used by any bridge" in result.stderr


def test_invalid_design_message_has_location_source_line_and_caret(invalid_design: Path) -> None:
    result = invoke("validate", str(invalid_design))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:6] == [
        f"{invalid_design}:3:27: error: host.vlan: 5000 is outside 1-4094",
        "    3 | host: {bridge: br0, vlan: 5000}",
        "      |                           ^",
        f"{invalid_design}:5:18: error: bridges.br0.uplinks: '2x10G active-bakup' is not '<count>x<speed> [mode]' "
        "such as '2x10G active-backup' (speeds 1G 10G 25G 40G 50G 100G; modes active-backup balance-slb "
        "balance-tcp) (did you mean '2x10G active-backup'?)",
        "    5 |   br0: {uplinks: 2x10G active-bakup}",
        "      |                  ^",
    ]
    assert "Traceback" not in result.stderr


def test_json_format_for_tools(invalid_design: Path) -> None:
    result = invoke("validate", "--format", "json", str(invalid_design))
    assert result.exit_code == 1
    records = json.loads(result.stderr)
    assert records[0] == {
        "file": str(invalid_design),
        "line": 3,
        "column": 27,
        "severity": "error",
        "path": "host.vlan",
        "message": "5000 is outside 1-4094",
    }


@pytest.mark.parametrize(
    "args",
    [["validate"], ["render", "--bogus", "designs/ahv-host.yaml"], ["validate", "no-such-file.yaml"], ["frobnicate"]],
)
def test_usage_errors_exit_two(args: list[str]) -> None:
    assert invoke(*args).exit_code == 2


def test_render_writes_the_layout(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("render", *map(str, DESIGNS), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    node = out / "ahv-host" / "ahv-a-1"
    assert sorted(str(p.relative_to(node)) for p in node.rglob("*") if p.is_file()) == [
        "build-sheet.html",
        "build-sheet.md",
        "libvirt/NTNX-Local-Network.xml",
        "libvirt/VM-Network.xml",
        "libvirt/define.sh",
        "libvirt/vlan32.xml",
        "network-scripts/ifcfg-bond0",
        "network-scripts/ifcfg-br0",
        "network-scripts/ifcfg-eth2",
        "network-scripts/ifcfg-eth3",
        "ovs/apply.sh",
        "wiring.svg",
    ]
    assert os.access(node / "ovs/apply.sh", os.X_OK)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.ovsgen-")], "staging folder left behind"


def test_render_with_an_invalid_design_writes_nothing(tmp_path: Path, invalid_design: Path) -> None:
    out = tmp_path / "out"
    assert invoke("render", str(REPO / "designs/ahv-host.yaml"), "-o", str(out)).exit_code == 0
    before = tree_bytes(out)
    result = invoke("render", str(REPO / "designs/two-tier-cluster.yaml"), str(invalid_design), "-o", str(out))
    assert result.exit_code == 1
    assert "ovsgen: nothing was written" in result.stderr
    assert tree_bytes(out) == before


def test_render_replaces_a_design_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stale = out / "ahv-host" / "old-node" / "ovs" / "apply.sh"
    stale.parent.mkdir(parents=True)
    stale.write_text("# Generated by ovsgen from ahv-host.yaml for node old-node.\nstale\n")  # ovsgen's own
    other = out / "unrelated.txt"
    other.write_text("kept\n")
    assert invoke("render", str(REPO / "designs/ahv-host.yaml"), "-o", str(out)).exit_code == 0
    assert not stale.exists()
    assert other.read_text() == "kept\n"


def test_render_one_node(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("render", str(REPO / "designs/two-tier-cluster.yaml"), "-o", str(out), "--node", "kvm-a-2")
    assert result.exit_code == 0, result.stderr
    # The design-level sheets always describe the whole design.
    assert sorted(p.name for p in (out / "two-tier-cluster").iterdir()) == [
        "build-sheet.csv",
        "index.md",
        "kvm-a-2",
        "rollout.json",
    ]


def test_render_only_sheets_leaves_the_other_files_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    design = str(REPO / "designs/ahv-host.yaml")
    assert invoke("render", design, "-o", str(out)).exit_code == 0
    apply_sh = out / "ahv-host/ahv-a-1/ovs/apply.sh"
    apply_sh.write_text(apply_sh.read_text() + "# edited by hand\n")  # headers kept: still ovsgen's files
    edited = apply_sh.read_text()
    sheet = out / "ahv-host/ahv-a-1/build-sheet.md"
    rendered = sheet.read_text()
    sheet.write_text(rendered + "edited by hand\n")
    result = invoke("render", design, "-o", str(out), "--only", "sheet")
    assert result.exit_code == 0, result.stderr
    assert apply_sh.read_text() == edited
    assert sheet.read_text() == rendered
    assert (out / "ahv-host/index.md").exists()


def test_render_only_ifcfg_writes_only_ifcfg(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("render", str(REPO / "designs/ahv-host.yaml"), "-o", str(out), "--only", "ifcfg")
    assert result.exit_code == 0, result.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "ahv-host/ahv-a-1/network-scripts/ifcfg-bond0",
        "ahv-host/ahv-a-1/network-scripts/ifcfg-br0",
        "ahv-host/ahv-a-1/network-scripts/ifcfg-eth2",
        "ahv-host/ahv-a-1/network-scripts/ifcfg-eth3",
    ]


def test_render_only_rejects_unknown_kinds() -> None:
    assert invoke("render", str(REPO / "designs/ahv-host.yaml"), "--only", "pdf").exit_code == 2


def test_render_unknown_node_fails(tmp_path: Path) -> None:
    result = invoke("render", str(REPO / "designs/two-tier-cluster.yaml"), "-o", str(tmp_path), "--node", "nope")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "ovsgen: no node named nope in the given designs (nodes: kvm-a-1, kvm-a-2, kvm-a-3); nothing was written"
    )


def test_two_designs_with_one_name_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text((REPO / "designs/ahv-host.yaml").read_text())
    result = invoke("render", str(REPO / "designs/ahv-host.yaml"), str(copy), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "have the same name 'ahv-host' and would render into the same folder" in result.stderr
    assert not (tmp_path / "out").exists()


def test_check_passes_on_the_checked_in_golden() -> None:
    result = invoke("check", *map(str, DESIGNS), "--golden", str(REPO / "golden"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "is up to date" in result.stderr


def test_check_reports_a_stale_golden_with_a_diff(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    assert invoke("render", str(REPO / "designs/ahv-host.yaml"), "-o", str(golden)).exit_code == 0
    ifcfg = golden / "ahv-host/ahv-a-1/network-scripts/ifcfg-bond0"
    ifcfg.write_text(ifcfg.read_text().replace("bond_mode=active-backup", "bond_mode=balance-slb"))
    (golden / "ahv-host/ahv-a-1/leftover.txt").write_text("old\n")
    result = invoke("check", str(REPO / "designs/ahv-host.yaml"), "--golden", str(golden))
    assert result.exit_code == 1
    assert '-OVS_OPTIONS="bond_mode=balance-slb"\n+OVS_OPTIONS="bond_mode=active-backup"\n' in result.stdout
    assert "--- a/ahv-host/ahv-a-1/leftover.txt\n+++ /dev/null\n" in result.stdout
    assert f"{golden}/ is stale; run: ovsgen render" in result.stderr


def test_check_reports_a_missing_golden(tmp_path: Path) -> None:
    design, golden = str(REPO / "designs/ahv-host.yaml"), tmp_path / "empty"
    result = invoke("check", design, "--golden", str(golden))
    assert result.exit_code == 1
    assert result.stdout == ""  # no diff of every file: the folder is simply not there
    assert result.stderr.splitlines()[-1] == (
        f"ovsgen: golden folder {golden}/ does not exist; create it with: ovsgen render {design} -o {golden}"
    )


def test_schema_prints_the_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads((REPO / "schemas/design.schema.json").read_text())


def test_color_only_when_asked() -> None:
    diagnostic = Diagnostic("x.yaml", 1, 1, ("name",), "bad", Severity.ERROR)
    plain = TextReporter(lambda _file, _line: None, color=False).format(diagnostic)
    colored = TextReporter(lambda _file, _line: None, color=True).format(diagnostic)
    assert plain == "x.yaml:1:1: error: name: bad\n"
    assert colored == "x.yaml:1:1: \033[1;31merror\033[0m: name: bad\n"


def test_no_color_when_not_a_terminal_or_no_color_set(invalid_design: Path) -> None:
    result = invoke("validate", str(invalid_design), env={"NO_COLOR": "1"})
    assert "\033[" not in result.stderr


def test_unwritable_output_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    result = invoke("render", str(REPO / "designs/ahv-host.yaml"), "-o", str(blocker / "out"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("ovsgen: Not a directory")
