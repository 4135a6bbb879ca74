"""Item pipelines as Scrapy builds them: ``get_crawler`` + ``from_crawler``, real stats, real databases.

No mocks: the stats collector is the crawler's own (``get_crawler`` applies the settings, which creates
``crawler.stats``), the store pipeline writes to a real SQLite file or a real PostgreSQL database (the
``db_url`` fixture), and database failures are caused for real (the ``articles`` table is dropped from
another connection while the pipeline is open).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine

from newsarchive import settings as project_settings
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import ArticleRevision, ArticleRow
from newsarchive.items import Article
from newsarchive.pages.eastmoney import parse_article
from newsarchive.text.dates import SHANGHAI
from pipelines.clean import CleanBodyPipeline
from pipelines.dates import NormalizeDatesPipeline
from pipelines.plaintext import PlainTextPipeline
from pipelines.store import StorePipeline
from pipelines.taxonomy import TaxonomyPipeline
from pipelines.validate import ValidatePipeline
from spiders.reparse import ReparseSpider
from tests.conftest import POSTGRES_ADMIN_URL

SEED_CASE = Path(__file__).parent / "pages" / "cases" / "article_seed"
CODE = "NW202204292366280343"
URL = "https://finance.eastmoney.com/a/202204292366280343.html"
PUBLISHED = datetime(2022, 4, 29, 15, 3, 20, tzinfo=SHANGHAI)
FETCHED = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


class CrawlSpider(Spider):
    """A plain spider (no ``replace_existing``), standing in for the listing spiders."""

    name = "pipelinetest"


def raw_article(**changes: Any) -> Article:
    """An item as a spider yields it: raw date and body, no derived fields."""
    item = Article(
        info_code=CODE,
        url=URL,
        feed="eastmoney",
        title="宝藏工厂“论剑”1688",
        published_raw="2022-04-29 15:03:20",
        media="证券日报网",
        summary="摘要",
        body_html="<p>正文第一段</p><p>正文第二段</p>",
    )
    return dataclasses.replace(item, **changes)


def stored_article(number: int, **changes: Any) -> Article:
    """An item as it reaches the store pipeline (every earlier pipeline has run)."""
    item = raw_article(
        info_code=f"NW2022042923662803{number:02d}",
        url=f"https://finance.eastmoney.com/a/2022042923662803{number:02d}.html",
        title=f"标题 {number}",
        published_at=PUBLISHED + timedelta(minutes=number),
        category="zhengquanribaowang",
        tags=["证券日报网新闻"],
        body_html=f"<p>正文 {number}</p>",
        body_text=f"正文 {number}",
        fetched_at=FETCHED,
    )
    return dataclasses.replace(item, **changes)


def crawler_for(spidercls: type[Spider] = CrawlSpider, **settings: Any) -> Crawler:
    """A configured crawler: ``get_crawler`` applies the settings, creating an empty ``crawler.stats``."""
    crawler = get_crawler(spidercls, settings_dict=settings)
    assert crawler.stats.get_stats() == {}
    return crawler


def stats_of(crawler: Crawler) -> dict[str, Any]:
    return crawler.stats.get_stats()


# --- validate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"info_code": "12345"}, "bad_code"),
        ({"info_code": "NW20220429236628034x"}, "bad_code"),
        ({"info_code": ""}, "bad_code"),
        ({"title": None}, "no_title"),
        ({"title": ""}, "no_title"),
        ({"published_raw": None}, "no_date"),
        ({"published_raw": ""}, "no_date"),
        ({"body_html": None}, "no_body"),
        ({"body_html": ""}, "no_body"),
        ({"body_html": " \n\t "}, "no_body"),
    ],
)
def test_validate_drops_incomplete_items(changes: dict[str, Any], reason: str) -> None:
    crawler = crawler_for()
    pipeline = ValidatePipeline.from_crawler(crawler)

    with pytest.raises(DropItem, match=rf"^{reason}"):
        pipeline.process_item(raw_article(**changes))

    assert stats_of(crawler) == {f"newsarchive/dropped/{reason}": 1}


@pytest.mark.parametrize("code", ["202204292366280343", " nw202204292366280343 ", CODE])
def test_validate_canonicalizes_the_code_and_keeps_the_rest(code: str) -> None:
    crawler = crawler_for()
    pipeline = ValidatePipeline.from_crawler(crawler)

    item = pipeline.process_item(raw_article(info_code=code))

    assert item == raw_article(info_code=CODE)
    assert stats_of(crawler) == {}


def test_validate_counts_each_drop() -> None:
    crawler = crawler_for()
    pipeline = ValidatePipeline.from_crawler(crawler)
    for changes in ({"title": None}, {"title": None}, {"info_code": "x"}):
        with pytest.raises(DropItem):
            pipeline.process_item(raw_article(**changes))

    assert stats_of(crawler) == {"newsarchive/dropped/no_title": 2, "newsarchive/dropped/bad_code": 1}


# --- plain text -----------------------------------------------------------------------------------


def test_plain_text_cleans_every_short_field_and_counts_markup() -> None:
    crawler = crawler_for()
    pipeline = PlainTextPipeline.from_crawler(crawler)
    item = raw_article(
        title="\u202e看涨<img src=x onerror=alert(1)//",
        media="证券日报网<scr<script>ipt>",
        author="  记者\n张三 ",
        summary="PMI<50，A股>B股\u200b",
        section="<b>宏观</b>经济",
        category="zhengquanribaowang",
        tags=["证券日报网新闻", "<svg onload=alert(1)>", "宏观\u2066经济"],
    )

    cleaned = pipeline.process_item(item)

    assert (cleaned.title, cleaned.media, cleaned.author) == ("看涨", "证券日报网", "记者 张三")
    assert (cleaned.summary, cleaned.section) == ("PMI<50，A股>B股", "宏观经济")
    assert cleaned.tags == ["证券日报网新闻", "宏观经济"]
    assert cleaned.body_html == raw_article().body_html  # the body is the cleaner's (CleanBodyPipeline)
    assert stats_of(crawler) == {
        f"newsarchive/cleaned/markup_in_{name}": count
        for name, count in [("title", 1), ("media", 1), ("summary", 1), ("section", 1), ("tags", 2)]
    }


def test_plain_text_runs_first_so_an_all_markup_title_drops_as_no_title() -> None:
    order = project_settings.ITEM_PIPELINES
    assert min(order, key=lambda name: order[name]) == "pipelines.plaintext.PlainTextPipeline"
    crawler = crawler_for()
    item = PlainTextPipeline.from_crawler(crawler).process_item(raw_article(title="<img src=x onerror=1>"))
    with pytest.raises(DropItem, match=r"^no_title"):
        ValidatePipeline.from_crawler(crawler).process_item(item)


# --- clean ----------------------------------------------------------------------------------------


def test_clean_turns_the_seed_page_body_into_paragraphs() -> None:
    page = parse_article((SEED_CASE / "page.html").read_text(encoding="utf-8"), URL)
    assert page.body_html is not None and 'class="em_media"' in page.body_html
    crawler = crawler_for()
    pipeline = CleanBodyPipeline.from_crawler(crawler)

    item = pipeline.process_item(raw_article(body_html=page.body_html, summary="  摘要  "))

    assert item.body_html is not None and item.body_text is not None
    paragraphs = item.body_text.split("\n")
    assert len(paragraphs) == 32
    headings = ("定制赛道助破冰", "M2C能力养成")  # the only markup kept: two bold subheadings
    expected_html = "".join(
        f"<p><strong>{p}</strong></p>" if p in headings else f"<p>{p}</p>" for p in paragraphs
    )
    assert item.body_html == expected_html
    assert [p for p in paragraphs if p in headings] == list(headings)
    assert paragraphs[0] == (
        "订单锐减、原材料价格上涨、物流配送放缓，一道道难关摆在了源头工厂企业主的面前，"
        "是躺平任由情况恶化，还是寻求突破逆境求生……"
    )
    assert paragraphs[-1].startswith("“有前瞻性的商家们已经在不懈地优化工厂产品线")
    for boilerplate in ("em_media", "文章来源", "责任编辑", "扫一扫", "display:none", "<div", "class="):
        assert boilerplate not in item.body_html
    assert item.summary == "摘要"
    assert stats_of(crawler) == {
        f"newsarchive/cleaned/{kind}": 1
        for kind in ("ad", "editor_line", "promo", "share_text", "source_line", "spacer")
    }


@pytest.mark.parametrize(
    ("body", "removed"),
    [
        (
            '<p class="em_media">（文章来源：证券日报网）</p><p style="display:none"><br></p>',
            ["source_line", "spacer"],
        ),
        ("<script>render()</script><p>\u3000 </p>", []),
    ],
)
def test_clean_drops_a_body_that_cleans_to_nothing(body: str, removed: list[str]) -> None:
    crawler = crawler_for()
    pipeline = CleanBodyPipeline.from_crawler(crawler)

    with pytest.raises(DropItem, match=r"^empty_body"):
        pipeline.process_item(raw_article(body_html=body))

    expected = {f"newsarchive/cleaned/{kind}": 1 for kind in removed}
    assert stats_of(crawler) == {**expected, "newsarchive/dropped/empty_body": 1}


def test_clean_drops_a_body_over_the_size_limit_before_cleaning_it() -> None:
    crawler = crawler_for(NEWSARCHIVE_MAX_BODY_CHARS=1000)
    pipeline = CleanBodyPipeline.from_crawler(crawler)
    assert pipeline.process_item(raw_article(body_html="<p>正文</p>" * 100)).body_text  # 900 characters
    with pytest.raises(DropItem, match=r"^body_too_large"):
        pipeline.process_item(raw_article(body_html="<p>正文</p>" * 112))
    assert stats_of(crawler) == {"newsarchive/dropped/body_too_large": 1}


def test_clean_counts_boilerplate_kinds_across_items() -> None:
    crawler = crawler_for()
    pipeline = CleanBodyPipeline.from_crawler(crawler)
    source = '<p>正文</p><p class="em_media">（文章来源：证券日报网）</p>'
    for _ in range(3):
        item = pipeline.process_item(raw_article(body_html=source))
        assert (item.body_html, item.body_text) == ("<p>正文</p>", "正文")

    assert stats_of(crawler) == {"newsarchive/cleaned/source_line": 3}


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2022-04-29 15:03:20", "2022年04月29日 15:03:20", "2022-04-29T07:03:20Z"])
def test_dates_become_shanghai_aware(raw: str) -> None:
    crawler = crawler_for()
    pipeline = NormalizeDatesPipeline.from_crawler(crawler)

    item = pipeline.process_item(raw_article(published_raw=raw))

    assert item.published_at is not None
    assert item.published_at.isoformat() == "2022-04-29T15:03:20+08:00"
    assert item.published_at.utcoffset() == timedelta(hours=8)
    assert item.published_at == PUBLISHED
    assert item.published_raw == raw
    assert stats_of(crawler) == {}


@pytest.mark.parametrize(
    "raw",
    [
        "not a date",
        "",
        "2022-02-30 10:00",
        "1989-12-31 23:59",
        "2999-01-01 00:00:00",
        "2999-01-01 00:00:00",
    ],
)
def test_implausible_dates_drop(raw: str) -> None:
    crawler = crawler_for()
    pipeline = NormalizeDatesPipeline.from_crawler(crawler)

    with pytest.raises(DropItem, match=rf"^bad_date: {CODE}: "):
        pipeline.process_item(raw_article(published_raw=raw))

    assert stats_of(crawler) == {"newsarchive/dropped/bad_date": 1}


# --- taxonomy -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feed", "media", "expected"),
    [
        ("eastmoney", "证券日报网", ("证券日报网", "zhengquanribaowang", ["证券日报网新闻"])),
        ("eastmoney", " 证券日报网\n", ("证券日报网", "zhengquanribaowang", ["证券日报网新闻"])),
        ("eastmoney", "财联社", ("财联社", "cailianshe", ["财联社新闻"])),
        ("eastmoney_fast", "证券日报网", ("证券日报网", "emnews", ["东财滚动新闻"])),
        ("eastmoney_fast", None, (None, "emnews", ["东财滚动新闻"])),
        ("eastmoney", None, (None, "unknown", [])),
        ("eastmoney", "", ("", "unknown", [])),
    ],
)
def test_taxonomy(feed: str, media: str | None, expected: tuple[str | None, str, list[str]]) -> None:
    crawler = crawler_for()
    pipeline = TaxonomyPipeline.from_crawler(crawler)

    item = pipeline.process_item(raw_article(feed=feed, media=media, tags=["stale"]))

    assert (item.media, item.category, item.tags) == expected
    assert stats_of(crawler) == {}


# --- store ----------------------------------------------------------------------------------------
# The pipeline is driven the way Scrapy drives it on the asyncio reactor: its coroutines run on an
# event loop (asyncio.run here) and its batches are written in a worker thread.


@pytest.fixture
def deadletter_dir(tmp_path: Path) -> Path:
    return tmp_path / "deadletter"


def open_store(
    db_url: str,
    deadletter_dir: Path,
    spider: type[Spider] = CrawlSpider,
    *,
    settings: dict[str, Any] | None = None,
    **spider_args: Any,
) -> tuple[Crawler, StorePipeline]:
    """A StorePipeline opened the way the engine opens it: from the crawler, with ``crawler.spider`` set."""
    crawler = crawler_for(
        spider,
        **{
            "NEWSARCHIVE_DATABASE_URL": db_url,
            "NEWSARCHIVE_STORE_BATCH_SIZE": 2,
            "NEWSARCHIVE_DEADLETTER_DIR": str(deadletter_dir),
            **(settings or {}),
        },
    )
    crawler.spider = crawler._create_spider(**spider_args)
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return crawler, pipeline


def feed(pipeline: StorePipeline, items: list[Article], *, close: bool = True) -> None:
    """Pass items through the pipeline (each comes out unchanged), then close it."""

    async def scenario() -> None:
        for item in items:
            assert await pipeline.process_item(item) is item
        if close:
            await pipeline.close_spider()

    asyncio.run(scenario())


@pytest.fixture
def archive(db_url: str) -> Iterator[Engine]:
    """A second, independent connection to the test database (schema created on open)."""
    engine = open_database(db_url)
    yield engine
    engine.dispose()


def rows(engine: Engine) -> dict[str, ArticleRow]:
    with session_factory(engine)() as session:
        return {row.info_code: row for row in session.scalars(select(ArticleRow))}


def revisions(engine: Engine) -> list[tuple[str, str, datetime, str]]:
    with session_factory(engine)() as session:
        return [
            (r.info_code, r.title, r.fetched_at, r.reason)
            for r in session.scalars(select(ArticleRevision).order_by(ArticleRevision.id))
        ]


CORRECTED = FETCHED + timedelta(hours=1)


def five_items() -> list[Article]:
    """Five items over three batches of two; the fourth is a corrected version of the first."""
    return [
        stored_article(1),
        stored_article(2),
        stored_article(3),
        stored_article(1, title="改过的标题", fetched_at=CORRECTED),
        stored_article(4),
    ]


def test_store_batches_dedups_and_flushes_the_tail(
    db_url: str, deadletter_dir: Path, archive: Engine
) -> None:
    crawler, pipeline = open_store(db_url, deadletter_dir)
    items = five_items()

    feed(pipeline, items[:4], close=False)
    # two full batches are written; nothing waits
    assert sorted(rows(archive)) == [stored_article(n).info_code for n in (1, 2, 3)]
    assert pipeline.store.pending == []
    feed(pipeline, items[4:], close=False)
    assert pipeline.store.pending == [items[4]]  # the fifth item waits for the spider to close
    feed(pipeline, [])

    stored = rows(archive)
    assert sorted(stored) == [stored_article(n).info_code for n in (1, 2, 3, 4)]
    first = stored[stored_article(1).info_code]
    assert first.title == "改过的标题"  # the later fetch is the current version ...
    assert revisions(archive) == [(first.info_code, "标题 1", FETCHED, "fetch")]  # ... the first is kept
    assert (first.published_at, first.tags, first.body_text) == (
        PUBLISHED + timedelta(minutes=1),
        ["证券日报网新闻"],
        "正文 1",
    )
    assert first.published_at.isoformat() == "2022-04-29T15:04:20+08:00"
    assert (first.first_seen_at, first.fetched_at, first.last_seen_at) == (FETCHED, CORRECTED, CORRECTED)
    # article 1 was new, then revised in a later batch: one new article, not a new and a revised one
    assert stats_of(crawler) == {
        "newsarchive/stored/new": 4,
        "newsarchive/stored/revised": 1,
        "newsarchive/articles/new": 4,
    }
    assert not deadletter_dir.exists()


@pytest.mark.parametrize("seconds", [0.2, 0.0])
def test_store_writes_a_batch_once_its_oldest_item_has_waited_long_enough(
    db_url: str, deadletter_dir: Path, archive: Engine, seconds: float
) -> None:
    # a slow crawl fills a batch slowly: with a time bound, what it fetched is committed while it
    # runs (a killed crawl loses less); without one (0), it waits for a full batch or the close
    crawler, pipeline = open_store(
        db_url,
        deadletter_dir,
        settings={"NEWSARCHIVE_STORE_BATCH_SIZE": 50, "NEWSARCHIVE_STORE_BATCH_SECONDS": seconds},
    )
    written: list[list[str]] = []

    async def scenario() -> None:
        for number in (1, 2):
            await pipeline.process_item(stored_article(number))
        # up to 5 s for the write on a loaded machine; 0 gets 1 s, five times the 0.2 s deadline
        for _ in range(100 if seconds else 20):
            await asyncio.sleep(0.05)
            if rows(archive):
                break
        written.append(sorted(rows(archive)))
        await pipeline.process_item(stored_article(3))  # a new batch, its own deadline
        await pipeline.close_spider()

    asyncio.run(scenario())
    codes = [stored_article(number).info_code for number in (1, 2, 3)]
    assert written == [codes[:2] if seconds else []]
    assert sorted(rows(archive)) == codes
    assert stats_of(crawler) == {"newsarchive/stored/new": 3, "newsarchive/articles/new": 3}


def test_store_second_run_with_the_same_items_stores_nothing_new(
    db_url: str, deadletter_dir: Path, archive: Engine
) -> None:
    _, first = open_store(db_url, deadletter_dir)
    feed(first, five_items())
    before = {code: (row.id, row.title, row.fetched_at) for code, row in rows(archive).items()}

    crawler, pipeline = open_store(db_url, deadletter_dir)
    feed(pipeline, five_items())

    # the first version of article 1 is older than the stored one: history already has it
    # five versions of four articles: each article is already stored once (issue 14)
    assert stats_of(crawler) == {
        "newsarchive/stored/unchanged": 4,
        "newsarchive/stored/stale_version": 1,
        "newsarchive/articles/unchanged": 4,
    }
    assert {code: (row.id, row.title, row.fetched_at) for code, row in rows(archive).items()} == before
    assert len(revisions(archive)) == 1


def test_store_unchanged_refetch_only_moves_last_seen(
    db_url: str, deadletter_dir: Path, archive: Engine
) -> None:
    _, first = open_store(db_url, deadletter_dir)
    feed(first, [stored_article(1)])
    later = FETCHED + timedelta(days=2)
    crawler, pipeline = open_store(db_url, deadletter_dir)
    feed(pipeline, [stored_article(1, fetched_at=later, summary="别的摘要")])

    row = rows(archive)[stored_article(1).info_code]
    assert (row.first_seen_at, row.fetched_at, row.last_seen_at) == (FETCHED, FETCHED, later)
    assert row.summary == "摘要"  # not a revision: nothing but last_seen_at moves
    assert revisions(archive) == []
    assert stats_of(crawler) == {"newsarchive/stored/unchanged": 1, "newsarchive/articles/unchanged": 1}


def test_store_rewrites_rows_for_a_replace_existing_spider(
    db_url: str, deadletter_dir: Path, tmp_path: Path, archive: Engine
) -> None:
    crawler, pipeline = open_store(db_url, deadletter_dir)
    feed(pipeline, [stored_article(1)])
    assert pipeline.store.writer is not None and pipeline.store.writer.replace is False

    later = FETCHED + timedelta(days=3)
    reparsed = stored_article(
        1, title="重新解析的标题", body_html="<p>新正文</p>", body_text="新正文", tags=["x"], fetched_at=later
    )
    # the real reparse spider declares replace_existing = True; its WARC argument is not read here
    crawler, pipeline = open_store(db_url, deadletter_dir, ReparseSpider, warc=str(tmp_path / "a.warc.gz"))
    assert pipeline.store.writer is not None and pipeline.store.writer.replace is True
    feed(pipeline, [reparsed, stored_article(2)])

    stored = rows(archive)
    assert sorted(stored) == [stored_article(1).info_code, stored_article(2).info_code]
    row = stored[stored_article(1).info_code]
    assert (row.title, row.body_html, row.body_text, row.tags) == (
        "重新解析的标题",
        "<p>新正文</p>",
        "新正文",
        ["x"],
    )
    assert (row.first_seen_at, row.last_seen_at) == (FETCHED, later)
    assert revisions(archive) == [(row.info_code, "标题 1", FETCHED, "reparse")]
    assert stats_of(crawler) == {
        "newsarchive/stored/revised": 1,
        "newsarchive/stored/new": 1,
        "newsarchive/articles/revised": 1,
        "newsarchive/articles/new": 1,
    }


def test_store_fits_hostile_values_the_same_on_every_database(
    db_url: str, deadletter_dir: Path, archive: Engine
) -> None:
    crawler, pipeline = open_store(db_url, deadletter_dir)
    hostile = stored_article(
        1,
        author="记" * 300,
        media="来" * 200,
        published_raw="2" * 80,
        title="标\x00题",
        body_text="正\x00文",
        tags=["证券\x00日报"],
    )
    feed(pipeline, [hostile])

    row = rows(archive)[stored_article(1).info_code]
    assert (row.author, row.media, row.published_raw) == ("记" * 255 + "…", "来" * 127 + "…", "2" * 63 + "…")
    assert (row.title, row.body_text, row.tags) == ("标题", "正文", ["证券日报"])
    assert stats_of(crawler) == {
        "newsarchive/stored/new": 1,
        "newsarchive/fitted_fields": 6,
        "newsarchive/articles/new": 1,
    }
    assert not deadletter_dir.exists()


def dead_letters(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def test_store_failure_mid_crawl_dead_letters_every_pending_item(
    db_url: str, deadletter_dir: Path, archive: Engine
) -> None:
    crawler, pipeline = open_store(db_url, deadletter_dir, settings={"NEWSARCHIVE_DB_RETRY_SECONDS": 1})
    items = [stored_article(n) for n in range(1, 6)]
    feed(pipeline, items[:2], close=False)  # first batch written
    assert sorted(rows(archive)) == [items[0].info_code, items[1].info_code]

    with archive.begin() as connection:  # the database loses the table under the running crawl
        connection.execute(text("DROP TABLE article_revisions"))
        connection.execute(text("DROP TABLE articles"))
    feed(pipeline, items[2:])  # a failed batch never raises into the engine, nor does the failed tail

    files = sorted(deadletter_dir.glob("*.jsonl"))
    assert len(files) == 1 and files[0].name.startswith("pipelinetest-")
    records = dead_letters(deadletter_dir)
    assert [record["info_code"] for record in records] == [item.info_code for item in items[2:]]
    for record, item in zip(records, items[2:], strict=True):
        assert record["kind"] == "article"
        assert record["title"] == item.title
        assert record["body_html"] == item.body_html
        assert record["tags"] == ["证券日报网新闻"]
        assert datetime.fromisoformat(record["published_at"]) == item.published_at
        assert datetime.fromisoformat(record["fetched_at"]) == FETCHED
    stats = stats_of(crawler)
    assert (stats["newsarchive/stored/new"], stats["newsarchive/deadletter"]) == (2, 3)
    assert pipeline.store.pending == []


def test_store_retries_a_locked_sqlite_database_until_it_is_free(
    sqlite_url: str, deadletter_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive = open_database(sqlite_url)
    archive.dispose()
    crawler, pipeline = open_store(
        sqlite_url,
        deadletter_dir,
        settings={"NEWSARCHIVE_DB_BUSY_TIMEOUT": 0.1, "NEWSARCHIVE_DB_RETRY_SECONDS": 30},
    )
    holder = sqlite3.connect(
        sqlite_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction

    path = sqlite_url.removeprefix("sqlite:///")

    def writer_opened_the_archive() -> bool:
        child = pipeline.store.writer._child if pipeline.store.writer is not None else None
        try:
            return child is not None and any(
                os.readlink(f"/proc/{child.pid}/fd/{fd}") == path
                for fd in os.listdir(f"/proc/{child.pid}/fd")
            )
        except OSError:  # not started yet, or one of its descriptors closed just then
            return False

    def release_after_the_store_met_it() -> None:
        # ... ends a second after the writer process opened the archive: by then it has met the
        # lock (0.1 s busy timeout) and is retrying. A fixed delay from the test's start raced a
        # slow machine: the writer could start after the lock was gone and never retry.
        deadline = time.monotonic() + 25
        while not writer_opened_the_archive() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(1.0)
        holder.rollback()

    async def scenario() -> None:
        for item in [stored_article(1), stored_article(2), stored_article(3)]:
            await pipeline.process_item(item)
        await pipeline.close_spider()

    release = threading.Thread(target=release_after_the_store_met_it)
    release.start()
    asyncio.run(scenario())
    release.join()
    holder.close()
    engine = open_database(sqlite_url)
    assert sorted(rows(engine)) == [stored_article(n).info_code for n in (1, 2, 3)]
    engine.dispose()
    stats = stats_of(crawler)
    assert stats["newsarchive/stored/new"] == 3
    assert stats["newsarchive/db_retries"] >= 1
    assert "newsarchive/deadletter" not in stats
    assert not deadletter_dir.exists()
    # logged in the writer process, relayed to the crawl's logger of the same name
    retried = [
        r for r in caplog.records if r.name == "newsarchive.db.writer" and "retrying" in r.getMessage()
    ]
    assert retried and retried[0].levelname == "WARNING"


def test_store_dead_letters_everything_after_its_writer_process_died(
    db_url: str, deadletter_dir: Path, archive: Engine
) -> None:
    crawler, pipeline = open_store(db_url, deadletter_dir)
    items = [stored_article(n) for n in range(1, 6)]
    feed(pipeline, items[:2], close=False)  # first batch written
    assert pipeline.store.writer is not None
    pipeline.store.writer._child.kill()  # the OOM killer, say
    pipeline.store.writer._child.wait()
    feed(pipeline, items[2:])  # never raises into the engine
    assert sorted(rows(archive)) == [items[0].info_code, items[1].info_code]
    assert [record["info_code"] for record in dead_letters(deadletter_dir)] == [
        item.info_code for item in items[2:]
    ]
    assert (stats_of(crawler)["newsarchive/stored/new"], stats_of(crawler)["newsarchive/deadletter"]) == (
        2,
        3,
    )


def test_a_run_with_nothing_to_store_starts_no_writer_process(db_url: str, deadletter_dir: Path) -> None:
    _, pipeline = open_store(db_url, deadletter_dir)
    feed(pipeline, [])  # a quiet five-minute run
    assert pipeline.store.writer is not None and pipeline.store.writer._child is None


def test_the_writer_process_ends_with_the_crawl_process_killed(sqlite_url: str, tmp_path: Path) -> None:
    # a crawl SIGKILLed never closes its store: its writer must not live on, holding the database
    script = tmp_path / "crawl.py"
    script.write_text(
        "import sys, time\n"
        "from datetime import timedelta\n"
        "from newsarchive.db.writer_process import WriterProcess\n"
        "from newsarchive.store.config import StoreConfig\n"
        f"writer = WriterProcess(StoreConfig({sqlite_url!r}, 1.0, retry_seconds=1.0))\n"
        "writer.write([], [])\n"  # the first batch starts it
        "print(writer._child.pid, flush=True)\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    crawl = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert crawl.stdout is not None
    child = int(crawl.stdout.readline())
    os.kill(child, 0)  # it is running
    crawl.kill()
    crawl.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.05)
    assert not _running(child)


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an exited child not yet reaped by init)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_store_gives_up_on_an_unreachable_postgresql_and_keeps_everything(
    postgres_url: str, deadletter_dir: Path
) -> None:
    crawler, pipeline = open_store(postgres_url, deadletter_dir, settings={"NEWSARCHIVE_DB_RETRY_SECONDS": 2})
    items = [stored_article(n) for n in range(1, 6)]
    feed(pipeline, items[:2], close=False)
    with unreachable(postgres_url):  # the server refuses the database from now on
        feed(pipeline, items[2:])
    assert pipeline.store.unavailable is not None and "database unavailable" in pipeline.store.unavailable
    assert [record["info_code"] for record in dead_letters(deadletter_dir)] == [
        item.info_code for item in items[2:]
    ]
    stats = stats_of(crawler)
    assert (stats["newsarchive/stored/new"], stats["newsarchive/deadletter"]) == (2, 3)
    assert stats["newsarchive/db_retries"] >= 1


@contextmanager
def unreachable(url: str) -> Iterator[None]:
    """Refuse new connections to the test database and cut the open ones, then allow them again."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
