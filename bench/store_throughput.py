"""Benchmark (d): articles per second stored through the real pipelines into SQLite and PostgreSQL.

A small spider yields prepared East Money articles from ``start()`` (no network) in a real crawl with
newsarchive.settings (WARC off; job lock, run history, every pipeline as in production). The items
are built from the saved pages in data/sample/eastmoney/articles with the project's parser and
assembler, each with its own code, text and publish time (a few % are near-copies of another).
The baseline writes the very rows the crawl stored with a plain executemany into a fresh database
of the same schema, one transaction per store batch.

    python -m bench.store_throughput [--articles N] [--json] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.reactor import install_reactor
from sqlalchemy import text
from sqlalchemy.engine import make_url
from twisted.internet import defer
from twisted.python.failure import Failure

from bench.common import REPO, Figure, machine, report, timer, wants_json
from newsarchive.assemble import assemble_article
from newsarchive.counts import Prefix
from newsarchive.db.engine import open_database
from newsarchive.db.scratch import PostgresUnreachable, scratch_postgres
from newsarchive.ids import article_url
from newsarchive.items import COLUMN_FEED, Article
from newsarchive.pages.eastmoney import parse_article
from newsarchive.pages.model import ArticlePage, ListingEntry
from newsarchive.runner import project_settings
from newsarchive.store.config import StoreConfig
from newsarchive.text.clean import clean_body
from newsarchive.text.dates import SHANGHAI

KEY = "d"
DEFAULT_ARTICLES = 100_000
QUICK_ARTICLES = 2_000
TARGET_PER_SECOND = 2_000.0
TARGET = "≥ 2,000 articles/s on SQLite"
SAMPLE = REPO / "data" / "sample" / "eastmoney"
POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ARTICLES_PER_DAY = 300  # East Money's general columns publish a few hundred articles a day
NEAR_COPY_SHARE = 0.03  # re-posts and digests of another article published within hours of it
NEAR_COPY_HOURS = 12.0
SEED = 20260501

_TEXT_RUN = re.compile(r">([^<>]+)<")
_CLAUSE_END = re.compile(r"[，。；！？：,;!?]+")
_PAD = " \t\r\n\u3000\xa0"
_DIGITS = "0123456789"


# --- Items: real pages, new codes, texts and times -------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A saved article page whose body text runs are slots: pieces[0] slot0 pieces[1] … pieces[-1]."""

    page: ArticlePage
    media: str | None
    pieces: tuple[str, ...]
    lengths: tuple[int, ...]  # characters of each slot's original text


@dataclass(frozen=True)
class Story:
    """One article to crawl: its template, the text of each slot, and listing fields."""

    code: str
    published: datetime
    template: Template
    slots: tuple[str, ...]
    title: str


def load_templates() -> tuple[list[Template], list[str]]:
    """The saved pages as templates, and the clauses of their cleaned text (the word pool)."""
    listed = {}
    for path in sorted((SAMPLE / "columns").glob("*.json")):
        for row in json.loads(path.read_text(encoding="utf-8")):
            listed[str(row["code"])] = row.get("mediaName") or None
    templates: list[Template] = []
    clauses: set[str] = set()
    for path in sorted((SAMPLE / "articles").glob("*.html")):
        if "_" in path.stem:  # a long article's later page (<code>_2.html): its first page is a template
            continue
        url = article_url(path.stem)
        page = parse_article(path.read_text(encoding="utf-8"), url)
        if not page.body_html:
            continue
        cleaned = clean_body(page.body_html, url).text
        kept = cleaned.splitlines()
        for line in kept:
            clauses.update(part for part in _CLAUSE_END.split(line) if len(part) >= 4)
        clauses.update(part for part in _CLAUSE_END.split(page.title or "") if len(part) >= 4)
        pieces, lengths, last = [], [], 0
        for match in _TEXT_RUN.finditer(page.body_html):
            run = html.unescape(match.group(1)).strip(_PAD)
            # only text the cleaner keeps becomes a slot: boilerplate stays as it is, to be removed
            if len(run) < 8 or not any(run in line for line in kept):
                continue
            pieces.append(page.body_html[last : match.start(1)] + _leading_pad(match.group(1)))
            lengths.append(len(run))
            last = match.end(1)
        if not lengths:
            continue
        pieces.append(page.body_html[last:])
        media = listed.get(path.stem) or page.media
        templates.append(Template(page, media, tuple(pieces), tuple(lengths)))
    return templates, sorted(clauses)


def _leading_pad(run: str) -> str:
    return run[: len(run) - len(run.lstrip(_PAD))]


