"""generator.ovs.dbrows on hand-made schemas and dumps, in process: every row, whole and typed,
what the database must hold after a change, and how differences read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator.errors import DumpInvalid
from generator.ovs.cells import OvsMap
from generator.ovs.dbrows import (
    ROOT_KEY,
    Nested,
    PlanScope,
    Rows,
    differences,
    expected_after_change,
    format_value,
    read_rows,
    row_label,
)

# --- a schema and dumps, as ovsdb-client prints them ------------------------------------


def uuid(number: int) -> list[str]:
    return ["uuid", f"00000000-0000-4000-8000-{number:012d}"]


def oset(*atoms: Any) -> list[Any]:
    return ["set", list(atoms)]


def omap(*pairs: tuple[Any, Any]) -> list[Any]:
    return ["map", [list(pair) for pair in pairs]]


def ref(table: str | None, most: int | str = 1, least: int = 0) -> dict[str, Any]:
    key: dict[str, Any] = {"type": "uuid"} if table is None else {"type": "uuid", "refTable": table}
    return {"type": {"key": key, "min": least, "max": most}}


def optional(kind: str) -> dict[str, Any]:
    return {"type": {"key": kind, "min": 0, "max": 1}}


TEXT_MAP = {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}
STRING = {"type": "string"}
VLAN = {"type": "integer", "minInteger": 0, "maxInteger": 4095}


def schema() -> dict[str, Any]:
    """A small Open_vSwitch schema, types as vswitch.ovsschema has them. Mirror comes first:
    a table whose rows are neither named nor root, before those that are."""
    return {
        "name": "Open_vSwitch",
        "tables": {
            "Mirror": {"columns": {"name": STRING, "select_all": {"type": "boolean"}}},
            "Open_vSwitch": {
                "isRoot": True,
                "columns": {
                    "bridges": ref("Bridge", "unlimited"),
                    "external_ids": TEXT_MAP,
                    "cur_cfg": {"type": "integer"},
                    "next_cfg": {"type": "integer"},
                    "statistics": {**TEXT_MAP, "ephemeral": True},
                },
            },
            "Bridge": {
                "indexes": [["name"]],
                "columns": {
                    "name": STRING,
                    "ports": ref("Port", "unlimited"),
                    "mirrors": ref("Mirror", "unlimited"),
                    "external_ids": TEXT_MAP,
                    "fail_mode": {
                        "type": {
                            "key": {"type": "string", "enum": ["set", ["standalone", "secure"]]},
                            "min": 0,
                            "max": 1,
                        }
                    },
                    "stp_enable": {"type": "boolean"},
                    "datapath_id": {**optional("string"), "ephemeral": True},
                },
            },
            "Port": {
                "indexes": [["name"]],
                "columns": {
                    "name": STRING,
                    "interfaces": ref("Interface", "unlimited", 1),
                    "tag": {"type": {"key": VLAN, "min": 0, "max": 1}},
                    "trunks": {"type": {"key": VLAN, "min": 0, "max": 4096}},
                    "vlan_mode": optional("string"),
                    "bond_updelay": {"type": "integer"},
                    "other_config": TEXT_MAP,
                    "qos": ref("QoS"),
                    "bond_active_slave": optional("string"),
                },
            },
            "Interface": {
                "indexes": [["name"]],
                "columns": {
                    "name": STRING,
                    "type": STRING,
                    "mtu_request": {"type": {"key": {"type": "integer", "minInteger": 1}, "min": 0, "max": 1}},
                    "ofport": optional("integer"),
                    "options": TEXT_MAP,
                },
            },
            "QoS": {
                "isRoot": True,
                "columns": {
                    "type": STRING,
                    "queues": {
                        "type": {
                            "key": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295},
                            "value": {"type": "uuid", "refTable": "Queue"},
                            "min": 0,
                            "max": "unlimited",
                        }
                    },
                    "other_config": TEXT_MAP,
                },
            },
            "Queue": {"isRoot": True, "columns": {"dscp": optional("integer"), "other_config": TEXT_MAP}},
        },
    }


def dump(tables: dict[str, list[dict[str, Any]]]) -> str:
    """`ovsdb-client dump --format=json` of `tables`: one line per table, headings from the first row."""
    lines = []
    for name, rows in tables.items():
        headings = list(rows[0]) if rows else ["_uuid"]
        data = [[row[heading] for heading in headings] for row in rows]
        lines.append(json.dumps({"caption": f"{name} table", "data": data, "headings": headings}))
    return "\n".join(lines) + "\n"


def host_tables() -> dict[str, list[dict[str, Any]]]:
    """A host with one bridge: a bond with hand-set options and a QoS, a VM tap, the bridge's own port."""
    return {
        "Open_vSwitch": [
            {
                "_uuid": uuid(1),
                "bridges": uuid(10),
                "cur_cfg": 7,
                "next_cfg": 9,
                "statistics": omap(("cpu", "2")),
                "external_ids": omap(("system-id", "abc"), ("hostname", "kvm-a-1")),
            },
        ],
        "Bridge": [
            {
                "_uuid": uuid(10),
                "name": "br0",
                "ports": oset(uuid(20), uuid(21), uuid(22)),
                "mirrors": oset(),
                "external_ids": omap(),
                "fail_mode": "secure",
                "stp_enable": False,
                "datapath_id": "0000aabb",
            },
        ],
        "Port": [
            {
                "_uuid": uuid(20),
                "name": "bond0",
                "interfaces": oset(uuid(30), uuid(31)),
                "tag": oset(),
                "trunks": oset(20, 5, 10),
                "vlan_mode": "trunk",
                "bond_updelay": 30000,
                "other_config": omap(("bond-miimon-interval", "100"), ("bond-detect-mode", "miimon")),
                "qos": uuid(40),
                "bond_active_slave": "0c:c4:7a:58:91:50",
            },
            {
                "_uuid": uuid(21),
                "name": "vnet1",
                "interfaces": uuid(32),
                "tag": 50,
                "trunks": 7,
                "vlan_mode": oset(),
                "bond_updelay": 0,
                "other_config": omap(),
                "qos": oset(),
                "bond_active_slave": oset(),
            },
            {
                "_uuid": uuid(22),
                "name": "br0",
                "interfaces": uuid(33),
                "tag": oset(),
                "trunks": oset(),
                "vlan_mode": oset(),
                "bond_updelay": 0,
                "other_config": omap(),
                "qos": oset(),
                "bond_active_slave": oset(),
            },
        ],
        "Interface": [
            {"_uuid": uuid(30), "name": "eth2", "type": "", "mtu_request": 9000, "ofport": 1, "options": omap()},
            {"_uuid": uuid(31), "name": "eth10", "type": "", "mtu_request": oset(), "ofport": 2, "options": omap()},
            {"_uuid": uuid(32), "name": "vnet1", "type": "", "mtu_request": oset(), "ofport": 3, "options": omap()},
            {
                "_uuid": uuid(33),
                "name": "br0",
                "type": "internal",
                "mtu_request": oset(),
                "ofport": 65534,
                "options": omap(),
            },
        ],
        "QoS": [
            {
                "_uuid": uuid(40),
                "type": "linux-htb",
                "queues": omap((10, uuid(50)), (9, uuid(51))),
                "other_config": omap(("max-rate", "1000000")),
            },
        ],
        "Queue": [
            {"_uuid": uuid(50), "dscp": 10, "other_config": omap()},
            {"_uuid": uuid(51), "dscp": oset(), "other_config": omap(("priority", "1"))},
        ],
        "Mirror": [],
    }


