"""What a rehearsal may start from: an old design, or a host's database made with
`ovsdb-client backup`. A backup is refused unless it is a standalone Open_vSwitch database
of the usual size, with Open vSwitch's schema and a host's Open_vSwitch row: checked before
any script runs, since a schema of its own could let any text into a script.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from generator.changes.rehearse_ovsdb import PrivateOvsdb, Tools
from generator.errors import DumpInvalid
from generator.ovs.columns import COLUMNS, ColumnType, column_type
from generator.ovs.dbrows import ROOT
from generator.ovs.hostdump import MAX_DUMP_BYTES, load_dump
from generator.ovs.untrusted_text import shown


def is_database_file(path: Path) -> bool:
    """An OVSDB file (standalone or clustered) starts with its magic word; a design does not."""
    with path.open("rb") as handle:
        return handle.read(5) == b"OVSDB"


_TAKES = "rehearse starts from an old design or a host's database made with: ovsdb-client backup"


def not_a_start(path: Path) -> str:
    """What to say of a first file that is neither a database, a dump nor a valid design (the
    design's own problems are reported before this)."""
    return f"{path} is neither a valid design nor an OVSDB database; {_TAKES}; nothing was rehearsed"


def dump_not_database(path: Path) -> str | None:
    """What to say when the first file is a host dump (`ovsdb-client dump --format=json`), the
    input of `plan --from-host`, instead of a database; None when it is no dump. Told before the
    file is read as a design, whose YAML errors about a JSON dump would only mislead."""
    try:
        load_dump(path)
    except DumpInvalid:
        return None
    return (
        f"{path} is a dump (ovsdb-client dump --format=json), not a database; {_TAKES} "
        "(a dump is for: ovsgen plan --from-host); nothing was rehearsed"
    )


def refuse_foreign_backup(start: Path, tools: Tools) -> None:
    """Refuse a backup that is not a standalone Open_vSwitch database of the usual size.

    A clustered file would have the private server contact the servers it names; a schema of
    its own could make Port.tag a string; neither may reach a script. Checked with ovsdb-tool
    before any server starts.
    """
    name = str(start)
    size = start.stat().st_size
    if size > MAX_DUMP_BYTES:
        raise DumpInvalid.at(
            name, 1, 1, f"the backup is {size} bytes; ovsgen rehearses backups of up to {MAX_DUMP_BYTES} bytes"
        )
    tool = tools.paths["ovsdb-tool"]
    try:
        subprocess.run([tool, "db-is-standalone", str(start)], capture_output=True, check=True)
    except subprocess.CalledProcessError:
        raise DumpInvalid.at(
            name, 1, 1, "not a standalone OVSDB database (make it with: ovsdb-client backup)"
        ) from None
    try:
        named = subprocess.run([tool, "db-name", str(start)], capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as error:
        raise DumpInvalid.at(
            name, 1, 1, f"ovsdb-tool cannot read the database's name: {shown(error.stderr.strip())}"
        ) from None
    if named.stdout.strip() != "Open_vSwitch":
        raise DumpInvalid.at(name, 1, 1, f"the database is {shown(named.stdout.strip())}, not Open_vSwitch")


def refuse_foreign_schema(start: Path, server: PrivateOvsdb) -> None:
    """Refuse a backup whose schema gives a column ovsgen reads another type than vswitch.ovsschema."""
    installed = json.loads(server.tools.schema.read_text())
    served = server.schema()
    for table, columns in COLUMNS.items():
        for column in columns:
            want, have = _schema_type(installed, table, column), _schema_type(served, table, column)
            if _parsed(have) is None or _parsed(have) != _parsed(want):
                raise DumpInvalid.at(
                    str(start),
                    1,
                    1,
                    f"the database's schema is not Open vSwitch's: {table}.{column} has type {shown(have)}, "
                    f"where {server.tools.schema} has {shown(want)}",
                )


def refuse_hostless_database(start: Path, server: PrivateOvsdb) -> None:
    """Refuse a database without the Open_vSwitch row every host has (ovs-vswitchd makes it): one
    made with `ovsdb-tool create`, say, is no host's, and a rehearsal from it would fail for that."""
    _, rows = server.snapshot(f"{start} (read back by ovsdb-client dump)")
    if not any(table == ROOT for table, _ in rows):
        raise DumpInvalid.at(
            str(start),
            1,
            1,
            "the database has no Open_vSwitch row, so it is no host's database "
            "(make it on the host with: ovsdb-client backup)",
        )


def _schema_type(schema: object, table: str, column: str) -> object:
    """A column's type as a schema's JSON spells it; None if the schema has no such column."""
    found = schema
    for key in ("tables", table, "columns", column, "type"):
        if not isinstance(found, dict) or key not in found:
            return None
        found = found[key]
    return found


def _parsed(spec: object) -> ColumnType | None:
    try:
        return column_type(spec)
    except (KeyError, TypeError, ValueError):
        return None
