"""Host dumps and database backups are untrusted: nothing in them runs, nothing crashes ovsgen.

Issue 11, points 2, 3 and 10: every value ovsgen reads from a dump or backup is checked against
the Open vSwitch schema (and plain-text rules for what reaches a script) before any output;
generated scripts hold no heredoc a value could end; names are never read as options; a
malformed dump is a located error, never a traceback.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.changes import rehearse as rehearsal
from generator.changes.node_changes import plan_designs, plan_from_host
from generator.changes.node_plan import Scope
from generator.changes.plan_folder import render_plan
from generator.changes.rehearse import rehearse
from generator.changes.rehearse_ovsdb import find_tools
from generator.changes.steps import plan_node
from generator.cli.main import main
from generator.design.validate import validate_file
from generator.diagnostics import Diagnostic
from generator.errors import DumpInvalid
from generator.ovs.columns import COLUMNS, BaseType, ColumnType, column_type
from generator.ovs.hostdump import MAX_DUMP_BYTES, load_dump, parse_dump
from generator.ovs.state import BridgeState, InterfaceState, OvsState, PortState
from generator.ovs.untrusted_text import TEXT_RULES, plain_text
from tests.conftest import REPO, ovsdb_server, require_file, require_tool, run
from tests.support.ovsdb import Ovsdb
from tests.support.traps import install_traps

AHV = REPO / "designs" / "ahv-host.yaml"
NODE = "ahv-a-1"
PAYLOAD = "5\nSTARTING\ntouch PWNED\ncat <<'STARTING'"


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


# Columns base_tables() leaves out (as an older Open vSwitch would), with a new row's value.
LATER_COLUMNS = {"vlan_mode": empty_set(), "bond_updelay": 0}


def with_cell(table: str, row: int, column: str, value: Any) -> dict[str, dict[str, Any]]:
    tables = base_tables()
    if column in LATER_COLUMNS:
        tables[table]["headings"] = [*tables[table]["headings"], column]  # a copy: PORT_HEADINGS is shared
        for cells in tables[table]["data"]:
            cells.append(LATER_COLUMNS[column])
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
    with pytest.raises(DumpInvalid) as refused:
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
    except DumpInvalid as invalid:
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
    path, marker = install_traps(tmp_path)
    yield {**os.environ, "PATH": path}, marker
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
            for args in (["--dry-run"], ["--apply", "--skip-nic-check", "--skip-host-check"]):
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
        run_script(text, name, tmp_path, env_db, "--apply", "--skip-nic-check", "--skip-host-check")
    assert not (tmp_path / "PWNED").exists()


def render_plan_script(plan: Any, name: str) -> str:
    from generator.changes.node_changes import NodeChange
    from generator.changes.plan_folder import _script

    return _script(NodeChange(plan.node, "changed", plan, plan, (), ()), plan, "test", name, "the test").text


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
                        "--skip-nic-check", "--skip-host-check")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(ovsdb.state()["br0"]) == ["br0"]
    result = run_script(render_plan_script(rollback, "rollback.sh"), "rollback.sh", tmp_path, env, "--apply",
                        "--skip-nic-check", "--skip-host-check")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert ovsdb.state() == start


# --- backups: a schema of their own is refused before anything runs -------------


def hostile_backup(tmp_path: Path, edit: Any, port: str = "br0") -> Path:
    """A database file made with ovsdb-tool from an edited copy of vswitch.ovsschema, whose
    br0 port carries the issue's payload as its tag (a string, which the edited schema allows);
    `port` names that port and its interface."""
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
        {"op": "insert", "table": "Interface", "row": {"name": port, "type": "internal"}, "uuid-name": "i"},
        {"op": "insert", "table": "Port", "row": {"name": port, "interfaces": ["named-uuid", "i"], "tag": tag},
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
    monkeypatch.setattr("generator.changes.rehearse._run", lambda *args: ran.append(args))
    with pytest.raises(DumpInvalid) as refused:
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
def test_a_backup_that_is_not_a_database_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Refused in ovsgen's words only: what ovsdb-tool says about the file does not reach the terminal."""
    require_tool("ovsdb-server")
    backup = tmp_path / "host.db"
    backup.write_bytes(b"OVSDB JSON 5 0000\n{}\n")
    with pytest.raises(DumpInvalid) as refused:
        rehearse(backup, None, validate_file(AHV), NODE)
    assert "not a standalone OVSDB database" in refused.value.diagnostics[0].message
    assert capfd.readouterr() == ("", "")


def test_a_copy_of_the_base_tables_is_a_valid_dump() -> None:
    """The fixtures above mutate one cell of a dump that is otherwise accepted."""
    state = parse_dump(dump_text(copy.deepcopy(base_tables())), "host.json")
    assert [(p.name, p.kind, p.tag) for p in state.ports] == [
        ("bond0", "bond", None),
        ("br0", "bridge", None),
        ("vnet0", "nic", 32),
    ]


# --- the reader, exactly: what each refusal says and where it points ---------------


def refusal(text: str) -> Diagnostic:
    """The one diagnostic parse_dump refuses `text` with."""
    with pytest.raises(DumpInvalid) as refused:
        parse_dump(text, "host.json")
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.file == "host.json"
    return diagnostic


def located(diagnostic: Diagnostic) -> tuple[int, int, str]:
    return diagnostic.line, diagnostic.column, diagnostic.message


TABLE_LINES = {"Bridge": 1, "Port": 3, "Interface": 5}  # dump_text puts a blank line between tables


def row_column(tables: dict[str, dict[str, Any]], table: str, row: int, cell: int | None = None) -> int:
    """The 1-based column where a row (or one of its cells) starts in its table's line of dump_text."""
    line = dump_text(tables).split("\n")[TABLE_LINES[table] - 1]
    cells = tables[table]["data"][row]
    start = line.index(json.dumps(cells))
    if cell is None:
        return start + 1
    before = "[" + "".join(json.dumps(value) + ", " for value in cells[:cell])
    return start + len(before) + 1