def empty() -> OvsMap:
    return OvsMap(())


Q10 = Nested("Queue", (("dscp", 10), ("other_config", empty())))
Q9 = Nested("Queue", (("other_config", OvsMap((("priority", "1"),))),))
QOS = Nested(
    "QoS",
    (
        ("other_config", OvsMap((("max-rate", "1000000"),))),
        ("queues", OvsMap(((9, Q9), (10, Q10)))),
        ("type", "linux-htb"),
    ),
)
QOS_LABEL = (
    "QoS{other_config={max-rate='1000000'}, queues={9=Queue{other_config={priority='1'}}, "
    "10=Queue{dscp=10, other_config={}}}, type='linux-htb'}"
)


def host_rows() -> Rows:
    """What host_tables() reads as, written out."""
    access = {"tag": None, "trunks": frozenset(), "vlan_mode": None, "bond_updelay": 0, "other_config": empty()}
    return {
        ROOT_KEY: {
            "bridges": frozenset({"br0"}),
            "external_ids": OvsMap((("hostname", "kvm-a-1"), ("system-id", "abc"))),
        },
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset({"bond0", "vnet1", "br0"}),
            "mirrors": frozenset(),
            "external_ids": empty(),
            "fail_mode": "secure",
            "stp_enable": False,
        },
        ("Port", "bond0"): {
            "name": "bond0",
            "interfaces": frozenset({"eth2", "eth10"}),
            "tag": None,
            "trunks": frozenset({5, 10, 20}),
            "vlan_mode": "trunk",
            "bond_updelay": 30000,
            "other_config": OvsMap((("bond-detect-mode", "miimon"), ("bond-miimon-interval", "100"))),
            "qos": QOS,
        },
        ("Port", "vnet1"): {
            **access,
            "name": "vnet1",
            "interfaces": frozenset({"vnet1"}),
            "tag": 50,
            "trunks": frozenset({7}),
            "qos": None,
        },
        ("Port", "br0"): {**access, "name": "br0", "interfaces": frozenset({"br0"}), "qos": None},
        ("Interface", "eth2"): {"name": "eth2", "type": "", "mtu_request": 9000, "options": empty()},
        ("Interface", "eth10"): {"name": "eth10", "type": "", "mtu_request": None, "options": empty()},
        ("Interface", "vnet1"): {"name": "vnet1", "type": "", "mtu_request": None, "options": empty()},
        ("Interface", "br0"): {"name": "br0", "type": "internal", "mtu_request": None, "options": empty()},
        ("QoS", QOS_LABEL): dict(QOS.cells),
        ("Queue", "Queue{dscp=10, other_config={}}"): {"dscp": 10, "other_config": empty()},
        ("Queue", "Queue{other_config={priority='1'}}"): {"dscp": None, "other_config": OvsMap((("priority", "1"),))},
    }


