"""``newsarchive runs`` and ``newsarchive show`` in-process on real SQLite and PostgreSQL archives:
exact table and article text, JSON that parses, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, inspect, update
from sqlalchemy.engine import make_url

from newsarchive.cli import main
from newsarchive.db.engine import CHECK_URL, open_database, session_factory
from newsarchive.db.models import RunRow
from newsarchive.db.repository import store_articles
from newsarchive.db.runs import finish_run, start_run
from newsarchive.text.dates import SHANGHAI
from tests.conftest import small_disk
from tests.db.test_runs import dead_pid

STARTED = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)  # 09:00:00 in Shanghai
CODE = "NW202204292366280343"
LONG_WARC = ",".join(f"data/warc/eastmoney-{n}.warc.gz" for n in range(3))
FINISHED_COUNTS = {
    "requests": 41,
    "responses_by_status": {"200": 40, "404": 1},
    "new": 36,
    "unchanged": 2,
    "revised": 1,
    "dropped": {"bad_date": 2, "no_body": 1},
    "errors": {"total": 4, "by_kind": {"download": 4, "spider": 0}},
}


pytestmark = pytest.mark.usefixtures("cli_in_tmp")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == "" and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("newsarchive: error: ")
    return line.removeprefix("newsarchive: error: ")


# --- newsarchive runs -------------------------------------------------------------------------------


@pytest.fixture
def history(db_url: str) -> str:
    """Four runs: finished ok, still running (this process), killed (dead pid), failed reparse."""
    engine = open_database(db_url)
    with session_factory(engine).begin() as session:
        ok = start_run(session, "eastmoney", {"page_size": "10", "columns": "344,345"}, started_at=STARTED)
        finish_run(
            session,
            ok,
            status="ok",
            finish_reason="finished",
            counts=FINISHED_COUNTS,
            finished_at=STARTED + timedelta(seconds=65),
        )
        start_run(session, "zqrb", {}, started_at=STARTED + timedelta(hours=1))
        killed = start_run(
            session, "eastmoney", {"media": "证券日报网"}, started_at=STARTED + timedelta(hours=2)
        )
        session.execute(update(RunRow).where(RunRow.id == killed).values(pid=dead_pid()))
        reparse = start_run(session, "reparse", {"warc": LONG_WARC}, started_at=STARTED + timedelta(hours=3))
        finish_run(
            session,
            reparse,
            status="failed",
            finish_reason="shutdown",
            counts={"new": 0, "unchanged": 12, "revised": 3, "dropped": {}, "errors": {"total": 0}},
            finished_at=STARTED + timedelta(hours=5, minutes=3, seconds=10),
        )
    engine.dispose()
    return db_url


def test_runs_table(history: str) -> None:
    result = invoke("runs", "--db", history)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines() == [  # a header, then the newest run first
        "id  spider     arguments                                 "
        "started                    duration  status       new/unchanged/revised  dropped  errors",
        "4   reparse    warc=data/warc/eastmoney-0.warc.gz,data…  "
        "2026-11-24 12:00:00+08:00  2h03m     failed       0/12/3                 0        0",
        "3   eastmoney  media=证券日报网                          "
        "2026-11-24 11:00:00+08:00  -         interrupted  -                      -        -",
        "2   zqrb                                                 "
        "2026-11-24 10:00:00+08:00  -         running      -                      -        -",
        "1   eastmoney  columns=344,345 page_size=10              "
        "2026-11-24 09:00:00+08:00  1m05s     ok           36/2/1                 3        4",
    ]


def test_runs_filtered_and_limited(history: str) -> None:
    eastmoney = invoke("runs", "--db", history, "--spider", "eastmoney", "--limit", "1")
    nothing = invoke("runs", "--db", history, "--spider", "cnstock")

    assert [line.split()[0] for line in eastmoney.stdout.splitlines()] == ["id", "3"]
    assert (nothing.exit_code, nothing.stdout) == (0, "no runs recorded\n")


def test_runs_with_a_limit_beyond_any_sql_integer_shows_every_run(history: str) -> None:
    """Issue 13: a limit past 64 bits overflowed in the database driver (a traceback)."""
    result = invoke("runs", "--db", history, "--limit", "99999999999999999999999")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["id", "4", "3", "2", "1"]


def test_runs_json_has_every_field(history: str) -> None:
    result = invoke("runs", "--db", history, "--json")

    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    assert [(run["id"], run["spider"], run["status"]) for run in runs] == [
        (4, "reparse", "failed"),
        (3, "eastmoney", "interrupted"),
        (2, "zqrb", "running"),
        (1, "eastmoney", "ok"),
    ]
    first = runs[-1]
    assert first.pop("host") and first.pop("pid")
    assert first == {
        "id": 1,
        "job": "eastmoney columns=344,345 page_size=10",
        "spider": "eastmoney",
        "arguments": {"columns": "344,345", "page_size": "10"},
        "started_at": "2026-11-24T09:00:00+08:00",
        "finished_at": "2026-11-24T09:01:05+08:00",
        "duration_seconds": 65.0,
        "status": "ok",
        "finish_reason": "finished",
        "counts": FINISHED_COUNTS,
    }
    assert runs[0]["arguments"] == {"warc": LONG_WARC}  # in full, not shortened as in the table
    assert (runs[2]["finished_at"], runs[2]["duration_seconds"], runs[2]["counts"]) == (None, None, {})


def test_runs_of_an_archive_without_runs(db_url: str) -> None:
    open_database(db_url).dispose()  # a crawl created it, and recorded nothing yet
    table = invoke("runs", "--db", db_url)
    as_json = invoke("runs", "--db", db_url, "--json")

    assert (table.exit_code, table.stdout, table.stderr) == (0, "no runs recorded\n", "")
    assert (as_json.exit_code, json.loads(as_json.stdout)) == (0, [])


def test_runs_without_db_outside_the_repository_creates_nothing(tmp_path: Path) -> None:
    """Issue 14: it created ./data/newsarchive.db wherever it was run."""
    assert one_error(invoke("runs")) == f"no archive at data/newsarchive.db ({CHECK_URL})"
    assert list(tmp_path.iterdir()) == []


def test_runs_errors_are_one_line() -> None:
    assert one_error(invoke("runs", "--db", "not a url")) == "bad database URL 'not a url'"
    assert invoke("runs", "--limit", "0").exit_code == 2


# --- newsarchive show -------------------------------------------------------------------------------


def version(title: str, paragraphs: list[str], hours: int) -> dict[str, object]:
    """An article row as the store pipeline writes it, fetched ``hours`` after STARTED."""
    return {
        "info_code": CODE,
        "title": title,
        "published_at": datetime(2022, 4, 29, 15, 3, 20, tzinfo=SHANGHAI),
        "published_raw": "2022-04-29 15:03:20",
        "media": "证券日报网",
        "category": "zhengquanribaowang",
        "tags": ["证券日报网新闻", "宏观经济"],
        "summary": "摘要",
        "author": None,
        "url": "https://finance.eastmoney.com/a/202204292366280343.html",
        "feed": "eastmoney",
        "body_html": "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs),
        "body_text": "\n".join(paragraphs),
        "extraction": None,
        "fetched_at": STARTED + timedelta(hours=hours),
    }


VERSIONS = [
    ("旧标题", ["第一段", "第二段"], 0),
    ("新标题", ["第一段", "第二段（更正）"], 2),
    ("新标题", ["第一段", "第二段（更正）", "第三段"], 5),
]


def store(db_url: str, versions: list[tuple[str, list[str], int]]) -> None:
    """Each version in its own transaction, replaced a minute after its successor was fetched."""
    engine = open_database(db_url)
    for title, paragraphs, hours in versions:
        with session_factory(engine).begin() as session:
            replaced = STARTED + timedelta(hours=hours, minutes=1)
            store_articles(session, [version(title, paragraphs, hours)], replace=False, now=replaced)
    engine.dispose()


ARTICLE_TEXT = """\
info_code:     NW202204292366280343
title:         新标题
published_at:  2022-04-29 15:03:20+08:00
media:         证券日报网
category:      zhengquanribaowang
tags:          证券日报网新闻, 宏观经济
url:           https://finance.eastmoney.com/a/202204292366280343.html
feed:          eastmoney
first_seen_at: 2026-11-24 09:00:00+08:00
last_seen_at:  2026-11-24 14:00:00+08:00
fetched_at:    2026-11-24 14:00:00+08:00
duplicate_of:  -
extraction:    -

