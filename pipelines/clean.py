"""Clean: reduce the article body to its sanitized paragraphs (newsarchive.text.clean).

A body that cleans to nothing drops as ``empty_body``; one the cleaner fails on drops as ``clean_failed``
(it should never happen, but one bad page must not stop a crawl); a body over
``NEWSARCHIVE_MAX_BODY_CHARS`` drops as ``body_too_large`` (no article is that long, and the
sanitizer's time grows with the square of the entity references in one paragraph).
"""

from __future__ import annotations

from typing import Self

from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector

from newsarchive.counts import Prefix
from newsarchive.items import Article
from newsarchive.text.clean import clean_body
from pipelines import ArticlePipeline, drop


class CleanBodyPipeline(ArticlePipeline):
    def __init__(self, stats: StatsCollector | None, max_body_chars: int) -> None:
        super().__init__(stats)
        self.max_body_chars = max_body_chars

    @classmethod
    def configured(cls, settings: BaseSettings, stats: StatsCollector | None) -> Self:
        return cls(stats, settings.getint("NEWSARCHIVE_MAX_BODY_CHARS"))

    def process_article(self, item: Article) -> Article:
        if self.max_body_chars and len(item.body_html or "") > self.max_body_chars:
            drop(self.counter, "body_too_large", f"{item.info_code} ({len(item.body_html or '')} characters)")
        try:
            cleaned = clean_body(item.body_html or "", item.url)
        except Exception as error:  # any failure of the cleaner is this item's problem only
            drop(self.counter, "clean_failed", f"{item.info_code} ({type(error).__name__}: {error})")
        for kind in cleaned.removed:
            self.counter.count_reason(Prefix.CLEANED, kind)
        if not cleaned.text:
            drop(self.counter, "empty_body", item.info_code)
        item.body_html = cleaned.html
        item.body_text = cleaned.text
        if item.summary:
            item.summary = item.summary.strip()
        return item