def read(tables: dict[str, list[dict[str, Any]]], spec: object = None) -> Rows:
    return read_rows(dump(tables), schema() if spec is None else spec, "host.db")


def refusal(text: str, spec: object = None) -> tuple[str, int, int, str]:
    with pytest.raises(DumpInvalid) as refused:
        read_rows(text, schema() if spec is None else spec, "host.db")
    (found,) = refused.value.diagnostics
    assert found.path == ()  # about the file, not a place in a design
    return found.file, found.line, found.column, found.message


# --- reading: every row, whole, typed ---------------------------------------------------


def test_a_whole_database_reads_as_typed_rows_keyed_by_name() -> None:
    """Sets stay sets (one atom or none too), maps are sorted by key (numbers by value), references
    to named rows are names, an unnamed row is nested whole; what ovs-vswitchd writes is left out."""
    assert read(host_tables()) == host_rows()


def test_a_row_nested_through_a_reference_sorts_its_numeric_map_keys_by_value() -> None:
    rows = read(host_tables())
    queues = rows[("Port", "bond0")]["qos"]
    assert isinstance(queues, Nested)
    assert format_value(queues) == QOS_LABEL
    assert [key for key, _ in dict(queues.cells)["queues"].pairs] == [9, 10]  # type: ignore[attr-defined]


def test_columns_only_ovs_vswitchd_writes_are_left_out_even_when_not_flagged_ephemeral() -> None:
    """A backup's schema may not flag them; they are status all the same. Mirror, Controller and
    Manager are made root tables here, so their rows are read on their own."""
    status = {
        "Open_vSwitch": [
            "cur_cfg",
            "next_cfg",
            "dpdk_initialized",
            "dpdk_version",
            "datapath_types",
            "iface_types",
            "statistics",
        ],
        "Bridge": ["datapath_id", "datapath_version", "status", "rstp_status"],
        "Port": ["bond_active_slave", "bond_active_member", "status", "statistics", "rstp_status", "rstp_statistics"],
        "Interface": [
            "ofport",
            "ifindex",
            "mac_in_use",
            "admin_state",
            "link_state",
            "link_resets",
            "link_speed",
            "duplex",
            "mtu",
            "error",
            "lacp_current",
            "statistics",
            "status",
            "bfd_status",
            "cfm_fault",
            "cfm_fault_status",
            "cfm_remote_mpids",
            "cfm_remote_opstate",
            "cfm_health",
            "cfm_flap_count",
        ],
        "Mirror": ["statistics"],
        "Controller": ["is_connected", "role", "status"],
        "Manager": ["is_connected", "status"],
    }
    kept = {
        "Open_vSwitch": "ssl",
        "Bridge": "name",
        "Port": "name",
        "Interface": "name",
        "Mirror": "select_vlan",
        "Controller": "target",
        "Manager": "target",
    }
    spec: dict[str, Any] = {"tables": {}}
    tables: dict[str, list[dict[str, Any]]] = {}
    for number, (table, columns) in enumerate(status.items(), start=1):
        spec["tables"][table] = {
            "isRoot": True,
            "indexes": [["name"]],
            "columns": {column: optional("string") for column in [kept[table], *columns, "probe"]},
        }
        spec["tables"][table]["columns"]["probe"]["ephemeral"] = True  # flagged: left out too
        tables[table] = [{"_uuid": uuid(number), kept[table]: "x", **dict.fromkeys([*columns, "probe"], "up")}]
    nested = {
        table: Nested(table, ((kept[table], "x"),)) for table in ("Open_vSwitch", "Mirror", "Controller", "Manager")
    }
    assert read(tables, spec) == {
        ROOT_KEY: {"ssl": "x"},
        ("Bridge", "x"): {"name": "x"},
        ("Port", "x"): {"name": "x"},
        ("Interface", "x"): {"name": "x"},
        **{(table, format_value(row)): dict(row.cells) for table, row in nested.items() if table != "Open_vSwitch"},
    }


def test_a_name_without_an_index_does_not_make_rows_named() -> None:
    """Mirror has a name but no index on it: a bridge's mirrors are nested whole, not named."""
    tables = host_tables()
    tables["Mirror"] = [{"_uuid": uuid(60), "name": "span0", "select_all": True}]
    tables["Bridge"][0]["mirrors"] = uuid(60)
    rows = read(tables)
    assert rows[("Bridge", "br0")]["mirrors"] == frozenset(
        {Nested("Mirror", (("name", "span0"), ("select_all", True)))}
    )
    assert not [key for key in rows if key[0] == "Mirror"]


def test_a_table_without_indexes_or_isroot_and_one_missing_from_the_dump_are_read() -> None:
    spec = schema()
    del spec["tables"]["Bridge"]["indexes"]
    tables = host_tables()
    del tables["Queue"], tables["Mirror"]
    rows = read(tables, spec)
    (bridge,) = rows[ROOT_KEY]["bridges"]  # type: ignore[misc]
    assert isinstance(bridge, Nested)  # not named, not root: nested whole where it is referenced
    assert (bridge.table, dict(bridge.cells)["ports"]) == ("Bridge", frozenset({"bond0", "vnet1", "br0"}))
    assert not [key for key in rows if key[0] in ("Bridge", "Queue")]
    assert (
        rows[
            (
                "QoS",
                "QoS{other_config={max-rate='1000000'}, queues={9='<a missing Queue>', "
                "10='<a missing Queue>'}, type='linux-htb'}",
            )
        ]["type"]
        == "linux-htb"
    )