CELL_ERRORS = [
    ("Port", 2, "tag", "32", "Port vnet0: tag: '32' is not an integer 0-4095"),
    ("Port", 2, "tag", True, "Port vnet0: tag: True is not an integer 0-4095"),
    ("Port", 2, "tag", 4096, "Port vnet0: tag: 4096 is not an integer 0-4095"),
    ("Port", 2, "tag", -1, "Port vnet0: tag: -1 is not an integer 0-4095"),
    ("Port", 2, "tag", ["set", [1, 2]],
     "Port vnet0: tag: holds 2 values; the schema allows at most 1 values and at least 0"),
    ("Port", 2, "trunks", ["set", [1, 5000]], "Port vnet0: trunks: 5000 is not an integer 0-4095"),
    ("Port", 2, "trunks", ["set", [*range(4096), 7]],
     "Port vnet0: trunks: holds 4097 values; the schema allows at most 4096 values and at least 0"),
    ("Port", 2, "trunks", ["set", [7, 7]], "Port vnet0: trunks: ['set', [7, 7]] holds a value twice"),
    ("Port", 2, "trunks", ["set", 7], "Port vnet0: trunks: ['set', 7] is not an OVSDB set"),
    ("Port", 2, "interfaces", ["set", []],
     "Port vnet0: interfaces: holds 0 values; the schema allows any number of values and at least 1"),
    ("Port", 2, "interfaces", ["uuid", "00000000-0000-4000-8000-000000000013\n"],
     "Port vnet0: interfaces: ['uuid', '00000000-0000-4000-8000-000000000013\\n'] is not a uuid"),
    ("Port", 2, "interfaces", ["uuid", 13], "Port vnet0: interfaces: ['uuid', 13] is not a uuid"),
    ("Port", 2, "interfaces", ["uid", "00000000-0000-4000-8000-000000000013"],
     "Port vnet0: interfaces: ['uid', '00000000-0000-4000-8000-000000000013'] is not a uuid"),
    ("Port", 2, "interfaces", ["uuid", "00000000-0000-4000-8000-000000000013", "x" * 10],  # 62 characters shown
     "Port vnet0: interfaces: ['uuid', '00000000-0000-4000-8000-000000000013', 'xxxxxxxxxx'] is not a uuid"),
    ("Port", 2, "interfaces", ["uuid", "00000000-0000-4000-8000-000000000013", "x" * 11],  # 63: shortened
     "Port vnet0: interfaces: ['uuid', '00000000-0000-4000-8000-000000000013', 'xxxxxxxxxx... is not a uuid"),
    ("Port", 2, "interfaces", "00000000-0000-4000-8000-000000000013",
     "Port vnet0: interfaces: '00000000-0000-4000-8000-000000000013' is not a uuid"),
    ("Port", 1, "bond_mode", "round-robin",
     "Port bond0: bond_mode: 'round-robin' is not one of active-backup, balance-slb, balance-tcp"),
    ("Port", 1, "lacp", "on", "Port bond0: lacp: 'on' is not one of active, off, passive"),
    ("Port", 1, "lacp", 1, "Port bond0: lacp: 1 is not a string"),
    ("Port", 2, "other_config", ["map", [["k", 1]]], "Port vnet0: other_config: 1 is not a string"),
    ("Port", 2, "other_config", ["map", [["k", "a"], ["k", "b"]]],
     "Port vnet0: other_config: ['map', [['k', 'a'], ['k', 'b']]] holds a key twice"),
    ("Port", 2, "other_config", ["map", [["k"]]], "Port vnet0: other_config: ['k'] is not a [key, value] pair"),
    ("Port", 2, "other_config", ["map", ["kv"]], "Port vnet0: other_config: 'kv' is not a [key, value] pair"),
    ("Port", 2, "other_config", ["set", ["a"]], "Port vnet0: other_config: ['set', ['a']] is not an OVSDB map"),
    ("Port", 2, "other_config", ["map", "k"], "Port vnet0: other_config: ['map', 'k'] is not an OVSDB map"),
    ("Port", 2, "other_config", ["map", [], []], "Port vnet0: other_config: ['map', [], []] is not an OVSDB map"),
    ("Port", 2, "other_config", ["map", [["-k", "v"]]],
     "Port vnet0: other_config: '-k' is not a key: 1-255 of A-Z a-z 0-9 _ . @ + % / -, not starting with . or -"),
    ("Port", 2, "other_config", ["map", [["k", ""]]],
     "Port vnet0: other_config: '' is not a value: 1-1024 of A-Z a-z 0-9 _ . : / @ + = , % -"),
    ("Port", 2, "external_ids", ["set", []], "Port vnet0: external_ids: ['set', []] is not an OVSDB map"),
    ("Port", 2, "name", 7, "Port row 3: name: 7 is not a string"),
    ("Port", 2, "name", ["set", []],
     "Port row 3: name: holds 0 values; the schema allows at most 1 values and at least 1"),
    ("Port", 2, "name", "bond0", "Port row 3: name: a second Port named bond0 (names are unique in OVSDB)"),
    ("Port", 2, "_uuid", ["uuid", "x"], "Port vnet0: _uuid: ['uuid', 'x'] is not a uuid"),
    ("Port", 2, "_uuid", uuid(3), "Port vnet0: _uuid: a second row with uuid 00000000-0000-4000-8000-000000000003"),
    ("Bridge", 0, "name", "-br",
     "Bridge row 1: name: '-br' is not a name: 1-255 of A-Z a-z 0-9 _ . : @ + % -, not starting with . or -"),
    ("Bridge", 0, "ports", ["set", [uuid(2), uuid(2)]],
     "Bridge br0: ports: ['set', [['uuid', '00000000-0000-4000-8000-000000000002'], [... holds a value twice"),
    ("Bridge", 0, "ports", ["map", [[uuid(2), uuid(3)]]],
     "Bridge br0: ports: ['map', [[['uuid', '00000000-0000-4000-8000-000000000002'], ... is not a uuid"),
    ("Interface", 3, "name", "eth3",
     "Interface row 4: name: a second Interface named eth3 (names are unique in OVSDB)"),
    ("Interface", 3, "type", "vxlan\n",
     "Interface vnet0: type: 'vxlan\\n' is not an interface type: a-z 0-9 _ -, not starting with -"),
    ("Interface", 3, "type", "-x",
     "Interface vnet0: type: '-x' is not an interface type: a-z 0-9 _ -, not starting with -"),
    ("Interface", 3, "mtu_request", 0, "Interface vnet0: mtu_request: 0 is not an integer 1-9223372036854775807"),
    ("Interface", 3, "mtu_request", 2**63,
     "Interface vnet0: mtu_request: 9223372036854775808 is not an integer 1-9223372036854775807"),
    ("Interface", 3, "mtu_request", 1500.0,
     "Interface vnet0: mtu_request: 1500.0 is not an integer 1-9223372036854775807"),
    ("Interface", 3, "options", ["map", [["a:b", "1"]]],
     "Interface vnet0: options: 'a:b' is not a key: 1-255 of A-Z a-z 0-9 _ . @ + % / -, not starting with . or -"),
    ("Interface", 3, "options", ["map", [["remote_ip", "1.2.3.4\n"]]],
     "Interface vnet0: options: '1.2.3.4\\n' is not a value: 1-1024 of A-Z a-z 0-9 _ . : / @ + = , % -"),
    ("Interface", 3, "external_ids", ["map", [["k", 5]]], "Interface vnet0: external_ids: 5 is not a string"),
    ("Interface", 3, "_uuid", uuid(12),
     "Interface vnet0: _uuid: a second row with uuid 00000000-0000-4000-8000-000000000012"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "row", "column", "value", "message"), CELL_ERRORS)
