"""Spider ``zqrb``: 证券日报网's own 栏目 listings (www.zqrb.cn), page by page, then each article.

Arguments: ``columns`` (comma list of ``channel/column`` paths, default below), ``pages`` (listing
pages per column, default ``NEWSARCHIVE_MAX_PAGES``). Pages come as ``text/html`` with no charset;
ArchiveSpider.page_text decodes them (reference: sites.md §1).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from newsarchive.items import ZQRB_FEED, FeedClaim
from newsarchive.pages import zqrb
from newsarchive.pages.model import ArticlePage
from spiders.base import ArchiveSpider, split_arg

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
    arguments = frozenset({"columns", "pages"})
    custom_settings = {"DEFAULT_REQUEST_HEADERS": {"Referer": "http://www.zqrb.cn/"}}

    def __init__(self, columns: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = [c.strip("/") for c in split_arg(columns, "columns")] or list(DEFAULT_COLUMNS)
        bad = [column for column in self.columns if not _COLUMN.fullmatch(column)]
        if bad:
            raise ValueError(f"spider argument columns: {bad[0]!r} is not a channel/column path")

    async def start(self) -> AsyncIterator[Request]:
        for column in self.columns:
            yield self.listing(LISTING_URL.format(column=column), self.parse_listing, column=column, page=1)

    def parse_listing(self, response: Response, column: str, page: int) -> Iterator[Request | FeedClaim]:
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
