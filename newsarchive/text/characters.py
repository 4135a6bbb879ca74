"""The character classes every cleaning and escaping step shares, named once: control characters,
surrogates, noncharacters, and what each use makes of them (markup, plain text, YAML, URLs).

Each class is the body of a regular-expression character class (what goes between ``[`` and ``]``);
:func:`character_class` compiles one. Users: text/sanitize.py and text/clean.py (markup),
text/plain.py and text/clean.py (plain text), export/jekyll.py (YAML), deadletter.py (URLs).
"""

from __future__ import annotations

import re

# --- the building blocks -------------------------------------------------------------------------
C0_CONTROLS = "\x00-\x1f"
C0_CONTROLS_BUT_TAB_AND_NEWLINES = "\x00-\x08\x0b\x0c\x0e-\x1f"  # all of C0 but \t \n \r
DELETE = "\x7f"
C1_CONTROLS = "\x80-\x9f"
SURROGATES = "\ud800-\udfff"  # lone ones only exist in Python strings: no encoder or nh3 takes them
NONCHARACTERS = "\ufffe\uffff"
LINE_SEPARATORS = "\u2028\u2029"  # U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR

# --- what each use makes of them -----------------------------------------------------------------
# What no stored HTML body holds: C0 controls but \t \n \r, DEL, lone surrogates and U+FFFE/U+FFFF.
# None but DEL is allowed in XML (and HTML calls DEL a control), so a body also loads in XML tools.
NOT_IN_MARKUP = C0_CONTROLS_BUT_TAB_AND_NEWLINES + DELETE + SURROGATES + NONCHARACTERS
# The same with \t \n \r: what a text node of a cleaned body loses or has collapsed (text/clean.py).
CONTROLS_IN_TEXT = C0_CONTROLS + DELETE + SURROGATES + NONCHARACTERS
# Invisible in a plain-text field: Unicode 15 general categories Cc and Cf, surrogates, and two
# noncharacters; the whitespace controls (tab, newlines, \x1c-\x1f, NEL) are left out, for the
# whitespace collapse that makes them spaces. tests/text/test_plain.py checks the table against the
# running Python's Unicode database.
INVISIBLE = (
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ufffe\uffff"
    "\ud800-\udfff\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# What a YAML double-quoted scalar cannot hold literally: the quote, the backslash, C0 and C1
# controls, DEL, the line/paragraph separators YAML treats as line breaks, and lone surrogates.
YAML_ESCAPED = '"\\\\' + C0_CONTROLS + DELETE + C1_CONTROLS + LINE_SEPARATORS + SURROGATES
# Never inside a URL as written: whitespace and the C0 controls and DEL.
NOT_IN_URL = r"\s" + C0_CONTROLS + DELETE


def character_class(*classes: str) -> re.Pattern[str]:
    """One character of any of ``classes``."""
    return re.compile(f"[{''.join(classes)}]")


# One compiled pattern for the sanitizer and the cleaner, which drop the same characters.
UNSAFE_IN_MARKUP = character_class(NOT_IN_MARKUP)
