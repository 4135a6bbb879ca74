"""The fences (newsarchive.fence) as the project builds them: once shut, the requests queued in the
download slots fail at once and new ones are refused, each counted as skipped (issue 15: one fence
for a lost job lock and for Ctrl-C). The crawls in test_joblock.py and test_interrupt.py show the
same end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError
from twisted.python.failure import Failure

from newsarchive.counts import Prefix, Reason
from newsarchive.fence import Fence
from newsarchive.interrupt import Interrupted, StopFence, abandon_requested, stop_requested
from newsarchive.joblock import JobLockFence, LockLost, job_lock_lost
from tests.test_scrapy_compat import project_engine


@pytest.mark.parametrize(
    ("fence_class", "signal", "refusal", "reason"),
    [
        (JobLockFence, job_lock_lost, LockLost, Reason.JOB_LOCK_LOST),
        (StopFence, stop_requested, Interrupted, Reason.INTERRUPTED),
        (StopFence, abandon_requested, Interrupted, Reason.INTERRUPTED),
    ],
)
def test_a_shut_fence_fails_the_queued_requests_and_refuses_new_ones(
    tmp_path: Path, fence_class: type[Fence], signal: object, refusal: type[Exception], reason: str
) -> None:
    async def check() -> None:
        async with project_engine(tmp_path, NEWSARCHIVE_JOB_LOCK=True) as engine:
            fence = next(m for m in engine.downloader.middleware.middlewares if isinstance(m, fence_class))
            queued: Deferred[Any] = Deferred()
            _, slot = engine.downloader._get_slot(Request("http://a.example/", meta={"download_slot": "a"}))
            slot.queue.append((Request("http://a.example/1"), queued))
            failures: list[Failure] = []
            queued.addErrback(failures.append)
            fence.process_request(Request("http://a.example/2"))  # open: nothing happens

            engine.crawler.signals.send_catch_log(signal=signal)
            assert not slot.queue
            assert [type(failure.value) for failure in failures] == [refusal]
            with pytest.raises(refusal):
                fence.process_request(Request("http://a.example/3"))
            assert engine.crawler.stats.get_value(Prefix.SKIPPED + reason) == 2

    asyncio.run(check())


def test_once_the_job_lock_is_lost_a_failed_download_is_a_request_not_sent(tmp_path: Path) -> None:
    """A request handed to the HTTP handler whose connection was still being made when the lock was
    lost: its connection is given up at the shut (newsarchive.fence.stop_connecting) and its failure
    counts as skipped job_lock_lost, never retried (it used to be sent a second later, when the
    connection was retried: tests/test_joblock.py's race)."""

    async def check() -> None:
        async with project_engine(tmp_path, NEWSARCHIVE_JOB_LOCK=True) as engine:
            fence = engine.crawler.get_downloader_middleware(JobLockFence)
            assert fence is not None
            request = Request("http://a.example/1")
            assert fence.process_exception(request, ConnectError("still open")) is None  # open: as before
            engine.crawler.signals.send_catch_log(signal=job_lock_lost)
            with pytest.raises(LockLost):
                fence.process_exception(request, ConnectError("given up at the shut"))
            refused = LockLost("refused at the fence")
            assert fence.process_exception(request, refused) is None  # counted where it was raised
            assert engine.crawler.stats.get_value(Prefix.SKIPPED + Reason.JOB_LOCK_LOST) == 1

    asyncio.run(check())