def test_a_bad_cell_is_refused_at_the_cell_with_what_is_wrong(
    *, table: str, row: int, column: str, value: Any, message: str
) -> None:
    tables = with_cell(table, row, column, value)
    cell = tables[table]["headings"].index(column)
    assert located(refusal(dump_text(tables))) == (TABLE_LINES[table], row_column(tables, table, row, cell), message)


@pytest.mark.parametrize(
    ("table", "row", "column", "value"),
    [
        ("Port", 2, "tag", 0),
        ("Port", 2, "tag", 4095),
        ("Port", 2, "trunks", ["set", list(range(4096))]),
        ("Port", 2, "trunks", 4095),
        ("Interface", 3, "mtu_request", 1),
        ("Interface", 3, "mtu_request", 2**63 - 1),
        ("Port", 2, "name", "a" * 255),
        ("Port", 2, "name", "Az09_.:@+%-"),
        ("Interface", 3, "type", "a" * 64),
        ("Port", 2, "other_config", ["map", [["k" * 255, "v" * 1024]]]),
        ("Port", 2, "other_config", ["map", [["Az09_.@+%/-", "Az09_.:/@+=,%-"]]]),
        ("Port", 2, "external_ids", ["map", [["iface-id", "0d5f2a1c-3b4e-4f60-8a71-9c2b3d4e5f60"]]]),
        ("Port", 2, "bond_updelay", -(2**63)),
        ("Port", 2, "vlan_mode", "native-untagged"),
    ],
)
def test_values_at_the_edges_of_what_is_allowed_are_read(table: str, row: int, column: str, value: Any) -> None:
    state = parse_dump(dump_text(with_cell(table, row, column, value)), "host.json")
    assert len(state.ports) == 3


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "message"),
    [
        ("Port", 2, "name", "a" * 256, "is not a name"),
        ("Interface", 3, "type", "a" * 65, "is not an interface type"),
        ("Port", 2, "other_config", ["map", [["k" * 256, "v"]]], "is not a key"),
        ("Port", 2, "other_config", ["map", [["k", "v" * 1025]]], "is not a value"),
        # Restored by rollback, so copied into scripts: plain text like every other map.
        ("Port", 2, "external_ids", ["map", [["any text\n", "v"]]], "is not a key"),
        ("Interface", 3, "external_ids", ["map", [["k", "$(x)\u202e"]]], "is not a value"),
        ("Port", 2, "bond_updelay", True, "is not an integer"),
        ("Port", 2, "vlan_mode", "trunk\n", "is not one of"),
    ],
)
def test_values_just_past_the_edges_are_refused(table: str, row: int, column: str, value: Any, message: str) -> None:
    assert message in refusal(dump_text(with_cell(table, row, column, value))).message


def test_long_values_are_shortened_in_messages() -> None:
    """A message quotes at most 60 characters of a text (its repr, escaped) and says it cut it."""
    assert refusal(dump_text(with_cell("Port", 2, "name", "x" * 58 + "\n"))).message.startswith(
        "Port row 3: name: '" + "x" * 58 + "\\n' is not a name"
    )
    assert refusal(dump_text(with_cell("Port", 2, "name", "x" * 60 + "\n"))).message.startswith(
        "Port row 3: name: '" + "x" * 60 + "'... is not a name"
    )
    assert refusal(dump_text(with_cell("Port", 2, "name", "x" * 59 + "\n"))).message.startswith(
        "Port row 3: name: '" + "x" * 59 + "... is not a name"  # 60 characters, but 63 escaped
    )


def test_uuids_may_be_upper_case() -> None:
    tables = with_cell("Port", 2, "_uuid", ["uuid", "ABCDEF00-0000-4000-8000-000000000004"])
    tables["Bridge"]["data"][0][2] = ["set", [uuid(2), uuid(3), ["uuid", "ABCDEF00-0000-4000-8000-000000000004"]]]
    assert parse_dump(dump_text(tables), "host.json").port("vnet0") == PortState(
        "vnet0", "br0", "nic", ("vnet0",), tag=32
    )


def table_line(caption: str, data: str = "[]", headings: str = "[]") -> str:
    return f'{{"caption": "{caption}", "data": {data}, "headings": {headings}}}'


EMPTY_TABLES = "\n".join(table_line(f"{table} table") for table in ("Bridge", "Port", "Interface"))
PORT_HEADINGS_JSON = json.dumps(PORT_HEADINGS)
LINE_ERRORS = [
    # (text, line, the text the error points at (its first occurrence on the line) or its column, message)
    ("not json", 1, "not", "not a line of 'ovsdb-client dump --format=json' output (not a JSON object)"),
    ("\n\n  [1, 2]", 3, "[", "not a line of 'ovsdb-client dump --format=json' output (not a JSON object)"),
    ('{"caption" 5}', 1, "5", "expected ':'"),
    ('{"caption": "Port table" "data": []}', 1, '"data"', "expected ',' or '}' in an object"),
    ('{5: 1}', 1, "5", "expected a member name"),
    ('{"caption": tru}', 1, "tru", "not JSON: Expecting value"),
    ('{"caption": "Port table"', 1, 25, "expected ',' or '}' in an object"),
    ('{"caption": "Port table", ', 1, 27, "not JSON: Expecting value"),
    (table_line("Port table") + " x", 1, "x", "unexpected text after the object"),
    (table_line("Port table") + "x", 1, "x", "unexpected text after the object"),
    (table_line("Port table", data="[[] []]"), 1, "[]]", "expected ',' or ']' in an array"),
    (table_line("Port table", data="{}"), 1, "{}", "expected an array"),
    ('{"data": [], "headings": []}', 1, "{",
     'expected a \'caption\' naming the table, as in {"caption": "Port table", ...}'),
    ('{"caption": 5, "data": [], "headings": []}', 1, "5",
     'expected a \'caption\' naming the table, as in {"caption": "Port table", ...}'),
    ('{"caption": "Port", "data": [], "headings": []}', 1, '"Port"',
     'expected a \'caption\' naming the table, as in {"caption": "Port table", ...}'),
    ('{"caption": "Port table", "headings": []}', 1, "{", "the 'Port' table has no 'data' or no 'headings'"),
    ('{"caption": "Datapath table", "data": []}', 1, "{", "the 'Datapath' table has no 'data' or no 'headings'"),
    ('{"caption": "Port table", "data": []}', 1, "{", "the 'Port' table has no 'data' or no 'headings'"),
    (table_line("Port table", headings='"name"'), 1, '"name"',
     "the Port table's headings are not a list of column names"),
    (table_line("Port table", headings='["name", 1]'), 1, '["name"',
     "the Port table's headings are not a list of column names"),
    (table_line("Port table", headings='["name", "name"]'), 1, '["name"', "the Port table names a column twice"),
    (table_line("Port table", data="[[1]]", headings='["tag"]'), 1, '["tag"]',
     "the Port table has no _uuid, name, interfaces column"),
    (table_line("Interface table", data="[[1]]", headings='["_uuid"]'), 1, '["_uuid"]',
     "the Interface table has no name column"),
    (table_line("Bridge table", data="[[1, 2]]", headings='["_uuid", "name"]'), 1, '["_uuid"',
     "the Bridge table has no ports column"),
    (table_line("Port table", data="[5]", headings='["_uuid", "name", "interfaces"]'), 1, "5]",
     "Port row 1: expected an array of 3 cells, one per heading"),
    (table_line("Port table", data="[[1, 2, 3, 4]]", headings='["_uuid", "name", "interfaces"]'), 1, "[1,",
     "Port row 1: expected an array of 3 cells, one per heading"),
    (EMPTY_TABLES + "\n" + table_line("Port table"), 4, '"Port table"', "a second Port table"),
    (table_line("Port table", data="[[" + "9" * 5000 + "]]"), 1, "[9",
     "not a value ovsgen reads: 'Exceeds the limit (4300 digits) for integer string conversio'..."),
    (table_line("Datapath table", data="[" + DEEP + "]"), 1, 40,
     "not a value ovsgen reads: 'maximum recursion depth exceeded while decoding a JSON array'..."),
    ("", 1, "", "the dump has no Bridge, Port, Interface table; make it with: ovsdb-client dump --format=json "
     "Open_vSwitch"),
    (table_line("Port table") + "\n" + table_line("Datapath table"), 1, "",
     "the dump has no Bridge, Interface table; make it with: ovsdb-client dump --format=json Open_vSwitch"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "at", "message"), LINE_ERRORS, ids=range(len(LINE_ERRORS)))