def test_references_to_nothing_back_to_a_row_or_without_a_table_are_named_as_such() -> None:
    spec = schema()
    spec["tables"]["Loop"] = {"isRoot": True, "columns": {"next": ref("Loop"), "peer": ref(None, "unlimited")}}
    tables = {
        "Loop": [
            {"_uuid": uuid(1), "next": uuid(2), "peer": oset(uuid(10), uuid(99), uuid(70))},
            {"_uuid": uuid(2), "next": uuid(1), "peer": oset()},
        ],
        "Bridge": [{"_uuid": uuid(10), "name": "br0", "ports": uuid(20)}],  # no Port table at all
        "Extra": [{"_uuid": uuid(70)}],  # a table the schema does not have
    }
    back = "'<Loop: a reference back>'"
    assert read(tables, spec) == {
        ("Loop", f"Loop{{next=Loop{{next={back}}}, peer=['<a missing Extra>', '<a missing row>', 'br0']}}"): {
            "next": Nested("Loop", (("next", "<Loop: a reference back>"),)),
            "peer": frozenset({"br0", "<a missing row>", "<a missing Extra>"}),
        },
        ("Loop", f"Loop{{next=Loop{{next={back}, peer=['<a missing Extra>', '<a missing row>', 'br0']}}}}"): {
            "next": Nested(
                "Loop",
                (
                    ("next", "<Loop: a reference back>"),
                    ("peer", frozenset({"br0", "<a missing row>", "<a missing Extra>"})),
                ),
            ),
            "peer": frozenset(),
        },
        ("Bridge", "br0"): {"name": "br0", "ports": frozenset({"<a missing Port>"})},
    }


def test_a_map_keyed_by_references_to_rows_without_names_nests_them() -> None:
    spec = schema()
    owners = {"key": {"type": "uuid", "refTable": "Owner"}, "value": "string", "min": 0, "max": "unlimited"}
    spec["tables"]["Owner"] = {"columns": {"note": STRING}}
    spec["tables"]["Tag"] = {"isRoot": True, "columns": {"owners": {"type": owners}}}
    tables = {
        "Owner": [{"_uuid": uuid(1), "note": "b"}, {"_uuid": uuid(2), "note": "a"}],
        "Tag": [{"_uuid": uuid(3), "owners": omap((uuid(1), "x"), (uuid(2), "y"))}],
    }
    (row,) = read(tables, spec).values()
    assert row == {
        "owners": OvsMap(((Nested("Owner", (("note", "a"),)), "y"), (Nested("Owner", (("note", "b"),)), "x")))
    }


def test_rows_holding_the_same_are_told_apart_by_copy_numbers() -> None:
    tables = {
        "QoS": [{"_uuid": uuid(n), "type": "linux-htb", "queues": omap(), "other_config": omap()} for n in (1, 2, 3)]
    }
    label = "QoS{other_config={}, queues={}, type='linux-htb'}"
    assert list(read(tables)) == [("QoS", label), ("QoS", f"{label} (copy 2)"), ("QoS", f"{label} (copy 3)")]


def test_a_dump_without_a_column_of_the_schema_reads_without_it() -> None:
    """A backup made by an older Open vSwitch lacks columns the installed schema has."""
    tables = {"Interface": [{"_uuid": uuid(1), "name": "eth2"}]}
    assert read(tables) == {("Interface", "eth2"): {"name": "eth2"}}


def test_blank_lines_between_tables_are_skipped() -> None:
    text = dump({"Interface": [{"_uuid": uuid(1), "name": "eth2"}]})
    text += "\n  \n" + dump({"Port": [{"_uuid": uuid(2), "name": "p", "interfaces": uuid(1)}]})
    assert read_rows(text, schema(), "host.db") == {
        ("Interface", "eth2"): {"name": "eth2"},
        ("Port", "p"): {"name": "p", "interfaces": frozenset({"eth2"})},
    }


# --- reading: what is refused, located -------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (None, "\"'NoneType' object is not subscriptable\""),
        ({}, "\"'tables'\""),
        ({"tables": []}, "\"'list' object has no attribute 'items'\""),
        ({"tables": {"Port": {"columns": {"tag": {"kind": "integer"}}}}}, "\"'type'\""),
        ({"tables": {"Port": {"columns": {"tag": {"type": "float"}}}}}, "\"not an atomic type: 'float'\""),
    ],
)
def test_a_schema_that_cannot_be_read_is_refused(spec: object, message: str) -> None:
    with pytest.raises(DumpInvalid) as refused:
        read_rows("", spec, "host.db")
    (found,) = refused.value.diagnostics
    assert (found.file, found.line, found.column, found.path) == ("host.db", 1, 1, ())
    assert found.message == f"the database's schema cannot be read: {message}"


