"""Near-duplicate linking in real SQLite and PostgreSQL: links to the earliest copy, in any order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsarchive.db.duplicates import link_near_duplicates
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import ArticleRow
from newsarchive.db.repository import iter_articles, store_articles
from newsarchive.db.writer import BatchWriter
from newsarchive.items import Article
from newsarchive.text.dates import SHANGHAI
from newsarchive.text.fingerprint import fingerprint
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
