"""Log formatter: a dropped article is one line (code and reason), not a dump of its whole body."""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


class ArchiveLogFormatter(LogFormatter):
    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped article %(url)s: %(exception)s"
        result["args"] = {"url": getattr(item, "url", "?"), "exception": exception}
        return result
