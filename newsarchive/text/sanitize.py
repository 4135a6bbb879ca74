"""Allowlist HTML sanitizer (nh3, the Rust ammonia library): the last step of every cleaned body.

Whatever the input, the output holds only the tags and attributes below, and URLs only with http(s) or
no scheme, so nothing stored or exported can run code (issue 3, point 2).
"""

from __future__ import annotations

import nh3

from newsarchive.text.characters import UNSAFE_IN_MARKUP

ALLOWED_TAGS = frozenset(
    {"p", "strong", "b", "em", "i", "br", "ul", "ol", "li"}
    | {"table", "thead", "tbody", "tr", "th", "td", "img"}
)
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "img": frozenset({"src", "alt"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
}
URL_SCHEMES = frozenset({"http", "https"})  # relative URLs pass; javascript:, data:, vbscript: do not
# Dropped with their content rather than unwrapped: their text is code, or markup shown as text.
CONTENT_DROPPED_TAGS = frozenset(
    {"script", "style", "template", "noscript", "iframe", "object", "embed", "applet", "svg", "math"}
    | {"title", "textarea", "select", "xmp", "noembed", "noframes", "frameset", "plaintext"}
)
# Python strings nh3 cannot take (lone surrogates), C0 controls but \t \n \r, and the noncharacters
# U+FFFE/U+FFFF: the output also loads in lxml and other XML tools (newsarchive.text.characters).
_UNSAFE_CHARACTERS = UNSAFE_IN_MARKUP
# ammonia writes U+00A0 as &nbsp;; the cleaner stores the character itself (and "&amp;nbsp;" has no "&nbsp;").
_NBSP_ENTITY = "&nbsp;"

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(CONTENT_DROPPED_TAGS),
    # "*": no generic attributes (ammonia otherwise allows lang and title on every tag)
    attributes={"*": set(), **{tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}},
    url_schemes=set(URL_SCHEMES),
    link_rel=None,
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Keep only allowlisted tags, attributes and URL schemes; idempotent, never raises on a str.

    Time grows with the square of the number of character references (&...;) in one text node or
    attribute value (html5ever, servo/html5ever#289): about 0.25 s for 200,000 in one paragraph.
    """
    return _CLEANER.clean(_UNSAFE_CHARACTERS.sub("", html)).replace(_NBSP_ENTITY, "\xa0")
