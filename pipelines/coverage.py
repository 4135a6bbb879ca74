"""Coverage: count which optional fields each article carries, under ``newsarchive/field_present/``.

The run history keeps these counts, and :mod:`newsarchive.monitor` warns when a field a job's
articles normally carry goes missing (a sign that a page changed). Items pass through unchanged.
"""

from __future__ import annotations

from newsarchive.items import Article
from newsarchive.monitor import COVERED_FIELDS
from pipelines import ArticlePipeline

FIELD_PRESENT_PREFIX = "newsarchive/field_present/"


class CoveragePipeline(ArticlePipeline):
    def process_article(self, item: Article) -> Article:
        if self.stats is not None:
            count = self.stats.inc_value  # looked up once: Scrapy's stats wrap every attribute access
            for name in COVERED_FIELDS:
                if getattr(item, name):
                    count(f"{FIELD_PRESENT_PREFIX}{name}")
        return item
