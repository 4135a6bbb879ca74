"""Scrapy's RobotsTxtMiddleware, with every request that waits for a host's robots.txt checked and
an unreadable robots.txt costing one log line.

Settings: Scrapy's ``ROBOTSTXT_OBEY`` and ``ROBOTSTXT_USER_AGENT``. Scrapy 2.13+ awaits the one
Deferred of a robots.txt still being downloaded from every request waiting for it
(scrapy/scrapy#6802); a Deferred hands its result to its first awaiter only, so the others get
None and are let through unchecked: on a crawl that queues several article pages at once, a
Disallow'd one went out. Each waiter here gets the parser through its own Deferred, as Scrapy
itself did before (tests/test_robots.py crawls exactly that case).

A robots.txt that cannot be downloaded (a timeout, a dropped connection, a gzip bomb) leaves its
host crawled as if it had none, as Scrapy intends; Scrapy logs that with a traceback naming the
request that was waiting, after retrying the robots.txt with a line per give-up. Here it is fetched
once and the failure is one warning line naming the robots.txt (issue 13 point 13). The
middleware's private parts (its cache, its parse and error steps) are reached through
newsarchive.scrapy_compat; tests/test_scrapy_compat.py and the crawls in tests/test_robots.py fail
if a Scrapy upgrade changes them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from newsarchive.counts import Count, Counter
from newsarchive.failures import failure_reason
from newsarchive.scrapy_compat import parse_robots, robots_cache, robots_failed

if TYPE_CHECKING:
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        cache = robots_cache(self)
        if netloc not in cache:
            await self._read_robots_txt(request, netloc)
        pending = cache[netloc]
        if not isinstance(pending, Deferred):  # already parsed (or unreadable: None)
            return pending
        waiter: Deferred[RobotParser | None] = Deferred()

        def relay(parser: RobotParser | None) -> RobotParser | None:
            waiter.callback(parser)
            return parser  # and on to the next waiter

        pending.addCallback(relay)
        return await maybe_deferred_to_future(waiter)

    async def _read_robots_txt(self, request: Request, netloc: str) -> None:
        """Download and parse ``netloc``'s robots.txt; whoever asks meanwhile waits on the Deferred."""
        assert self.crawler.engine is not None
        robots_cache(self)[netloc] = Deferred()
        robots_request = Request(
            f"{urlparse_cached(request).scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            # Not retried: each retry's give-up is a log line of its own, and a robots.txt that
            # failed still leaves the host crawlable (retries would only hold its requests longer).
            meta={"dont_obey_robotstxt": True, "dont_retry": True},
            callback=NO_CALLBACK,
        )
        try:
            response = await self.crawler.engine.download_async(robots_request)
            await parse_robots(self, response, netloc, request)
        except Exception as error:  # whatever went wrong, the host is crawled as if it had none
            # an IgnoreRequest was logged by whoever raised it (a gzip bomb: HttpCompressionMiddleware)
            if not isinstance(error, IgnoreRequest):
                logger.warning(
                    "could not read %s (%s): crawling %s as if it had no robots.txt",
                    robots_request.url,
                    failure_reason(error),
                    netloc,
                )
            robots_failed(self, error, netloc)
        Counter.from_crawler(self.crawler).count(Count.ROBOTS_TXT_REQUESTS)