def test_a_bad_line_is_refused_where_it_goes_wrong(text: str, line: int, at: str | int, message: str) -> None:
    column = at if isinstance(at, int) else text.split("\n")[line - 1].find(at) + 1 if at else 1
    assert located(refusal(text)) == (line, column, message)


def test_tables_ovsgen_does_not_read_are_checked_as_json_only() -> None:
    other = table_line("Datapath table", data='[[{"x": [1, "\\n"]}, 5]]', headings="[7]")
    state = parse_dump(other + "\n" + EMPTY_TABLES.replace("\n", "\r\n") + "\r\n", "host.json")
    assert state == OvsState((), (), ())


def test_tables_without_rows_need_no_headings() -> None:
    assert parse_dump(EMPTY_TABLES, "host.json") == OvsState((), (), ())


def test_lines_are_split_at_newlines_only() -> None:
    """U+2028 and U+0085 inside a JSON string are text, not line ends; a last line needs no newline."""
    tables = base_tables()
    port = tables["Port"]
    port["headings"] = [*port["headings"], "status"]  # a column ovsgen does not read: any text
    port["data"] = [
        [*row, ["map", [["note", "a\u2028b\u0085c\x1cd"]] if n == 2 else []]] for n, row in enumerate(port["data"])
    ]
    lines = [
        json.dumps({"caption": f"{name} table", "data": table["data"], "headings": table["headings"]},
                   ensure_ascii=False)
        for name, table in tables.items()
    ]  # fmt: skip
    assert parse_dump("\n".join(lines), "host.json") == parse_dump(dump_text(base_tables()), "host.json")
    bad = "\n".join([*lines[:2], "\u2028" + lines[2]])
    assert located(refusal(bad))[:2] == (3, 1)


def test_columns_are_found_by_their_headings_in_any_order_beside_others() -> None:
    tables = base_tables()
    for table in tables.values():
        order = [*reversed(table["headings"]), "statistics"]
        table["data"] = [[*(row[table["headings"].index(name)] for name in order[:-1]), ["map", [["rx", 1]]]]
                         for row in table["data"]]  # fmt: skip
        table["headings"] = order
    assert parse_dump(dump_text(tables), "host.json") == parse_dump(dump_text(base_tables()), "host.json")


def test_a_dump_without_the_optional_columns_reads_them_as_empty() -> None:
    """An older Open vSwitch may not have every column: only _uuid, name, ports and interfaces are needed."""
    tables = {
        "Bridge": {"headings": ["_uuid", "name", "ports"], "data": [[uuid(1), "br0", ["set", [uuid(2), uuid(3)]]]]},
        "Port": {
            "headings": ["_uuid", "name", "interfaces"],
            "data": [[uuid(2), "br0", uuid(10)], [uuid(3), "eth2", uuid(11)]],
        },
        "Interface": {"headings": ["_uuid", "name"], "data": [[uuid(10), "br0"], [uuid(11), "eth2"]]},
    }
    assert parse_dump(dump_text(tables), "host.json") == OvsState(
        ("br0",),
        (PortState("br0", "br0", "nic", ("br0",)), PortState("eth2", "br0", "nic", ("eth2",))),
        (InterfaceState("br0", None), InterfaceState("eth2", None)),
        (BridgeState("br0"),),
    )


def host(
    bridges: dict[str, list[str]], ports: dict[str, tuple[list[str], dict[str, Any]]], interfaces: dict[str, Any]
) -> tuple[str, dict[tuple[str, str], str]]:
    """A dump of bridges (their ports), ports (their interfaces and other cells) and interfaces
    (their cells), and the uuid of each (table, name), numbered as first named."""
    ids: dict[tuple[str, str], list[str]] = {}

    def ref(table: str, name: str) -> list[str]:
        return ids.setdefault((table, name), uuid(len(ids) + 100))

    def row(table: str, headings: list[str], name: str, given: dict[str, Any]) -> list[Any]:
        empty = {"type": "", "options": empty_map(), "other_config": empty_map(), "external_ids": empty_map()}
        given = {"_uuid": ref(table, name), "name": name, **given}
        return [given.get(heading, empty.get(heading, empty_set())) for heading in headings]

    tables = {
        "Bridge": {"headings": ["_uuid", "name", "ports"],
                   "data": [row("Bridge", ["_uuid", "name", "ports"], name,
                                {"ports": ["set", [ref("Port", port) for port in members]]})
                            for name, members in bridges.items()]},
        "Port": {"headings": PORT_HEADINGS,
                 "data": [row("Port", PORT_HEADINGS, name,
                              {"interfaces": ["set", [ref("Interface", member) for member in members]], **given})
                          for name, (members, given) in ports.items()]},
        "Interface": {"headings": INTERFACE_HEADINGS,
                      "data": [row("Interface", INTERFACE_HEADINGS, name, given)
                               for name, given in interfaces.items()]},
    }  # fmt: skip
    return dump_text(tables), {key: value[1] for key, value in ids.items()}


