"""One article page in, one Article out (newsarchive.assemble.read_article), as the live spiders and
reparse both use it: decoding, parsing, merging with the listing row, and every reason there is no
article. No Scrapy: bytes, a header and a URL in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsarchive.assemble import INCOMPLETE_PAGES, ArticleRead, join_pages, one_line, read_article, read_page
from newsarchive.items import COLUMN_FEED, FAST_FEED
from newsarchive.pages.eastmoney import parse_article
from newsarchive.pages.model import ArticlePage, ListingEntry
from newsarchive.text.encoding import CHARSET_UNDECLARED
from newsarchive.window import DateWindow

CASES = Path(__file__).parent / "pages" / "cases"
SEED = CASES / "article_seed"
SEED_URL = (SEED / "url.txt").read_text().strip()
SEED_TITLE = "宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺"
HTML = "text/html; charset=utf-8"
FETCHED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ENTRY = ListingEntry(
    "202204292366280343",
    "CMS",
    "the listed title",
    "2022-04-29 15:03:20",
    "证券日报",
    "the listed summary",
    SEED_URL,
)


def read(body: bytes, **changes: Any) -> ArticleRead:
    arguments: dict[str, Any] = {
        "content_type": HTML,
        "url": SEED_URL,
        "parse": parse_article,
        "feed": COLUMN_FEED,
        "entry": None,
        "fetched_at": FETCHED,
    }
    arguments.update(changes)
    return read_article(body, **arguments)


def broken_parser(html: str, url: str) -> ArticlePage:
    raise RuntimeError("a parser bug nobody foresaw\nsecond line")


def test_a_page_alone_makes_its_article() -> None:
    result = read((SEED / "page.html").read_bytes())
    assert result.reason is None and result.error is None and result.quirk is None
    article = result.article
    assert article is not None
    assert (article.info_code, article.url, article.feed) == ("NW202204292366280343", SEED_URL, COLUMN_FEED)
    assert (article.title, article.published_raw, article.media) == (
        SEED_TITLE,
        "2022年04月29日 15:03",
        "证券日报网",
    )
    assert article.fetched_at == FETCHED
    assert article.body_html and "订单锐减、原材料价格上涨" in article.body_html


def test_the_listing_row_wins_where_both_have_a_field() -> None:
    article = read((SEED / "page.html").read_bytes(), entry=ENTRY, feed=FAST_FEED).article
    assert article is not None
    assert (article.title, article.published_raw, article.media, article.summary, article.feed) == (
        "the listed title",
        "2022-04-29 15:03:20",
        "证券日报",
        "the listed summary",
        FAST_FEED,
    )


def test_a_gbk_page_without_a_charset_is_decoded_and_the_quirk_reported() -> None:
    html = (SEED / "page.html").read_text(encoding="utf-8")
    body = html.replace('<meta charset="utf-8">', "").encode("gb18030")
    result = read(body, content_type="text/html")
    assert result.article is not None and result.article.title == SEED_TITLE
    assert result.quirk == CHARSET_UNDECLARED


def test_a_parser_exception_is_a_reason_and_one_line() -> None:
    result = read(b"<html></html>", parse=broken_parser)
    assert result == ArticleRead(
        reason="dropped/parser_error", error="RuntimeError: a parser bug nobody foresaw"
    )


def test_a_parser_returning_no_article_page_is_a_parser_error() -> None:
    result = read(b"<html></html>", parse=lambda html, url: None)
    assert result.article is None and result.reason == "dropped/parser_error"
    assert result.error is not None and result.error.startswith("TypeError: ")


def test_no_article_code_anywhere_is_a_bad_code() -> None:
    page = ArticlePage(None, "current", "t", None, None, None, None, "<p>x</p>")
    result = read(b"<html></html>", url="https://finance.eastmoney.com/news/x.html", parse=lambda h, u: page)
    assert result == ArticleRead(reason="skipped/bad_code")


@pytest.mark.parametrize(
    ("since", "until", "reason"),
    [
        ("2022-05-01", None, "skipped/before_since"),
        ("2022-04-01", "2022-04-28", "skipped/after_until"),
        ("2022-04-29", "2022-04-29", None),  # the page's day: inside
    ],
)
def test_with_a_window_the_pages_own_date_decides(since: str, until: str | None, reason: str | None) -> None:
    result = read((SEED / "page.html").read_bytes(), window=DateWindow.parse(since, until))
    assert result.reason == reason
    assert (result.article is None) == (reason is not None)


def test_one_line_keeps_the_type_and_the_first_line() -> None:
    assert one_line(ValueError("first\nsecond")) == "ValueError: first"
    assert one_line(KeyError()) == "KeyError"
    assert len(one_line(ValueError("x" * 1000))) == len("ValueError: ") + 300


LONG_1, LONG_2 = CASES / "article_long_page1", CASES / "article_long_page2"
LONG_URL = (LONG_1 / "url.txt").read_text().strip()


def test_a_long_article_s_first_page_says_how_many_pages_it_has() -> None:
    result = read((LONG_1 / "page.html").read_bytes(), url=LONG_URL)
    assert result.article is not None and result.pages == 2
    assert result.article.body_html is not None and "掺水的雪球" in result.article.body_html  # page 1's part


def test_a_first_page_without_a_body_is_one_page_whatever_its_pager_says() -> None:
    """A redesigned page (no body found) is dropped as no_body, as a one-page article is: its other
    pages are not fetched for nothing."""
    page = (LONG_1 / "page.html").read_text(encoding="utf-8").replace('id="ContentBody"', 'id="ArticleMain"')
    result = read(page.encode("utf-8"), url=LONG_URL)
    assert result.article is not None and result.article.body_html is None and result.pages == 1


def test_the_pages_of_a_long_article_join_in_order_and_the_last_may_name_the_media() -> None:
    first = read((LONG_1 / "page.html").read_bytes(), url=LONG_URL).article
    assert first is not None
    first.media = None  # as if the header named no source: the em_media line is on page 2 only
    page_2 = LONG_URL.replace(".html", "_2.html")
    second = read_page((LONG_2 / "page.html").read_bytes(), HTML, page_2, parse_article)
    assert second.page is not None and second.reason is None
    assert (second.page.page, second.page.pages) == (2, 2)
    joined = join_pages(first, [second.page])
    assert joined.body_html == (first.body_html or "") + (second.page.body_html or "")
    assert joined.media == "券商中国" and joined.info_code == first.info_code and joined.url == LONG_URL


@pytest.mark.parametrize(
    ("body", "parse", "reason"),
    [
        ("<html><body><p>系统维护中</p></body></html>".encode(), parse_article, INCOMPLETE_PAGES),
        (b"<html></html>", broken_parser, "dropped/parser_error"),
    ],
)
def test_a_later_page_that_cannot_complete_the_article_gives_a_reason(
    body: bytes, parse: Any, reason: str
) -> None:
    result = read_page(body, HTML, LONG_URL.replace(".html", "_2.html"), parse)
    assert result.page is None and result.reason == reason and result.error


@pytest.mark.parametrize(
    ("served", "url"),
    [
        ("article_long_page1", LONG_URL),  # page 2 redirected back to page 1
        ("article_older", None),  # page 2 redirected to another article
    ],
    ids=["page_1_again", "another_article"],
)
def test_a_response_that_is_not_the_page_asked_for_leaves_the_article_incomplete(
    served: str, url: str | None
) -> None:
    """A redirect would otherwise join page 1 (or another story) into the article as its page 2."""
    case = CASES / served
    body, where = (case / "page.html").read_bytes(), url or (case / "url.txt").read_text().strip()
    result = read_page(body, HTML, where, parse_article, expected=("NW202201072239307540", 2))
    assert result.page is None and result.reason == INCOMPLETE_PAGES
    assert result.error == f"{where}: not page 2 of NW202201072239307540"
    asked = read_page(
        (LONG_2 / "page.html").read_bytes(),
        HTML,
        LONG_URL.replace(".html", "_2.html"),
        parse_article,
        expected=("NW202201072239307540", 2),
    )
    assert asked.page is not None and asked.reason is None
