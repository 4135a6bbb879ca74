"""The log formatter: one-line item messages, and no per-page or per-item DEBUG record unless asked."""

from __future__ import annotations

import logging

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from newsarchive.items import COLUMN_FEED, Article
from newsarchive.logformatter import ArchiveLogFormatter, debug_enabled

URL = "http://finance.eastmoney.com/a/202112082216281234.html"
BODY = "<p>北向资金今日净流入超40亿元，其中沪股通净流入25亿元。</p>" * 50


@pytest.mark.parametrize(
    ("level", "enabled", "expected"),
    [("DEBUG", True, True), ("debug", True, True), (logging.DEBUG, True, True), ("INFO", True, False),
     ("WARNING", True, False), (logging.ERROR, True, False), ("DEBUG", False, False)],
)  # fmt: skip
def test_debug_enabled_reads_level_names_and_numbers(level: str | int, enabled: bool, expected: bool) -> None:
    assert debug_enabled(level, enabled) is expected


def _formatter(level: str) -> tuple[ArchiveLogFormatter, Spider]:
    crawler = get_crawler(Spider, {"LOG_LEVEL": level})
    return ArchiveLogFormatter.from_crawler(crawler), Spider.from_crawler(crawler, "eastmoney")


def _page() -> tuple[Request, HtmlResponse, Article]:
    request = Request(URL)
    response = HtmlResponse(URL, body=BODY.encode(), encoding="utf-8", request=request)
    article = Article(info_code="NW202112082216281234", url=URL, feed=COLUMN_FEED, body_html=BODY)
    return request, response, article


def test_above_debug_no_page_or_item_line_is_made_but_drops_still_are() -> None:
    formatter, spider = _formatter("INFO")
    request, response, article = _page()
    assert formatter.crawled(request, response, spider) is None
    assert formatter.scraped(article, response, spider) is None
    dropped = formatter.dropped(article, ValueError("no body"), response, spider)
    assert dropped["msg"] % dropped["args"] == f"Dropped article {URL}: no body"


def test_at_debug_an_item_is_one_line_with_its_code_not_its_body() -> None:
    formatter, spider = _formatter("DEBUG")
    request, response, article = _page()
    crawled = formatter.crawled(request, response, spider)
    assert crawled is not None and crawled["level"] == logging.DEBUG
    scraped = formatter.scraped(article, response, spider)
    assert scraped is not None
    line = scraped["msg"] % scraped["args"]
    assert line == f"Scraped Article NW202112082216281234 {URL} from <200 {URL}>"
    assert "北向资金" not in line