def plan_stories(count: int, templates: list[Template], clauses: list[str], now: datetime) -> list[Story]:
    """``count`` stories, newest first (a backfill's order), ARTICLES_PER_DAY over the span before
    ``now``; NEAR_COPY_SHARE of them are near-copies (a re-post, or a digest of the lead) of another
    story published within NEAR_COPY_HOURS."""
    rng = random.Random(SEED)
    span = timedelta(days=max(1.0, count / ARTICLES_PER_DAY)).total_seconds()
    end = now - timedelta(hours=1)
    times = sorted((end - timedelta(seconds=rng.uniform(0, span)) for _ in range(count)), reverse=True)
    digit_tables = [str.maketrans(_DIGITS, "".join(rng.sample(_DIGITS, 10))) for _ in range(50)]
    short = [t for t in templates if len(t.lengths) == 1] or templates

    corpus = "".join(clauses)

    def clause() -> str:  # snippets of the pages' text: far more distinct texts than the pages hold
        starts = (rng.randrange(len(corpus) - 8) for _ in range(2))
        return "".join(corpus[start : start + rng.randint(3, 8)] for start in starts)

    def sentence(length: int) -> str:
        parts: list[str] = []
        while sum(map(len, parts)) < length:
            parts.append(clause())
        return "，".join(parts).translate(rng.choice(digit_tables)) + "。"

    stories: list[Story] = []
    for index, published in enumerate(times):
        local = published.astimezone(SHANGHAI)
        code = f"{local:%Y%m%d}{2_000_000_000 + index:010d}"
        template = rng.choice(templates)
        slots = tuple(sentence(max(8, int(length * rng.uniform(0.7, 1.3)))) for length in template.lengths)
        stories.append(Story(code, local, template, slots, sentence(rng.randint(10, 30)).rstrip("。")))
    reach = max(1, int(ARTICLES_PER_DAY * NEAR_COPY_HOURS / 24))
    for index in rng.sample(range(count), int(count * NEAR_COPY_SHARE)):
        original = stories[min(count - 1, max(0, index + rng.choice((-1, 1)) * rng.randint(1, reach)))]
        if original is stories[index]:
            continue
        story = stories[index]
        if rng.random() < 2 / 3:  # a re-post under a new title, its last clause cut
            slots = (*original.slots[:-1], original.slots[-1].rstrip("。").rsplit("，", 1)[0] + "。")
            stories[index] = dataclasses.replace(story, template=original.template, slots=slots)
        else:  # a digest: the first clauses of the original's text
            lead = "，".join("".join(original.slots).split("，")[:4]).rstrip("。") + "。"
            template = rng.choice(short)
            stories[index] = dataclasses.replace(
                story, template=template, slots=(lead,) * len(template.lengths)
            )
    return stories


def build_articles(stories: Sequence[Story], fetched_at: datetime) -> list[Article]:
    """Fresh Article items, as the eastmoney spider assembles them from a listing row and a page."""
    articles = []
    for story in stories:
        template = story.template
        body = template.pieces[0] + "".join(
            html.escape(slot, quote=False) + piece
            for slot, piece in zip(story.slots, template.pieces[1:], strict=True)
        )
        url = article_url(story.code)
        page = dataclasses.replace(
            template.page,
            code=story.code,
            title=story.title,
            body_html=body,
            published_raw=f"{story.published:%Y年%m月%d日 %H:%M}",
        )
        digest = "".join(story.slots)[:80] + "……"
        entry = ListingEntry(
            code=story.code,
            kind="CMS",
            title=story.title,
            show_time=f"{story.published:%Y-%m-%d %H:%M:%S}",
            media=template.media,
            summary=digest,
            url=url,
        )
        article = assemble_article(page, url, feed=COLUMN_FEED, entry=entry, fetched_at=fetched_at)
        assert article is not None
        articles.append(article)
    return articles


# --- The crawl -------------------------------------------------------------------------------------


class StoreBenchSpider(Spider):
    """Yields its prepared articles from ``start()``: the pipelines do all the work."""

    name = "bench_store"

    def __init__(self, articles: Sequence[Article] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.articles = articles
        self.job_arguments: dict[str, str] = {}  # a job like any other (lock, run history)
        self.done = 0
        self.first_item_at: float | None = None
        self.closed_at: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> StoreBenchSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, StoreBenchSpider)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider.item_done, signal=signal)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        self.first_item_at = time.perf_counter()
        for article in self.articles:
            yield article

    def item_done(self, **_: Any) -> None:
        self.done += 1
        if self.done == len(self.articles):
            # Every item has left the pipelines, so every full batch is committed: close now rather
            # than at the engine's next idle check (up to 5 s later); closing stores the last batch.
            # Once this item's processing is over: the scraper only closes when it is idle.
            _installed_reactor().callLater(0, self.close_now)

    def close_now(self) -> None:
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="finished"))

    def closed(self, reason: str) -> None:
        # spider_closed is sent after every pipeline's close_spider: the last batch is committed
        self.closed_at = time.perf_counter()


