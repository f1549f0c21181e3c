"""The design schema's two validators agree: the fast one (code fastjsonschema generated, cached;
generator.speed.validator, as generator.design.schema uses it) accepts a document exactly when
jsonschema (generator.design.schema_messages, which explains refusals) finds no problem in it.

A design the fast validator wrongly accepted would be rendered with no schema message at all;
one it wrongly refused would only cost speed. Both directions are held here, over the valid
designs of the property-based tests (tests/test_properties.py), over those designs broken at
random (a value moved to its neighbour or replaced, a key or item removed or added), over any
document at all, and over hand-picked invalid designs.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import marshal
import os
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st

from generator.characters import NOT_TEXT
from generator.design.loader import SourceDocument, load_design
from generator.design.schema import check_schema, fast_accepts
from generator.design.schema_file import FORMAT_CHECKS
from generator.design.schema_messages import explain_schema_errors
from generator.errors import DesignInvalid
from generator.speed import validator as validator_module
from generator.speed.validator import CachedValidator, Rejected
from tests.conftest import REPO
from tests.test_properties import designs
from tests.test_schema_messages import CASES

AGREEMENT = settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def jsonschema_accepts(data: Any) -> bool:
    return explain_schema_errors(SourceDocument("design.yaml", data, {})) == []


def assert_agree(data: Any) -> None:
    assert fast_accepts(data) == jsonschema_accepts(data), data


# Values as the loader makes them: text holds no character it refuses (control characters,
# invisible ones), keys are text. Words of the design language make near misses likely.
WORDS = st.sampled_from(
    [
        *("name", "bridge", "vlan", "mtu", "uplinks", "nics", "mode", "lacp", "lacp_time", "lacp_fallback"),
        *("count", "primary", "bond", "address", "gateway", "dns", "search", "ports", "speed", "mac", "switch"),
        *("trunk", "native", "default", "portgroups", "rebalance_interval", "version", "host", "nodes"),
        *("1G", "10G", "25G", "2x10G", "2x10G active-backup", "3x25G balance-tcp", "0x10G", "2x10Gb", "active"),
        *("active-backup", "balance-slb", "balance-tcp", "passive", "off", "slow", "fast", "dhcp", "br0", "eth0"),
        *("10.0.0.1", "10.0.0.1/24", "10.0.0.256/24", "01.2.3.4", "1.2.3.4/33", "0c:c4:7a:58:91:50", "tor-a 1/1"),
        *("", "-x", ".x", "x" * 15, "x" * 16, "x" * 64, "x" * 65, "lab.example.com", "a$b", "it's"),
    ]
)
TEXT = st.one_of(WORDS, st.text(st.characters(codec="utf-8").filter(lambda c: not NOT_TEXT.match(c)), max_size=12))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 5000),
    st.integers(),
    st.floats(),
    st.sampled_from([0.0, 1.0, 10.0, 9000.0, 1.5]),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


Place = tuple[dict[str, Any] | list[Any], Any]  # a container and one of its keys or indexes


def places(data: Any) -> Iterator[Place]:
    """Every place of a document, the root's keys included."""
    entries = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in entries:
        yield data, key
        yield from places(value)


def scalar_place(design: dict[str, Any]) -> st.SearchStrategy[Place]:
    """The place of a value that is no mapping or list, its type drawn first: a design holds few
    integers among many strings, and their edges (10.0 for 10) must be tried as often."""
    by_type: dict[str, list[Place]] = {}
    for container, key in places(design):
        value = container[key]
        if not isinstance(value, (dict, list)):
            by_type.setdefault(type(value).__name__, []).append((container, key))
    return st.sampled_from(sorted(by_type)).flatmap(lambda kind: st.sampled_from(by_type[kind]))


def nearby(value: Any) -> st.SearchStrategy[Any]:
    """Values next to `value`, where two validators are most likely to draw the line apart."""
    if isinstance(value, bool):
        return st.sampled_from([not value, int(value), str(value).lower()])
    if isinstance(value, int):
        return st.sampled_from([value - 1, value + 1, -value, value * 1000, float(value), str(value)])
    if isinstance(value, str):
        return st.sampled_from([value + "x", value.upper(), value[:-1], f" {value}", value * 5, value + "\u00e9"])
    return JSON


