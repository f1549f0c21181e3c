"""The value of a YAML scalar under the YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).

`off` and `yes` are strings, as YAML 1.2 says (PyYAML's own resolver follows YAML 1.1);
numbers are bounded in length; an explicit tag must fit its value. The loader
(generator.design.loader) calls this for every scalar of a design, so the common case,
a plain scalar that is text, costs one character lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

TAG = "tag:yaml.org,2002:"  # the prefix of YAML's standard tags (!!str is TAG + "str")

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {".inf": "inf", "+.inf": "inf", "-.inf": "-inf", ".nan": "nan"}
_NOT_ONLY_TEXT = frozenset("~nNtTfF-+.0123456789")  # first characters of nulls, bools and numbers
# Numbers in a design are VLANs, MTUs and milliseconds: a literal this long is a mistake or an
# attack, and Python refuses to convert decimal integers of more than 4300 digits.
MAX_NUMBER_LENGTH = 40
# What an explicit tag other than !!str asks for, and the type its value must resolve to.
_TAGGED_TYPES: dict[str, type] = {TAG + "int": int, TAG + "float": float, TAG + "bool": bool, TAG + "null": type(None)}


class ScalarRefused(Exception):
    """A scalar that has no value in a design; its message says why, and `stand_in` takes its
    place while the loader goes on to find the design's other problems."""

    def __init__(self, message: str, stand_in: Any) -> None:
        super().__init__(message)
        self.stand_in = stand_in


def resolve_plain(text: str) -> Any:
    """A plain (untagged, unquoted) scalar: null, a boolean, a number, or text."""
    if text and text[0] not in _NOT_ONLY_TEXT:
        return text  # the common case (names, speeds, addresses): no null, bool or number starts so
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    for pattern, convert in _NUMBERS:
        if pattern.match(text):
            if len(text) > MAX_NUMBER_LENGTH:
                message = f"a number of {len(text)} characters is out of range (at most {MAX_NUMBER_LENGTH})"
                raise ScalarRefused(message, None)
            return convert(text)
    if text.lower() in _SPECIAL_FLOAT:
        return float(_SPECIAL_FLOAT[text.lower()])
    return text


def resolve_tagged(text: str, tag: str | None) -> Any:
    """A quoted scalar or one with an explicit tag: text, or the value the tag names."""
    # An explicit `!` (the non-specific tag) makes a scalar text, as YAML 1.2 says.
    if tag in (None, "!", TAG + "str"):
        return text
    constructed = resolve_plain(text)
    if tag in _TAGGED_TYPES and type(constructed) is _TAGGED_TYPES[tag]:
        return constructed
    if tag == TAG + "float" and type(constructed) is int:
        return float(constructed)
    raise ScalarRefused(f"unsupported YAML tag '{tag}' for the value '{text}'", text)


_NUMBERS: tuple[tuple[re.Pattern[str], Callable[[str], int | float]], ...] = (
    (_INT, int),
    (_OCT, lambda text: int(text[2:], 8)),
    (_HEX, lambda text: int(text[2:], 16)),
    (_FLOAT, float),
)
