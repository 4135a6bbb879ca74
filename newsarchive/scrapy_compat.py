"""Every use of a private Scrapy attribute or of one Scrapy version's behaviour, as small named
functions: the downloader's slots, the robots.txt cache, the engine's and the scraper's closing
state, the crawler's attributes that are set only once a crawl starts, the HTTP download handler
newsarchive's own (newsarchive.download) delegates to.

Tested with the Scrapy versions in :data:`TESTED_SCRAPY` (pinned in pyproject.toml);
tests/test_scrapy_compat.py builds real Scrapy objects from the project settings and fails on an
upgrade that changes any of this. An internal that is not there raises :class:`ScrapyChanged`
naming the running Scrapy version, never a quiet fallback. What to do on an upgrade:
docs/operations.md ("Upgrading Scrapy").
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol, cast

import scrapy
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

    RobotsEntry = RobotParser | Deferred[RobotParser | None] | None

logger = logging.getLogger(__name__)

# Keep in step with the scrapy requirement in pyproject.toml. 2.18 is the oldest that has what this
# module reads: Crawler attributes raising RuntimeError until set, an async _parse_robots taking the
# request (2.17: sync, without it), download slots timed by time.monotonic() (2.14: time.time()).
TESTED_SCRAPY = ">=2.18,<2.20"


class ScrapyChanged(RuntimeError):
    """A Scrapy internal newsarchive relies on is not there: a Scrapy version it was not tested with."""


def _private(owner: object, name: str) -> Any:
    """``owner.name``, or :class:`ScrapyChanged` naming the Scrapy version that lacks it."""
    try:
        return getattr(owner, name)
    except AttributeError:
        raise ScrapyChanged(
            f"Scrapy {scrapy.__version__} has no {type(owner).__name__}.{name}, which newsarchive "
            f"relies on (tested with Scrapy {TESTED_SCRAPY}; see docs/operations.md, 'Upgrading Scrapy')"
        ) from None


# --- the crawler's late attributes ---------------------------------------------------------------


def running_engine(crawler: Crawler) -> ExecutionEngine | None:
    """The crawl's engine, or None before the crawl created it (or outside a crawl)."""
    try:
        return crawler.engine  # Scrapy 2.18+ raises RuntimeError until the crawl starts
    except RuntimeError:
        return None


def crawl_stats(crawler: Crawler | None) -> dict[str, Any]:
    """The crawl's stats, or none if it failed before Scrapy created its stats collector (the
    spider's ``from_crawler`` rejected an argument, the job lock was held …)."""
    if crawler is None:
        return {}
    try:
        collector = crawler.stats  # Scrapy 2.18+ raises RuntimeError until the crawl applied settings
    except RuntimeError:
        return {}
    return collector.get_stats()


def close_spider(crawler: Crawler, reason: str) -> None:
    """Stop the crawl with the finish reason ``reason``, from anywhere in it; nothing when it is not
    crawling (a component driven on its own) or its spider is closed already."""
    engine = running_engine(crawler)
    if engine is None or engine.spider is None:
        return
    closing = deferred_from_coro(engine.close_spider_async(reason=reason))
    closing.addErrback(
        lambda failure: logger.error("could not stop the crawl: %s", failure.getErrorMessage())
    )


# --- the downloader's slots ----------------------------------------------------------------------


def _download_slots(crawler: Crawler) -> dict[str, Any]:
    engine = running_engine(crawler)
    if engine is None:  # not crawling: no downloader, so nothing queued (safe, not a fallback)
        return {}
    return cast(dict[str, Any], _private(engine.downloader, "slots"))


def queued_downloads(crawler: Crawler, slot_key: str | None = None) -> Iterator[Deferred[Any]]:
    """Take every request waiting in a download slot (``slot_key``'s, or every slot's) out of it:
    the Deferreds to fail. Requests already sent are not in a slot's queue."""
    slots = _download_slots(crawler)
    keys = list(slots) if slot_key is None else [slot_key] if slot_key in slots else []
    for key in keys:
        queue = _private(slots[key], "queue")
        while queue:
            _, waiting = queue.popleft()  # (request, Deferred), as Downloader._enqueue_request puts them
            yield waiting


