"""A drafted design as YAML for people: block style, the order the draft gives, short mappings and
lists on one line, and comments above the keys they are about.

The document is plain data (dicts, lists, str, int, bool); a `Flow` mapping is written on one line
when it fits. A string is written plain only where YAML reads it back as the same string;
otherwise double-quoted (a JSON string is a YAML double-quoted scalar). Comments are text from
ovsgen or from a host: every line goes through `comment_text`, which keeps it on its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.design.scalars import ScalarRefused, resolve_plain
from generator.diagnostics import DesignPath

Comments = Mapping[DesignPath, Sequence[str]]
_PLAIN = re.compile(r"[A-Za-z0-9_./@+-][A-Za-z0-9_ ./@+,:-]*")
_WIDTH = 100
# How YAML 1.1 tools read a plain scalar (off, 12:30, 2026-12-01 are not strings): PyYAML's
# resolver, what safe_load applies, without parsing a document per value.
_RESOLVER = yaml.resolver.Resolver()
_STRING = "tag:yaml.org,2002:str"


class Flow(dict[str, Any]):
    """A mapping written on one line, as in `nics: {eth0: 10G, eth1: 10G}`."""


def design_text(document: Mapping[str, Any], comments: Comments, header: Sequence[str]) -> str:
    lines = [f"# {comment_text(line)}" if line else "#" for line in header]
    _mapping(document, (), 0, _Out(comments, lines), top=True)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Out:
    """Where the lines go, the comments to put above them, and each scalar as written so far (a
    fleet's design repeats its names and speeds thousands of times)."""

    comments: Comments
    lines: list[str]
    written: dict[object, str] = field(default_factory=dict)

    def comment(self, path: DesignPath, pad: str) -> None:
        self.lines.extend(f"{pad}# {comment_text(text)}" for text in self.comments.get(path, ()))

    def scalar(self, value: Any) -> str:
        key = (type(value), value)  # True and 1 are equal keys of a dict, and written apart
        found = self.written.get(key)
        if found is None:
            found = self.written[key] = scalar(value)
        return found


def comment_text(text: str) -> str:
    """Text a comment can hold on its one line: no control character (a host's value could carry
    a newline and start a YAML key of its own)."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain = _PLAIN.fullmatch(text) and ": " not in text and not text.endswith(" ")
    if plain and _is_text_everywhere(text):
        return text
    return json.dumps(text, ensure_ascii=True)


def _is_text_everywhere(text: str) -> bool:
    """Whether a plain scalar is this text for ovsgen (YAML 1.2: `1e3` is a number) and for YAML 1.1
    tools (`off` is false): quoted otherwise."""
    try:
        read = resolve_plain(text)
    except ScalarRefused:
        return False
    return read == text and isinstance(read, str) and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STRING  # type: ignore[no-untyped-call]


def _mapping(data: Mapping[str, Any], path: DesignPath, indent: int, out: _Out, *, top: bool = False) -> None:
    for index, (key, value) in enumerate(data.items()):
        here = (*path, key)
        if top and index and isinstance(value, (dict, list)) and not isinstance(value, Flow):
            out.lines.append("")  # a blank line between top-level blocks, as designs are written
        out.comment(here, " " * indent)
        _entry(f"{out.scalar(key)}:", value, here, indent, out)


def _entry(lead: str, value: Any, path: DesignPath, indent: int, out: _Out) -> None:
    pad = " " * indent
    inline = _inline(value, out)
    fits = inline is not None and len(pad) + len(lead) + 1 + len(inline) <= _WIDTH
    if fits or (inline is not None and _is_scalar(value)):  # a scalar has no other form
        out.lines.append(f"{pad}{lead} {inline}")
    elif isinstance(value, Mapping):
        out.lines.append(f"{pad}{lead}")
        _mapping(value, path, indent + 2, out)
    else:
        out.lines.append(f"{pad}{lead}")
        _sequence(value, path, indent + 2, out)


def _inline(value: Any, out: _Out) -> str | None:
    """The value on one line: a scalar, a list of scalars, a Flow mapping of scalars; else None."""
    if isinstance(value, Flow):
        if all(_is_scalar(item) for item in value.values()):
            return "{" + ", ".join(f"{out.scalar(key)}: {out.scalar(item)}" for key, item in value.items()) + "}"
        return None
    if isinstance(value, list):
        if all(_is_scalar(item) for item in value):
            return "[" + ", ".join(out.scalar(item) for item in value) + "]"
        return None
    return None if isinstance(value, Mapping) else out.scalar(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int))


def _sequence(items: Sequence[Any], path: DesignPath, indent: int, out: _Out) -> None:
    pad = " " * indent
    for index, item in enumerate(items):
        here = (*path, index)
        out.comment(here, pad)
        if isinstance(item, Mapping) and not isinstance(item, Flow) and item:
            body = _Out(out.comments, [], out.written)
            _mapping(item, here, indent + 2, body)
            first = next(number for number, line in enumerate(body.lines) if not line.lstrip().startswith("#"))
            body.lines[first] = f"{pad}- {body.lines[first][indent + 2 :]}"
            out.lines.extend(body.lines)
        else:
            _entry("-", item, here, indent, out)