GOOD = json.dumps({"caption": "Interface table", "data": [], "headings": ["_uuid"]})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "'Expecting property name enclosed in double quotes: line 1 co'..."),
        ('{"headings": [], "data": []}', "\"'caption'\""),
        ('{"caption": "Port table", "data": []}', "\"'headings'\""),
        ('{"caption": 5, "headings": [], "data": []}', "\"'int' object has no attribute 'removesuffix'\""),
        ('["Port table"]', "'list indices must be integers or slices, not str'"),
        (
            '{"caption": "Port table", "headings": ["_uuid", "name"], "data": [[["uuid", "u1"]]]}',
            "'zip() argument 2 is shorter than argument 1'",
        ),
        ('{"caption": "Port table", "headings": ["_uuid"], "data": [[["uuid"]]]}', "'list index out of range'"),
    ],
)
def test_a_line_that_is_not_dump_output_is_refused_by_its_number(line: str, message: str) -> None:
    text = f"{GOOD}\n\n{line}\n"
    assert refusal(text) == ("host.db", 1, 1, f"line 3 is not ovsdb-client dump output: {message}")


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("other_config", oset(), "\"['set', []] is not a map\""),
        ("other_config", ["map", [], "x"], "\"['map', [], 'x'] is not a map\""),
        ("other_config", "x", "\"'x' is not a map\""),
        ("other_config", omap(("k", oset("v"))), "\"['set', ['v']] is not an atom\""),
        ("trunks", ["set", [5], "x"], "\"['set', [5], 'x'] is not an atom\""),
        ("tag", oset(oset(5)), "\"['set', [5]] is not an atom\""),
        ("interfaces", oset(7), "\"'int' object is not subscriptable\""),
        ("interfaces", oset(["uuid"]), "'list index out of range'"),
    ],
)
def test_a_cell_that_is_not_of_its_type_is_refused_naming_the_table(column: str, cell: Any, message: str) -> None:
    row = {"_uuid": uuid(1), "name": "p", "interfaces": oset(), column: cell}
    assert refusal(dump({"Port": [row]})) == ("host.db", 1, 1, f"a Port row cannot be read: {message}")


def test_a_set_or_map_cell_reads_into_its_type() -> None:
    row = {
        "_uuid": uuid(1),
        "name": "p",
        "interfaces": oset(),
        "trunks": oset(4095, 0, -1),
        "other_config": omap(("b", "2"), ("a", "1"), ("c", "3")),
    }
    (found,) = read({"Port": [row]}).values()
    assert found == {
        "name": "p",
        "interfaces": frozenset(),
        "trunks": frozenset({-1, 0, 4095}),
        "other_config": OvsMap((("a", "1"), ("b", "2"), ("c", "3"))),
    }


# --- what the database must hold after a change ----------------------------------------


def managed_bond(**columns: object) -> dict[str, object]:
    return {
        "name": "bond0",
        "interfaces": frozenset({"eth2", "eth3"}),
        "bond_mode": "balance-tcp",
        "lacp": "active",
        "bond_updelay": 0,
        "other_config": OvsMap((("lacp-time", "fast"),)),
        **columns,
    }


def start_rows() -> Rows:
    """A host: br0 (bond0 with hand-set options, mgmt0 that the design moves to br2, a VM tap,
    a port the plan removes), br1 the plan removes, br9 nobody touches, and a QoS row."""
    return {
        ROOT_KEY: {
            "bridges": frozenset({"br0", "br1", "br9"}),
            "external_ids": OvsMap((("hostname", "h1"), ("system-id", "s1"))),
            "ssl": None,
        },
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset({"bond0", "mgmt0", "vnet1", "old0"}),
            "fail_mode": "secure",
            "external_ids": OvsMap((("owner", "me"),)),
        },
        ("Bridge", "br1"): {"name": "br1", "ports": frozenset({"p1"})},
        ("Bridge", "br9"): {"name": "br9", "ports": frozenset({"p9"})},
        ("Port", "bond0"): {
            "name": "bond0",
            "interfaces": frozenset({"eth2", "eth3"}),
            "bond_mode": "active-backup",
            "lacp": None,
            "bond_updelay": 30000,
            "other_config": OvsMap((("bond-detect-mode", "miimon"), ("bond-primary", "eth2"), ("lacp-time", "slow"))),
        },
        ("Port", "mgmt0"): {"name": "mgmt0", "interfaces": frozenset({"mgmt0"}), "tag": 10, "trunks": frozenset({1})},
        ("Port", "vnet1"): {"name": "vnet1", "interfaces": frozenset({"vnet1"}), "tag": 50},
        ("Port", "old0"): {"name": "old0", "interfaces": frozenset({"old0"})},
        ("Port", "p1"): {"name": "p1", "interfaces": frozenset({"p1"})},
        ("Port", "p9"): {"name": "p9", "interfaces": frozenset({"p9"})},
        ("Interface", "eth2"): {"name": "eth2", "mtu_request": 1500, "options": OvsMap((("k", "v"),))},
        ("Interface", "eth3"): {"name": "eth3", "mtu_request": 1500},
        ("Interface", "mgmt0"): {"name": "mgmt0", "type": "internal", "mtu_request": None, "other_config": OvsMap(())},
        ("Interface", "vnet1"): {"name": "vnet1", "type": "", "external_ids": OvsMap((("vm-id", "42"),))},
        ("Interface", "old0"): {"name": "old0"},
        ("Interface", "p1"): {"name": "p1"},
        ("Interface", "p9"): {"name": "p9", "type": "patch"},
        ("QoS", "QoS{type='linux-htb'}"): {"type": "linux-htb"},
    }


