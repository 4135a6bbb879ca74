"""Thin Scrapy item pipelines, one concern per module, over the helpers in newsarchive/."""

from __future__ import annotations

from typing import Any, NoReturn, Self

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from newsarchive.items import Article


def drop(stats: StatsCollector | None, reason: str, detail: str = "") -> NoReturn:
    """Count the reason under ``newsarchive/dropped/<reason>`` and drop the item."""
    if stats is not None:
        stats.inc_value(f"newsarchive/dropped/{reason}")
    raise DropItem(f"{reason}: {detail}" if detail else reason)


class CountingPipeline:
    """Base for pipelines whose only dependency is the stats collector they count drops in."""

    def __init__(self, stats: StatsCollector | None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)


class ArticlePipeline(CountingPipeline):
    """Base for pipelines that work on Article items; any other item (a FeedClaim) passes through."""

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        return self.process_article(item) if isinstance(item, Article) else item

    def process_article(self, item: Article) -> Article:
        raise NotImplementedError
