"""A crawl through a source failing in every way at once (newsarchive.samplesite.faults).

The loopback sample site answers chosen listing pages and article pages with server errors, blocks,
dropped connections, stalls, truncated and oversized bodies, broken or oddly wrapped JSON, empty
lists, pages with no charset or in GBK, and a redirect loop. The crawl must complete, store every
article whose page came back good (and exactly as a healthy crawl stores it), store nothing from a
bad response, count every fault in the run's recorded counts, and leave the rest to the next run.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from newsarchive import exitcodes
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.runs import recent_runs
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import HUGE_PAGE_BYTES, JSONP_CALLBACK, Fault
from newsarchive.samplesite.server import COLUMN_PATH, FAST_PATH
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, crawl, stored_rows

COLUMNS = ("344", "345", "353")
PAGE_SIZE = 5
ARGS = ("-a", f"columns={','.join(COLUMNS)}", "-a", f"page_size={PAGE_SIZE}", "-a", "pages=8")
# Production retry and block rules, with shorter waits: a stalled request times out after 3 s and
# is tried twice; a block pauses nothing and three in a row do not give the site up.
FAULT_SETTINGS = (
    "-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=1",
    "-s", "NEWSARCHIVE_BLOCK_PAUSE=0", "-s", "NEWSARCHIVE_BLOCK_LIMIT=100",
)  # fmt: skip


def listing_route(column: str, page: int) -> str:
    return f"{COLUMN_PATH}?column={column}&page_index={page}"


# (column, page, fault, times): None = every request; 1 = once, then the page answers normally
LISTING_FAULTS = [
    ("344", 1, Fault.HTTP_503, 1),  # retried: read
    ("344", 2, Fault.JSONP_WRAPPER, None),  # unwrapped: read, counted as a quirk
    ("344", 3, Fault.DROPPED_CONNECTION, 1),  # retried: read
    ("344", 4, Fault.HTTP_429, 1),  # waited for Retry-After: read
    ("344", 5, Fault.MALFORMED_JSON, None),  # a listing error: column 344 stops paging here
    ("345", 2, Fault.SOFT_BLOCK, None),  # a block: column 345 stops after page 1
    ("353", 2, Fault.EMPTY_LIST, None),  # column 353 stops after page 1
]
READABLE_PAGES = {"344": 4, "345": 1, "353": 1}

# Article pages that never come back good: nothing of theirs may be stored.
BAD_ARTICLE_FAULTS = [
    Fault.HTTP_500,
    Fault.HTTP_403,
    Fault.DROPPED_CONNECTION,
    Fault.STALL,
    Fault.TRUNCATED_BODY,
    Fault.REDIRECT_LOOP,
    Fault.HUGE_PAGE,
]
# Article pages failing once (retried) or odd but good: stored, exactly as a healthy crawl has them.
GOOD_ARTICLE_FAULTS = [
    (Fault.HTTP_502, 1),
    (Fault.HTTP_503, 1),
    (Fault.HTTP_429, 1),
    (Fault.DROPPED_CONNECTION, 1),
    (Fault.TRUNCATED_BODY, 1),
    (Fault.NO_CHARSET, None),
    (Fault.GBK, None),
]


def readable_codes(site: SampleSite) -> list[str]:
    """The article codes on the listing pages the fault crawl can read, from the healthy site."""
    codes: list[str] = []
    for column, pages in READABLE_PAGES.items():
        for page in range(1, pages + 1):
            query = f"column={column}&page_index={page}&page_size={PAGE_SIZE}&req_trace=1"
            payload = json.loads(site.normal_response(COLUMN_PATH, query).body)
            codes += [str(row["code"]) for row in payload["data"]["list"] if row["np_dst"] != "CFH"]
    return sorted(set(codes))


def content(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows without the near-duplicate link, which depends on which copies a run stored."""
    return {code: {k: v for k, v in row.items() if k != "duplicate_of"} for code, row in rows.items()}


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """What a crawl of a healthy site stores with the same arguments."""
    folder = tmp_path_factory.mktemp("healthy")
    url = f"sqlite:///{folder / 'healthy.db'}"
    with SampleSite() as site:
        crawl("eastmoney", site.origin, url, folder, *ARGS)
    return stored_rows(url)


@pytest.fixture
def faulty_site(site: SampleSite) -> tuple[SampleSite, set[str], set[str]]:
    """The sample site with every fault injected; returns it with the codes whose pages never come
    back good and the codes that must be stored."""
    for column, page, fault, times in LISTING_FAULTS:
        site.inject(listing_route(column, page), fault, times=times)
    codes = readable_codes(site)
    bad = codes[: len(BAD_ARTICLE_FAULTS)]
    good = codes[len(BAD_ARTICLE_FAULTS) : len(BAD_ARTICLE_FAULTS) + len(GOOD_ARTICLE_FAULTS)]
    for code, fault in zip(bad, BAD_ARTICLE_FAULTS, strict=True):
        site.inject(f"/a/{code}.html", fault)
    for code, (fault, times) in zip(good, GOOD_ARTICLE_FAULTS, strict=True):
        site.inject(f"/a/{code}.html", fault, times=times)
    return site, {f"NW{code}" for code in bad}, {f"NW{code}" for code in codes} - {f"NW{c}" for c in bad}


