"""Run history repository on real SQLite and PostgreSQL: job keys, start/finish, newest first, and
``running`` rows whose process is gone reported as ``interrupted``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import RunRow
from newsarchive.db.runs import (
    JOB_KEY_LENGTH,
    effective_status,
    finish_run,
    pid_alive,
    recent_runs,
    start_run,
)
from newsarchive.jobs import job_key
from newsarchive.text.dates import SHANGHAI

STARTED = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


def dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_job_key_is_the_spider_then_sorted_arguments() -> None:
    assert job_key("eastmoney", {}) == "eastmoney"
    assert job_key("eastmoney", {"pages": "2", "media": "证券日报网"}) == "eastmoney media=证券日报网 pages=2"
    assert job_key("eastmoney", {"media": "证券日报网", "pages": "2"}) == job_key(
        "eastmoney", {"pages": "2", "media": "证券日报网"}
    )


def test_a_long_job_key_fits_the_column_and_stays_distinct() -> None:
    many = {"warc": ",".join(f"data/warc/eastmoney-{n:04d}.warc.gz" for n in range(40))}
    other = {"warc": many["warc"] + ",data/warc/one-more.warc.gz"}

    key = job_key("reparse", many)

    assert len(key) < JOB_KEY_LENGTH
    assert key.startswith("reparse warc=") and key.endswith("…(40 files)")  # tests/test_jobs.py: the rest
    assert key == job_key("reparse", dict(many))  # stable
    assert job_key("reparse", other) != key and len(job_key("reparse", other)) < JOB_KEY_LENGTH


def test_start_then_finish_a_run(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        run_id = start_run(session, "eastmoney", {"pages": "2"}, started_at=STARTED)
    with factory() as session:
        (running,) = recent_runs(session)
    assert (running.id, running.status, running.finished_at, running.counts) == (run_id, "running", None, {})
    assert (running.host, running.pid) == (socket.gethostname(), os.getpid())
    assert running.started_at == STARTED and running.started_at.tzinfo == SHANGHAI
    assert effective_status(running) == "running"  # this very process

    with factory.begin() as session:
        finish_run(
            session,
            run_id,
            status="ok",
            finish_reason="finished",
            counts={"new": 3, "dropped": {"no_body": 1}},
            finished_at=STARTED + timedelta(seconds=65),
        )
    with factory() as session:
        (done,) = recent_runs(session)
    assert (done.job, done.spider, done.arguments) == ("eastmoney pages=2", "eastmoney", {"pages": "2"})
    assert (done.status, done.finish_reason) == ("ok", "finished")
    assert done.finished_at == STARTED + timedelta(seconds=65)
    assert done.counts == {"new": 3, "dropped": {"no_body": 1}}
    with pytest.raises(LookupError), factory.begin() as session:
        finish_run(session, run_id + 1, status="ok", finish_reason="finished", counts={})
    engine.dispose()


def test_recent_runs_are_newest_first_filtered_and_limited(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        for minutes, spider in [(0, "eastmoney"), (10, "zqrb"), (5, "eastmoney"), (20, "eastmoney")]:
            start_run(session, spider, {}, started_at=STARTED + timedelta(minutes=minutes))
    with factory() as session:
        every = [(row.spider, row.started_at) for row in recent_runs(session)]
        latest = [row.id for row in recent_runs(session, spider="eastmoney", limit=2)]
        none = recent_runs(session, spider="cnstock")
    assert every == [
        ("eastmoney", STARTED + timedelta(minutes=20)),
        ("zqrb", STARTED + timedelta(minutes=10)),
        ("eastmoney", STARTED + timedelta(minutes=5)),
        ("eastmoney", STARTED),
    ]
    assert latest == [4, 3]
    assert none == []
    engine.dispose()


def test_a_running_row_whose_process_is_gone_is_interrupted(db_url: str) -> None:
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        killed = start_run(session, "eastmoney", {}, started_at=STARTED)
        elsewhere = start_run(session, "zqrb", {}, started_at=STARTED)
        finished = start_run(session, "cnstock", {}, started_at=STARTED)
        finish_run(session, finished, status="failed", finish_reason="shutdown", counts={})
        session.execute(update(RunRow).where(RunRow.id.in_([killed, finished])).values(pid=dead_pid()))
        session.execute(update(RunRow).where(RunRow.id == elsewhere).values(host="another-host", pid=1))
    with factory() as session:
        status = {row.spider: (row.status, effective_status(row)) for row in recent_runs(session)}
    assert status == {
        "eastmoney": ("running", "interrupted"),  # stored as running, its process is gone
        "zqrb": ("running", "running"),  # another host's process cannot be checked from here
        "cnstock": ("failed", "failed"),  # a finished run keeps its status
    }
    engine.dispose()


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
    assert not pid_alive(0) and not pid_alive(-5)