def test_the_state_of_a_host_with_every_kind_of_port() -> None:
    text = host(
        {"br1": ["br1", "p10", "vx0", "p9"], "br0": ["br0", "bond0", "mgmt", "eth1", "p1", "lone", "br1x"]},
        {
            "br0": (["br0"], {}),
            "bond0": (["eth10", "eth2"], {"bond_mode": "balance-slb", "lacp": "active", "tag": 0,
                                          "other_config": ["map", [["lacp-time", "fast"], ["bond-primary", "eth2"]]]}),
            "mgmt": (["mgmt"], {"tag": 10}),
            "eth1": (["eth1"], {"trunks": ["set", [10, 20]]}),
            "p1": (["eth9"], {}),
            "lone": (["lone"], {"bond_mode": "active-backup"}),
            "br1x": (["br1x"], {}),
            "br1": (["br1"], {}),
            "p10": (["p10"], {}),
            "vx0": (["vx0"], {}),
            "p9": (["p9"], {}),
        },
        {
            "br0": {"type": "internal"}, "eth10": {"mtu_request": 9000}, "eth2": {"mtu_request": 9000},
            "mgmt": {"type": "internal"}, "eth1": {}, "eth9": {}, "lone": {}, "br1x": {"type": "internal"},
            "br1": {"type": "internal"}, "p10": {}, "p9": {}, "orphan": {},
            "vx0": {"type": "vxlan", "options": ["map", [["remote_ip", "10.0.0.2"], ["key", "5"]]]},
        },
    )  # fmt: skip
    state = parse_dump(text[0], "host.json")
    assert state.bridges == ("br0", "br1")
    assert [(port.bridge, port.name, port.kind, port.members) for port in state.ports] == [
        ("br0", "bond0", "bond", ("eth2", "eth10")),
        ("br0", "br0", "bridge", ("br0",)),
        ("br0", "br1x", "internal", ("br1x",)),
        ("br0", "eth1", "nic", ("eth1",)),
        ("br0", "lone", "nic", ("lone",)),
        ("br0", "mgmt", "internal", ("mgmt",)),
        ("br0", "p1", "other", ("eth9",)),
        ("br1", "br1", "bridge", ("br1",)),
        ("br1", "p9", "nic", ("p9",)),
        ("br1", "p10", "nic", ("p10",)),
        ("br1", "vx0", "other", ("vx0",)),
    ]
    assert state.port("bond0") == PortState(
        "bond0", "br0", "bond", ("eth2", "eth10"), tag=0, bond_mode="balance-slb", lacp="active",
        other_config=(("bond-primary", "eth2"), ("lacp-time", "fast")),
    )  # fmt: skip
    assert state.port("lone") == PortState("lone", "br0", "nic", ("lone",))  # bond_mode only matters for a bond
    assert state.port("mgmt") == PortState("mgmt", "br0", "internal", ("mgmt",), tag=10)
    assert [interface.name for interface in state.interfaces] == [
        "br0", "eth2", "eth10", "mgmt", "eth1", "eth9", "lone", "br1x", "br1", "p10", "vx0", "p9",
    ]  # fmt: skip
    assert state.interface("eth10") == InterfaceState("eth10", 9000)
    assert state.interface("vx0") == InterfaceState("vx0", None, "vxlan", (("key", "5"), ("remote_ip", "10.0.0.2")))
    assert state.interface("br1x") == InterfaceState("br1x", None, "internal")


