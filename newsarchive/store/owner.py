"""The one owner of the archive database for a crawl (issue 15 item 3).

:meth:`CrawlStore.of` opens and checks the database once per crawl (with the busy timeout) and hands
it out: the engine and a sessionmaker to the spider (its stored-article queries), write sessions to
the run history, the job lock (:meth:`CrawlStore.job_lock`) and the batch store to the store
pipeline (:attr:`CrawlStore.batches`), through which a spider also claims stored articles for the
preferred feed (:meth:`CrawlStore.claim`). The engine is disposed of when the engine stops.

Settings: the store's (newsarchive.store.config.StoreConfig).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.crawler import Crawler
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsarchive.db.engine import open_database, session_factory, writer
from newsarchive.locks import JobLock, lock_for
from newsarchive.scrapy_compat import close_spider
from newsarchive.store.batches import BatchStore
from newsarchive.store.claims import FeedClaim
from newsarchive.store.config import StoreConfig

# One owner per crawler, created by the first component that asks: Scrapy builds the spider before
# the extensions and the pipelines, so no one component can be first to hand it to the others.
# Weak keys: the owner goes with its crawler.
_OWNERS: WeakKeyDictionary[Crawler, CrawlStore] = WeakKeyDictionary()


class CrawlStore:
    def __init__(self, crawler: Crawler, config: StoreConfig, engine: Engine) -> None:
        self.crawler = crawler
        self.config = config
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)  # reads
        self.write_sessions: sessionmaker[Session] = session_factory(writer(engine))  # short writes
        self._batches: BatchStore | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlStore:
        """The crawl's owner, opening and checking the database on the first call (a one-line
        :class:`~newsarchive.db.engine.DatabaseError` if it cannot: the crawl never starts)."""
        owner = _OWNERS.get(crawler)
        if owner is None:
            config = StoreConfig.from_settings(crawler.settings)
            engine = open_database(config.url, busy_timeout=config.busy_timeout)
            owner = _OWNERS[crawler] = cls(crawler, config, engine)
            crawler.signals.connect(owner.spider_closed, signal=signals.spider_closed)
            crawler.signals.connect(owner.engine_stopped, signal=signals.engine_stopped)
        return owner

    @property
    def batches(self) -> BatchStore:
        """The crawl's batch store, made for its spider once the spider is open (a
        ``replace_existing`` spider, reparse, rewrites stored rows)."""
        if self._batches is None:
            spider = self.crawler.spider
            self._batches = BatchStore(
                self.config,
                spider.name if spider else "crawl",
                replace=bool(getattr(spider, "replace_existing", False)),
                stats=self.crawler.stats,
                on_give_up=lambda reason: close_spider(self.crawler, reason),
            )
        return self._batches

    def claim(self, claim: FeedClaim) -> None:
        """Move a stored article to the preferred feed, with the next batch (an order to the store,
        not an item: it never goes through the pipelines nor counts as an article)."""
        self.batches.claim(claim)

    def job_lock(self, job: str) -> JobLock:
        """The lock of ``job`` on this archive. It keeps a connection of its own (PostgreSQL): a
        session advisory lock lives exactly as long as its connection, which a pool would keep."""
        return lock_for(self.config.url, job)

    async def spider_closed(self) -> None:
        # the store pipeline closed the batches already; without one, claims are still written
        if self._batches is not None:
            await self._batches.close()

    def engine_stopped(self) -> None:
        self.engine.dispose()
