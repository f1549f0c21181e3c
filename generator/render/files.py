"""What a renderer produces: files with a relative path, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class OutputFile:
    """A rendered file: its path relative to the output folder, text and mode."""

    # Relative to the output folder, '/'-separated. Text rather than a PurePosixPath:
    # a node has ~20 files, and building their pathlib paths cost a tenth of its render.
    path: str
    text: str
    executable: bool = False

    @property
    def name(self) -> str:
        """The file's name, without its folder."""
        return self.path.rpartition("/")[2]
