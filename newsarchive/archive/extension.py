"""Scrapy extension writing every response the crawl receives to a WARC file.

Settings: ``NEWSARCHIVE_WARC_ENABLED`` (off raises NotConfigured), ``NEWSARCHIVE_WARC_DIR``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive.archive.warc import WarcArchive


class WarcArchiveExtension:
    def __init__(self, directory: Path, crawler: Crawler) -> None:
        self.directory = directory
        self.crawler = crawler
        self.archive: WarcArchive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchiveExtension:
        if not crawler.settings.getbool("NEWSARCHIVE_WARC_ENABLED"):
            raise NotConfigured  # no message: Scrapy would log a warning for a normal setting
        extension = cls(Path(crawler.settings.get("NEWSARCHIVE_WARC_DIR")), crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        if getattr(spider, "archives_responses", True) is False:
            return  # reparse reads WARC files; writing its input back out would only duplicate them
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.archive = WarcArchive(self.directory / f"{spider.name}-{stamp}-{os.getpid()}.warc.gz")
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("newsarchive/warc_file", str(self.archive.path))

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if self.archive is None:
            return
        headers = [
            (key.decode("latin-1"), value.decode("latin-1"))
            for key, values in response.headers.items()
            for value in values
        ]
        self.archive.write_response(response.url, response.status, headers, response.body)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/warc_records")

    def spider_closed(self, spider: Spider, reason: Any) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None
