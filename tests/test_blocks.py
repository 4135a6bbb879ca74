"""Blocks: 403s, soft blocks (HTTP 200 with an empty or passportWeb-only body, a list API answering
code 0) and 429s, detected by newsarchive.blocks, counted by kind, never retried at once, and a run
that was mostly blocked exiting with its own code. Real crawls through the CLI against the loopback
sample site, which answers chosen requests the way a blocking East Money does."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive import exitcodes
from newsarchive.blocks import (
    EMPTY_BODY,
    HTTP_403,
    HTTP_429,
    JS_CHALLENGE,
    LISTING_CODE_0,
    PASSPORT_ONLY,
    block_kind,
    retry_after_seconds,
    site_of,
)
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.runs import recent_runs
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import JS_CHALLENGE_BODY, PASSPORT_ONLY_BODY, error_page
from newsarchive.samplesite.faults import Fault as SiteFault
from newsarchive.samplesite.server import COLUMN_PATH, FAST_PATH, JSON_TYPE, Response
from newsarchive.summary import RunSummary
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, column_entries, sample_codes, stored_rows

ONE_PAGE_OF_345 = ("-a", "columns=345", "-a", "page_size=10")  # one listing page, 8 articles
# The bottom row, asked for first: Scrapy's scheduler is last-in first-out. (The top row was, while
# NEWSARCHIVE_REPLAY_ORIGIN sent every request through the scheduler twice, reversing the order.)
ARTICLE_CODE = column_entries("345")[-1]
ARTICLE = f"/a/{ARTICLE_CODE.removeprefix('NW')}.html"  # an article of column 345
# On an undelayed crawl Scrapy sends everything queued for a slot at once, so no block could stop
# the requests behind it; a small delay gives them the one-at-a-time order of a real crawl.
SMALL_DELAY = ("-s", "DOWNLOAD_DELAY=0.05")


FORBIDDEN = Response(403, "text/html", error_page(403, "Forbidden"))
# eastmoney.md §4.1: the soft block keeps HTTP 200 and leaves only passportWeb in the result
PASSPORT = Response(200, JSON_TYPE, PASSPORT_ONLY_BODY)
EMPTY = Response(200, JSON_TYPE, b"")
CODE_0 = Response(200, JSON_TYPE, b'{"code":0,"message":"","data":null}')
FAST_CODE_0 = Response(200, JSON_TYPE, b'{"code":"0","message":"","data":null}')
# §1.1: the answer to a request without req_trace. A bug in the request, not a block.
MISSING_REQ_TRACE = Response(
    200, JSON_TYPE, b'{"code":0,"message":"Required String parameter \'req_trace\' is not present"}'
)


def too_many_requests(retry_after: str) -> Response:
    return Response(429, "text/html", error_page(429, "Too Many Requests"), (("Retry-After", retry_after),))


@dataclass
class Fault:
    path: str
    answers: list[Response | Callable[[], Response]]  # served in turn; the last one for ever …
    then_normal: bool  # … unless the site answers normally once they are used up


class BlockingSite(SampleSite):
    """The sample site, answering requests for chosen paths with blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: list[Fault] = []
        self._faults_lock = threading.Lock()

    def block(
        self, path: str, *answers: Response | Callable[[], Response], then_normal: bool = False
    ) -> None:
        self.faults.append(Fault(path, list(answers), then_normal))

    def respond(self, path: str, query: str, host: str = "") -> Response:
        with self._faults_lock:
            fault = next((f for f in self.faults if f.path == path and f.answers), None)
            answer = None
            if fault is not None:
                answer = (
                    fault.answers.pop(0) if len(fault.answers) > 1 or fault.then_normal else fault.answers[0]
                )
        if answer is None:
            return super().respond(path, query, host)
        return answer() if callable(answer) else answer

    def times(self, path: str) -> list[float]:
        return [record.at for record in self.requests if record.path == path]

    def paths(self) -> list[str]:
        return [record.path for record in self.requests if record.path != "/robots.txt"]


