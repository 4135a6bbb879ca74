"""The schema check and migrations on real SQLite and PostgreSQL (issue 5): every command creates a
brand-new database at head by itself, refuses one that is behind or unknown with one line naming
``newsarchive db upgrade`` without touching it, ``db upgrade`` migrates old rows, and the migrations,
step by step and back down, agree with the models.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, DateTime, bindparam, create_engine, inspect, select, text
from sqlalchemy.engine import Connection, make_url

from newsarchive.cli import main as cli_main
from newsarchive.db.engine import alembic_config, head_revision, open_database, session_factory, writer
from newsarchive.db.models import ArticleRevision, ArticleRow, Base, content_hash
from newsarchive.db.repository import store_articles
from newsarchive.text.dates import SHANGHAI
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS

UPGRADE_HINT = "newsarchive db upgrade"
# a revision this release does not know was written by a newer one: the user must upgrade newsarchive
NEWER_HINT = "made by a newer newsarchive; upgrade newsarchive"
FUTURE_REVISION = "9999"
OLD_REVISION = "0003"
CLOSED_ORIGIN = "http://127.0.0.1:9"  # a crawl that wrongly got past the check must not reach the internet
OLD_CODE = "NW202204292366280343"

# An article as newsarchive stored it at revision 0001 (later revisions only add columns); times
# are naive UTC, as AwareDateTime writes them.
OLD_ARTICLE: dict[str, Any] = {
    "info_code": OLD_CODE,
    "title": "宝藏工厂“论剑”1688",
    "published_at": datetime(2022, 4, 29, 7, 3, 20),
    "published_raw": "2022-04-29 15:03:20",
    "media": "证券日报网",
    "category": "zhengquanribaowang",
    "tags": ["证券日报网新闻"],
    "summary": "订单锐减",
    "author": None,
    "url": "https://finance.eastmoney.com/a/202204292366280343.html",
    "feed": "eastmoney",
    "body_html": "<p>订单锐减、原材料价格上涨。</p>",
    "body_text": "订单锐减、原材料价格上涨。",
    "first_seen_at": datetime(2022, 4, 29, 8, 0, 0),
    "last_seen_at": datetime(2022, 5, 1, 8, 0, 0),
}
INSERT_OLD_ARTICLE = text(
    f"INSERT INTO articles ({', '.join(OLD_ARTICLE)}) VALUES ({', '.join(':' + c for c in OLD_ARTICLE)})"
).bindparams(
    bindparam("tags", type_=JSON),
    *(bindparam(name, type_=DateTime) for name in ("published_at", "first_seen_at", "last_seen_at")),
)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    return Path(str(make_url(url).database))


def build_database(url: str, revision: str, *, rows: list[dict[str, Any]] | None = None) -> None:
    """A newsarchive database as an older release left it: migrated to ``revision`` only (SQLite in
    WAL mode, as every release opened it), holding ``rows`` inserted with plain SQL."""
    engine = open_database(url, check_schema=False)
    with writer(engine).begin() as connection:
        command.upgrade(alembic_config(connection), revision)
        for values in rows or []:
            connection.execute(INSERT_OLD_ARTICLE, values)
    engine.dispose()


def snapshot(url: str) -> Any:
    """Everything a refused command must leave as it was. SQLite: the file's bytes and the folder
    (no -wal/-shm left behind); PostgreSQL: every table's columns and rows."""
    if is_sqlite(url):
        path = sqlite_path(url)
        return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())
    engine = create_engine(url)
    tables: dict[str, Any] = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            columns = [column["name"] for column in inspect(connection).get_columns(table)]
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            tables[table] = (columns, sorted(tuple(map(repr, row)) for row in rows))
    engine.dispose()
    return tables


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def schema_diff(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def refused_commands(url: str, tmp_path: Path) -> dict[str, tuple[str, ...]]:
    """The commands every user runs, pointed at ``url``; ``runs`` only once the command exists."""
    commands = {
        "crawl": (
            "crawl", "eastmoney", "-a", "pages=1", "--db", url,
            "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={CLOSED_ORIGIN}", *FAST_SETTINGS,
        ),
        "export": ("export", "jsonl", "--db", url, "--out", str(tmp_path / "out" / "articles.jsonl")),
    }  # fmt: skip
    if "runs" in cli_main.commands:
        commands["runs"] = ("runs", "--db", url)
    return commands


def assert_refused(url: str, tmp_path: Path, name: str, hint: str = UPGRADE_HINT) -> str:
    """Run one command against a database that must be refused; returns its single stderr line,
    which must hold ``hint``."""
    commands = refused_commands(url, tmp_path)
    if name not in commands:
        pytest.skip(f"`newsarchive {name}` does not exist yet")
    before = snapshot(url)
    result = run_cli(*commands[name], cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert hint in lines[0]
    assert snapshot(url) == before, "a refused command changed the database"
    assert not (tmp_path / "out").exists()  # the export wrote nothing either
    assert not (tmp_path / "data" / "warc").exists()  # and the crawl never started
    return lines[0]


@pytest.mark.parametrize("name", ["crawl", "export", "runs"])
def test_old_schema_is_refused_in_one_line_untouched(db_url: str, tmp_path: Path, name: str) -> None:
    build_database(db_url, OLD_REVISION, rows=[OLD_ARTICLE])
    line = assert_refused(db_url, tmp_path, name)
    assert OLD_REVISION in line
    assert current_revision(db_url) == OLD_REVISION


def build_future_database(url: str) -> None:
    """A database a newer newsarchive left: at a revision this release does not know."""
    build_database(url, "head", rows=[])
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE alembic_version SET version_num = '{FUTURE_REVISION}'"))
    engine.dispose()


@pytest.mark.parametrize("name", ["crawl", "export", "runs"])
def test_unknown_revision_is_refused_in_one_line_untouched(db_url: str, tmp_path: Path, name: str) -> None:
    """Issue 13: a newer release's database was told to run `db upgrade`, which then failed."""
    build_future_database(db_url)
    line = assert_refused(db_url, tmp_path, name, hint=NEWER_HINT)
    assert FUTURE_REVISION in line
    assert UPGRADE_HINT not in line
    assert current_revision(db_url) == FUTURE_REVISION


@pytest.mark.parametrize("name", ["crawl", "export"])
def test_foreign_tables_without_a_version_are_refused_untouched(
    db_url: str, tmp_path: Path, name: str
) -> None:
    engine = open_database(db_url, check_schema=False)  # WAL, so only the check itself is on trial
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT)"))
        connection.execute(text("INSERT INTO ledger (id, note) VALUES (1, '不是新闻')"))
    engine.dispose()
    assert_refused(db_url, tmp_path, name)


def test_foreign_sqlite_file_keeps_its_journal_mode(sqlite_url: str, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(sqlite_path(sqlite_url)) as connection:  # another program's database
        connection.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT)")
    before = sqlite_path(sqlite_url).read_bytes()
    result = run_cli("export", "jsonl", "--db", sqlite_url, "--out", str(tmp_path / "x.jsonl"), cwd=tmp_path)
    assert result.returncode != 0 and UPGRADE_HINT in result.stderr
    assert sqlite_path(sqlite_url).read_bytes() == before


def test_db_upgrade_migrates_old_rows_then_they_export(db_url: str, tmp_path: Path) -> None:
    build_database(db_url, OLD_REVISION, rows=[OLD_ARTICLE])

    result = run_cli("db", "upgrade", "--db", db_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == f"database at revision {head_revision()}"
    assert current_revision(db_url) == head_revision()

    engine = open_database(db_url)  # accepted now
    with engine.connect() as connection:
        assert schema_diff(connection) == []
    with session_factory(engine)() as session:
        (row,) = session.scalars(select(ArticleRow)).all()
    engine.dispose()
    assert row.info_code == OLD_CODE
    assert row.fetched_at == row.first_seen_at == datetime(2022, 4, 29, 16, 0, tzinfo=SHANGHAI)
    assert row.content_hash == content_hash(OLD_ARTICLE["title"], OLD_ARTICLE["body_html"])
    assert (row.title, row.body_html, row.tags) == (
        OLD_ARTICLE["title"],
        OLD_ARTICLE["body_html"],
        OLD_ARTICLE["tags"],
    )

    out = tmp_path / "articles.jsonl"
    exported = run_cli("export", "jsonl", "--db", db_url, "--out", str(out), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["info_code"] == OLD_CODE
    assert record["published_at"] == "2022-04-29T15:03:20+08:00"
    assert record["body_html"] == OLD_ARTICLE["body_html"]

    again = run_cli("db", "upgrade", "--db", db_url, cwd=tmp_path)  # nothing left to do
    assert (again.returncode, again.stderr) == (0, "")


def test_db_upgrade_of_an_unknown_revision_fails_in_one_line_untouched(db_url: str, tmp_path: Path) -> None:
    build_future_database(db_url)
    before = snapshot(db_url)
    result = run_cli("db", "upgrade", "--db", db_url, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("newsarchive: error: ")
    assert FUTURE_REVISION in line and NEWER_HINT in line
    assert snapshot(db_url) == before


def test_new_database_is_created_at_head_by_db_upgrade_alone(db_url: str, tmp_path: Path) -> None:
    """``db upgrade`` (like crawl, backfill, reparse, load and demo) creates a new archive; export,
    which only reads, no longer does (issue 14, tests/test_read_only_commands.py)."""
    if is_sqlite(db_url):  # a file in a folder that does not exist yet
        db_url = f"sqlite:///{tmp_path / 'new' / 'folder' / 'archive.db'}"
        assert not sqlite_path(db_url).parent.exists()
    else:  # the fixture's database is brand new: no table at all
        engine = create_engine(db_url)
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
        engine.dispose()

    result = run_cli("db", "upgrade", "--db", db_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == f"database at revision {head_revision()}\n"
    assert current_revision(db_url) == head_revision()
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert schema_diff(connection) == []
    engine.dispose()


def revisions_in_order() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_step_by_step_upgrade_with_data_matches_models_and_round_trips(db_url: str) -> None:
    """0001 → head one revision at a time with rows written along the way, then models and database
    agree and the archive works; a downgrade to 0003 and back keeps every article and agrees again."""
    revisions = revisions_in_order()
    assert revisions[:4] == ["0001", "0002", "0003", "0004"] and revisions[-1] == head_revision()
    second = {**OLD_ARTICLE, "info_code": "NW202204292366280344", "title": "第二篇", "body_html": "<p>二</p>"}
    engine = open_database(db_url, check_schema=False)
    for revision in revisions:
        with writer(engine).begin() as connection:
            command.upgrade(alembic_config(connection), revision)
            if revision == "0001":
                connection.execute(INSERT_OLD_ARTICLE, OLD_ARTICLE)
            if revision == "0003":  # a row the 0003 release wrote, with the columns 0002/0003 added
                connection.execute(INSERT_OLD_ARTICLE, second)
                connection.execute(
                    text("UPDATE articles SET extraction = 'generic', duplicate_of = :first WHERE id = 2"),
                    {"first": OLD_CODE},
                )
    engine.dispose()
    check_migrated_rows(db_url, {OLD_CODE: OLD_ARTICLE, second["info_code"]: second})

    # the migrated archive works: a re-fetched, changed old article keeps its old version as history
    corrected = "<p>订单锐减、原材料价格上涨（更正）。</p>"
    refetched = {
        **{key: value for key, value in OLD_ARTICLE.items() if not key.endswith("_seen_at")},
        "published_at": OLD_ARTICLE["published_at"].replace(tzinfo=UTC),
        "body_html": corrected,
        "extraction": None,
        "fetched_at": datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
    }
    engine = open_database(db_url)
    with session_factory(writer(engine)).begin() as session:
        assert store_articles(session, [refetched], replace=False).revised == 1
    with session_factory(engine)() as session:
        (revision,) = session.scalars(select(ArticleRevision)).all()
    assert revision.content_hash == content_hash(OLD_ARTICLE["title"], OLD_ARTICLE["body_html"])
    assert revision.fetched_at == OLD_ARTICLE["first_seen_at"].replace(tzinfo=UTC)

    # down to 0003 (the history tables go, every article stays) and back up
    with writer(engine).begin() as connection:
        command.downgrade(alembic_config(connection), OLD_REVISION)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == OLD_REVISION
        assert not {"article_revisions", "runs"} & set(inspect(connection).get_table_names())
        assert connection.scalar(text("SELECT count(*) FROM articles")) == 2
    with writer(engine).begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    engine.dispose()
    check_migrated_rows(
        db_url, {OLD_CODE: {**OLD_ARTICLE, "body_html": corrected}, second["info_code"]: second}
    )


def check_migrated_rows(db_url: str, expected: dict[str, dict[str, Any]]) -> None:
    """The database is accepted, agrees with the models, and holds exactly these articles, each with
    ``fetched_at = first_seen_at`` and the content hash of its title and body, as 0004 fills them."""
    engine = open_database(db_url)
    with engine.connect() as connection:
        assert schema_diff(connection) == [], "models and migrations disagree"
        assert connection.scalar(text("SELECT count(*) FROM article_revisions")) == 0
    with session_factory(engine)() as session:
        rows = {row.info_code: row for row in session.scalars(select(ArticleRow))}
    engine.dispose()
    assert set(rows) == set(expected)
    for code, original in expected.items():
        row = rows[code]
        assert row.first_seen_at == original["first_seen_at"].replace(tzinfo=UTC)
        assert row.fetched_at == row.first_seen_at
        assert row.content_hash == content_hash(original["title"], original["body_html"])
        assert (row.title, row.body_html, row.tags, row.url, row.published_at) == (
            original["title"],
            original["body_html"],
            original["tags"],
            original["url"],
            original["published_at"].replace(tzinfo=UTC),
        )
    linked = rows["NW202204292366280344"]
    assert (linked.extraction, linked.duplicate_of) == ("generic", OLD_CODE)
