"""The Scrapy internals newsarchive relies on (newsarchive/scrapy_compat.py), checked on real Scrapy
objects built from the project settings: a Scrapy upgrade that changes any of them fails here, by
name, before it fails quietly in a crawl. What to do then: docs/operations.md ("Upgrading Scrapy").
"""

from __future__ import annotations

import asyncio
import inspect
import re
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from time import monotonic
from typing import Any

import pytest
import scrapy
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from scrapy import Request, Spider, signals
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.utils.test import get_reactor_settings
from twisted.internet.defer import Deferred

from newsarchive import robots, scrapy_compat
from newsarchive.runner import project_settings
from newsarchive.scrapy_compat import (
    TESTED_SCRAPY,
    ScrapyChanged,
    crawl_stats,
    delay_slot,
    engine_closing,
    finish_scraper_closing,
    http_download_handler,
    parse_robots,
    queued_downloads,
    robots_cache,
    robots_failed,
    running_engine,
)
from tests.conftest import REPO

SITE = "example.com"


class CompatSpider(Spider):
    name = "compat_check"


def project_crawler(tmp_path: Path, **overrides: Any) -> Crawler:
    """A crawler with the project settings, not configured yet; nothing it builds writes outside
    ``tmp_path`` (no WARC file, no job lock, no run history, no item pipeline)."""
    settings = project_settings(
        {
            **get_reactor_settings(),  # no reactor in the test process: Scrapy's reactorless mode
            "NEWSARCHIVE_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.db'}",
            "NEWSARCHIVE_WARC_ENABLED": False,
            "NEWSARCHIVE_JOB_LOCK": False,
            "EXTENSIONS": {"newsarchive.history.RunHistoryExtension": None},
            "ITEM_PIPELINES": {},
            **overrides,
        }
    )
    return Crawler(CompatSpider, settings)


@asynccontextmanager
async def project_engine(tmp_path: Path, **overrides: Any) -> AsyncIterator[ExecutionEngine]:
    """The engine Scrapy builds for a crawl with the project settings (its downloader, downloader
    middlewares and scraper), not opened; its download handlers are closed afterwards."""
    crawler = project_crawler(tmp_path, **overrides)
    crawler._apply_settings()
    crawler.spider = CompatSpider.from_crawler(crawler)
    crawler.engine = engine = crawler._create_engine()
    try:
        yield engine
    finally:
        engine.downloader.close()
        await crawler.signals.send_catch_log_async(signal=signals.engine_stopped)


# --- the versions ---------------------------------------------------------------------------------


def test_the_installed_scrapy_is_one_newsarchive_was_tested_with() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pinned = [Requirement(line) for line in pyproject["project"]["dependencies"] if line.startswith("scrapy")]
    assert [requirement.specifier for requirement in pinned] == [SpecifierSet(TESTED_SCRAPY)]
    assert pinned[0].specifier.contains(scrapy.__version__), (
        f"Scrapy {scrapy.__version__} is installed; newsarchive is tested with {TESTED_SCRAPY}: "
        "see docs/operations.md, 'Upgrading Scrapy'"
    )


# --- the crawler's late attributes ----------------------------------------------------------------


def test_crawler_stats_and_engine_raise_until_the_crawl_starts(tmp_path: Path) -> None:
    crawler = project_crawler(tmp_path)
    with pytest.raises(RuntimeError):
        crawler.stats  # noqa: B018  # runner.run_jobs reads the stats of a crawl that never started
    with pytest.raises(RuntimeError):
        crawler.engine  # noqa: B018
    assert crawl_stats(crawler) == {}
    assert crawl_stats(None) == {}
    assert running_engine(crawler) is None
    crawler._apply_settings()
    crawler.stats.set_value("newsarchive/compat", 1)
    assert crawl_stats(crawler)["newsarchive/compat"] == 1
    assert running_engine(crawler) is None


