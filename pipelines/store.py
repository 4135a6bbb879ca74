"""Store: hands each article to the crawl's batch store (newsarchive.store.batches), which writes
batches into the archive database (dedup and revisions in the database) or dead-letters them.

Settings: the store's (newsarchive.store.config.StoreConfig), read once by the crawl's owner of the
database (newsarchive.store.owner), which also checked the database before the first request. A
spider with ``replace_existing = True`` (reparse) rewrites stored rows instead of keeping them.
"""

from __future__ import annotations

from scrapy.crawler import Crawler

from newsarchive.items import Article
from newsarchive.store.batches import BatchStore
from newsarchive.store.owner import CrawlStore


class StorePipeline:
    def __init__(self, owner: CrawlStore) -> None:
        self.owner = owner
        self.store: BatchStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(CrawlStore.of(crawler))

    def open_spider(self) -> None:
        self.store = self.owner.batches

    async def process_item(self, item: Article) -> Article:
        assert self.store is not None
        await self.store.add(item)
        return item

    async def close_spider(self) -> None:
        if self.store is not None:
            await self.store.close()
