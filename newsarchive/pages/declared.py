"""Generic parser for declared sites (newsarchive/sites/*.toml): listing rows and article pages.

Pure: decoded text + URL + :class:`SiteSpec` in, plain data out (callers decode with
``newsarchive.text.encoding.decode_html``). Without a body selector the main text comes from
trafilatura, offline, and the article is marked ``extraction="generic"``. A field is an XPath over
the HTML or a :class:`JsonSelector` over JSON embedded in the page (Next.js ``__NEXT_DATA__``); the
URL picks the template (the current one, or a ``[[legacy]]`` one for the URLs an older site had).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from newsarchive.pages.html import inner_html, parse_document
from newsarchive.pages.model import PageError
from newsarchive.sites.loader import BoilerplateSpec, JsonSelector, ListingSpec, Selector, SiteSpec

INFO_CODE = re.compile(r"[A-Z][A-Z0-9]*-[A-Za-z0-9]+")
_ID_PART = re.compile(r"[A-Za-z0-9]+")

Extraction = Literal["selectors", "generic"]


class DeclaredPageError(PageError):
    """A page the site's selectors cannot read; ``reason`` is a short stats key (``no_title``…)."""


@dataclass(frozen=True)
class DeclaredEntry:
    """One listing row: the absolute article URL and what the row says about it."""

    column: str
    url: str  # "" when the row's link could not be read
    info_code: str | None  # None: the URL does not fit the site's id_pattern (not an article), or no URL
    title: str | None
    date_raw: str | None  # as printed ("08-08 07:37", "14:31"), or ISO text when a date_formats entry
    # with a year read it ("2021-12-08 13:04")


@dataclass(frozen=True)
class DeclaredArticle:
    url: str
    info_code: str | None
    title: str
    published_raw: str | None
    media: str  # the site's canonical outlet (site file ``media``)
    source: str | None  # the page's own 来源 line, label stripped
    author: str | None
    body_html: str
    extraction: Extraction


def info_code(spec: SiteSpec, url: str) -> str | None:
    """``NAMESPACE-<id>`` from the article URL, or None; never contains ``/`` or ``.``."""
    match = spec.id_pattern.search(url)
    if match is None or match.group(1) is None or not _ID_PART.fullmatch(match.group(1)):
        return None
    return f"{spec.id_namespace}-{match.group(1)}"


def next_page_url(spec: SiteSpec, column: str, page_number: int) -> str | None:
    """URL of list page ``page_number`` of ``column`` (1 is the start URL; cs.com.cn's page 2 is
    ``index_1.html``); None when the site does not number its pages (see :func:`linked_next_page`)."""
    if page_number < 1:
        raise ValueError(f"page numbers start at 1, not {page_number}")
    start = spec.column_url(column)
    if page_number == 1:
        return start
    if spec.listing.page_pattern is None:
        return None
    number = spec.listing.first_page + page_number - 2
    return urljoin(start, spec.listing.page_pattern.replace("{n}", str(number)))


def linked_next_page(spec: SiteSpec, html: str, url: str) -> str | None:
    """The next list page named by the site's ``listing.next_link`` selector, absolute, or None."""
    if spec.listing.next_link is None:
        return None
    document = parse_document(html)
    if document is None:
        return None
    href = _first_text(document, (spec.listing.next_link,))
    try:
        return _absolute(url, href)
    except ValueError:  # e.g. an unbalanced "[" in the host: no next page to follow
        return None


def parse_listing(spec: SiteSpec, column: str, html: str, url: str) -> list[DeclaredEntry]:
    """Rows of a listing page, in page order, each URL absolute and listed once. A row that cannot
    be read (an href urljoin refuses…) comes back with no URL and no info_code: it costs only itself."""
    document = parse_document(html)
    if document is None:
        return []
    listing = spec.listing_for(url)
    rows: list[Any]
    if isinstance(listing.entry, JsonSelector):
        found = _json_value(_page_json(document, listing.json_script), listing.entry.path)
        rows = [row for row in found if isinstance(row, dict)] if isinstance(found, list) else []
    else:
        rows = [row for row in document.xpath(listing.entry) if isinstance(row, etree._Element)]
    entries: list[DeclaredEntry] = []
    seen: set[str] = set()
    for row in rows:
        try:
            entry = _listing_entry(spec, listing, column, row, url)
        except Exception:  # a row no rule foresaw: rejected (counted by the caller), never the page
            entry = DeclaredEntry(column=column, url="", info_code=None, title=None, date_raw=None)
        if entry is None or (entry.url and entry.url in seen):
            continue  # separator rows (cs.com.cn li.nobg) and repeats
        seen.add(entry.url)
        entries.append(entry)
    return entries