@pytest.fixture
def blocking_site() -> Iterator[BlockingSite]:
    with BlockingSite() as site:
        yield site


def crawl(site: SampleSite, db_url: str, cwd: Path, spider: str, *args: str) -> tuple[int, str, str]:
    """``newsarchive crawl`` against the site; returns exit code, stdout and stderr."""
    result = run_cli(
        "crawl", spider, "--db", db_url, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS,
        "-s", "NEWSARCHIVE_BLOCK_PAUSE=0", *args, cwd=cwd,  # a later -s in args wins
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, result.stdout, result.stderr


def recorded_run(db_url: str) -> tuple[str, dict[str, object]]:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        (run,) = recent_runs(session, limit=2)
    engine.dispose()
    return run.status, dict(run.counts)


def blocked_line(stdout: str) -> str:
    return next((line.strip() for line in stdout.splitlines() if line.strip().startswith("blocked:")), "")


# --- end to end ------------------------------------------------------------------------------------


def test_a_forbidden_listing_is_counted_never_retried_and_the_run_exits_blocked(
    blocking_site: BlockingSite, sqlite_url: str, tmp_path: Path
) -> None:
    blocking_site.block(COLUMN_PATH, FORBIDDEN)

    code, stdout, stderr = crawl(blocking_site, sqlite_url, tmp_path, "eastmoney", *ONE_PAGE_OF_345)

    assert code == exitcodes.BLOCKED, stderr
    assert blocking_site.paths() == [COLUMN_PATH]  # asked once, never again
    assert blocked_line(stdout) == "blocked:               1  (http_403: 1)"
    assert "newsarchive: error: eastmoney was blocked: 1 of 1 responses were blocks" in stderr
    assert "newsarchive: error: eastmoney could not read any listing page" in stderr
    assert "errors:                0" in stdout  # a block is not an error: it has its own count
    status, counts = recorded_run(sqlite_url)
    assert (status, counts["blocked"]) == ("failed", {HTTP_403: 1})
    assert stored_rows(sqlite_url) == {}


@pytest.mark.parametrize(
    ("spider", "path", "answer", "kind"),
    [
        ("eastmoney", COLUMN_PATH, PASSPORT, PASSPORT_ONLY),
        ("eastmoney", COLUMN_PATH, EMPTY, EMPTY_BODY),
        ("eastmoney", COLUMN_PATH, CODE_0, LISTING_CODE_0),
        ("eastmoney_fast", FAST_PATH, FAST_CODE_0, LISTING_CODE_0),
        ("eastmoney_fast", FAST_PATH, PASSPORT, PASSPORT_ONLY),
    ],
)
def test_soft_blocks_are_counted_by_kind_and_never_retried(
    blocking_site: BlockingSite,
    sqlite_url: str,
    tmp_path: Path,
    spider: str,
    path: str,
    answer: Response,
    kind: str,
) -> None:
    blocking_site.block(path, answer)

    columns = ("-a", "columns=345") if spider == "eastmoney" else ()
    code, stdout, stderr = crawl(blocking_site, sqlite_url, tmp_path, spider, *columns, "-a", "page_size=10")

    assert code == exitcodes.BLOCKED, stderr
    assert blocking_site.paths() == [path]
    assert blocked_line(stdout) == f"blocked:               1  ({kind}: 1)"
    assert "listing_error" not in stdout and "errors:                0" in stdout
    assert recorded_run(sqlite_url)[1]["blocked"] == {kind: 1}


def test_the_missing_req_trace_shell_is_a_listing_error_not_a_block(
    blocking_site: BlockingSite, sqlite_url: str, tmp_path: Path
) -> None:
    blocking_site.block(COLUMN_PATH, MISSING_REQ_TRACE)

    code, stdout, stderr = crawl(blocking_site, sqlite_url, tmp_path, "eastmoney", *ONE_PAGE_OF_345)

    assert code == exitcodes.FAILED, stderr
    assert "api_error: 1" in stdout and blocked_line(stdout) == ""
    assert recorded_run(sqlite_url)[1]["blocked"] == {}


def test_429_is_retried_only_after_retry_after_and_the_crawl_completes(
    blocking_site: BlockingSite, sqlite_url: str, tmp_path: Path
) -> None:
    def in_three_seconds() -> Response:  # Retry-After as an HTTP date (RFC 9110 §10.2.3)
        return too_many_requests(format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True))

    blocking_site.block(COLUMN_PATH, too_many_requests("1"), then_normal=True)
    blocking_site.block(ARTICLE, in_three_seconds, then_normal=True)

    code, stdout, stderr = crawl(blocking_site, sqlite_url, tmp_path, "eastmoney", *ONE_PAGE_OF_345)

    assert code == exitcodes.OK, stderr
    first, retry = blocking_site.times(COLUMN_PATH)
    assert retry - first >= 1.0
    first, retry = blocking_site.times(ARTICLE)
    assert retry - first >= 2.0  # the date is whole seconds: between 2 and 3 s after the 429
    assert set(stored_rows(sqlite_url)) == sample_codes("345")
    assert blocked_line(stdout) == "blocked:               2  (http_429: 2)"
    status, counts = recorded_run(sqlite_url)
    assert (status, counts["blocked"]) == ("ok", {HTTP_429: 2})


