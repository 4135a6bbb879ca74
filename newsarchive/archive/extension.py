"""Scrapy extension writing every response the crawl receives to a WARC file.

Settings: ``NEWSARCHIVE_WARC_ENABLED`` (off raises NotConfigured), ``NEWSARCHIVE_WARC_DIR``.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive.archive.warc import ArchiveError, WarcArchive
from newsarchive.counts import Count, Counter, Value

logger = logging.getLogger(__name__)


class WarcArchiveExtension:
    def __init__(self, archive: WarcArchive, crawler: Crawler) -> None:
        self.archive: WarcArchive | None = archive
        self.crawler = crawler
        self.counter = Counter.from_crawler(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchiveExtension:
        spider = crawler.spidercls
        if not crawler.settings.getbool("NEWSARCHIVE_WARC_ENABLED") or not getattr(
            spider, "archives_responses", True
        ):  # reparse reads WARC files: writing its input back out would only duplicate them
            raise NotConfigured  # no message: Scrapy would log a warning for a normal setting
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = (
            Path(crawler.settings.get("NEWSARCHIVE_WARC_DIR"))
            / f"{spider.name}-{stamp}-{os.getpid()}.warc.gz"
        )
        try:  # opened before the crawl starts, so an unwritable archive stops it with one line
            archive = WarcArchive(path)
        except OSError as error:
            raise ArchiveError(f"cannot write WARC file {path}: {error.strerror}") from None
        extension = cls(archive, crawler)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if self.archive is None:
            return
        headers = [
            (key.decode("latin-1"), value.decode("latin-1"))
            for key, values in response.headers.items()
            for value in values
        ]
        try:
            self.archive.write_response(response.url, response.status, headers, response.body)
        except OSError as error:  # disk full, file removed: the crawl goes on, the run is marked failed
            failed_before = self.counter.get(Count.WARC_ERRORS)
            self.counter.count(Count.WARC_ERRORS)
            # the first failure is told, the rest counted: a full disk would log every response
            logger.log(
                logging.DEBUG if failed_before else logging.ERROR,
                "could not write to %s: %s (responses not archived are counted)",
                self.archive.path,
                error.strerror,
            )
            return
        self.counter.count(Count.WARC_RECORDS)
        self.counter.set(Value.WARC_FILE, str(self.archive.path))

    def spider_closed(self, spider: Spider, reason: Any) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None