第一段
第二段（更正）
第三段

"""

REVISIONS_TEXT = """\
2 earlier versions, newest first:

version fetched 2026-11-24 11:00:00+08:00, replaced 2026-11-24 14:01:00+08:00 (by fetch)
--- fetched 2026-11-24 11:00:00+08:00
+++ fetched 2026-11-24 14:00:00+08:00
@@ -1,2 +1,3 @@
 第一段
 第二段（更正）
+第三段

version fetched 2026-11-24 09:00:00+08:00, replaced 2026-11-24 11:01:00+08:00 (by fetch)
title: 旧标题
--- fetched 2026-11-24 09:00:00+08:00
+++ fetched 2026-11-24 11:00:00+08:00
@@ -1,2 +1,2 @@
 第一段
-第二段
+第二段（更正）
"""


def test_show_an_article_with_its_revisions(db_url: str) -> None:
    store(db_url, VERSIONS)

    result = invoke("show", CODE, "--db", db_url)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == ARTICLE_TEXT + REVISIONS_TEXT
    assert invoke("show", "202204292366280343", "--db", db_url).stdout == result.stdout  # the bare code


def test_show_an_article_never_revised(db_url: str) -> None:
    store(db_url, VERSIONS[-1:])

    result = invoke("show", CODE, "--db", db_url)

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("第一段\n第二段（更正）\n第三段\n\nno earlier versions\n")
    assert "first_seen_at: 2026-11-24 14:00:00+08:00\n" in result.stdout


def test_show_json(db_url: str) -> None:
    store(db_url, VERSIONS)

    result = invoke("show", CODE, "--db", db_url, "--json")

    assert result.exit_code == 0, result.output
    article = json.loads(result.stdout)
    revisions = article.pop("revisions")
    assert len(article.pop("content_hash")) == 64
    assert article == {
        **{key: value for key, value in version(*VERSIONS[-1]).items() if key != "fetched_at"},
        "published_at": "2022-04-29T15:03:20+08:00",
        "duplicate_of": None,
        "first_seen_at": "2026-11-24T09:00:00+08:00",
        "last_seen_at": "2026-11-24T14:00:00+08:00",
        "fetched_at": "2026-11-24T14:00:00+08:00",
    }
    fields = ("fetched_at", "replaced_at", "reason", "title", "body_text")
    assert [tuple(revision[name] for name in fields) for revision in revisions] == [
        (
            "2026-11-24T11:00:00+08:00",
            "2026-11-24T14:01:00+08:00",
            "fetch",
            "新标题",
            "第一段\n第二段（更正）",
        ),
        ("2026-11-24T09:00:00+08:00", "2026-11-24T11:01:00+08:00", "fetch", "旧标题", "第一段\n第二段"),
    ]
    assert revisions[1]["body_html"] == "<p>第一段</p><p>第二段</p>"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NW000000000000000001", "no article NW000000000000000001 in the archive"),
        ("000000000000000001", "no article NW000000000000000001 in the archive"),
        ("ZQRB-A1774350569667", "no article ZQRB-A1774350569667 in the archive"),
        ("../etc/passwd", "not an article code: '../etc/passwd'"),
        ("NW123", "not an article code: 'NW123'"),
    ],
)
def test_show_an_unknown_or_malformed_code_is_one_line(db_url: str, code: str, expected: str) -> None:
    store(db_url, VERSIONS[:1])
    assert one_error(invoke("show", code, "--db", db_url)) == expected
    assert one_error(invoke("show", code, "--db", db_url, "--json")) == expected


def test_show_with_a_bad_database_is_one_line() -> None:
    assert one_error(invoke("show", CODE, "--db", "not a url")) == "bad database URL 'not a url'"


# --- reading never writes ---------------------------------------------------------------------------

READERS = [("runs",), ("runs", "--json"), ("show", CODE)]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_mistyped_sqlite_path_is_no_archive_and_creates_nothing(
    tmp_path: Path, command: tuple[str]
) -> None:
    """Issue 14: ``runs`` and ``show`` created the file and its folders, then reported it empty."""
    path = tmp_path / "archvie" / "newsarchive.db"

    assert one_error(invoke(*command, "--db", f"sqlite:///{path}")) == f"no archive at {path} ({CHECK_URL})"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_an_empty_postgresql_database_is_no_archive_and_gets_no_schema(
    postgres_url: str, command: tuple[str]
) -> None:
    message = one_error(invoke(*command, "--db", postgres_url))

    assert message == (
        f"{make_url(postgres_url).render_as_string()} is not a newsarchive archive (no schema): "
        f"{CHECK_URL}, or run `newsarchive db upgrade` to make it one"
    )
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    engine.dispose()


@contextmanager
def read_only_mount(folder: Path) -> Iterator[Path]:
    """``folder`` on a tmpfs of its own, to be made read-only with :func:`remount_read_only`."""
    with small_disk(folder, 4096) as mounted:
        yield mounted


def remount_read_only(folder: Path) -> None:
    done = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # small_disk could mount, so remounting is permitted
    with pytest.raises(OSError):
        (folder / "probe").touch()


KILLED_WRITER = """
import os, sys
from newsarchive.db.engine import CHECK_URL, open_database, session_factory
from newsarchive.db.runs import start_run
engine = open_database(sys.argv[1])
with session_factory(engine).begin() as session:
    start_run(session, "zqrb", {})
