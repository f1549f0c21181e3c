"""How node names are compared and how a long list of names is shown: shared by the rules
(duplicate node names, messages about many nodes) and by the selection of nodes (`--node`)."""

from __future__ import annotations

from collections.abc import Sequence


def fold(name: str) -> str:
    """The form node names are compared in: host names are case-insensitive, and so are some
    file systems the output lands on."""
    return name.lower()


def listed(names: Sequence[str], shown: int) -> str:
    """`a, b, c and 1,747 more`: the first `shown` names and how many others."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown:,} more"