def reference_rows() -> Rows:
    """The new design on an empty database: br0 with an LACP bond, br2 (new) with mgmt0 as VLAN 20."""
    return {
        ROOT_KEY: {"bridges": frozenset({"br0", "br2"}), "external_ids": OvsMap((("hostname", "c1"),)), "ssl": None},
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset({"bond0"}),
            "fail_mode": None,
            "external_ids": OvsMap((("ovsgen", "c1"),)),
        },
        ("Bridge", "br2"): {"name": "br2", "ports": frozenset({"mgmt0"}), "fail_mode": None},
        ("Port", "bond0"): managed_bond(tag=None),
        ("Port", "mgmt0"): {"name": "mgmt0", "interfaces": frozenset({"mgmt0"}), "tag": 20, "trunks": frozenset()},
        ("Interface", "eth2"): {"name": "eth2", "mtu_request": 9000, "options": OvsMap(())},
        ("Interface", "eth3"): {"name": "eth3", "mtu_request": 9000},
        ("Interface", "mgmt0"): {"name": "mgmt0", "type": "internal", "mtu_request": 9000, "other_config": OvsMap(())},
    }


KINDS = {("Port", "bond0"): "bond", ("Port", "mgmt0"): "internal", ("Interface", "mgmt0"): "internal"}


def test_after_a_change_the_design_manages_its_columns_and_the_host_keeps_the_rest() -> None:
    start, reference = start_rows(), reference_rows()
    scope = PlanScope(frozenset({"old0"}), frozenset({"br1"}))
    assert expected_after_change(start, reference, KINDS, scope) == {
        ROOT_KEY: {
            "bridges": frozenset({"br0", "br2", "br9"}),
            "external_ids": OvsMap((("hostname", "c1"), ("system-id", "s1"))),
            "ssl": None,
        },
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset({"bond0", "vnet1"}),
            "fail_mode": "secure",
            "external_ids": OvsMap((("owner", "me"),)),
        },
        ("Bridge", "br2"): {"name": "br2", "ports": frozenset({"mgmt0"}), "fail_mode": None},
        ("Bridge", "br9"): {"name": "br9", "ports": frozenset({"p9"})},
        ("Port", "bond0"): {
            "name": "bond0",
            "interfaces": frozenset({"eth2", "eth3"}),
            "bond_mode": "balance-tcp",
            "lacp": "active",
            "bond_updelay": 30000,
            "tag": None,
            "other_config": OvsMap((("bond-detect-mode", "miimon"), ("lacp-time", "fast"))),
        },
        ("Port", "mgmt0"): {"name": "mgmt0", "interfaces": frozenset({"mgmt0"}), "tag": 20, "trunks": frozenset({1})},
        ("Port", "vnet1"): {"name": "vnet1", "interfaces": frozenset({"vnet1"}), "tag": 50},
        ("Port", "p9"): {"name": "p9", "interfaces": frozenset({"p9"})},
        ("Interface", "eth2"): {"name": "eth2", "mtu_request": 9000, "options": OvsMap((("k", "v"),))},
        ("Interface", "eth3"): {"name": "eth3", "mtu_request": 9000},
        ("Interface", "mgmt0"): {"name": "mgmt0", "type": "internal", "mtu_request": 9000, "other_config": OvsMap(())},
        ("Interface", "vnet1"): {"name": "vnet1", "type": "", "external_ids": OvsMap((("vm-id", "42"),))},
        ("Interface", "p9"): {"name": "p9", "type": "patch"},
        ("QoS", "QoS{type='linux-htb'}"): {"type": "linux-htb"},
    }


def test_the_bridge_mark_of_the_design_is_managed_and_other_external_ids_stay() -> None:
    """Bridge external_ids:managed-by is the design's; a bridge's other keys are the host's."""
    start = {
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset(),
            "external_ids": OvsMap((("a", "1"), ("managed-by", "x"), ("z", "2"))),
        }
    }
    reference = {
        ("Bridge", "br0"): {
            "name": "br0",
            "ports": frozenset(),
            "external_ids": OvsMap((("managed-by", "ovsgen"), ("y", "3"))),
        }
    }
    expected = expected_after_change(start, reference, {}, PlanScope(frozenset(), frozenset()))
    assert expected[("Bridge", "br0")]["external_ids"] == OvsMap((("a", "1"), ("managed-by", "ovsgen"), ("z", "2")))


