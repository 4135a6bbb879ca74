"""Download failures and retries counted under one vocabulary (newsarchive.failures)."""

from __future__ import annotations

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionDone, ConnectionLost

from newsarchive.failures import failure_reason, retry_reason


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (DownloadTimeoutError("Getting http://x took longer than 3.0 seconds."), "timeout"),
        (ResponseDataLossError(), "truncated"),
        (DownloadFailedError(), "connection_lost"),
        (ConnectionDone(), "connection_lost"),
        (ConnectionLost(), "connection_lost"),
        (DownloadConnectionRefusedError(), "connection_refused"),
        (CannotResolveHostError(), "dns"),
        (
            DownloadCancelledError(
                "Expected to receive 10485753 bytes which is larger than download max size (8388608)"
            ),
            "too_large",
        ),
        (DownloadCancelledError("stopped"), "cancelled"),
        (IgnoreRequest("max redirections reached"), "redirect_loop"),
        (
            HttpError(
                Response("http://x", status=502, request=Request("http://x")), "Ignoring non-200 response"
            ),
            "http_502",
        ),
        (ValueError("something new"), "ValueError"),  # unknown: its class name, never lost
    ],
)
def test_failure_reasons(error: BaseException, reason: str) -> None:
    assert failure_reason(error) == reason


@pytest.mark.parametrize(
    ("stat", "reason"),
    [
        ("500 Internal Server Error", "http_500"),
        ("429 Too Many Requests", "http_429"),
        ("scrapy.exceptions.DownloadTimeoutError", "timeout"),
        ("scrapy.exceptions.ResponseDataLossError", "truncated"),
        ("twisted.internet.error.ConnectionLost", "connection_lost"),
        ("builtins.OSError", "OSError"),
    ],
)
def test_retry_reasons_use_the_same_words(stat: str, reason: str) -> None:
    assert retry_reason(stat) == reason