def _installed_reactor() -> Any:
    """The reactor Scrapy installed (imported late: importing it first would install the default)."""
    from twisted.internet import reactor

    return reactor


@dataclass
class CrawlOutcome:
    seconds: float
    stats: dict[str, Any]


def crawl_settings(work: Path, database_url: str | None = None) -> Settings:
    """newsarchive's settings with WARC files off, as ``newsarchive crawl`` runs (log level WARNING)."""
    settings = project_settings(
        {
            "NEWSARCHIVE_WARC_ENABLED": False,
            "NEWSARCHIVE_DEADLETTER_DIR": str(work / "deadletter"),
            "LOG_LEVEL": "WARNING",
        }
    )
    if database_url is not None:
        settings.set("NEWSARCHIVE_DATABASE_URL", database_url, priority="cmdline")
    return settings


def run_crawls(work: Path, runs: Sequence[tuple[str, Sequence[Article]]]) -> list[CrawlOutcome]:
    """Crawl each (database URL, articles) in turn in one reactor, as newsarchive's runner does."""
    base = crawl_settings(work)
    install_reactor(base["TWISTED_REACTOR"])
    process = CrawlerProcess(base)
    outcomes: list[CrawlOutcome] = []
    failures: list[str] = []

    @defer.inlineCallbacks
    def crawl_all() -> Generator[defer.Deferred[Any], Any, None]:
        for url, articles in runs:
            crawler = Crawler(StoreBenchSpider, crawl_settings(work, url))
            yield process.crawl(crawler, articles=articles)
            spider = crawler.spider
            assert isinstance(spider, StoreBenchSpider)
            if spider.first_item_at is None or spider.closed_at is None:
                failures.append(f"the benchmark crawl into {url} did not run")
                return
            assert crawler.stats is not None
            outcomes.append(CrawlOutcome(spider.closed_at - spider.first_item_at, crawler.stats.get_stats()))

    def stop(result: Any) -> None:
        if isinstance(result, Failure):
            failures.append(result.getErrorMessage())
        _installed_reactor().callLater(0, _installed_reactor().stop)

    crawl_all().addBoth(stop)
    process.start(stop_after_crawl=False)
    if failures:
        raise RuntimeError(failures[0])
    return outcomes


# --- Databases and the baseline --------------------------------------------------------------------


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A brand-new PostgreSQL database (its URL), dropped afterwards; None if there is no server."""
    with ExitStack() as stack:
        try:
            url: str | None = stack.enter_context(scratch_postgres(POSTGRES_ADMIN_URL, "newsarchive_bench"))
        except PostgresUnreachable as error:
            print(error, file=sys.stderr)
            url = None
        yield url


def _without_id(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A stored row as the dict a plain INSERT takes: every column but the generated ``id``."""
    return {name: value for name, value in zip(names, values, strict=True) if name != "id"}


def sqlite_baseline(archive: Path, fresh: Path, batch_size: int) -> tuple[float, int]:
    """Rows per second for plain sqlite3 executemany of the archive's final rows into a fresh file."""
    open_database(f"sqlite:///{fresh}").dispose()  # the same schema (Alembic) and WAL mode
    with closing(sqlite3.connect(archive)) as source:
        cursor = source.execute("SELECT * FROM articles ORDER BY id")
        names = [d[0] for d in cursor.description]
        rows = [_without_id(names, values) for values in cursor]
    columns = list(rows[0]) if rows else []
    target = sqlite3.connect(fresh, isolation_level=None)
    target.execute("PRAGMA synchronous=NORMAL")  # as newsarchive's connections
    insert = f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    with timer() as elapsed:
        _batches(rows, batch_size, lambda batch: _sqlite_batch(target, insert, batch))
    target.close()
    return len(rows) / elapsed(), len(rows)


def _sqlite_batch(connection: sqlite3.Connection, insert: str, batch: list[dict[str, Any]]) -> None:
    connection.execute("BEGIN")
    connection.executemany(insert, batch)
    connection.execute("COMMIT")


