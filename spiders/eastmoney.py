"""Spider ``eastmoney``: East Money column listings (getNewsByColumns) page by page, then each article;
and what both East Money spiders share (:class:`EastMoneyListSpider`: list API requests, page size,
the article parser).

Arguments: ``columns`` (comma list of column ids, default below), ``media`` (comma list of media
names to keep, default all; any alias of an outlet in newsarchive/data/media.toml selects the whole
outlet), ``pages`` (listing pages per column), ``page_size`` (rows per page; default
``NEWSARCHIVE_PAGE_SIZE``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from newsarchive.arguments import PAGES, SpiderArgument, positive_int, split_list
from newsarchive.items import COLUMN_FEED
from newsarchive.pages.eastmoney import CFH_KIND, parse_article, parse_column_list
from newsarchive.pages.model import ArticlePage
from newsarchive.text.media import canonical_media
from spiders.base import ArchiveSpider

COLUMN_LIST_URL = "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns"
# Every East Money host (np-listapi., np-weblist., finance.…): where its redirects may lead.
EASTMONEY_SITES = frozenset({"eastmoney.com"})
# 344 财经导读, 345 资讯精华, 350 财经要闻, 353 证券聚焦: the general news columns (reference §1.1).
DEFAULT_COLUMNS = ("344", "345", "350", "353")
LIST_FIELDS = "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"
MAX_PAGE_SIZE = 200  # the list APIs cap page_size at 200
PAGE_SIZE = SpiderArgument(
    "page_size",
    f"rows per listing request, at most {MAX_PAGE_SIZE}",
    "NEWSARCHIVE_PAGE_SIZE",
    lambda value, name: positive_int(value, name),
)


def list_page_size(value: str | None, default: int) -> int:
    """``-a page_size`` (``default``: ``NEWSARCHIVE_PAGE_SIZE`` when not given), capped by the API."""
    return min(positive_int(value, "page_size", default), MAX_PAGE_SIZE)


def list_api_url(url: str, query: dict[str, str], *, now: float) -> str:
    """An East Money list API call: ``req_trace`` is added (the APIs answer an error shell without
    it; the site's own pages send epoch milliseconds, ``now`` being epoch seconds)."""
    return f"{url}?{urlencode({**query, 'req_trace': str(int(now * 1000))})}"


class EastMoneyListSpider(ArchiveSpider):
    """What both East Money spiders share: their list API requests, rows per page, article parser."""

    site_domains = EASTMONEY_SITES
    page_size: int

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> EastMoneyListSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, EastMoneyListSpider)
        page_size = kwargs.get("page_size")
        spider.page_size = list_page_size(
            None if page_size is None else str(page_size), crawler.settings.getint("NEWSARCHIVE_PAGE_SIZE")
        )
        return spider

    def list_request(
        self, url: str, query: dict[str, str], callback: Callable[..., Any], **cb_kwargs: Any
    ) -> Request:
        """A listing request to one of East Money's list APIs."""
        return self.listing(list_api_url(url, query, now=time.time()), callback, **cb_kwargs)

    def parse_page(self, html: str, url: str) -> ArticlePage:
        return parse_article(html, url)


class EastMoneySpider(EastMoneyListSpider):
    name = "eastmoney"
    feed = COLUMN_FEED
    description = "East Money column lists (财经导读, 资讯精华 …), then each article"
    arguments = (
        SpiderArgument(
            "columns",
            "comma list of East Money column ids",
            ",".join(DEFAULT_COLUMNS) + " (财经导读, 资讯精华, 财经要闻, 证券聚焦)",
            split_list,
        ),
        SpiderArgument(
            "media",
            "keep only rows from these media (comma list; any alias of an outlet, e.g. 证券日报网)",
            "every media",
            split_list,
        ),
        PAGES,
        PAGE_SIZE,
    )
    custom_settings = {"DEFAULT_REQUEST_HEADERS": {"Referer": "https://finance.eastmoney.com/"}}

    def __init__(self, columns: str | None = None, media: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = split_list(columns, "columns") or list(DEFAULT_COLUMNS)
        # Canonical names on both sides, so -a media=证券日报 keeps rows listed as 证券日报网.
        self.media_names = {name: canonical_media(name) for name in split_list(media, "media")}
        self.media = set(self.media_names.values())

    async def start(self) -> AsyncIterator[Request]:
        for column in self.columns:
            yield self.listing_request(column, 1)

    def listing_request(self, column: str, page: int) -> Request:
        query = {
            "client": "web",
            "biz": "web_news_col",
            "column": column,
            "order": "1",
            "needInteractData": "0",
            "page_index": str(page),
            "page_size": str(self.page_size),
            "fields": LIST_FIELDS,
        }
        return self.list_request(COLUMN_LIST_URL, query, self.parse_listing, column=column, page=page)

    def parse_listing(self, response: Response, column: str, page: int) -> Iterator[Request]:
        listing = self.read_listing(response, parse_column_list, column)
        if listing is None:
            return
        kept = []
        checked: list[str] = []  # the canonical media of the rows the media filter was checked on
        for entry in listing.entries:
            if entry.kind == CFH_KIND:
                self.count("skipped/caifuhao")
                continue
            if self.media:
                checked.append(canonical_media(entry.media or ""))
                if checked[-1] not in self.media:
                    self.count("skipped/other_media")
                    continue
            kept.append(entry)
        if self.media:  # each name given must match some listed row (newsarchive.matching)
            self.count("checked/media", len(checked))
            for name, canonical in self.media_names.items():
                self.matched("media", name, checked.count(canonical))
        yield from self.follow(kept, column)
        more = listing.total is None or page * self.page_size < listing.total
        if self.more_pages(column, page, has_entries=bool(listing.entries), has_next=more):
            yield self.listing_request(column, page + 1)
