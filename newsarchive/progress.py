"""Progress lines during a run and the end-of-run summary in the log.

Settings: ``NEWSARCHIVE_PROGRESS_INTERVAL`` (seconds between progress lines, 0 for none),
``NEWSARCHIVE_PROGRESS_STDERR`` (write them to stderr instead of the log, as the CLI does so they
show at its quiet default log level) and ``NEWSARCHIVE_LOG_SUMMARY`` (log the summary at the end).
"""

from __future__ import annotations

import logging
import sys

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from newsarchive.counts import Counter
from newsarchive.summary import RunSummary

logger = logging.getLogger(__name__)


class ProgressExtension:
    def __init__(self, crawler: Crawler, interval: float, to_stderr: bool, log_summary: bool) -> None:
        self.crawler = crawler
        self.counter = Counter.from_crawler(crawler)
        self.interval = interval
        self.to_stderr = to_stderr
        self.log_summary = log_summary
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        interval = crawler.settings.getfloat("NEWSARCHIVE_PROGRESS_INTERVAL")
        log_summary = crawler.settings.getbool("NEWSARCHIVE_LOG_SUMMARY")
        if interval <= 0 and not log_summary:
            raise NotConfigured  # no message: Scrapy would log a warning for a normal setting
        to_stderr = crawler.settings.getbool("NEWSARCHIVE_PROGRESS_STDERR")
        extension = cls(crawler, interval, to_stderr, log_summary)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def summary(self) -> RunSummary:
        return RunSummary.from_stats(self.counter.snapshot())

    def spider_opened(self, spider: Spider) -> None:
        if self.interval > 0:
            self._loop = task.LoopingCall(self.report, spider)
            self._loop.start(self.interval, now=False)

    def report(self, spider: Spider) -> None:
        line = self.summary().progress_line()
        note = getattr(spider, "progress_note", None)  # e.g. a backfill's position and estimate
        extra = note() if callable(note) else None
        if extra:
            line = f"{line}; {extra}"
        if self.to_stderr:
            sys.stderr.write(f"[{spider.name}] {line}\n")
            sys.stderr.flush()
        else:
            logger.info("%s progress: %s", spider.name, line)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.log_summary:
            lines = "\n".join(f"   {line}" for line in self.summary().lines())
            logger.info("%s finished (%s):\n%s", spider.name, reason, lines)