OWNER_ERRORS = {
    "a port on two bridges": (
        {"br0": ["br0", "p1"], "br1": ["br1", "p1"]}, {"br0": ["br0"], "p1": ["p1"], "br1": ["br1"]},
        ("Bridge", "br1", "Bridge br1: ports: uuid {Port p1} already belongs to Bridge br0"),
    ),
    "a port on two bridges whose names hold ':'": (
        {"br:0": ["br:0", "p1"], "br:1": ["br:1", "p1"]}, {"br:0": ["br:0"], "p1": ["p1"], "br:1": ["br:1"]},
        ("Bridge", "br:1", "Bridge br:1: ports: uuid {Port p1} already belongs to Bridge br:0"),
    ),
    "an interface in two ports": (
        {"br0": ["br0", "p1", "p2"]}, {"br0": ["br0"], "p1": ["p1"], "p2": ["p1"]},
        ("Port", "p2", "Port p2: interfaces: uuid {Interface p1} already belongs to Port p1"),
    ),
    "a bridge's port missing": (
        {"br0": ["br0", "p1"]}, {"br0": ["br0"]},
        ("Bridge", "br0", "Bridge br0: ports: uuid {Port p1} is not a row of the Port table"),
    ),
    "a port's interface missing": (
        {"br0": ["br0", "p1"]}, {"br0": ["br0"], "p1": ["p1", "gone"]},
        ("Port", "p1", "Port p1: interfaces: uuid {Interface gone} is not a row of the Interface table"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(OWNER_ERRORS))
def test_a_uuid_must_name_a_row_that_belongs_to_one_owner_only(case: str) -> None:
    """Located at the row of the owner that names it (the Bridge or Port line, where the row starts)."""
    bridges, ports, (table, row, message) = OWNER_ERRORS[case]
    names = {member for members in ports.values() for member in members} - {"gone"}
    interfaces = {name: {"type": "internal"} if name.startswith("br") else {} for name in sorted(names)}
    text, ids = host(bridges, {name: (members, {}) for name, members in ports.items()}, interfaces)
    line = TABLE_LINES[table]
    column = text.split("\n")[line - 1].index(f'[["uuid", "{ids[(table, row)]}"]') + 1
    for (kind, name), value in ids.items():
        message = message.replace(f"{{{kind} {name}}}", value)
    assert located(refusal(text)) == (line, column, message)


def test_load_dump_names_the_dump_as_told_and_counts_lines_from_the_file(tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    dump.write_text(dump_text(base_tables()).replace('"active-backup"', '"round-robin"'))
    with pytest.raises(DumpInvalid) as refused:
        load_dump(dump, "node-a1 (host.json)")
    (diagnostic,) = refused.value.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("node-a1 (host.json)", 3)
    assert diagnostic.message.startswith("Port bond0: bond_mode: 'round-robin' is not one of")
    dump.write_text(dump_text(base_tables()))
    assert load_dump(dump) == parse_dump(dump_text(base_tables()), "host.json")


def test_bytes_that_are_not_utf8_are_located_at_the_first_bad_byte(tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    dump.write_bytes(b'\n{"caption": "\xff table"}\n')
    with pytest.raises(DumpInvalid) as refused:
        load_dump(dump)
    assert located(refused.value.diagnostics[0]) == (2, 14, "not UTF-8 text")


@pytest.mark.parametrize(("make", "reason"), [(lambda path: None, "No such file or directory"),
                                              (lambda path: path.mkdir(), "Is a directory")])  # fmt: skip
def test_a_dump_that_cannot_be_read_is_a_located_error(tmp_path: Path, make: Any, reason: str) -> None:
    dump = tmp_path / "host.json"
    make(dump)
    with pytest.raises(DumpInvalid) as refused:
        load_dump(dump)
    assert located(refused.value.diagnostics[0]) == (1, 1, f"cannot read the dump: {reason}")
    assert refused.value.diagnostics[0].file == str(dump)


def test_a_dump_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    """64 MiB is allowed: this one is read, and refused for what it holds (zero bytes), not its size."""
    dump = tmp_path / "host.json"
    with dump.open("wb") as handle:
        handle.truncate(MAX_DUMP_BYTES)
    with pytest.raises(DumpInvalid) as refused:
        load_dump(dump)
    assert located(refused.value.diagnostics[0]) == (
        1, 1, "not a line of 'ovsdb-client dump --format=json' output (not a JSON object)"
    )  # fmt: skip


def test_a_dump_text_of_exactly_the_size_limit_is_read() -> None:
    assert refusal(" " * MAX_DUMP_BYTES).message.startswith("the dump has no Bridge, Port, Interface table")
    assert located(refusal(" " * (MAX_DUMP_BYTES + 1))) == (
        1, 1, f"the dump is {MAX_DUMP_BYTES + 1} characters; ovsgen reads dumps of up to 64 MiB"
    )  # fmt: skip


def test_a_pipe_is_read_to_the_size_limit_and_no_further(tmp_path: Path) -> None:
    """A FIFO has no size to check first: the lines are counted as they come, the last cut at the limit."""
    fifo = tmp_path / "host.json"
    os.mkfifo(fifo)
    lines = MAX_DUMP_BYTES // 1024  # of 1023 spaces and a newline: the limit ends with a line
    writer = subprocess.Popen(["sh", "-c", f"yes '{' ' * 1023}' | head -n {lines + 2} > '{fifo}'"])
    try:
        with pytest.raises(DumpInvalid) as refused:
            load_dump(fifo)
    finally:
        writer.kill()
        writer.wait()
    assert located(refused.value.diagnostics[0]) == (
        lines + 1, 1,
        f"the dump goes on past {MAX_DUMP_BYTES} bytes; ovsgen reads dumps of up to 64 MiB",
    )  # fmt: skip


# --- column types as a schema spells them (rehearse compares a backup's with these) --------

SCHEMA_TYPES = [
    ("string", ColumnType(BaseType("string"))),
    ("boolean", ColumnType(BaseType("boolean"))),
    ({"key": "integer"}, ColumnType(BaseType("integer"), None, 1, 1)),
    ({"key": "real", "min": 0, "max": "unlimited"}, ColumnType(BaseType("real"), None, 0, None)),
    ({"key": "string", "value": "string", "min": 0, "max": 3},
     ColumnType(BaseType("string"), BaseType("string"), 0, 3)),
    ({"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0},
     ColumnType(BaseType("integer", min_integer=0, max_integer=4095), None, 0, 1)),
    ({"key": {"type": "string", "minLength": 1, "maxLength": 8}},
     ColumnType(BaseType("string", min_length=1, max_length=8))),
    ({"key": {"type": "uuid", "refTable": "Port"}}, ColumnType(BaseType("uuid", ref_table="Port"))),
    ({"key": {"type": "string", "enum": ["set", ["on", "off"]]}},
     ColumnType(BaseType("string", enum=frozenset({"on", "off"})))),
    ({"key": {"type": "string", "enum": "on"}}, ColumnType(BaseType("string", enum=frozenset({"on"})))),
    ({"key": {"type": "integer", "enum": ["set", [1, 2.5]]}},
     ColumnType(BaseType("integer", enum=frozenset({1, 2.5})))),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "kind"), SCHEMA_TYPES, ids=range(len(SCHEMA_TYPES)))
def test_column_types_read_as_rfc_7047_spells_them(spec: object, kind: ColumnType) -> None:
    assert column_type(spec) == kind


NOT_TYPES = [
    (5, "not a column type: 5"),
    (["string"], "not a column type: ['string']"),
    ("text", "not an atomic type: 'text'"),
    ({"key": "string", "min": "0"}, "not a column type: {'key': 'string', 'min': '0'}"),
    ({"key": "string", "min": True}, "not a column type: {'key': 'string', 'min': True}"),
    ({"key": "string", "max": "many"}, "not a column type: {'key': 'string', 'max': 'many'}"),
    ({"key": "string", "max": 1.0}, "not a column type: {'key': 'string', 'max': 1.0}"),
    ({"min": 0}, "not an atomic type: None"),
    ({"key": "string", "value": "text"}, "not an atomic type: 'text'"),
    ({"key": {"type": "text"}}, "not an atomic type: {'type': 'text'}"),
    ({"key": ["string"]}, "not an atomic type: ['string']"),
    ({"key": {"type": "string", "enum": ["on", "off"]}}, "not an enum: ['on', 'off']"),
    ({"key": {"type": "string", "enum": ["set", "on"]}}, "not an enum: ['set', 'on']"),
    ({"key": {"type": "string", "enum": ["map", ["on"]]}}, "not an enum: ['map', ['on']]"),
    ({"key": {"type": "string", "enum": ["set", ["on"], "off"]}}, "not an enum: ['set', ['on'], 'off']"),
    ({"key": {"type": "string", "enum": ["set", [None]]}}, "not an enum: ['set', [None]]"),
    ({"key": {"type": "string", "enum": {"on": 1}}}, "not an enum: {'on': 1}"),
    ({"key": {"type": "integer", "minInteger": "0"}}, "not an atomic type: {'type': 'integer', 'minInteger': '0'}"),
    ({"key": {"type": "integer", "maxInteger": 1.5}}, "not an atomic type: {'type': 'integer', 'maxInteger': 1.5}"),
    ({"key": {"type": "string", "minLength": True}}, "not an atomic type: {'type': 'string', 'minLength': True}"),
    ({"key": {"type": "string", "maxLength": "8"}}, "not an atomic type: {'type': 'string', 'maxLength': '8'}"),
    ({"key": {"type": "uuid", "refTable": 5}}, "not a table name: 5"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "message"), NOT_TYPES, ids=range(len(NOT_TYPES)))
def test_anything_else_is_not_a_column_type(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        column_type(spec)


# --- rehearse: what a backup must be before a server serves it and a script runs ----------


def rehearse_refusal(backup: Path, monkeypatch: pytest.MonkeyPatch) -> Diagnostic:
    """The one diagnostic rehearse refuses `backup` with; no script may have run."""
    ran: list[object] = []
    monkeypatch.setattr("generator.changes.rehearse._run", lambda *args: ran.append(args))
    with pytest.raises(DumpInvalid) as refused:
        rehearse(backup, None, validate_file(AHV), NODE)
    assert ran == []
    (diagnostic,) = refused.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (1, 1)
    return diagnostic


@pytest.mark.consumer
def test_a_backup_over_the_size_limit_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("ovsdb-tool")
    backup = tmp_path / "host.db"
    with backup.open("wb") as handle:
        handle.truncate(MAX_DUMP_BYTES + 1)
    diagnostic = rehearse_refusal(backup, monkeypatch)
    assert (diagnostic.file, diagnostic.message) == (
        str(backup), f"the backup is {MAX_DUMP_BYTES + 1} bytes; ovsgen rehearses backups of up to 67108864 bytes"
    )  # fmt: skip
    with backup.open("wb") as handle:
        handle.truncate(MAX_DUMP_BYTES)  # the limit itself: ovsdb-tool gets to judge it
    assert rehearse_refusal(backup, monkeypatch).message == (
        "not a standalone OVSDB database (make it with: ovsdb-client backup)"
    )


@pytest.mark.consumer
def test_a_clustered_database_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clustered file names servers the private server would contact."""
    tool = require_tool("ovsdb-tool")
    backup = tmp_path / "host.db"
    subprocess.run([tool, "create-cluster", str(backup), str(find_tools().schema), "tcp:192.0.2.1:6641"],
                   check=True, capture_output=True)  # fmt: skip
    diagnostic = rehearse_refusal(backup, monkeypatch)
    assert (diagnostic.file, diagnostic.message) == (
        str(backup), "not a standalone OVSDB database (make it with: ovsdb-client backup)"
    )  # fmt: skip


def without_lacp(schema: dict[str, Any]) -> None:
    del schema["tables"]["Port"]["columns"]["lacp"]


def with_extras(schema: dict[str, Any]) -> None:
    """What a newer Open vSwitch might add: ovsgen reads none of it."""
    schema["tables"]["Port"]["columns"]["note"] = {"type": "string"}
    schema["tables"]["Port"]["columns"]["status"]["type"] = "string"


@pytest.mark.consumer
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (string_tag, "the database's schema is not Open vSwitch's: Port.tag has type {'key': 'string', 'min': 0}, "
                     "where {schema} has {'key': {'type': 'integer', 'minInteger': 0, 'maxInteger': 4..."),
        (without_lacp, "the database's schema is not Open vSwitch's: Port.lacp has type None, where {schema} has "
                       "{'key': {'type': 'string', 'enum': ['set', ['active', 'passi..."),
    ],
)  # fmt: skip
def test_a_backup_whose_schema_differs_in_a_column_read_is_refused_naming_it(
    tmp_path: Path, traps: tuple[dict[str, str], Path], monkeypatch: pytest.MonkeyPatch, edit: Any, message: str
) -> None:
    require_tool("ovsdb-server")
    backup = hostile_backup(tmp_path, edit)
    diagnostic = rehearse_refusal(backup, monkeypatch)
    assert (diagnostic.file, diagnostic.message) == (str(backup), message.replace("{schema}", str(find_tools().schema)))


@pytest.mark.consumer
def test_a_backup_whose_schema_differs_only_in_columns_not_read_is_rehearsed(tmp_path: Path) -> None:
    require_tool("ovsdb-server")
    report = rehearse(hostile_backup(tmp_path, with_extras), None, validate_file(AHV), NODE)
    assert report.passed, report.text()


@pytest.mark.consumer
@pytest.mark.parametrize("name", ["--", "-x", "br0\n"])
def test_a_backup_holding_a_name_that_is_not_plain_is_refused_as_read_back(
    tmp_path: Path, traps: tuple[dict[str, str], Path], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Open vSwitch's own schema allows any string as a name: the backup passes the schema check,
    and what the server gives back is checked as any host dump is, before a plan is made."""
    require_tool("ovsdb-server")
    backup = hostile_backup(tmp_path, lambda schema: None, port=name)
    with pytest.raises(DumpInvalid) as refused:
        rehearse(backup, None, validate_file(AHV), NODE)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.file == f"{backup} (read back by ovsdb-client dump)"
    assert diagnostic.message.startswith(f"Interface row 1: name: {name!r} is not a name: ")


@pytest.mark.consumer
def test_a_backup_the_server_cannot_serve_is_refused_with_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stand-in for an ovsdb-server that fails on the file: its message is shown, not a traceback."""
    require_tool("ovsdb-server")
    backup = hostile_backup(tmp_path, lambda schema: None)
    stand_in(
        tmp_path, monkeypatch, "ovsdb-server", "*", "printf 'ovsdb-server: I/O error: cannot read \\377\\n' >&2; exit 1"
    )
    diagnostic = rehearse_refusal(backup, monkeypatch)
    assert (diagnostic.file, diagnostic.message) == (
        str(backup), "ovsdb-server cannot serve it: 'ovsdb-server: I/O error: cannot read \ufffd'"
    )  # fmt: skip


def json_records(stderr: str, file: str) -> list[dict[str, Any]]:
    """The records about `file` in the JSON documents on stderr (the design's warnings come in one of their own)."""
    decoder, records, position = json.JSONDecoder(), [], 0
    while stderr[position:].lstrip().startswith("["):
        document, position = decoder.raw_decode(stderr, len(stderr) - len(stderr[position:].lstrip()))
        records += document
    return [record for record in records if record["file"] == file]


def test_a_dump_refused_in_json_reports_a_location_and_no_design_path(tmp_path: Path) -> None:
    dump = tmp_path / "host.json"
    dump.write_text(dump_text(with_cell("Port", 2, "tag", 4096)))
    out = tmp_path / "plan"
    result = invoke("plan", "--from-host", str(dump), str(AHV), "--node", NODE, "-o", str(out), "--format", "json")
    assert result.exit_code == 1, result.stderr
    tables = with_cell("Port", 2, "tag", 4096)
    column = row_column(tables, "Port", 2, PORT_HEADINGS.index("tag"))
    assert json_records(result.stderr, str(dump)) == [
        {"file": str(dump), "line": 3, "column": column, "severity": "error", "path": "(document)",
         "message": "Port vnet0: tag: 4096 is not an integer 0-4095"},
    ]  # fmt: skip
    assert not out.exists()


@pytest.mark.consumer
def test_a_backup_refused_in_json_reports_a_location_and_no_design_path(tmp_path: Path) -> None:
    tool = require_tool("ovsdb-tool")
    backup = tmp_path / "host.db"
    subprocess.run([tool, "create-cluster", str(backup), str(find_tools().schema), "tcp:192.0.2.1:6641"],
                   check=True, capture_output=True)  # fmt: skip
    result = invoke("rehearse", str(backup), str(AHV), "--node", NODE, "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert json_records(result.stderr, str(backup)) == [
        {"file": str(backup), "line": 1, "column": 1, "severity": "error", "path": "(document)",
         "message": "not a standalone OVSDB database (make it with: ovsdb-client backup)"},
    ]  # fmt: skip


@pytest.mark.consumer
@pytest.mark.parametrize(
    "answer",
    [
        "echo 'ovsdb-client: no such database' >&2; exit 1",
        "echo '{not json'; exit 0",
        'CLIENT "$@"; exit 1',  # the true schema, then a failure: still not trusted
    ],
)
def test_a_backup_whose_schema_cannot_be_read_back_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """Fail closed: when the private server's schema cannot be read, nothing is assumed about it."""
    require_tool("ovsdb-server")
    backup = hostile_backup(tmp_path, lambda schema: None)
    stand_in(
        tmp_path,
        monkeypatch,
        "ovsdb-client",
        "get-schema*",
        answer.replace("CLIENT", find_tools().paths["ovsdb-client"]),
    )
    diagnostic = rehearse_refusal(backup, monkeypatch)
    assert diagnostic.message.startswith("the database's schema is not Open vSwitch's: Bridge.name has type None, ")


@pytest.mark.consumer
def test_a_backup_whose_schema_ovsdb_tool_cannot_parse_is_refused_in_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A well-formed standalone file whose schema has no name: ovsdb-tool db-name fails, and says why."""
    require_tool("ovsdb-tool")
    record = b"{}"
    backup = tmp_path / "host.db"
    backup.write_bytes(b"OVSDB JSON 2 %s\n%s\n" % (hashlib.sha1(record).hexdigest().encode(), record))
    diagnostic = rehearse_refusal(backup, monkeypatch)
    assert diagnostic.file == str(backup)
    assert diagnostic.message.startswith(
        "ovsdb-tool cannot read the database's name: 'ovsdb-tool: syntax \"{}\": syntax error: "
    )


def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str, when: str, answer: str) -> None:
    """Put a stand-in for `tool` first on PATH: it gives `answer` when its arguments match the
    shell pattern `when`, and runs the real tool otherwise."""
    real = find_tools().paths[tool]
    folder = tmp_path / "stand-ins"
    folder.mkdir(exist_ok=True)
    script = folder / tool
    script.write_text(f'#!/bin/sh\ncase "$*" in {when}) {answer};; esac\nexec {real} "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")


@pytest.mark.consumer
def test_a_failed_read_of_the_private_database_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No traceback when ovsdb-client cannot dump the database ovsgen built: it says which dump failed and why."""
    require_tool("ovsdb-server")
    backup = hostile_backup(tmp_path, lambda schema: None)
    stand_in(tmp_path, monkeypatch, "ovsdb-client", "dump*", "echo 'ovsdb-client: connection refused' >&2; exit 1")
    with pytest.raises(DumpInvalid) as refused:
        rehearse(backup, None, validate_file(AHV), NODE)
    assert [(*located(d), d.file) for d in refused.value.diagnostics] == [
        (
            1,
            1,
            "ovsdb-client dump failed: 'ovsdb-client: connection refused'",
            f"{backup} (read back by ovsdb-client dump)",
        )
    ]


@pytest.mark.consumer
def test_a_new_design_whose_apply_fails_is_reported_and_nothing_else_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new design's state is built first; when its apply.sh fails, that one failed step is the report."""
    require_tool("ovsdb-server")
    stand_in(tmp_path, monkeypatch, "ovs-vsctl", "*add-br*", "echo 'ovs-vsctl: refused by the test' >&2; exit 1")
    report = rehearse(AHV, validate_file(AHV), validate_file(AHV), NODE)
    assert not report.passed
    [step] = report.steps
    assert (step.name, step.passed) == ("build the new design's state on an empty database", False)
    assert "ovs-vsctl: refused by the test" in step.details


@pytest.mark.consumer
def test_a_rehearsal_between_designs_runs_the_plan_between_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From an old design, the scripts rehearsed are the plan from OLD to NEW (which removes the bridge
    OLD has and NEW drops), not a plan from the state OLD built (which would leave that bridge alone)."""
    require_tool("ovsdb-server")
    changes = REPO / "tests" / "designs" / "changes"
    old, new = validate_file(changes / "bridge-added.yaml"), validate_file(changes / "base.yaml")
    ran: dict[str, str] = {}
    run_for_real = rehearsal._run

    def recording(file: Any, server: Any, workdir: Path) -> Any:
        ran[file.name] = file.text
        return run_for_real(file, server, workdir)

    monkeypatch.setattr(rehearsal, "_run", recording)
    report = rehearse(changes / "bridge-added.yaml", old, new, "c1")
    assert report.passed, report.text()
    planned = {file.name: file.text for file in render_plan([plan_designs(old, new, ("c1",))[0]], "rehearsal")}
    assert "del-br" in planned["change.sh"]
    assert (ran["change.sh"], ran["rollback.sh"]) == (planned["change.sh"], planned["rollback.sh"])


@pytest.mark.consumer
def test_a_rehearsal_from_a_backup_prunes_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ovsdb: Ovsdb
) -> None:
    """A VM's port on a bridge the design manages stays, unless --prune: the rehearsed change.sh says so."""
    ovsdb.vsctl("add-br", "br0", "--", "add-port", "br0", "port7", "tag=32")
    backup = tmp_path / "host.db"
    client = require_tool("ovsdb-client")
    backup.write_bytes(subprocess.run([client, "backup", f"unix:{ovsdb.socket}"], check=True,
                                      capture_output=True).stdout)  # fmt: skip
    changes: list[str] = []
    run_for_real = rehearsal._run

    def recording(file: Any, server: Any, workdir: Path) -> Any:
        if file.name == "change.sh":
            changes.append(file.text)
        return run_for_real(file, server, workdir)

    monkeypatch.setattr(rehearsal, "_run", recording)
    assert rehearse(backup, None, validate_file(AHV), NODE).passed
    assert rehearse(backup, None, validate_file(AHV), NODE, prune=True).passed
    kept, pruned = changes
    assert "port7" not in kept
    assert "del-port br0 port7" in pruned
