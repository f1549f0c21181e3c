"""Run validation on inline YAML and get (line, column, severity, path, message) back."""

from __future__ import annotations

import textwrap
from pathlib import Path

from generator.design.validate import validate_file
from generator.diagnostics import Diagnostic, format_path
from generator.errors import DesignInvalid

Problem = tuple[int, int, str, str, str]


def as_tuple(diagnostic: Diagnostic) -> Problem:
    return (
        diagnostic.line,
        diagnostic.column,
        diagnostic.severity.value,
        format_path(diagnostic.path),
        diagnostic.message,
    )


def problems_in(tmp_path: Path, yaml_text: str, *, strict: bool = False) -> list[Problem]:
    """Every diagnostic for the design text (errors, or warnings when it is valid)."""
    path = tmp_path / "design.yaml"
    path.write_text(textwrap.dedent(yaml_text).lstrip("\n"), encoding="utf-8")
    try:
        valid = validate_file(path, strict=strict)
    except DesignInvalid as invalid:
        return [as_tuple(d) for d in invalid.diagnostics]
    return [as_tuple(d) for d in valid.warnings]