def test_a_new_row_is_the_references_and_a_row_it_lacks_the_starts() -> None:
    """From an empty database every row is the reference's; a port the start refers to without a row stays empty."""
    reference = reference_rows()
    none = PlanScope(frozenset(), frozenset())
    expected = expected_after_change({}, reference, KINDS, none)
    assert expected == {**reference, ROOT_KEY: {**reference[ROOT_KEY], "bridges": frozenset({"br0", "br2"})}}
    dangling = {("Bridge", "br7"): {"name": "br7", "ports": frozenset({"gone"})}}
    assert expected_after_change(dangling, {}, {}, none) == {
        **dangling,
        ("Port", "gone"): {},
        ROOT_KEY: {"bridges": frozenset({"br7"})},
    }


def test_the_root_rows_keys_the_reference_sets_are_managed_and_the_others_stay() -> None:
    """A key may hold a colon: `external_ids:a:b` is key `a:b`."""
    start = {
        ROOT_KEY: {
            "external_ids": OvsMap((("a:b", "old"), ("hostname", "h1"), ("system-id", "s1"))),
            "other_config": OvsMap((("a", "1"),)),
        }
    }
    reference = {ROOT_KEY: {"external_ids": OvsMap((("a:b", "new"), ("system-id", "c1"))), "other_config": OvsMap(())}}
    none = PlanScope(frozenset(), frozenset())
    assert expected_after_change(start, reference, {}, none) == {
        ROOT_KEY: {
            "external_ids": OvsMap((("a:b", "new"), ("hostname", "h1"), ("system-id", "c1"))),
            "other_config": OvsMap((("a", "1"),)),
            "bridges": frozenset(),
        },
    }
    reference[ROOT_KEY]["external_ids"] = "not a map"
    assert (
        expected_after_change(start, reference, {}, none)[ROOT_KEY]["external_ids"] == start[ROOT_KEY]["external_ids"]
    )


# --- differences, in words --------------------------------------------------------------


def test_differences_name_rows_in_table_order_and_names_in_natural_order() -> None:
    expected: Rows = {
        ("Interface", "eth10"): {},
        ("Interface", "eth2"): {},
        ("Queue", "Queue{dscp=1}"): {},
        ("QoS", "QoS{type='x'}"): {},
        ("Port", "p1"): {},
        ("Bridge", "br0"): {},
        ROOT_KEY: {},
    }
    assert differences(expected, {}) == [
        "Open_vSwitch (root row): expected, not in the database",
        "Bridge br0: expected, not in the database",
        "Port p1: expected, not in the database",
        "Interface eth2: expected, not in the database",
        "Interface eth10: expected, not in the database",
        "QoS row QoS{type='x'}: expected, not in the database",
        "Queue row Queue{dscp=1}: expected, not in the database",
    ]
    assert differences({}, {("Port", "vnet9"): {"name": "vnet9"}}) == ["Port vnet9: in the database, not expected"]


def test_differences_name_each_column_and_map_key_that_differs() -> None:
    want: Rows = {
        ("Port", "bond0"): {
            "name": "bond0",
            "tag": None,
            "trunks": frozenset({10, 20}),
            "bond_updelay": 30000,
            "vlan_mode": "trunk",
            "other_config": OvsMap((("bond-detect-mode", "miimon"), ("lacp-time", "fast"), ("same", "1"))),
            "external_ids": OvsMap(((2, "b"), (10, "a"))),
            "qos": Nested("QoS", (("type", "linux-htb"),)),
        }
    }
    have: Rows = {
        ("Port", "bond0"): {
            "name": "bond0",
            "tag": 5,
            "trunks": frozenset(),
            "bond_updelay": 0,
            "vlan_mode": None,
            "other_config": OvsMap((("lacp-time", "slow"), ("same", "1"), ("x y", "z"))),
            "external_ids": OvsMap(((2, "c"), (10, "d"))),
            "qos": None,
            "lacp": "active",
        }
    }
    assert differences(want, have) == [
        "Port bond0 bond_updelay: expected 30000, database 0",
        "Port bond0 external_ids:2: expected 'b', database 'c'",
        "Port bond0 external_ids:10: expected 'a', database 'd'",
        "Port bond0 other_config:bond-detect-mode: expected 'miimon', database absent",
        "Port bond0 other_config:lacp-time: expected 'fast', database 'slow'",
        "Port bond0 other_config:'x y': expected absent, database 'z'",
        "Port bond0 qos: expected QoS{type='linux-htb'}, database empty",
        "Port bond0 tag: expected empty, database 5",
        "Port bond0 trunks: expected [10, 20], database []",
        "Port bond0 vlan_mode: expected 'trunk', database empty",
    ]  # lacp: a column only the database has holds its default (a newer schema's), not a difference
    assert differences(want, want) == []


def test_a_map_against_a_value_that_is_not_one_is_one_difference() -> None:
    want: Rows = {("Interface", "eth2"): {"options": OvsMap((("a", "1"),))}}
    assert differences(want, {("Interface", "eth2"): {"options": None}}) == [
        "Interface eth2 options: expected {a='1'}, database empty"
    ]
    assert differences({("Interface", "eth2"): {"options": None}}, want) == [
        "Interface eth2 options: expected empty, database {a='1'}"
    ]


