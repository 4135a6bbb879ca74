"""A run whose configuration matched nothing fails loudly (issue 14): one warning naming the
argument, exit 6 and the run status ``nothing_matched``, for every spider; "nothing new" (exit 3)
stays for a run that listed articles and already had them all. Real crawls of the sample site."""

from __future__ import annotations

import json
from pathlib import Path
from subprocess import CompletedProcess

from newsarchive.exitcodes import NOTHING_MATCHED, NOTHING_NEW
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import Fault
from tests.conftest import run_cli
from tests.support import column_entries, crawl, crawl_outcome, sample_codes, stored_rows


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("newsarchive: warning: ")]


def last_run(db_url: str, cwd: Path) -> dict:
    shown = run_cli("runs", "--json", "--limit", "1", "--db", db_url, cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)[0]


def assert_nothing_matched(result: CompletedProcess[str], db_url: str, cwd: Path, warning: str) -> None:
    assert result.returncode == NOTHING_MATCHED, (result.stdout, result.stderr[-3000:])
    assert warnings(result.stderr) == [f"newsarchive: warning: {warning}"], result.stderr[-3000:]
    assert "error" not in result.stderr and "download failed" not in result.stderr, result.stderr[-3000:]
    run = last_run(db_url, cwd)
    assert run["status"] == "nothing_matched"
    assert run["counts"]["nothing_matched"] == [warning]


def crawl_column_344(site: SampleSite, db_url: str, cwd: Path, media: str) -> CompletedProcess[str]:
    """The East Money spider over column 344 with ``-a media=MEDIA``."""
    arguments = ("-a", "columns=344", "-a", f"media={media}")
    return crawl_outcome(site.origin, db_url, cwd, "crawl", "eastmoney", *arguments)


def test_a_media_filter_no_listed_row_matched(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    result = crawl_column_344(site, sqlite_url, tmp_path, "不存在的媒体")
    listed = len(column_entries("344"))  # the rows checked: every one but the 财富号 posts
    assert_nothing_matched(
        result, sqlite_url, tmp_path, f"-a media=不存在的媒体 matched none of the {listed} listed articles"
    )
    assert stored_rows(sqlite_url) == {}


def test_one_media_name_of_two_that_matched_nothing(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    result = crawl_column_344(site, sqlite_url, tmp_path, "证券日报网,不存在的媒体")
    listed = len(column_entries("344"))
    warning = f"-a media=证券日报网,不存在的媒体: 不存在的媒体 matched none of the {listed} listed articles"
    assert_nothing_matched(result, sqlite_url, tmp_path, warning)
    assert stored_rows(sqlite_url)  # what the good name matched is stored all the same


def test_a_filter_that_matched_what_is_already_stored_is_nothing_new(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    arguments = ("-a", "columns=344", "-a", "media=证券日报网")
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *arguments)
    again = crawl_outcome(site.origin, sqlite_url, tmp_path, "crawl", "eastmoney", *arguments)
    assert again.returncode == NOTHING_NEW and not warnings(again.stderr), again.stderr[-3000:]


def test_a_column_the_site_does_not_have(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    # the sample list API answers an unknown column as the real one answers a column with no rows:
    # code 1, totle_hits 0, an empty list
    result = crawl_outcome(site.origin, sqlite_url, tmp_path, "crawl", "eastmoney", "-a", "columns=344,99999")
    assert_nothing_matched(result, sqlite_url, tmp_path, "-a columns=344,99999: column 99999 listed nothing")
    assert set(stored_rows(sqlite_url)) == sample_codes("344")  # the good column is crawled all the same


def test_a_7x24_column_that_lists_nothing(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    result = crawl_outcome(site.origin, sqlite_url, tmp_path, "crawl", "eastmoney_fast", "-a", "column=999")
    assert_nothing_matched(result, sqlite_url, tmp_path, "-a column=999: column 999 listed nothing")


def test_a_zqrb_column_answering_404(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    columns = "columns=finance/hangyedongtai,finance/nothere"
    result = crawl_outcome(site.origin, sqlite_url, tmp_path, "crawl", "zqrb", "-a", columns)
    warning = f"-a {columns}: column finance/nothere listed nothing (HTTP 404 on its first page)"
    assert_nothing_matched(result, sqlite_url, tmp_path, warning)
    assert stored_rows(sqlite_url)


def test_zqrb_default_columns_answering_404(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    # the sample 证券日报网 has two of the six default 栏目: the other four answer 404, as a 栏目 the
    # site dropped would; that passed as "ok" with exit 0
    result = crawl_outcome(site.origin, sqlite_url, tmp_path, "crawl", "zqrb")
    missing = ("gscy/gongsi", "jrjg/quanshang", "stock/gupiaoyaowen", "stock/redian")
    warning = "the default columns: " + "; ".join(
        f"column {column} listed nothing (HTTP 404 on its first page)" for column in missing
    )
    assert_nothing_matched(result, sqlite_url, tmp_path, warning)


def test_a_declared_site_column_answering_404(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    site.inject("/channel/10006", Fault.HTTP_404)  # cnstock.com's Next.js channel page
    result = crawl_outcome(site.origin, sqlite_url, tmp_path, "crawl", "cnstock")
    warning = "the default columns: column channel_10006 listed nothing (HTTP 404 on its first page)"
    assert_nothing_matched(result, sqlite_url, tmp_path, warning)


def test_a_backfill_window_with_no_article_is_nothing_new(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    # the listings were read and their columns listed rows, none of them in the window: not a
    # configuration that matched nothing, but a window with nothing to store
    result = crawl_outcome(
        site.origin, sqlite_url, tmp_path,
        "backfill", "eastmoney", "--since", "2020-01-01", "--until", "2020-12-31", "-a", "columns=344",
    )  # fmt: skip
    assert result.returncode == NOTHING_NEW, (result.stdout, result.stderr[-3000:])
    assert not warnings(result.stderr) and stored_rows(sqlite_url) == {}
    assert "after_until:" in result.stdout
