"""Which characters a value may hold, wherever it comes from: a design, a file name, the command line.

Values end up in file names, scripts, ifcfg files, XML and sheets read by people, and in
messages on a terminal. None of these characters is ever needed in a network design:
- control characters (C0, DEL, C1) and line separators end a line or a heredoc in a script,
  or drive a terminal;
- characters that are there without being seen: Unicode format characters (general category
  Cf: bidirectional overrides and isolates, zero-width spaces and joiners, the byte-order mark,
  tag characters, ...), the Hangul fillers and the combining grapheme joiner; a sheet could
  show another switch port than its bytes say;
- noncharacters, which are no text at all (XML refuses U+FFFE and U+FFFF), and lone
  surrogates, which are what Python makes of a file name's bytes that are not UTF-8.
"""

from __future__ import annotations

import re
import unicodedata

# The Cf ranges are those of Unicode 16; tests/test_security_formats.py checks them against
# this Python's unicodedata. A regular expression, not a per-character lookup: the loader runs
# it over every scalar of a design.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# The rest of Unicode's Default_Ignorable_Code_Point set: characters a renderer shows as nothing
# (variation selectors, Khmer inherent vowels, Mongolian free variation selectors, Hangul fillers,
# the combining grapheme joiner, and the code points reserved to be ignored).
_INVISIBLE = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u3164\ufe00-\ufe0f\uffa0\ufff0-\ufff8\U000e0000-\U000e0fff"
)
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)
)
_SURROGATES = "\ud800-\udfff"
_NONCHARACTER = re.compile(f"[{_NONCHARACTERS}]")
NOT_TEXT = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_FORMAT}{_INVISIBLE}{_NONCHARACTERS}{_SURROGATES}]")


def forbidden_character(text: str) -> int | None:
    """The index of the first character `text` may not hold, or None."""
    found = NOT_TEXT.search(text)
    return found.start() if found else None


def not_text_message(character: str) -> str:
    """Why `character` (one that NOT_TEXT finds) is refused, naming it by its code point."""
    code = f"U+{ord(character):04X}"
    category = unicodedata.category(character)
    if category in ("Cc", "Zl", "Zp"):
        return f"the control character {code} is not allowed; values are single-line text"
    if category == "Cs":  # how Python keeps a byte of a file name that is not UTF-8
        byte = ord(character) - 0xDC00 if "\udc80" <= character <= "\udcff" else None
        what = f"the byte 0x{byte:02X}" if byte is not None else f"the lone surrogate {code}"
        return f"{what} is not UTF-8 and not allowed; names and values are UTF-8 text"
    if _NONCHARACTER.fullmatch(character):
        return f"the noncharacter {code} is not allowed; values are text"
    try:
        named = f"{code} ({unicodedata.name(character)})"
    except ValueError:  # a code point this Python's Unicode has not named (yet)
        named = code
    return f"the invisible character {named} is not allowed: it changes how a value looks without being seen"
