"""Clean: reduce the article body to its paragraphs (newsarchive.text.clean); an empty result drops."""

from __future__ import annotations

from scrapy import Spider

from newsarchive.items import Article
from newsarchive.text.clean import clean_body
from pipelines import CountingPipeline, drop


class CleanBodyPipeline(CountingPipeline):
    def process_item(self, item: Article, spider: Spider | None = None) -> Article:
        cleaned = clean_body(item.body_html or "", item.url)
        if self.stats is not None:
            for kind in cleaned.removed:
                self.stats.inc_value(f"newsarchive/cleaned/{kind}")
        if not cleaned.text:
            drop(self.stats, "empty_body", item.info_code)
        item.body_html = cleaned.html
        item.body_text = cleaned.text
        if item.summary:
            item.summary = item.summary.strip()
        return item
