"""Dates: parse ``published_raw`` into an Asia/Shanghai-aware ``published_at``; implausible drops.

Relative and year-less forms (``3分钟前``, ``08-10 08:23``) resolve against the item's crawl time,
``fetched_at`` (the WARC record date on reparse), so re-parsing an old capture gives the same instant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from newsarchive.items import Article
from newsarchive.text.dates import DateError, parse_published
from pipelines import ArticlePipeline, drop


class NormalizeDatesPipeline(ArticlePipeline):
    def process_article(self, item: Article) -> Article:
        crawled_at = item.fetched_at or datetime.now(UTC)
        try:
            item.published_at = parse_published(item.published_raw or "", now=crawled_at)
        except DateError as error:
            drop(self.counter, "bad_date", f"{item.info_code}: {error}")
        return item
