"""Download failures and retries counted under one vocabulary (newsarchive.failures)."""

from __future__ import annotations

import gzip
from pathlib import Path

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
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import HUGE_PAGE_BYTES, Fault
from tests.support import column_entries, crawl, sample_codes, stored_rows
from tests.test_faults import recorded_counts

# Scrapy's HttpCompressionMiddleware refusing a body that inflates past DOWNLOAD_MAXSIZE
GZIP_BOMB_REFUSAL = (
    "Ignored response <200 https://finance.eastmoney.com/a/1.html> because its body (10202 B "
    "compressed, 8388609 B decompressed so far) exceeded DOWNLOAD_MAXSIZE (8388608 B) during decompression."
)


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
        (IgnoreRequest(GZIP_BOMB_REFUSAL), "too_large"),
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


def test_a_gzip_bomb_is_counted_as_too_large(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    """An article whose few KB of gzip inflate past DOWNLOAD_MAXSIZE: refused like any oversized
    page, and counted as one (issue 13: it was counted as IgnoreRequest)."""
    bomb_code = column_entries("345")[0]
    bomb = site.inject(f"/a/{bomb_code.removeprefix('NW')}.html", Fault.GZIP_BOMB)

    output = crawl("eastmoney", site.origin, sqlite_url, tmp_path, "-a", "columns=345", "-a", "pages=1")

    assert bomb.served == 1
    assert "downloads failed:      1  (too_large: 1)" in output
    assert recorded_counts(sqlite_url)["download_errors"] == {"too_large": 1}
    assert set(stored_rows(sqlite_url)) == sample_codes("345") - {bomb_code}


def test_the_gzip_bomb_fault_is_small_on_the_wire_and_huge_inflated(site: SampleSite) -> None:
    page = f"/a/{column_entries('345')[0].removeprefix('NW')}.html"
    normal = site.respond(page, "")
    site.inject(page, Fault.GZIP_BOMB)
    bomb = site.respond(page, "")
    assert ("Content-Encoding", "gzip") in bomb.headers and len(bomb.body) < 100_000
    inflated = gzip.decompress(bomb.body)
    assert len(inflated) >= HUGE_PAGE_BYTES - 100 and normal.body.split(b"</head>")[1] in inflated
