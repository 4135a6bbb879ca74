"""Store: batched writes into the archive database (dedup and revisions in the database).

Settings: ``NEWSARCHIVE_DATABASE_URL``, ``NEWSARCHIVE_STORE_BATCH_SIZE`` and
``NEWSARCHIVE_STORE_BATCH_SECONDS`` (a batch is written when it is full or its oldest item has
waited this long, whichever comes first), ``NEWSARCHIVE_DEADLETTER_DIR`` and
``NEWSARCHIVE_DEADLETTER_FALLBACK_DIR`` (where items the database cannot take go),
``NEWSARCHIVE_NEAR_DUPLICATE_HOURS`` (window for near-duplicate linking; 0 turns it off),
``NEWSARCHIVE_DB_RETRY_SECONDS`` and ``NEWSARCHIVE_DB_BUSY_TIMEOUT``.
A spider with ``replace_existing = True`` (reparse) rewrites stored rows instead of keeping them.

Batches are written one at a time by a writer process of the pipeline's own
(:mod:`newsarchive.db.writer_process`, waited for in a worker thread: ``asyncio.to_thread``, as
Scrapy runs on the asyncio reactor), so the crawl keeps running while the database is slow or being
retried, and writing never takes the GIL from parsing. If that process dies, every batch after it
is dead-lettered.
If the database stays unreachable past the retry budget, the crawl is stopped (finish reason
``database_unavailable``) and every item not committed, including the ones still arriving, goes to
a dead-letter file for ``newsarchive load``, in the fallback folder when the first one cannot take
them (a full data disk). Items no folder can take are kept in memory, tried once more when the
crawl closes, and otherwise counted as ``not_saved``: the run fails, and since they are not stored
the next run fetches them again. Nothing is lost silently.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

from scrapy.crawler import Crawler

from newsarchive.counts import Count, Counter, Prefix, Value
from newsarchive.db.engine import open_database
from newsarchive.db.writer import BatchResult, StoreUnavailable
from newsarchive.db.writer_process import WriterProcess, WriterSettings
from newsarchive.deadletter import DeadLetterError, DeadLetterFile
from newsarchive.items import Article, FeedClaim
from newsarchive.scrapy_compat import close_spider
from newsarchive.tally import ArticleTally

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "database_unavailable"  # the crawl's finish reason when the store gave up


class StorePipeline:
    def __init__(
        self,
        crawler: Crawler,
        url: str,
        batch_size: int,
        batch_seconds: float,
        deadletter_dirs: list[Path],
        near_duplicate_hours: float,
        retry_seconds: float,
        busy_timeout: float,
    ) -> None:
        self.crawler = crawler
        self.url = url
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.deadletter_dirs = deadletter_dirs
        self.near_duplicate_window = timedelta(hours=near_duplicate_hours)
        self.retry_seconds = retry_seconds
        self.busy_timeout = busy_timeout
        self.counter = Counter.from_crawler(crawler)
        self.writer: WriterProcess | None = None
        self.deadletter: DeadLetterFile | None = None
        self.pending: list[Article] = []
        self.unsaved: list[Article | FeedClaim] = []  # items no dead-letter folder could take yet
        self._dead_letter_logged: Path | None = None  # the dead-letter file last reported
        self.claims: list[FeedClaim] = []
        self._due: asyncio.TimerHandle | None = None  # writes the pending batch once it is old enough
        self._due_write: asyncio.Task[None] | None = None
        self.unavailable: str | None = None  # set once the retries are exhausted
        self._lock = asyncio.Lock()  # one batch in flight at a time
        self.tally = ArticleTally()  # each article once per run, by its best outcome

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            settings.get("NEWSARCHIVE_DATABASE_URL"),
            settings.getint("NEWSARCHIVE_STORE_BATCH_SIZE"),
            settings.getfloat("NEWSARCHIVE_STORE_BATCH_SECONDS"),
            [
                Path(folder)
                for name in ("NEWSARCHIVE_DEADLETTER_DIR", "NEWSARCHIVE_DEADLETTER_FALLBACK_DIR")
                if (folder := settings.get(name))
            ],
            settings.getfloat("NEWSARCHIVE_NEAR_DUPLICATE_HOURS"),
            settings.getfloat("NEWSARCHIVE_DB_RETRY_SECONDS"),
            settings.getfloat("NEWSARCHIVE_DB_BUSY_TIMEOUT"),
        )

    def open_spider(self) -> None:
        # here, not in the writer process: a database that cannot be opened or has the wrong schema
        # stops the crawl before its first request, with the one-line error
        open_database(self.url, busy_timeout=self.busy_timeout).dispose()
        spider = self.crawler.spider
        self.writer = WriterProcess(
            WriterSettings(
                url=self.url,
                busy_timeout=self.busy_timeout,
                replace=bool(getattr(spider, "replace_existing", False)),
                near_duplicate_window=self.near_duplicate_window,
                retry_seconds=self.retry_seconds,
            )
        )
        self.deadletter = DeadLetterFile(self.deadletter_dirs, spider.name if spider else "crawl")

    async def process_item(self, item: Article | FeedClaim) -> Article | FeedClaim:
        if not self.pending and not self.claims and self.batch_seconds > 0:
            # a slow crawl (the politeness delay) fills a batch slowly: it is written when old enough
            self._due = asyncio.get_running_loop().call_later(self.batch_seconds, self._write_due_batch)
        if isinstance(item, FeedClaim):
            self.claims.append(item)
        else:
            self.pending.append(item)
        if len(self.pending) + len(self.claims) >= self.batch_size:
            await self._flush()
        return item

    def _write_due_batch(self) -> None:
        self._due = None
        self._due_write = asyncio.ensure_future(self._flush())

    async def close_spider(self) -> None:
        try:
            if self._due_write is not None and not self._due_write.done():
                await self._due_write  # never raises: _flush dead-letters what it cannot write
            await self._flush()
        finally:
            if self.writer is not None:
                self.writer.close()
            self._save_unsaved()

    async def _flush(self) -> None:
        articles, self.pending = self.pending, []
        claims, self.claims = self.claims, []
        if self._due is not None:
            self._due.cancel()
            self._due = None
        items: list[Article | FeedClaim] = [*articles, *claims]
        if not items:
            return
        async with self._lock:
            if self.unavailable is not None or self.writer is None:
                self._dead_letter(items, self.unavailable or "store not open")
                return
            try:
                result = await asyncio.to_thread(self.writer.write, articles, claims)
            except StoreUnavailable as error:
                self._give_up(error, items)
            except Exception as error:  # never lose a batch to an unexpected failure
                self._dead_letter(items, f"store failed: {type(error).__name__}: {error}")
            else:
                self._count(result)
                self._tally(articles, result)

    def _count(self, result: BatchResult) -> None:
        for outcome, amount in (
            ("new", result.new),
            ("unchanged", result.unchanged),
            ("revised", result.revised),
            ("stale_version", result.stale),
            ("moved_to_preferred_feed", result.moved),
        ):
            if amount:
                self.counter.count_reason(Prefix.STORED, outcome, amount)
        for key, amount in (
            (Count.NEAR_DUPLICATES, result.linked),
            (Count.DB_RETRIES, result.retries),
            (Count.FITTED_FIELDS, result.fitted),
        ):
            if amount:
                self.counter.count(key, amount)
        for item, reason in result.rejected:
            self._dead_letter([item], f"rejected by the database: {reason}")

    def _tally(self, articles: list[Article], result: BatchResult) -> None:
        """Count each article once per run (newsarchive.tally): ``articles/<outcome>``."""
        # the rejected items come back from the writer process as copies: matched by code
        rejected = {item.info_code for item, _ in result.rejected if isinstance(item, Article)}
        stored = [article.info_code for article in articles if article.info_code not in rejected]
        for outcome, change in self.tally.add(stored, result.new_codes, result.revised_codes).items():
            self.counter.count_reason(Prefix.ARTICLES, outcome, change)

    def _give_up(self, error: StoreUnavailable, items: list[Article | FeedClaim]) -> None:
        self.unavailable = f"database unavailable: {error}"
        if error.retries:
            self.counter.count(Count.DB_RETRIES, error.retries)
        self._dead_letter(items, self.unavailable)
        logger.error("giving up on the database after %.0f s; stopping the crawl", self.retry_seconds)
        close_spider(self.crawler, DATABASE_UNAVAILABLE)  # nothing when the pipeline runs on its own

    def _dead_letter(self, items: list[Article | FeedClaim], reason: str) -> None:
        assert self.deadletter is not None
        try:
            path = self.deadletter.write(items)
        except DeadLetterError as error:
            logger.log(
                logging.DEBUG if self.unsaved else logging.ERROR,  # told once, then counted
                "could not store %d items (%s) nor save them: %s",
                len(items),
                reason,
                error,
            )
            self.unsaved.extend(items)
            return
        self.counter.count(Count.DEADLETTER, len(items))
        self.counter.set(Value.DEADLETTER_FILE, str(path))
        # one line per file written to (the summary counts them all): a database that stays away
        # would otherwise log a line for every batch of the rest of the crawl
        logged, self._dead_letter_logged = self._dead_letter_logged, path
        logger.log(
            logging.DEBUG if path == logged else logging.ERROR,
            "could not store %d items (%s); saved to %s",
            len(items),
            reason,
            path,
        )

    def _save_unsaved(self) -> None:
        """One more try for the items no dead-letter folder could take (space may be back); what
        still cannot be saved is counted, so the run fails and says so."""
        unsaved, self.unsaved = self.unsaved, []
        if unsaved:
            self._dead_letter(unsaved, "kept in memory until the crawl closed")
        if self.unsaved:
            self.counter.count(Count.NOT_SAVED, len(self.unsaved))
