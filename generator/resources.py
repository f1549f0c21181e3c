"""Where the templates and the schema are, in a checkout and in an installed wheel.

The wheel ships them inside the package (`generator/templates`,
`generator/schemas`, see pyproject.toml); a checkout or an editable install
keeps them at the top of the repository, where reviewers find them.
"""

from __future__ import annotations

import functools
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ovsgen is installed without its {name}/ folder (looked beside {_PACKAGE})")


def templates_dir() -> Path:
    return _data_dir("templates")


def schema_path() -> Path:
    return _data_dir("schemas") / "design.schema.json"