def delay_slot(crawler: Crawler, slot_key: str, until: float) -> None:
    """No request leaves the download slot ``slot_key`` before ``until`` (``time.monotonic()``).
    A slot that does not exist yet has nothing queued: nothing to do."""
    slot = _download_slots(crawler).get(slot_key)
    if slot is None:
        return
    delay, lastseen = _private(slot, "delay"), _private(slot, "lastseen")
    # The downloader sends a slot's next request once delay has passed since lastseen, and skips that
    # check for a zero delay: a tiny one keeps the pause on an undelayed crawl.
    slot.delay = delay or 1e-6
    slot.lastseen = max(lastseen, until)


# --- the HTTP download handler ------------------------------------------------------------------


class DownloadHandler(Protocol):
    """A download handler as Scrapy 2.14+ calls it: a coroutine taking the request alone (older ones
    returned a Deferred and took the spider), and a coroutine ``close``."""

    async def download_request(self, request: Request) -> Response: ...

    async def close(self) -> None: ...


def http_download_handler(crawler: Crawler) -> DownloadHandler:
    """A new instance of the handler Scrapy itself uses for https (``DOWNLOAD_HANDLERS_BASE``; the
    same class as for http), built as Scrapy builds it."""
    path = crawler.settings.getdict("DOWNLOAD_HANDLERS_BASE").get("https")
    if not path:
        raise ScrapyChanged(f"Scrapy {scrapy.__version__} has no https entry in DOWNLOAD_HANDLERS_BASE")
    handler = build_from_crawler(load_object(path), crawler)
    if not inspect.iscoroutinefunction(getattr(handler, "download_request", None)):
        raise ScrapyChanged(
            f"Scrapy {scrapy.__version__}'s {type(handler).__name__}.download_request is not a coroutine "
            f"function (tested with Scrapy {TESTED_SCRAPY})"
        )
    return cast(DownloadHandler, handler)


# --- the robots.txt cache of RobotsTxtMiddleware -------------------------------------------------


def robots_cache(middleware: RobotsTxtMiddleware) -> MutableMapping[str, RobotsEntry]:
    """The middleware's robots.txt per host (netloc): its parser, None for one that could not be
    read, or the Deferred of one still being downloaded (fired with the parser or None)."""
    return cast("MutableMapping[str, RobotsEntry]", _private(middleware, "_parsers"))


def parse_robots(
    middleware: RobotsTxtMiddleware, response: Response, netloc: str, request: Request
) -> Awaitable[None]:
    """Parse ``netloc``'s downloaded robots.txt into the cache, firing its pending Deferred."""
    parse = _private(middleware, "_parse_robots")
    return cast(Awaitable[None], parse(response, netloc, request))


def robots_failed(middleware: RobotsTxtMiddleware, error: Exception, netloc: str) -> None:
    """Record that ``netloc``'s robots.txt could not be read (crawled as if it had none)."""
    _private(middleware, "_robots_error")(error, netloc)


# --- closing: the engine's and the scraper's slots -----------------------------------------------


def engine_closing(engine: ExecutionEngine) -> bool:
    """Whether the engine's spider is closing or closed."""
    slot = _private(engine, "_slot")
    return slot is None or _private(slot, "closing") is not None


def finish_scraper_closing(engine: ExecutionEngine) -> bool:
    """Let a closing scraper that is idle finish closing; False while there is still something to
    wait for (call again later). Scrapy checks whether a closing scraper is idle only after a
    response, so a spider whose last item came from its ``start()`` (reparse) would never close."""
    scraper = engine.scraper
    slot = _private(scraper, "slot")
    if slot is None:  # closed
        return True
    closing = _private(slot, "closing")
    if closing is not None and not closing.called and slot.is_idle():
        _private(scraper, "_check_if_closing")()
        return True
    return False
