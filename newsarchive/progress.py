"""Progress lines during long runs (every ``NEWSARCHIVE_PROGRESS_INTERVAL`` seconds, 0 turns it off)."""

from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from newsarchive.summary import RunSummary

logger = logging.getLogger(__name__)


class ProgressExtension:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        interval = crawler.settings.getfloat("NEWSARCHIVE_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("progress lines are off")
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self._loop = task.LoopingCall(self.report, spider)
        self._loop.start(self.interval, now=False)

    def report(self, spider: Spider) -> None:
        assert self.crawler.stats is not None
        summary = RunSummary.from_stats(self.crawler.stats.get_stats())
        logger.info("%s progress: %s", spider.name, summary.progress_line())

    def spider_closed(self, spider: Spider) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