@st.composite
def nudged(draw: st.DrawFn, design: dict[str, Any]) -> dict[str, Any]:
    """The design with one value moved to a value next to it."""
    design = copy.deepcopy(design)
    container, key = draw(scalar_place(design))
    container[key] = draw(nearby(container[key]))
    return design


@st.composite
def broken(draw: st.DrawFn, design: dict[str, Any]) -> dict[str, Any]:
    """The design with one to three edits: a value nudged or replaced, a key or item removed, one added."""
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(["nudge", "replace", "remove", "add"]))
        if edit == "nudge":
            design = draw(nudged(design))
            continue
        design = copy.deepcopy(design)
        container, key = draw(st.sampled_from(list(places(design))))
        if edit == "replace":
            container[key] = draw(JSON)
        elif edit == "remove":
            del container[key]
        elif isinstance(container, dict):
            container[draw(TEXT)] = draw(JSON)
        else:
            container.append(draw(JSON))
    return design


CORPUS = designs().map(lambda case: case[0])
NUDGED = CORPUS.flatmap(nudged)
BROKEN = CORPUS.flatmap(broken)


@AGREEMENT
@given(CORPUS)
def test_both_accept_every_generated_design(design: dict[str, Any]) -> None:
    assert fast_accepts(design)
    assert jsonschema_accepts(design)


@AGREEMENT
@given(NUDGED)
def test_both_judge_every_nudged_design_alike(design: dict[str, Any]) -> None:
    assert_agree(design)


@AGREEMENT
@given(BROKEN)
def test_both_judge_every_broken_design_alike(design: dict[str, Any]) -> None:
    assert_agree(design)


@pytest.mark.parametrize("accepted", [True, False])
def test_the_broken_designs_hold_valid_and_invalid_ones(accepted: bool) -> None:
    """Else the test above would hold for a corpus of one kind only."""
    found = find(BROKEN, lambda design: fast_accepts(design) is accepted, settings=settings(derandomize=True))
    assert jsonschema_accepts(found) is accepted


SMALL = {
    "version": 1,
    "name": "lab",
    "host": {"bridge": "br0"},
    "bridges": {"br0": {"uplinks": "2x10G active-backup"}},
    "nodes": [{"name": "n1", "nics": {"eth0": "10G", "eth1": "10G"}, "address": "10.0.0.10/24"}],
}


@settings(derandomize=True, max_examples=300, deadline=None)
@given(JSON)
@example({**SMALL, "version": 1.0})
@example({**SMALL, "host": {"bridge": "br0", "vlan": 10.0}})
def test_both_judge_any_document_alike(document: Any) -> None:
    assert_agree(document)


@pytest.mark.parametrize(("design", "old", "new"), [case[:3] for case in CASES.values()], ids=list(CASES))
def test_both_refuse_each_kind_of_schema_problem(tmp_path: Path, design: str, old: str, new: str) -> None:
    """The hand-picked invalid designs of tests/test_schema_messages.py, one per kind of message."""
    path = tmp_path / design
    path.write_text((REPO / "designs" / design).read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    data = load_design(path).data
    assert not fast_accepts(data)
    assert not jsonschema_accepts(data)


INVALID = {
    "an integer written as a float": ("host", {"bridge": "br0", "vlan": 10.0}),
    "a boolean for an integer": ("host", {"bridge": "br0", "vlan": True}),
    "a VLAN out of range": ("host", {"bridge": "br0", "vlan": 4095}),
    "a bridge name of 16 characters": ("host", {"bridge": "b" * 16}),
    "four DNS servers": ("host", {"bridge": "br0", "dns": ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]}),
    "a DNS server twice": ("host", {"bridge": "br0", "dns": ["10.0.0.1", "10.0.0.1"]}),
    "a gateway with a leading zero": ("host", {"bridge": "br0", "gateway": "10.0.0.01"}),
    "version 2": ("version", 2),
    "a name in capitals": ("name", "Lab"),
    "no bridges": ("bridges", {}),
    "a mistyped shorthand": ("bridges", {"br0": {"uplinks": "2x10Gb"}}),
    "mode lacp": ("bridges", {"br0": {"uplinks": {"nics": "10G", "mode": "lacp"}}}),
    "a count of 0": ("bridges", {"br0": {"uplinks": {"nics": "10G", "count": 0}}}),
    "a NIC named twice": ("bridges", {"br0": {"uplinks": {"nics": ["eth0", "eth0"]}}}),
    "a trunk with a VLAN twice": (
        "networks",
        [{"name": "vm", "bridge": "br0", "portgroups": [{"name": "t", "trunk": [100, 100]}]}],
    ),
    "no nodes": ("nodes", []),
    "an address without its prefix": ("nodes", [{"name": "n1", "nics": {"eth0": "10G"}, "address": "10.0.0.10"}]),
    "a MAC of five bytes": (
        "nodes",
        [{"name": "n1", "nics": {"eth0": {"speed": "10G", "mac": "0c:c4:7a:58:91"}}, "address": "dhcp"}],
    ),
    "a quote in a switch label": (
        "nodes",
        [{"name": "n1", "nics": {"eth0": {"speed": "10G", "switch": 'tor "a"'}}, "address": "dhcp"}],
    ),
    "an unknown key": ("bridge", "br0"),
}


