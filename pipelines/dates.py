"""Dates: parse ``published_raw`` into an Asia/Shanghai-aware ``published_at``; implausible drops."""

from __future__ import annotations

from scrapy import Spider

from newsarchive.items import Article
from newsarchive.text.dates import DateError, parse_published
from pipelines import CountingPipeline, drop


class NormalizeDatesPipeline(CountingPipeline):
    def process_item(self, item: Article, spider: Spider | None = None) -> Article:
        try:
            item.published_at = parse_published(item.published_raw or "")
        except DateError as error:
            drop(self.stats, "bad_date", f"{item.info_code}: {error}")
        return item
