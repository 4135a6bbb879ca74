"""Scrapy extension recording every crawl, backfill and reparse in the run history (``runs`` table),
and the rule reading it back: was the last run of a job clean (:func:`last_run_was_clean`).

The archive is the crawl's own (newsarchive.store.owner: opened and checked once). The start (spider, its
``job_arguments``) is written when the spider opens, the end (finish reason, status, counts) when it
closes, each in a worker thread. The history is a record of the crawl, never a reason to stop it:
if the database cannot be written (it may be why the crawl stopped), one warning is logged and the
crawl carries on. A run that never opened its spider (a bad argument, an unwritable WARC folder)
is not recorded: nothing ran.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.threads import deferToThread

from newsarchive.counts import Counter, Recorded, Value, recorded_value
from newsarchive.db.engine import first_line, session_factory
from newsarchive.db.models import RunRow
from newsarchive.db.runs import effective_status, finish_run, recent_runs, start_run
from newsarchive.hosts import REDIRECT
from newsarchive.jobs import job_key, job_keys
from newsarchive.monitor import HISTORY, run_warnings
from newsarchive.store.owner import CrawlStore
from newsarchive.summary import OK, RunSummary

logger = logging.getLogger(__name__)


class RunHistoryExtension:
    def __init__(self, crawler: Crawler, store: CrawlStore) -> None:
        self.crawler = crawler
        self.counter = Counter.from_crawler(crawler)
        self.store = store
        self.run_id: int | None = None
        self.spider_name = ""
        self.arguments: dict[str, str] = {}
        self.started_at: datetime | None = None
        self._warned = False  # one warning per run, however many writes fail

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunHistoryExtension:
        extension = cls(crawler, CrawlStore.of(crawler))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    async def spider_opened(self, spider: Spider) -> None:
        self.spider_name = spider.name
        arguments = getattr(spider, "job_arguments", None) or {}
        self.arguments = {str(name): str(value) for name, value in arguments.items()}
        self.started_at = datetime.now(UTC)
        await maybe_deferred_to_future(deferToThread(self._guarded, "start", self._record_start))

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.started_at is None:  # the spider never opened: there is no run to finish
            return
        summary = RunSummary.from_stats(self.counter.snapshot())
        summary.finish_reason = reason  # the core stats extension may not have set it yet
        end = _RunEnd(
            finished_at=datetime.now(UTC),
            status=summary.status(self.spider_name),
            finish_reason=reason,
            counts=summary.recorded(),
        )
        await maybe_deferred_to_future(deferToThread(self._guarded, "end", self._record_end, end))

    # --- in the worker thread ------------------------------------------------------------------

    def _guarded(self, what: str, record: Callable[..., None], *args: Any) -> None:
        """Run ``record``; any failure is one warning line, never an exception in the crawl."""
        try:
            record(*args)
        except Exception as error:  # the history must never take the crawl down, whatever failed
            if not self._warned:
                self._warned = True
                logger.warning(
                    "could not record the %s of run %s in the run history: %s",
                    what,
                    job_key(self.spider_name, self.arguments),
                    first_line(error),
                )

    def _record_start(self) -> None:
        assert self.started_at is not None
        with self.store.write_sessions.begin() as session:
            self.run_id = start_run(session, self.spider_name, self.arguments, started_at=self.started_at)

    def _record_end(self, end: _RunEnd) -> None:
        with self.store.write_sessions.begin() as session:
            if self.run_id is None:  # the start could not be written: record the whole run now
                self.run_id = start_run(session, self.spider_name, self.arguments, started_at=self.started_at)
            earlier = [
                run.counts
                for run in recent_runs(
                    session, job=job_keys(self.spider_name, self.arguments), limit=HISTORY + 1
                )
                if run.id != self.run_id and run.status == OK
            ]
            warnings = run_warnings(end.counts, earlier)
            end.counts[Recorded.WARNINGS.value] = warnings
            self.counter.set(Value.WARNINGS, warnings)  # for the CLI's summary
            finish_run(
                session,
                self.run_id,
                status=end.status,
                finish_reason=end.finish_reason,
                counts=end.counts,
                finished_at=end.finished_at,
            )


@dataclass(frozen=True)
class _RunEnd:
    """What the spider_closed signal knew, handed to the worker thread."""

    finished_at: datetime
    status: str
    finish_reason: str
    counts: dict[str, Any]


def run_was_clean(run: RunRow) -> bool:
    """Whether ``run`` finished ok and fetched all it listed: no download failed, no response was
    blocked and no redirect was refused (each leaves an article it listed unfetched, and that
    article may since have slid below the first known page)."""
    if effective_status(run) != OK:  # failed, interrupted, killed (a running row whose process is gone)
        return False
    counts = run.counts
    # a refused redirect left its article unfetched, as a failed download does
    refused = recorded_value(counts, Recorded.REFUSED)
    refused_redirects = [key for key in refused if key.startswith(f"{REDIRECT}_")]
    errors = recorded_value(counts, Recorded.ERRORS).get("total")
    return not errors and not recorded_value(counts, Recorded.BLOCKED) and not refused_redirects


def last_run_was_clean(engine: Engine, spider: str, arguments: Mapping[str, str]) -> bool:
    """Whether the previous run of this job (spider and arguments) was clean (:func:`run_was_clean`).
    A job with no run yet, or a history that cannot be read, is not: the caller pages every listing."""
    try:
        with session_factory(engine)() as session:
            previous = recent_runs(session, job=job_keys(spider, arguments), limit=1)
            return bool(previous) and run_was_clean(previous[0])
    except SQLAlchemyError:
        return False