os._exit(0)  # as SIGKILL would: no checkpoint, the run exists only in the -wal file
"""


def archive_outputs(url: str, out: Path) -> tuple[str, str, str]:
    """What ``runs``, ``show`` and ``export jsonl`` print and write for the archive at ``url``."""
    runs, shown = invoke("runs", "--db", url), invoke("show", CODE, "--db", url)
    exported = invoke("export", "jsonl", "--db", url, "--out", str(out))
    for result in (runs, shown, exported):
        assert (result.exit_code, result.stderr) == (0, ""), result.output
    return runs.stdout, shown.stdout, out.read_text(encoding="utf-8")


@pytest.mark.parametrize("writer", ["closed", "killed"])
def test_a_wal_archive_on_a_read_only_mount_can_be_read(tmp_path: Path, writer: str) -> None:
    """Issue 13: SQLite could not create the WAL index (-shm) beside a read-only archive, so even
    ``show`` failed. A writer killed mid-run leaves its last commits in the -wal file: they are read."""
    with read_only_mount(tmp_path / "档案 #1 &x=y") as folder:  # the name must survive a URI
        url = f"sqlite:///{folder / 'archive.db'}"
        store(url, VERSIONS)
        runs, shown, exported = archive_outputs(url, tmp_path / "before.jsonl")
        assert [path.name for path in folder.iterdir()] == ["archive.db"]  # reading left nothing behind
        if writer == "killed":
            subprocess.run([sys.executable, "-c", KILLED_WRITER, url], check=True)
            assert (folder / "archive.db-wal").stat().st_size > 0

        remount_read_only(folder)

        runs_after, shown_after, exported_after = archive_outputs(url, tmp_path / "after.jsonl")
        assert (shown_after, exported_after) == (shown, exported)
        if writer == "killed":
            assert [line.split()[1] for line in runs_after.splitlines()] == ["spider", "zqrb"]
        else:
            assert runs_after == runs == "no runs recorded\n"


def test_a_read_only_archive_whose_last_commits_cannot_be_read_says_so(tmp_path: Path) -> None:
    """A killed writer's -wal without its -shm, in a read-only folder: SQLite could only read the
    file without those commits, so the reader refuses in one line instead of showing stale data."""
    with read_only_mount(tmp_path / "mount") as folder:
        url = f"sqlite:///{folder / 'archive.db'}"
        store(url, VERSIONS)
        subprocess.run([sys.executable, "-c", KILLED_WRITER, url], check=True)
        (folder / "archive.db-shm").unlink()
        remount_read_only(folder)

        for command in READERS:
            assert one_error(invoke(*command, "--db", url)) == (
                f"cannot read {folder / 'archive.db'}: its last commits are in archive.db-wal, which needs "
                "a archive.db-shm file that this read-only folder cannot hold; copy the archive to a "
                "writable folder"
            )
