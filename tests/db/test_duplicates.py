"""Near-duplicate linking in real SQLite and PostgreSQL: links to the earliest copy, in any order; a copy
resembles the original it points to, and a group stays within its window (issue 13 point 15)."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsarchive.db import duplicates
from newsarchive.db.duplicates import link_near_duplicates
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import ArticleRow
from newsarchive.db.repository import iter_articles, store_articles
from newsarchive.db.writer import BatchWriter
from newsarchive.items import Article
from newsarchive.text.dates import SHANGHAI
from newsarchive.text.fingerprint import fingerprint, near_duplicate
from tests.db.test_repository import row

PAIRS = json.loads(
    (Path(__file__).parents[1] / "text" / "near_duplicate_pairs.json").read_text(encoding="utf-8")
)
SEED_TEXT = next(p["a"] for p in PAIRS["positive"] if p["why"].startswith("a re-post"))
REPOST_TEXT = next(p["b"] for p in PAIRS["positive"] if p["why"].startswith("a re-post"))
OTHER_TEXT = next(p["b"] for p in PAIRS["negative"] if p["why"] == "two unrelated long articles")
WINDOW = timedelta(hours=48)
NOON = datetime(2022, 4, 29, 12, 0, tzinfo=SHANGHAI)


def article(code: str, text: str, hours: float) -> dict[str, object]:
    values = row(code, published=NOON + timedelta(hours=hours))
    values.update(body_text=text, body_html=f"<p>{text}</p>")
    return values


def store(db_url: str, *articles: dict[str, object]) -> int:
    engine = open_database(db_url)
    with session_factory(engine).begin() as session:
        result = store_articles(session, list(articles), replace=False)
        linked = link_near_duplicates(session, result.new_codes, WINDOW)
    engine.dispose()
    return linked


def links(db_url: str) -> dict[str, str | None]:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        found = {r.info_code: r.duplicate_of for r in session.query(ArticleRow)}
    engine.dispose()
    return found


def test_copies_link_to_the_earliest_whatever_the_arrival_order(db_url: str) -> None:
    # the re-post arrives first, then the unrelated article, then the (earlier) original
    assert store(db_url, article("NW202204290000000002", REPOST_TEXT, hours=3)) == 0
    assert store(db_url, article("NW202204290000000009", OTHER_TEXT, hours=1)) == 0
    assert store(db_url, article("NW202204290000000001", SEED_TEXT, hours=0)) == 1
    assert links(db_url) == {
        "NW202204290000000001": None,
        "NW202204290000000002": "NW202204290000000001",
        "NW202204290000000009": None,
    }
    # a third copy (a digest of the same story) joins the same group
    assert store(db_url, article("NW202204290000000003", PAIRS["positive"][2]["a"], hours=5)) == 1
    assert links(db_url)["NW202204290000000003"] == "NW202204290000000001"


def test_copies_in_one_batch_and_outside_the_window(db_url: str) -> None:
    store(
        db_url,
        article("NW202204290000000001", SEED_TEXT, hours=0),
        article("NW202204290000000002", REPOST_TEXT, hours=1),
        article("NW202204290000000003", REPOST_TEXT, hours=24 * 10),  # ten days later: not linked
    )
    assert links(db_url) == {
        "NW202204290000000001": None,
        "NW202204290000000002": "NW202204290000000001",
        "NW202204290000000003": None,
    }


def test_the_window_edge_holds_to_the_microsecond(db_url: str) -> None:
    # stored times are read back as text in one row (duplicates._window): no precision may be lost
    original = article("NW202204290000000001", SEED_TEXT, hours=0)
    original["published_at"] = NOON + timedelta(microseconds=123_457)
    assert store(db_url, original) == 0
    too_late = article("NW202204290000000002", REPOST_TEXT, hours=0)
    too_late["published_at"] = NOON + WINDOW + timedelta(microseconds=123_458)
    assert store(db_url, too_late) == 0  # one microsecond past the window
    at_the_edge = article("NW202204290000000003", REPOST_TEXT, hours=0)
    at_the_edge["published_at"] = NOON + WINDOW + timedelta(microseconds=123_457)
    assert store(db_url, at_the_edge) >= 1
    assert links(db_url)["NW202204290000000003"] == "NW202204290000000001"


def test_exports_can_leave_duplicates_out(db_url: str) -> None:
    store(
        db_url, article("NW202204290000000001", SEED_TEXT, 0), article("NW202204290000000002", REPOST_TEXT, 1)
    )
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        every = [r.info_code for r in iter_articles(session)]
        originals = [r.info_code for r in iter_articles(session, exclude_duplicates=True)]
    engine.dispose()
    assert every == ["NW202204290000000001", "NW202204290000000002"]
    assert originals == ["NW202204290000000001"]


def item(code: str, text: str, hours: float, fetched_hours: float = 0) -> Article:
    return Article(
        info_code=code,
        url=f"https://finance.eastmoney.com/a/{code[2:]}.html",
        feed="eastmoney",
        title=f"标题{code[-2:]}",
        published_raw="2022-04-29 12:00:00",
        published_at=NOON + timedelta(hours=hours),
        media="证券日报网",
        category="zhengquanribaowang",
        tags=["证券日报网新闻"],
        body_html=f"<p>{text}</p>",
        body_text=text,
        fetched_at=datetime(2026, 11, 24, tzinfo=UTC) + timedelta(hours=fetched_hours),
    )


def stored(db_url: str) -> dict[str, tuple[str | None, bytes | None]]:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        found = {r.info_code: (r.duplicate_of, r.fingerprint) for r in session.query(ArticleRow)}
    engine.dispose()
    return found


def test_the_writer_links_several_copies_in_one_batch_and_revisions_after(db_url: str) -> None:
    digest = PAIRS["positive"][2]["a"]
    engine = open_database(db_url)
    writer = BatchWriter(engine, near_duplicate_window=WINDOW)
    # one batch: a re-post and a digest arrive with their (earlier) original and an unrelated story
    result = writer.write(
        [
            item("NW202204290000000002", REPOST_TEXT, hours=3),
            item("NW202204290000000003", digest, hours=5),
            item("NW202204290000000001", SEED_TEXT, hours=0),
            item("NW202204290000000009", OTHER_TEXT, hours=1),
        ]
    )
    assert (result.new, result.linked) == (4, 2)
    rows = stored(db_url)
    assert {code: link for code, (link, _) in rows.items()} == {
        "NW202204290000000001": None,
        "NW202204290000000002": "NW202204290000000001",
        "NW202204290000000003": "NW202204290000000001",
        "NW202204290000000009": None,
    }
    texts = {"1": SEED_TEXT, "2": REPOST_TEXT, "3": digest, "9": OTHER_TEXT}
    assert {code: print_ for code, (_, print_) in rows.items()} == {
        f"NW20220429000000000{key}": fingerprint(text).to_bytes() for key, text in texts.items()
    }
    # a revised version of the unrelated story that is now the same story: fingerprinted again, linked
    result = writer.write([item("NW202204290000000009", SEED_TEXT, hours=1, fetched_hours=2)])
    assert (result.revised, result.linked) == (1, 1)
    assert stored(db_url)["NW202204290000000009"] == (
        "NW202204290000000001",
        fingerprint(SEED_TEXT).to_bytes(),
    )
    # with linking off, a copy is stored without a fingerprint and without a link
    plain = BatchWriter(engine, near_duplicate_window=timedelta(0))
    assert plain.write([item("NW202204290000000004", REPOST_TEXT, hours=4)]).linked == 0
    assert stored(db_url)["NW202204290000000004"] == (None, None)
    engine.dispose()


# --- Issue 13 point 15: no links through intermediates, groups within the window, no short-body groups

# Digit-free sentences of the seed article: texts made of overlapping runs of them resemble their
# neighbours only (four sentences shared of five: a copy; two of six: not).
SENTENCES = [
    sentence
    for sentence in dict.fromkeys(re.split(r"(?<=[。！？])", SEED_TEXT.replace("\n", "")))
    if 20 <= len(sentence) <= 80 and not re.search(r"\d", sentence)
]


def run(first: int, count: int = 4) -> str:
    return "".join(SENTENCES[first : first + count])


def linked(db_url: str) -> dict[str, tuple[datetime, str, str | None]]:
    """Every row's publish time, text and link."""
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        found = {
            r.info_code: (r.published_at, r.body_text, r.duplicate_of) for r in session.query(ArticleRow)
        }
    engine.dispose()
    return found


