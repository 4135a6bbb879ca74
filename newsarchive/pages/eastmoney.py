"""East Money parsers: column list JSON, 7x24 list JSON and article pages (current and older layout).

Selectors live here as constants so a redesign is a one-file change (reference: eastmoney.md §1–2).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from newsarchive.ids import article_url, code_from_url
from newsarchive.pages.html import first, inner_html, match, node_text, parse_tree, plain_text
from newsarchive.pages.jsonp import jsonp_payload
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError, read_rows

# The page model moved to newsarchive.pages.model; re-exported so existing imports keep working.
__all__ = [
    "CFH_KIND",
    "ArticlePage",
    "ListingEntry",
    "ListingPage",
    "PageError",
    "classify_url",
    "page_number",
    "page_url",
    "parse_article",
    "parse_column_list",
    "parse_fast_list",
]

COLUMN_LIST_PATH = "/comm/web/getNewsByColumns"
FAST_LIST_PATH = "/comm/web/getFastNewsList"
CFH_KIND = "CFH"  # 财富号 posts: a different site and layout, skipped by the spiders

_ARTICLE_CODE = re.compile(r"\d{18}")  # every East Money article code has 18 digits (newsarchive.ids)
# json.loads refuses an integer of more than 4,300 digits with a ValueError for the whole document:
# a longer number is no count and no code, so it is kept as its digits and only its row is rejected.
_MAX_INT_DIGITS = 40
_TITLE_SUFFIX = re.compile(r"\s*[_\-|]\s*东方财富网.*$")
_PAGE_TIME = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}(?::\d{2})?")
_SOURCE_ITEM = re.compile(r"来源[：:]\s*(.+)")
# A header item naming the source bare, with no 来源： label: <div class="item">界面新闻</div> (a Jest
# fixture, eastmoney.md §2.3 and §6). Any short item with no "label：" that is not the time; the
# labelled 来源： item wins where both are there, and the body's （文章来源：…） line is the last resort.
_BARE_SOURCE_ITEM = re.compile(r"^(?=.*[\u4e00-\u9fffA-Za-z])[^：:]{2,30}$")
_AUTHOR_ITEM = re.compile(r"作者[：:]\s*(.+)")
_EM_MEDIA = re.compile(r"文章来源[：:]\s*([^）)]+)")
# Long articles continue on <code>_2.html, <code>_3.html … (eastmoney.md §2.1, §6): the pager's links
# to <code>_N.html (absolute, root-relative or relative) say how many pages there are; its markup is
# not known, so any link on the page counts, and only to the same code. A link past MAX_ARTICLE_PAGES
# is junk, never that many requests.
_PAGE_FILE = re.compile(r"(\d{18})(?:_(\d+))?\.html$")
_PAGE_LINK = re.compile(r"(?:^|/)(\d{18})_(\d+)\.html(?:[?#].*)?$")
MAX_ARTICLE_PAGES = 50

# Selectors are compiled once: tree.xpath(text) compiles its expression on every call, which took
# a fifth of the time an article page took to parse (bench/parse_clean.py).
# current layout (≈2023–): header items in .tipbox .infos, body in div.txtinfos#ContentBody
_INFO_ITEMS = etree.XPath("//div[contains(concat(' ', normalize-space(@class), ' '), ' infos ')]/div")
_CURRENT_TITLE = etree.XPath("//div[contains(@class, 'contentwrap')]/div[@class='title']")
# older layout (≈2016–2021)
_OLD_TITLE = etree.XPath("//div[@class='newsContent']/h1")
_OLD_TIME = etree.XPath("//div[@class='time-source']//div[@class='time']")
_OLD_SOURCE = etree.XPath("//div[contains(@class, 'source')][@data-source]/@data-source")
_OLD_SOURCE_IMG = etree.XPath("//div[@class='source']/img/@alt")
_OLD_AUTHOR = etree.XPath("//div[@class='time-source']//div[@class='author']")
_OLD_REVIEW = etree.XPath("//div[@class='b-review']")
_BODY = etree.XPath("//div[@id='ContentBody']")
_EM_MEDIA_P = etree.XPath(".//p[contains(@class, 'em_media')]")
_DESCRIPTION = etree.XPath("//meta[@name='description']/@content")
_ABSTRACT = etree.XPath("//div[@class='abstract']")
_TITLE = etree.XPath("//title")
_LINKS = etree.XPath("//a/@href")


def classify_url(url: str) -> str | None:
    """Which parser handles a URL: ``columns``, ``fast``, ``article`` or None."""
    parts = urlsplit(url)
    if parts.path.endswith(COLUMN_LIST_PATH):
        return "columns"
    if parts.path.endswith(FAST_LIST_PATH):
        return "fast"
    if parts.netloc.endswith("eastmoney.com") and code_from_url(parts.path):
        return "article"
    return None


def page_number(url: str) -> int:
    """Which page of its article ``url`` is: 1 for ``/a/<code>.html``, N for ``/a/<code>_N.html``."""
    found = _PAGE_FILE.search(urlsplit(url).path)
    return int(found.group(2)) if found and found.group(2) else 1


def page_url(url: str, number: int) -> str:
    """The URL of page ``number`` of the article at ``url`` (same scheme and host)."""
    parts = urlsplit(url)
    found = _PAGE_FILE.search(parts.path)
    if found is None:
        raise ValueError(f"not an East Money article URL: {url!r}")
    name = f"{found.group(1)}.html" if number == 1 else f"{found.group(1)}_{number}.html"
    return f"{parts.scheme}://{parts.netloc}{parts.path[: found.start()]}{name}"


def parse_column_list(text: str, url: str) -> ListingPage:
    """Parse a ``getNewsByColumns`` response (JSON or JSONP)."""
    data, rows, wrapped = _listing_rows(text, "list")
    entries, rejected = read_rows(rows, _column_entry)
    total = _as_int(data.get("totle_hits", data.get("total_hits")))  # sic: the API spells it "totle"
    return ListingPage(
        entries=entries,
        total=total,
        page_index=_as_int(data.get("page_index")),
        rejected=rejected,
        wrapped=wrapped,
    )


def parse_fast_list(text: str, url: str) -> ListingPage:
    """Parse a ``getFastNewsList`` (7x24) response; ``next_cursor`` is the ``sortEnd`` to send next."""
    data, rows, wrapped = _listing_rows(text, "fastNewsList")
    entries, rejected = read_rows(rows, _fast_entry)
    cursor = data.get("sortEnd")
    return ListingPage(
        entries=entries,
        total=_as_int(data.get("total")),
        next_cursor=str(cursor) if _is_scalar(cursor) and str(cursor) else None,
        rejected=rejected,
        wrapped=wrapped,
    )


def parse_article(html: str, url: str) -> ArticlePage:
    """Parse an article page of either layout. Missing fields come back as None, never raise on junk."""
    tree = parse_tree(html)
    page = page_number(url)
    if tree is None:
        return ArticlePage(
            code_from_url(url), "unknown", None, None, None, None, None, None, page=page, pages=page
        )
    layout = "older" if _OLD_TITLE(tree) else "current"
    body = first(_BODY(tree))
    if layout == "older":
        title = node_text(first(_OLD_TITLE(tree)))
        published = match(_PAGE_TIME, node_text(first(_OLD_TIME(tree))))
        media = plain_text(first(_OLD_SOURCE(tree)) or first(_OLD_SOURCE_IMG(tree)))
        author = match(_AUTHOR_ITEM, node_text(first(_OLD_AUTHOR(tree))))
        summary = node_text(first(_OLD_REVIEW(tree)))
    else:
        items = [node_text(node) or "" for node in _INFO_ITEMS(tree)]
        title = _page_title(tree)
        published = next((m for item in items if (m := match(_PAGE_TIME, item))), None)
        media = next((m for item in items if (m := match(_SOURCE_ITEM, item))), None) or _bare_source(items)
        author = next((m for item in items if (m := match(_AUTHOR_ITEM, item))), None)
        summary = plain_text(first(_DESCRIPTION(tree))) or node_text(first(_ABSTRACT(tree)))
    if media is None and body is not None:
        media = match(_EM_MEDIA, node_text(first(_EM_MEDIA_P(body))))
    return ArticlePage(
        code=code_from_url(url),
        layout=layout,
        title=title,
        published_raw=published,
        media=media,
        author=author,
        summary=summary,
        body_html=inner_html(body) if body is not None else None,
        page=page,
        pages=_page_count(tree, code_from_url(url), page),
    )


def _page_count(tree: Any, code: str | None, page: int) -> int:
    """How many pages the article has: the highest page its pager links (this page at least)."""
    linked = (
        int(found.group(2))
        for href in _LINKS(tree)
        if (found := _PAGE_LINK.search(str(href).strip())) and found.group(1) == code
    )
    return max([page, *(number for number in linked if number <= MAX_ARTICLE_PAGES)]) if code else page


def _bare_source(items: list[str]) -> str | None:
    """The first header item that is a bare source name (no label, not the time), or None."""
    return next(
        (item for item in items if _BARE_SOURCE_ITEM.match(item) and not _PAGE_TIME.search(item)), None
    )


def _column_entry(row: Any) -> ListingEntry | None:
    code = _row_code(row)
    if code is None:
        return None
    kind = _text(row.get("np_dst")) or _text(row.get("Np_dst")) or "CMS"
    kind = kind.upper()
    # Link rule of the site's own list script: 财富号 posts link to caifuhao, the rest to /a/<code>.html.
    url = (_text(row.get("url")) or "") if kind == CFH_KIND else article_url(code)
    return ListingEntry(
        code=code,
        kind=kind,
        title=_text(row.get("title")),
        show_time=_text(row.get("showTime")),
        media=_text(row.get("mediaName")),
        summary=_text(row.get("summary")),
        url=url,
    )


def _fast_entry(row: Any) -> ListingEntry | None:
    code = _row_code(row)
    if code is None:
        return None
    return ListingEntry(
        code=code,
        kind="CMS",
        title=_text(row.get("title")),
        show_time=_text(row.get("showTime")),
        media=None,
        summary=_text(row.get("summary")),
        url=article_url(code),
    )


def _row_code(row: Any) -> str | None:
    """The row's 18-digit article code (the API sends a string; a number is accepted), or None."""
    if not isinstance(row, dict):
        return None
    code = row.get("code")
    if not _is_scalar(code) or isinstance(code, float):
        return None
    text = str(code).strip()
    return text if _ARTICLE_CODE.fullmatch(text) else None


