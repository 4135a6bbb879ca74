"""证券日报网 (www.zqrb.cn) parsers: 栏目 listing pages (both list templates) and article pages.

Pure: HTML text and URL in, page model out. Selectors are constants (reference: sites.md §1.3–1.6).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from newsarchive.ids import ZQRB_HOSTS, zqrb_info_code
from newsarchive.pages.html import first, inner_html, match, node_text, parse_tree, plain_text
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, read_rows

DEFAULT_MEDIA = "证券日报网"  # an article page without a 来源 line is the site's own
ENTRY_KIND = "zqrb"

# Listing, Era B (≈2019–): div.news_content > ul > li: span.date · a.lista[title][href]
LIST_ROWS_B = "//div[@class='news_content']/ul/li"
# Listing, Era A (≈2015–2018): div.listMain li: a[href][title] span.date; the last anchors are the pager
LIST_ROWS_A = "//div[@class='listMain']//li"
ROW_LINK = ".//a[@href]"
ROW_DATE = ".//span[@class='date']"
# sites.md §1.4: the pager's next link carries title="下一页" (Era A pagers only say it as the text)
NEXT_PAGE = "//a[@title='下一页']/@href | //a[normalize-space(.)='下一页']/@href"

# Article (Era B): div.news_content > h1, div.info_news, then <!--con--> div.content-lcq (older: div.content)
ARTICLE_TITLE = "//div[@class='news_content']/h1"
INFO_LINE = "//div[@class='news_content']/div[@class='info_news']"
ERA_A_INFO = "//div[@class='sub_bt']"  # 文章来源：<a>证券日报</a>  更新时间：YYYY-MM-DD HH:MM
BODIES = (
    ("content-lcq", "//div[@class='content-lcq']"),
    ("content", "//div[@class='news_content']/div[@class='content']"),
    ("content", "//div[@class='content']"),
)
CRUMB = "//div[contains(@class, 'crumb')]"
PAGE_TITLE = "//title"
DESCRIPTION = "//meta[@name='description']/@content"

_TITLE_SUFFIX = re.compile(r"\s*[-_|]\s*证券日报网\s*$")
_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?")
_SOURCE = re.compile(r"(?:文章)?来源[：:]\s*(\S+)")
_AUTHOR = re.compile(r"作者[：:]\s*(\S+)")
# sites.md §1.6: the body's first paragraph is the byline 本报记者 周菊 (several names: spaces or 、)
_NAME = r"[\u4e00-\u9fff·]{2,8}"
_BYLINE = re.compile(rf"^本报(?:见习|特约)?记者\s*({_NAME}(?:[\s、，,]+{_NAME})*)$")
_CRUMB_SPLIT = re.compile(r"\s*(?:>|＞|»|›)\s*")
_CRUMB_SKIP = frozenset({"首页", "正文", ""})


def is_listing_url(url: str) -> bool:
    """A 栏目 page: ``/{channel}/{column}/`` (``index.html`` or ``index_p{N}.html``) on a zqrb host."""
    parts = urlsplit(url)
    if (parts.hostname or "") not in ZQRB_HOSTS:
        return False
    return re.fullmatch(r"/[a-z]+/[a-z]+/(?:index(?:_p\d+)?\.html)?", parts.path) is not None


def parse_listing(html: str, url: str) -> ListingPage:
    """Rows of either list template; hrefs resolve against ``url``. ``next_cursor`` is the absolute
    URL of the next page when the page links one (and it is not this page), else None."""
    tree = parse_tree(html)
    if tree is None:
        return ListingPage(entries=[])
    rows = tree.xpath(LIST_ROWS_B) or tree.xpath(LIST_ROWS_A)
    entries, rejected = read_rows(rows, lambda row: _entry(row, url))
    return ListingPage(entries=entries, next_cursor=_next_page(tree, url), rejected=rejected)


def parse_article(html: str, url: str) -> ArticlePage:
    """Title, time, 来源, author (作者 or the 本报记者 byline), raw body and 栏目; never raises on junk."""
    code = zqrb_info_code(url)
    tree = parse_tree(html)
    if tree is None:
        return ArticlePage(code, "unknown", None, None, None, None, None, None)
    layout, body = next(
        ((name, nodes[0]) for name, xpath in BODIES if (nodes := tree.xpath(xpath))), ("unknown", None)
    )
    info = node_text(first(tree.xpath(INFO_LINE))) or node_text(first(tree.xpath(ERA_A_INFO))) or ""
    title = node_text(first(tree.xpath(ARTICLE_TITLE)))
    if title is None:
        raw_title = node_text(first(tree.xpath(PAGE_TITLE)))
        title = plain_text(_TITLE_SUFFIX.sub("", raw_title)) if raw_title else None
    return ArticlePage(
        code=code,
        layout=layout,
        title=title,
        published_raw=match(_TIME, info),
        media=match(_SOURCE, info) or DEFAULT_MEDIA,
        author=match(_AUTHOR, info) or (_byline(body) if body is not None else None),
        summary=plain_text(first(tree.xpath(DESCRIPTION))),
        body_html=inner_html(body) if body is not None else None,
        section=_section(tree),
    )


def _entry(row: Any, page_url: str) -> ListingEntry | None:
    for link in row.xpath(ROW_LINK):
        absolute = urljoin(page_url, link.get("href", "").strip())
        code = zqrb_info_code(absolute)
        if code is None:
            continue
        return ListingEntry(
            code=code,
            kind=ENTRY_KIND,
            title=plain_text(link.get("title")) or node_text(link),
            show_time=match(_TIME, node_text(first(row.xpath(ROW_DATE)))),
            media=None,  # the lists name no source; the article page does
            summary=None,
            url=absolute,
        )
    return None


def _next_page(tree: Any, url: str) -> str | None:
    for href in tree.xpath(NEXT_PAGE):
        try:
            target = urljoin(url, str(href).strip())
            if target.split("#", 1)[0] != url.split("#", 1)[0] and is_listing_url(target):
                return target
        except ValueError:  # e.g. an unbalanced "[" in the host: not a page to follow
            continue
    return None


def _byline(body: Any) -> str | None:
    for paragraph in body.xpath(".//p"):
        text = " ".join(paragraph.text_content().split())
        if not text:
            continue
        found = _BYLINE.match(text)
        return " ".join(re.split(r"[\s、，,]+", found.group(1))) if found else None
    return None


def _section(tree: Any) -> str | None:
    """The last breadcrumb part that is not 首页 or 正文: ``首页 > 财经 > 宏观经济 > 正文`` → 宏观经济."""
    crumb = node_text(first(tree.xpath(CRUMB)))
    parts = [part for part in _CRUMB_SPLIT.split(crumb or "") if part not in _CRUMB_SKIP]
    return parts[-1] if parts else None