def test_cnstock_js_challenge_is_a_soft_block_never_stored(
    blocking_site: BlockingSite, sqlite_url: str, tmp_path: Path
) -> None:
    """cnstock.com answers a burst with an Aliyun JavaScript challenge (HTTP 200, a script setting
    acw_sc__v2 and reloading, no __NEXT_DATA__): counted as a block, not retried, not stored, and the
    site is left alone for NEWSARCHIVE_BLOCK_PAUSE."""
    challenged = "/commonDetail/4801362"
    blocking_site.inject(challenged, SiteFault.JS_CHALLENGE)

    code, stdout, stderr = crawl(
        blocking_site, sqlite_url, tmp_path, "cnstock", *SMALL_DELAY, "-s", "NEWSARCHIVE_BLOCK_PAUSE=1"
    )

    assert code == exitcodes.OK, stderr
    assert blocking_site.paths().count(challenged) == 1  # not retried
    assert set(stored_rows(sqlite_url)) == {"CNSTOCK-4800913", "CNSTOCK-4801375", "CNSTOCK-4801468"}
    assert blocked_line(stdout) == "blocked:               1  (js_challenge: 1)"
    assert f"blocked (js_challenge): https://www.cnstock.com{challenged}" in stderr
    (blocked_at,) = blocking_site.times(challenged)
    later = [r.at for r in blocking_site.requests if r.at > blocked_at]
    assert not later or min(later) - blocked_at >= 1.0
    status, counts = recorded_run(sqlite_url)
    assert (status, counts["blocked"]) == ("ok", {JS_CHALLENGE: 1})


def test_a_retry_after_longer_than_the_limit_gives_the_site_up(
    blocking_site: BlockingSite, sqlite_url: str, tmp_path: Path
) -> None:
    blocking_site.block(COLUMN_PATH, too_many_requests("3600"))

    code, stdout, stderr = crawl(blocking_site, sqlite_url, tmp_path, "eastmoney", *ONE_PAGE_OF_345)

    assert code == exitcodes.BLOCKED, stderr
    assert blocking_site.paths() == [COLUMN_PATH]
    assert "asks us to come back in 3600 s" in stderr
    assert blocked_line(stdout).startswith(
        "blocked:               1  (http_429: 1); gave up on eastmoney.com"
    )


