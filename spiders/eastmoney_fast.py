"""Spider ``eastmoney_fast``: East Money's 7x24 list (getFastNewsList), cursor-paged with ``sortEnd``.

Arguments: ``column`` (fastColumn, default 102), ``pages``, ``page_size``. Articles are archived
under category ``emnews`` / tag 东财滚动新闻 with the list summary kept as the digest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from newsarchive.arguments import PAGES, SpiderArgument, single_value
from newsarchive.items import FAST_FEED
from newsarchive.pages.eastmoney import parse_fast_list
from spiders.eastmoney import PAGE_SIZE, EastMoneyListSpider

FAST_LIST_URL = "https://np-weblist.eastmoney.com/comm/web/getFastNewsList"
DEFAULT_FAST_COLUMN = "102"


class EastMoneyFastSpider(EastMoneyListSpider):
    name = "eastmoney_fast"
    feed = FAST_FEED
    description = "East Money's 7x24 feed (the fast-news list), then each article"
    arguments = (
        SpiderArgument("column", "the 7x24 list's fastColumn id", DEFAULT_FAST_COLUMN, single_value),
        PAGES,
        PAGE_SIZE,
    )
    listing_argument = "column"
    custom_settings = {"DEFAULT_REQUEST_HEADERS": {"Referer": "https://kuaixun.eastmoney.com/"}}

    def __init__(self, column: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fast_column = column or DEFAULT_FAST_COLUMN

    def listing_names(self) -> list[str]:
        return [self.fast_column]

    async def start(self) -> AsyncIterator[Request]:
        yield self.listing_request("", 1)

    def listing_request(self, cursor: str, page: int) -> Request:
        # sortEnd must be present even when empty, or the API answers data:null (reference §1.2).
        query = {
            "client": "web",
            "biz": "web_724",
            "fastColumn": self.fast_column,
            "sortEnd": cursor,
            "pageSize": str(self.page_size),
        }
        return self.list_request(FAST_LIST_URL, query, self.parse_listing, column=self.fast_column, page=page)

    def parse_listing(self, response: Response, column: str, page: int) -> Iterator[Request]:
        listing = self.read_listing(response, parse_fast_list, column)
        if listing is None:
            return
        yield from self.follow(listing.entries, column)
        has_next = bool(listing.next_cursor)
        more = self.more_pages(column, page, has_entries=bool(listing.entries), has_next=has_next)
        if more and listing.next_cursor:
            yield self.listing_request(listing.next_cursor, page + 1)
