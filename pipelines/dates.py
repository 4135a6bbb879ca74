"""Dates: parse ``published_raw`` into an Asia/Shanghai-aware ``published_at``; implausible drops."""

from __future__ import annotations

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from newsarchive.items import Article
from newsarchive.text.dates import DateError, parse_published
from pipelines import drop


class NormalizeDatesPipeline:
    def __init__(self, stats: StatsCollector | None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizeDatesPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Article, spider: Spider | None = None) -> Article:
        try:
            item.published_at = parse_published(item.published_raw or "")
        except DateError as error:
            drop(self.stats, "bad_date", f"{item.info_code}: {error}")
        return item