def test_one_block_among_many_good_responses_pauses_the_site_and_the_run_still_succeeds(
    blocking_site: BlockingSite, sqlite_url: str, tmp_path: Path
) -> None:
    blocking_site.block(ARTICLE, FORBIDDEN)

    code, stdout, stderr = crawl(
        blocking_site,
        sqlite_url,
        tmp_path,
        "eastmoney",
        *ONE_PAGE_OF_345,
        *SMALL_DELAY,
        "-s",
        "NEWSARCHIVE_BLOCK_PAUSE=1",
    )

    assert code == exitcodes.OK, stderr
    assert blocking_site.paths().count(ARTICLE) == 1  # not retried
    assert set(stored_rows(sqlite_url)) == sample_codes("345") - {ARTICLE_CODE}
    assert blocked_line(stdout) == "blocked:               1  (http_403: 1)"
    assert f"blocked (http_403): https://finance.eastmoney.com{ARTICLE}" in stderr
    # the site was left alone for NEWSARCHIVE_BLOCK_PAUSE, requests already queued included
    (blocked_at,) = blocking_site.times(ARTICLE)
    later = [r.at for r in blocking_site.requests if r.at > blocked_at]
    assert later and min(later) - blocked_at >= 1.0
    status, counts = recorded_run(sqlite_url)
    assert (status, counts["blocked"]) == ("ok", {HTTP_403: 1})


def test_a_site_that_keeps_blocking_is_given_up_for_the_run(
    blocking_site: BlockingSite, sqlite_url: str, tmp_path: Path
) -> None:
    for code in sample_codes("345"):
        blocking_site.block(f"/a/{code.removeprefix('NW')}.html", FORBIDDEN)

    code, stdout, stderr = crawl(
        blocking_site,
        sqlite_url,
        tmp_path,
        "eastmoney",
        *ONE_PAGE_OF_345,
        *SMALL_DELAY,
        "-s",
        "NEWSARCHIVE_BLOCK_LIMIT=3",
    )

    assert code == exitcodes.BLOCKED, stderr
    asked = len(blocking_site.article_requests())
    # 3 blocks in a row, plus at most the one request already on the wire when the third came back
    assert 3 <= asked <= 4
    assert "giving up on eastmoney.com for this run: 3 blocks in a row (the last: http_403)" in stderr
    not_sent = len(sample_codes("345")) - asked
    assert blocked_line(stdout) == (
        f"blocked:               {asked}  (http_403: {asked}); "
        f"gave up on eastmoney.com ({not_sent} requests not sent)"
    )
    assert stored_rows(sqlite_url) == {}


# --- the pure parts --------------------------------------------------------------------------------


# a short story page: a headline and a paragraph a reader sees (212 bytes of text)
SMALL_STORY = (
    "<h1>沪指早盘震荡走强 券商板块领涨</h1><p>今日早盘，A股三大指数集体高开，"
    "券商、军工板块涨幅居前，北向资金净流入超过二十亿元，两市成交额较昨日同期有所放大。</p>"
).encode()


@pytest.mark.parametrize(
    ("status", "body", "path", "kind"),
    [
        (403, b"", ARTICLE, HTTP_403),
        (429, b"", COLUMN_PATH, HTTP_429),
        (200, b" \r\n", ARTICLE, EMPTY_BODY),
        (200, PASSPORT.body, "/search/jsonp", PASSPORT_ONLY),
        (200, b'cb({"code":0,"hitsTotal":0,"result":{"passportWeb":[{"uid":"1"}]}});', "/x", PASSPORT_ONLY),
        (200, b'{"result":{"passportWeb":[],"cmsArticleWebOld":[]}}', "/search/jsonp", PASSPORT_ONLY),
        (200, b'{"result":{"passportWeb":[],"cmsArticleWebOld":[{"code":"1"}]}}', "/search/jsonp", None),
        (200, CODE_0.body, COLUMN_PATH, LISTING_CODE_0),
        (200, FAST_CODE_0.body, FAST_PATH, LISTING_CODE_0),
        (200, CODE_0.body, "/search/jsonp", None),  # code 0 is success on the search API
        (200, MISSING_REQ_TRACE.body, COLUMN_PATH, None),
        (200, b'{"code":1,"message":"success","data":{"list":[]}}', COLUMN_PATH, None),
        (200, b"<html>passportWeb</html>", ARTICLE, None),
        (200, JS_CHALLENGE_BODY, "/commonDetail/4801362", JS_CHALLENGE),
        (200, JS_CHALLENGE_BODY.replace(b"acw_sc__v2", b"acw_sc__v3"), "/channel/10006", JS_CHALLENGE),
        # a page that only talks about the cookie, or a real page carrying it in a script, is content
        (200, b'<html><script id="__NEXT_DATA__">{"acw_sc__v2":1}</script></html>', ARTICLE, None),
        (200, b"<html><body>" + b"<p>acw_sc__v2</p>" * 2000 + b"</body></html>", ARTICLE, None),
        # a small real page of any site that sets the cookie in its own script: its words show
        (200, JS_CHALLENGE_BODY.replace(b"</html>", SMALL_STORY + b"</html>"), ARTICLE, None),
        (200, b"[1, 2]", COLUMN_PATH, None),
        (200, b"{not json", COLUMN_PATH, None),
        (404, b"", ARTICLE, None),
        (500, b"", COLUMN_PATH, None),
    ],
)
def test_block_kind(status: int, body: bytes, path: str, kind: str | None) -> None:
    assert block_kind(status, body, path) == kind