def _text(value: Any) -> str | None:
    """A row's text field as plain text; anything but a string (an object, a list, a number) is
    junk, missing rather than stored as its Python repr."""
    return plain_text(value) if isinstance(value, str) else None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _listing_rows(text: str, rows_key: str) -> tuple[dict[str, Any], list[Any], bool]:
    """The ``data`` object and its row list from a list API envelope (success code is 1 or "1"),
    and whether it came wrapped in a JSONP callback."""
    payload, wrapped = _load_json(text)
    if str(payload.get("code")) != "1":
        raise PageError("api_error", str(payload.get("message", ""))[:200])
    data = payload.get("data")
    if not isinstance(data, dict):
        raise PageError("no_data")  # e.g. getFastNewsList without sortEnd answers data:null
    rows = data.get(rows_key)
    if not isinstance(rows, list):
        raise PageError("no_list")
    return data, rows, wrapped


def _load_json(text: str) -> tuple[dict[str, Any], bool]:
    wrapped = jsonp_payload(text) if not text.lstrip().startswith("{") else None
    try:
        payload = json.loads(text if wrapped is None else wrapped, parse_int=_json_int)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise PageError("bad_json", str(exc)[:200]) from None
    if not isinstance(payload, dict):
        raise PageError("bad_json", "top level is not an object")
    return payload, wrapped is not None


def _page_title(tree: Any) -> str | None:
    # The page has no h1; the real title is in <title> with the site suffix (div.title is a fallback).
    raw = node_text(first(_TITLE(tree)))
    if raw:
        return plain_text(_TITLE_SUFFIX.sub("", raw))
    return node_text(first(_CURRENT_TITLE(tree)))


def _json_int(digits: str) -> int | str:
    return int(digits) if len(digits.lstrip("-")) <= _MAX_INT_DIGITS else digits


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 parses as infinity
        return None
