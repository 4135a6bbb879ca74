"""The arguments every listing spider takes, parsed once by the library (newsarchive.arguments
.ListingJob), and East Money's list API details (spiders.eastmoney): no crawl, no database."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from newsarchive.arguments import SCRAPYD_JOB, ArgumentError, ListingJob
from newsarchive.window import DateWindow
from spiders.eastmoney import MAX_PAGE_SIZE, list_api_url, list_page_size


def test_a_crawl_job_has_no_window_and_the_default_pages() -> None:
    job = ListingJob.parse({"columns": "344,345", SCRAPYD_JOB: "abc123"})
    assert job == ListingJob(arguments={"columns": "344,345"}, window=None, pages=None)


def test_a_backfill_job_has_its_window_and_pages() -> None:
    job = ListingJob.parse({"since": "2022-01-01", "until": "2022-01-31", "pages": "3"})
    assert job.window == DateWindow.parse("2022-01-01", "2022-01-31")
    assert job.pages == 3
    assert job.arguments == {"pages": "3", "since": "2022-01-01", "until": "2022-01-31"}


def test_empty_pages_means_the_default() -> None:
    assert ListingJob.parse({"pages": ""}).pages is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"pages": "0"}, "pages must be a positive integer"),
        ({"pages": "many"}, "pages must be a positive integer"),
        ({"until": "2022-01-31"}, "until needs since"),
        ({"since": "2022-02-01", "until": "2022-01-01"}, "must be after since"),
    ],
)
def test_a_malformed_argument_is_one_line(given: dict[str, str], message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        ListingJob.parse(given)


def test_the_list_api_page_size_is_capped() -> None:
    assert list_page_size(None, 50) == 50
    assert list_page_size("20", 50) == 20
    assert list_page_size("500", 50) == MAX_PAGE_SIZE
    with pytest.raises(ArgumentError):
        list_page_size("-1", 50)


def test_a_list_api_call_carries_req_trace_in_epoch_milliseconds() -> None:
    url = list_api_url(
        "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns", {"column": "344"}, now=1.5
    )
    parts = urlsplit(url)
    assert parts.path == "/comm/web/getNewsByColumns"
    assert parse_qs(parts.query, keep_blank_values=True) == {"column": ["344"], "req_trace": ["1500"]}


def test_an_empty_value_stays_in_the_query() -> None:
    # the 7x24 API answers data:null without sortEnd, even empty (reference §1.2)
    url = list_api_url("https://np-weblist.eastmoney.com/comm/web/getFastNewsList", {"sortEnd": ""}, now=0)
    assert "sortEnd=&" in url
