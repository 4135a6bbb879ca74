"""Synthetic archives for the benchmarks: realistic article rows built from the sample's real pages.

The saved East Money pages (data/sample/eastmoney/articles) are parsed and cleaned by newsarchive
itself; every synthetic row takes the shape, title and outlet of one of them and refills its
paragraphs with other real sentences, figures changed, so bodies and content hashes differ and rows
are seldom near-duplicates of each other. Rows are spread over the years at PER_DAY articles a day,
covering the sample's days, and databases are built once per (size, seed) under CACHE.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from html import escape
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.common import REPO, timer
from newsarchive.db.engine import head_revision, open_database
from newsarchive.db.models import ArticleRow, content_hash
from newsarchive.ids import article_url
from newsarchive.items import COLUMN_FEED, FAST_FEED
from newsarchive.pages.eastmoney import parse_article
from newsarchive.text.clean import clean_body
from newsarchive.text.dates import SHANGHAI
from newsarchive.text.fingerprint import fingerprint
from newsarchive.text.media import (
    FAST_NEWS_CATEGORY,
    FAST_NEWS_TAG,
    canonical_media,
    category_slug,
    media_tag,
)

SAMPLE = REPO / "data" / "sample" / "eastmoney"
# bench/.cache is git-ignored; BENCH_CACHE moves it (the smoke test keeps its tiny databases apart).
CACHE = Path(os.environ.get("BENCH_CACHE") or REPO / "bench" / ".cache")
PER_DAY = 300  # articles a day: what East Money's columns and 7x24 feed publish together
# Share of rows from the 7x24 feed (category emnews). Almost every sample page is also on the
# sample's 7x24 list, which would make nearly all rows 7x24 posts; the archive holds both kinds.
FAST_SHARE = 0.3
# The sample's articles are from 2021-12-07 to 2022-04-29; synthetic rows end after the last one
# and are centred on the sample's main day when they span less than the whole period.
SAMPLE_DAY = datetime(2021, 12, 8, 12, 0, tzinfo=SHANGHAI)
LAST_TIME = datetime(2022, 5, 1, 0, 0, tzinfo=SHANGHAI)
# Rows published this close to a sample article get a real fingerprint (the crawl compares its new
# articles with their 48 h window); the others a random one of the same size, see synthetic_rows().
REAL_FINGERPRINT_REACH = timedelta(days=4)
CHUNK_ROWS = 20_000  # rows per executemany
GENERATOR_VERSION = 1  # part of the cache key: bump it when the rows change
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
_DIGITS = b"0123456789"


@dataclass(frozen=True)
class SampleArticle:
    """One saved page as the pipelines would store it: cleaned paragraphs split into sentences."""

    code: str
    title: str
    media: str | None
    author: str | None
    paragraphs: tuple[tuple[str, ...], ...]

    @property
    def published_day(self) -> str:
        return self.code[:8]


@lru_cache(maxsize=1)
def sample_articles() -> tuple[SampleArticle, ...]:
    """Every saved article page, parsed and cleaned (CleanBodyPipeline's clean_body), with the
    outlet the taxonomy pipeline would store (listing name first, canonical)."""
    listed_media: dict[str, str] = {}
    for listing in sorted((SAMPLE / "columns").glob("*.json")):
        for row in json.loads(listing.read_text(encoding="utf-8")):
            if row.get("mediaName"):
                listed_media.setdefault(str(row["code"]), str(row["mediaName"]))
    articles = []
    for path in sorted((SAMPLE / "articles").glob("*.html")):
        code = path.stem
        if "_" in code:  # a long article's later page (<code>_2.html): read with its first page
            continue
        url = article_url(code)
        page = parse_article(path.read_text(encoding="utf-8"), url)
        later = sorted(path.parent.glob(f"{code}_*.html"), key=lambda p: int(p.stem.split("_")[1]))
        body = "".join(
            [
                page.body_html or "",
                *(parse_article(p.read_text(encoding="utf-8"), url).body_html or "" for p in later),
            ]
        )
        cleaned = clean_body(body, url)
        if not page.title or not cleaned.text:
            continue
        paragraphs = tuple(
            tuple(part for part in _SENTENCE_END.split(line) if part)
            for line in cleaned.text.splitlines()
            if line.strip()
        )
        media = listed_media.get(code) or page.media
        articles.append(
            SampleArticle(
                code=code,
                title=page.title,
                media=canonical_media(media) if media else None,
                author=page.author,
                paragraphs=paragraphs,
            )
        )
    return tuple(articles)


def sentence_pool() -> list[str]:
    """Every sentence of every saved article, cleaned: what synthetic bodies are made of."""
    return [sentence for article in sample_articles() for lines in article.paragraphs for sentence in lines]


def digit_swaps(rng: random.Random, count: int = 512) -> list[bytes]:
    """Translation tables that permute the ten digits: figures differ from copy to copy."""
    return [bytes.maketrans(_DIGITS, bytes(rng.sample(_DIGITS, 10))) for _ in range(count)]


def retold(article: SampleArticle, rng: random.Random, sentences: Sequence[str], swap: bytes) -> list[str]:
    """A new story in the shape of ``article``: as many paragraphs of as many sentences, each drawn
    from the whole pool, its figures swapped. Two such stories rarely share more than a sentence."""
    # UTF-8 multi-byte sequences hold no ASCII bytes, so swapping digit bytes is safe (and fast)
    return [
        "".join(rng.choices(sentences, k=len(shape))).encode().translate(swap).decode()
        for shape in article.paragraphs
    ]


def first_publish_time(n: int) -> datetime:
    """Where n rows at PER_DAY a day start: centred on the sample's day, ending by LAST_TIME."""
    span = timedelta(days=n / PER_DAY)
    return min(SAMPLE_DAY - span / 2, LAST_TIME - span)


def synthetic_rows(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """n article rows (the columns of ``articles`` but ``id``), in publish order, deterministic per seed.

    ``info_code`` is NW + the publish day + 9 + a 9-digit serial: canonical, unique, and never one of
    the sample's codes (theirs continue 22…/23…). The fingerprint is the store's own
    (newsarchive.text.fingerprint) for rows within REAL_FINGERPRINT_REACH of a sample article, the
    only ones a crawl of the sample compares with; elsewhere it is 512 random bytes, the same size
    and as unlikely to match, because computing 1,000,000 real ones takes minutes."""
    rng = random.Random(seed)
    articles = sample_articles()
    sentences = sentence_pool()
    figures = digit_swaps(rng)  # one of a few hundred permutations per row
    sample_days = sorted(
        {datetime.strptime(a.published_day, "%Y%m%d").replace(tzinfo=SHANGHAI) for a in articles}
    )
    near_sample = [
        (day - REAL_FINGERPRINT_REACH, day + timedelta(days=1) + REAL_FINGERPRINT_REACH)
        for day in sample_days
    ]
    taxonomy = {
        (feed, article.media): _taxonomy(feed, article.media)
        for feed in (COLUMN_FEED, FAST_FEED)
        for article in articles
    }
    start = first_publish_time(n)
    step = 86_400 / PER_DAY
    for index in range(n):
        article = rng.choice(articles)
        swap = rng.choice(figures)
        published = (start + timedelta(seconds=(index + rng.random()) * step)).replace(microsecond=0)
        lines = retold(article, rng, sentences, swap)
        body_text = "\n".join(lines)
        body_html = "".join(f"<p>{escape(line, quote=False)}</p>" for line in lines)
        title = article.title.encode().translate(swap).decode()
        fetched = (published + timedelta(seconds=rng.randrange(60, 1800))).astimezone(UTC)
        feed = FAST_FEED if rng.random() < FAST_SHARE else COLUMN_FEED
        category, tags = taxonomy[(feed, article.media)]
        if any(low <= published < high for low, high in near_sample):
            prints = fingerprint(body_text).to_bytes()
        else:
            prints = rng.randbytes(512)
        code = f"{published:%Y%m%d}9{index:09d}"
        yield {
            "info_code": f"NW{code}",
            "title": title,
            "published_at": published,
            "published_raw": f"{published:%Y-%m-%d %H:%M:%S}",
            "media": article.media,
            "category": category,
            "tags": list(tags),
            "summary": lines[0][:120] if lines else None,
            "author": article.author,
            "url": article_url(code),
            "feed": feed,
            "body_html": body_html,
            "body_text": body_text,
            "first_seen_at": fetched,
            "last_seen_at": fetched,
            "fetched_at": fetched,
            "content_hash": content_hash(title, body_html),
            "extraction": None,
            "duplicate_of": None,
            "fingerprint": prints,
        }


def _taxonomy(feed: str, media: str | None) -> tuple[str, tuple[str, ...]]:
    """The category and tags pipelines/taxonomy.py gives an article of this feed and outlet."""
    if feed == FAST_FEED:
        return FAST_NEWS_CATEGORY, (FAST_NEWS_TAG,)
    if media:
        return category_slug(media), (media_tag(media),)
    return "unknown", ()


def fill_database(url: str, n: int, seed: int = 0) -> int:
    """Create the schema the production way (Alembic, at head) and insert n synthetic rows in big
    chunks, one transaction each; returns n."""
    engine = open_database(url)
    try:
        rows = synthetic_rows(n, seed)
        while chunk := list(islice(rows, CHUNK_ROWS)):
            with engine.begin() as connection:
                connection.execute(insert(ArticleRow), chunk)
        if engine.dialect.name == "sqlite":  # leave one self-contained file behind
            with engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        engine.dispose()
    return n


def cache_path(n: int, seed: int = 0) -> Path:
    revision = head_revision() or "none"
    return CACHE / f"synthetic-{n}-seed{seed}-{revision}-v{GENERATOR_VERSION}.db"


def cached_database(n: int, seed: int = 0) -> Path:
    """A SQLite archive of n synthetic rows, built once under CACHE (do not write to it: copy it)."""
    path = cache_path(n, seed)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f"{path.name}.building-{os.getpid()}")
    remove_database(building)
    try:
        fill_database(f"sqlite:///{building}", n, seed)
        for suffix in ("-wal", "-shm"):  # empty after the checkpoint
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        building.replace(path)
    finally:
        remove_database(building)
    return path


def copy_database(source: Path, target: Path) -> str:
    """Copy a cached archive (and any WAL left beside it) so a run can write it; returns its URL."""
    remove_database(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.exists():
        shutil.copyfile(wal, f"{target}-wal")
    return f"sqlite:///{target}"


def remove_database(path: Path) -> None:
    for name in (str(path), f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        Path(name).unlink(missing_ok=True)


def count_rows(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1_000_000, help="rows to build (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", metavar="URL", help="fill this database instead of the cache")
    args = parser.parse_args(argv)
    with timer() as elapsed:
        if args.db:
            fill_database(args.db, args.articles, args.seed)
            where = make_url(args.db).render_as_string()
        else:
            where = str(cached_database(args.articles, args.seed))
    print(f"{args.articles:,} synthetic articles in {where} ({elapsed():.1f} s)")


if __name__ == "__main__":
    main()
