"""What a renderer produces: files with a relative path, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, order=True)
class OutputFile:
    """A rendered file: its path relative to the output folder, text and mode."""

    path: PurePosixPath  # relative to the output folder
    text: str
    executable: bool = False