def _listing_entry(
    spec: SiteSpec, listing: ListingSpec, column: str, row: etree._Element | dict[str, Any], url: str
) -> DeclaredEntry | None:
    element, data = (None, row) if isinstance(row, dict) else (row, None)

    def read(selector: Selector | None) -> str | None:
        return None if selector is None else _first_text(element, (selector,), data)

    link = _absolute(url, read(listing.link))
    if link is None:
        return None
    return DeclaredEntry(
        column=column,
        url=link,
        info_code=info_code(spec, link),
        title=read(listing.title),
        date_raw=_dated(read(listing.date), listing.date_formats),
    )


def parse_article(spec: SiteSpec, html: str, url: str) -> DeclaredArticle:
    """An article page read with the site's selectors (or trafilatura for the body, see module doc)."""
    document = parse_document(html)
    if document is None:
        raise DeclaredPageError("empty_page", url)
    article = spec.article_for(url)
    data = _page_json(document, article.json_script)
    title = _first_text(document, article.title, data)
    if title is None:
        raise DeclaredPageError("no_title", url)
    extraction: Extraction
    if article.body:
        body = _first_element(document, article.body, data)
        if body is None:
            raise DeclaredPageError("no_body", url)
        body = deepcopy(body)
        extraction = "selectors"
    else:
        body = _generic_body(html, url)
        extraction = "generic"
    _drop_boilerplate(body, spec.boilerplate)
    body_html = inner_html(body).strip()
    if not body_html:
        raise DeclaredPageError("empty_body", url)
    return DeclaredArticle(
        url=url,
        info_code=info_code(spec, url),
        title=title,
        published_raw=_dated(_first_text(document, article.time, data), article.date_formats),
        media=spec.media,
        source=_unlabel(_first_text(document, article.source, data), article.strip_labels),
        author=_unlabel(_first_text(document, article.author, data), article.strip_labels),
        body_html=body_html,
        extraction=extraction,
    )


def _clean(text: str) -> str:
    # str.split() also splits on \u3000, \xa0 and \u2002, which XPath normalize-space() keeps
    return " ".join(text.split())


def _first_text(node: etree._Element | None, selectors: tuple[Selector, ...], data: Any = None) -> str | None:
    """The first non-empty text the selectors find: XPaths on ``node``, JSON selectors in ``data``."""
    for selector in selectors:
        if isinstance(selector, JsonSelector):
            text = _json_text(data, selector)
            if text:
                return text
            continue
        if node is None:
            continue
        results = node.xpath(selector)
        for result in results if isinstance(results, list) else [results]:
            if isinstance(result, etree._Element):
                text = _clean(result.text_content() if isinstance(result, lxml.html.HtmlElement) else "")
            else:
                text = _clean(str(result))
            if text:
                return text
    return None


def _first_element(
    node: etree._Element, selectors: tuple[Selector, ...], data: Any = None
) -> lxml.html.HtmlElement | None:
    """The first element the selectors find; a JSON selector's string is HTML, parsed into a <div>."""
    for selector in selectors:
        if isinstance(selector, JsonSelector):
            value = _json_value(data, selector.path)
            if isinstance(value, str) and value.strip():
                return lxml.html.fragment_fromstring(value, create_parent="div")
            continue
        results = node.xpath(selector)
        for result in results if isinstance(results, list) else []:
            if isinstance(result, lxml.html.HtmlElement):
                return result
    return None


def _page_json(document: etree._Element, script: str | None) -> Any:
    """The JSON document in the first element ``script`` selects (None: none, or not JSON)."""
    if script is None:
        return None
    for element in document.xpath(script):
        if isinstance(element, etree._Element):
            try:
                return json.loads(element.text or "")
            except (ValueError, RecursionError):
                return None
    return None


