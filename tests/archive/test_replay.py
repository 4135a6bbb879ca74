"""Replay of archived responses: one record a parser cannot read costs only that record, and a
reparse reads an article page exactly as the live spider did (both call newsarchive.assemble)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from newsarchive.archive.replay import replay_articles
from newsarchive.archive.warc import WarcArchive
from newsarchive.pages import routes
from newsarchive.pages.eastmoney import parse_article, parse_column_list
from newsarchive.pages.model import ListingEntry
from newsarchive.pages.routes import ARTICLE, LISTING, Route
from newsarchive.runner import project_settings
from newsarchive.sites.adapter import register_declared_sites
from spiders.eastmoney import EastMoneySpider

CASES = Path(__file__).parents[1] / "pages" / "cases"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
BROKEN_HOST = "broken.example"  # a site whose parsers have a bug nobody foresaw


def broken_parser(*args: Any) -> Any:
    raise RuntimeError("a parser bug nobody foresaw")


def broken_site(url: str) -> Route | None:
    if urlsplit(url).hostname != BROKEN_HOST:
        return None
    if "/list" in url:
        return Route("broken", LISTING, "broken", broken_parser)
    return Route("broken", ARTICLE, "broken", broken_parser, info_code="BROKEN-1")


def write_warc(path: Path, *records: tuple[str, bytes]) -> Path:
    archive = WarcArchive(path)
    for url, body in records:
        archive.write_response(
            url, 200, [("Content-Type", "text/html; charset=utf-8")], body, fetched_at=datetime.now(UTC)
        )
    archive.close()
    return path


def test_a_parser_exception_costs_only_its_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register_declared_sites()  # before the router list is swapped, so later tests keep the declared sites
    monkeypatch.setattr(routes, "_ROUTERS", [broken_site, *routes._ROUTERS])
    listing_url = (CASES / "columns_344" / "url.txt").read_text().strip()
    path = write_warc(
        tmp_path / "a.warc.gz",
        (f"https://{BROKEN_HOST}/list/1.html", b"<html></html>"),
        (listing_url, (CASES / "columns_344" / "page.json").read_bytes()),
        (f"https://{BROKEN_HOST}/a/1.html", b"<html></html>"),
        (SEED_URL, (CASES / "article_seed" / "page.html").read_bytes()),
    )
    counts: Counter[str] = Counter()
    articles = list(replay_articles([path], lambda key: counts.update([key])))
    assert [article.info_code for article in articles] == ["NW202204292366280343"]
    # paired with its listing row, whose title it carries
    assert articles[0].title == "宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺"
    assert (counts["listing_error/parser_error"], counts["dropped/parser_error"]) == (1, 1)


def test_a_record_whose_url_cannot_be_read_costs_only_itself(tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "a.warc.gz",
        ("http://[::1/a/202204292366280343.html", b"<html></html>"),  # urlsplit refuses it
        (SEED_URL, (CASES / "article_seed" / "page.html").read_bytes()),
    )
    assert [article.info_code for article in replay_articles([path])] == ["NW202204292366280343"]


def test_a_reparse_reads_an_article_page_as_the_crawl_did(tmp_path: Path, sqlite_url: str) -> None:
    listing_url = (CASES / "columns_344" / "url.txt").read_text().strip()
    listing_body = (CASES / "columns_344" / "page.json").read_bytes()
    page = (CASES / "article_seed" / "page.html").read_bytes()
    path = write_warc(tmp_path / "a.warc.gz", (listing_url, listing_body), (SEED_URL, page))
    (replayed,) = replay_articles([path])

    project = project_settings({"NEWSARCHIVE_DATABASE_URL": sqlite_url}).copy_to_dict()
    settings = {name: value for name, value in project.items() if name.startswith("NEWSARCHIVE_")}
    spider = EastMoneySpider.from_crawler(get_crawler(EastMoneySpider, settings))
    listing = parse_column_list(listing_body.decode("utf-8"), listing_url)
    (entry,) = [entry for entry in listing.entries if entry.url == SEED_URL]
    response = TextResponse(SEED_URL, body=page, headers={"Content-Type": "text/html; charset=utf-8"})
    (crawled,) = spider.parse_article_page(response, entry)
    spider.store.engine_stopped()  # the crawl's owner of the database lets it go

    assert {**asdict(replayed), "fetched_at": None} == {**asdict(crawled), "fetched_at": None}


# A long article continues on <code>_2.html (eastmoney.md §2.1): the sample site's two-page article.
LONG_URL = "https://finance.eastmoney.com/a/202201072239307540.html"
LONG_PAGES = {
    LONG_URL: (CASES / "article_long_page1" / "page.html").read_bytes(),
    LONG_URL.replace(".html", "_2.html"): (CASES / "article_long_page2" / "page.html").read_bytes(),
}


def long_article_body() -> str:
    """Both pages' bodies in order: what one article made of them holds."""
    return "".join(
        parse_article(page.decode("utf-8"), url).body_html or "" for url, page in LONG_PAGES.items()
    )


