"""Where requests may go (newsarchive.hosts, issue 13 point 5): redirects and meta refreshes stay on
the spider's declared sites; no request goes to an IP literal, a private address or a non-HTTP URL.

End to end: crawls of the loopback sample site whose article pages redirect or refresh to an
internal host, the cloud metadata address or ``javascript:`` (newsarchive.samplesite.faults), and a
real crawl of a host *name* that resolves to loopback, with no replay origin to except it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from newsarchive import exitcodes
from newsarchive.failures import failure_reason
from newsarchive.hosts import (
    IP_LITERAL,
    NO_HOST,
    OFFSITE,
    SCHEME,
    HostPolicyMiddleware,
    MetaRefreshMiddleware,
    RedirectLoop,
    RedirectMiddleware,
    Refused,
    is_public_address,
    refusal,
)
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import INTERNAL_HOST, JAVASCRIPT_URL, METADATA_URL, Fault
from newsarchive.samplesite.server import COLUMN_PATH, ROBOTS_PATH
from newsarchive.sites.loader import load_sites
from spiders.declared import site_domains
from spiders.eastmoney import EastMoneySpider
from spiders.eastmoney_fast import EastMoneyFastSpider
from spiders.zqrb import ZqrbSpider
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, column_entries, crawl, fetched_codes, stored_rows
from tests.test_faults import recorded_counts

EASTMONEY = frozenset({"eastmoney.com"})
ARTICLE = "https://finance.eastmoney.com/a/202112082206672930.html"


# --- the policy, pure ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://finance.eastmoney.com/a/1.html", None),
        ("http://www.zqrb.cn/stock/redian/index.html", None),
        ("HTTPS://Finance.EastMoney.com/a/1.html", None),
        ("javascript:alert(1)", SCHEME),
        ("mailto:editor@eastmoney.com", SCHEME),
        ("file:///etc/passwd", SCHEME),
        ("ftp://finance.eastmoney.com/a", SCHEME),
        ("data:text/html,<script>alert(1)</script>", SCHEME),
        ("gopher://127.0.0.1:6379/_FLUSHALL", SCHEME),
        ("http:///a/1.html", NO_HOST),
        ("http://[::1/", NO_HOST),  # unparseable
        ("http://10.0.0.1/admin", IP_LITERAL),
        ("http://127.0.0.1:6379/", IP_LITERAL),
        ("http://169.254.169.254/latest/meta-data/", IP_LITERAL),
        ("http://8.8.8.8/", IP_LITERAL),  # public, but an address is never a site
        ("http://[::1]/", IP_LITERAL),
        ("http://[::ffff:127.0.0.1]/", IP_LITERAL),
        ("http://2130706433/", IP_LITERAL),  # 127.0.0.1 as one number
        ("http://0x7f.1/", IP_LITERAL),
        ("http://127.1/", IP_LITERAL),
        ("http://10.0.0.1./", IP_LITERAL),
    ],
)
def test_what_no_request_may_ask_for(url: str, reason: str | None) -> None:
    assert refusal(url) == reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://finance.eastmoney.com/a/1.html?from=redirect", None),
        ("https://www.eastmoney.com/", None),
        ("https://eastmoney.com/", None),
        ("http://np-weblist.eastmoney.com:8080/x", None),
        (f"http://{INTERNAL_HOST}/a/1.html", OFFSITE),
        ("https://eastmoney.com.evil.cn/a/1.html", OFFSITE),
        ("https://noteastmoney.com/", OFFSITE),
        ("http://localhost/", OFFSITE),
        ("http://169.254.169.254/", IP_LITERAL),
        ("javascript:location='http://x'", SCHEME),
    ],
)
def test_where_a_redirect_may_lead(url: str, reason: str | None) -> None:
    assert refusal(url, EASTMONEY) == reason


@given(st.text())
def test_the_policy_never_raises(text: str) -> None:
    refusal(text)
    refusal("http://" + text, EASTMONEY)
    is_public_address(text)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("not an address", False),
    ],
)
def test_which_resolved_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_every_spider_declares_its_sites() -> None:
    assert EastMoneySpider.site_domains == EastMoneyFastSpider.site_domains == EASTMONEY
    assert ZqrbSpider.site_domains == frozenset({"zqrb.cn"})
    declared = {site.name: site_domains(site) for site in load_sites()}
    assert declared == {
        "cnstock": frozenset({"cnstock.com"}),
        "cs_com_cn": frozenset({"cs.com.cn"}),
        "stcn": frozenset({"stcn.com"}),
        "xinhua": frozenset({"news.cn"}),
    }


# --- the middlewares, built from real settings --------------------------------------------------


def built(middleware: Any, **settings: Any) -> Any:
    """``middleware`` as Scrapy builds it, for a crawl of the eastmoney spider."""
    crawler = get_crawler(EastMoneySpider, settings_dict=settings)
    crawler.spider = EastMoneySpider()  # not from_crawler, which would open the archive
    return middleware.from_crawler(crawler)


def refused_stats(middleware: Any) -> dict[str, int]:
    collector = middleware.crawler.stats if hasattr(middleware, "crawler") else middleware.counter.stats
    stats = collector.get_stats()
    return {key: value for key, value in stats.items() if key.startswith("newsarchive/refused/")}


def test_a_request_to_an_address_is_refused_before_anything_else() -> None:
    policy = built(HostPolicyMiddleware)
    with pytest.raises(Refused):
        asyncio.run(policy.process_request(Request("http://10.0.0.1/a.html")))
    with pytest.raises(Refused):
        asyncio.run(policy.process_request(Request(METADATA_URL, meta={"redirect_urls": [ARTICLE]})))
    assert refused_stats(policy) == {
        "newsarchive/refused/request_ip_literal": 1,
        "newsarchive/refused/redirect_ip_literal": 1,
    }


def test_the_replay_origin_is_the_one_address_let_through() -> None:
    """With a replay origin the requests keep their real URLs (newsarchive.download sends them to
    the origin): those are let through without a DNS look-up; the origin's own address asked for
    directly is refused like any other."""
    origin = "http://127.0.0.1:8123"
    policy = built(HostPolicyMiddleware, NEWSARCHIVE_REPLAY_ORIGIN=origin)
    # no DNS look-up (nothing goes to the named host): a name that cannot resolve passes
    assert asyncio.run(policy.process_request(Request("https://finance.eastmoney.invalid/a/1.html"))) is None
    with pytest.raises(Refused):
        asyncio.run(policy.process_request(Request(f"{origin}/a/1.html")))
    with pytest.raises(Refused):
        asyncio.run(policy.process_request(Request("http://127.0.0.2:8123/a/1.html")))


def redirect(location: str, status: int = 302) -> tuple[Request, Response]:
    request = Request(ARTICLE)
    return request, Response(ARTICLE, status=status, headers={"Location": location}, request=request)


def test_a_redirect_off_the_site_is_refused_and_one_on_it_followed() -> None:
    middleware = built(RedirectMiddleware)
    for location in (f"http://{INTERNAL_HOST}/a/1.html", METADATA_URL, JAVASCRIPT_URL, "//evil.example/"):
        with pytest.raises(Refused):
            middleware.process_response(*redirect(location))
    followed = middleware.process_response(*redirect("/a/202112082206672930.html?from=m", 301))
    assert isinstance(followed, Request)
    assert followed.url == ARTICLE + "?from=m"
    assert isinstance(middleware.process_response(*redirect("https://www.eastmoney.com/x")), Request)
    assert refused_stats(middleware) == {
        "newsarchive/refused/redirect_offsite": 2,
        "newsarchive/refused/redirect_ip_literal": 1,
        "newsarchive/refused/redirect_scheme": 1,
    }


def test_a_redirect_the_request_handles_itself_is_not_judged() -> None:
    middleware = built(RedirectMiddleware)
    request, response = redirect(METADATA_URL)
    for meta in ({"dont_redirect": True}, {"handle_httpstatus_list": [302]}, {"handle_httpstatus_all": True}):
        asked = request.replace(meta=meta)
        assert middleware.process_response(asked, response.replace(request=asked)) is not None
    assert refused_stats(middleware) == {}


def page(refresh_to: str, delay: int = 0) -> tuple[Request, HtmlResponse]:
    body = f'<html><head><meta http-equiv="refresh" content="{delay};url={refresh_to}"></head></html>'
    request = Request(ARTICLE)
    return request, HtmlResponse(ARTICLE, body=body.encode(), encoding="utf-8", request=request)


def test_a_refused_refresh_keeps_the_page_and_an_allowed_one_is_followed() -> None:
    middleware = built(MetaRefreshMiddleware)
    for target in (f"http://{INTERNAL_HOST}/a/1.html", JAVASCRIPT_URL, "mailto:x@example.com"):
        request, response = page(target)
        assert middleware.process_response(request, response) is response
    followed = middleware.process_response(*page("https://finance.eastmoney.com/a/2.html"))
    assert isinstance(followed, Request) and followed.url == "https://finance.eastmoney.com/a/2.html"
    slow = page(f"http://{INTERNAL_HOST}/", delay=1000)  # past METAREFRESH_MAXDELAY: never followed
    assert middleware.process_response(*slow) is slow[1]
    assert refused_stats(middleware) == {
        "newsarchive/refused/refresh_offsite": 1,
        "newsarchive/refused/refresh_scheme": 2,
    }


def test_a_redirect_back_into_its_own_chain_is_a_loop_not_a_silent_duplicate() -> None:
    """A → A?loop=1 → A: the scheduler's duplicate filter would drop the second A without a word
    (so the article was lost with no count); it fails as a redirect loop, counted as a download
    error by the spider (newsarchive.failures)."""
    middleware = built(RedirectMiddleware)
    first = middleware.process_response(*redirect("/a/202112082206672930.html?loop=1"))
    assert isinstance(first, Request) and first.meta["redirect_urls"] == [ARTICLE]
    back = Response(first.url, status=302, headers={"Location": ARTICLE}, request=first)
    with pytest.raises(RedirectLoop) as loop:
        middleware.process_response(first, back)
    assert failure_reason(loop.value) == "redirect_loop"
    with pytest.raises(RedirectLoop):  # a page redirecting to itself
        middleware.process_response(*redirect(ARTICLE))
    assert refused_stats(middleware) == {}  # a failed download, not a refusal


def test_a_refresh_back_into_its_own_chain_keeps_the_page() -> None:
    middleware = built(MetaRefreshMiddleware)
    request, response = page(ARTICLE)  # a page refreshing to itself
    assert middleware.process_response(request, response) is response
    assert refused_stats(middleware) == {"newsarchive/refused/refresh_loop": 1}


# --- real crawls ---------------------------------------------------------------------------------

COLUMN = ("-a", "columns=345", "-a", "pages=1")
# Column 345 in two pages: its first five articles, then three (and a 财富号 row, skipped).
TWO_PAGES = ("-a", "columns=345", "-a", "page_size=5", "-a", "pages=2")


def test_redirects_and_refreshes_never_lead_off_the_site(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    healthy_url = f"sqlite:///{tmp_path / 'healthy.db'}"
    crawl("eastmoney", site.origin, healthy_url, tmp_path, *TWO_PAGES)
    healthy = stored_rows(healthy_url)
    codes = column_entries("345")
    faults = {
        codes[0]: Fault.META_REFRESH_OFFSITE,
        codes[1]: Fault.META_REFRESH_JAVASCRIPT,
        codes[5]: Fault.OFFSITE_REDIRECT,  # on the second page: see the next run below
        codes[6]: Fault.ADDRESS_REDIRECT,
    }
    for code, fault in faults.items():
        site.inject(f"/a/{code.removeprefix('NW')}.html", fault)
    site.inject(f"/a/{codes[2].removeprefix('NW')}.html", Fault.REDIRECT_LOOP, times=1)  # on-site, once
    site.clear_requests()

    result = run_cli(
        "crawl", "eastmoney", *TWO_PAGES, "--db", sqlite_url, "--log-level", "WARNING",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS, cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == exitcodes.OK, result.stdout + result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert all(injection.served for injection in site.injections)
    # nothing asked of the internal host or the metadata address: only the site's own hosts
    assert {record.host for record in site.requests} == {"np-listapi.eastmoney.com", "finance.eastmoney.com"}
    stored = stored_rows(sqlite_url)
    # the redirected articles are not stored; the pages carrying a refused refresh are, as they are
    assert set(stored) == set(healthy) - {codes[5], codes[6]}
    for code in codes[:3]:
        assert stored[code] == healthy[code]
    refused = {
        "redirect_ip_literal": 1, "redirect_offsite": 1, "refresh_offsite": 1, "refresh_scheme": 1,
    }  # fmt: skip
    assert "refused:               4  (" + ", ".join(f"{k}: {v}" for k, v in refused.items()) + ")" in (
        result.stdout
    )
    counts = recorded_counts(sqlite_url)
    assert counts["refused"] == refused
    assert counts["errors"]["total"] == 0 and counts["download_errors"] == {}
    # one line each, naming where it led
    lines = result.stderr.splitlines()
    assert len(lines) == 4, lines
    assert sum(f"http://{INTERNAL_HOST}/a/" in line for line in lines) == 2
    assert sum(METADATA_URL in line for line in lines) == sum(JAVASCRIPT_URL in line for line in lines) == 1

    # The source is healthy again. The next run's first page holds nothing new, which would stop
    # it there (NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES); a refused redirect makes it page every listing,
    # as a failed download does: it fetches exactly what was refused, and the archive is the healthy one.
    site.injections.clear()
    site.clear_requests()
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *TWO_PAGES)
    assert fetched_codes(site) == {codes[5], codes[6]}
    assert stored_rows(sqlite_url) == healthy


def test_a_listing_redirected_off_the_site_fails_the_run(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    site.inject(COLUMN_PATH, Fault.OFFSITE_REDIRECT)
    result = run_cli(
        "crawl", "eastmoney", *COLUMN, "--db", sqlite_url,
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS, cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == exitcodes.FAILED, result.stderr[-3000:]
    assert "newsarchive: error: eastmoney could not read any listing page" in result.stderr
    assert "refused:               1  (redirect_offsite: 1)" in result.stdout
    assert INTERNAL_HOST not in {record.host for record in site.requests}
    assert "Traceback" not in result.stderr


PROBE_SPIDER = """
import scrapy


