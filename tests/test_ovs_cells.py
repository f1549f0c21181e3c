"""generator.ovs.cells: OVSDB's JSON encoding of a cell, checked (a host's dump) and typed
(a whole database's rows)."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest

from generator.ovs.cells import (
    ABSENT,
    OvsMap,
    atom_order,
    checked_atoms,
    checked_pairs,
    plain_atom,
    set_items,
    tagged,
    typed_value,
)
from generator.ovs.columns import BaseType, ColumnType

UUID = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
OTHER_UUID = "FFFFFFFF-0000-1111-2222-333333333333"
LOW, HIGH = -(2**63), 2**63 - 1

STRING = BaseType("string")
INTEGER = BaseType("integer")
BOOLEAN = BaseType("boolean")
REF = BaseType("uuid", ref_table="Port")


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def refuse(cell: Any, kind: ColumnType, message: str, *, pairs: bool = False) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        (checked_pairs if pairs else checked_atoms)(cell, kind)


# --- the encoding -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (["set", []], True),
        (["set", [1, 2]], True),
        (["map", []], False),  # another tag
        (["set"], False),  # too short
        (["set", [], []], False),  # too long
        (("set", []), False),  # not a JSON array
        ("set", False),
        ([[], "set"], False),
    ],
)
def test_tagged_is_exactly_a_two_element_array_with_the_tag_first(cell: Any, expected: bool) -> None:
    assert tagged(cell, "set") is expected


def test_set_items_unwraps_a_set_and_wraps_a_lone_atom() -> None:
    assert set_items(["set", [1, 2]]) == [1, 2]
    assert set_items(["set", "not a list"]) == "not a list"  # each reader refuses it itself
    assert set_items(7) == [7]
    assert set_items(["uuid", UUID]) == [["uuid", UUID]]
    assert set_items(["set", [1], 2]) == [["set", [1], 2]]


# --- checked against the column's type (a host's dump) ------------------------------


def test_checked_atoms_of_a_set_and_of_a_lone_atom() -> None:
    kind = ColumnType(STRING, min=0, max=None)
    assert checked_atoms(["set", ["b", "a"]], kind) == ["b", "a"]
    assert checked_atoms("a", kind) == ["a"]
    assert checked_atoms(["set", []], kind) == []


def test_checked_atoms_refuses_a_set_that_is_not_an_array() -> None:
    refuse(["set", "ab"], ColumnType(STRING, min=0, max=None), "['set', 'ab'] is not an OVSDB set")


def test_checked_atoms_refuses_a_value_twice() -> None:
    refuse(["set", ["a", "a"]], ColumnType(STRING, min=0, max=None), "['set', ['a', 'a']] holds a value twice")
    assert checked_atoms(["set", ["a", "b"]], ColumnType(STRING, min=0, max=None)) == ["a", "b"]


def test_the_count_of_a_set_is_held_to_the_schema_bounds() -> None:
    kind = ColumnType(INTEGER, min=1, max=2)
    assert checked_atoms(["set", [1]], kind) == [1]
    assert checked_atoms(["set", [1, 2]], kind) == [1, 2]
    allows = "the schema allows at most 2 values and at least 1"
    refuse(["set", []], kind, f"holds 0 values; {allows}")
    refuse(["set", [1, 2, 3]], kind, f"holds 3 values; {allows}")


def test_an_unlimited_set_says_any_number() -> None:
    kind = ColumnType(INTEGER, min=2, max=None)
    assert checked_atoms(["set", list(range(50))], kind) == list(range(50))
    refuse(["set", [1]], kind, "holds 1 values; the schema allows any number of values and at least 2")


def test_a_uuid_atom_is_its_string_kept_once() -> None:
    kind = ColumnType(REF, min=0, max=None)
    built = "".join(UUID)  # an equal string that is not the same object
    atoms = checked_atoms(["set", [["uuid", built], ["uuid", OTHER_UUID]]], kind)
    assert atoms == [UUID, OTHER_UUID]
    assert atoms[0] is sys.intern(UUID)


@pytest.mark.parametrize(
    "atom",
    [
        ["uuid", "not-a-uuid"],
        ["uuid", UUID + "0"],
        ["uuid", "x" + UUID],
        ["uuid", 5],
        ["named-uuid", UUID],
        ["uuid", UUID, "extra"],
        UUID,
    ],
)
def test_anything_else_is_not_a_uuid(atom: Any) -> None:
    refuse(["set", [atom]], ColumnType(REF, min=0, max=None), f"{atom!r} is not a uuid")


def test_integers_default_to_the_64_bit_range() -> None:
    kind = ColumnType(INTEGER, min=0, max=None)
    assert checked_atoms(["set", [LOW, HIGH, 0]], kind) == [LOW, HIGH, 0]
    for item in (LOW - 1, HIGH + 1, True, 1.0, "1"):
        refuse(item, kind, f"{item!r} is not an integer {LOW}-{HIGH}")


def test_integers_are_held_to_the_column_bounds() -> None:
    kind = ColumnType(BaseType("integer", min_integer=1, max_integer=4094))
    assert checked_atoms(1, kind) == [1]
    assert checked_atoms(4094, kind) == [4094]
    refuse(0, kind, "0 is not an integer 1-4094")
    refuse(4095, kind, "4095 is not an integer 1-4094")
    only_low = ColumnType(BaseType("integer", min_integer=0))
    assert checked_atoms(HIGH, only_low) == [HIGH]
    refuse(-1, only_low, f"-1 is not an integer 0-{HIGH}")
    only_high = ColumnType(BaseType("integer", max_integer=0))
    assert checked_atoms(LOW, only_high) == [LOW]
    refuse(1, only_high, f"1 is not an integer {LOW}-0")


def test_booleans_are_true_or_false_only() -> None:
    kind = ColumnType(BOOLEAN)
    assert checked_atoms(True, kind) == [True]
    assert checked_atoms(["set", [False]], kind) == [False]
    for item in (1, 0, "true", None):
        refuse(item, kind, f"{item!r} is not true or false")


def test_strings_are_strings_only() -> None:
    kind = ColumnType(STRING)
    assert checked_atoms("", kind) == [""]
    for item in (5, None, False):
        refuse(item, kind, f"{item!r} is not a string")
    refuse(["set", [["x"]]], kind, "['x'] is not a string")


def test_an_enum_is_held_to_its_values_and_listed_sorted() -> None:
    kind = ColumnType(BaseType("string", enum=frozenset({"secure", "standalone"})))
    assert checked_atoms("secure", kind) == ["secure"]
    refuse("open", kind, "'open' is not one of secure, standalone")
    numbers = ColumnType(BaseType("integer", enum=frozenset({10, 2})))
    assert checked_atoms(2, numbers) == [2]
    refuse(3, numbers, "3 is not one of 10, 2")


def test_checked_pairs_are_checked_and_sorted() -> None:
    kind = ColumnType(STRING, INTEGER, min=0, max=None)
    pairs: tuple[tuple[object, object], ...] = checked_pairs(["map", [["b", 2], ["a", 1]]], kind)
    assert pairs == (("a", 1), ("b", 2))
    assert checked_pairs(["map", []], kind) == ()
    refs = ColumnType(STRING, REF, min=0, max=None)
    assert checked_pairs(["map", [["p", ["uuid", UUID]]]], refs) == (("p", UUID),)


@pytest.mark.parametrize("cell", [["set", []], ["map", "ab"], ["map", [], []], "map", {"map": []}])
def test_checked_pairs_refuses_what_is_not_a_map(cell: Any) -> None:
    kind = ColumnType(STRING, STRING, min=0, max=None)
    refuse(cell, kind, f"{cell!r} is not an OVSDB map", pairs=True)


@pytest.mark.parametrize("pair", [["a"], ["a", "b", "c"], ("a", "b"), "ab"])
def test_checked_pairs_refuses_what_is_not_a_pair(pair: Any) -> None:
    kind = ColumnType(STRING, STRING, min=0, max=None)
    refuse(["map", [["k", "v"], pair]], kind, f"{pair!r} is not a [key, value] pair", pairs=True)


def test_checked_pairs_checks_keys_and_values_by_their_own_types() -> None:
    kind = ColumnType(STRING, INTEGER, min=0, max=None)
    refuse(["map", [[1, 1]]], kind, "1 is not a string", pairs=True)
    refuse(["map", [["a", "b"]]], kind, f"'b' is not an integer {LOW}-{HIGH}", pairs=True)


def test_checked_pairs_refuses_a_key_twice_but_not_a_value_twice() -> None:
    kind = ColumnType(STRING, STRING, min=0, max=None)
    cell = ["map", [["a", "x"], ["a", "y"]]]
    refuse(cell, kind, f"{cell!r} holds a key twice", pairs=True)
    assert checked_pairs(["map", [["a", "x"], ["b", "x"]]], kind) == (("a", "x"), ("b", "x"))


def test_the_count_of_a_map_is_held_to_the_schema_bounds() -> None:
    kind = ColumnType(STRING, STRING, min=1, max=2)
    assert checked_pairs(["map", [["a", "x"]]], kind) == (("a", "x"),)
    assert checked_pairs(["map", [["a", "x"], ["b", "y"]]], kind) == (("a", "x"), ("b", "y"))
    allows = "the schema allows at most 2 values and at least 1"
    refuse(["map", []], kind, f"holds 0 values; {allows}", pairs=True)
    three = ["map", [["a", "x"], ["b", "y"], ["c", "z"]]]
    refuse(three, kind, f"holds 3 values; {allows}", pairs=True)


# --- typed values (a whole database's rows) -------------------------------------------


def test_absent_differs_from_every_value_and_says_so() -> None:
    assert repr(ABSENT) == "absent"
    values: tuple[object, ...] = (None, "", 0, False)
    assert ABSENT not in values


def test_an_ovs_map_gets_by_key_and_lists_its_keys() -> None:
    mapping = OvsMap((("a", 1), ("b", None), ("c", 3)))
    assert mapping.get("a") == 1
    assert mapping.get("b") is None
    assert mapping.get("c") == 3
    assert mapping.get("z") is ABSENT
    assert mapping.keys == ["a", "b", "c"]
    assert OvsMap(()).keys == []


def recorded(calls: list[tuple[Any, BaseType]]) -> Any:
    def atom(item: Any, base: BaseType) -> object:
        calls.append((item, base))
        return ("seen", item) if base.kind == "uuid" else item

    return atom


def test_a_map_cell_becomes_an_ovs_map_sorted_with_each_atom_by_its_own_type() -> None:
    calls: list[tuple[Any, BaseType]] = []
    kind = ColumnType(INTEGER, REF, min=0, max=None)
    value = typed_value(["map", [[10, ["uuid", UUID]], [2, ["uuid", OTHER_UUID]]]], kind, recorded(calls))
    assert value == OvsMap(((2, ("seen", ["uuid", OTHER_UUID])), (10, ("seen", ["uuid", UUID]))))
    assert calls == [(10, INTEGER), (["uuid", UUID], REF), (2, INTEGER), (["uuid", OTHER_UUID], REF)]


def test_a_map_of_a_malformed_dump_with_keys_of_two_types_still_sorts() -> None:
    """Numbers first by value, then the rest by text; values are never compared."""
    kind = ColumnType(STRING, STRING, min=0, max=None)
    cell = ["map", [["b", {"x": 1}], [10, {"y": 2}], [True, None], ["a", 3]]]
    value = typed_value(cell, kind, lambda item, base: item)
    assert value == OvsMap(((True, None), (10, {"y": 2}), ("a", 3), ("b", {"x": 1})))


def test_a_map_column_refuses_a_cell_that_is_not_a_map() -> None:
    kind = ColumnType(STRING, STRING, min=0, max=None)
    with pytest.raises(ValueError, match=exactly("['set', []] is not a map")):
        typed_value(["set", []], kind, recorded([]))


def test_a_scalar_or_optional_set_becomes_its_atom_or_none() -> None:
    calls: list[tuple[Any, BaseType]] = []
    assert typed_value(5, ColumnType(INTEGER), recorded(calls)) == 5
    assert typed_value(["set", [7]], ColumnType(INTEGER, min=0), recorded(calls)) == 7
    assert typed_value(["set", []], ColumnType(INTEGER, min=0), recorded(calls)) is None
    assert calls == [(5, INTEGER), (7, INTEGER)]


def test_any_other_set_becomes_a_frozenset() -> None:
    atom = recorded([])
    assert typed_value(["set", [1, 2, 1]], ColumnType(INTEGER, min=0, max=None), atom) == frozenset({1, 2})
    assert typed_value(["set", [1]], ColumnType(INTEGER, min=0, max=2), atom) == frozenset({1})
    assert typed_value(["set", []], ColumnType(INTEGER, min=0, max=None), atom) == frozenset()
    assert typed_value("a", ColumnType(STRING, min=0, max=None), atom) == frozenset({"a"})


def test_a_plain_atom_is_anything_but_an_array() -> None:
    for item in ("a", 1, True, None, 1.5):
        assert plain_atom(item) is item
    with pytest.raises(ValueError, match=exactly("['set', []] is not an atom")):
        plain_atom(["set", []])


def test_atoms_sort_numbers_by_value_then_the_rest_by_text() -> None:
    assert atom_order(3) == (False, 3)
    assert atom_order(True) == (False, True)
    assert atom_order(1.5) == (False, 1.5)
    assert atom_order("b") == (True, "b")
    assert atom_order(None) == (True, "None")
    assert sorted([10, "b", 2, 1.5, "a", False], key=atom_order) == [False, 1.5, 2, 10, "a", "b"]
