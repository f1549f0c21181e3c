"""Text from a host, which may be compromised: what of it may reach a script, and how a
message quotes it.

Names, interface types, map keys and values read from a host's dump (or a backup) are
copied into change scripts as words of ovs-vsctl; each must be plain text, as a whole, by
its rule in TEXT_RULES. Any value a message shows goes through `shown`.
"""

from __future__ import annotations

import re
from types import MappingProxyType

# Whole strings only (fullmatch: a `$` would also match before a final newline).
# Names are positional words of ovs-vsctl: never an option (`-`), never `--`, never `column=value`.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+%-]{0,254}")
_TYPE = re.compile(r"(?:[a-z0-9][a-z0-9_-]{0,63})?")
# Map entries become `other_config:KEY=VALUE` words: ovs-vsctl ends a key at `:`, `=` or `,`
# and reads a value starting with `"` as JSON; it refuses an empty value.
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+%/-]{0,254}")
_VALUE = re.compile(r"[A-Za-z0-9_.:/@+=,%-]{1,1024}")

TEXT_RULES = MappingProxyType(
    {
        "name": (_NAME, "a name: 1-255 of A-Z a-z 0-9 _ . : @ + % -, not starting with . or -"),
        "type": (_TYPE, "an interface type: a-z 0-9 _ -, not starting with -"),
        "key": (_KEY, "a key: 1-255 of A-Z a-z 0-9 _ . @ + % / -, not starting with . or -"),
        "value": (_VALUE, "a value: 1-1024 of A-Z a-z 0-9 _ . : / @ + = , % -"),
    }
)


def plain_text(text: str, rule: str) -> bool:
    """Whether `text` is, as a whole, what TEXT_RULES[rule] allows."""
    return TEXT_RULES[rule][0].fullmatch(text) is not None


def shown(value: object, limit: int = 60) -> str:
    """A value as a message may quote it: escaped like repr (no control or format character
    survives) and cut short, so that a 15 MB value does not become 15 MB of message."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "..."
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "..."