def postgres_baseline(archive_url: str, fresh_url: str, batch_size: int) -> tuple[float, int]:
    """Rows per second for plain psycopg executemany of the archive's final rows into a fresh database."""
    import psycopg
    from psycopg.types.json import Json

    open_database(fresh_url).dispose()  # the same schema (Alembic)
    with psycopg.connect(_libpq(archive_url)) as source:
        cursor = source.execute("SELECT * FROM articles ORDER BY id")
        names = [d.name for d in cursor.description or ()]
        rows = [_without_id(names, values) for values in cursor]
    for row in rows:
        row["tags"] = Json(row["tags"])  # psycopg sends a list as an array, the column is json
    columns = list(rows[0]) if rows else []
    insert = f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join(f'%({c})s' for c in columns)})"
    with psycopg.connect(_libpq(fresh_url)) as target:

        def write(batch: list[dict[str, Any]]) -> None:
            with target.transaction(), target.cursor() as cursor:
                cursor.executemany(insert, batch)

        with timer() as elapsed:
            _batches(rows, batch_size, write)
    return len(rows) / elapsed(), len(rows)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _batches(rows: list[dict[str, Any]], size: int, write: Callable[[list[dict[str, Any]]], None]) -> None:
    for start in range(0, len(rows), size):
        write(rows[start : start + size])


def _count(url: str, statement: str) -> int:
    engine = open_database(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(statement)).scalar_one())
    finally:
        engine.dispose()


# --- The benchmark ---------------------------------------------------------------------------------


def run(quick: bool = False, articles: int | None = None) -> list[Figure]:
    count = articles or (QUICK_ARTICLES if quick else DEFAULT_ARTICLES)
    templates, clauses = load_templates()
    now = datetime.now(UTC)
    stories = plan_stories(count, templates, clauses, now)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder, postgres_database() as pg_url:
        work = Path(folder)
        sqlite_path = work / "archive.db"
        runs: list[tuple[str, Sequence[Article]]] = [
            (f"sqlite:///{sqlite_path}", build_articles(stories, now))
        ]
        if pg_url is not None:
            runs.append((pg_url, build_articles(stories, now)))
        batch_size = StoreConfig.from_settings(crawl_settings(work)).batch_size
        outcomes = run_crawls(work, runs)
        figures = [
            _figure(
                "SQLite",
                outcomes[0],
                count,
                f"sqlite:///{sqlite_path}",
                sqlite_baseline(sqlite_path, work / "baseline.db", batch_size),
                "sqlite3",
                batch_size,
            )
        ]
        if pg_url is not None:
            with postgres_database() as baseline_url:
                assert baseline_url is not None
                figures.append(
                    _figure(
                        "PostgreSQL",
                        outcomes[1],
                        count,
                        pg_url,
                        postgres_baseline(pg_url, baseline_url, batch_size),
                        "psycopg",
                        batch_size,
                    )
                )
    return figures


def _figure(
    database: str,
    outcome: CrawlOutcome,
    count: int,
    url: str,
    baseline: tuple[float, int],
    driver: str,
    batch_size: int,
) -> Figure:
    stats = outcome.stats
    stored = _count(url, "SELECT count(*) FROM articles")
    linked = _count(url, "SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL")
    value = count / outcome.seconds
    sqlite = database == "SQLite"
    dropped = sum(v for k, v in stats.items() if k.startswith(Prefix.DROPPED))
    detail = (
        f"{count:,} articles from {len(set(_sample_pages()))} saved East Money pages, "
        f"{NEAR_COPY_SHARE:.0%} near-copies, {ARTICLES_PER_DAY}/day; timed from the spider's first "
        f"item to spider_closed (after the last commit): {outcome.seconds:.1f} s; "
        f"{stats.get(Prefix.STORED + 'new', 0):,} new, {stored:,} rows, {linked:,} linked as "
        f"near-duplicates, {dropped} dropped; baseline: {driver} executemany of the same "
        f"{baseline[1]:,} final rows into a fresh database, one transaction per {batch_size} rows "
        f"(NEWSARCHIVE_STORE_BATCH_SIZE); {machine()}"
    )
    return Figure(
        key=KEY,
        name=f"articles stored through the pipelines, {database}",
        value=value,
        unit="articles/s",
        baseline_name=f"plain {driver} executemany",
        baseline=baseline[0],
        target=TARGET if sqlite else "none for PostgreSQL (reported beside SQLite)",
        met=value >= TARGET_PER_SECOND if sqlite else True,
        detail=detail,
    )


def _sample_pages() -> list[Path]:
    return sorted((SAMPLE / "articles").glob("*.html"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_throughput", description=__doc__)
    parser.add_argument("--articles", type=int, default=None, help=f"default {DEFAULT_ARTICLES:,}")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ARTICLES:,} articles: a smoke test")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    options = parser.parse_args(argv)
    report(run(quick=options.quick, articles=options.articles), as_json=wants_json(argv))


if __name__ == "__main__":
    main()
