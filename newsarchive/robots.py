"""Scrapy's RobotsTxtMiddleware, with every request that waits for a host's robots.txt checked.

Settings: Scrapy's ``ROBOTSTXT_OBEY`` and ``ROBOTSTXT_USER_AGENT``. Scrapy 2.13+ awaits the one
Deferred of a robots.txt still being downloaded from every request waiting for it
(scrapy/scrapy#6802); a Deferred hands its result to its first awaiter only, so the others get
None and are let through unchecked: on a crawl that queues several article pages at once, a
Disallow'd one went out. Each waiter here gets the parser through its own Deferred, as Scrapy
itself did before (tests/test_robots.py crawls exactly that case).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares import robotstxt
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.robotstxt import RobotParser


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):  # not asked for yet, or already parsed
            return await super().robot_parser(request)
        waiter: Deferred[RobotParser | None] = Deferred()

        def relay(parser: RobotParser | None) -> RobotParser | None:
            waiter.callback(parser)
            return parser  # and on to the next waiter

        pending.addCallback(relay)
        return await maybe_deferred_to_future(waiter)
