"""newsarchive's download handler (newsarchive.download): NEWSARCHIVE_REPLAY_ORIGIN routing and the
fences' last check, as Scrapy builds and calls it in a real engine (tests/test_scrapy_compat.py)
against the loopback sample site."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.download import ArchiveDownloadHandler, replay_origin, routed
from newsarchive.interrupt import Interrupted, StopFence, stop_requested
from newsarchive.joblock import JobLockFence, LockLost, job_lock_lost
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import COLUMN_PATH
from newsarchive.settings import DOWNLOAD_HANDLERS
from tests.test_scrapy_compat import project_engine

# the project's handlers: the test process's reactorless settings (get_reactor_settings) replace
# them with aiohttp's, which newsarchive's then delegates to, as Scrapy itself would use it
HANDLERS = {"DOWNLOAD_HANDLERS": DOWNLOAD_HANDLERS}
URL = "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?column=344&page_index=2&req_trace=1"


def test_the_copy_on_the_wire_goes_to_the_origin_with_the_original_host() -> None:
    original = Request(URL, meta={"page": 2})
    copy = routed(original, "http://127.0.0.1:8123")
    assert copy.url == "http://127.0.0.1:8123/comm/web/getNewsByColumns?column=344&page_index=2&req_trace=1"
    assert copy.headers["Host"] == b"np-listapi.eastmoney.com"
    assert copy.meta["page"] == 2
    assert original.url == URL and "Host" not in original.headers  # the request itself is untouched


@pytest.mark.parametrize("origin", ["ftp://127.0.0.1", "127.0.0.1:8000", "http://127.0.0.1:8000/prefix"])
def test_bad_origins_are_rejected(origin: str) -> None:
    with pytest.raises(ValueError, match="NEWSARCHIVE_REPLAY_ORIGIN"):
        replay_origin(origin)
    # the handler is left unconfigured (Scrapy would only log its error with a traceback); the
    # host policy middleware stops the crawl with the one-line error (tests/test_cli.py)
    with pytest.raises(NotConfigured, match="NEWSARCHIVE_REPLAY_ORIGIN"):
        ArchiveDownloadHandler.from_crawler(get_crawler(settings_dict={"NEWSARCHIVE_REPLAY_ORIGIN": origin}))


def test_origins_are_normalized() -> None:
    assert replay_origin("") == ""
    assert replay_origin("http://127.0.0.1:8123/") == "http://127.0.0.1:8123"


async def download(engine: Any, request: Request) -> Any:
    return await engine.downloader.handlers.download_request_async(request)


def test_a_request_is_sent_once_to_the_origin_and_answered_under_its_own_url(tmp_path: Path) -> None:
    """The request keeps its URL everywhere but on the wire: the site sees one request, with the
    original Host, and the response carries the original URL."""
    with SampleSite() as site:

        async def check() -> None:
            async with project_engine(tmp_path, NEWSARCHIVE_REPLAY_ORIGIN=site.origin, **HANDLERS) as engine:
                assert isinstance(engine.downloader.handlers._get_handler("https"), ArchiveDownloadHandler)
                response = await download(engine, Request(URL))
                assert response.url == URL and response.status == 200
                assert b'"list"' in response.body

        asyncio.run(check())
        assert [(r.path, r.host) for r in site.requests] == [(COLUMN_PATH, "np-listapi.eastmoney.com")]


@pytest.mark.parametrize(
    ("fence_class", "signal", "refusal"),
    [(JobLockFence, job_lock_lost, LockLost), (StopFence, stop_requested, Interrupted)],
)
def test_a_shut_fence_stops_a_request_already_handed_to_the_handler(
    tmp_path: Path, fence_class: type[Any], signal: object, refusal: type[Exception]
) -> None:
    """The known race (tests/test_joblock.py): a request past the fence middleware when the fence
    shut must still not go on the wire."""
    with SampleSite() as site:

        async def check() -> None:
            async with project_engine(
                tmp_path, NEWSARCHIVE_REPLAY_ORIGIN=site.origin, NEWSARCHIVE_JOB_LOCK=True, **HANDLERS
            ) as engine:
                engine.crawler.signals.send_catch_log(signal=signal)
                with pytest.raises(refusal):
                    await download(engine, Request(URL))
                fence = engine.crawler.get_downloader_middleware(fence_class)
                assert fence is not None and fence.is_shut
                reason = fence_class.reason
                assert engine.crawler.stats.get_value(f"newsarchive/skipped/{reason}") == 1

        asyncio.run(check())
        assert site.requests == []
