"""Formatting diagnostics for people (text) or tools (json); chosen by name."""

from __future__ import annotations

import collections
import json
import os
import stat
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from generator.characters import NOT_TEXT, forbidden_character
from generator.cli.settings import CommonSettings
from generator.diagnostics import Diagnostic, Severity, format_path

LineSource = Callable[[str, int], str | None]

_COLORS = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;33m"}
_RESET = "\033[0m"

# Text from input (file names, values, source lines) never reaches a terminal raw: a control
# character could move the cursor, recolour or retitle it, or hide the rest of the line.
MESSAGE_LIMIT = 1000  # characters of one message; a 15 MiB value must not become 15 MiB of stderr
EXCERPT_WIDTH = 120  # characters of a source line shown around the caret
# Problems shown per file: past these, a file is broken as a whole (or generated to flood a CI log).
SHOWN_PER_FILE = 100


def printable(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` safe for a terminal: control, line-separator and format characters as Python
    escapes (`\\x1b`, `\\n`, `\\u202e`), and at most `limit` characters, the cut said."""
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters)"
    return _escape(text)


def _escape(text: str, keep: str = "") -> str:
    return NOT_TEXT.sub(lambda found: found.group() if found.group() in keep else _escaped(found.group()), text)


def _escaped(char: str) -> str:
    """Python's escape of a character: `\\n`, `\\x1b`, `\\u202e`, `\\U000e0001`; plain ASCII."""
    return char.encode("unicode_escape").decode("ascii")


def _shown_in_excerpt(char: str) -> str:
    if char == "\t":
        return " "
    return "?" if forbidden_character(char) is not None else char


def say(stream: TextIO, message: str) -> None:
    """A line of ovsgen's own (a result, or a problem that is not about a place in a design)."""
    stream.write(f"ovsgen: {printable(message)}\n")


def printable_lines(lines: Sequence[str]) -> list[str]:
    """Lines of file content (a diff) for a terminal or a CI log: line ends and tabs kept,
    every other control character escaped, no length limit (the content is the point)."""
    return [_escape(line, keep="\t\n") for line in lines]


class Reporter(Protocol):
    def report(self, diagnostics: Sequence[Diagnostic], stream: TextIO) -> None: ...


def _not_shown(counts: collections.Counter[Severity]) -> str:
    """The closing line of a file with more diagnostics than are shown: "fix these first" only
    when errors are among them (warnings alone do not stop a run)."""
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    if not errors:
        return f"{warnings:,} more warning(s) not shown"
    if not warnings:
        return f"{errors:,} more error(s) not shown; fix these first"
    return f"{errors:,} more error(s) and {warnings:,} more warning(s) not shown; fix these first"


class TextReporter:
    """`file:line:col: error: path: message`, then the line and a caret under the column."""

    def __init__(self, line_source: LineSource, color: bool) -> None:
        self.line_source = line_source
        self.color = color

    def report(self, diagnostics: Sequence[Diagnostic], stream: TextIO) -> None:
        shown: collections.Counter[str] = collections.Counter()
        hidden: dict[str, collections.Counter[Severity]] = {}
        for diagnostic in diagnostics:
            shown[diagnostic.file] += 1
            if shown[diagnostic.file] <= SHOWN_PER_FILE:
                stream.write(self.format(diagnostic))
            else:
                hidden.setdefault(diagnostic.file, collections.Counter())[diagnostic.severity] += 1
        for file, counts in hidden.items():
            stream.write(f"{printable(file)}: {_not_shown(counts)}\n")

    def format(self, diagnostic: Diagnostic) -> str:
        severity = diagnostic.severity.value
        if self.color:
            severity = f"{_COLORS[diagnostic.severity]}{severity}{_RESET}"
        where = f"{printable(diagnostic.file)}:{diagnostic.line}:{diagnostic.column}"
        path = f"{printable(format_path(diagnostic.path))}: " if diagnostic.path else ""
        text = f"{where}: {severity}: {path}{printable(diagnostic.message)}\n"
        source = self.line_source(diagnostic.file, diagnostic.line)
        if source is not None:
            number = f"{diagnostic.line:5d}"
            shown, caret = excerpt(source, diagnostic.column)
            text += f"{number} | {shown}\n{' ' * len(number)} | {' ' * caret}^\n"
        return text


def excerpt(source: str, column: int, width: int = EXCERPT_WIDTH) -> tuple[str, int]:
    """The part of a source line shown under a message, and the caret's offset in it.

    At most `width` characters around the column ("..." where cut); each character that
    `printable` would escape shows as one `?`, and a tab (it would push the caret off its
    column) as one space, so the caret stays under the character it points at.
    """
    start = max(0, min(column - 1 - width // 2, len(source) - width))
    shown = source[start : start + width]
    caret = column - 1 - start
    shown = "".join(_shown_in_excerpt(char) for char in shown)
    if start > 0:
        shown, caret = "..." + shown, caret + 3
    if start + width < len(source):
        shown += "..."
    return shown, caret


class JsonReporter:
    """One JSON document: a list of diagnostics, for editors and CI annotations."""

    def report(self, diagnostics: Sequence[Diagnostic], stream: TextIO) -> None:
        records = [_record(d) for d in diagnostics]
        json.dump(records, stream, indent=2)
        stream.write("\n")


def _record(diagnostic: Diagnostic) -> dict[str, object]:
    record: dict[str, object] = {
        "file": diagnostic.file,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "severity": diagnostic.severity.value,
        "path": format_path(diagnostic.path),
        "message": diagnostic.message,
    }
    if diagnostic.nodes:  # a finding about many nodes: all of them, for tools (the message names a few)
        record["nodes"] = list(diagnostic.nodes)
    return record


REPORTER_NAMES = ("text", "json")


def make_reporter(name: str, line_source: LineSource, color: bool) -> Reporter:
    if name == "json":
        return JsonReporter()
    return TextReporter(line_source, color)


def report_diagnostics(settings: CommonSettings, diagnostics: Sequence[Diagnostic]) -> None:
    """Diagnostics on the command's stderr, by the reporter its --format names."""
    reporter = make_reporter(settings.output_format, SourceLines().line, settings.color)
    reporter.report(diagnostics, settings.stderr)


# Source excerpts come from designs (at most 16 MiB) and host dumps (at most 64 MiB).
EXCERPT_SOURCE_LIMIT = 64 * 1024 * 1024


class SourceLines:
    """The lines that diagnostics point at, for the excerpts under them.

    A report's diagnostics come a file at a time, so the last file read is kept: a design with a
    hundred problems is read once, and a report never holds more than one file. Each report reads
    afresh (a new SourceLines), so a file edited between two runs in one process shows as it is."""

    def __init__(self) -> None:
        self._file: str | None = None
        self._lines: tuple[str, ...] = ()

    def line(self, file: str, line: int) -> str | None:
        """Line `line` (from 1) of `file`, or None: no such line, or a file not read (see read_source_lines)."""
        if file != self._file:
            self._file, self._lines = file, read_source_lines(file)
        return self._lines[line - 1] if 1 <= line <= len(self._lines) else None


def read_source_lines(file: str) -> tuple[str, ...]:
    """The lines of a regular file, for excerpts under messages; none of anything else (a FIFO,
    /dev/zero) or of a file past the input limits, which was refused before it was read."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer. (os.open's descriptors are
        # close-on-exec already.)
        with os.fdopen(os.open(file, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode) or status.st_size > EXCERPT_SOURCE_LIMIT:
                return ()
            data = handle.read(EXCERPT_SOURCE_LIMIT)
    except OSError:
        return ()
    # splitlines ends a line at CRLF, CR and LF alike, as YAML does.
    return tuple(data.decode("utf-8", errors="replace").removeprefix("\ufeff").splitlines())
