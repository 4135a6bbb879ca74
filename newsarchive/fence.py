"""A downloader middleware that, once shut, sends no request: the requests queued in the download
slots fail at once and new ones are refused, each counted as skipped ``<reason>``. Stopping a crawl
only stops new requests leaving the scheduler; without a fence the ones already queued in the
downloader, or on their way through the middlewares, would still be sent. Used by
newsarchive.joblock (a lost job lock) and newsarchive.interrupt (Ctrl-C, SIGTERM); the download
handler (newsarchive.download) checks a fence once more just before a request goes out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.reactor import is_reactor_installed
from twisted.internet import tcp

from newsarchive.counts import Counter, Prefix
from newsarchive.scrapy_compat import queued_downloads


class Fence:
    """Shut by :meth:`shut`; :attr:`reason` names the skipped count, :meth:`refusal` the error each
    request not sent fails with."""

    reason: str

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.counter = Counter.from_crawler(crawler)
        self.is_shut = False

    def refusal(self) -> IgnoreRequest:
        raise NotImplementedError

    def shut(self) -> None:
        self.is_shut = True
        for waiting in queued_downloads(self.crawler):
            self.count()
            waiting.errback(self.refusal())

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.is_shut:
            self.count()
            raise self.refusal()

    def count(self) -> None:
        self.counter.count_reason(Prefix.SKIPPED, self.reason)


def tcp_clients(reactor: Any) -> Iterator[tcp.Client]:
    """The outgoing TCP connections of the process: the downloads in flight and the idle ones of
    Scrapy's pool. Nothing else in a ``newsarchive`` process connects through the reactor (the
    database is reached from threads, the job lock's socket is watched by a reader of its own)."""
    for selectable in {*reactor.getReaders(), *reactor.getWriters()}:
        if isinstance(selectable, tcp.Client):
            yield selectable


def stop_connecting() -> None:
    """Give up every connection still being made (in the reactor Scrapy runs on; none without one).
    A request handed to the HTTP handler whose connection is not made yet has not gone out: the
    site's listen queue may have been full, and it would go out when the connection is retried, a
    second later, after the fence shut. Its download fails (see :class:`JobLockFence`)."""
    if not is_reactor_installed():
        return
    from twisted.internet import reactor  # the installed one

    for client in list(tcp_clients(reactor)):
        if not client.connected:
            client.stopConnecting()  # type: ignore[no-untyped-call]
