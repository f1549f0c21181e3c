"""What a renderer produces: files with a relative path, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, order=True)
class OutputFile:
    path: PurePosixPath  # relative to the output folder
    text: str
    executable: bool = False
