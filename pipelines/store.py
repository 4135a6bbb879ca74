"""Store: hands each article to the crawl's batch store (newsarchive.store.batches), which writes
batches into the archive database (dedup and revisions in the database) or dead-letters them.

Settings: the store's (newsarchive.store.config.StoreConfig). A spider with
``replace_existing = True`` (reparse) rewrites stored rows instead of keeping them.
"""

from __future__ import annotations

from scrapy.crawler import Crawler

from newsarchive.db.engine import open_database
from newsarchive.items import Article, FeedClaim
from newsarchive.scrapy_compat import close_spider
from newsarchive.store.batches import BatchStore
from newsarchive.store.config import StoreConfig


class StorePipeline:
    def __init__(self, crawler: Crawler, config: StoreConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.store: BatchStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler, StoreConfig.from_settings(crawler.settings))

    def open_spider(self) -> None:
        # a database that cannot be opened or has the wrong schema stops the crawl before its
        # first request, with the one-line error
        open_database(self.config.url, busy_timeout=self.config.busy_timeout).dispose()
        spider = self.crawler.spider
        self.store = BatchStore(
            self.config,
            spider.name if spider else "crawl",
            replace=bool(getattr(spider, "replace_existing", False)),
            stats=self.crawler.stats,
            on_give_up=lambda reason: close_spider(self.crawler, reason),
        )

    async def process_item(self, item: Article | FeedClaim) -> Article | FeedClaim:
        assert self.store is not None
        if isinstance(item, FeedClaim):
            self.store.claim(item)
        else:
            await self.store.add(item)
        return item

    async def close_spider(self) -> None:
        if self.store is not None:
            await self.store.close()
