"""Coverage: count which optional fields each article carries, under ``newsarchive/field_present/``.

The run history keeps these counts, and :mod:`newsarchive.monitor` warns when a field a job's
articles normally carry goes missing (a sign that a page changed). Items pass through unchanged.
"""

from __future__ import annotations

from newsarchive.counts import Prefix
from newsarchive.items import Article
from newsarchive.monitor import COVERED_FIELDS
from pipelines import ArticlePipeline


class CoveragePipeline(ArticlePipeline):
    def process_article(self, item: Article) -> Article:
        for name in COVERED_FIELDS:
            if getattr(item, name):
                self.counter.count_reason(Prefix.FIELD_PRESENT, name)
        return item
