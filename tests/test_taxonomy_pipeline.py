"""Canonical media names where items and listings meet them: the taxonomy pipeline and the
``eastmoney`` spider's ``media`` filter, built the way Scrapy builds them (``get_crawler``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from newsarchive.items import Article
from newsarchive.text import media
from newsarchive.text.media import MediaTableError
from pipelines.taxonomy import TaxonomyPipeline
from spiders.eastmoney import COLUMN_LIST_URL, EastMoneySpider

WARNING_TAIL = "add it to newsarchive/data/media.toml"


class CrawlSpider(Spider):
    name = "taxonomytest"


def pipeline_for() -> tuple[Crawler, TaxonomyPipeline]:
    crawler = get_crawler(CrawlSpider)
    return crawler, TaxonomyPipeline.from_crawler(crawler)


def article(number: int, media: str | None, feed: str = "eastmoney") -> Article:
    code = f"20220429236628{number:04d}"
    return Article(
        info_code=f"NW{code}",
        url=f"https://finance.eastmoney.com/a/{code}.html",
        feed=feed,
        title=f"标题 {number}",
        media=media,
        tags=["stale"],
    )


def unknown_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "pipelines.taxonomy" and record.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        ("证券日报", ("证券日报网", "zhengquanribaowang", ["证券日报网新闻"])),
        (" 证券日报网\n", ("证券日报网", "zhengquanribaowang", ["证券日报网新闻"])),
        ("e公司", ("证券时报网", "zhengquanshibaowang", ["证券时报网新闻"])),
        ("证券时报·e公司", ("证券时报网", "zhengquanshibaowang", ["证券时报网新闻"])),
        ("上海证券报·中国证券网", ("上海证券报", "shanghaizhengquanbao", ["上海证券报新闻"])),
        ("中证网", ("中国证券报", "zhongguozhengquanbao", ["中国证券报新闻"])),
        ("新华网", ("新华社", "xinhuashe", ["新华社新闻"])),
        ("央视新闻客户端", ("央视新闻", "yangshixinwen", ["央视新闻新闻"])),
        ("", ("", "unknown", [])),
        (None, (None, "unknown", [])),
    ],
)
def test_aliases_are_stored_under_the_canonical_name(
    media: str | None, expected: tuple[str | None, str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    crawler, pipeline = pipeline_for()

    item = pipeline.process_item(article(1, media))

    assert (item.media, item.category, item.tags) == expected
    assert crawler.stats.get_stats() == {}
    assert unknown_warnings(caplog) == []


def test_an_unknown_outlet_is_reported_once_per_crawl_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    crawler, pipeline = pipeline_for()
    caplog.set_level(logging.WARNING, logger="pipelines.taxonomy")

    items = [
        pipeline.process_item(article(number, media, feed))
        for number, (media, feed) in enumerate(
            [
                ("新浪财经", "eastmoney"),
                (" 新浪财经 ", "eastmoney"),
                ("证券日报", "eastmoney"),
                ("新浪财经", "eastmoney_fast"),
                ("Wind资讯", "eastmoney_fast"),
                ("Wind资讯", "eastmoney"),
            ]
        )
    ]

    assert [(item.media, item.category) for item in items] == [
        ("新浪财经", "xinlangcaijing"),
        ("新浪财经", "xinlangcaijing"),
        ("证券日报网", "zhengquanribaowang"),
        ("新浪财经", "emnews"),
        ("Wind资讯", "emnews"),
        ("Wind资讯", "windzixun"),
    ]
    assert items[0].tags == ["新浪财经新闻"]
    assert unknown_warnings(caplog) == [
        f"unknown media outlet '新浪财经' (slug 'xinlangcaijing'): {WARNING_TAIL}",
        f"unknown media outlet 'Wind资讯' (slug 'windzixun'): {WARNING_TAIL}",
    ]
    assert crawler.stats.get_stats() == {"newsarchive/unknown_media": 2}


def test_each_crawl_reports_its_unknown_outlets_afresh(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pipelines.taxonomy")
    for _ in range(2):
        crawler, pipeline = pipeline_for()
        pipeline.process_item(article(1, "新浪财经"))
        pipeline.process_item(article(2, "新浪财经"))
        assert crawler.stats.get_stats() == {"newsarchive/unknown_media": 1}
    assert len(unknown_warnings(caplog)) == 2


@pytest.mark.parametrize("media", ["财联社", "证券日报", "新浪财经", None])
def test_the_fast_feed_stays_emnews_whatever_the_outlet(media: str | None) -> None:
    _, pipeline = pipeline_for()

    item = pipeline.process_item(article(1, media, feed="eastmoney_fast"))

    assert (item.category, item.tags) == ("emnews", ["东财滚动新闻"])


def test_a_broken_media_table_stops_the_pipeline_from_being_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "media.toml"
    broken.write_text('[[outlet]]\nname = "甲报"\nslug = "Jia-Bao"\n', encoding="utf-8")
    monkeypatch.setattr(media, "MEDIA_TABLE_FILE", broken)
    media.media_table.cache_clear()
    try:
        with pytest.raises(MediaTableError, match=r"media.toml: outlet #1 \('甲报'\): slug 'Jia-Bao'"):
            pipeline_for()
    finally:
        media.media_table.cache_clear()


# --- the eastmoney spider's media filter ----------------------------------------------------------

LISTED = {
    "202204292366280001": "证券日报网",
    "202204292366280002": "证券日报",
    "202204292366280003": " 证券日报网 ",
    "202204292366280004": "财联社",
    "202204292366280005": "证券时报",
    "202204292366280006": "新浪财经",
}


@pytest.fixture
def listing() -> TextResponse:
    rows = [
        {
            "code": code,
            "np_dst": "CMS",
            "showTime": "2022-04-29 15:03:20",
            "title": "标题",
            "mediaName": media,
        }
        for code, media in LISTED.items()
    ]
    body = {"code": 1, "message": "success", "data": {"page_index": 1, "totle_hits": len(rows), "list": rows}}
    return TextResponse(
        f"{COLUMN_LIST_URL}?column=344",
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


@pytest.fixture
def make_spider(sqlite_url: str) -> Iterator[Any]:
    spiders: list[EastMoneySpider] = []

    def make(**arguments: str) -> EastMoneySpider:
        crawler = get_crawler(EastMoneySpider, settings_dict={"NEWSARCHIVE_DATABASE_URL": sqlite_url})
        spider = crawler._create_spider(**arguments)
        assert isinstance(spider, EastMoneySpider)
        spiders.append(spider)
        return spider

    yield make
    for spider in spiders:
        spider.store.engine_stopped()  # the crawl's owner of the database lets it go


def followed(spider: EastMoneySpider, response: TextResponse) -> set[str]:
    requests = list(spider.parse_listing(response, column="344", page=1))
    assert all(isinstance(request, Request) for request in requests)
    return {request.url.rsplit("/", 1)[1].removesuffix(".html") for request in requests}


@pytest.mark.parametrize(
    ("media", "kept"),
    [
        ("证券日报", {"202204292366280001", "202204292366280002", "202204292366280003"}),
        ("证券日报网", {"202204292366280001", "202204292366280002", "202204292366280003"}),
        ("e公司,财联社", {"202204292366280004", "202204292366280005"}),
        ("新浪财经", {"202204292366280006"}),  # an outlet not in the table still matches by name
        (None, set(LISTED)),  # no filter given: every outlet
    ],
)
def test_the_media_filter_compares_canonical_names(
    make_spider: Any, listing: TextResponse, media: str | None, kept: set[str]
) -> None:
    spider = make_spider() if media is None else make_spider(media=media)

    assert followed(spider, listing) == kept
    skipped = spider.crawler.stats.get_value("newsarchive/skipped/other_media", 0)
    assert skipped == len(LISTED) - len(kept)


@pytest.mark.parametrize("media", ["", " , "])
def test_an_empty_media_filter_is_an_error_not_everything(make_spider: Any, media: str) -> None:
    with pytest.raises(ValueError, match="spider argument media is empty"):
        make_spider(media=media)


@pytest.mark.parametrize(
    ("feed", "media", "section", "tags"),
    [
        ("zqrb", "证券日报", "宏观经济", ["证券日报网新闻", "宏观经济"]),
        ("zqrb", "证券日报网", " 行业\n动态 ", ["证券日报网新闻", "行业 动态"]),
        ("zqrb", "证券日报网", "证券日报网新闻", ["证券日报网新闻"]),  # the same as the media tag: once
        ("zqrb", "证券日报网", None, ["证券日报网新闻"]),
        ("zqrb", None, "宏观经济", ["宏观经济"]),
        ("eastmoney_fast", "证券日报网", "宏观经济", ["东财滚动新闻"]),  # 7x24 posts keep their one tag
    ],
)
def test_the_site_section_is_kept_as_a_tag(
    feed: str, media: str | None, section: str | None, tags: list[str]
) -> None:
    _, pipeline = pipeline_for()
    item = article(1, media, feed=feed)
    item.section = section

    assert pipeline.process_item(item).tags == tags