def assert_links_hold(db_url: str) -> dict[str, str | None]:
    """Every copy points to an original (a row that is no copy) published before it, at most WINDOW
    before it, whose text it resembles; so every group spans at most WINDOW. Returns the links."""
    rows = linked(db_url)
    for code, (published, text, target) in rows.items():
        if target is None:
            continue
        target_published, target_text, target_link = rows[target]
        assert target_link is None, f"{code} points to {target}, itself a copy of {target_link}"
        assert (target_published, target) < (published, code), f"{code} points to the later {target}"
        assert published - target_published <= WINDOW, (
            f"{code} is {published - target_published} after {target}"
        )
        assert near_duplicate(text, target_text), f"{code} does not resemble {target}"
    return {code: target for code, (_, _, target) in rows.items()}


CHAIN_ORDERS = [("A", "B", "C"), ("C", "B", "A"), ("B", "C", "A"), ("A", "C", "B"), ("ABC",)]


@pytest.mark.parametrize("arrivals", CHAIN_ORDERS, ids=["-".join(order) for order in CHAIN_ORDERS])
def test_a_copy_of_a_copy_is_not_linked_through_it(db_url: str, arrivals: tuple[str, ...]) -> None:
    texts = {"A": run(0), "B": run(1), "C": run(2)}  # A~B and B~C, but C shares two sentences of six with A
    assert near_duplicate(texts["A"], texts["B"]) and near_duplicate(texts["B"], texts["C"])
    assert not near_duplicate(texts["A"], texts["C"])
    code = {name: f"NW20220429000000000{index}" for index, name in enumerate("ABC", start=1)}
    for batch in arrivals:
        store(db_url, *(article(code[name], texts[name], hours="ABC".index(name)) for name in batch))
    # B is a copy of A; C resembles only B, a copy, so C is an original of its own
    assert assert_links_hold(db_url) == {code["A"]: None, code["B"]: code["A"], code["C"]: None}


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
def test_a_group_never_spans_more_than_the_window(db_url: str, newest_first: bool) -> None:
    # the same text every 20 hours for a week: each new original starts a group of the next 48 hours
    hours = list(range(0, 200, 20))
    arrivals = hours[::-1] if newest_first else hours
    for hour in arrivals:
        store(db_url, article(f"NW20220429{hour:010d}", SEED_TEXT, hours=hour))
    links = assert_links_hold(db_url)
    originals = sorted(int(code[-10:]) for code, target in links.items() if target is None)
    assert originals == [0, 60, 120, 180]


