"""Log lines stamped in Asia/Shanghai with the offset, like every other time newsarchive shows.

Scrapy's log handler formats times with the machine's clock (often UTC on servers) and no zone.
``LOG_DATEFORMAT`` (newsarchive.settings) ends in ``%z``, and :func:`use_shanghai_clock` gives the
process's log formatters a Shanghai clock: ``2026-12-05 23:07:12+0800 [newsarchive.history] …``.
It sets the clock of :class:`logging.Formatter` itself, because Scrapy replaces its root handler
(and formatter) while a crawl starts. The runner applies it before Scrapy logs anything;
:class:`ShanghaiLogClock` (an extension) does the same for ``scrapy crawl`` and Scrapyd. Where
neither ran, ``%z`` still tells the machine's own offset, so no stamp is wrong about its zone.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from scrapy.crawler import Crawler

from newsarchive.text.dates import SHANGHAI


def shanghai_clock(seconds: float | None) -> time.struct_time:
    """A :attr:`logging.Formatter.converter`: the instant as Shanghai wall time, offset included."""
    local = datetime.fromtimestamp(time.time() if seconds is None else seconds, SHANGHAI)
    offset = local.utcoffset()
    return time.struct_time(
        (*local.timetuple()[:9], local.tzname(), int(offset.total_seconds()) if offset else 0)
    )


def use_shanghai_clock() -> None:
    """Every log formatter of this process stamps Shanghai time (the process is a crawl's)."""
    logging.Formatter.converter = staticmethod(shanghai_clock)


class ShanghaiLogClock:
    """Extension: the Shanghai clock for the crawl's log, however the crawl was started."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ShanghaiLogClock:
        use_shanghai_clock()
        return cls()
