"""Taxonomy: canonical media name, category (its slug, or ``emnews`` for the 7x24 feed) and tags
(the media tag, then the site's own 栏目 when the page names one).

Media names not in newsarchive/data/media.toml keep their spelling and a pinyin slug; each distinct
one is logged once per crawl and counted in ``newsarchive/unknown_media`` so it can be added.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Spider
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector

from newsarchive.counts import Count
from newsarchive.items import FAST_FEED, Article
from newsarchive.text.media import (
    FAST_NEWS_CATEGORY,
    FAST_NEWS_TAG,
    canonical_media,
    category_slug,
    is_known_media,
    media_table,
    media_tag,
)
from pipelines import CountingPipeline

logger = logging.getLogger(__name__)


class TaxonomyPipeline(CountingPipeline):
    def __init__(self, stats: StatsCollector | None) -> None:
        super().__init__(stats)
        self.unknown_media: set[str] = set()  # per crawl: each unknown name is reported once

    @classmethod
    def configured(cls, settings: BaseSettings, stats: StatsCollector | None) -> Self:
        media_table()  # a broken media table stops the crawl before anything is fetched
        return super().configured(settings, stats)

    def process_item(self, item: Article, spider: Spider | None = None) -> Article:
        if item.media is not None:
            item.media = canonical_media(item.media)
            if item.media and not is_known_media(item.media):
                self.report_unknown(item.media)
        if item.feed == FAST_FEED:
            # The original archived every 7x24 item under one category, whatever its outlet.
            item.category, item.tags = FAST_NEWS_CATEGORY, [FAST_NEWS_TAG]
        elif item.media:
            item.category, item.tags = category_slug(item.media), [media_tag(item.media)]
        else:
            item.category, item.tags = "unknown", []
        section = " ".join((item.section or "").split())
        if item.feed != FAST_FEED and section and section not in item.tags:
            item.tags.append(section)  # the site's own 栏目, e.g. ["证券日报网新闻", "宏观经济"]
        return item

    def report_unknown(self, media: str) -> None:
        if media in self.unknown_media:
            return
        self.unknown_media.add(media)
        self.counter.count(Count.UNKNOWN_MEDIA)
        logger.warning(
            "unknown media outlet %r (slug %r): add it to newsarchive/data/media.toml",
            media,
            category_slug(media),
        )
