"""lxml helpers shared by the site parsers: parse without raising, inner HTML, plain text."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
from lxml import etree

_TAG = re.compile(r"<[^<>]*>")
# C0 controls (but tab and newlines) and lone surrogates: no database or file encoding takes them.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def parse_tree(html: str) -> Any:
    """The document element, or None for empty or unparseable text (never raises)."""
    try:
        return lxml.html.fromstring(html) if html.strip() else None
    except (etree.ParserError, ValueError):
        return None


def inner_html(node: Any) -> str:
    parts = [node.text or ""]
    parts.extend(etree.tostring(child, encoding="unicode", with_tail=True) for child in node)
    return "".join(parts)


def first(values: list[Any]) -> Any:
    return values[0] if values else None


def node_text(node: Any) -> str | None:
    return None if node is None else plain_text(node.text_content())


def plain_text(value: Any) -> str | None:
    """Plain single-line text or None: no tags (list APIs wrap hits in <em>), no control
    characters or lone surrogates, whitespace runs collapsed."""
    if value is None:
        return None
    text = " ".join(_UNPRINTABLE.sub("", _TAG.sub("", str(value))).split())
    return text or None


def match(pattern: re.Pattern[str], text: str | None) -> str | None:
    """The pattern's first group (or whole match) in ``text``, as plain text."""
    if not text:
        return None
    found = pattern.search(text)
    if not found:
        return None
    return plain_text(found.group(1) if pattern.groups else found.group(0))
