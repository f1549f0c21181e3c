"""Formatting diagnostics for people (text) or tools (json); chosen by name."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from generator.diagnostics import Diagnostic, Severity, format_path

LineSource = Callable[[str, int], str | None]

_COLORS = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;33m"}
_RESET = "\033[0m"


class Reporter(Protocol):
    def report(self, diagnostics: Sequence[Diagnostic], stream: TextIO) -> None: ...


class TextReporter:
    """`file:line:col: error: path: message`, then the line and a caret under the column."""

    def __init__(self, line_source: LineSource, color: bool) -> None:
        self.line_source = line_source
        self.color = color

    def report(self, diagnostics: Sequence[Diagnostic], stream: TextIO) -> None:
        for diagnostic in diagnostics:
            stream.write(self.format(diagnostic))

    def format(self, diagnostic: Diagnostic) -> str:
        severity = diagnostic.severity.value
        if self.color:
            severity = f"{_COLORS[diagnostic.severity]}{severity}{_RESET}"
        where = f"{diagnostic.file}:{diagnostic.line}:{diagnostic.column}"
        path = f"{format_path(diagnostic.path)}: " if diagnostic.path else ""
        text = f"{where}: {severity}: {path}{diagnostic.message}\n"
        source = self.line_source(diagnostic.file, diagnostic.line)
        if source is not None:
            number = f"{diagnostic.line:5d}"
            # Tabs would push the caret off its column; show them as one space.
            shown = source.replace("\t", " ")
            text += f"{number} | {shown}\n{' ' * len(number)} | {' ' * (diagnostic.column - 1)}^\n"
        return text


class JsonReporter:
    """One JSON document: a list of diagnostics, for editors and CI annotations."""

    def report(self, diagnostics: Sequence[Diagnostic], stream: TextIO) -> None:
        records = [
            {
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "severity": d.severity.value,
                "path": format_path(d.path),
                "message": d.message,
            }
            for d in diagnostics
        ]
        json.dump(records, stream, indent=2)
        stream.write("\n")


REPORTER_NAMES = ("text", "json")


def make_reporter(name: str, line_source: LineSource, color: bool) -> Reporter:
    if name == "json":
        return JsonReporter()
    return TextReporter(line_source, color)
