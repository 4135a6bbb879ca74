"""Store: batched upserts into the archive database, deduplicated by ``info_code`` in the database.

Settings: ``NEWSARCHIVE_DATABASE_URL``, ``NEWSARCHIVE_STORE_BATCH_SIZE``, ``NEWSARCHIVE_DEADLETTER_DIR``,
``NEWSARCHIVE_NEAR_DUPLICATE_HOURS`` (window for near-duplicate linking; 0 turns it off).
A spider with ``replace_existing = True`` (reparse) rewrites stored rows instead of keeping them.
If a batch cannot be written, its items go to a dead-letter JSON Lines file: nothing is lost silently.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from newsarchive.db.duplicates import link_near_duplicates
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import ARTICLE_FIELDS
from newsarchive.db.repository import claim_for_feed, store_articles
from newsarchive.export.records import article_record
from newsarchive.items import Article, FeedClaim

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(
        self, crawler: Crawler, url: str, batch_size: int, deadletter_dir: Path, near_duplicate_hours: float
    ) -> None:
        self.crawler = crawler
        self.near_duplicate_window = timedelta(hours=near_duplicate_hours)
        self.url = url
        self.batch_size = max(1, batch_size)
        self.deadletter_dir = deadletter_dir
        self.stats: StatsCollector | None = crawler.stats
        self.engine: Engine | None = None
        self.replace = False
        self.pending: list[Article] = []
        self.claims: list[FeedClaim] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            settings.get("NEWSARCHIVE_DATABASE_URL"),
            settings.getint("NEWSARCHIVE_STORE_BATCH_SIZE"),
            Path(settings.get("NEWSARCHIVE_DEADLETTER_DIR")),
            settings.getfloat("NEWSARCHIVE_NEAR_DUPLICATE_HOURS"),
        )

    def open_spider(self, spider: Spider | None = None) -> None:
        self.engine = open_database(self.url)
        self.replace = bool(getattr(self.crawler.spider, "replace_existing", False))

    def process_item(self, item: Article | FeedClaim, spider: Spider | None = None) -> Article | FeedClaim:
        if isinstance(item, FeedClaim):
            self.claims.append(item)
        else:
            self.pending.append(item)
        if len(self.pending) + len(self.claims) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self, spider: Spider | None = None) -> None:
        self.flush()
        if self.engine is not None:
            self.engine.dispose()

    def flush(self) -> None:
        if self.engine is None or not (self.pending or self.claims):
            return
        batch, self.pending = self.pending, []
        claims, self.claims = self.claims, []
        now = datetime.now(UTC)
        rows = [_row(item, now) for item in batch]
        try:
            with session_factory(self.engine).begin() as session:
                result = store_articles(session, rows, replace=self.replace)
                moved = claim_for_feed(session, [vars(claim) for claim in claims])
                linked = 0
                if self.near_duplicate_window:
                    written = {row["info_code"] for row in rows} if self.replace else result.new_codes
                    linked = link_near_duplicates(session, written, self.near_duplicate_window)
        except SQLAlchemyError as error:
            path = self._dead_letter(batch)
            self._inc("deadletter", len(batch))
            logger.error(
                "could not store %d articles (%s); saved to %s", len(batch), _first_line(error), path
            )
            return
        self._inc("stored/new", result.new)
        self._inc("stored/existing", result.existing)
        self._inc("near_duplicates_linked", linked)
        self._inc("stored/moved_to_preferred_feed", moved)

    def _dead_letter(self, batch: list[Article]) -> Path:
        self.deadletter_dir.mkdir(parents=True, exist_ok=True)
        name = self.crawler.spider.name if self.crawler.spider else "crawl"
        path = self.deadletter_dir / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.jsonl"
        with path.open("a", encoding="utf-8") as stream:
            for item in batch:
                stream.write(json.dumps(article_record(item), ensure_ascii=False) + "\n")
        return path

    def _inc(self, key: str, amount: int) -> None:
        if self.stats is not None and amount:
            self.stats.inc_value(f"newsarchive/{key}", amount)


def _row(item: Article, now: datetime) -> dict[str, Any]:
    row = {name: getattr(item, name) for name in ARTICLE_FIELDS}
    seen = item.fetched_at or now
    row["first_seen_at"] = seen
    row["last_seen_at"] = seen
    return row


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
