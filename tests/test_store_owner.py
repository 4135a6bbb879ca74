"""One owner of the archive per crawl (issue 15 item 3): the spider, the store pipeline, the run
history and the job lock get the database from :class:`newsarchive.store.owner.CrawlStore`, which
opens and checks it once, with the busy timeout, and disposes of it when the engine stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler
from sqlalchemy import text

from newsarchive import settings as project_settings
from newsarchive.history import RunHistoryExtension
from newsarchive.joblock import JobLockExtension
from newsarchive.store.owner import CrawlStore
from pipelines.store import StorePipeline
from spiders.eastmoney import EastMoneySpider


def crawler_for(db_url: str, tmp_path: Path, **settings: Any) -> Crawler:
    """A crawler of the East Money spider with newsarchive's settings, its spider built as the
    engine builds it (the spider first, then extensions, then pipelines)."""
    values = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}
    values.update(
        NEWSARCHIVE_DATABASE_URL=db_url,
        NEWSARCHIVE_DEADLETTER_DIR=str(tmp_path / "deadletter"),
        NEWSARCHIVE_WARC_ENABLED=False,
        **settings,
    )
    crawler = get_crawler(EastMoneySpider, settings_dict=values)
    crawler.spider = crawler._create_spider(columns="344")
    return crawler


def test_every_component_gets_the_one_owner_of_its_crawl(sqlite_url: str, tmp_path: Path) -> None:
    crawler = crawler_for(sqlite_url, tmp_path, NEWSARCHIVE_DB_BUSY_TIMEOUT=2.0)
    spider = crawler.spider
    assert isinstance(spider, EastMoneySpider)
    owner = CrawlStore.of(crawler)
    lock = JobLockExtension.from_crawler(crawler)
    history = RunHistoryExtension.from_crawler(crawler)
    pipeline = StorePipeline.from_crawler(crawler)
    try:
        assert spider.store is owner and spider.engine is owner.engine
        assert history.store is owner and pipeline.owner is owner
        assert CrawlStore.of(crawler) is owner  # asked again: the same, not opened again
        assert owner.sessions is owner.sessions  # one sessionmaker per crawl, not one per listing page
        # the spider's queries wait for a writer's lock as long as the store does (before, the
        # spider's own engine had the default 30 s whatever NEWSARCHIVE_DB_BUSY_TIMEOUT said)
        with owner.sessions() as session:
            assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 2000
        other = crawler_for(sqlite_url, tmp_path)
        assert CrawlStore.of(other) is not owner  # one per crawl
        CrawlStore.of(other).engine_stopped()
    finally:
        lock.engine_stopped()
        owner.engine_stopped()
    assert owner.engine.pool.checkedout() == 0
