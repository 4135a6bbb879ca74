"""Spider ``reparse``: no network; re-runs archived WARC responses through the parsers and pipelines.

Argument ``warc``: comma list of WARC paths. Stored rows are replaced with the re-extracted ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Spider

from newsarchive.archive.replay import replay_articles
from newsarchive.items import Article
from spiders.base import split_arg


class ReparseSpider(Spider):
    name = "reparse"
    replace_existing = True  # the point of a reparse is to rewrite rows after a parser fix
    archives_responses = False

    def __init__(self, warc: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_arguments = {"warc": warc or ""}  # recorded with the run (newsarchive.history)
        self.paths = [Path(path) for path in split_arg(warc, "warc")]
        if not self.paths:
            raise ValueError("reparse needs -a warc=FILE[,FILE...]")

    async def start(self) -> AsyncIterator[Article]:
        for article in replay_articles(self.paths, self._count):
            yield article

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsarchive/{key}")