@given(st.integers(100, 599), st.binary(max_size=300), st.sampled_from([COLUMN_PATH, FAST_PATH, ARTICLE]))
def test_block_kind_never_raises_on_junk(status: int, body: bytes, path: str) -> None:
    assert block_kind(status, body, path) in (
        None,
        HTTP_403,
        HTTP_429,
        EMPTY_BODY,
        PASSPORT_ONLY,
        LISTING_CODE_0,
        JS_CHALLENGE,
    )


def test_deeply_nested_json_is_not_a_crash() -> None:
    assert block_kind(200, b"[" * 100_000 + b"]" * 100_000, COLUMN_PATH) is None
    assert block_kind(200, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, COLUMN_PATH) is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(b" 1 ") == 1.0
    assert retry_after_seconds("Wed, 25 Nov 2026 09:31:00 GMT", now) == 60.0
    assert retry_after_seconds("Wed, 25 Nov 2026 09:29:00 GMT", now) == 0.0  # in the past
    for junk in (None, "", "soon", "-5", "Wed, 99 Nov 2026 09:31:00 GMT"):
        assert retry_after_seconds(junk, now) is None


@given(st.text(max_size=60))
def test_retry_after_never_raises(value: str) -> None:
    seconds = retry_after_seconds(value)
    assert seconds is None or seconds >= 0


def test_hosts_of_one_site_share_a_key() -> None:
    assert site_of("np-listapi.eastmoney.com") == site_of("finance.eastmoney.com") == "eastmoney.com"
    assert site_of("np-weblist.eastmoney.com:443") == "eastmoney.com"
    assert site_of("www.cs.com.cn") == "cs.com.cn" and site_of("www.zqrb.cn") == "zqrb.cn"
    assert site_of("127.0.0.1") == "127.0.0.1" and site_of("localhost") == "localhost"


def test_mostly_blocked_means_at_least_half_the_responses_or_a_site_given_up() -> None:
    def summary(**stats: int) -> RunSummary:
        return RunSummary.from_stats({f"newsarchive/{key}": value for key, value in stats.items()})

    half = summary(
        **{"blocked/http_403": 1, "blocked/empty_body": 1, "responses_checked": 4, "listing_pages": 1}
    )
    assert half.mostly_blocked and half.exit_code("eastmoney") == exitcodes.BLOCKED
    assert half.status("eastmoney") == "failed"
    less = summary(**{"blocked/http_403": 1, "responses_checked": 3, "stored/new": 2, "listing_pages": 1})
    assert not less.mostly_blocked and less.exit_code("eastmoney") == exitcodes.OK
    given_up = summary(**{"blocked/http_403": 3, "gave_up/eastmoney.com": 5, "responses_checked": 40})
    assert given_up.mostly_blocked and given_up.exit_code("eastmoney") == exitcodes.BLOCKED
    assert not summary(responses_checked=0).mostly_blocked
    assert re.search(r"gave up on eastmoney\.com \(5 requests not sent\)", "\n".join(given_up.lines()))
