"""The design-language reference (docs/design-language.md), generated from the JSON Schema.

The schema's `description`s are the one place where keys are explained: editors show them
on hover, and this module turns them into a Markdown page with every key, its type, whether
it is required, its default and its meaning. Regenerate the page after editing the schema:

    python -m generator.design.reference docs/design-language.md

`python -m generator.design.reference --check docs/design-language.md` exits 1 when the page is stale.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.design.schema_file import schema_document

REGENERATE = "python -m generator.design.reference docs/design-language.md"

Schema = dict[str, Any]


@dataclass(frozen=True)
class Section:
    """One table of the page: the keys of one kind of mapping, found at `where` in a design."""

    where: str
    schema: Schema


def reference_markdown(schema: Schema | None = None) -> str:
    """The whole page, deterministic for a given schema."""
    schema = schema_document() if schema is None else schema
    lines = [*_preamble(schema)]
    for section in _sections(schema):
        lines += _section_lines(schema, section)
    lines += _value_type_lines(schema)
    return "\n".join(lines).rstrip() + "\n"


def _preamble(schema: Schema) -> Iterator[str]:
    yield "# Design-language reference"
    yield ""
    yield f"<!-- Generated from schemas/design.schema.json by `{REGENERATE}`: edit the schema, not this page. -->"
    yield ""
    yield _escape(str(schema["description"]))
    yield ""
    yield (
        "Every key of a design, where it goes, its type, whether it is required, its default and what it "
        "means. A key not listed here is an error. For a worked example, the uplink shorthand and how NICs "
        "are chosen, see [designs.md](designs.md); for what each message means, [errors.md](errors.md)."
    )
    yield ""
    yield f"Schema `$id`: `{schema['$id']}` (JSON Schema {_draft(schema)})."
    yield ""


def _draft(schema: Schema) -> str:
    found = re.search(r"draft/([0-9-]+)/", str(schema.get("$schema")))
    return f"draft {found.group(1)}" if found else "draft"


def _sections(schema: Schema) -> Iterator[Section]:
    """Every mapping with named keys, depth first in the order the schema lists them."""
    yield from _walk(schema, schema, "top level")


def _walk(root: Schema, node: Schema, where: str) -> Iterator[Section]:
    node = _resolved(root, node)
    if "properties" in node:
        yield Section(where, node)
        for key, child in node["properties"].items():
            yield from _walk(root, child, _join(where, key))
    else:
        yield from _children(root, node, where)


def _children(root: Schema, node: Schema, where: str) -> Iterator[Section]:
    """Sections under a (resolved) value: list items, mapping values, and each alternative of oneOf/anyOf."""
    if isinstance(node.get("items"), dict):
        yield from _walk(root, node["items"], f"{where}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(root, node["additionalProperties"], f"{where}.<{_placeholder(where)}>")
    for alternative in node.get("oneOf", []) + node.get("anyOf", []):
        target = _resolved(root, alternative)
        if "properties" in target:
            yield from _walk(root, target, f"{where} (long form)")


def _join(where: str, key: str) -> str:
    return key if where == "top level" else f"{where}.{key}"


def _placeholder(where: str) -> str:
    """`bridges` -> `bridge`, `nics` -> `nic`: the name a mapping's keys stand for."""
    last = where.rpartition(".")[2].removesuffix("[]")
    return last.removesuffix("es") if last.endswith("ches") else last.removesuffix("s")


def _resolved(root: Schema, node: Schema) -> Schema:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target: Schema = root["$defs"][ref.removeprefix("#/$defs/")]
        return target
    return node


def _section_lines(root: Schema, section: Section) -> list[str]:
    lines = [f"## {_heading(section.where)}", ""]
    if section.where != "top level":
        lines += [_escape(str(section.schema.get("description", ""))), ""]
    required = set(section.schema.get("required", []))
    links = {id(item.schema): item.where for item in _sections(root)}
    lines += ["| Key | Type | Required | Default | Meaning |", "| --- | --- | --- | --- | --- |"]
    for key, prop in section.schema["properties"].items():
        given = key in required
        cells = [_code(key), _type_of(root, prop, links), "yes" if given else "no", _default(prop, given)]
        lines.append("| " + " | ".join(cells) + f" | {_meaning(prop)} |")
    lines.append("")
    return lines


