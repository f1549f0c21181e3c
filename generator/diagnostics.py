"""A located diagnostic about an input file (a design, a host's dump or backup).

Every stage (loader, schema check, semantic checks) produces `Diagnostic`
values; only `generator.cli.reporting` turns them into text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

# A position inside the design document: mapping keys and sequence indexes.
DesignPath = tuple[str | int, ...]


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A problem at `file:line:column` (1-based) about `path` in the design."""

    file: str
    line: int
    column: int
    path: DesignPath
    message: str
    severity: Severity = Severity.ERROR
    # Every node a finding about many nodes is about (its message names the first few).
    nodes: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def escalated(self) -> Diagnostic:
        """The same finding as an error (for --strict)."""
        return replace(self, severity=Severity.ERROR)


def format_path(path: DesignPath) -> str:
    """Render a design path the way users write it: `bridges.br0.uplinks`, `nodes[1].address`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(document)"


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    """Line order within a file, as users read the file."""
    return (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.message)
