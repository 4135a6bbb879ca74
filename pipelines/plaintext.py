"""Plain text: the short text fields of every article and feed claim become plain single-line text
(newsarchive.text.plain): no markup fragment, no bidi or other invisible control.

The parsers already extract plain text; this step holds for every source (declared sites, reparse,
``newsarchive load``, which runs the crawl's pipelines: pipelines.article_steps), so a layout that
prints a title unescaped cannot run it. It runs first, so an item whose title is nothing but markup
drops as ``no_title``. Each field that held markup or controls is counted in
``newsarchive/cleaned/markup_in_<field>``.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider

from newsarchive.counts import Prefix
from newsarchive.items import SHORT_TEXT_FIELDS, Article
from newsarchive.text.plain import plain_text
from pipelines import CountingPipeline

ARTICLE_FIELDS = SHORT_TEXT_FIELDS  # the Article schema marks them (newsarchive.items)


class PlainTextPipeline(CountingPipeline):
    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, Article):
            self.clean(item, ARTICLE_FIELDS)
        return item

    def clean(self, item: Article, fields: tuple[str, ...]) -> None:
        for name in fields:
            value = getattr(item, name)
            if value is not None:
                setattr(item, name, self.plain(name, value))
        if item.tags:
            tags = (self.plain("tags", tag) for tag in item.tags)
            item.tags = [tag for tag in tags if tag]

    def plain(self, field: str, value: object) -> str | None:
        text = plain_text(value)
        # whitespace alone is tidied silently; anything else removed was markup or a control
        if text != (" ".join(str(value).split()) or None):
            self.counter.count_reason(Prefix.CLEANED, f"markup_in_{field}")
        return text
