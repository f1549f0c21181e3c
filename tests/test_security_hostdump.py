"""Host dumps and database backups are untrusted: nothing in them runs, nothing crashes ovsgen.

Issue 11, points 2, 3 and 10: every value ovsgen reads from a dump or backup is checked against
the Open vSwitch schema (and plain-text rules for what reaches a script) before any output;
generated scripts hold no heredoc a value could end; names are never read as options; a
malformed dump is a located error, never a traceback.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.changes import plan_from_host
from generator.cli import main
from generator.diagnostics import DesignInvalid, Diagnostic
from generator.hoststate import COLUMNS, MAX_DUMP_BYTES, TEXT_RULES, column_type, load_dump, parse_dump, plain_text
from generator.ovsstate import InterfaceState, OvsState, PortState
from generator.pipeline import validate_file
from generator.plan import Scope, plan_node
from generator.rehearse import find_tools, rehearse
from generator.render.plan_files import render_plan
from tests.conftest import REPO, ovsdb_server, require_file, require_tool, run
from tests.support.ovsdb import Ovsdb

AHV = REPO / "designs" / "ahv-host.yaml"
NODE = "ahv-a-1"
PAYLOAD = "5\nSTARTING\ntouch PWNED\ncat <<'STARTING'"
TRAPPED = ("touch", "curl", "wget", "rm", "nc", "sh", "id", "whoami", "perl", "python3", "chmod", "mkfifo")


def uuid(number: int) -> list[str]:
    return ["uuid", f"00000000-0000-4000-8000-{number:012d}"]


def empty_set() -> list[Any]:
    return ["set", []]


def empty_map() -> list[Any]:
    return ["map", []]


PORT_HEADINGS = ["_uuid", "name", "interfaces", "tag", "trunks", "bond_mode", "lacp", "other_config", "external_ids"]
INTERFACE_HEADINGS = ["_uuid", "name", "type", "mtu_request", "options", "external_ids"]


def base_tables() -> dict[str, dict[str, Any]]:
    """A host as ovsdb-client dumps it: br0 (host port, bond0 of eth2 eth3) and a VM port vnet0 tagged 32."""
    ports = [
        [uuid(2), "br0", uuid(10), empty_set(), empty_set(), empty_set(), empty_set(), empty_map(), empty_map()],
        [
            uuid(3),
            "bond0",
            ["set", [uuid(11), uuid(12)]],
            empty_set(),
            empty_set(),
            "active-backup",
            empty_set(),
            empty_map(),
            empty_map(),
        ],
        [uuid(4), "vnet0", uuid(13), 32, empty_set(), empty_set(), empty_set(), empty_map(), empty_map()],
    ]
    interfaces = [
        [uuid(10), "br0", "internal", empty_set(), empty_map(), empty_map()],
        [uuid(11), "eth2", "", empty_set(), empty_map(), empty_map()],
        [uuid(12), "eth3", "", empty_set(), empty_map(), empty_map()],
        [uuid(13), "vnet0", "", empty_set(), empty_map(), empty_map()],
    ]
    return {
        "Bridge": {
            "headings": ["_uuid", "name", "ports"],
            "data": [[uuid(1), "br0", ["set", [uuid(2), uuid(3), uuid(4)]]]],
        },
        "Port": {"headings": PORT_HEADINGS, "data": ports},
        "Interface": {"headings": INTERFACE_HEADINGS, "data": interfaces},
    }


def dump_text(tables: dict[str, dict[str, Any]]) -> str:
    lines = [
        json.dumps({"caption": f"{name} table", "data": table["data"], "headings": table["headings"]})
        for name, table in tables.items()
    ]
    return "\n\n".join(lines) + "\n"


def with_cell(table: str, row: int, column: str, value: Any) -> dict[str, dict[str, Any]]:
    tables = base_tables()
    tables[table]["data"][row][tables[table]["headings"].index(column)] = value
    return tables


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def plan_from_dump(tmp_path: Path, text: str | bytes) -> tuple[Result, Path, Path]:
    dump = tmp_path / "host.json"
    if isinstance(text, bytes):
        dump.write_bytes(text)
    else:
        dump.write_text(text)
    out = tmp_path / "plan"
    return invoke("plan", "--from-host", str(dump), str(AHV), "--node", NODE, "-o", str(out)), dump, out


def assert_refused(result: Result, out: Path) -> None:
    """Exit 1 through ovsgen's own error path: no exception escaped, nothing written."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "ovsgen: nothing was written" in result.stderr
    assert not out.exists()


