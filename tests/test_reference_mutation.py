"""generator.design.reference in-process: the page for a schema with every shape the generator knows
(tests/test_docs.py checks the page of the real schema), and `python -m generator.design.reference`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.design.reference import REGENERATE, main, reference_markdown

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/s.json",
    "description": "A <test> | schema.",
    "type": "object",
    "required": ["name", "size"],
    "properties": {
        "name": {"type": "string", "description": "The name."},
        "size": {"$ref": "#/$defs/size", "description": "Its size.", "default": "1G"},
        "flag": {"type": "boolean", "default": False, "description": "A flag."},
        "on": {"type": "boolean", "default": True, "description": "On."},
        "count": {"type": "integer", "minimum": 1, "maximum": 4, "default": 2},
        "low": {"type": "integer", "minimum": 1},
        "high": {"type": "integer", "maximum": 9},
        "spare": {"$ref": "#/$defs/size", "x-default": "the <largest> | one", "x-expects": "not shown"},
        "kind": {"const": "x", "description": "Kind.", "x-expects": "x itself"},
        "mode": {"enum": ["a", True], "description": "Mode."},
        "switches": {"type": "object", "description": "Switches.", "additionalProperties": {"$ref": "#/$defs/switch"}},
        "nics": {
            "type": "object",
            "additionalProperties": {"type": "object", "properties": {"mac": {"type": "string"}}},
        },
        "links": {
            "type": "array",
            "items": {"type": "object", "description": "A link.", "properties": {"to": {"type": "string"}}},
        },
        "uplink": {
            "oneOf": [
                {"$ref": "#/$defs/size"},
                {"type": "object", "description": "Long.", "properties": {"speed": {"$ref": "#/$defs/port"}}},
            ]
        },
        "either": {
            "anyOf": [
                {"type": "string"},
                {"$ref": "#/$defs/pick"},
                {"type": "object", "description": "Either, long.", "properties": {"n": {"type": "integer"}}},
            ]
        },
        "choice": {"$ref": "#/$defs/choice"},
        "tick`": {"type": "number"},
        "ports": {"type": "array", "items": {"$ref": "#/$defs/port"}},
        "free": {"type": "object", "additionalProperties": {"type": "string"}},
        "bag": {"type": "object", "additionalProperties": True},
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": {"type": "object", "properties": {"id": {"type": "integer"}}},
            },
        },
        "outer": {
            "type": "object",
            "properties": {
                "inner": {
                    "type": "object",
                    "properties": {
                        "bridges": {
                            "type": "object",
                            "additionalProperties": {"type": "object", "properties": {"stp": {"type": "boolean"}}},
                        }
                    },
                }
            },
        },
    },
    "$defs": {
        "size": {"type": "string", "description": "A size.", "pattern": "^[0-9]+`G$", "x-expects": "a <size> | 10G"},
        "switch": {"type": "object", "description": "A switch.", "properties": {"ports": {"type": "integer"}}},
        "port": {"type": "integer", "minimum": 1, "maximum": 48, "description": "A port."},
        "pick": {"oneOf": [{"const": 1}, {"const": 2}]},
        "choice": {"description": "Spelled out where used.", "anyOf": [{"type": "string"}, {"type": "integer"}]},
        "colour": {"enum": ["red", False]},
        "low": {"type": "integer", "minimum": 0, "description": "Low."},
        "high": {"type": "integer", "maximum": 9, "description": "High."},
    },
}
PAGE = "\n".join(
    [
        "# Design-language reference",
        "",
        (
            "<!-- Generated from schemas/design.schema.json by `python -m generator.design.reference "
            "docs/design-language.md`: edit the schema, not this page. -->"
        ),
        "",
        "A &lt;test&gt; \\| schema.",
        "",
        (
            "Every key of a design, where it goes, its type, whether it is required, its default and "
            "what it means. A key not listed here is an error. For a worked example, the uplink "
            "shorthand and how NICs are chosen, see [designs.md](designs.md); for what each message "
            "means, [errors.md](errors.md)."
        ),
        "",
        "Schema `$id`: `https://example.com/s.json` (JSON Schema draft 2020-12).",
        "",
        "## Top level",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `name` | string | yes | — | The name. |",
        "| `size` | [size](#size) | yes | — | Its size. |",
        "| `flag` | true or false | no | `false` | A flag. |",
        "| `on` | true or false | no | `true` | On. |",
        "| `count` | integer 1-4 | no | `2` |  |",
        "| `low` | integer | no | none |  |",
        "| `high` | integer | no | none |  |",
        "| `spare` | [size](#size) | no | the &lt;largest&gt; \\| one |  |",
        "| `kind` | `x` | no | none | Kind. Expected: x itself. |",
        "| `mode` | one of `a`, `true` | no | none | Mode. |",
        (
            "| `switches` | mapping of name to mapping ([switches.&lt;switch&gt;](#switchesswitch)) | "
            "no | none | Switches. |"
        ),
        "| `nics` | mapping of name to mapping ([nics.&lt;nic&gt;](#nicsnic)) | no | none |  |",
        "| `links` | list of mapping ([links[]](#links)) | no | none |  |",
        "| `uplink` | [size](#size) or mapping ([uplink (long form)](#uplink-long-form)) | no | none |  |",
        ("| `either` | string or `1` or `2` or mapping ([either (long form)](#either-long-form)) | no | none |  |"),
        "| `choice` | string or integer | no | none |  |",
        "| `` tick` `` | number | no | none |  |",
        "| `ports` | list of [port](#port) | no | none |  |",
        "| `free` | mapping of name to string | no | none |  |",
        "| `bag` | mapping | no | none |  |",
        ("| `groups` | list of mapping of name to mapping ([groups[].&lt;group&gt;](#groupsgroup)) | no | none |  |"),
        "| `outer` | mapping ([outer](#outer)) | no | none |  |",
        "",
        "## `switches.<switch>`",
        "",
        "A switch.",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `ports` | integer | no | none |  |",
        "",
        "## `nics.<nic>`",
        "",
        "",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `mac` | string | no | none |  |",
        "",
        "## `links[]`",
        "",
        "A link.",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `to` | string | no | none |  |",
        "",
        "## `uplink` (long form)",
        "",
        "Long.",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `speed` | [port](#port) | no | none |  |",
        "",
        "## `either` (long form)",
        "",
        "Either, long.",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `n` | integer | no | none |  |",
        "",
        "## `groups[].<group>`",
        "",
        "",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `id` | integer | no | none |  |",
        "",
        "## `outer`",
        "",
        "",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `inner` | mapping ([outer.inner](#outerinner)) | no | none |  |",
        "",
        "## `outer.inner`",
        "",
        "",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        (
            "| `bridges` | mapping of name to mapping "
            "([outer.inner.bridges.&lt;bridge&gt;](#outerinnerbridgesbridge)) | no | none |  |"
        ),
        "",
        "## `outer.inner.bridges.<bridge>`",
        "",
        "",
        "",
        "| Key | Type | Required | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
        "| `stp` | true or false | no | none |  |",
        "",
        "## Value types",
        "",
        "The types the tables above link to.",
        "",
        "### size",
        "",
        "A size.",
        "",
        "- Expected: a &lt;size&gt; \\| 10G.",
        "- Pattern: `` ^[0-9]+`G$ ``.",
        "",
        "### port",
        "",
        "A port.",
        "",
        "- An integer from 1 to 48.",
        "",
        "### colour",
        "",
        "",
        "",
        "- One of `red`, `false`.",
        "",
        "### low",
        "",
        "Low.",
        "",
        "",
        "### high",
        "",
        "High.",
        "",
    ]
)


def test_the_page_of_a_schema_with_every_shape() -> None:
    assert reference_markdown(SCHEMA) == PAGE


def test_a_schema_without_a_draft_or_keys() -> None:
    page = reference_markdown(
        {"$id": "x", "$schema": "http://example.com/schema", "description": "D", "properties": {}, "$defs": {}}
    )
    assert "\n\nSchema `$id`: `x` (JSON Schema draft).\n\n## Top level\n\n| Key |" in page
    assert page.endswith("| --- | --- | --- | --- | --- |\n\n## Value types\n\nThe types the tables above link to.\n")
    assert "(JSON Schema draft).\n" in reference_markdown({"$id": "x", "description": "D", "$defs": {}})


def test_the_command_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "design-language.md"
    assert main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == reference_markdown()
    assert main(["--check", str(page)]) == 0
    assert main([str(page), "--check"]) == 0
    assert capsys.readouterr() == ("", "")


def test_the_command_tells_how_to_regenerate_a_stale_or_missing_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "design-language.md"
    stale.write_text(reference_markdown() + "\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert capsys.readouterr().err == f"{stale} is not what the schema generates; run: {REGENERATE}\n"
    assert stale.read_text(encoding="utf-8") == reference_markdown() + "\n"  # a check writes nothing
    missing = tmp_path / "missing.md"
    assert main(["--check", str(missing)]) == 1
    assert capsys.readouterr().err == f"{missing} is not what the schema generates; run: {REGENERATE}\n"
    assert not missing.exists()
    folder = tmp_path / "folder.md"
    folder.mkdir()
    assert main(["--check", str(folder)]) == 1


@pytest.mark.parametrize("argv", [[], ["--check"], ["a.md", "b.md"], ["--check", "a.md", "b.md"]])
def test_the_command_wants_one_file(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert capsys.readouterr() == (
        "",
        f"usage: python -m generator.design.reference [--check] FILE\n  e.g. {REGENERATE}\n",
    )
    assert list(tmp_path.iterdir()) == []