@pytest.mark.parametrize("order", [1, -1], ids=["in_order", "page_2_first"])
def test_a_long_article_is_rebuilt_from_its_pages(tmp_path: Path, order: int) -> None:
    path = write_warc(tmp_path / "a.warc.gz", *list(LONG_PAGES.items())[::order])
    counts: Counter[str] = Counter()
    (article,) = replay_articles([path], lambda key: counts.update([key]))
    assert article.info_code == "NW202201072239307540" and article.url == LONG_URL
    assert article.body_html == long_article_body()
    assert "掺水的雪球" in article.body_html and article.body_html.rstrip().endswith(
        "（文章来源：券商中国）</p>"
    )
    assert (counts["article_pages"], counts["continuation_pages"]) == (1, 1)
    assert not [key for key in counts if key.startswith(("dropped/", "skipped/"))]


@pytest.mark.parametrize(
    ("kept", "reason"),
    [(LONG_URL, "dropped/incomplete_pages"), (LONG_URL.replace(".html", "_2.html"), "skipped/orphan_page")],
    ids=["first_page_alone", "second_page_alone"],
)
def test_one_page_of_a_long_article_is_no_article(tmp_path: Path, kept: str, reason: str) -> None:
    path = write_warc(tmp_path / "a.warc.gz", (kept, LONG_PAGES[kept]))
    counts: Counter[str] = Counter()
    assert list(replay_articles([path], lambda key: counts.update([key]))) == []
    assert counts[reason] == 1


@pytest.mark.parametrize("order", [1, -1], ids=["in_order", "page_2_first"])
def test_a_long_article_whose_later_page_has_no_body_is_dropped_once(tmp_path: Path, order: int) -> None:
    """Counted once, by the page's reason, as the crawl counts it (not again when the file ends)."""
    empty = "<html><body><p>系统维护中</p></body></html>".encode()
    pages = [(LONG_URL, LONG_PAGES[LONG_URL]), (LONG_URL.replace(".html", "_2.html"), empty)]
    path = write_warc(tmp_path / "a.warc.gz", *pages[::order])
    counts: Counter[str] = Counter()
    assert list(replay_articles([path], lambda key: counts.update([key]))) == []
    assert counts["dropped/incomplete_pages"] == 1 and counts["skipped/orphan_page"] == 0


def test_the_pages_of_a_long_article_are_joined_within_the_file_that_holds_them(tmp_path: Path) -> None:
    """A crawl fetches every page of an article into its own WARC file; pages in two files are
    not one crawl's article (the crawl that fetched page 1 alone did not store it either)."""
    (first, page_1), (second, page_2) = LONG_PAGES.items()
    paths = [
        write_warc(tmp_path / "a.warc.gz", (first, page_1)),
        write_warc(tmp_path / "b.warc.gz", (second, page_2)),
    ]
    counts: Counter[str] = Counter()
    assert list(replay_articles(paths, lambda key: counts.update([key]))) == []
    assert (counts["dropped/incomplete_pages"], counts["skipped/orphan_page"]) == (1, 1)


def test_a_reparse_reads_a_long_article_as_the_crawl_did(tmp_path: Path, sqlite_url: str) -> None:
    path = write_warc(tmp_path / "a.warc.gz", *LONG_PAGES.items())
    (replayed,) = replay_articles([path])

    project = project_settings({"NEWSARCHIVE_DATABASE_URL": sqlite_url}).copy_to_dict()
    settings = {name: value for name, value in project.items() if name.startswith("NEWSARCHIVE_")}
    spider = EastMoneySpider.from_crawler(get_crawler(EastMoneySpider, settings))
    headers = {"Content-Type": "text/html; charset=utf-8"}
    # a listing row with nothing but the URL: the article's fields are all the pages' own, as in the replay
    entry = ListingEntry("202201072239307540", "CMS", None, None, None, None, LONG_URL)
    (page_2_request,) = spider.parse_article_page(
        TextResponse(LONG_URL, body=LONG_PAGES[LONG_URL], headers=headers), entry
    )
    assert isinstance(page_2_request, Request) and page_2_request.url == LONG_URL.replace(".html", "_2.html")
    response = TextResponse(page_2_request.url, body=LONG_PAGES[page_2_request.url], headers=headers)
    (crawled,) = page_2_request.callback(response, **page_2_request.cb_kwargs)
    spider.store.engine_stopped()  # the crawl's owner of the database lets it go

    assert {**asdict(replayed), "fetched_at": None} == {**asdict(crawled), "fetched_at": None}
