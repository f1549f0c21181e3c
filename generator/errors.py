"""The one exception hierarchy of ovsgen.

Every error a person can cause or fix (a design, a host's dump, an output folder,
a missing tool) is an OvsgenError. The command line turns each into its exit status
in one place (generator.cli.exits; generator.cli.entry handles signals) and formats
it only through the reporter. Anything else that escapes is a bug.
"""

from __future__ import annotations

from generator.diagnostics import Diagnostic


class OvsgenError(Exception):
    """A problem ovsgen reports in words and stops for; its message is the whole story."""


class InputInvalid(OvsgenError):
    """An input file ovsgen cannot use; carries every located problem found so far."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s)")
        self.diagnostics = diagnostics


class DesignInvalid(InputInvalid):
    """A design file that failed a stage (loading, schema, model, rules)."""


class DumpInvalid(InputInvalid):
    """A host's ovsdb-client dump or backup that is malformed or holds unsafe values."""

    @classmethod
    def at(cls, file: str, line: int, column: int, message: str) -> DumpInvalid:
        """One problem at a place in the dump (line 1, column 1: the file as a whole)."""
        return cls([Diagnostic(file, line, column, (), message)])


class SelectionInvalid(OvsgenError):
    """Valid designs that cannot be taken together as asked: a --node no design has, or two designs
    with one name (they would render into one folder)."""


class ToolUnavailable(OvsgenError):
    """A program a command needs (ovsdb-server, ovsdb-tool, ovs-vsctl, git) is missing or unusable."""


class OutputRefused(OvsgenError):
    """An output folder or file ovsgen will not write into, replace or compare with."""


class WorkerFailed(OvsgenError):
    """A process rendering part of a design ended without its results."""


class CaptureInvalid(OvsgenError):
    """A capture folder ovsgen cannot import or compare: no host in it."""
