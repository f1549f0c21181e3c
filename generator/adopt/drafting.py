"""What drafting a design from many hosts shares: the draft itself, and the value most hosts have.

The design a fleet shares is what most of its hosts have (on a tie, the first host in name order);
every host with a value of its own is named, with that value in words, in a comment above it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from generator.diagnostics import DesignPath, Diagnostic

T = TypeVar("T")
# Written where no capture gives a value the design needs: the design's validation refuses it
# until someone fills it in (a guess would reach production unnoticed).
UNKNOWN = "unknown"


@dataclass
class Draft:
    document: dict[str, Any]
    comments: dict[DesignPath, list[str]] = field(default_factory=dict)
    notes: list[Diagnostic] = field(default_factory=list)  # not imported, located
    unknowns: int = 0  # values written as UNKNOWN, for a person to fill in

    def unknown(self) -> str:
        """UNKNOWN, counted: the value written where no capture gives one."""
        self.unknowns += 1
        return UNKNOWN

    def comment(self, path: DesignPath, text: str) -> None:
        self.comments.setdefault(path, []).append(text)

    def differs(self, path: DesignPath, found: Shared) -> None:
        """A comment above `path` for each host whose value is not the shared one."""
        for host, words in found.others:
            self.comment(path, f"{host}: {words}")


@dataclass(frozen=True)
class Shared:
    """The value most hosts have, and each other host with its own, in words."""

    value: Any
    others: tuple[tuple[str, str], ...]


def shared(values: Sequence[tuple[str, T]], words: Callable[[T], str]) -> Shared:
    """Of each host's value (host, value), the one most have; `words` says each other one."""
    counts = Counter(value for _name, value in values)
    most = max(counts, key=counts.__getitem__)  # the first of the most common: hosts come in name order
    return Shared(most, tuple((name, words(value)) for name, value in values if value != most))


def is_shared(count: int, hosts: int) -> bool:
    """Whether a part `count` of `hosts` hosts have goes in the design (half of them or more)."""
    return 2 * count >= hosts
