"""lxml helpers shared by the site parsers: parse without raising, inner HTML, plain text
(newsarchive.text.plain, re-exported here for the parsers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import lxml.html
from lxml import etree

from newsarchive.text.nesting import parse_within_depth, stopped_by_a_limit
from newsarchive.text.plain import plain_text

__all__ = ["first", "inner_html", "match", "node_text", "parse_document", "parse_tree", "plain_text"]

# huge_tree: libxml2 otherwise stops at 256 levels and drops the rest of the page (issue 13). It
# still stops at 2048: a page that deep is parsed again with the tags below about 1,600 levels
# dropped (text kept; a body selected below that level is lost, and the page drops as no_body).
_PARSER = lxml.html.HTMLParser(huge_tree=True)
MAX_PAGE_DEPTH = 2000


def parse_tree(html: str) -> Any:
    """The document element, or None for empty or unparseable text (never raises)."""
    return _parse_bounded(html, lxml.html.fromstring)


def parse_document(html: str) -> lxml.html.HtmlElement | None:
    """Like :func:`parse_tree`, but always the ``<html>`` element (never a fragment's own root)."""
    return _parse_bounded(html, lxml.html.document_fromstring)


def _parse_bounded(html: str, parse: Callable[..., Any]) -> Any:
    """``parse`` with the shared parser; a page nested deeper than libxml2 takes keeps its text
    (newsarchive.text.nesting)."""
    if not html.strip():
        return None

    def attempt(text: str) -> Any:
        try:
            return parse(text, parser=_PARSER)
        except (etree.ParserError, ValueError):
            return None

    return parse_within_depth(html, attempt, lambda tree: stopped_by_a_limit(_PARSER), MAX_PAGE_DEPTH)


def inner_html(node: Any) -> str:
    """The markup inside ``node``, serialized as HTML: its leading text escaped exactly as lxml
    escapes text (``a &lt;b&gt;`` stays text, never becomes a tag), then its children with their tails."""
    parts = [_escaped_text(node.text)]
    parts.extend(etree.tostring(child, encoding="unicode", method="html", with_tail=True) for child in node)
    return "".join(parts)


def _escaped_text(text: str | None) -> str:
    """``text`` as lxml writes the text of an element (the same escaping as the children's tails)."""
    if not text:
        return ""
    holder = etree.Element("t")
    holder.text = text
    serialized: str = etree.tostring(holder, encoding="unicode", method="html")
    return serialized[len("<t>") : -len("</t>")]


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
