"""Run history end to end: real crawls of the loopback sample site (``newsarchive crawl``, ``scrapy
crawl``, ``newsarchive reparse``) each record one run in the database they write, with its counts.

A run is recorded from the moment its spider opens. A crawl refused before that (a bad spider
argument) is not a run and leaves no row; a database that cannot be written costs one warning line
and never the crawl.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import RunRow
from newsarchive.db.runs import effective_status, recent_runs
from newsarchive.exitcodes import CONFIG_ERROR
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import COLUMN_PATH
from tests.conftest import REPO, run_cli
from tests.support import FAST_SETTINGS, SAMPLE_EASTMONEY, column_entries, crawl, stored_rows

COLUMNS = ("-a", "columns=344,345", "-a", "page_size=10")
ARGUMENTS = {"columns": "344,345", "page_size": "10"}
NO_ERRORS = {"total": 0, "by_kind": {"download": 0, "spider": 0}}
HISTORY_WARNING = "[newsarchive.history] WARNING: "


def recorded_runs(db_url: str) -> list[RunRow]:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        runs = recent_runs(session, limit=100)
    engine.dispose()
    return runs


def counts(**changed: object) -> dict[str, object]:
    """The counts of a clean run, with ``changed`` values."""
    base: dict[str, object] = {
        "requests": 0,
        "responses_by_status": {},
        "new": 0,
        "unchanged": 0,
        "revised": 0,
        "moved": 0,
        "dropped": {},
        "skipped": {},
        "errors": NO_ERRORS,
        "download_errors": {},
        "retries": {},
        "quirks": {},
        "listing_stopped": {},
        "blocked": {},
        "refused": {},
        "deadletter": 0,
        "not_saved": 0,
        "warc_errors": 0,
        "db_retries": 0,
        "near_duplicates": 0,
        "nothing_matched": [],
    }
    return {**base, **changed}


MONITOR_KEYS = ("listing_pages", "listing_rows", "article_pages", "kept", "fields_present", "warnings")


def without_monitor(recorded: dict[str, Any]) -> dict[str, Any]:
    """The recorded counts less what newsarchive.monitor compares (checked on their own), which
    must all be there."""
    assert set(MONITOR_KEYS) <= set(recorded), recorded
    return {key: value for key, value in recorded.items() if key not in MONITOR_KEYS}


def test_each_crawl_records_one_finished_run_with_its_counts(
    site: SampleSite, db_url: str, tmp_path: Path
) -> None:
    before = datetime.now(UTC)
    crawl("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)
    stored = stored_rows(db_url)
    sent = len(site.requests)

    (first,) = recorded_runs(db_url)
    assert (first.spider, first.arguments, first.job) == (
        "eastmoney",
        ARGUMENTS,
        "eastmoney columns=344,345 page_size=10",
    )
    assert (first.status, first.finish_reason, effective_status(first)) == ("ok", "finished", "ok")
    assert first.finished_at is not None
    assert before <= first.started_at <= first.finished_at <= datetime.now(UTC)
    assert first.host == socket.gethostname() and first.pid != os.getpid()
    assert len(stored) == 36 and len(site.article_requests()) == len(stored)
    assert without_monitor(first.counts) == counts(
        requests=sent,
        responses_by_status={"200": sent},
        new=len(stored),
        # an article on both listings is handled once
        skipped={"caifuhao": 3, "listed_twice": len(column_entries("344", "345")) - len(stored)},
    )

    site.clear_requests()
    crawl("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)

    rows = [row for column in ("344", "345") for row in column_rows(column)]
    assert {key: first.counts[key] for key in MONITOR_KEYS} == {
        "listing_pages": 5,  # 36 rows of 344 and 9 of 345, 10 a page
        "listing_rows": len(rows),
        "article_pages": len(stored),
        "kept": len(stored),
        "fields_present": {
            name: sum(1 for row in stored.values() if row[name])
            for name in ("media", "summary", "author")
            if any(row[name] for row in stored.values())
        },
        "warnings": [],  # no earlier run to compare with
    }

    second, again = recorded_runs(db_url)
    assert again.id == first.id and second.id > first.id
    assert (second.job, second.status) == (first.job, "ok")
    assert site.article_requests() == []
    # incremental: each column's first page held nothing new, so no second page was asked for
    assert [r.path for r in site.requests if r.path != "/robots.txt"] == [COLUMN_PATH, COLUMN_PATH]
    first_pages = [row for column in ("344", "345") for row in column_rows(column)[:10]]
    codes = [f"NW{row['code']}" for row in first_pages if row["np_dst"] != "CFH"]
    assert without_monitor(second.counts) == counts(
        requests=len(site.requests),  # the listings and the list API host's robots.txt
        responses_by_status={"200": len(site.requests)},
        unchanged=len(set(codes)),  # every article listed was already stored
        listing_stopped={"nothing_new": 1},  # 344's first page (345 has a single page)
        skipped={
            "caifuhao": len(first_pages) - len(codes),
            "listed_twice": len(codes) - len(set(codes)),
        },
    )


def test_a_crawl_that_reads_no_listing_is_recorded_as_failed(sqlite_url: str, tmp_path: Path) -> None:
    done = run_cli(
        "crawl", "eastmoney", "-a", "columns=344", "--db", sqlite_url,
        "-s", "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:1", "-s", "RETRY_TIMES=0", *FAST_SETTINGS,
        cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 1
    assert "newsarchive: error: eastmoney could not read any listing page" in done.stderr
    (run,) = recorded_runs(sqlite_url)
    assert (run.status, run.finish_reason, run.arguments) == ("failed", "finished", {"columns": "344"})
    # two requests sent: the list API host's robots.txt (unreachable too: allowed) and the listing
    errors = {"total": 1, "by_kind": {"download": 1, "spider": 0}}
    assert without_monitor(run.counts) == counts(
        requests=2, errors=errors, download_errors={"connection_refused": 1}
    )


def test_a_crawl_refused_before_it_starts_is_not_a_run(sqlite_url: str, tmp_path: Path) -> None:
    done = run_cli(
        "crawl", "eastmoney", "-a", "pages=zero", "--db", sqlite_url,
        "-s", "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:1", cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == CONFIG_ERROR
    assert "spider argument pages must be a positive integer" in done.stderr
    assert recorded_runs(sqlite_url) == []


def locked_crawl(
    site: SampleSite, db_path: Path, tmp_path: Path, retry_seconds: float
) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "newsarchive", "crawl", "eastmoney", "-a", "columns=345", "-a", "page_size=10",
        "--db", f"sqlite:///{db_path}", "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS,
        "-s", f"NEWSARCHIVE_DB_RETRY_SECONDS={retry_seconds}", "-s", "NEWSARCHIVE_DB_BUSY_TIMEOUT=0.1",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def write_lock(db_path: Path) -> sqlite3.Connection:
    """Another process's write transaction: the archive stays readable (WAL) but not writable."""
    open_database(f"sqlite:///{db_path}").dispose()  # the schema exists before the lock is taken
    lock = sqlite3.connect(db_path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    return lock


def test_a_database_locked_all_along_costs_one_warning_and_no_run(site: SampleSite, tmp_path: Path) -> None:
    db_path = tmp_path / "archive.db"
    lock = write_lock(db_path)
    try:
        process = locked_crawl(site, db_path, tmp_path, retry_seconds=1)
        _, stderr = process.communicate(timeout=120)
    finally:
        lock.rollback()
        lock.close()

    assert process.returncode == 1 and "Traceback" not in stderr
    warnings = [line.split(HISTORY_WARNING, 1)[1] for line in stderr.splitlines() if HISTORY_WARNING in line]
    assert warnings == [
        "could not record the start of run eastmoney columns=345 page_size=10 in the run history: "
        "database is locked"
    ]
    assert "8 articles could not be stored" in stderr  # the crawl itself went on to its end
    assert recorded_runs(f"sqlite:///{db_path}") == []


def test_a_run_whose_start_could_not_be_written_is_recorded_whole_at_its_end(
    site: SampleSite, tmp_path: Path
) -> None:
    db_path = tmp_path / "archive.db"
    lock = write_lock(db_path)
    process = locked_crawl(site, db_path, tmp_path, retry_seconds=60)
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the start failed; the store is now retrying its batch
            if HISTORY_WARNING in line:
                break
    finally:
        lock.rollback()
        lock.close()
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 0, stderr
    assert HISTORY_WARNING not in stderr  # one warning per run
    (run,) = recorded_runs(f"sqlite:///{db_path}")
    assert (run.status, run.finish_reason) == ("ok", "finished")
    assert run.finished_at is not None and run.started_at < run.finished_at
    recorded = without_monitor(run.counts)
    assert recorded.pop("db_retries") >= 0  # 0 if the lock went before the store's first write
    expected = counts(
        requests=len(site.requests),
        responses_by_status={"200": len(site.requests)},
        new=8,
        skipped={"caifuhao": 1},
    )
    del expected["db_retries"]
    assert recorded == expected


def test_scrapy_crawl_records_the_run_too(site: SampleSite, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'scrapy.db'}"
    env = {**os.environ, "NEWSARCHIVE_DATA_DIR": str(tmp_path / "data"), "NEWSARCHIVE_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "scrapy", "crawl", "eastmoney", "-a", "columns=345"]
    command += ["-a", "media=证券日报网", "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS]

    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=120
    )

    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = recorded_runs(db_url)
    assert (run.spider, run.arguments, run.status) == (
        "eastmoney",
        {"columns": "345", "media": "证券日报网"},
        "ok",
    )
    assert run.counts["new"] == len(stored_rows(db_url)) > 0
    assert run.counts["requests"] == len(site.requests)


def test_reparse_records_a_run(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *COLUMNS)
    (archive,) = (tmp_path / "data" / "warc").glob("*.warc.gz")

    done = run_cli("reparse", str(archive), "--db", sqlite_url, cwd=tmp_path)

    assert done.returncode == 0, done.stderr[-3000:]
    reparse, crawled = recorded_runs(sqlite_url)
    assert crawled.spider == "eastmoney"
    assert (reparse.spider, reparse.arguments, reparse.status) == ("reparse", {"warc": str(archive)}, "ok")
    # no request: read from WARC
    assert without_monitor(reparse.counts) == counts(unchanged=len(stored_rows(sqlite_url)))


def column_rows(column: str) -> list[dict[str, Any]]:
    """A sample column's rows in the order the site lists them (newest first)."""
    rows = json.loads((SAMPLE_EASTMONEY / "columns" / f"{column}.json").read_text(encoding="utf-8"))
    return sorted(rows, key=lambda r: (str(r["showTime"]), str(r["code"])), reverse=True)
