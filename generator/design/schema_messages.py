"""Explain schema errors: jsonschema's errors, each turned into a sentence for people.

jsonschema's own messages are written for programmers ("'x' does not match
'^[A-Za-z0-9_]...'"); this module turns each error into a sentence for the
person who wrote the YAML, located at the offending key or value. It is only
imported when the fast check in generator.design.schema finds a design invalid.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from generator.design.loader import SourceDocument
from generator.design.schema_file import FORMAT_CHECKS, schema_document
from generator.diagnostics import DesignPath, Diagnostic


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(check)
    return checker


def _is_integer(_checker: object, value: object) -> bool:
    # JSON Schema counts 10.0 as an integer; a VLAN of 10.0 would render "tag=10.0".
    return isinstance(value, int) and not isinstance(value, bool)


_Validator = validators.extend(  # type: ignore[no-untyped-call]  # untyped in jsonschema
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def _validator() -> Validator:
    # Built for each design it explains: that costs microseconds, and an invalid design is
    # explained once. The schema itself is checked against the metaschema by the tests.
    validator: Validator = _Validator(schema_document(), format_checker=_format_checker())
    return validator


PROBLEM_LIMIT = 1000  # schema problems found in one design before the check stops


def explain_schema_errors(document: SourceDocument) -> list[Diagnostic]:
    """Every schema problem in the document, one located diagnostic each."""
    found: dict[tuple[int, int, str], Diagnostic] = {}
    for error in _validator().iter_errors(document.data):
        for diagnostic in _explain(document, error):
            found.setdefault((diagnostic.line, diagnostic.column, diagnostic.message), diagnostic)
        if len(found) >= PROBLEM_LIMIT:
            # A design this broken (or made to flood a CI log) is not worth minutes of checking.
            stopped = document.diagnostic(
                (), f"the schema check stopped after {PROBLEM_LIMIT} problems; fix these first"
            )
            return [*found.values(), stopped]
    return list(found.values())


def _explain(document: SourceDocument, error: ValidationError) -> Iterator[Diagnostic]:
    """Turn one jsonschema error into diagnostics, descending into oneOf/anyOf."""
    path: DesignPath = tuple(error.absolute_path)
    if error.validator in ("oneOf", "anyOf"):
        branch_errors = _matching_branch_errors(error)
        if branch_errors is not None:
            for sub in branch_errors:
                yield from _explain(document, sub)
            return
        yield document.diagnostic(path, f"{_show(error.instance)} is not {_alternatives(error)}")
        return
    if error.validator == "additionalProperties":
        yield from _unknown_keys(document, path, error)
        return
    if "propertyNames" in error.relative_schema_path:
        key_path = (*path, str(error.instance))
        yield document.diagnostic(key_path, f"key {_message(error)}", key=True)
        return
    yield document.diagnostic(path, _message(error))


def _matching_branch_errors(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the one alternative whose type fits the value, if exactly one does.

    For `uplinks: {mode: active-bakup}` the object form is clearly meant, so its
    errors are the useful ones, not "is not a string".
    """
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branch = sub.relative_schema_path[0]
        assert isinstance(branch, int)
        by_branch.setdefault(branch, []).append(sub)
    fitting = [
        errors
        for errors in by_branch.values()
        if not any(e.validator == "type" and not e.relative_path for e in errors)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _alternatives(error: ValidationError) -> str:
    options = error.validator_value
    assert isinstance(options, list)  # oneOf/anyOf take a list of schemas
    return " or ".join(_expectation(_resolve(option)) for option in options)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = schema_document()["$defs"][ref.removeprefix("#/$defs/")]
        return resolved
    return schema


def _expectation(schema: dict[str, Any]) -> str:
    if "x-expects" in schema:
        return str(schema["x-expects"])
    if "const" in schema:
        return _show(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(_show(v) for v in schema["enum"])
    if schema.get("type") == "object":
        return "a mapping"
    if schema.get("type") == "array":
        return "a list"
    return str(schema["description"]).removesuffix(".").lower() if "description" in schema else "valid"


def _unknown_keys(document: SourceDocument, path: DesignPath, error: ValidationError) -> Iterator[Diagnostic]:
    declared = _leaf(error).schema.get("properties", {})
    allowed = sorted(declared)
    instance = error.instance
    assert isinstance(instance, dict)
    for key in instance:
        if key in declared:
            continue
        hint = _did_you_mean(key, allowed)
        known = f"; known keys: {', '.join(allowed)}" if allowed and not hint else ""
        yield document.diagnostic((*path, key), f"unknown key '{_shortened(key)}'{hint}{known}", key=True)


def _did_you_mean(value: str, options: list[str]) -> str:
    if len(value) > SHOWN_LIMIT:
        return ""  # nothing that long is a typo of a keyword, and difflib's cost grows with it
    close = difflib.get_close_matches(value, options)  # the closest first
    return f" (did you mean '{close[0]}'?)" if close else ""


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


_KINDS: tuple[tuple[type, str], ...] = (
    (type(None), "nothing"),
    (bool, "a boolean"),  # before int: bool is an int subclass
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "a list"),
)


def _kind_of(value: object) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), "a mapping")


# A value is shown whole up to this many characters; a longer one by its start and length,
# so that a 15 MiB value gives a one-line message.
SHOWN_LIMIT = 80


def _shortened(text: str) -> str:
    return text if len(text) <= SHOWN_LIMIT else f"{text[: SHOWN_LIMIT - 20]}... ({len(text)} characters)"


def _show(value: object) -> str:
    if isinstance(value, str):
        if len(value) > SHOWN_LIMIT:
            return f"{value[: SHOWN_LIMIT - 20]!r}... ({len(value)} characters)"
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return _kind_of(value)


