"""Near-duplicate links on short bodies (issue 13 point 15): group sizes, whether every copy resembles
the row it points to, group time spans and store throughput, through the real store path (BatchWriter).

Four archives: ``real`` (every real text the project holds: the sample's 7x24 and column summaries,
its article pages, the finews corpus, at their real publish times), ``retold`` (real 7x24 texts at
FAST_PER_DAY with their figures swapped, as templated one-liners are; RECOPY_SHARE of them are exact
re-posts of an item published within RECOPY_HOURS, the copies that must be linked), ``repeated``
(a few real stories re-posted word for word all along: the biggest groups) and ``flash`` (the
attack: one- or two-sentence flashes sharing boilerplate phrases and templates, every figure new).
A copy "resembles" its target by the linker's own rule (``near_duplicate``) and, independently, by
the exact Jaccard similarity of plain Python sets of character 3-grams. ``--pairs`` prints what the
thresholds are chosen from instead. Figures, not a test.

    python -m bench.near_duplicates [--data flash|retold|repeated|real] [--articles N]
        [--order publish|newest-first|shuffled] [--postgres ADMIN_URL] [--pairs]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import cast

from sqlalchemy import Table, select

from bench.common import REPO, machine
from bench.synthetic import sample_articles
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import ArticleRow
from newsarchive.db.scratch import scratch_postgres
from newsarchive.db.writer import BatchWriter
from newsarchive.ids import article_url
from newsarchive.items import FAST_FEED, Article
from newsarchive.runner import project_settings
from newsarchive.samplesite.build import read_posts
from newsarchive.store.config import StoreConfig
from newsarchive.text.clean import clean_body
from newsarchive.text.dates import SHANGHAI
from newsarchive.text.fingerprint import MIN_SHINGLES, near_duplicate, same_story, shingles

SAMPLE = REPO / "data" / "sample" / "eastmoney"
CORPUS = REPO.parent / "shared" / "corpus" / "finews"  # ../shared beside the checkout, when present
# The store's defaults (NEWSARCHIVE_NEAR_DUPLICATE_HOURS, NEWSARCHIVE_STORE_BATCH_SIZE)
STORE = StoreConfig.from_settings(project_settings())
WINDOW = STORE.near_duplicate_window
BATCH = STORE.batch_size
FAST_PER_DAY = 1_000  # East Money's 7x24 feed publishes about a thousand items on a trading day
RECOPY_SHARE = 0.03
RECOPY_HOURS = 12.0
REPEATED_STORIES = 10
START = datetime(2021, 12, 1, 0, 0, tzinfo=SHANGHAI)
_DIGITS = "0123456789"
_NAME = re.compile(r"([\u4e00-\u9fff]{2,4})(?:涨|跌)")


@dataclass(frozen=True)
class Text:
    """One article to store: its text and publish time, and the text it re-posts (planted copies)."""

    text: str
    published: datetime
    copy_of: int | None = None  # index of the planted original


# --- Archives ------------------------------------------------------------------------------------


def real_texts() -> list[Text]:
    """Every real body the project holds, at its real publish time: copies among them are real."""
    found: list[Text] = []
    for listing in sorted([*(SAMPLE / "fastnews").glob("*.json"), *(SAMPLE / "columns").glob("*.json")]):
        for row in json.loads(listing.read_text(encoding="utf-8")):
            if (row.get("summary") or "").strip() and row.get("showTime"):
                found.append(Text(row["summary"].strip(), _beijing(row["showTime"])))
    for article in sample_articles():
        text = "\n".join("".join(lines) for lines in article.paragraphs)
        day = datetime.strptime(article.published_day, "%Y%m%d").replace(hour=12, tzinfo=SHANGHAI)
        found.append(Text(text, day))  # pages carry no time the sample keeps: noon of their day
    if CORPUS.is_dir():
        for post in read_posts(CORPUS):
            body = clean_body(post.body_html, article_url(post.code)).text if post.body_html else ""
            for text in {post.digest.strip(), body}:
                if text:
                    found.append(Text(text, _beijing(post.published)))
    return sorted(found, key=lambda t: t.published)


def retold_texts(count: int, rng: random.Random) -> list[Text]:
    """Real short 7x24 texts, each time with other figures, FAST_PER_DAY a day; a few exact re-posts."""
    pool = sorted({t.text for t in real_texts() if len(t.text) <= 300})
    swaps = [str.maketrans(_DIGITS, "".join(rng.sample(_DIGITS, 10))) for _ in range(512)]
    step = 86_400 / FAST_PER_DAY
    texts: list[Text] = []
    reach = int(RECOPY_HOURS * 3600 / step)
    for index in range(count):
        published = START + timedelta(seconds=(index + rng.random()) * step)
        if index > reach and rng.random() < RECOPY_SHARE:
            original = index - rng.randint(1, reach)
            texts.append(Text(texts[original].text, published, original))
        else:
            texts.append(Text(rng.choice(pool).translate(rng.choice(swaps)), published))
    return texts


def repeated_texts(count: int, rng: random.Random) -> list[Text]:
    """REPEATED_STORIES real stories (the longest real 7x24 texts) re-posted word for word again and
    again, FAST_PER_DAY a day: every row a real copy, the biggest groups an archive can hold."""
    stories = sorted({t.text for t in real_texts() if len(t.text) <= 300}, key=len)[-REPEATED_STORIES:]
    step = 86_400 / FAST_PER_DAY
    return [
        Text(rng.choice(stories), START + timedelta(seconds=(index + rng.random()) * step))
        for index in range(count)
    ]


_FLASH_TEMPLATES = (
    "东方财富网讯，截至{h}时{m}分，沪指{move}{p}%，深成指{move}{q}%，创业板指{move}{r}%，两市成交额{x}亿元。",
    "东方财富网讯，{h}时{m}分，北向资金净流入{x}亿元，其中沪股通净流入{y}亿元。数据来源：东方财富Choice数据。",
    "东方财富网讯，A股开盘：沪指{move}{p}%报{idx}点，深成指{move}{q}%，创业板指{move}{r}%。",
    "东方财富网讯，{name}{h}时{m}分{move}{p}%，报{y}元，成交额{x}亿元。以上内容仅供参考，不构成投资建议。",
)


def flash_texts(count: int, rng: random.Random) -> list[Text]:
    """The attack: short flashes from a few templates sharing 东方财富网讯 and disclaimer boilerplate, each
    with figures of its own, FAST_PER_DAY a day (cleaned as a crawl cleans them: 文章来源 lines go)."""
    names = sorted({name for t in real_texts() for name in _NAME.findall(t.text)})
    step = 86_400 / FAST_PER_DAY
    texts = []
    for index in range(count):
        published = START + timedelta(seconds=(index + rng.random()) * step)
        body = rng.choice(_FLASH_TEMPLATES).format(
            h=published.hour, m=published.minute, move=rng.choice("涨跌"), name=rng.choice(names),
            p=f"{rng.uniform(0, 3):.2f}", q=f"{rng.uniform(0, 3):.2f}", r=f"{rng.uniform(0, 3):.2f}",
            x=f"{rng.uniform(10, 9000):.2f}", y=f"{rng.uniform(1, 90):.2f}",
            idx=f"{rng.uniform(3000, 3700):.2f}",
        )  # fmt: skip
        html = f"<p>{body}（文章来源：东方财富网）</p>"
        texts.append(Text(clean_body(html, article_url(_code(published, index))).text, published))
    return texts


def _beijing(shown: str) -> datetime:
    return datetime.strptime(shown, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


def _code(published: datetime, index: int) -> str:
    return f"{published:%Y%m%d}9{index:09d}"


# --- Storing -------------------------------------------------------------------------------------


def arrival(texts: Sequence[Text], order: str, rng: random.Random) -> list[list[int]]:
    """Store batches of indexes: ``publish`` (a live crawl: oldest first, shuffled inside each batch),
    ``newest-first`` (a backfill paging back in time) or ``shuffled`` (any order at all)."""
    indexes = list(range(len(texts)))
    if order == "newest-first":
        indexes.reverse()
    elif order == "shuffled":
        rng.shuffle(indexes)
    batches = [indexes[start : start + BATCH] for start in range(0, len(indexes), BATCH)]
    if order == "publish":
        for batch in batches:
            rng.shuffle(batch)
    return batches


def store(url: str, texts: Sequence[Text], batches: Sequence[list[int]]) -> list[float]:
    """Write every batch with the store's BatchWriter; returns each batch's seconds."""
    engine = open_database(url, busy_timeout=STORE.busy_timeout)
    writer = BatchWriter.for_store(engine, STORE)
    fetched = datetime(2026, 11, 24, tzinfo=UTC)
    seconds = []
    try:
        for batch in batches:
            items = [_article(index, texts[index], fetched) for index in batch]
            started = time.perf_counter()
            writer.write(items)
            seconds.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return seconds


def _article(index: int, text: Text, fetched: datetime) -> Article:
    code = _code(text.published, index)
    return Article(
        info_code=code,
        url=article_url(code),
        feed=FAST_FEED,
        title=text.text[:30],
        published_raw=f"{text.published:%Y-%m-%d %H:%M:%S}",
        published_at=text.published,
        media="东方财富网",
        category="emnews",
        tags=["东财滚动新闻"],
        body_html=f"<p>{text.text}</p>",
        body_text=text.text,
        fetched_at=fetched,
    )


# --- Measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    code: str
    published: datetime
    text: str
    duplicate_of: str | None


def read_back(url: str) -> dict[str, Stored]:
    engine = open_database(url)
    table = cast(Table, ArticleRow.__table__)
    query = select(table.c.info_code, table.c.published_at, table.c.body_text, table.c.duplicate_of)
    try:
        with session_factory(engine)() as session:
            return {row[0]: Stored(*row) for row in session.execute(query)}
    finally:
        engine.dispose()


def trigrams(text: str) -> set[str]:
    """Character 3-grams of the text's letters and digits (str.isalnum: written apart from the
    linker's normalize on purpose, an independent check)."""
    kept = "".join(char for char in text.lower() if char.isalnum())
    return {kept[i : i + 3] for i in range(max(len(kept) - 2, 1))} if kept else set()


