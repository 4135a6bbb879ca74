"""Taxonomy: category (pinyin slug of the media, or ``emnews`` for the 7x24 feed) and tags."""

from __future__ import annotations

from scrapy import Spider
from scrapy.crawler import Crawler

from newsarchive.items import Article
from newsarchive.text.media import FAST_NEWS_CATEGORY, FAST_NEWS_TAG, category_slug, media_tag

FAST_FEED = "eastmoney_fast"


class TaxonomyPipeline:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TaxonomyPipeline:
        return cls()

    def process_item(self, item: Article, spider: Spider | None = None) -> Article:
        if item.media:
            item.media = item.media.strip()
        if item.feed == FAST_FEED:
            # The original archived every 7x24 item under one category, whatever its outlet.
            item.category, item.tags = FAST_NEWS_CATEGORY, [FAST_NEWS_TAG]
        elif item.media:
            item.category, item.tags = category_slug(item.media), [media_tag(item.media)]
        else:
            item.category, item.tags = "unknown", []
        return item