def test_at_most_forty_differences_are_shown_then_how_many_more() -> None:
    def rows(count: int) -> Rows:
        return {("Port", f"p{n}"): {} for n in range(count)}

    forty = differences(rows(40), {})
    assert len(forty) == 40
    assert forty[-1] == "Port p39: expected, not in the database"
    many = differences(rows(43), {})
    assert many[39:] == ["Port p39: expected, not in the database", "... and 3 more differences"]
    assert len(many) == 41


def test_untrusted_names_keys_and_values_are_quoted_and_cut() -> None:
    assert row_label(("Port", "vnet 1\x1b[2J")) == "Port 'vnet 1\\x1b[2J'"
    assert row_label(("Bridge", "-x")) == "Bridge '-x'"
    assert row_label(("Interface", "eth2")) == "Interface eth2"
    assert row_label(("Evil\nTable", "Evil{}")) == "'Evil\\nTable' row Evil{}"
    assert row_label(ROOT_KEY) == "Open_vSwitch (root row)"
    assert differences({("Port", "p"): {"bad col": 1}}, {("Port", "p"): {"bad col": 2}}) == [
        "Port p 'bad col': expected 1, database 2"
    ]
    assert format_value(Nested("T", (("a b", 1),))) == "T{'a b'=1}"
    assert format_value(OvsMap((("k=v", "x"),))) == "{'k=v'='x'}"


def test_values_are_shown_as_ovsdb_writes_them() -> None:
    assert format_value(True) == "true"
    assert format_value(False) == "false"
    assert format_value(None) == "empty"
    assert format_value(OvsMap(()).get("key")) == "absent"
    assert repr(OvsMap(()).get("key")) == "absent"
    assert format_value(1.5) == "1.5"
    assert format_value(-3) == "-3"
    assert format_value(2**63 - 1) == "9223372036854775807"
    assert format_value("a'b") == '"a\'b"'
    assert format_value(frozenset({10, -1, 2, 100})) == "[-1, 2, 10, 100]"
    assert format_value(frozenset({"eth10", "eth2", "br0", "a", "z"})) == "['a', 'br0', 'eth10', 'eth2', 'z']"
    assert format_value(frozenset({True, False})) == "[false, true]"
    assert format_value(frozenset({"10", 9, "9", 10})) == "[9, 10, '10', '9']"  # a malformed dump may mix types
    assert format_value(OvsMap(((1, frozenset({3, 2})), (2, OvsMap((("x", 1),)))))) == "{1=[2, 3], 2={x=1}}"
    assert OvsMap((("a", 1), ("b", 2))).keys == ["a", "b"]
    assert OvsMap((("a", 1), ("b", 2))).get("b") == 2


def test_a_long_value_is_cut_at_its_limit() -> None:
    long = frozenset(range(100, 150))  # "[100, 101, ...]": 5 characters a number
    text = format_value(long)
    assert len(text) == 203
    assert (text[:11], text[-7:]) == ("[100, 101, ", "139,..."), text
    exact = format_value(frozenset(range(100, 140)))  # 40 * 5 - 2 + 2 = 200 characters: not cut
    assert (len(exact), exact[-4:]) == (200, "139]")
    assert format_value(frozenset(range(100, 140)), limit=10) == "[100, 101,..."


BR0: Rows = {("Bridge", "br0"): {"name": "br0", "ports": frozenset({"bond0"})}}


def test_a_bond_row_without_other_config_gets_the_designs_keys_only() -> None:
    """A backup of an older Open vSwitch may lack columns: the design's managed keys are all there is,
    and a column it lacks is as the reference has it."""
    start = {**BR0, ("Port", "bond0"): {"name": "bond0", "bond_updelay": 100}}
    designed = managed_bond(bond_downdelay=200, external_ids=OvsMap((("x", "y"),)))  # host columns the start lacks
    reference = {**BR0, ("Port", "bond0"): designed}
    expected = expected_after_change(start, reference, KINDS, PlanScope(frozenset(), frozenset()))
    assert expected[("Port", "bond0")] == {**designed, "bond_updelay": 100}


def test_maps_with_keys_of_mixed_types_merge_and_compare_in_one_order() -> None:
    """A malformed map may mix numbers and text as keys: numbers come first, as read_rows sorts them."""
    mixed = OvsMap(((7, "n"), ("lacp-time", "slow"), ("z", "1")))
    start = {**BR0, ("Port", "bond0"): {"name": "bond0", "other_config": mixed}}
    reference = {**BR0, ("Port", "bond0"): {"name": "bond0", "other_config": OvsMap((("lacp-time", "fast"),))}}
    expected = expected_after_change(start, reference, KINDS, PlanScope(frozenset(), frozenset()))
    assert expected[("Port", "bond0")]["other_config"] == OvsMap(((7, "n"), ("lacp-time", "fast"), ("z", "1")))
    assert differences(expected, {**start, ROOT_KEY: expected[ROOT_KEY]}) == [
        "Port bond0 other_config:lacp-time: expected 'fast', database 'slow'",
    ]
    assert differences({("Port", "p"): {"m": OvsMap(((7, "a"), ("b", "c")))}}, {("Port", "p"): {"m": OvsMap(())}}) == [
        "Port p m:7: expected 'a', database absent",
        "Port p m:b: expected 'c', database absent",
    ]