FLASH = (
    "东方财富网讯，{h}时{m}分，北向资金净流入{x}亿元，其中沪股通净流入{y}亿元。数据来源：东方财富Choice数据。",
    "东方财富网讯，截至{h}时{m}分，沪指涨{x}%，深成指涨{y}%，创业板指跌{z}%，两市成交额{w}亿元。",
    "东方财富网讯，A股开盘：沪指跌{z}%报{w}点，深成指涨{x}%，创业板指涨{y}%。",
)


def flash_item(number: int, rng: random.Random) -> Article:
    """One item of the reported flood: a template sharing boilerplate, every figure its own."""
    minutes = number * 7  # one every 7 minutes: 400 of them in under 48 hours
    text = rng.choice(FLASH).format(
        h=minutes // 60 % 24, m=minutes % 60, x=f"{rng.uniform(1, 9000):.2f}", y=f"{rng.uniform(1, 90):.2f}",
        z=f"{rng.uniform(0, 3):.2f}", w=f"{rng.uniform(3000, 9000):.2f}",
    )  # fmt: skip
    return item(f"NW20220429{number:010d}", text, hours=minutes / 60)


def test_a_flood_of_short_templated_items_forms_no_group(db_url: str) -> None:
    rng = random.Random(13)
    flood = [flash_item(number, rng) for number in range(400)]
    reposts = [  # exact re-posts of five flood items, an hour later: real copies, still linked
        item(f"NW20220430{number:010d}", flood[number].body_text or "", hours=number * 7 / 60 + 1)
        for number in range(0, 400, 80)
    ]
    engine = open_database(db_url)
    writer = BatchWriter(engine, near_duplicate_window=WINDOW)
    arrivals = flood + reposts
    random.Random(15).shuffle(arrivals)
    linked_count = sum(writer.write(arrivals[start : start + 100]).linked for start in range(0, 405, 100))
    engine.dispose()
    links = assert_links_hold(db_url)
    assert {code: target for code, target in links.items() if target} == {
        repost.info_code: flood[int(repost.info_code[-10:])].info_code for repost in reposts
    }
    assert linked_count == len(reposts)