# --- the heredoc payload of the issue, and names read as options --------------


def test_the_issues_heredoc_payload_in_a_tag_is_refused_where_it_is(tmp_path: Path) -> None:
    result, dump, out = plan_from_dump(tmp_path, dump_text(with_cell("Port", 0, "tag", PAYLOAD)))
    assert_refused(result, out)
    line = dump.read_text().splitlines().index(next(line for line in dump.read_text().splitlines() if "Port" in line))
    column = dump.read_text().splitlines()[line].index('"5\\nSTARTING') + 1
    assert f'{dump}:{line + 1}:{column}: error: Port br0: tag: "5\\nSTARTING\\ntouch PWNED' in result.stderr
    assert "is not an integer 0-4095" in result.stderr


@pytest.mark.parametrize(
    "name",
    ["--", "-x", "--help", "-", "vnet0\n", "vnet0\r", " vnet0", "vnet0 ", "a=b", "a,b", "a/b", ".hidden", "",
     "v\x1b[2J", "v\u202e0", "v\u00a0", "x;touch PWNED", "$(touch PWNED)", "`id`", "'", '"', "a" * 256],
)  # fmt: skip
def test_a_port_name_that_is_not_plain_is_refused(tmp_path: Path, name: str) -> None:
    result, _, out = plan_from_dump(tmp_path, dump_text(with_cell("Port", 2, "name", name)))
    assert_refused(result, out)
    assert "error: Port row 3: name: " in result.stderr


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "message"),
    [
        ("Bridge", 0, "name", "-br", "Bridge row 1: name: '-br' is not a name"),
        ("Interface", 3, "name", "--", "Interface row 4: name: '--' is not a name"),
        ("Interface", 3, "type", "vxlan\n", "Interface vnet0: type: 'vxlan\\n' is not an interface type"),
        ("Interface", 3, "type", "-x", "Interface vnet0: type: '-x' is not an interface type"),
        ("Interface", 3, "options", ["map", [["remote_ip", "1.2.3.4\nEXPECTED"]]], "Interface vnet0: options: "),
        ("Interface", 3, "options", ["map", [["a:b", "1"]]], "Interface vnet0: options: 'a:b' is not a key"),
        ("Port", 2, "other_config", ["map", [["k", ""]]], "Port vnet0: other_config: '' is not a value"),
        ("Port", 2, "other_config", ["map", [["k", '"quoted"']]], "Port vnet0: other_config: "),
        ("Port", 2, "other_config", ["map", [["-k", "v"]]], "Port vnet0: other_config: '-k' is not a key"),
    ],
)
def test_every_text_ovsgen_copies_must_be_plain(
    tmp_path: Path, *, table: str, row: int, column: str, value: Any, message: str
) -> None:
    result, _, out = plan_from_dump(tmp_path, dump_text(with_cell(table, row, column, value)))
    assert_refused(result, out)
    assert message in result.stderr


# --- malformed dumps: located errors, never tracebacks -------------------------