@pytest.mark.parametrize(("key", "value"), list(INVALID.values()), ids=list(INVALID))
def test_both_refuse_hand_picked_invalid_designs(key: str, value: object) -> None:
    assert fast_accepts(SMALL)
    design = {**SMALL, key: value}
    assert not fast_accepts(design)
    assert not jsonschema_accepts(design)


def test_both_accept_the_example_designs() -> None:
    for path in [*sorted((REPO / "designs").glob("*.yaml")), REPO / "tests/designs/edge-cases.yaml"]:
        data = load_design(path).data
        assert fast_accepts(data), path
        assert jsonschema_accepts(data), path


def test_where_they_differ_the_fast_validator_is_the_stricter_and_the_loader_refuses_first(tmp_path: Path) -> None:
    """fastjsonschema anchors a pattern's `$` at the very end; jsonschema's `$` also matches
    before a final newline. No loaded design holds a newline in a value, and a refusal by the
    fast validator only sends the design to jsonschema, which decides."""
    design = {**SMALL, "name": "lab\n"}
    assert jsonschema_accepts(design)
    assert not fast_accepts(design)
    path = tmp_path / "design.yaml"
    path.write_text('version: 1\nname: "lab\\n"\n', encoding="utf-8")
    with pytest.raises(DesignInvalid):
        load_design(path)


# --- the fast validator lets a bug through instead of taking it for a refusal ---


def _refuses(document: object, custom_formats: object) -> None:
    raise Rejected("data must be object", document, "data")


def _breaks(document: object, custom_formats: object) -> None:
    raise KeyError("a bug in the generated code")


def test_a_refusal_is_a_no() -> None:
    assert not CachedValidator(_refuses, {}).accepts({})


def test_any_other_exception_of_the_generated_code_surfaces() -> None:
    with pytest.raises(KeyError, match="a bug"):
        CachedValidator(_breaks, {}).accepts({})


def test_a_failing_format_check_surfaces_through_check_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """A custom format that raises is a bug of ovsgen, not a design problem to explain."""
    from generator.design import schema

    def broken_format(value: object) -> bool:
        raise ValueError("broken format check")

    validator = schema._fast_validator()
    formats = {**FORMAT_CHECKS, "ipv4": broken_format}
    monkeypatch.setattr(schema, "_fast_validator", lambda: CachedValidator(validator.check, formats))
    document = SourceDocument("design.yaml", {**SMALL, "host": {"bridge": "br0", "gateway": "10.0.0.1"}}, {})
    with pytest.raises(ValueError, match="broken format check"):
        check_schema(document)


# --- the validator itself: generated once, cached, run without fastjsonschema ---

# A small schema of the constructs the design schema uses: a choice (anyOf), a custom format,
# a default (which only checking must leave out of the document).
TOY_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "size": {"anyOf": [{"type": "integer"}, {"type": "string", "format": "even-length"}]},
            "mode": {"type": "string", "default": "fast"},
        },
        "additionalProperties": False,
    }
)
TOY_FORMATS = {"even-length": lambda value: isinstance(value, str) and len(value) % 2 == 0}
CACHE_NAME = re.compile(r"schema-validator-[0-9a-f]{20}\.marshal")


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OVSGEN_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_a_rejection_keeps_its_message_only() -> None:
    assert str(Rejected("data must be object", {}, name="data", rule="type")) == "data must be object"
    assert Rejected("data must be object", 1, 2).args == ("data must be object",)
    assert Rejected().args == ("",)


