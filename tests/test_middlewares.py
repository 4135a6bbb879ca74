"""NEWSARCHIVE_REPLAY_ORIGIN routing, as a component built from real settings."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from newsarchive.middlewares import ORIGINAL_URL_KEY, ReplayOriginMiddleware

URL = "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?column=344&page_index=2&req_trace=1"


def middleware(origin: str) -> ReplayOriginMiddleware:
    return ReplayOriginMiddleware.from_crawler(
        get_crawler(settings_dict={"NEWSARCHIVE_REPLAY_ORIGIN": origin})
    )


def test_requests_go_to_the_origin_with_the_original_host_and_come_back_with_the_original_url() -> None:
    routing = middleware("http://127.0.0.1:8123")
    original = Request(URL, meta={"page": 2})
    rerouted = routing.process_request(original)
    assert rerouted is not None
    assert (
        rerouted.url == "http://127.0.0.1:8123/comm/web/getNewsByColumns?column=344&page_index=2&req_trace=1"
    )
    assert rerouted.headers["Host"] == b"np-listapi.eastmoney.com"
    assert rerouted.meta[ORIGINAL_URL_KEY] == URL and rerouted.meta["page"] == 2
    assert rerouted.dont_filter
    assert routing.process_request(rerouted) is None  # already rerouted: goes on to the downloader
    response = HtmlResponse(rerouted.url, body=b"{}", request=rerouted)
    assert routing.process_response(rerouted, response).url == URL


def test_a_redirect_followed_from_the_original_url_is_rerouted_again() -> None:
    routing = middleware("http://127.0.0.1:8123/")
    redirected = Request(
        "https://finance.eastmoney.com/a/202204292366280343.html", meta={ORIGINAL_URL_KEY: URL}
    )
    rerouted = routing.process_request(redirected)
    assert rerouted is not None and rerouted.url == "http://127.0.0.1:8123/a/202204292366280343.html"
    assert rerouted.headers["Host"] == b"finance.eastmoney.com"
    assert rerouted.meta[ORIGINAL_URL_KEY] == "https://finance.eastmoney.com/a/202204292366280343.html"


def test_off_when_unset() -> None:
    with pytest.raises(NotConfigured):
        ReplayOriginMiddleware.from_crawler(get_crawler(settings_dict={"NEWSARCHIVE_REPLAY_ORIGIN": ""}))


@pytest.mark.parametrize("origin", ["ftp://127.0.0.1", "127.0.0.1:8000", "http://127.0.0.1:8000/prefix"])
def test_bad_origins_are_rejected(origin: str) -> None:
    with pytest.raises(ValueError, match="NEWSARCHIVE_REPLAY_ORIGIN"):
        middleware(origin)


def test_a_relative_redirect_is_made_absolute_against_the_original_url() -> None:
    """RedirectMiddleware joins Location to the request's URL, the local origin's: joined to the
    original URL instead, the redirect is judged (newsarchive.hosts) and followed as the site's."""
    routing = middleware("http://127.0.0.1:8123")
    rerouted = routing.process_request(Request(URL))
    assert rerouted is not None
    for location, absolute in [
        (
            b"/comm/web/getNewsByColumns?page_index=3",
            "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?page_index=3",
        ),
        (b"//finance.eastmoney.com/a/1.html", "https://finance.eastmoney.com/a/1.html"),
        (b"http://intranet.corp.internal/x", "http://intranet.corp.internal/x"),
    ]:
        response = Response(rerouted.url, status=302, headers={"Location": location}, request=rerouted)
        restored = routing.process_response(rerouted, response)
        assert (restored.url, restored.headers["Location"].decode()) == (URL, absolute)
        assert response.headers["Location"] == location  # the response itself is left as it came