DEEP = "[" * 100_000 + "]" * 100_000
MALFORMED = {
    "dangling port uuid": with_cell("Bridge", 0, "ports", ["set", [uuid(2), uuid(99)]]),
    "dangling interface uuid": with_cell("Port", 2, "interfaces", uuid(98)),
    "a map where a set belongs": with_cell("Bridge", 0, "ports", ["map", [[uuid(2), uuid(3)]]]),
    "a set where a map belongs": with_cell("Port", 2, "other_config", ["set", ["a"]]),
    "a dict cell": with_cell("Port", 2, "tag", {"set": []}),
    "a string tag": with_cell("Port", 2, "tag", "32"),
    "a boolean tag": with_cell("Port", 2, "tag", True),
    "a real tag": with_cell("Port", 2, "tag", 32.0),
    "a tag over 4095": with_cell("Port", 2, "tag", 4096),
    "a negative tag": with_cell("Port", 2, "tag", -1),
    "two tags": with_cell("Port", 2, "tag", ["set", [1, 2]]),
    "a 5,000-digit tag": with_cell("Port", 2, "tag", "HUGE"),  # replaced by 5,000 digits below
    "a trunk over 4095": with_cell("Port", 2, "trunks", ["set", [1, 5000]]),
    "mtu_request 0": with_cell("Interface", 3, "mtu_request", 0),
    "mtu_request over int64": with_cell("Interface", 3, "mtu_request", 2**63),
    "an unknown bond_mode": with_cell("Port", 1, "bond_mode", "round-robin"),
    "an unknown lacp": with_cell("Port", 1, "lacp", "on"),
    "a number in a map": with_cell("Port", 2, "other_config", ["map", [["k", 1]]]),
    "a key twice": with_cell("Port", 2, "other_config", ["map", [["k", "a"], ["k", "b"]]]),
    "a broken pair": with_cell("Port", 2, "other_config", ["map", [["k"]]]),
    "an integer name": with_cell("Port", 2, "name", 7),
    "a name as a set": with_cell("Port", 2, "name", ["set", []]),
    "a uuid that is not one": with_cell("Port", 2, "_uuid", ["uuid", "x"]),
    "a port without interfaces": with_cell("Port", 2, "interfaces", ["set", []]),
    "a row too short": None,
    "two rows of one uuid": None,
    "two ports of one name": with_cell("Port", 2, "name", "bond0"),
    "a port on two bridges": None,
}


def malformed_text(case: str) -> str:
    tables = MALFORMED[case]
    if tables is not None:
        return dump_text(tables).replace('"HUGE"', "9" * 5000)  # json.dumps refuses to write it
    tables = base_tables()
    if case == "a row too short":
        tables["Port"]["data"][2].pop()
    elif case == "two rows of one uuid":
        tables["Interface"]["data"][3][0] = uuid(12)
    else:
        tables["Bridge"]["data"].append([uuid(5), "br1", uuid(4)])
    return dump_text(tables)


LINES = {
    "not JSON": "not json\n",
    "an array line": "[1, 2]\n",
    "a string line": '"Port table"\n',
    "a number line": "42\n",
    "truncated JSON": dump_text(base_tables())[:-40] + "\n",
    "text after the object": dump_text(base_tables()).replace("}\n", "} x\n", 1),
    "a caption that is a number": '{"caption": 5, "data": [], "headings": []}\n',
    "no headings": '{"caption": "Port table", "data": []}\n',
    "headings that are not names": '{"caption": "Port table", "data": [], "headings": [1]}\n',
    "data that is not an array": '{"caption": "Port table", "data": {}, "headings": []}\n',
    "a row that is not an array": (
        '{"caption": "Port table", "data": [5], "headings": ["_uuid", "name", "interfaces"]}\n'
    ),
    "a missing column": '{"caption": "Port table", "data": [[1]], "headings": ["_uuid"]}\n',
    "nesting 100,000 deep": '{"caption": "Datapath table", "data": [' + DEEP + '], "headings": []}\n',
    "a 5,000-digit number in another table": '{"caption": "Datapath table", "data": [['
    + "9" * 5000
    + ']], "headings": ["x"]}\n',
    "a second Port table": dump_text(base_tables()) + dump_text({"Port": base_tables()["Port"]}),
    "no Port table": dump_text({"Bridge": base_tables()["Bridge"]}),
}


@pytest.mark.parametrize("case", list(MALFORMED) + list(LINES))
def test_a_malformed_dump_is_a_located_error(tmp_path: Path, case: str) -> None:
    text = malformed_text(case) if case in MALFORMED else LINES[case]
    result, dump, out = plan_from_dump(tmp_path, text)
    assert_refused(result, out)
    assert f"{dump}:" in result.stderr
    assert ": error: " in result.stderr