def test_the_generated_validator_judges_a_document_by_its_schema(cache_folder: Path) -> None:
    toy = validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    assert toy.formats is TOY_FORMATS
    for document in ({}, {"size": 3}, {"size": "ab"}, {"size": "", "mode": "slow"}):
        assert toy.accepts(document), document
    refused: tuple[object, ...] = ({"size": "abc"}, {"size": 1.5}, {"size": None}, {"mode": 1}, {"other": 1}, [])
    for wrong in refused:
        assert not toy.accepts(wrong), wrong
    with pytest.raises(Rejected, match=r"^data\.size cannot be validated by any definition$"):
        toy.check({"size": 1.5}, custom_formats=TOY_FORMATS)


def test_the_generated_validator_only_checks(cache_folder: Path) -> None:
    document: dict[str, Any] = {"size": 2}
    assert validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS).accepts(document)
    assert document == {"size": 2}  # the schema's default is not written in


def test_the_validator_calls_the_formats_it_is_given(cache_folder: Path) -> None:
    seen: list[object] = []

    def odd_length(value: object) -> bool:
        seen.append(value)
        return isinstance(value, str) and len(value) % 2 == 1

    validator = validator_module.load_validator(TOY_SCHEMA, {"even-length": odd_length})
    assert validator.accepts({"size": "abc"})
    assert not validator.accepts({"size": "ab"})
    assert seen == ["abc", "ab"]


def test_the_generated_code_is_named_in_tracebacks(cache_folder: Path) -> None:
    check = validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS).check
    assert check.__code__.co_filename == "<ovsgen schema validator>"


def test_a_cold_cache_stores_the_validator_and_a_warm_one_only_loads_it(
    cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    stored = list(cache_folder.iterdir())
    assert len(stored) == 1
    assert CACHE_NAME.fullmatch(stored[0].name)
    entry, code = marshal.loads(stored[0].read_bytes())
    assert isinstance(entry, str)
    assert isinstance(code, types.CodeType)
    assert entry in code.co_names
    assert "fastjsonschema" not in code.co_names  # the import line is gone

    def no_generating(schema_text: str, formats: object) -> bytes:
        raise AssertionError("a warm start generates nothing")

    monkeypatch.setattr(validator_module, "_compile", no_generating)
    monkeypatch.delitem(sys.modules, "fastjsonschema", raising=False)
    warm = validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    assert "fastjsonschema" not in sys.modules
    assert warm.accepts({"size": "ab"})
    assert not warm.accepts({"size": "abc"})
    assert [path.name for path in cache_folder.iterdir()] == [stored[0].name]


def test_without_a_cache_the_validator_is_generated_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVSGEN_CACHE_DIR", "")
    assert validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS).accepts({"size": 4})
    assert not validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS).accepts({"size": "x"})


def test_the_cache_is_keyed_by_everything_the_code_depends_on(
    cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change to the schema, its formats' names, fastjsonschema, ovsgen or Python is never served
    stale: each builds a validator of its own under a name of its own."""

    def names() -> set[str]:
        return {path.name for path in cache_folder.iterdir()}

    validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    first = names()
    validator_module.load_validator(
        TOY_SCHEMA, {"even-length": lambda value: False}
    )  # the formats' names, not their code
    assert names() == first
    validator_module.load_validator(TOY_SCHEMA + " ", TOY_FORMATS)
    validator_module.load_validator(TOY_SCHEMA, {**TOY_FORMATS, "odd": lambda value: True})
    validator_module.load_validator(json.dumps({"type": "object"}), {})
    with monkeypatch.context() as patch:
        patch.setattr(validator_module, "_generator_stamp", lambda: "another fastjsonschema")
        validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    with monkeypatch.context() as patch:
        patch.setattr(validator_module, "__version__", "0.0.0-other")
        validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    with monkeypatch.context() as patch:
        patch.setattr(sys, "version", "another python")
        validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    validator_module.load_validator(TOY_SCHEMA, TOY_FORMATS)
    assert len(names()) == 7
    assert all(CACHE_NAME.fullmatch(name) for name in names())


def test_the_generator_stamp_is_the_installed_files_size_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.find_spec("fastjsonschema")
    assert spec is not None
    assert spec.origin is not None
    status = os.stat(spec.origin)
    assert validator_module._generator_stamp() == f"{status.st_size}-{status.st_mtime_ns}"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert validator_module._generator_stamp() == "absent"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: SimpleNamespace(origin=None))
    assert validator_module._generator_stamp() == "absent"
