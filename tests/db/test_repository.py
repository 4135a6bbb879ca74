"""Storage on real SQLite and real PostgreSQL: schema creation, dedup in the database, round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from newsarchive.db.engine import DatabaseError, open_database, session_factory
from newsarchive.db.models import ArticleRevision, ArticleRow, Base, content_hash
from newsarchive.db.repository import count_articles, iter_articles, store_articles, stored_listing_state
from newsarchive.text.dates import SHANGHAI

FETCHED = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def row(
    code: str,
    title: str = "标题",
    published: datetime | None = None,
    fetched: datetime = FETCHED,
    body: str = "正文",
) -> dict[str, object]:
    when = published or datetime(2022, 4, 29, 15, 3, 20, tzinfo=SHANGHAI)
    return {
        "info_code": code,
        "title": title,
        "published_at": when,
        "published_raw": "2022-04-29 15:03:20",
        "media": "证券日报网",
        "category": "zhengquanribaowang",
        "tags": ["证券日报网新闻"],
        "summary": "摘要",
        "author": None,
        "url": "https://finance.eastmoney.com/a/x.html",
        "feed": "eastmoney",
        "body_html": f"<p>{body}</p>",
        "body_text": body,
        "extraction": None,
        "fetched_at": fetched,
    }


def test_new_database_gets_the_schema_and_migrations_match_models(db_url: str) -> None:
    engine = open_database(db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_dedup_is_enforced_by_the_database(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        first = store_articles(
            session, [row("NW202204292366280343"), row("NW202204292366280344")], replace=False
        )
    with factory.begin() as session:
        second = store_articles(
            session,
            [row("NW202204292366280343"), row("NW202204292366280345")],
            replace=False,
        )
    assert (first.new, first.unchanged) == (2, 0)
    assert (second.new, second.unchanged) == (1, 1)
    with factory() as session:
        assert count_articles(session) == 3
        assert set(stored_listing_state(session, ["NW202204292366280343", "NW000000000000000000"])) == {
            "NW202204292366280343"
        }
    with pytest.raises(IntegrityError), factory.begin() as session:
        session.add(ArticleRow(**row("NW202204292366280343")))
    engine.dispose()


def test_replace_rewrites_the_stored_row(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        store_articles(session, [row("NW202204292366280343")], replace=False)
    with factory.begin() as session:
        result = store_articles(session, [row("NW202204292366280343", title="新标题")], replace=True)
    assert (result.new, result.unchanged, result.revised) == (0, 0, 1)
    with factory() as session:
        assert [r.title for r in iter_articles(session)] == ["新标题"]
    engine.dispose()


def test_times_round_trip_as_aware_shanghai(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    later = datetime(2022, 4, 30, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    with factory.begin() as session:
        store_articles(
            session,
            [row("NW202204292366280344", published=later), row("NW202204292366280343")],
            replace=False,
        )
    with factory() as session:
        stored = list(iter_articles(session))
    assert [r.info_code for r in stored] == ["NW202204292366280343", "NW202204292366280344"]
    assert stored[0].published_at.isoformat() == "2022-04-29T15:03:20+08:00"
    assert stored[1].published_at.isoformat() == "2022-04-30T09:00:00+08:00"
    engine.dispose()


def test_database_with_unknown_schema_is_refused_untouched(sqlite_url: str) -> None:
    engine = open_database(sqlite_url, check_schema=False)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE other (x INTEGER)"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="newsarchive db upgrade"):
        open_database(sqlite_url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "bad database URL"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/none", "cannot use database"),
        ("sqlite:////proc/definitely/not/here.db", "cannot create database folder"),
    ],
)
def test_bad_database_urls_raise_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(DatabaseError) as raised:
        open_database(url)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_versions_in_any_order_end_with_the_latest_current_and_each_other_once(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    code = "NW202204292366280343"
    hour = timedelta(hours=1)
    v1, v2, v3 = (row(code, body=f"第{n}版", fetched=FETCHED + n * hour) for n in (1, 2, 3))
    results = []
    for batch in ([v2], [v3], [v1], [v1], [v2, v3]):  # v1 arrives late, twice; v2 and v3 again
        with factory.begin() as session:
            results.append(store_articles(session, batch, replace=False))
    assert [(r.new, r.unchanged, r.revised, r.stale) for r in results] == [
        (1, 0, 0, 0),
        (0, 0, 1, 0),
        (0, 0, 0, 1),
        (0, 0, 0, 1),
        (0, 1, 0, 1),  # v2 and v3 in one batch: v3 is current (unchanged), v2 history (stale)
    ]
    with factory() as session:
        current = session.query(ArticleRow).one()
        history = session.query(ArticleRevision).order_by(ArticleRevision.fetched_at).all()
    assert (current.body_text, current.fetched_at, current.first_seen_at) == (
        "第3版",
        v3["fetched_at"],
        v2["fetched_at"],
    )
    assert current.last_seen_at == v3["fetched_at"]
    assert current.content_hash == content_hash(str(v3["title"]), str(v3["body_html"]))
    assert [(h.body_text, h.fetched_at, h.reason) for h in history] == [
        ("第1版", v1["fetched_at"], "fetch"),
        ("第2版", v2["fetched_at"], "fetch"),
    ]
    engine.dispose()


def fast_row(code: str, **changes: object) -> dict[str, object]:
    """The same article as :func:`row`, as the 7x24 spider stores it (category emnews, its digest)."""
    return {
        **row(code, **changes),  # type: ignore[arg-type]
        "feed": "eastmoney_fast",
        "category": "emnews",
        "tags": ["东财滚动新闻"],
        "summary": "快讯摘要",
    }


FEED_COLUMNS = ("feed", "category", "tags", "summary")


def _feed_of(factory: object, code: str) -> tuple[object, ...]:
    with factory() as session:  # type: ignore[operator]
        stored = session.scalars(select(ArticleRow).where(ArticleRow.info_code == code)).one()
        return tuple(getattr(stored, name) for name in FEED_COLUMNS)


@pytest.mark.parametrize("later_fetch", [True, False], ids=["fetched-later", "fetched-earlier"])
@pytest.mark.parametrize("content", ["same", "changed"])
def test_a_column_row_stored_first_moves_to_the_7x24_feed(
    db_url: str, later_fetch: bool, content: str
) -> None:
    """Issue 13 point 7: the 7x24 crawl fetched an article the column crawl stored meanwhile (both
    saw it unstored at their listing check). Whichever store commits second, the row ends on the 7x24
    feed with its digest, as if the 7x24 crawl had claimed it: the feed rule does not depend on timing."""
    code = "NW202204292366280343"
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        store_articles(session, [row(code)], replace=False)
    fetched = FETCHED + timedelta(minutes=1 if later_fetch else -1)
    body = "正文" if content == "same" else "更正后的正文"
    with factory.begin() as session:
        result = store_articles(session, [fast_row(code, fetched=fetched, body=body)], replace=False)
    assert result.moved == 1
    assert _feed_of(factory, code) == ("eastmoney_fast", "emnews", ["东财滚动新闻"], "快讯摘要")
    engine.dispose()


@pytest.mark.parametrize("replace", [False, True], ids=["crawl", "reparse"])
def test_a_7x24_row_never_goes_back_to_a_column_feed(db_url: str, replace: bool) -> None:
    """The other order: the column crawl's copy arrives after the 7x24 one (or a reparse of the
    column crawl's WARC alone rewrites the metadata): the row stays on the 7x24 feed."""
    code = "NW202204292366280343"
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        store_articles(session, [fast_row(code)], replace=False)
    with factory.begin() as session:
        result = store_articles(
            session, [row(code, fetched=FETCHED + timedelta(minutes=1), title="新标题")], replace=replace
        )
    assert result.moved == 0
    assert _feed_of(factory, code) == ("eastmoney_fast", "emnews", ["东财滚动新闻"], "快讯摘要")
    engine.dispose()


def test_both_feeds_in_one_batch_store_the_7x24_version(db_url: str) -> None:
    code = "NW202204292366280343"
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        store_articles(
            session, [fast_row(code), row(code, fetched=FETCHED + timedelta(minutes=1))], replace=False
        )
    assert _feed_of(factory, code) == ("eastmoney_fast", "emnews", ["东财滚动新闻"], "快讯摘要")
    engine.dispose()