def test_a_dump_that_is_not_utf8_is_a_located_error(tmp_path: Path) -> None:
    result, dump, out = plan_from_dump(tmp_path, dump_text(base_tables()).encode() + b'{"caption": "\xff"}\n')
    assert_refused(result, out)
    assert f"{dump}:6:" in result.stderr
    assert "not UTF-8 text" in result.stderr


def test_a_dump_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    with dump.open("wb") as handle:
        handle.truncate(MAX_DUMP_BYTES + 1)  # sparse: no 64 MiB written
    out = tmp_path / "plan"
    result = invoke("plan", "--from-host", str(dump), str(AHV), "--node", NODE, "-o", str(out))
    assert_refused(result, out)
    assert f"{dump}:1:1: error: the dump is {MAX_DUMP_BYTES + 1} bytes; ovsgen reads dumps of up to 64 MiB" in (
        result.stderr
    )


def test_a_dump_that_never_ends_is_cut_at_the_limit() -> None:
    """A device or pipe has no size to check first: reading stops at the limit."""
    with pytest.raises(DesignInvalid) as refused:
        load_dump(Path("/dev/zero"))
    (diagnostic,) = refused.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("/dev/zero", 1, 1)
    assert diagnostic.message.startswith(f"the dump goes on past {MAX_DUMP_BYTES} bytes")


def test_a_malformed_dump_through_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    dump.write_text(malformed_text("dangling port uuid"))
    out = tmp_path / "plan"
    result = run([sys.executable, "-m", "generator", "plan", "--from-host", str(dump), str(AHV), "--node", NODE,
                  "-o", str(out)], cwd=REPO)  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: Bridge br0: ports: uuid 00000000-0000-4000-8000-000000000099 is not a row of the Port table" in (
        result.stderr
    )
    assert not out.exists()


# --- property: any value in any column ovsgen reads ------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)
SHAPED = st.one_of(
    JSON_VALUES,
    st.tuples(st.sampled_from(["set", "map", "uuid"]), JSON_VALUES).map(list),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.integers(min_value=-5, max_value=5000),
)
READ_CELLS = [
    (table, row, column)
    for table, rows in (("Bridge", [0]), ("Port", [0, 1, 2]), ("Interface", [0, 1, 3]))
    for row in rows
    for column in ("_uuid", *COLUMNS[table])
    if column in base_tables()[table]["headings"]
]


@settings(max_examples=300, deadline=None)
@given(cell=st.sampled_from(READ_CELLS), value=SHAPED)
def test_any_value_in_any_column_read_is_a_state_or_a_located_error(cell: tuple[str, int, str], value: Any) -> None:
    table, row, column = cell
    state, diagnostics = read(dump_text(with_cell(table, row, column, value)))
    if state is not None:
        assert_plain(state)
        return
    (diagnostic,) = diagnostics
    assert diagnostic.file == "host.json"
    assert diagnostic.line in (1, 3, 5)  # the line of the Bridge, Port or Interface table
    assert diagnostic.message.startswith((f"{table} ", "Bridge ", "Port "))


def read(text: str) -> tuple[OvsState | None, list[Diagnostic]]:
    """The state a dump holds, or the diagnostics of its refusal."""
    try:
        return parse_dump(text, "host.json"), []
    except DesignInvalid as invalid:
        return None, invalid.diagnostics


def assert_plain(state: OvsState) -> None:
    """What a state read from a dump may hold: plain names, values and OVS's ranges."""
    for name in (*state.bridges, *(p.name for p in state.ports), *(i.name for i in state.interfaces)):
        assert plain_text(name, "name"), name
    for port in state.ports:
        assert port.tag is None or (type(port.tag) is int and 0 <= port.tag <= 4095)
        assert port.bond_mode in (None, "balance-tcp", "balance-slb", "active-backup")
        assert port.lacp in (None, "active", "passive", "off")
        assert all(plain_text(k, "key") and plain_text(v, "value") for k, v in port.other_config)
    for interface in state.interfaces:
        assert plain_text(interface.type, "type")
        assert interface.mtu_request is None or (type(interface.mtu_request) is int and interface.mtu_request >= 1)
        assert all(plain_text(k, "key") and plain_text(v, "value") for k, v in interface.options)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_a_state_or_a_located_error(data: bytes) -> None:
    state, diagnostics = read(data.decode("utf-8", errors="replace"))
    assert (state is None) == bool(diagnostics)
    assert all(d.file == "host.json" and d.line >= 1 and d.column >= 1 for d in diagnostics)


