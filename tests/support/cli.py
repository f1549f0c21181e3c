"""Running the ovsgen command in-process (mutants and coverage see it), from a chosen folder."""

from __future__ import annotations

import contextlib
from pathlib import Path

from click.testing import CliRunner, Result

from generator.cli.main import main


def invoke(*args: str, cwd: Path | None = None) -> Result:
    """`ovsgen ARGS...` in-process, from `cwd` when given (relative paths are the user's)."""
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
