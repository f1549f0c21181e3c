"""The JSON Schema itself: draft 2020-12, closed objects, every property described."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from generator.design.loader import load_design
from tests.conftest import REPO

SCHEMA: dict[str, Any] = json.loads((REPO / "schemas/design.schema.json").read_text())


def subschemas(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from subschemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from subschemas(value, f"{path}/{index}")


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_every_object_is_closed() -> None:
    open_objects = [
        path for path, node in subschemas(SCHEMA) if node.get("type") == "object" and "additionalProperties" not in node
    ]
    assert open_objects == []


def test_every_property_has_a_description() -> None:
    undescribed = [
        f"{path}/properties/{name}"
        for path, node in subschemas(SCHEMA)
        if isinstance(node.get("properties"), dict)
        for name, prop in node["properties"].items()
        if "description" not in prop
    ]
    assert undescribed == []


def test_every_example_design_is_valid_against_the_schema_alone() -> None:
    validator = Draft202012Validator(SCHEMA)
    for design in sorted((REPO / "designs").glob("*.yaml")):
        assert list(validator.iter_errors(load_design(design).data)) == [], design


def test_building_the_fast_validator_leaves_the_schema_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold cache builds the validator; `ovsgen schema` must still print the file as written."""
    from generator.design import schema_file
    from generator.speed import cache
    from generator.speed.validator import load_validator

    monkeypatch.setattr(cache, "read", lambda name: None)
    monkeypatch.setattr(cache, "write", lambda name, data: None)
    load_validator(schema_file.schema_text(), schema_file.FORMAT_CHECKS)
    assert schema_file.schema_document() == SCHEMA


# The schema's identity for editors and tools: it names version 1 of the design language and
# must not change while version 1 lasts (a new major version of the language gets a new one).
SCHEMA_ID = "https://ovsgen.invalid/schemas/design.schema.json"


def test_schema_id_is_stable() -> None:
    assert SCHEMA["$id"] == SCHEMA_ID


def test_top_level_schema_key_is_a_string_ovsgen_ignores() -> None:
    declared = SCHEMA["properties"]["$schema"]
    assert declared["type"] == "string"
    assert "ignores" in declared["description"]


def test_documented_defaults_are_the_model_defaults() -> None:
    """A default lives in the model (it fills it in) and in the schema (editors and the reference
    show it): the two agree."""
    from generator.design import model

    design = model.build_design(
        {
            "version": 1,
            "name": "d",
            "host": {"bridge": "br0"},
            "bridges": {"br0": {"uplinks": {"nics": "10G"}}},
            "networks": [{"name": "n", "bridge": "br0", "portgroups": [{"name": "p", "vlan": 5}]}],
            "nodes": [{"name": "n1", "nics": {"eth0": "10G"}, "address": "dhcp"}],
        }
    )
    uplinks = SCHEMA["$defs"]["uplinks"]["properties"]
    spec = design.bridges[0].uplinks
    assert design.host.mtu == SCHEMA["properties"]["host"]["properties"]["mtu"]["default"]
    assert (spec.mode, spec.lacp) == (uplinks["mode"]["default"], uplinks["lacp"]["default"])
    assert design.bridges[0].bond_name == SCHEMA["$defs"]["bridge"]["properties"]["bond"]["x-default"].replace(
        "<bridge>", "br0"
    )
    assert design.networks[0].portgroups[0].default is SCHEMA["$defs"]["portgroup"]["properties"]["default"]["default"]


def test_schema_check_does_not_write_defaults_into_the_design() -> None:
    """fastjsonschema fills in `default`s unless told not to; the checks tell a key written
    from one left out (`lacp_time` without LACP is an error only when written)."""
    import copy

    from generator.design.schema import check_schema

    for design in sorted((REPO / "designs").glob("*.yaml")):
        document = load_design(design)
        before = copy.deepcopy(document.data)
        assert check_schema(document) == []
        assert document.data == before, design
