"""One article page in, one Article out (newsarchive.assemble.read_article), as the live spiders and
reparse both use it: decoding, parsing, merging with the listing row, and every reason there is no
article. No Scrapy: bytes, a header and a URL in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsarchive.assemble import ArticleRead, one_line, read_article
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