def _heading(where: str) -> str:
    """`bridges.<bridge>` as code (its angle brackets would be HTML), `(long form)` as text."""
    if where == "top level":
        return "Top level"
    path, _, rest = where.partition(" ")
    return f"{_code(path)} {rest}".rstrip()


def _anchor(where: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation but '-' and '_' dropped, spaces as '-'."""
    return re.sub(r"[^\w\- ]", "", where.lower()).replace(" ", "-")


def _code(text: str) -> str:
    """A Markdown code span that holds backticks too."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _meaning(prop: Schema) -> str:
    text = str(prop.get("description", ""))
    if "x-expects" in prop and "$ref" not in prop:
        text += f" Expected: {prop['x-expects']}."
    return _escape(text)


def _default(prop: Schema, required: bool) -> str:
    if required:
        return "—"
    if "default" in prop:
        return f"`{_literal(prop['default'])}`"
    if "x-default" in prop:
        return _escape(str(prop["x-default"]))
    return "none"


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _type_of(root: Schema, node: Schema, links: dict[int, str]) -> str:
    """A short type for a table cell: a link to a value type or a section, a list or mapping of
    one, or alternatives."""
    target = _resolved(root, node)
    if id(target) in links:
        where = links[id(target)]
        return f"mapping ([{_escape(where)}](#{_anchor(where)}))"
    if target is not node and ("oneOf" in target or "anyOf" in target):
        return _type_of(root, target, links)  # alternatives are spelled out where used
    if target is not node:
        name = str(node["$ref"]).removeprefix("#/$defs/")
        return f"[{name}](#{_anchor(name)})"
    alternatives = node.get("oneOf", []) + node.get("anyOf", [])
    if alternatives:
        return " or ".join(_type_of(root, option, links) for option in alternatives)
    return _inline_type(root, node, links)


def _inline_type(root: Schema, node: Schema, links: dict[int, str]) -> str:
    """The type of a schema written in place: a constant, a choice, a list, a mapping or a scalar."""
    kind = str(node.get("type"))
    if "const" in node or "enum" in node:
        values = [node["const"]] if "const" in node else node["enum"]
        shown = ", ".join(f"`{_literal(value)}`" for value in values)
        return shown if "const" in node else f"one of {shown}"
    if kind == "array":
        return f"list of {_type_of(root, node['items'], links)}"
    values = node.get("additionalProperties")
    if kind == "object" and isinstance(values, dict):
        return f"mapping of name to {_type_of(root, values, links)}"
    if kind == "integer" and "minimum" in node and "maximum" in node:
        return f"integer {node['minimum']}-{node['maximum']}"
    return {"object": "mapping", "boolean": "true or false"}.get(kind, kind)


def _value_type_lines(root: Schema) -> list[str]:
    lines = ["## Value types", "", "The types the tables above link to.", ""]
    for name, node in root["$defs"].items():
        if "properties" in node or "oneOf" in node or "anyOf" in node:
            continue  # mappings have their own section; alternatives are spelled out where used
        lines += [f"### {name}", "", _escape(str(node.get("description", ""))), ""]
        lines += [f"- {rule}" for rule in _constraints(node)]
        lines.append("")
    return lines


def _constraints(node: Schema) -> Iterator[str]:
    if "x-expects" in node:
        yield f"Expected: {_escape(str(node['x-expects']))}."
    if "enum" in node:
        yield "One of " + ", ".join(f"`{_literal(value)}`" for value in node["enum"]) + "."
    if "minimum" in node and "maximum" in node:
        yield f"An integer from {node['minimum']} to {node['maximum']}."
    if "pattern" in node:
        yield f"Pattern: {_code(node['pattern'])}."


def _escape(text: str) -> str:
    """Text for a Markdown table cell or paragraph: pipes and angle brackets would break it."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def main(argv: list[str]) -> int:
    """`python -m generator.design.reference [--check] FILE`: write the page, or check that FILE holds it."""
    check = "--check" in argv
    paths = [arg for arg in argv if arg != "--check"]
    if len(paths) != 1:
        sys.stderr.write(f"usage: python -m generator.design.reference [--check] FILE\n  e.g. {REGENERATE}\n")
        return 2
    path = Path(paths[0])
    page = reference_markdown().encode()
    if check:
        if not path.is_file() or path.read_bytes() != page:
            sys.stderr.write(f"{path} is not what the schema generates; run: {REGENERATE}\n")
            return 1
        return 0
    path.write_bytes(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
