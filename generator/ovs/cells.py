"""OVSDB's JSON encoding of a cell (RFC 7047, 5.1), decoded: one decoder, read two ways.

A cell is an atom, a set (["set", [atom, ...]]; a set of one atom may be written as the
atom) or a map (["map", [[key, value], ...]]); a uuid atom is ["uuid", "..."]. `tagged`
and `set_items` recognise that encoding for both readers:

- a host's dump (generator.ovs.hostdump) comes from a host that may be compromised: every
  cell is checked against its column's type (`checked_atoms`, `checked_pairs`), and what is
  wrong is said in a ValueError;
- a whole database's rows (generator.ovs.dbrows) are dumped by the ovsdb-server ovsgen runs
  on a backup, which checked each cell against the backup's own schema (one that may hold
  types and columns COLUMNS does not) when it loaded it: cells become typed values
  (`typed_value`: an integer stays an integer, a set a frozenset, a map an OvsMap), with
  only their shape checked and references resolved by the caller.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.ovs.columns import BaseType, ColumnType
from generator.ovs.untrusted_text import shown

_INT64_MAX = 2**63 - 1  # OVSDB integers are 64-bit
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def tagged(cell: Any, tag: str) -> bool:
    """Whether `cell` is the two-element array [tag, ...] OVSDB writes a set, map or uuid as."""
    return isinstance(cell, list) and len(cell) == 2 and cell[0] == tag


def set_items(cell: Any) -> Any:
    """What a set cell holds: the second element of ["set", ...], or the cell itself as the one
    atom of a set. Not checked to be an array: each reader refuses that in its own words."""
    return cell[1] if tagged(cell, "set") else [cell]


# --- checked against the column's type (a host's dump) ------------------------------


def checked_atoms(cell: Any, kind: ColumnType) -> list[Any]:
    """The atoms of a set (or single-value) cell of type `kind`; ValueError for anything else."""
    items = set_items(cell)
    if not isinstance(items, list):
        raise ValueError(f"{shown(cell)} is not an OVSDB set")
    _check_count(len(items), kind)
    atoms = [_checked_atom(item, kind.key) for item in items]
    if len(set(atoms)) != len(atoms):
        raise ValueError(f"{shown(cell)} holds a value twice")
    return atoms


def checked_pairs(cell: Any, kind: ColumnType) -> tuple[tuple[str, str], ...]:
    """The entries of a map cell of type `kind`, sorted; ValueError for anything else."""
    assert kind.value is not None
    if not (tagged(cell, "map") and isinstance(cell[1], list)):
        raise ValueError(f"{shown(cell)} is not an OVSDB map")
    pairs = []
    for pair in cell[1]:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"{shown(pair)} is not a [key, value] pair")
        pairs.append((_checked_atom(pair[0], kind.key), _checked_atom(pair[1], kind.value)))
    _check_count(len(pairs), kind)
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError(f"{shown(cell)} holds a key twice")
    return tuple(sorted(pairs))


def _check_count(count: int, kind: ColumnType) -> None:
    most = "any number of" if kind.max is None else f"at most {kind.max}"
    if count < kind.min or (kind.max is not None and count > kind.max):
        raise ValueError(f"holds {count} values; the schema allows {most} values and at least {kind.min}")


def _checked_atom(item: Any, base: BaseType) -> Any:
    """`item` if it is an atom of type `base` (uuids as their string); ValueError otherwise."""
    if base.kind == "uuid":
        if tagged(item, "uuid") and isinstance(item[1], str) and _UUID.fullmatch(item[1]):
            return sys.intern(item[1])  # a row's uuid and every reference to it: one string kept
        raise ValueError(f"{shown(item)} is not a uuid")
    # The kinds COLUMNS has: no column ovsgen reads is real, or limits a string's length.
    checks = {"integer": _integer, "string": _string, "boolean": _boolean}
    checks[base.kind](item, base)
    if base.enum is not None and item not in base.enum:
        raise ValueError(f"{shown(item)} is not one of {', '.join(sorted(map(str, base.enum)))}")
    return item


def _integer(item: Any, base: BaseType) -> None:
    low = base.min_integer if base.min_integer is not None else -_INT64_MAX - 1
    high = base.max_integer if base.max_integer is not None else _INT64_MAX
    if type(item) is not int or not low <= item <= high:  # bool is an int in Python, not in JSON
        raise ValueError(f"{shown(item)} is not an integer {low}-{high}")


def _boolean(item: Any, _base: BaseType) -> None:
    if type(item) is not bool:
        raise ValueError(f"{shown(item)} is not true or false")


def _string(item: Any, _base: BaseType) -> None:
    if not isinstance(item, str):
        raise ValueError(f"{shown(item)} is not a string")


# --- typed values (a whole database's rows) -------------------------------------------


class Absent:
    """A map key the map does not have (differs from any value the key could have)."""

    def __repr__(self) -> str:
        return "absent"


ABSENT = Absent()


@dataclass(frozen=True)
class OvsMap:
    """A map column's value: its (key, value) pairs, sorted by key."""

    pairs: tuple[tuple[object, object], ...]

    def get(self, key: object) -> object:
        return next((value for found, value in self.pairs if found == key), ABSENT)

    @property
    def keys(self) -> list[object]:
        return [key for key, _ in self.pairs]


# Turns one atom of a cell into its value, given the atom's type (a reference into a name, say).
AtomValue = Callable[[Any, BaseType], object]


def typed_value(cell: Any, kind: ColumnType, atom: AtomValue) -> object:
    """A cell as a value of its type `kind`: a map an OvsMap, a set of at most one atom that
    atom (None when empty), any other set a frozenset; each atom as `atom` gives it. Only the
    shape is checked (ValueError, or the TypeError or IndexError of a cell of another shape)."""
    if kind.value is not None:
        if not tagged(cell, "map"):
            raise ValueError(f"{shown(cell)} is not a map")
        value_type = kind.value
        pairs = [(atom(key, kind.key), atom(value, value_type)) for key, value in cell[1]]
        return OvsMap(tuple(sorted(pairs, key=lambda pair: atom_order(pair[0]))))
    values = [atom(item, kind.key) for item in set_items(cell)]
    if kind.max == 1:  # a scalar, or an optional value: the atom itself, or None when empty
        return values[0] if values else None
    return frozenset(values)


def plain_atom(item: Any) -> object:
    """An atom that is not a uuid, as it is (an array there is a set or map where an atom belongs)."""
    if isinstance(item, list):
        raise ValueError(f"{shown(item)} is not an atom")
    return item


def atom_order(value: object) -> tuple[bool, float | str]:
    """Sorts atoms of one column: numbers (booleans too) by value, then anything else by its text
    (a column's atoms have one type, but a malformed dump may mix them)."""
    if isinstance(value, int | float):
        return (False, value)
    return (True, str(value))
