"""Spider ``reparse``: no network; re-runs archived WARC responses through the parsers and pipelines.

Argument ``warc``: comma list of WARC paths. Stored rows are replaced with the re-extracted ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Spider

from newsarchive.archive.reader import DamagedRecord
from newsarchive.archive.replay import replay_articles
from newsarchive.arguments import ArgumentError, SpiderArgument, check_arguments, split_list
from newsarchive.counts import Counter
from newsarchive.items import Article

# One warning line per damaged stretch (file and offset), up to this many; the summary counts all.
MAX_DAMAGE_LINES = 10


class ReparseSpider(Spider):
    name = "reparse"
    description = "re-extract articles from WARC files (run by `newsarchive reparse`)"
    internal = True  # not a crawl: `newsarchive reparse FILE…` runs it
    arguments = (SpiderArgument("warc", "comma list of WARC files", check=split_list),)
    replace_existing = True  # the point of a reparse is to rewrite rows after a parser fix
    archives_responses = False

    @classmethod
    def accepted_arguments(cls) -> tuple[SpiderArgument, ...]:
        return cls.arguments

    @classmethod
    def check_arguments(cls, given: dict[str, str]) -> None:
        check_arguments(cls.name, cls.arguments, given)
        if not given.get("warc"):
            raise ArgumentError("reparse needs -a warc=FILE[,FILE...]")

    def __init__(self, warc: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_arguments = {"warc": warc or ""}  # recorded with the run (newsarchive.history)
        self.paths = [Path(path) for path in split_list(warc, "warc")]
        if not self.paths:
            raise ArgumentError("reparse needs -a warc=FILE[,FILE...]")
        self.damage_reports = 0

    async def start(self) -> AsyncIterator[Article]:
        count = Counter.from_crawler(self.crawler).count_named  # names of newsarchive.counts
        for article in replay_articles(self.paths, count, self._report_damage):
            yield article

    def _report_damage(self, damage: DamagedRecord) -> None:
        self.damage_reports += 1
        if self.damage_reports <= MAX_DAMAGE_LINES:
            self.logger.warning("%s", damage)
        elif self.damage_reports == MAX_DAMAGE_LINES + 1:
            self.logger.warning("more damaged WARC records: counted in the summary, not listed")