def test_the_column_types_are_those_of_the_installed_schema() -> None:
    schema = json.loads(
        require_file(Path("/usr/share/openvswitch/vswitch.ovsschema"), "openvswitch-common").read_text()
    )
    for table, columns in COLUMNS.items():
        for column, kind in columns.items():
            assert column_type(schema["tables"][table]["columns"][column]["type"]) == kind, f"{table}.{column}"


# --- values that pass, through change.sh and rollback.sh, with traps on PATH -----


@pytest.fixture
def traps(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """An environment whose PATH starts with stand-ins for tools a payload would call; each
    records that it was called. The test checks the record stays absent."""
    folder = tmp_path / "traps"
    folder.mkdir()
    marker = tmp_path / "TRAP-CALLED"
    for name in TRAPPED:
        trap = folder / name
        trap.write_text(f'#!/bin/bash\nprintf "%s\\n" "$0 $*" >> {marker}\nexit 1\n')
        trap.chmod(0o755)
    yield {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}, marker
    assert not marker.exists(), marker.read_text()


def run_script(text: str, name: str, folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    script = folder / name
    script.write_text(text)
    return run(["bash", str(script), *args], env=env, cwd=folder)


NAMES = st.from_regex(TEXT_RULES["name"][0], fullmatch=True).filter(
    lambda name: name not in ("br0", "bond0", "eth2", "eth3") and len(name) <= 40
)
KEYS = st.from_regex(TEXT_RULES["key"][0], fullmatch=True).filter(lambda key: len(key) <= 20)
VALUES = st.from_regex(TEXT_RULES["value"][0], fullmatch=True).filter(lambda value: len(value) <= 30)
TYPES = st.sampled_from(["", "vxlan", "geneve", "patch", "tap", "internal"])


@pytest.mark.consumer
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=NAMES,
    tag=st.none() | st.integers(min_value=0, max_value=4095),
    other_config=st.dictionaries(KEYS, VALUES, max_size=3),
    kind=TYPES,
    options=st.dictionaries(KEYS, VALUES, max_size=2),
)
def test_plain_values_round_trip_through_change_and_rollback(
    tmp_path: Path,
    traps: tuple[dict[str, str], Path],
    *,
    name: str,
    tag: int | None,
    other_config: dict[str, str],
    kind: str,
    options: dict[str, str],
) -> None:
    """A host port with any plain name and values is pruned by change.sh and restored by
    rollback.sh exactly, read from a real dump, against a real ovsdb-server; no trap is called."""
    env, _ = traps
    client = require_tool("ovsdb-client")
    with ovsdb_server() as ovsdb:
        port = ["--", "add-port", "br0", name, *([f"tag={tag}"] if tag is not None else [])]
        port += [f"other_config:{key}={value}" for key, value in other_config.items()]
        interface = ["--", "set", "Interface", name, *([f"type={kind}"] if kind else [])]
        interface += [f"options:{key}={value}" for key, value in options.items()]
        ovsdb.vsctl("add-br", "br0", *port, *(interface if len(interface) > 4 else []))
        dump = subprocess.run([client, "dump", "--format=json", f"unix:{ovsdb.socket}", "Open_vSwitch"],
                              check=True, capture_output=True, text=True).stdout  # fmt: skip
        before = ovsdb.state()
        change = plan_from_host(parse_dump(dump, "host.json"), validate_file(AHV), NODE, prune=True)
        files = {file.name: file.text for file in render_plan([change], "test")}
        env = {**env, "OVS_VSCTL": ovsdb.vsctl_command}
        for script in ("change.sh", "rollback.sh"):
            for args in (["--dry-run"], ["--apply", "--skip-nic-check"]):
                result = run_script(files[script], script, tmp_path, env, *args)
                assert result.returncode == 0, result.stdout + result.stderr
        assert ovsdb.state() == before


# --- scripts hold no heredoc a value could end ----------------------------------


@pytest.mark.consumer
def test_expected_states_are_not_heredocs_even_for_values_never_allowed(
    tmp_path: Path, traps: tuple[dict[str, str], Path], ovsdb: Ovsdb
) -> None:
    """Bypassing every check, a name and an option carrying the issue's payload reach the
    expected states of change.sh and rollback.sh as data: the scripts run, nothing else does."""
    env, _ = traps
    hostile = f"vnet0{PAYLOAD}"
    option = ("remote_ip", "1.2.3.4\nEXPECTED\ntouch PWNED\ncat <<'EXPECTED'")
    before = OvsState(
        ("br0",),
        (
            PortState("br0", "br0", "bridge", members=("br0",)),
            PortState(hostile, "br0", "other", members=(hostile,), tag=5),
        ),
        (InterfaceState("br0", None, "internal"), InterfaceState(hostile, None, "vxlan", (option,))),
    )
    after = OvsState(("br0",), before.ports[:1], before.interfaces[:1])
    scope = Scope(frozenset({hostile}), frozenset(), frozenset({"br0"}))
    change = plan_node(NODE, before, after, scope)
    rollback = plan_node(NODE, after, before, Scope(frozenset(), frozenset(), frozenset({"br0"})))
    for plan, name in ((change, "change.sh"), (rollback, "rollback.sh")):
        text = render_plan_script(plan, name)
        assert "<<'EXPECTED'" not in text
        assert "<<'STARTING'" not in text
        env_db = {**env, "OVS_VSCTL": ovsdb.vsctl_command}
        result = run_script(text, name, tmp_path, env_db, "--dry-run")
        assert result.returncode == 0, result.stderr
        run_script(text, name, tmp_path, env_db, "--apply", "--skip-nic-check")
    assert not (tmp_path / "PWNED").exists()


def render_plan_script(plan: Any, name: str) -> str:
    from generator.render.plan_files import _script

    return _script(plan, "test", name, "the test", "n").text


@pytest.mark.consumer
def test_names_that_look_like_options_reach_ovs_vsctl_as_names(
    tmp_path: Path, traps: tuple[dict[str, str], Path], ovsdb: Ovsdb
) -> None:
    """Bypassing the name check, ports named -x and --help are removed by change.sh and restored
    by rollback.sh on a real ovsdb-server, and read back: every command passes `--` first."""
    env, _ = traps
    ovsdb.vsctl("add-br", "br0", "--", "add-port", "br0", "-x", "tag=7", "--", "add-port", "br0", "--help")
    start = ovsdb.state()
    names = ("-x", "--help")
    before = OvsState(
        ("br0",),
        (
            PortState("--help", "br0", "nic", members=("--help",)),
            PortState("-x", "br0", "nic", members=("-x",), tag=7),
            PortState("br0", "br0", "bridge", members=("br0",)),
        ),
        (InterfaceState("--help", None), InterfaceState("-x", None), InterfaceState("br0", None, "internal")),
    )
    after = OvsState(("br0",), before.ports[2:], before.interfaces[2:])
    change = plan_node(NODE, before, after, Scope(frozenset(names), frozenset(), frozenset()))
    rollback = plan_node(NODE, after, before, Scope(frozenset(), frozenset(), frozenset()))
    env = {**env, "OVS_VSCTL": ovsdb.vsctl_command}
    result = run_script(render_plan_script(change, "change.sh"), "change.sh", tmp_path, env, "--apply",
                        "--skip-nic-check")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(ovsdb.state()["br0"]) == ["br0"]
    result = run_script(render_plan_script(rollback, "rollback.sh"), "rollback.sh", tmp_path, env, "--apply",
                        "--skip-nic-check")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert ovsdb.state() == start


# --- backups: a schema of their own is refused before anything runs -------------


def hostile_backup(tmp_path: Path, edit: Any) -> Path:
    """A database file made with ovsdb-tool from an edited copy of vswitch.ovsschema, whose
    br0 port carries the issue's payload as its tag (a string, which the edited schema allows)."""
    tool = require_tool("ovsdb-tool")
    tools = find_tools()
    schema = json.loads(tools.schema.read_text())
    edit(schema)
    schema_file = tmp_path / "evil.ovsschema"
    schema_file.write_text(json.dumps(schema))
    database = tmp_path / "host.db"
    subprocess.run([tool, "create", str(database), str(schema_file)], check=True, capture_output=True)
    tag: Any = PAYLOAD if schema["tables"]["Port"]["columns"]["tag"]["type"]["key"] == "string" else 5
    transaction = [
        schema["name"],
        {"op": "insert", "table": "Interface", "row": {"name": "br0", "type": "internal"}, "uuid-name": "i"},
        {"op": "insert", "table": "Port", "row": {"name": "br0", "interfaces": ["named-uuid", "i"], "tag": tag},
         "uuid-name": "p"},
        {"op": "insert", "table": "Bridge", "row": {"name": "br0", "ports": ["named-uuid", "p"]}, "uuid-name": "b"},
        {"op": "insert", "table": "Open_vSwitch", "row": {"bridges": ["named-uuid", "b"]}},
    ]  # fmt: skip
    command = [tool, "transact", str(database), json.dumps(transaction)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "error" not in result.stdout, result.stdout
    return database


def string_tag(schema: dict[str, Any]) -> None:
    schema["tables"]["Port"]["columns"]["tag"]["type"] = {"key": "string", "min": 0, "max": 1}


def renamed(schema: dict[str, Any]) -> None:
    schema["name"] = "Evil"


@pytest.mark.consumer
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (string_tag, "the database's schema is not Open vSwitch's: Port.tag has type"),
        (renamed, "the database is 'Evil', not Open_vSwitch"),
    ],
)
def test_a_backup_with_a_schema_of_its_own_is_refused_before_anything_runs(
    tmp_path: Path, traps: tuple[dict[str, str], Path], monkeypatch: pytest.MonkeyPatch, edit: Any, message: str
) -> None:
    require_tool("ovsdb-server")
    backup = hostile_backup(tmp_path, edit)
    ran: list[object] = []
    monkeypatch.setattr("generator.rehearse._run", lambda *args: ran.append(args))
    with pytest.raises(DesignInvalid) as refused:
        rehearse(backup, None, validate_file(AHV), NODE)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.file == str(backup)
    assert message in diagnostic.message
    assert ran == []  # no script, not even the new design's apply.sh, ran


