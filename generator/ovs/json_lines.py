"""One line of a host's dump, a JSON object read a value at a time, with errors located in it.

A table's line holds all its rows: a large host's Port table is one line of many megabytes.
`object_members` reads the object's members but leaves its `data` undecoded, and `walk` decodes an
array an element at a time, so that no table's rows ever all sit in memory. Every error is a
DumpInvalid at the line and the character where the offending value starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.errors import DumpInvalid
from generator.ovs.untrusted_text import shown


@dataclass(frozen=True)
class Where:
    """A line of the dump, to locate what is wrong in it."""

    file: str
    line: int
    text: str

    def fail(self, offset: int, message: str) -> DumpInvalid:
        return DumpInvalid.at(self.file, self.line, offset + 1, message)


_DECODER = json.JSONDecoder()
_NOT_SPACE = re.compile(r"[^ \t\n\r]")  # JSON's white space


def skip(text: str, position: int) -> int:
    """The position of the first character at or after `position` that is not white space."""
    found = _NOT_SPACE.search(text, position)
    return found.start() if found else len(text)


def decode(where: Where, position: int) -> tuple[Any, int]:
    """The JSON value at `position` and where it ends; a located error for bad JSON, a
    5,000-digit number (ValueError) or nesting deep enough to exhaust the stack."""
    try:
        return _DECODER.raw_decode(where.text, position)
    except json.JSONDecodeError as error:
        raise where.fail(error.pos, f"not JSON: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        raise where.fail(position, f"not a value ovsgen reads: {shown(str(error))}") from None


def expect(where: Where, position: int, char: str, what: str) -> int:
    """The position after `char` at `position` (after white space)."""
    position = skip(where.text, position)
    if where.text[position : position + 1] != char:
        raise where.fail(position, f"expected {what}")
    return skip(where.text, position + 1)


def walk(where: Where, position: int, visit: Callable[[int, int, Any], None]) -> tuple[int, int]:
    """Decode the JSON array at `position` one element at a time, calling `visit(index, offset,
    element)` for each; the position after the array and how many elements it has."""
    text = where.text
    position = expect(where, position, "[", "an array")
    index = 0
    while text[position : position + 1] != "]":
        if index:
            position = expect(where, position, ",", "',' or ']' in an array")
        value, end = decode(where, position)
        visit(index, position, value)
        index += 1
        position = skip(text, end)
    return position + 1, index


def _ignore(_index: int, _offset: int, _value: Any) -> None:
    """A visitor that keeps nothing: the first pass only checks the JSON."""


def object_members(where: Where) -> dict[str, tuple[int, Any]]:
    """The members of the line's JSON object (offset and value). `data` is checked a row at a time
    and left undecoded, its value the number of rows: its rows never all sit in memory."""
    text = where.text
    start = skip(text, 0)
    if text[start : start + 1] != "{":
        raise where.fail(start, "not a line of 'ovsdb-client dump --format=json' output (not a JSON object)")
    position = skip(text, start + 1)
    found: dict[str, tuple[int, Any]] = {}
    while text[position : position + 1] != "}":
        if found:
            position = expect(where, position, ",", "',' or '}' in an object")
        key, end = decode(where, position)
        if not isinstance(key, str):
            raise where.fail(position, "expected a member name")
        start = expect(where, end, ":", "':'")
        if key == "data":
            end, rows = walk(where, start, _ignore)
            found[key] = (start, rows)
        else:
            value, end = decode(where, start)
            found[key] = (start, value)
        position = skip(text, end)
    if skip(text, position + 1) != len(text):
        raise where.fail(skip(text, position + 1), "unexpected text after the object")
    return found
