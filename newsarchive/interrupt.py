"""Stopping a run on Ctrl-C (SIGINT) or SIGTERM, promptly and without losing what was parsed.

:class:`Interrupt` replaces Scrapy's signal handlers for the jobs :func:`newsarchive.runner.run_jobs`
runs. The first signal stops every crawl: :class:`StopFence` fails the requests waiting in the
download slots and refuses new ones, so only the downloads in flight finish (Scrapy's own graceful
stop would send every queued request first, one download delay apart), then Scrapy closes the spider
(finish reason ``shutdown``): the store commits its last batch, the WARC file and the run history
are closed. No job after the stopped one starts. The second signal abandons the downloads in
flight too (their connections are aborted) and the same close follows at once; further signals are
ignored. The summary then reports the run as interrupted (newsarchive.summary), exit 130.
Documented in docs/operations.md ("Stopping a run").
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro

from newsarchive.counts import Reason
from newsarchive.fence import Fence, stop_connecting, tcp_clients
from newsarchive.scrapy_compat import engine_closing, finish_scraper_closing, running_engine

logger = logging.getLogger(__name__)

# Sent (crawler.signals) by Interrupt: the first signal, then the second.
stop_requested = object()
abandon_requested = object()

SIGNALS = (signal.SIGINT, signal.SIGTERM)
STARTING_POLL_SECONDS = 0.05  # how often a crawl starting (or closing) is checked, once stopped


class Interrupted(IgnoreRequest):
    """A request not sent, or abandoned in flight, because the run was stopped (counted by
    :class:`StopFence` as skipped ``interrupted``; the next run asks for it again)."""


def _reactor() -> Any:
    from twisted.internet import reactor  # the installed one; importing at the top would install one

    return reactor


class Interrupt:
    """The signal handlers of one ``newsarchive`` process and what they set in motion."""

    def __init__(self, process: CrawlerProcess, say: Callable[[str], None] | None = None) -> None:
        self.process = process
        self.say = say or _to_stderr
        self.received = 0  # signals received so far
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.received > 0

    def install(self) -> None:
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)

    def uninstall(self) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous.clear()

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        # In a signal handler only set state and hand over to the reactor (no I/O, no logging here).
        self.received += 1
        if self.received == 1:
            _reactor().callFromThread(self.stop)
        elif self.received == 2:
            _reactor().callFromThread(self.abandon)

    def stop(self) -> None:
        """First signal: finish what is in flight, take nothing new."""
        self.say("newsarchive: stopping: finishing what is in flight (Ctrl-C again to stop at once)")
        for crawler in list(self.process.crawlers):
            self._stop(crawler)

    def abandon(self) -> None:
        """Second signal: give up on the downloads in flight as well."""
        self.say("newsarchive: stopping at once: abandoning the downloads in flight")
        for crawler in list(self.process.crawlers):
            crawler.signals.send_catch_log(signal=abandon_requested)
        abort_connections(_reactor())

    def _stop(self, crawler: Crawler) -> None:
        if not crawler.crawling:  # finished already
            return
        engine = running_engine(crawler)
        if engine is None or not engine.running:
            # Still starting (opening the spider, recording the run): stop it once its engine runs.
            # Stopped now, Scrapy would mark it stopped and run it anyway.
            _reactor().callLater(STARTING_POLL_SECONDS, self._stop, crawler)
            return
        crawler.signals.send_catch_log(signal=stop_requested)
        if engine_closing(engine):
            # It is finishing by itself. Stopped now, Scrapy would end the crawl before the spider
            # closed: the run history and the last batch would be cut short when the reactor stops.
            return
        stopping = deferred_from_coro(crawler.stop_async())
        stopping.addErrback(lambda error: logger.error("could not stop the run: %s", error.getErrorMessage()))
        finish_closing(crawler)


def finish_closing(crawler: Crawler) -> None:
    """Scrapy 2.19 never finishes closing a spider while an item from its ``start()`` (reparse's
    articles) is in the item pipelines: its scraper checks whether it is idle again only after a
    response. Until the spider is closed, check for it (newsarchive.scrapy_compat)."""
    engine = running_engine(crawler)
    if engine is None or engine.spider is None:  # closed
        return
    if finish_scraper_closing(engine):
        return
    _reactor().callLater(STARTING_POLL_SECONDS, finish_closing, crawler)


def abort_connections(reactor: Any) -> None:
    """Abort every outgoing TCP connection of the process: the downloads in flight (and idle
    connections of Scrapy's pool), failing at once with a lost connection. Nothing else in a
    ``newsarchive`` process connects through the reactor (the database is reached from threads)."""
    for client in list(tcp_clients(reactor)):
        if client.connected:
            client.abortConnection()  # type: ignore[no-untyped-call]
    stop_connecting()


class StopFence(Fence):
    """Downloader middleware: once the run is stopping (:data:`stop_requested`), no request goes
    out (newsarchive.fence). Once it abandons its downloads (:data:`abandon_requested`), their
    failures are :class:`Interrupted` too, so they are neither retried nor counted as download
    errors. Each is counted as skipped ``interrupted``."""

    reason = Reason.INTERRUPTED

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.abandoning = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StopFence:
        fence = cls(crawler)
        crawler.signals.connect(fence.shut, signal=stop_requested)
        crawler.signals.connect(fence.abandon_requested, signal=abandon_requested)
        return fence

    def refusal(self) -> Interrupted:
        return Interrupted("not sent: the run was stopped")

    def abandon_requested(self) -> None:
        self.shut()
        self.abandoning = True

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        if isinstance(exception, Interrupted):
            raise exception  # counted where it was raised; no other middleware retries it
        if self.abandoning:
            self.count()
            raise Interrupted(f"abandoned in flight: the run was stopped at once ({exception})")


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