@pytest.mark.consumer
def test_rehearse_refuses_a_backup_with_a_string_tag_on_the_command_line(
    tmp_path: Path, traps: tuple[dict[str, str], Path]
) -> None:
    require_tool("ovsdb-server")
    env, _ = traps
    backup = hostile_backup(tmp_path, string_tag)
    result = run([sys.executable, "-m", "generator", "rehearse", str(backup), str(AHV), "--node", NODE],
                 cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{backup}:1:1: error: the database's schema is not Open vSwitch's: Port.tag" in result.stderr
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.consumer
def test_a_backup_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    require_tool("ovsdb-server")
    backup = tmp_path / "host.db"
    backup.write_bytes(b"OVSDB JSON 5 0000\n{}\n")
    with pytest.raises(DesignInvalid) as refused:
        rehearse(backup, None, validate_file(AHV), NODE)
    assert "not a standalone OVSDB database" in refused.value.diagnostics[0].message


def test_a_copy_of_the_base_tables_is_a_valid_dump() -> None:
    """The fixtures above mutate one cell of a dump that is otherwise accepted."""
    state = parse_dump(dump_text(copy.deepcopy(base_tables())), "host.json")
    assert [(p.name, p.kind, p.tag) for p in state.ports] == [
        ("bond0", "bond", None),
        ("br0", "bridge", None),
        ("vnet0", "nic", 32),
    ]
