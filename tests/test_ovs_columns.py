"""The column sets of generator.ovs agree with each other: COLUMNS (what a host's dump is read
for, with the schema's types), HOST_COLUMNS (the columns no design manages, which plans keep and
restore), managed_columns (what a design sets) and VSWITCHD_COLUMNS (status a whole database's
rows leave out). Each case pins an assumption the readers and plans make without checking it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.ovs.cells import checked_atoms
from generator.ovs.columns import BRIDGE_REFERENCES, COLUMNS, REQUIRED, VSWITCHD_COLUMNS, column_type
from generator.ovs.dump_rows import READERS
from generator.ovs.hostdump import OPTIONAL_TABLES, TABLES
from generator.ovs.state import HOST_COLUMNS, managed_columns
from generator.ovs.untrusted_text import plain_text
from tests.conftest import require_file

# Every kind a row can have for managed_columns: a port's PortState.kind, "" for a bridge or an
# interface, "internal" for an internal interface.
ROW_KINDS = ("", "bridge", "bond", "nic", "internal", "other")

HOST = [(table, column) for table, columns in HOST_COLUMNS.items() for column in columns]


def whole_columns(columns: frozenset[str]) -> set[str]:
    """The columns named whole, and those of which a map key is named (`column:key`)."""
    return {column.partition(":")[0] for column in columns}


def test_the_dump_reader_reads_every_table_it_has_columns_for() -> None:
    assert set(TABLES + OPTIONAL_TABLES) == set(COLUMNS) == set(REQUIRED) == set(READERS)
    for table, required in REQUIRED.items():
        assert set(required) <= set(COLUMNS[table]), table


@pytest.mark.parametrize(("table", "column"), HOST)
def test_every_host_column_is_read_from_the_dump(table: str, column: str) -> None:
    """The dump reader takes a host column's type from COLUMNS: one missing there is never read."""
    assert column in COLUMNS[table]


@pytest.mark.parametrize(("table", "column"), HOST)
def test_a_host_columns_default_is_a_new_rows_value_of_its_type(table: str, column: str) -> None:
    """Empty sets and maps are (), an unset optional value "", a required one a value of its type
    that the dump reader would accept: a column left at its default is not carried over."""
    kind, default = COLUMNS[table][column], HOST_COLUMNS[table][column]
    if kind.value is not None or kind.max is None or kind.max > 1:
        assert default == ()
    elif kind.min == 0:
        assert default == ""
    else:
        assert type(default) is {"integer": int, "boolean": bool, "string": str}[kind.key.kind]
        assert checked_atoms(default, kind) == [default]


@pytest.mark.parametrize(("table", "column"), HOST)
def test_a_host_map_column_maps_strings_to_strings(table: str, column: str) -> None:
    """Host maps are read as text pairs and written back as `column:key=value` words."""
    kind = COLUMNS[table][column]
    if kind.value is not None:
        assert (kind.key.kind, kind.value.kind) == ("string", "string")


@pytest.mark.parametrize(("table", "column"), HOST)
def test_every_value_a_host_string_column_allows_is_plain_text(table: str, column: str) -> None:
    """A host column's single string is refused unless plain text (ovs-vsctl reads it unquoted):
    a value the schema allows there must pass, or a host holding it could not be read at all."""
    kind = COLUMNS[table][column]
    if kind.value is None and kind.max == 1 and kind.key.kind == "string":
        assert plain_text(str(HOST_COLUMNS[table][column]), "type")
        assert all(plain_text(str(member), "type") for member in kind.key.enum or ())


@pytest.mark.parametrize("kind", ROW_KINDS)
@pytest.mark.parametrize("table", sorted(HOST_COLUMNS))
def test_no_column_is_both_the_designs_and_the_hosts(table: str, kind: str) -> None:
    """A plan sets what the design manages and carries the host's columns over: never both.
    (A map may be both: the design manages some of its keys, the host the others.)"""
    managed = {column for column in managed_columns(table, kind) if ":" not in column}
    assert managed.isdisjoint(HOST_COLUMNS[table])


@pytest.mark.parametrize("kind", ROW_KINDS)
@pytest.mark.parametrize("table", sorted(HOST_COLUMNS))
def test_what_a_design_manages_is_read_from_the_dump(table: str, kind: str) -> None:
    """Plans compare what the design manages with the host's dump: each such column is read,
    and a managed map key belongs to a map column."""
    for column in managed_columns(table, kind):
        name, colon, _ = column.partition(":")
        assert name in COLUMNS[table], column
        assert not colon or COLUMNS[table][name].value is not None, column


@pytest.mark.parametrize("table", sorted(VSWITCHD_COLUMNS))
def test_what_a_rehearsal_leaves_out_is_nothing_a_plan_reads_writes_or_restores(table: str) -> None:
    """A rehearsal does not compare VSWITCHD_COLUMNS: a column plans read, set or carry over
    among them would go unchecked."""
    status = VSWITCHD_COLUMNS[table]
    assert status.isdisjoint(COLUMNS.get(table, {}))
    assert status.isdisjoint(HOST_COLUMNS.get(table, {}))
    for kind in ROW_KINDS:
        assert status.isdisjoint(whole_columns(managed_columns(table, kind)))


def test_the_references_that_stop_a_bridge_removal_are_read_with_their_tables() -> None:
    for column, (table, most) in BRIDGE_REFERENCES.items():
        kind = COLUMNS["Bridge"][column]
        assert (kind.key.kind, kind.key.ref_table, kind.min, kind.max) == ("uuid", table, 0, most)


def test_the_column_sets_match_the_installed_schema() -> None:
    """Every table VSWITCHD_COLUMNS names is Open vSwitch's, and every host column is a column of
    its table that the database keeps (not ephemeral), of the type COLUMNS gives it."""
    schema = json.loads(
        require_file(Path("/usr/share/openvswitch/vswitch.ovsschema"), "openvswitch-common").read_text()
    )
    tables = schema["tables"]
    assert set(VSWITCHD_COLUMNS) <= set(tables)
    for table, column in HOST:
        spec = tables[table]["columns"][column]
        assert not spec.get("ephemeral"), f"{table}.{column}"
        assert column_type(spec["type"]) == COLUMNS[table][column], f"{table}.{column}"