# --- the downloader's slots -----------------------------------------------------------------------


@pytest.mark.parametrize("download_delay", [0.0, 1.25])
def test_a_delayed_slot_keeps_its_queued_request_until_it_is_taken_out_and_failed(
    tmp_path: Path, download_delay: float
) -> None:
    async def check() -> None:
        async with project_engine(
            tmp_path, DOWNLOAD_DELAY=download_delay, AUTOTHROTTLE_ENABLED=False
        ) as engine:
            crawler, downloader = engine.crawler, engine.downloader
            assert isinstance(downloader.slots, dict)
            request = Request("http://127.0.0.1:9/article.html", meta={"download_slot": SITE})
            _, slot = downloader._get_slot(request)  # as Scrapy makes a slot for a request's first download
            assert downloader.slots[SITE] is slot
            assert all(
                hasattr(slot, name) for name in ("queue", "delay", "lastseen", "active", "transferring")
            )
            delay_slot(crawler, SITE, monotonic() + 600)
            delay_slot(crawler, "not-yet-requested.example", monotonic() + 600)  # no slot: nothing to do
            assert slot.delay > 0
            # Scrapy's own way into a slot: queued, and held there by the delay (never sent)
            download = asyncio.ensure_future(downloader._enqueue_request(request))
            await asyncio.sleep(0)
            assert [queued for queued, _ in slot.queue] == [request]
            assert not slot.transferring
            assert list(queued_downloads(crawler, "other.example")) == []
            waiting = list(queued_downloads(crawler, SITE))
            assert len(waiting) == 1 and isinstance(waiting[0], Deferred)
            assert not slot.queue
            waiting[0].errback(IgnoreRequest("given up"))
            with pytest.raises(IgnoreRequest, match="given up"):
                await download
            slot.latercall.cancel()

    asyncio.run(check())


def test_queued_downloads_takes_every_slots_requests(tmp_path: Path) -> None:
    async def check() -> None:
        async with project_engine(tmp_path) as engine:
            for site in (SITE, "other.example"):
                _, slot = engine.downloader._get_slot(
                    Request(f"http://{site}/", meta={"download_slot": site})
                )
                slot.queue.append((Request(f"http://{site}/a"), Deferred()))
            assert len(list(queued_downloads(engine.crawler))) == 2
            assert all(not slot.queue for slot in engine.downloader.slots.values())

    asyncio.run(check())


def test_a_changed_internal_is_a_loud_error_naming_the_scrapy_version(tmp_path: Path) -> None:
    async def check() -> None:
        async with project_engine(tmp_path) as engine:
            _, slot = engine.downloader._get_slot(Request("http://x/", meta={"download_slot": SITE}))
            del slot.lastseen  # as if an upgrade renamed it: not a silent no-op
            with pytest.raises(
                ScrapyChanged, match=re.escape(f"Scrapy {scrapy.__version__} has no Slot.lastseen")
            ):
                delay_slot(engine.crawler, SITE, monotonic() + 1)
            slots = engine.downloader.slots
            del engine.downloader.slots
            with pytest.raises(ScrapyChanged, match=r"Downloader\.slots"):
                list(queued_downloads(engine.crawler))
            engine.downloader.slots = {}  # for the downloader's own close
            assert SITE in slots

    asyncio.run(check())


# --- the HTTP download handler --------------------------------------------------------------------


def test_the_http_handler_is_the_one_scrapy_would_use_and_a_coroutine(tmp_path: Path) -> None:
    async def check() -> None:
        crawler = project_crawler(tmp_path)
        crawler._apply_settings()  # reactorless here: Scrapy picks aiohttp's handler for http(s)
        handler = http_download_handler(crawler)
        expected = crawler.settings.getdict("DOWNLOAD_HANDLERS_BASE")["https"]
        assert f"{type(handler).__module__}.{type(handler).__qualname__}" == expected
        assert inspect.iscoroutinefunction(handler.download_request)
        await handler.close()
        crawler.settings.frozen = False
        crawler.settings.set("DOWNLOAD_HANDLERS_BASE", {"http": expected})  # as if https had gone
        with pytest.raises(ScrapyChanged, match="DOWNLOAD_HANDLERS_BASE"):
            http_download_handler(crawler)

    asyncio.run(check())


