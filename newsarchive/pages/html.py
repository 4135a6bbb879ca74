"""lxml helpers shared by the site parsers: parse without raising, inner HTML, plain text
(newsarchive.text.plain, re-exported here for the parsers)."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
from lxml import etree

from newsarchive.text.plain import plain_text

__all__ = ["first", "inner_html", "match", "node_text", "parse_tree", "plain_text"]


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


def match(pattern: re.Pattern[str], text: str | None) -> str | None:
    """The pattern's first group (or whole match) in ``text``, as plain text."""
    if not text:
        return None
    found = pattern.search(text)
    if not found:
        return None
    return plain_text(found.group(1) if pattern.groups else found.group(0))
