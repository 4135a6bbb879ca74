"""Plain text for the short fields (title, media, author, summary, section, tags, category): one line,
no markup fragment, no invisible control character.

The rule follows the HTML tokenizer, so that text printed unescaped by a site layout
(``{{ page.title }}``) can never open a tag there: a ``<`` directly followed by an ASCII letter, ``/``,
``!`` or ``?`` starts a tag, end tag, comment or declaration, and is removed together with everything up
to the ``>`` that closes it, or, if nothing closes it, up to the end of the text (a browser shows
nothing of an unclosed tag either). Tags are matched like brackets, innermost first, so pieces that
form a tag once an inner one is gone (``<scr<script>ipt>``) go as well. Any other ``<`` and every ``>``
is text: ``PMI<50``, ``5<6``, ``A股>B股`` and ``<<发展>>`` stay as they are, while ``A<B股`` (which
HTML reads as a ``<b股>`` tag) loses ``<B股``.

Removed first: C0/C1 controls, Unicode format characters (bidi embeddings, overrides and isolates
such as U+202E, zero-width spaces and joiners, the BOM, soft hyphens, tag characters), lone
surrogates and the noncharacters U+FFFE/U+FFFF. Whitespace runs then become one space.
"""

from __future__ import annotations

import re

from newsarchive.text.characters import INVISIBLE, character_class

_INVISIBLE = character_class(INVISIBLE)  # Cc, Cf, surrogates, U+FFFE/U+FFFF (newsarchive.text.characters)
_TAG_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/!?")
_NO_MARKUP = re.compile(r"<[A-Za-z/!?]")


def plain_text(value: object) -> str | None:
    """``value`` as plain single-line text (rules above), or None when nothing is left.

    Idempotent, never raises, linear in the length of the text."""
    if value is None:
        return None
    text = _INVISIBLE.sub("", str(value))
    if _NO_MARKUP.search(text):
        text = _without_tags(text)
    return " ".join(text.split()) or None


def _without_tags(text: str) -> str:
    """Remove every tag-like span, matching ``<X`` openers with the next ``>`` like brackets."""
    kept: list[str] = []
    openers: list[int] = []  # where each still-open tag starts in ``kept``
    for char in text:
        if char == ">" and openers:
            del kept[openers.pop() :]
            continue
        kept.append(char)
        # checked on the output, so a "<" left before a removed tag still opens one with what follows
        if char in _TAG_NAME_START and len(kept) > 1 and kept[-2] == "<":
            openers.append(len(kept) - 2)
    if openers:  # unclosed: a browser would not show the rest either
        del kept[openers[0] :]
    return "".join(kept)