# --- the robots.txt cache -------------------------------------------------------------------------


def test_robots_middleware_keeps_one_deferred_per_host_until_its_robots_txt_is_parsed(tmp_path: Path) -> None:
    assert inspect.iscoroutinefunction(robotstxt.RobotsTxtMiddleware.robot_parser)
    assert inspect.iscoroutinefunction(robotstxt.RobotsTxtMiddleware._parse_robots)

    async def check() -> None:
        async with project_engine(tmp_path) as engine:
            middleware = next(
                m
                for m in engine.downloader.middleware.middlewares
                if isinstance(m, robots.RobotsTxtMiddleware)
            )
            cache = robots_cache(middleware)
            assert cache == {}
            request = Request("http://example.com/article.html")
            pending: Deferred[Any] = Deferred()
            cache["example.com"] = pending
            response = TextResponse(
                "http://example.com/robots.txt",
                body=b"User-agent: *\nDisallow: /private/\n",
                encoding="utf-8",
            )
            await parse_robots(middleware, response, "example.com", request)
            parser = cache["example.com"]
            assert not isinstance(parser, Deferred)
            assert parser is not None and not parser.allowed("http://example.com/private/a", "newsarchive")
            assert pending.called and pending.result is parser

            unreadable: Deferred[Any] = Deferred()
            cache["down.example"] = unreadable
            robots_failed(middleware, TimeoutError("timed out"), "down.example")
            assert cache["down.example"] is None
            assert unreadable.called and unreadable.result is None

    asyncio.run(check())


# --- closing: the engine's and the scraper's slots ------------------------------------------------


def test_closing_state_and_a_scraper_left_closing_by_an_item_from_start(tmp_path: Path) -> None:
    async def check() -> None:
        async with project_engine(tmp_path) as engine:
            assert engine._slot is None and engine_closing(engine)  # not open yet
            await engine.open_spider_async(close_if_idle=False)
            assert not engine_closing(engine)
            scraper_slot = engine.scraper.slot
            assert scraper_slot is not None and scraper_slot.closing is None
            assert not finish_scraper_closing(engine)  # not closing: wait
            # An item from start() in the pipelines while the spider closes (reparse, Ctrl-C): Scrapy
            # counts it in itemproc_size and checks for idleness again only after a response.
            scraper_slot.itemproc_size += 1
            closing = asyncio.ensure_future(engine.close_spider_async(reason="shutdown"))
            for _ in range(20):
                await asyncio.sleep(0)
            assert engine_closing(engine)
            assert scraper_slot.closing is not None and not scraper_slot.closing.called
            assert not finish_scraper_closing(engine)  # the item is still in the pipelines
            scraper_slot.itemproc_size -= 1  # the item is stored; Scrapy itself never looks again
            assert finish_scraper_closing(engine)
            await asyncio.wait_for(closing, timeout=30)
            assert engine.spider is None and engine_closing(engine)
            assert crawl_stats(engine.crawler)["finish_reason"] == "shutdown"

    asyncio.run(check())


def test_nothing_outside_the_compat_module_reaches_into_scrapy_internals() -> None:
    private = re.compile(
        r"\._parsers\b|\._parse_robots\b|\._robots_error\b|\._slot\b|_check_if_closing|\.slots\b"
    )
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("newsarchive", "spiders", "pipelines")
        for path in sorted((REPO / folder).rglob("*.py"))
        if path != Path(scrapy_compat.__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if private.search(line.split("#", 1)[0])
    ]
    assert offenders == []
