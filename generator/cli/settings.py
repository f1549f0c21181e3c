"""What each command is asked to do: a frozen settings class per command, built by the click
layer (generator.cli.main) with named arguments and read by the command (generator.cli.commands).

The parts every command shares (its designs, --strict, --format, colour and the streams it writes
to) are CommonSettings, which each command's settings extend. Fields are keyword-only, so a
command's own fields can be required after the shared ones that have defaults.

Making a dataclass costs about 2 ms at import: plan, diff and rehearse keep theirs in
generator.cli.change_settings, imported only when one of them runs (as generator.cli.change_commands
is), and validate and schema, which take nothing beyond the shared parts, use CommonSettings.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass(frozen=True, kw_only=True)
class CommonSettings:
    """What every command takes: designs, how problems are reported, and where output goes."""

    designs: tuple[Path, ...] = ()
    strict: bool = False  # warnings count as errors
    output_format: str = "text"  # a name of generator.cli.reporting.REPORTER_NAMES
    color: bool = False
    # The streams as they are when the settings are made: tests and wrappers swap sys.stdout and sys.stderr.
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)


# validate takes nothing beyond the shared parts, and schema not even designs.
ValidateSettings = CommonSettings
SchemaSettings = CommonSettings


@dataclass(frozen=True, kw_only=True)
class RenderSettings(CommonSettings):
    """render: where to write, which nodes and kinds of output, and how."""

    out: Path = Path("out")
    nodes: tuple[str, ...] = ()  # empty: every node
    kinds: tuple[str, ...] = ()  # empty: every kind of output
    jobs: int = 1  # processes that render the nodes of large designs
    quiet: bool = False  # no progress line


@dataclass(frozen=True, kw_only=True)
class CheckSettings(CommonSettings):
    """check: the folder of checked-in output to compare with; it renders as render does."""

    golden: Path
    jobs: int = 1
    quiet: bool = False


# What render and check share: both render every design given, in `jobs` processes for large ones.
RenderingSettings = RenderSettings | CheckSettings
