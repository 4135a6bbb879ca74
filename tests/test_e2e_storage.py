"""End to end storage: revisions of re-fetched articles, and a database that goes away in the middle
of a real crawl, then comes back.

The outage is real: on SQLite another connection holds the write lock; on PostgreSQL the server
refuses the test database and its connections are cut. It starts, deterministically, when the
sample site receives the first article request (before any article could be stored). The crawl
must stop with a non-zero exit, keep every scraped item in a dead-letter file, and ``newsarchive
load`` plus the next crawl must leave the archive equal to an uninterrupted crawl.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from newsarchive.db.engine import open_database
from newsarchive.samplesite import SampleSite
from tests.conftest import POSTGRES_ADMIN_URL, run_cli
from tests.support import FAST_SETTINGS, ArticleHookSite, crawl, stored_rows

SAMPLE_ROOT = Path(__file__).resolve().parents[1] / "data" / "sample"

COLUMNS = ("-a", "columns=344,345", "-a", "page_size=10")
OUTAGE_SETTINGS = (
    "-s", "NEWSARCHIVE_STORE_BATCH_SIZE=5",
    "-s", "NEWSARCHIVE_DB_RETRY_SECONDS=2",
    "-s", "NEWSARCHIVE_DB_BUSY_TIMEOUT=0.2",
)  # fmt: skip


class Outage:
    """Starts and ends a real outage of the database at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._holder: sqlite3.Connection | None = None

    def begin(self) -> None:
        if self.url.startswith("sqlite"):
            # another process's write transaction that never ends (check_same_thread: the sample
            # site's handler thread starts it, the test thread ends it)
            self._holder = sqlite3.connect(
                self.url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
            )
            self._holder.execute("BEGIN IMMEDIATE")
        else:
            self._postgres(allow=False)

    def end(self) -> None:
        if self._holder is not None:
            self._holder.rollback()
            self._holder.close()
            self._holder = None
        elif not self.url.startswith("sqlite"):
            self._postgres(allow=True)

    def _postgres(self, *, allow: bool) -> None:
        name = self.url.rsplit("/", 1)[1]
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allow).lower()}'))
            if not allow:
                connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                )
        admin.dispose()


@contextmanager
def outage_site(outage: Outage) -> Iterator[ArticleHookSite]:
    site = ArticleHookSite(lambda number: outage.begin() if number == 0 else None)
    try:
        with site:
            yield site
    finally:
        outage.end()


def crawl_process(origin: str, db_url: str, cwd: Path, *settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "newsarchive", "crawl", "eastmoney", *COLUMNS, "--db", db_url,
            "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS, *settings,
        ],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def reference(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """What an uninterrupted crawl of the same listings stores."""
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    with SampleSite() as site:
        crawl("eastmoney", site.origin, url, tmp_path, *COLUMNS)
    return stored_rows(url)


def test_outage_mid_crawl_stops_dead_letters_and_load_restores_everything(
    db_url: str, tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    open_database(db_url).dispose()  # the archive exists before the crawl, as in production
    deadletters = tmp_path / "deadletter"
    outage = Outage(db_url)
    with outage_site(outage) as site:
        result = crawl_process(
            site.origin, db_url, tmp_path, *OUTAGE_SETTINGS, "-s", f"NEWSARCHIVE_DEADLETTER_DIR={deadletters}"
        )
        fetched = len(site.article_requests())
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "ended early: database_unavailable" in result.stderr
    assert "could not be stored; they were saved to" in result.stderr
    assert stored_rows(db_url) == {}  # the outage began before the first article arrived

    files = sorted(deadletters.glob("eastmoney-*.jsonl"))
    assert len(files) == 1
    assert f"saved to {files[0]} (store them with newsarchive load)" in result.stderr
    records = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert len(records) == len({record["info_code"] for record in records}) > 0
    # every article page that was answered was scraped and kept (none of the sample pages is bad)
    assert len(records) == fetched

    loaded = run_cli("load", str(files[0]), "--db", db_url, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert f"{len(records)} items: {len(records)} new" in loaded.stdout
    assert set(stored_rows(db_url)) == {record["info_code"] for record in records}

    again = run_cli("load", str(files[0]), "--db", db_url, cwd=tmp_path)  # loading twice is harmless
    assert f"{len(records)} items: 0 new, {len(records)} already stored" in again.stdout

    with SampleSite() as site:  # the next scheduled run fetches whatever the stopped crawl left
        crawl("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)
        assert len(site.article_requests()) == len(reference) - len(records)
    assert stored_rows(db_url) == reference


def test_short_lock_is_waited_out_without_losing_anything(
    sqlite_url: str, tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    open_database(sqlite_url).dispose()
    holder = sqlite3.connect(
        sqlite_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
    )
    timers: list[threading.Timer] = []

    def lock_briefly(number: int) -> None:  # another writer holds the lock 3 s from the 1st article on
        if number:
            return
        holder.execute("BEGIN IMMEDIATE")
        timers.append(threading.Timer(3.0, holder.rollback))
        timers[0].start()

    with ArticleHookSite(lock_briefly) as site:
        result = crawl_process(
            site.origin, sqlite_url, tmp_path,
            "-s", "NEWSARCHIVE_STORE_BATCH_SIZE=5", "-s", "NEWSARCHIVE_DB_RETRY_SECONDS=60",
            "-s", "NEWSARCHIVE_DB_BUSY_TIMEOUT=0.2",
        )  # fmt: skip
    timers[0].join()
    holder.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "database retries:" in result.stdout
    assert not (tmp_path / "data" / "deadletter").exists()
    assert stored_rows(sqlite_url) == reference


def test_refetched_corrected_article_is_revised_and_its_old_version_kept(db_url: str, tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE_ROOT, root)
    page = root / "eastmoney" / "articles" / "202204292366280343.html"
    with SampleSite(root) as site:
        crawl("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)
        before = stored_rows(db_url)
        html = page.read_text(encoding="utf-8")
        assert html.count("订单锐减") == 1
        page.write_text(html.replace("订单锐减", "订单大幅减少"), encoding="utf-8")  # the site corrects it
        site.stop()
        site.start()  # reload the pages (same data directory)
        site.clear_requests()
        # without NEWSARCHIVE_REFETCH_HOURS nothing stored is requested again
        crawl("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)
        assert site.article_requests() == []
        # the sample articles are from 2021-2022: a window of years re-fetches all of them
        output = crawl(
            "eastmoney", site.origin, db_url, tmp_path, *COLUMNS, "-s", "NEWSARCHIVE_REFETCH_HOURS=100000"
        )
        assert len(site.article_requests()) == len(before)
    assert "revised:               1  (" in output
    after = stored_rows(db_url)
    code = "NW202204292366280343"
    assert "订单大幅减少" in after[code]["body_text"] and "订单锐减" not in after[code]["body_text"]
    assert {c: r for c, r in after.items() if c != code} == {c: r for c, r in before.items() if c != code}
    engine = open_database(db_url)
    with engine.connect() as connection:
        history = connection.execute(
            text("SELECT info_code, title, body_text, reason FROM article_revisions")
        ).all()
    engine.dispose()
    assert [(r.info_code, r.title, r.reason) for r in history] == [(code, before[code]["title"], "fetch")]
    assert history[0].body_text == before[code]["body_text"]

    shown = run_cli("show", code, "--db", db_url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    diff = [line for line in shown.stdout.splitlines() if line.startswith(("-", "+"))]
    assert any("订单锐减" in line for line in diff if line.startswith("-"))
    assert any("订单大幅减少" in line for line in diff if line.startswith("+"))
