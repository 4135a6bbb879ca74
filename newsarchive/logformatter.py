"""Log formatter: a dropped or scraped article is one line (code, URL, reason), never a dump of its
whole body; and the per-response and per-item DEBUG lines are not even built unless LOG_LEVEL asks
for them.

Scrapy leaves the root logger at NOTSET and filters in its handler, so a DEBUG record is made (its
caller found, its arguments kept) for every page and every item and only then thrown away: a few
% of a crawl's time. Returning None from a formatter method omits the line (Scrapy's documented way).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


def debug_enabled(level: int | str | None, enabled: bool = True) -> bool:
    """Whether Scrapy's LOG_LEVEL (a name or a number) lets DEBUG lines through."""
    if not enabled:
        return False
    number = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    return not isinstance(number, int) or number <= logging.DEBUG


class ArchiveLogFormatter(LogFormatter):
    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveLogFormatter:
        settings = crawler.settings
        return cls(debug_enabled(settings.get("LOG_LEVEL"), settings.getbool("LOG_ENABLED", True)))

    def crawled(  # type: ignore[override]  # None omits the line
        self, request: Request, response: Response, spider: Spider
    ) -> LogFormatterResult | None:
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(  # type: ignore[override]  # None omits the line
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult | None:
        if not self.debug:
            return None
        result = super().scraped(item, response, spider)
        result["msg"] = "Scraped %(item)s from %(src)s"
        args = result["args"]
        result["args"] = {"item": _one_line(item), "src": args["src"] if isinstance(args, dict) else response}
        return result

    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped article %(url)s: %(exception)s"
        result["args"] = {"url": getattr(item, "url", "?"), "exception": exception}
        return result


def _one_line(item: Any) -> str:
    """An item as its kind, code and URL."""
    parts = [type(item).__name__, getattr(item, "info_code", None), getattr(item, "url", None)]
    return " ".join(str(part) for part in parts if part)
