"""Scrapy components of the job lock (:mod:`newsarchive.locks`): one run per job at a time.

:class:`JobLockExtension` takes the job's lock when the crawler is built, so a second run of a job
that is running fails at once with :class:`~newsarchive.locks.JobAlreadyRunning` (``newsarchive``
exits with ``ALREADY_RUNNING``) before a single request, and frees it when the engine stops.

A lock can also go while its run lives on: its connection terminated (``pg_terminate_backend``, a
server restart) or its file deleted. The run takes it back before a second run can get in: at once
when the PostgreSQL lock connection's socket reports its end, otherwise at the next check, every
``NEWSARCHIVE_JOB_LOCK_CHECK_SECONDS``. If another run took it first, this one stops (finish reason
``job_lock_lost``): :class:`JobLockFence` sends no further request. What it had fetched is still
stored (storing is idempotent, so two writers of one job cannot double a row): nothing fetched is
thrown away.

Setting ``NEWSARCHIVE_JOB_LOCK`` (on by default) turns both off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from twisted.internet.interfaces import IReadDescriptor
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure
from zope.interface import implementer

from newsarchive.counts import Count, Counter, Reason
from newsarchive.fence import Fence, stop_connecting
from newsarchive.jobs import job_key
from newsarchive.locks import JobAlreadyRunning, JobLock, Recheck
from newsarchive.scrapy_compat import close_spider
from newsarchive.store.owner import CrawlStore

if TYPE_CHECKING:
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

# Sent (crawler.signals) when another run took this run's job lock: the fence sends nothing more.
job_lock_lost = object()


def _reactor() -> Any:
    from twisted.internet import reactor  # the installed one; importing at the top would install one

    return reactor


@implementer(IReadDescriptor)
class _Readable:
    """Calls ``on_readable`` when the reactor sees data (or the end) on socket ``fd``."""

    def __init__(self, fd: int, on_readable: Callable[[], None]) -> None:
        self.fd = fd
        self.on_readable = on_readable

    def fileno(self) -> int:
        return self.fd

    def doRead(self) -> None:
        self.on_readable()

    def connectionLost(self, reason: Failure) -> None:
        pass

    def logPrefix(self) -> str:
        return "newsarchive job lock"


class JobLockExtension:
    """Takes the lock when the crawler is built (before any request), re-checks it while the crawl
    runs (on its socket's end and every ``check_seconds``) and frees it when the engine stops."""

    def __init__(self, crawler: Crawler, lock: JobLock, check_seconds: float) -> None:
        self.crawler = crawler
        self.counter = Counter.from_crawler(crawler)
        self.lock = lock
        self.check_seconds = check_seconds
        self._timer: LoopingCall | None = None
        self._watch: _Readable | None = None
        self._checking = False
        self._done = False  # the engine stopped, or the lock was lost: no more checks
        self._unreachable_logged = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobLockExtension:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_JOB_LOCK"):
            raise NotConfigured
        spider = crawler.spider
        if spider is None:  # built outside a crawl: nothing to lock
            raise NotConfigured
        job = job_key(spider.name, getattr(spider, "job_arguments", None) or {})
        lock = CrawlStore.of(crawler).job_lock(job)  # the crawl's archive, as its owner opened it
        lock.acquire()  # raises JobAlreadyRunning: the crawl never starts
        extension = cls(crawler, lock, settings.getfloat("NEWSARCHIVE_JOB_LOCK_CHECK_SECONDS"))
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        from twisted.internet.task import LoopingCall

        self._start_watching()
        if self.check_seconds > 0:
            self._timer = LoopingCall(self.check)
            self._timer.start(self.check_seconds, now=False)

    def engine_stopped(self) -> None:
        self._finish()
        self.lock.release()

    def check(self) -> None:
        """Re-check the lock in a worker thread (a query, maybe a new connection): the timer's and
        the socket watch's entry point. One check at a time; the socket is not watched meanwhile."""
        if self._checking or self._done:
            return
        self._checking = True
        self._stop_watching()
        checked = deferToThread(self.lock.recheck)
        checked.addCallbacks(self._checked, self._check_failed)

    def _checked(self, result: Recheck) -> None:
        self._checking = False
        if self._done:
            return
        if result is Recheck.RETAKEN:
            self.counter.count(Count.JOB_LOCK_RETAKEN)
            logger.warning(
                "the job lock had gone (its connection ended or its file was deleted); "
                "this run took its job lock back"
            )
            self._unreachable_logged = False
        elif result is Recheck.UNREACHABLE and not self._unreachable_logged:
            self._unreachable_logged = True
            logger.warning(
                "the job lock went with the database connection; taking it back when the "
                "database answers again"
            )
        self._start_watching()

    def _check_failed(self, failure: Failure) -> None:
        self._checking = False
        if self._done:
            return
        if isinstance(failure.value, JobAlreadyRunning):
            self._lost(failure.getErrorMessage())
            return
        logger.error("could not re-check the job lock: %s", failure.getErrorMessage())
        self._start_watching()

    def _lost(self, holder: str) -> None:
        """Another run holds the job now: stop, and tell the store and the fence (JobLockFence)."""
        self._finish()
        logger.error("this run lost its job lock and stops: %s", holder)
        self.crawler.signals.send_catch_log(signal=job_lock_lost)
        close_spider(self.crawler, Reason.JOB_LOCK_LOST.value)

    def _finish(self) -> None:
        self._done = True
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self._stop_watching()

    def _start_watching(self) -> None:
        fd = self.lock.fileno()
        if fd is None or self._watch is not None:
            return
        self._watch = _Readable(fd, self.check)
        _reactor().addReader(self._watch)

    def _stop_watching(self) -> None:
        # before the socket can be closed: a reactor watching a closed (or reused) fd misbehaves
        if self._watch is None:
            return
        _reactor().removeReader(self._watch)
        self._watch = None


class LockLost(IgnoreRequest):
    """A request not sent because another run took the job's lock (counted by :class:`JobLockFence`)."""


class JobLockFence(Fence):
    """Downloader middleware: once the job lock is lost (:data:`job_lock_lost`), no request goes
    out (newsarchive.fence), not even one handed to the HTTP handler whose connection is still being
    made: that connection is given up and its download fails as not sent. Each is counted as
    skipped ``job_lock_lost``. The downloads already sent finish: what they fetch is stored."""

    reason = Reason.JOB_LOCK_LOST

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobLockFence:
        if not crawler.settings.getbool("NEWSARCHIVE_JOB_LOCK"):
            raise NotConfigured
        fence = cls(crawler)
        crawler.signals.connect(fence.shut, signal=job_lock_lost)
        return fence

    def refusal(self) -> LockLost:
        return LockLost("not sent: another run holds the job's lock")

    def shut(self) -> None:
        super().shut()
        stop_connecting()

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        if isinstance(exception, IgnoreRequest) or not self.is_shut:
            return  # counted where it was raised, or the download failed on its own
        self.count()  # a connection given up at the shut, or any failure after it: not retried
        raise self.refusal() from exception
