"""A parser exception in a live spider's callback costs that one response: counted under a reason,
logged in one line without a traceback, and the crawl goes on (issue 13 point 6)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

import newsarchive.pages.zqrb
import spiders.declared
import spiders.eastmoney
import spiders.eastmoney_fast
import spiders.zqrb
from newsarchive.pages.model import ListingEntry
from newsarchive.runner import project_settings
from spiders.base import ArchiveSpider

HTML = {"Content-Type": "text/html; charset=utf-8"}
# spider, (module, name) of the listing parser its callback calls, a listing URL, the callback's kwargs
LISTING_PARSERS = [
    pytest.param(
        spiders.eastmoney.EastMoneySpider,
        (spiders.eastmoney, "parse_column_list"),
        "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?column=344&page_index=1",
        {"column": "344", "page": 1},
        id="eastmoney",
    ),
    pytest.param(
        spiders.eastmoney_fast.EastMoneyFastSpider,
        (spiders.eastmoney_fast, "parse_fast_list"),
        "https://np-weblist.eastmoney.com/comm/web/getFastNewsList?sortEnd=",
        {"column": "102", "page": 1},
        id="eastmoney_fast",
    ),
    pytest.param(
        spiders.zqrb.ZqrbSpider,
        (newsarchive.pages.zqrb, "parse_listing"),
        "http://www.zqrb.cn/finance/hangyedongtai/index.html",
        {"column": "finance/hangyedongtai", "page": 1},
        id="zqrb",
    ),
    pytest.param(
        spiders.declared.CnstockSpider,  # type: ignore[attr-defined]  # generated from cnstock.toml
        (spiders.declared, "listing_page"),
        "https://www.cnstock.com/news/sns_yw/index.html",
        {"column": "sns_yw", "page": 1},
        id="declared",
    ),
]


def broken_parser(*args: Any) -> Any:
    raise RuntimeError("a parser bug nobody foresaw\nsecond line of the message")


def build(spider_class: type[ArchiveSpider], sqlite_url: str) -> ArchiveSpider:
    project = project_settings({"NEWSARCHIVE_DATABASE_URL": sqlite_url}).copy_to_dict()
    settings = {name: value for name, value in project.items() if name.startswith("NEWSARCHIVE_")}
    return spider_class.from_crawler(get_crawler(spider_class, settings))


def counted(spider: ArchiveSpider, key: str) -> int:
    assert spider.crawler.stats is not None
    return int(spider.crawler.stats.get_value(f"newsarchive/{key}", 0))


def one_warning(caplog: pytest.LogCaptureFixture) -> str:
    (record,) = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert record.exc_info is None  # no traceback
    message = record.getMessage()
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("spider_class", "parser", "url", "kwargs"), LISTING_PARSERS)
def test_a_listing_parser_exception_is_counted_in_one_line(
    spider_class: type[ArchiveSpider],
    parser: tuple[Any, str],
    url: str,
    kwargs: dict[str, Any],
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(*parser, broken_parser)
    spider = build(spider_class, sqlite_url)
    with caplog.at_level(logging.WARNING):
        produced = list(spider.parse_listing(TextResponse(url, body=b"{}", headers=HTML), **kwargs))  # type: ignore[attr-defined]
    assert produced == []
    assert counted(spider, "listing_error/parser_error") == 1
    assert "RuntimeError: a parser bug nobody foresaw" in one_warning(caplog)
    spider.store.engine_stopped()  # what the engine stopping does: the crawl's owner lets the database go


def test_an_article_parser_exception_drops_that_article_in_one_line(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(spiders.eastmoney, "parse_article", broken_parser)
    spider = build(spiders.eastmoney.EastMoneySpider, sqlite_url)
    url = "https://finance.eastmoney.com/a/202204292366280343.html"
    entry = ListingEntry("202204292366280343", "CMS", "标题", "2022-04-29 15:03:20", None, None, url)
    with caplog.at_level(logging.WARNING):
        assert (
            list(spider.parse_article_page(TextResponse(url, body=b"<html></html>", headers=HTML), entry))
            == []
        )
    assert counted(spider, "dropped/parser_error") == 1
    assert url in one_warning(caplog)
    spider.store.engine_stopped()  # what the engine stopping does: the crawl's owner lets the database go