class Probe(scrapy.Spider):
    name = "probe"
    start_urls = [{url!r}]

    def parse(self, response):
        yield {{"status": response.status}}
"""


def test_a_host_name_resolving_to_loopback_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    """DNS rebinding: a name (here ``localhost``, from /etc/hosts) that resolves to a private
    address is refused before anything is sent to it, robots.txt included. A real crawl with the
    project's settings and no replay origin, so nothing is excepted."""
    with SampleSite() as site:
        port = urlsplit(site.origin).port
        url = f"http://localhost:{port}/a/202112082206672930.html"
        spider = tmp_path / "probe.py"
        spider.write_text(textwrap.dedent(PROBE_SPIDER.format(url=url)), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "runspider", str(spider),
             "-s", f"NEWSARCHIVE_DATABASE_URL={sqlite_url}", "-s", "NEWSARCHIVE_WARC_ENABLED=0",
             "-s", "NEWSARCHIVE_REPLAY_ORIGIN=", "-s", "LOG_LEVEL=INFO"],
            cwd=tmp_path, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newsarchive.settings"},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

        assert site.requests == [], site.requests
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'newsarchive/refused/request_private_address': 1" in result.stderr, result.stderr[-3000:]
    assert f"refused request to {url} (private_address): not sent" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_replay_origin_named_by_a_host_name_still_works(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    """The replay origin is excepted by setting, whatever it resolves to (here localhost)."""
    origin = f"http://localhost:{urlsplit(site.origin).port}"
    crawl("eastmoney", origin, sqlite_url, tmp_path, *COLUMN)
    assert set(stored_rows(sqlite_url)) == set(column_entries("345"))
    assert ROBOTS_PATH in {record.path for record in site.requests}
