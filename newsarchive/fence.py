"""A downloader middleware that, once shut, sends no request: the requests queued in the download
slots fail at once and new ones are refused, each counted as skipped ``<reason>``. Stopping a crawl
only stops new requests leaving the scheduler; without a fence the ones already queued in the
downloader, or on their way through the middlewares, would still be sent. Used by
newsarchive.joblock (a lost job lock) and newsarchive.interrupt (Ctrl-C, SIGTERM)."""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

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
