"""Stage 1: read a design file into plain data, keeping where every node came from.

The YAML is composed into ruamel's node graph (which carries line and column
for every key and value) and converted to plain Python data for the schema
check. The node graph is kept so that later stages can locate any design path
lazily: positions cost nothing until a diagnostic needs one.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.diagnostics import DesignInvalid, DesignPath, Diagnostic, Severity

MAX_FILE_BYTES = 16 * 1024 * 1024
# Aliases may add at most this many nodes beyond the file's own: enough for
# anchored NIC inventories across a large fleet, far below an alias bomb.
MAX_ALIAS_EXPANSION = 1_000_000
MAX_DEPTH = 64

MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class SourceDocument:
    """A loaded design: its plain data, its text, and its node graph for positions."""

    file: str
    lines: tuple[str, ...]
    data: Any
    root: Node

    def locate(self, path: DesignPath, *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the node at `path` (of its key if `key`).

        A path that runs past the document (a missing key) locates the deepest
        node that exists, which is where the user has to add something.
        """
        node, key_node = self.root, None
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
        target = key_node if key and key_node is not None else node
        return target.start_mark.line + 1, target.start_mark.column + 1

    def diagnostic(
        self,
        path: DesignPath,
        message: str,
        severity: Severity = Severity.ERROR,
        *,
        key: bool = False,
    ) -> Diagnostic:
        line, column = self.locate(path, key=key)
        return Diagnostic(self.file, line, column, path, message, severity)


def _child(node: Node, part: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            return None, node.value[part]
        return None
    if isinstance(node, MappingNode):
        for key_node, value_node in _mapping_pairs(node):
            if isinstance(key_node, ScalarNode) and key_node.value == str(part):
                return key_node, value_node
    return None


def _mapping_pairs(node: MappingNode) -> Iterator[tuple[Node, Node]]:
    """The mapping's own pairs first, then those brought in by merge keys (`<<`)."""
    merged: list[MappingNode] = []
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            merged.extend(s for s in sources if isinstance(s, MappingNode))
        else:
            yield key_node, value_node
    for source in merged:
        yield from _mapping_pairs(source)


def load_design(path: Path, display_name: str | None = None) -> SourceDocument:
    """Read and parse one design file; raise DesignInvalid with located errors."""
    name = display_name or str(path)
    raw = _read_bytes(path, name)
    text = _decode(raw, name)
    lines = tuple(text.splitlines())
    root = _compose(text, name)
    data = _Converter(name).convert_document(root)
    return SourceDocument(name, lines, data, root)


def _fail(file: str, line: int, column: int, message: str) -> DesignInvalid:
    return DesignInvalid([Diagnostic(file, line, column, (), message)])


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(name, 1, 1, f"file is {size} bytes; designs are limited to {MAX_FILE_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise _fail(name, 1, 1, f"cannot read file: {exc.strerror or exc}") from None


def _decode(raw: bytes, name: str) -> str:
    try:
        # utf-8-sig accepts (and drops) a byte-order mark; CRLF is normalised below.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(
            name, line, column, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    return text.replace("\r\n", "\n")


def _compose(text: str, name: str) -> Node:
    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise _fail(name, line, column, f"YAML syntax error: {problem}") from None
    except YAMLError as exc:
        raise _fail(name, 1, 1, f"YAML error: {exc}") from None
    except RecursionError:
        raise _fail(name, 1, 1, f"YAML nesting is deeper than {MAX_DEPTH} levels") from None
    if root is None:
        raise _fail(name, 1, 1, "file is empty: a design is a mapping with 'version', 'name', 'bridges' and 'nodes'")
    if not isinstance(root, MappingNode):
        line, column = root.start_mark.line + 1, root.start_mark.column + 1
        raise _fail(name, line, column, f"a design must be a mapping (key: value), not a {_kind(root)}")
    return root


def _kind(node: Node) -> str:
    return "sequence" if isinstance(node, SequenceNode) else "scalar value"


class _Converter:
    """Node graph -> plain data, rejecting duplicate keys, odd tags and alias bombs."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.scalars = YAML(typ="safe", pure=True).constructor
        self.errors: list[Diagnostic] = []

    def convert_document(self, root: Node) -> Any:
        self._check_expansion(root)
        data = self._convert(root, 0)
        if self.errors:
            raise DesignInvalid(self.errors)
        return data

    def _error(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.errors.append(Diagnostic(self.file, mark.line + 1, mark.column + 1, (), message))

    def _check_expansion(self, root: Node) -> None:
        """Count the nodes the data would have once aliases are expanded, without expanding."""
        sizes: dict[int, int] = {}
        distinct = 0
        # Iterative post-order walk: the composer already bounded the depth.
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if id(node) in sizes:
                continue
            children = _children(node)
            if not children_done:
                stack.append((node, True))
                stack.extend((child, False) for child in children if id(child) not in sizes)
                continue
            distinct += 1
            sizes[id(node)] = 1 + sum(sizes.get(id(child), 1) for child in children)
        if sizes[id(root)] - distinct > MAX_ALIAS_EXPANSION:
            raise _fail(
                self.file,
                1,
                1,
                f"aliases expand the document by more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)",
            )

    def _convert(self, node: Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self._error(node, f"YAML nesting is deeper than {MAX_DEPTH} levels")
            return None
        if isinstance(node, MappingNode):
            return self._convert_mapping(node, depth)
        if isinstance(node, SequenceNode):
            return [self._convert(item, depth + 1) for item in node.value]
        return self._convert_scalar(node)

    def _convert_mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self._error(key_node, "mapping keys must be plain values, not a mapping or sequence")
                continue
            key = str(key_node.value)
            if key in first_seen:
                first = first_seen[key].start_mark
                self._error(key_node, f"duplicate key '{key}' (first defined at line {first.line + 1})")
                continue
            first_seen[key] = key_node
            result[key] = self._convert(value_node, depth + 1)
        # Merged keys never override the mapping's own (YAML merge semantics).
        for key_node, value_node in _mapping_pairs(node):
            key = str(key_node.value)
            if key not in result and isinstance(key_node, ScalarNode):
                result[key] = self._convert(value_node, depth + 1)
        return result

    def _convert_scalar(self, node: Node) -> Any:
        try:
            return self.scalars.construct_object(node)
        except YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self._error(node, f"unsupported YAML value: {problem}")
            return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []
