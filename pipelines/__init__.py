"""Thin Scrapy item pipelines, one concern per module, over the helpers in newsarchive/."""

from __future__ import annotations

from typing import Any, NoReturn, Self

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from newsarchive.counts import Counter, Prefix
from newsarchive.items import Article


def drop(counter: Counter, reason: str, detail: str = "") -> NoReturn:
    """Count the reason under ``newsarchive/dropped/<reason>`` and drop the item."""
    counter.count_reason(Prefix.DROPPED, reason)
    raise DropItem(f"{reason}: {detail}" if detail else reason)


class CountingPipeline:
    """Base for pipelines whose only dependency is the stats collector they count drops in."""

    def __init__(self, stats: StatsCollector | None) -> None:
        self.counter = Counter(stats)  # counts nothing without stats (newsarchive load's checks)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls.configured(crawler.settings, crawler.stats)

    @classmethod
    def configured(cls, settings: BaseSettings, stats: StatsCollector | None) -> Self:
        """The pipeline built from plain settings, as :meth:`from_crawler` builds it for a crawl
        (also used with no crawl: :func:`article_steps`)."""
        return cls(stats)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        raise NotImplementedError


class ArticlePipeline(CountingPipeline):
    """Base for pipelines that work on Article items (the only items: an order to the store, a
    feed claim, goes to the store itself, newsarchive.store.claims); anything else passes through."""

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        return self.process_article(item) if isinstance(item, Article) else item

    def process_article(self, item: Article) -> Article:
        raise NotImplementedError


def article_steps(settings: BaseSettings, stats: StatsCollector | None = None) -> list[CountingPipeline]:
    """The crawl's item pipelines up to the store, in ``ITEM_PIPELINES`` order, built from
    ``settings``: ``newsarchive load`` puts every item through exactly these, so a dead-letter line
    is validated, cleaned and sanitized as a crawled page is. Every pipeline but the store must be
    a :class:`CountingPipeline`, so it can be built here."""
    from pipelines.store import StorePipeline

    steps = []
    for path in build_component_list(settings.getwithbase("ITEM_PIPELINES")):
        pipeline = load_object(path)
        if pipeline is StorePipeline:
            continue
        if not (isinstance(pipeline, type) and issubclass(pipeline, CountingPipeline)):
            raise TypeError(f"{path} is not a CountingPipeline: newsarchive load cannot build it")
        steps.append(pipeline.configured(settings, stats))
    return steps
