"""Spider ``zqrb``: 证券日报网's own 栏目 listings (www.zqrb.cn), page by page, then each article.

Arguments: ``columns`` (comma list of ``channel/column`` paths, default below), ``pages`` (listing
pages per column, default ``NEWSARCHIVE_MAX_PAGES``). Pages come as ``text/html`` with no charset;
ArchiveSpider.page_text (listings) and newsarchive.assemble (articles) decode them (reference: sites.md §1).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from newsarchive.arguments import PAGES, ArgumentError, SpiderArgument, split_list
from newsarchive.items import ZQRB_FEED
from newsarchive.pages import zqrb
from newsarchive.pages.model import ArticlePage
from spiders.base import ArchiveSpider

LISTING_URL = "http://www.zqrb.cn/{column}/index.html"
# sites.md §1.2: 宏观经济, 行业动态, 证券要闻, 热点, 券商, 上市公司
DEFAULT_COLUMNS = (
    "finance/hongguanjingji",
    "finance/hangyedongtai",
    "stock/gupiaoyaowen",
    "stock/redian",
    "jrjg/quanshang",
    "gscy/gongsi",
)
_COLUMN = re.compile(r"[a-z]+/[a-z]+")


class ZqrbSpider(ArchiveSpider):
    name = "zqrb"
    feed = ZQRB_FEED
    site_domains = frozenset({"zqrb.cn"})
    description = "证券日报网's own 栏目 pages (www.zqrb.cn), then each article"
    arguments = (
        SpiderArgument(
            "columns",
            "comma list of channel/column paths, e.g. stock/redian",
            "six news 栏目 (宏观经济, 行业动态, 证券要闻, 热点, 券商, 上市公司)",
            lambda value, name: column_paths(value),
        ),
        PAGES,
    )
    custom_settings = {"DEFAULT_REQUEST_HEADERS": {"Referer": "http://www.zqrb.cn/"}}

    def __init__(self, columns: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = column_paths(columns) or list(DEFAULT_COLUMNS)

    async def start(self) -> AsyncIterator[Request]:
        for column in self.columns:
            yield self.listing(LISTING_URL.format(column=column), self.parse_listing, column=column, page=1)

    def parse_listing(self, response: Response, column: str, page: int) -> Iterator[Request]:
        listing = self.read_listing(response, zqrb.parse_listing, column)
        if listing is None:
            return
        yield from self.follow(listing.entries, column)
        has_next = bool(listing.next_cursor)
        more = self.more_pages(column, page, has_entries=bool(listing.entries), has_next=has_next)
        if more and listing.next_cursor:
            yield self.listing(listing.next_cursor, self.parse_listing, column=column, page=page + 1)

    def parse_page(self, html: str, url: str) -> ArticlePage:
        return zqrb.parse_article(html, url)


def column_paths(value: str | None) -> list[str]:
    """``-a columns=stock/redian,/finance/hangyedongtai/`` → the paths, each checked."""
    paths = [column.strip("/") for column in split_list(value, "columns")]
    bad = [path for path in paths if not _COLUMN.fullmatch(path)]
    if bad:
        raise ArgumentError(f"spider argument columns: {bad[0]!r} is not a channel/column path")
    return paths
