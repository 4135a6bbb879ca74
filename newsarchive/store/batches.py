"""The crawl's batched writes into the archive (dedup and revisions in the database).

Articles (from the store pipeline) and feed claims (newsarchive.store.claims) are
queued and written together, one transaction per batch: a batch is written when it is full or its
oldest item has waited ``batch_seconds``, whichever comes first, and when the crawl closes.

Batches are written one at a time by a writer process (:mod:`newsarchive.db.writer_process`,
waited for in a worker thread: ``asyncio.to_thread``, as Scrapy runs on the asyncio reactor), so
the crawl keeps running while the database is slow or being retried, and writing never takes the
GIL from parsing. It is started by the first batch: a run with nothing to write never starts it.
If that process dies, every batch after it is dead-lettered.
If the database stays unreachable past the retry budget, the crawl is stopped (``on_give_up``,
finish reason ``database_unavailable``) and every item not committed, including the ones still
arriving, goes to a dead-letter file for ``newsarchive load``, in the fallback folder when the
first one cannot take them (a full data disk). Items no folder can take are kept in memory, tried
once more when the store closes, and otherwise counted as ``not_saved``: the run fails, and since
they are not stored the next run fetches them again. Nothing is lost silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from scrapy.statscollectors import StatsCollector

from newsarchive.counts import Count, Counter, Outcome, Prefix, Value
from newsarchive.db.writer import BatchResult, StoreUnavailable
from newsarchive.db.writer_process import WriterProcess
from newsarchive.deadletter import DeadLetterError, DeadLetterFile
from newsarchive.items import Article
from newsarchive.store.claims import FeedClaim
from newsarchive.store.config import StoreConfig
from newsarchive.tally import ArticleTally

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "database_unavailable"  # the crawl's finish reason when the store gave up


class BatchStore:
    """Queues articles (:meth:`add`) and claims (:meth:`claim`) and writes them in batches, one
    batch in flight at a time (one lock: :attr:`_in_flight`); :meth:`close` writes the rest."""

    def __init__(
        self,
        config: StoreConfig,
        name: str,
        *,
        replace: bool = False,
        stats: StatsCollector | None = None,
        on_give_up: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.config = config
        self.counter = Counter(stats)  # counts nothing without stats (a store outside a crawl)
        self.on_give_up = on_give_up
        self.writer = WriterProcess(config, replace=replace)
        self.deadletter = DeadLetterFile(config.deadletter_dirs, name) if config.deadletter_dirs else None
        self.pending: list[Article] = []
        self.claims: list[FeedClaim] = []
        self.unsaved: list[Article | FeedClaim] = []  # items no dead-letter folder could take yet
        self._dead_letter_logged: Path | None = None  # the dead-letter file last reported
        self._due: asyncio.TimerHandle | None = None  # writes the pending batch once it is old enough
        self._writes: set[asyncio.Task[None]] = set()  # batches written without a caller awaiting them
        self.unavailable: str | None = None  # set once the retries are exhausted
        self._in_flight = asyncio.Lock()  # one batch in flight at a time
        self.tally = ArticleTally()  # each article once per run, by its best outcome
        self.closed = False

    async def add(self, article: Article) -> None:
        """Queue an article; waits while a full batch is written (the crawl's back-pressure)."""
        self._arm()
        self.pending.append(article)
        if self._full():
            await self._flush()

    def claim(self, claim: FeedClaim) -> None:
        """Queue a claim (from a spider's callback, which cannot wait): it is written with the batch
        it joins, in the same transaction as that batch's articles."""
        if self.closed:  # nothing will write it any more: keep it for `newsarchive load`
            self._dead_letter([claim], "the store had closed")
            return
        self._arm()
        self.claims.append(claim)
        if self._full():
            self._write_in_background()

    def _arm(self) -> None:
        if not self.pending and not self.claims and self.config.batch_seconds > 0:
            # a slow crawl (the politeness delay) fills a batch slowly: it is written when old enough
            loop = asyncio.get_running_loop()
            self._due = loop.call_later(self.config.batch_seconds, self._write_due_batch)

    def _full(self) -> bool:
        return len(self.pending) + len(self.claims) >= self.config.batch_size

    def _write_due_batch(self) -> None:
        self._due = None
        self._write_in_background()

    def _write_in_background(self) -> None:
        task = asyncio.ensure_future(self._flush())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def close(self) -> None:
        """Write what is queued, end the writer process and save what could not be saved."""
        if self.closed:
            return
        self.closed = True
        try:
            while self._writes:  # never raise: _flush dead-letters what it cannot write
                await asyncio.gather(*self._writes)
            await self._flush()
        finally:
            async with self._in_flight:
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
        async with self._in_flight:
            if self.unavailable is not None:
                self._dead_letter(items, self.unavailable)
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
            (Outcome.NEW, result.new),
            (Outcome.UNCHANGED, result.unchanged),
            (Outcome.REVISED, result.revised),
            (Outcome.STALE, result.stale),
            (Outcome.MOVED, result.moved),
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
        logger.error("giving up on the database after %.0f s; stopping the crawl", self.config.retry_seconds)
        self.on_give_up(DATABASE_UNAVAILABLE)

    def _dead_letter(self, items: list[Article | FeedClaim], reason: str) -> None:
        try:
            if self.deadletter is None:
                raise DeadLetterError("no dead-letter folder is configured")
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