def jaccard(first: str, second: str) -> float:
    a, b = trigrams(first), trigrams(second)
    return len(a & b) / len(a | b) if a or b else 0.0


def figures(rows: dict[str, Stored], texts: Sequence[Text], seconds: Sequence[float]) -> list[str]:
    """What the archive's links look like, and how fast they were made."""
    copies = [(row, rows[row.duplicate_of]) for row in rows.values() if row.duplicate_of]
    groups: dict[str, list[Stored]] = defaultdict(list)
    for row, target in copies:
        groups[target.code].append(row)
    largest = max((len(members) + 1 for members in groups.values()), default=0)
    resembling = sum(near_duplicate(row.text, target.text) for row, target in copies)
    similarity = [jaccard(row.text, target.text) for row, target in copies]
    chained = sum(1 for _, target in copies if target.duplicate_of)
    far = sum(1 for row, target in copies if abs(row.published - target.published) > WINDOW)
    widest = max((_span([rows[code], *members]) for code, members in groups.items()), default=timedelta(0))
    tenth = max(1, len(seconds) // 10)
    first, last = BATCH * tenth / sum(seconds[:tenth]), BATCH * tenth / sum(seconds[-tenth:])
    lines = [
        f"rows {len(rows):,}; copies {len(copies):,} in {len(groups):,} groups; "
        f"largest group {largest:,} rows",
        f"copies resembling their target: near_duplicate {resembling:,}/{len(copies):,}; 3-gram Jaccard "
        f">= 0.5 {sum(value >= 0.5 for value in similarity):,}/{len(copies):,}, "
        f"median {statistics.median(similarity) if similarity else 0:.2f}",
        f"copies pointing at a copy {chained:,}; copies more than {_hours(WINDOW)} from their target "
        f"{far:,}; widest group {_hours(widest)}",
        f"throughput {len(rows) / sum(seconds):,.0f} articles/s; first tenth of batches {first:,.0f}/s, "
        f"last tenth {last:,.0f}/s",
    ]
    planted = [(index, text.copy_of) for index, text in enumerate(texts) if text.copy_of is not None]
    if planted:
        codes = [_code(text.published, index) for index, text in enumerate(texts)]
        linked = sum(1 for copy, _ in planted if rows[codes[copy]].duplicate_of)
        found = sum(1 for copy, original in planted if _same_group(rows, codes[copy], codes[original]))
        lines.append(
            f"planted re-posts linked as copies {linked:,}/{len(planted):,}, "
            f"in their original's group {found:,}/{len(planted):,}"
        )
    return lines


def _span(rows: list[Stored]) -> timedelta:
    return max(row.published for row in rows) - min(row.published for row in rows)


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"


def _same_group(rows: dict[str, Stored], first: str, second: str) -> bool:
    return (rows[first].duplicate_of or first) == (rows[second].duplicate_of or second)


# --- Pairs: what the thresholds are measured on ---------------------------------------------------


def pair_figures(rng: random.Random) -> list[str]:
    """How the decision treats real texts, real texts with other figures, and flood items, by the
    shingle count of the shorter text: what MIN_SHINGLES and FIGURES_FOUND are chosen from."""
    real = sorted({text.text for text in real_texts()})
    cut = {text: shingles(text) for text in real}
    sizes = sorted(len(found) for found in cut.values())
    lines = [
        f"real distinct texts {len(real)}; shingles: quartiles {statistics.quantiles(sizes, n=4)}, "
        f"under {MIN_SHINGLES}: {sum(size < MIN_SHINGLES for size in sizes)}"
    ]
    copies, strangers = [], []
    for first, second in combinations(real, 2):
        shorter = min(len(cut[first]), len(cut[second]))
        if near_duplicate(first, second):
            copies.append(shorter)
        else:
            strangers.append((jaccard(first, second), shorter))
    lines.append(f"real copies that are not the same text, shorter one's shingles: {sorted(copies)}")
    lines.append(f"real non-copies most alike (3-gram Jaccard, shingles): {sorted(strangers)[-4:]}")
    swaps = [str.maketrans(_DIGITS, "".join(rng.sample(_DIGITS, 10))) for _ in range(40)]
    retold = [
        (text.translate(first), text.translate(second))
        for text in real
        if len(text) <= 400 and any(char.isdigit() for char in text)
        for first, second in zip(swaps[::2], swaps[1::2], strict=True)
    ]
    lines += _linked_by_size("real texts, other figures", [pair for pair in retold if pair[0] != pair[1]])
    flood = [text.text for text in flash_texts(2_000, rng)]
    lines += _linked_by_size("flood items", [tuple(rng.sample(flood, 2)) for _ in range(10_000)])
    return lines


def _linked_by_size(name: str, pairs: Sequence[tuple[str, ...]]) -> list[str]:
    """Pairs linked by the shingle rule alone and by the whole decision, per 20 shingles."""
    buckets: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for first, second in pairs:
        a, b = shingles(first), shingles(second)
        counts = buckets[min(len(a), len(b)) // 20 * 20]
        counts[0] += 1
        counts[1] += same_story(a, b)
        counts[2] += near_duplicate(first, second)
    return [f"{name}: shingles from, pairs, linked by shingles, linked"] + [
        f"  {size:>4} {total:>6,} {by_shingles:>6,} {linked:>6,}"
        for size, (total, by_shingles, linked) in sorted(buckets.items())
    ]


def main(argv: Sequence[str] | None = None) -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--data", choices=("flash", "retold", "repeated", "real"), default="flash")
    parser.add_argument("--articles", type=int, default=50_000, help="rows for flash and retold")
    parser.add_argument("--order", choices=("publish", "newest-first", "shuffled"), default="publish")
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="store in a scratch PostgreSQL database")
    parser.add_argument("--pairs", action="store_true", help="only the pair figures, no archive")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(machine())
    if args.pairs:
        for line in pair_figures(rng):
            print(line)
        return
    if args.data == "real":
        texts = real_texts()
    elif args.data == "retold":
        texts = retold_texts(args.articles, rng)
    elif args.data == "repeated":
        texts = repeated_texts(args.articles, rng)
    else:
        texts = flash_texts(args.articles, rng)
    batches = arrival(texts, args.order, rng)
    print(f"{args.data}: {len(texts):,} articles, stored {args.order} in batches of {BATCH}")
    with _database(args.postgres) as url:
        seconds = store(url, texts, batches)
        for line in figures(read_back(url), texts, seconds):
            print("  " + line, flush=True)


def _database(postgres: str | None) -> AbstractContextManager[str]:
    return scratch_postgres(postgres, "bench_neardup") if postgres else _temporary_sqlite()


@contextmanager
def _temporary_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-neardup-") as folder:
        yield f"sqlite:///{Path(folder) / 'archive.db'}"


if __name__ == "__main__":
    main()