@dataclass(frozen=True)
class _Leaf:
    """The parts of a jsonschema error a message is made from."""

    value: Any
    bound: Any
    schema: dict[str, Any]


def _leaf(error: ValidationError) -> _Leaf:
    assert isinstance(error.schema, dict)  # keywords sit in object schemas, never in true/false
    return _Leaf(error.instance, error.validator_value, error.schema)


def _type_message(leaf: _Leaf) -> str:
    wanted = leaf.bound if isinstance(leaf.bound, list) else [leaf.bound]
    expected = " or ".join(_TYPE_NAMES[t] for t in wanted)  # JSON Schema has these seven types only
    got = _kind_of(leaf.value)
    if isinstance(leaf.value, (str, int, float)):  # a scalar is shown too ("a string '10'"), not "a list a list"
        got = f"{got} {_show(leaf.value)}"
    return f"expected {expected}, got {got}"


def _enum_message(leaf: _Leaf) -> str:
    options = ", ".join(_show(v) for v in leaf.bound)
    hint = _did_you_mean(leaf.value, [str(v) for v in leaf.bound]) if isinstance(leaf.value, str) else ""
    return f"{_show(leaf.value)} is not one of {options}{hint}"


def _not_expected(leaf: _Leaf) -> str:
    return f"{_show(leaf.value)} is not {_expectation(leaf.schema)}"


def _range_message(leaf: _Leaf) -> str:
    low, high = leaf.schema.get("minimum"), leaf.schema.get("maximum")
    if low is not None and high is not None:
        return f"{_show(leaf.value)} is outside {low}-{high}"
    side = "minimum" if low is not None else "maximum"
    return f"{_show(leaf.value)} is beyond the {side} of {leaf.bound}"


def _too_long(leaf: _Leaf) -> str:
    return f"{_show(leaf.value)} is too long: {len(leaf.value)} characters, at most {leaf.bound}"


def _required_message(leaf: _Leaf) -> str:
    missing = [key for key in leaf.bound if key not in leaf.value]
    plural = "s" if len(missing) > 1 else ""
    return f"missing required key{plural} " + ", ".join(f"'{key}'" for key in missing)


def _at_least(leaf: _Leaf) -> str:
    return f"needs at least {leaf.bound} entr{'y' if leaf.bound == 1 else 'ies'}"


def _at_most(leaf: _Leaf) -> str:
    return f"has {len(leaf.value)} entries, at most {leaf.bound} allowed"


def _unique_message(leaf: _Leaf) -> str:
    return f"{_show(_first_duplicate(leaf.value))} is listed more than once"


_MESSAGES: dict[str, Callable[[_Leaf], str]] = {
    "type": _type_message,
    "enum": _enum_message,
    "const": _not_expected,
    "pattern": _not_expected,
    "format": _not_expected,
    "minLength": _not_expected,
    "minimum": _range_message,
    "maximum": _range_message,
    "maxLength": _too_long,
    "required": _required_message,
    "minItems": _at_least,
    "minProperties": _at_least,
    "maxItems": _at_most,
    "uniqueItems": _unique_message,
}


def _message(error: ValidationError) -> str:
    """One sentence about one leaf error."""
    explain = _MESSAGES.get(str(error.validator))
    text = explain(_leaf(error)) if explain else str(error.message)
    return text + _uplink_hint(error)


# What people coming from Linux bonding or switch configs write for LACP.
LACP_WORDS = frozenset({"lacp", "802.3ad"})
# The shorthand as people mistype it: "2x10Gb", "2 x 25g", "2x10GbE lacp".
_LOOSE_SHORTHAND = re.compile(r"\s*(\d+)\s*[x*]\s*(\d+)\s*g(?:bps|bit|be|b)?\s*(.*?)\s*", re.IGNORECASE)


def _uplink_hint(error: ValidationError) -> str:
    """What was probably meant, for a mistyped uplink shorthand or a long-form `mode: lacp`."""
    value = error.instance
    if not isinstance(value, str) or len(value) > SHOWN_LIMIT:
        return ""
    shorthand = _definition("uplink_shorthand")
    if error.validator == "pattern" and error.schema == shorthand:
        return _shorthand_hint(value, str(shorthand["pattern"]))
    if error.validator == "enum" and error.schema == _definition("uplinks")["properties"]["mode"] and _is_lacp(value):
        return " (use mode: balance-tcp with lacp: active)"
    return ""


def _is_lacp(word: str) -> bool:
    return word.lower() in LACP_WORDS


def _definition(name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema_document()["$defs"][name]
    return found


def _shorthand_hint(value: str, pattern: str) -> str:
    loose = _LOOSE_SHORTHAND.fullmatch(value)
    if loose is None:
        return ""
    count, speed, mode = loose.groups()
    meant = f"{int(count)}x{int(speed)}G"
    if mode:
        modes = [str(known) for known in _definition("uplinks")["properties"]["mode"]["enum"]]
        close = ["balance-tcp"] if _is_lacp(mode) else difflib.get_close_matches(mode.lower(), modes)
        if not close:
            return ""
        meant += f" {close[0]}"
    if re.fullmatch(pattern, meant) is None:
        return ""  # no shorthand is close (a speed ovsgen does not know, a count of 0)
    lacp = " the shorthand balance-tcp is LACP active, fast, with fallback" if _is_lacp(mode) else ""
    return f" (did you mean '{meant}'?{lacp})"


def _first_duplicate(values: list[Any]) -> object:
    seen: list[Any] = []
    for value in values:
        if value in seen:
            return value
        seen.append(value)
    return None
