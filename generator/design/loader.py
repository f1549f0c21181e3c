"""Read a design file into plain data, keeping where every node came from.

libyaml (through PyYAML's C parser) turns the text into events; this module
composes them into plain Python data with YAML 1.2 core-schema scalars
(`off` and `yes` are strings; generator.design.scalars) and records the line
and column of every key and value in side tables keyed by the containers.
Later stages locate any design path lazily, so positions cost nothing until a
diagnostic needs one.

Composing the events here, rather than letting a library build nodes, keeps
the limits in one place: duplicate keys, nesting depth, alias expansion,
control characters and unsupported tags are all located errors.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.characters import NOT_TEXT, not_text_message
from generator.design.scalars import TAG, ScalarRefused, resolve_plain, resolve_tagged
from generator.diagnostics import DesignPath, Diagnostic, Severity
from generator.errors import DesignInvalid

MAX_FILE_BYTES = 16 * 1024 * 1024
# Aliases may add at most this many nodes beyond the file's own: enough for
# anchored NIC inventories across a large fleet, far below an alias bomb.
MAX_ALIAS_EXPANSION = 1_000_000
MAX_DEPTH = 64

Mark = tuple[int, int]  # 1-based line and column
# Positions are kept packed into ints (a 10,000-node design has ~400,000 of them):
# a mark is line << 16 | column, a mapping entry is key mark << 40 | value mark.
MappingMarks = dict[str, int]
Positions = dict[int, MappingMarks | list[int]]  # id(container) -> packed marks of its entries


def _unpack(packed: int) -> Mark:
    return packed >> 16, packed & 0xFFFF


def _entry(key: int, value: int) -> int:
    """A mapping entry's packed key and value marks, in one int."""
    return key << 40 | value


def _entry_marks(packed: int) -> tuple[Mark, Mark]:
    return _unpack(packed >> 40), _unpack(packed & (1 << 40) - 1)


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it

_MERGE = object()  # stands for a plain `<<` key
_BAD_KEY = object()  # a collection used as a key (reported when found)


@dataclass(frozen=True)
class SourceDocument:
    """A loaded design: its file name, its plain data, and where each key and value was written."""

    file: str
    data: Any
    positions: Positions = field(repr=False)
    root: Mark = (1, 1)

    def locate(self, path: DesignPath, *, key: bool = False) -> Mark:
        """Line and column of the value at `path` (of its key if `key`).

        A path that runs past the document (a missing key) locates the deepest
        value that exists, which is where the user has to add something.
        """
        node, mark, key_mark = self.data, self.root, None
        for part in path:
            marks = self.positions.get(id(node))
            if isinstance(marks, dict) and isinstance(part, str) and part in marks:
                key_mark, mark = _entry_marks(marks[part])
                node = node[part]
            elif isinstance(marks, list) and isinstance(part, int) and 0 <= part < len(marks):
                key_mark, mark = None, _unpack(marks[part])
                node = node[part]
            else:
                break
        return key_mark if key and key_mark is not None else mark

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


def load_design(path: Path, display_name: str | None = None) -> SourceDocument:
    """Read and parse one design file; raise DesignInvalid with located errors."""
    name = display_name or str(path)
    return parse_design(_decode(_read_bytes(path, name), name), name)


def parse_design(text: str, name: str) -> SourceDocument:
    """Parse a design's text; `name` locates errors. Raises DesignInvalid."""
    composer = _Composer(name)
    data, root = composer.compose(text)
    return SourceDocument(name, data, composer.positions, root)


def _fail(file: str, line: int, column: int, message: str) -> DesignInvalid:
    return DesignInvalid([Diagnostic(file, line, column, (), message)])


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        # O_NONBLOCK: a FIFO must not wait for a writer; it is refused below like any non-file.
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise _fail(name, 1, 1, "not a regular file; designs are read from files")
            if status.st_size > MAX_FILE_BYTES:
                raise _fail(
                    name, 1, 1, f"file is {status.st_size} bytes; designs are limited to {MAX_FILE_BYTES} bytes"
                )
            return handle.read(MAX_FILE_BYTES + 1)  # a file that grows meanwhile stays bounded
    except OSError as exc:
        raise _fail(name, 1, 1, f"cannot read file: {exc.strerror or exc}") from None