def test_a_crawl_through_every_fault_completes_stores_the_good_and_counts_the_rest(
    faulty_site: tuple[SampleSite, set[str], set[str]],
    healthy: dict[str, dict[str, Any]],
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    site, bad, expected = faulty_site
    result = run_cli(
        "crawl", "eastmoney", *ARGS, "--db", sqlite_url, "--log-level", "WARNING",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS, *FAULT_SETTINGS, cwd=tmp_path,
    )  # fmt: skip

    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == exitcodes.OK, result.stdout + result.stderr[-3000:]
    unserved = [(i.path, i.conditions, i.fault) for i in site.injections if not i.served]
    assert not unserved, unserved  # every fault was really met by the crawl
    stored = stored_rows(sqlite_url)
    assert set(stored) == expected  # every good article, nothing from a bad response
    assert not set(stored) & bad
    assert content(stored) == content({code: healthy[code] for code in expected})  # GBK page included

    counts = recorded_counts(sqlite_url)
    assert counts["download_errors"] == {
        "connection_lost": 1, "http_500": 1, "redirect_loop": 1, "timeout": 1, "too_large": 1, "truncated": 1,
    }  # fmt: skip
    assert counts["blocked"] == {"http_403": 1, "http_429": 2, "passport_only": 1}
    assert counts["errors"]["by_kind"] == {"bad_json": 1, "download": 6, "spider": 0}
    assert counts["quirks"] == {"charset_undeclared": 2, "jsonp_wrapper": 1}
    assert counts["listing_stopped"].get("empty_page") == 1
    # every retried fault was retried (a slow machine may add a timeout or two)
    at_least = {
        "http_502": 1,
        "http_503": 2,
        "http_500": 1,
        "connection_lost": 3,
        "truncated": 2,
        "timeout": 1,
    }
    assert all(counts["retries"].get(reason, 0) >= n for reason, n in at_least.items()), counts["retries"]
    statuses = counts["responses_by_status"]
    assert (statuses["500"], statuses["502"], statuses["503"]) == (2, 1, 2)
    # A → A?loop=1 → A: the loop is caught at its first repeat (newsarchive.hosts). It used to take
    # 21 responses: the replay routing's rerouted copies skipped the duplicate filter, so Scrapy
    # followed 20 redirects; a real crawl's filter dropped the repeat without a count instead.
    assert statuses["302"] == 2
    assert "downloads failed:      6" in result.stdout and "quirks handled:        3" in result.stdout

    # The faults are gone: the next run pages everything again (the last one had errors) and fetches
    # exactly what the faulty run could not store. The archive then equals a healthy crawl's.
    site.injections.clear()
    site.clear_requests()
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ARGS)
    refetched = {"NW" + path.rsplit("/", 1)[1].removesuffix(".html") for path in site.article_requests()}
    assert refetched == set(healthy) - expected
    assert stored_rows(sqlite_url) == healthy


def test_the_raw_archive_of_a_faulty_crawl_replays_to_the_same_articles(
    faulty_site: tuple[SampleSite, set[str], set[str]], sqlite_url: str, tmp_path: Path
) -> None:
    """Bad responses are kept in the WARC files (for the record), never stored by a reparse."""
    site, _bad, expected = faulty_site
    run_cli(
        "crawl", "eastmoney", *ARGS, "--db", sqlite_url, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}",
        *FAST_SETTINGS, *FAULT_SETTINGS, cwd=tmp_path,
    )  # fmt: skip
    crawled = stored_rows(sqlite_url)
    replayed_url = f"sqlite:///{tmp_path / 'replayed.db'}"
    warcs = sorted(str(path) for path in (tmp_path / "data" / "warc").glob("*.warc.gz"))
    result = run_cli("reparse", *warcs, "--db", replayed_url, cwd=tmp_path)
    assert result.returncode == exitcodes.OK, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert content(stored_rows(replayed_url)) == content(crawled)
    assert set(crawled) == expected


def recorded_counts(db_url: str) -> dict[str, Any]:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        (run, *_) = recent_runs(session, limit=1)
        counts = dict(run.counts)
    engine.dispose()
    return counts


# --- the fault site itself, on the wire --------------------------------------------------------


@pytest.fixture
def plain_site(site: SampleSite) -> SampleSite:
    return site


