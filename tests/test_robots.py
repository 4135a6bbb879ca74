"""robots.txt is obeyed by default: real crawls through the CLI against the loopback sample site,
whose every host serves a robots.txt (permissive unless the test gives one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsarchive import __version__, exitcodes
from newsarchive.runner import project_settings
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import Fault
from newsarchive.samplesite.server import COLUMN_PATH, ROBOTS_PATH
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, column_entries, crawl, sample_codes, stored_rows

ONE_PAGE_OF_345 = ("-a", "columns=345", "-a", "page_size=10")
ARTICLE_CODE = column_entries("345")[0]
ARTICLE = f"/a/{ARTICLE_CODE.removeprefix('NW')}.html"


def test_each_host_robots_txt_is_read_once_before_anything_else_on_it(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ONE_PAGE_OF_345)

    asked = [(record.host, record.path) for record in site.requests]
    robots = [host for host, path in asked if path == "/robots.txt"]
    assert sorted(robots) == ["finance.eastmoney.com", "np-listapi.eastmoney.com"]
    for host in robots:
        first = next(path for asked_host, path in asked if asked_host == host)
        assert first == "/robots.txt", host
    assert set(stored_rows(sqlite_url)) == sample_codes("345")


def test_a_path_disallowed_to_newsarchive_is_never_fetched(sqlite_url: str, tmp_path: Path) -> None:
    # a group for our robots.txt token wins over "*" (ROBOTSTXT_USER_AGENT = "newsarchive")
    robots = f"User-agent: *\nDisallow:\n\nUser-agent: newsarchive\nDisallow: {ARTICLE}\n"
    with SampleSite(robots={"finance.eastmoney.com": robots}) as site:
        output = crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ONE_PAGE_OF_345)

        assert ARTICLE not in site.article_requests()
    assert "robots_txt: 1" in output
    assert set(stored_rows(sqlite_url)) == sample_codes("345") - {ARTICLE_CODE}


def test_a_disallowed_listing_fails_the_run_without_asking_for_it(sqlite_url: str, tmp_path: Path) -> None:
    with SampleSite(robots={"np-listapi.eastmoney.com": "User-agent: *\nDisallow: /comm/\n"}) as site:
        result = run_cli(
            "crawl", "eastmoney", *ONE_PAGE_OF_345, "--db", sqlite_url,
            "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS, cwd=tmp_path,
        )  # fmt: skip

        assert [record.path for record in site.requests] == ["/robots.txt"]
    assert result.returncode == exitcodes.FAILED, result.stderr[-3000:]
    assert "newsarchive: error: eastmoney could not read any listing page" in result.stderr
    assert "robots_txt: 1" in result.stdout and "Traceback" not in result.stderr
    assert COLUMN_PATH.startswith("/comm/")


def test_politeness_defaults() -> None:
    settings = project_settings()
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getbool("AUTOTHROTTLE_ENABLED")
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert settings.getfloat("DOWNLOAD_DELAY") * (1 - settings.getfloat("DOWNLOAD_DELAY_JITTER")) >= 1.0
    assert 403 not in settings.getlist("RETRY_HTTP_CODES")
    # a browser's User-Agent (East Money blocks others, eastmoney.md §4) naming newsarchive
    user_agent = settings.get("USER_AGENT")
    assert user_agent.startswith("Mozilla/5.0 (")
    assert f" newsarchive/{__version__} (+{settings.get('NEWSARCHIVE_CONTACT_URL')})" in user_agent


@pytest.mark.parametrize("fault", [Fault.STALL, Fault.DROPPED_CONNECTION, Fault.GZIP_BOMB])
def test_a_robots_txt_that_cannot_be_read_costs_one_line_per_host_and_the_crawl_goes_on(
    site: SampleSite, sqlite_url: str, tmp_path: Path, fault: Fault
) -> None:
    """A robots.txt that times out, drops the connection or is a gzip bomb: Scrapy's robots
    middleware then treats the host as allowing everything (its intent); the log says so in one
    line per host, never with a traceback (issue 13 point 13)."""
    site.inject(ROBOTS_PATH, fault)
    result = run_cli(
        "crawl", "eastmoney", *ONE_PAGE_OF_345, "--db", sqlite_url, "--log-level", "WARNING",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS,
        "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1", cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == exitcodes.OK, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    robots_hosts = {record.host for record in site.requests if record.path == ROBOTS_PATH}
    assert robots_hosts == {"np-listapi.eastmoney.com", "finance.eastmoney.com"}
    lines = result.stderr.splitlines()
    for host in robots_hosts:
        about_it = [line for line in lines if f"{host}/robots.txt" in line]
        assert len(about_it) == 1, about_it
    assert len(lines) == len(robots_hosts), lines  # nothing else said: the crawl went on unharmed
    assert set(stored_rows(sqlite_url)) == sample_codes("345")