def _json_value(data: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` (keys; digits index lists), or None where a step is missing."""
    for step in path:
        if isinstance(data, Mapping):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


_DATE_PARTS = ("year", "month", "day")


def _json_text(data: Any, selector: JsonSelector) -> str | None:
    """A JSON value as text, after the selector's processors. Strings and numbers as they are; an
    object with ``year``, ``month``, ``day`` (optionally ``hour``, ``minute``, ``second``) as
    ``YYYY-MM-DD[ HH:MM[:SS]]`` (cnstock's ``shareInfo.dateInfo``); anything else is no text."""
    value = _json_value(data, selector.path)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Mapping):
        text = _date_text(value)
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        return None
    if text is None:
        return None
    if selector.format is not None:
        text = selector.format.format(text)
    text = _clean(text)
    return _unlabel(text, selector.strip_prefix) if selector.strip_prefix else (text or None)


def _date_text(parts: Mapping[str, Any]) -> str | None:
    try:
        numbers = [int(parts[key]) for key in _DATE_PARTS]
        clock = [int(parts[key]) for key in ("hour", "minute", "second") if key in parts]
    except (KeyError, TypeError, ValueError):
        return None
    text = "{:04d}-{:02d}-{:02d}".format(*numbers)
    if len(clock) >= 2:
        text += " " + ":".join(f"{number:02d}" for number in clock)
    return text


def _dated(text: str | None, formats: tuple[str, ...]) -> str | None:
    """``text`` rewritten as ``YYYY-MM-DD HH:MM[:SS]`` when one of the site's ``date_formats`` with a
    year reads it (``2021年12月08日 13:04`` → ``2021-12-08 13:04``); otherwise as printed, for
    newsarchive.text.dates (which knows partial and relative dates) to read."""
    if text is None:
        return None
    for pattern in formats:
        if "%Y" not in pattern:
            continue
        try:
            value = datetime.strptime(text, pattern)
        except ValueError:
            continue
        shown = (
            "%Y-%m-%d %H:%M:%S" if "%S" in pattern else "%Y-%m-%d %H:%M" if "%M" in pattern else "%Y-%m-%d"
        )
        return value.strftime(shown)
    return text


def _absolute(base: str, href: str | None) -> str | None:
    if not href or href.lower().startswith(("javascript:", "#", "mailto:")):
        return None
    absolute = urljoin(base, href)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _unlabel(text: str | None, labels: tuple[str, ...]) -> str | None:
    if text is None:
        return None
    for label in labels:
        if text.startswith(label):
            text = text[len(label) :].strip()
            break
    return text or None


def _generic_body(html: str, url: str) -> lxml.html.HtmlElement:
    """Main text by trafilatura (imported lazily: only sites without a body selector need it)."""
    import trafilatura

    extracted = None
    # precision first: it keeps the paragraphs and leaves out the title/byline header; recall only
    # when precision finds nothing (very short pages)
    for favor_precision in (True, False):
        extracted = trafilatura.extract(
            html,
            url=url,
            output_format="html",
            include_formatting=True,
            include_comments=False,
            include_tables=True,
            include_links=False,
            deduplicate=False,
            favor_precision=favor_precision,
        )
        if extracted:
            break
    if not extracted:
        raise DeclaredPageError("no_body", f"{url} (generic extraction found no main text)")
    document = lxml.html.document_fromstring(extracted)
    body = document.find("body")
    return body if body is not None else document


def _drop_boilerplate(body: lxml.html.HtmlElement, rules: BoilerplateSpec) -> None:
    """Apply a site's boilerplate rules in place, at any depth (cnstock nests its paragraphs in divs).

    ``cut_from``: the first element, in document order, whose text matches is removed with everything
    after it up to the end of the body. ``drop_paragraphs``: every matching element is removed. The
    patterns should be anchored (``^相关阅读``) so that a wrapper holding the whole text never matches.
    """
    for expression in rules.drop:
        for node in body.xpath(expression):
            if isinstance(node, lxml.html.HtmlElement) and node is not body:
                node.drop_tree()
    if rules.cut_from:
        for element in _descendants(body):
            if any(pattern.search(_clean(element.text_content())) for pattern in rules.cut_from):
                _cut_to_end(body, element)
                break
    if rules.drop_paragraphs:
        for element in _descendants(body):
            if any(pattern.search(_clean(element.text_content())) for pattern in rules.drop_paragraphs):
                element.drop_tree()


def _descendants(body: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return [node for node in body.iterdescendants() if isinstance(node, lxml.html.HtmlElement)]


def _cut_to_end(body: lxml.html.HtmlElement, start: lxml.html.HtmlElement) -> None:
    node = start
    while node is not body:
        parent = node.getparent()
        if parent is None:
            return
        for later in list(node.itersiblings()):
            parent.remove(later)
        node.tail = None
        if node is start:
            parent.remove(node)
        node = parent
