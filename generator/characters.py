"""Which characters a value may hold, wherever it comes from: a design, a file name, the command line.

Values end up in file names, scripts, ifcfg files, XML and sheets read by people. A control
character (C0, DEL, C1) or a line separator can end a line or a heredoc in a script, or drive
a terminal; a format character (Unicode category Cf: bidirectional overrides, zero-width
characters) makes text show something other than what its bytes say; a lone surrogate is
a file name that was not UTF-8. None of them is ever needed in a network design.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_INVISIBLE = frozenset(("Cf", "Cs"))  # format characters; surrogates (undecodable bytes of a file name)


def forbidden_character(text: str) -> int | None:
    """The index of the first character `text` may not hold, or None."""
    found = _CONTROL.search(text)
    first = found.start() if found else None
    limit = len(text) if first is None else first
    # Format characters are rare: a scan of the ASCII-free part is only paid by text that has any.
    if not text.isascii():
        for index in range(limit):
            if unicodedata.category(text[index]) in _INVISIBLE:
                return index
    return first


_KINDS = {"Cc": "the control character", "Cf": "the format character", "Cs": "the undecodable byte"}


def describe(character: str) -> str:
    """A character as people can read it in a message: `the format character U+202E (RIGHT-TO-LEFT OVERRIDE)`."""
    kind = _KINDS.get(unicodedata.category(character), "the character")
    name = unicodedata.name(character, "")
    return f"{kind} U+{ord(character):04X}" + (f" ({name})" if name else "")
