"""The JSON Schema itself: draft 2020-12, closed objects, every property described."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from generator.loader import load_design
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
    from generator import cache, schema

    monkeypatch.setattr(cache, "read", lambda name: None)
    monkeypatch.setattr(cache, "write", lambda name, data: None)
    schema._fast_validator.cache_clear()
    try:
        schema._fast_validator()
        assert schema.schema_document() == SCHEMA
    finally:
        schema._fast_validator.cache_clear()