def get(site: SampleSite, path: str, timeout: float = 5) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", int(site.origin.rsplit(":", 1)[1]), timeout=timeout)
    connection.request("GET", path)
    return connection.getresponse()


ARTICLE = "/a/202112082206672930.html"
LISTING = f"{COLUMN_PATH}?column=344&page_index=1&page_size=5&req_trace=1"


def test_faults_are_made_from_the_real_answer(plain_site: SampleSite) -> None:
    normal = get(plain_site, ARTICLE).read()
    listing = get(plain_site, LISTING).read()
    plain_site.inject(ARTICLE, Fault.GBK, times=1)
    plain_site.inject(ARTICLE, Fault.NO_CHARSET, times=1)
    plain_site.inject(ARTICLE, Fault.HUGE_PAGE, times=1)
    plain_site.inject(COLUMN_PATH, Fault.JSONP_WRAPPER, times=1)
    plain_site.inject(COLUMN_PATH, Fault.EMPTY_LIST, times=1)
    plain_site.inject(COLUMN_PATH, Fault.MALFORMED_JSON, times=1)

    gbk = get(plain_site, ARTICLE)
    assert gbk.getheader("Content-Type") == "text/html"
    gbk_body = gbk.read()
    assert b"charset" not in gbk_body.lower()
    with pytest.raises(UnicodeDecodeError):
        gbk_body.decode("utf-8")
    without_meta = re.sub(r"\s*<meta[^>]*charset[^>]*>", "", normal.decode("utf-8"), count=1)
    assert gbk_body.decode("gbk") == without_meta
    no_charset = get(plain_site, ARTICLE).read()
    assert b"charset" not in no_charset.lower() and no_charset.decode("utf-8")
    huge = get(plain_site, ARTICLE).read()
    assert len(huge) >= HUGE_PAGE_BYTES - 100 and normal.split(b"</head>")[1] in huge

    jsonp = get(plain_site, LISTING).read()
    assert jsonp == JSONP_CALLBACK.encode() + b"(" + listing + b");"
    empty = json.loads(get(plain_site, LISTING).read())
    assert (
        empty["data"]["list"] == []
        and empty["data"]["totle_hits"] == json.loads(listing)["data"]["totle_hits"]
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(get(plain_site, LISTING).read())
    assert get(plain_site, LISTING).read() == listing  # every fault used up: the normal answer


def test_transport_faults_break_the_connection_the_way_they_say(plain_site: SampleSite) -> None:
    plain_site.inject(ARTICLE, Fault.DROPPED_CONNECTION, times=1)
    plain_site.inject(ARTICLE, Fault.TRUNCATED_BODY, times=1)
    plain_site.inject(ARTICLE, Fault.STALL, times=1)
    with pytest.raises(http.client.RemoteDisconnected):
        get(plain_site, ARTICLE)
    truncated = get(plain_site, ARTICLE)
    with pytest.raises(http.client.IncompleteRead):
        truncated.read()
    with pytest.raises(socket.timeout):
        get(plain_site, ARTICLE, timeout=0.5)


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault.HTTP_500, 500),
        (Fault.HTTP_502, 502),
        (Fault.HTTP_503, 503),
        (Fault.HTTP_403, 403),
        (Fault.HTTP_429, 429),
    ],
)
def test_status_faults_send_the_nginx_error_page(plain_site: SampleSite, fault: Fault, status: int) -> None:
    plain_site.inject(ARTICLE, fault)
    response = get(plain_site, ARTICLE)
    assert response.status == status
    assert b"<center>nginx</center>" in response.read()
    assert (response.getheader("Retry-After") is not None) == (fault is Fault.HTTP_429)


def test_a_redirect_loop_bounces_between_two_urls(plain_site: SampleSite) -> None:
    plain_site.inject(ARTICLE, Fault.REDIRECT_LOOP)
    first = get(plain_site, ARTICLE)
    assert (first.status, first.getheader("Location")) == (302, f"{ARTICLE}?loop=1")
    second = get(plain_site, f"{ARTICLE}?loop=1")
    assert (second.status, second.getheader("Location")) == (302, ARTICLE)


def test_a_route_condition_picks_one_listing_page(plain_site: SampleSite) -> None:
    plain_site.inject(listing_route("344", 2), Fault.SOFT_BLOCK)
    assert b"passportWeb" not in get(plain_site, LISTING).read()
    page_2 = LISTING.replace("page_index=1", "page_index=2")
    assert b"passportWeb" in get(plain_site, page_2).read()


def test_json_faults_are_refused_on_pages() -> None:
    with pytest.raises(ValueError, match="list API fault"):
        SampleSite().inject(ARTICLE, Fault.EMPTY_LIST)
    assert SampleSite().inject(FAST_PATH, Fault.EMPTY_LIST).served == 0  # the 7x24 list takes them