def expected_links(rows: list[tuple[str, float, str]]) -> dict[str, str | None]:
    """The rule, row by row in publish order: a copy of the first earlier original it resembles
    within the window, else an original."""
    links: dict[str, str | None] = {}
    originals: list[tuple[float, str, str]] = []
    for code, hours, text in sorted(rows, key=lambda row: (row[1], row[0])):
        links[code] = next(
            (
                first
                for at, first, first_text in originals
                if hours - at <= 48 and near_duplicate(text, first_text)
            ),
            None,
        )
        if links[code] is None:
            originals.append((hours, code, text))
    return links


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_links_are_the_rule_whatever_the_arrival_order(db_url: str, seed: int) -> None:
    # overlapping sentence runs (neighbours alike), exact re-posts and strangers over five days, stored
    # in random batches: late originals must take over groups and free the copies that do not resemble them
    rng = random.Random(seed)
    rows = [
        (f"NW20220429{number:010d}", rng.uniform(0, 120), run(rng.randrange(6), rng.choice((4, 5))))
        for number in range(40)
    ]
    rows += [
        (f"NW20220430{number:010d}", hours + rng.uniform(0, 30), text)
        for number, (_, hours, text) in enumerate(rows[:8])
    ]
    rows += [(f"NW20220501{number:010d}", rng.uniform(0, 120), OTHER_TEXT) for number in range(3)]
    rng.shuffle(rows)
    cuts = sorted(rng.sample(range(1, len(rows)), 5))
    for start, end in zip([0, *cuts], [*cuts, len(rows)], strict=True):
        store(db_url, *(article(code, text, hours) for code, hours, text in rows[start:end]))
    links = assert_links_hold(db_url)
    assert links == expected_links(rows)
    assert any(target for target in links.values())  # the case is not empty


def test_a_back_dated_copy_relinks_a_bounded_stretch_of_the_archive(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same story every 30 minutes for ten days (as a hostile feed can serve it), then one copy
    # dated before them all: following every consequence would move the start of every group of the
    # ten days; a batch follows FOLLOWED_ROWS stored rows (100 here, to keep the archive small), and
    # every link still holds.
    monkeypatch.setattr(duplicates, "FOLLOWED_ROWS", 100)
    engine = open_database(db_url)
    writer = BatchWriter(engine, near_duplicate_window=WINDOW)
    steps = range(1, 481)
    for start in range(0, len(steps), 120):
        writer.write(
            [item(f"NW20220429{step:010d}", SEED_TEXT, hours=step / 2) for step in steps[start : start + 120]]
        )
    late = writer.write([item("NW202204290000000000", SEED_TEXT, hours=0)])
    engine.dispose()
    links = assert_links_hold(db_url)
    assert links["NW202204290000000001"] == "NW202204290000000000"  # the late row is the first original
    one_window = 2 * WINDOW.total_seconds() / 3600  # rows
    assert 100 < late.linked <= 100 + 2 * one_window < len(steps)
