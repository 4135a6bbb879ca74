"""Validate: an item without code, title, publish time or article body is dropped (and fetched again
by a later run, since it is never stored)."""

from __future__ import annotations

from newsarchive.counts import Reason
from newsarchive.ids import canonical_info_code
from newsarchive.items import Article
from pipelines import ArticlePipeline, drop


class ValidatePipeline(ArticlePipeline):
    def process_article(self, item: Article) -> Article:
        try:
            item.info_code = canonical_info_code(item.info_code or "")
        except ValueError:
            drop(self.counter, Reason.BAD_CODE, repr(item.info_code))
        if not item.title:
            drop(self.counter, "no_title", item.info_code)
        if not item.published_raw:
            drop(self.counter, "no_date", item.info_code)
        if not item.body_html or not item.body_html.strip():
            drop(self.counter, "no_body", item.info_code)
        return item