def _decode(raw: bytes, name: str) -> str:
    try:
        # utf-8-sig accepts (and drops) a byte-order mark; YAML reads CRLF as one line break.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(
            name, line, column, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _mark(event: Any) -> int:
    """Where an event starts, packed: 1-based line << 16 | column (capped)."""
    start = event.start_mark
    line: int = start.line + 1
    column: int = start.column + 1
    return line << 16 | min(column, 0xFFFF)


@dataclass(slots=True)
class _Frame:
    """A mapping or sequence being composed. Marks are packed (see _mark)."""

    value: dict[str, Any] | list[Any]
    marks: MappingMarks | list[int]
    start: int
    anchor: str | None
    path: DesignPath
    size: int = 1
    key: object = None  # a mapping's key waiting for its value: its text, or _MERGE
    key_mark: int = 0
    merges: list[tuple[Any, int]] = field(default_factory=list)


class _Composer:
    """YAML events -> plain data and position tables, enforcing the loader's limits."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: Positions = {}
        self.errors: list[Diagnostic] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expansion = 0

    def _error(self, mark: int, message: str, path: DesignPath = ()) -> None:
        line, column = _unpack(mark)
        self.errors.append(Diagnostic(self.file, line, column, path, message))

    def _raise(self, mark: int, message: str) -> DesignInvalid:
        return _fail(self.file, *_unpack(mark), message)

    def compose(self, text: str) -> tuple[Any, Mark]:
        try:
            result = self._run(yaml.parse(text, Loader=_Loader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            raise _fail(self.file, *where, f"YAML syntax error: {problem}") from None
        except yaml.YAMLError as exc:
            raise self._reader_failure(exc, text) from None
        if self.errors:
            raise DesignInvalid(self.errors)
        return result

    def _reader_failure(self, exc: yaml.YAMLError, text: str) -> DesignInvalid:
        """A reader error: a character YAML forbids (all of which the design rule forbids too).

        It carries no mark, and its offset counts bytes with libyaml but characters with
        PyYAML's own reader; the reader stops at the first forbidden character, so that
        character's first occurrence is where it is.
        """
        code = getattr(exc, "character", None)
        if not isinstance(code, int) or chr(code) not in text:
            return _fail(self.file, 1, 1, f"YAML error: {exc}")
        offset = text.index(chr(code))
        before = text[:offset]
        return _fail(self.file, before.count("\n") + 1, offset - before.rfind("\n"), not_text_message(text[offset]))

    def _run(self, events: Any) -> tuple[Any, Mark]:
        stack: list[_Frame] = []
        root: tuple[Any, int] | None = None
        documents = 0
        for event in events:
            event_type = type(event)  # scalars first: most events are scalars
            if event_type is yaml.ScalarEvent:
                value = self._scalar(event, stack)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
                raw = event.value
                if raw == "<<" and event.implicit[0] and event.tag is None:
                    raw = _MERGE
                root = self._attach(stack, value, _mark(event), 1, raw) or root
            elif event_type is yaml.MappingStartEvent or event_type is yaml.SequenceStartEvent:
                stack.append(self._open(event, stack))
            elif event_type is yaml.MappingEndEvent or event_type is yaml.SequenceEndEvent:
                frame = stack.pop()
                value = self._close(frame)
                root = self._attach(stack, value, frame.start, frame.size, None) or root
            elif event_type is yaml.AliasEvent:
                self._alias(stack, event)  # never the root: an alias there has no anchor before it
            elif event_type is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise self._raise(_mark(event), "a design file holds one YAML document, not several")
        if root is None:
            raise _fail(
                self.file, 1, 1, "file is empty: a design is a mapping with 'version', 'name', 'bridges' and 'nodes'"
            )
        value, mark = root
        if not isinstance(value, dict):
            kind = "sequence" if isinstance(value, list) else "scalar value"
            raise self._raise(mark, f"a design must be a mapping (key: value), not a {kind}")
        return value, _unpack(mark)

    def _open(self, event: Any, stack: list[_Frame]) -> _Frame:
        mark = _mark(event)
        if len(stack) >= MAX_DEPTH:
            raise self._raise(mark, f"YAML nesting is deeper than {MAX_DEPTH} levels")
        mapping = isinstance(event, yaml.MappingStartEvent)
        path = _child_path(stack)
        expected = TAG + ("map" if mapping else "seq")
        if event.tag not in (None, "!", expected):
            self._error(mark, f"unsupported YAML tag '{event.tag}'", path)
        if mapping:
            return _Frame({}, {}, mark, event.anchor, path)
        return _Frame([], [], mark, event.anchor, path)

    def _close(self, frame: _Frame) -> Any:
        value = frame.value
        if isinstance(value, dict) and isinstance(frame.marks, dict):
            self._apply_merges(frame, value, frame.marks)
        self.positions[id(value)] = frame.marks
        if frame.anchor:
            self.anchors[frame.anchor] = (value, frame.size)
        return value

    def _apply_merges(self, frame: _Frame, value: dict[str, Any], marks: MappingMarks) -> None:
        """YAML merge keys: merged entries never override the mapping's own, earlier merges win."""
        for source, mark in frame.merges:
            sources = source if isinstance(source, list) else [source]
            for merged in sources:
                if not isinstance(merged, dict):
                    self._error(mark, "a merge key (<<) takes a mapping or a list of mappings")
                    continue
                merged_marks = self.positions[id(merged)]  # every key of a mapping has its marks
                assert isinstance(merged_marks, dict)
                for key, item in merged.items():
                    if key not in value:
                        value[key] = item
                        marks[key] = merged_marks[key]

    def _alias(self, stack: list[_Frame], event: Any) -> None:
        mark = _mark(event)
        if event.anchor not in self.anchors:
            raise self._raise(mark, f"alias '*{event.anchor}' names no anchor defined before it")
        value, size = self.anchors[event.anchor]
        self.expansion += size
        if self.expansion > MAX_ALIAS_EXPANSION:
            raise self._raise(
                mark, f"aliases expand the document by more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)"
            )
        self._attach(stack, value, mark, size, None)

    def _attach(self, stack: list[_Frame], value: Any, mark: int, size: int, raw: object) -> tuple[Any, int] | None:
        """Put a finished value into its parent; return it when it is the document's root."""
        if not stack:
            return value, mark
        parent = stack[-1]
        parent.size += size
        if isinstance(parent.value, list) and isinstance(parent.marks, list):
            parent.value.append(value)
            parent.marks.append(mark)
        elif parent.key is None:
            self._take_key(parent, mark, raw)
        else:
            self._take_value(parent, value, mark)
        return None

    def _take_key(self, parent: _Frame, mark: int, raw: object) -> None:
        """`raw` is the key's text as written, _MERGE for `<<`, None for a collection: a key is
        compared as written, so `1:` and `true:` are the keys "1" and "true"."""
        if raw is None:
            self._error(mark, "mapping keys must be plain values, not a mapping or sequence")
        parent.key = raw if raw is not None else _BAD_KEY
        parent.key_mark = mark

    def _take_value(self, parent: _Frame, value: Any, mark: int) -> None:
        key, key_mark = parent.key, parent.key_mark
        parent.key = None
        mapping, marks = parent.value, parent.marks
        assert isinstance(mapping, dict)  # only mappings have keys
        assert isinstance(marks, dict)  # and a mapping's marks are a mapping
        if key is _MERGE:
            parent.merges.append((value, mark))
        elif not isinstance(key, str):
            return  # a collection as a key: already reported
        elif key in mapping:
            message = f"duplicate key '{key}' (first defined at line {_entry_marks(marks[key])[0][0]})"
            self._error(key_mark, message, (*parent.path, key))
        else:
            mapping[key] = value
            marks[key] = _entry(key_mark, mark)

    def _scalar(self, event: Any, stack: list[_Frame]) -> Any:
        text: str = event.value
        bad = NOT_TEXT.search(text)
        if bad:
            self._error(_mark(event), not_text_message(bad.group()), _child_path(stack))
        tag = event.tag
        try:
            if tag is None and event.implicit[0]:
                return resolve_plain(text)
            return resolve_tagged(text, tag)
        except ScalarRefused as refused:
            self._error(_mark(event), str(refused), _child_path(stack))
            return refused.stand_in


def _child_path(stack: list[_Frame]) -> DesignPath:
    """The design path of the next value (or key) to arrive in the innermost open collection."""
    if not stack:
        return ()
    parent = stack[-1]
    if isinstance(parent.value, list):
        return (*parent.path, len(parent.value))
    return (*parent.path, parent.key) if isinstance(parent.key, str) else parent.path
