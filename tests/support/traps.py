"""Stand-ins for the commands an injected payload would run, first on PATH.

Each records that it was called (and fails); a test checks that the record stays absent.
"""

from __future__ import annotations

import os
from pathlib import Path

TRAPPED = ("touch", "curl", "wget", "rm", "nc", "sh", "id", "whoami", "perl", "python3", "chmod", "mkfifo", "PWNED")


def install_traps(folder: Path) -> tuple[str, Path]:
    """A PATH whose first folder (made in `folder`) holds the traps, and the file their calls go to."""
    bin_dir = folder / "trap-bin"
    bin_dir.mkdir()
    marks = folder / "trap-marks"
    for name in TRAPPED:
        trap = bin_dir / name
        trap.write_text(f'#!/bin/bash\nprintf "%s\\n" "$0 $*" >> {marks}\nexit 1\n')
        trap.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}", marks
