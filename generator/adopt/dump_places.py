"""Where each named row of a dump starts (line, column), to locate what import cannot take.

Read only when a host has something to report, from a dump generator.ovs.hostdump has already
checked, one table line at a time as it does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.ovs.json_lines import Where, object_members, walk

Places = dict[tuple[str, str], tuple[int, int]]  # (table, name) -> (line, column)


# The dump was read and checked before (generator.ovs.hostdump): nothing here fails, so nothing
# here names the file.
_CHECKED = ""


def row_places(path: Path) -> Places:
    places: Places = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.decode()  # UTF-8, as the dump was checked to be
            if line.strip():
                _table_places(Where(_CHECKED, number, line), places)
    return places


def _table_places(where: Where, places: Places) -> None:
    members = object_members(where)
    table = str(members["caption"][1]).removesuffix(" table")
    headings = members["headings"][1]
    if "name" not in headings:
        return
    index = headings.index("name")

    def visit(_number: int, offset: int, cells: Any) -> None:
        name = cells[index]
        if isinstance(name, str):
            places[(table, name)] = (where.line, offset + 1)

    walk(where, members["data"][0], visit)
