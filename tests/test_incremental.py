"""Incremental crawls: a listing stops paging at the first page with nothing new, unless the job's
last run did not finish cleanly (then every listing is paged to the limit to close any gap)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs

from sqlalchemy import text

from newsarchive.db.engine import open_database
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import Fault
from newsarchive.samplesite.server import COLUMN_PATH
from tests.support import SAMPLE_EASTMONEY, crawl, sample_codes, stored_rows

ARGS = ("-a", "columns=344", "-a", "page_size=10")


def listing_pages(site: SampleSite) -> list[int]:
    return [
        int(parse_qs(r.query)["page_index"][0]) for r in site.requests if r.path.endswith("getNewsByColumns")
    ]


def test_a_five_minute_job_asks_one_listing_page_when_nothing_is_new(tmp_path: Path, sqlite_url: str) -> None:
    root = tmp_path / "site"
    shutil.copytree(SAMPLE_EASTMONEY.parent, root)
    with SampleSite(root) as site:
        crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ARGS)
        total = len(json.loads((root / "eastmoney" / "columns" / "344.json").read_text(encoding="utf-8")))
        assert listing_pages(site) == list(range(1, (total + 9) // 10 + 1))  # first run: every page

        site.clear_requests()
        output = crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ARGS)
        assert listing_pages(site) == [1] and site.article_requests() == []
        assert "new articles stored:   0" in output

        # one new article at the top of the list: page 1 had work, page 2 had none
        listing = root / "eastmoney" / "columns" / "344.json"
        rows = json.loads(listing.read_text(encoding="utf-8"))
        newest = max(rows, key=lambda r: str(r["showTime"]))
        fresh = {**newest, "code": "202112099999999999", "title": "新文章"}  # a repost, listed first
        listing.write_text(json.dumps([fresh, *rows], ensure_ascii=False), encoding="utf-8")
        page = root / "eastmoney" / "articles" / f"{newest['code']}.html"
        shutil.copy(page, page.with_name("202112099999999999.html"))
        site.stop()
        site.start()
        site.clear_requests()
        crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ARGS)
        assert listing_pages(site) == [1, 2]
        assert site.article_requests() == ["/a/202112099999999999.html"]
    assert "NW202112099999999999" in stored_rows(sqlite_url)


def test_after_an_unclean_run_the_next_one_pages_every_listing(
    site: SampleSite, db_url: str, tmp_path: Path
) -> None:
    crawl("eastmoney", site.origin, db_url, tmp_path, *ARGS)
    every_page = listing_pages(site)
    engine = open_database(db_url)
    with engine.begin() as connection:  # the last run of the job stopped early (e.g. database gone)
        connection.execute(text("UPDATE runs SET status = 'failed', finish_reason = 'database_unavailable'"))
    engine.dispose()

    site.clear_requests()
    crawl("eastmoney", site.origin, db_url, tmp_path, *ARGS)
    assert listing_pages(site) == every_page and len(every_page) > 1
    assert site.article_requests() == []  # still nothing fetched twice

    site.clear_requests()  # that run was clean: incremental again
    crawl("eastmoney", site.origin, db_url, tmp_path, *ARGS)
    assert listing_pages(site) == [1]
    assert set(stored_rows(db_url)) == sample_codes("344")


def test_an_article_that_failed_to_download_is_fetched_by_the_next_run_below_a_quiet_page(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    """A run that lost a download finishes ok, but the article it listed must not be left behind
    when it is no longer on the first page: the next run pages every listing again."""
    page_2 = json.loads(
        site.normal_response(COLUMN_PATH, "column=344&page_index=2&page_size=10&req_trace=1").body
    )
    lost = next(row["code"] for row in page_2["data"]["list"] if row["np_dst"] != "CFH")
    site.inject(f"/a/{lost}.html", Fault.HTTP_500)
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ARGS)
    assert f"NW{lost}" not in stored_rows(sqlite_url)

    site.injections.clear()
    site.clear_requests()
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *ARGS)
    assert listing_pages(site)[:2] == [1, 2]  # page 1 was quiet, paging went on
    assert site.article_requests() == [f"/a/{lost}.html"]
    assert set(stored_rows(sqlite_url)) == sample_codes("344")
