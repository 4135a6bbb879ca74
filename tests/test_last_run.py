""" "Was the last run of this job clean?" (newsarchive.history.last_run_was_clean), read from the run
history on real SQLite and PostgreSQL: a run that did not finish ok, or that left an article it
listed unfetched (a failed download, a block, a refused redirect), is not clean, and the next run
pages every listing (newsarchive.paging)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import RunRow
from newsarchive.db.runs import INTERRUPTED, RUNNING, finish_run, start_run
from newsarchive.history import last_run_was_clean
from newsarchive.summary import FAILED, NOTHING_MATCHED, OK

JOB = {"columns": "344"}
STARTED = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)
CLEAN = {"errors": {"total": 0, "by_kind": {}}, "blocked": {}, "refused": {}}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    yield engine
    engine.dispose()


def record(
    engine: Engine,
    *,
    status: str = OK,
    counts: dict[str, Any] | None = None,
    arguments: dict[str, str] = JOB,
    minutes: int = 0,
) -> int:
    with session_factory(engine).begin() as session:
        run_id = start_run(session, "eastmoney", arguments, started_at=STARTED + timedelta(minutes=minutes))
        if status != RUNNING:
            finish_run(session, run_id, status=status, finish_reason="finished", counts=counts or CLEAN)
    return run_id


def test_a_job_with_no_run_yet_is_not_clean(engine: Engine) -> None:
    assert not last_run_was_clean(engine, "eastmoney", JOB)


def test_a_clean_run_is_clean_for_its_own_job_only(engine: Engine) -> None:
    record(engine)
    assert last_run_was_clean(engine, "eastmoney", JOB)
    assert not last_run_was_clean(engine, "eastmoney", {"columns": "345"})
    assert not last_run_was_clean(engine, "zqrb", JOB)


@pytest.mark.parametrize(
    "counts",
    [
        {**CLEAN, "errors": {"total": 1, "by_kind": {"download": 1}}},
        {**CLEAN, "blocked": {"captcha": 1}},
        {**CLEAN, "refused": {"redirect_off_site": 1}},
    ],
    ids=["download error", "blocked", "refused redirect"],
)
def test_a_run_that_left_a_listed_article_unfetched_is_not_clean(
    engine: Engine, counts: dict[str, Any]
) -> None:
    record(engine, counts=counts)
    assert not last_run_was_clean(engine, "eastmoney", JOB)


def test_a_refusal_other_than_a_redirect_leaves_the_run_clean(engine: Engine) -> None:
    # a request refused before it was sent (an off-site link) never held a listed article
    record(engine, counts={**CLEAN, "refused": {"link_private_address": 1}})
    assert last_run_was_clean(engine, "eastmoney", JOB)


@pytest.mark.parametrize("status", [FAILED, INTERRUPTED, NOTHING_MATCHED])
def test_a_run_that_did_not_finish_ok_is_not_clean(engine: Engine, status: str) -> None:
    record(engine, status=status)
    assert not last_run_was_clean(engine, "eastmoney", JOB)


def test_only_the_latest_run_counts(engine: Engine) -> None:
    record(engine, status=FAILED, minutes=0)
    record(engine, minutes=5)
    assert last_run_was_clean(engine, "eastmoney", JOB)
    record(engine, status=INTERRUPTED, minutes=10)
    assert not last_run_was_clean(engine, "eastmoney", JOB)


def test_a_killed_run_whose_process_is_gone_is_not_clean(engine: Engine) -> None:
    run_id = record(engine, status=RUNNING)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with session_factory(engine).begin() as session:
        session.execute(update(RunRow).where(RunRow.id == run_id).values(pid=child.pid))
    assert not last_run_was_clean(engine, "eastmoney", JOB)


def test_a_history_that_cannot_be_read_is_not_clean(tmp_path: Any) -> None:
    broken = open_database(f"sqlite:///{tmp_path / 'nothing-here' / 'archive.db'}")
    try:
        assert not last_run_was_clean(broken, "eastmoney", JOB)
    finally:
        broken.dispose()
