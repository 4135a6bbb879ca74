"""Run history: one ``runs`` row per crawl, backfill or reparse (repository functions, never commit).

A run is inserted as ``running`` when it starts and gets its end, status and counts when it finishes;
one stopped by Ctrl-C or SIGTERM ends as ``interrupted`` (newsarchive.summary). A process killed with
SIGKILL never writes its end: :func:`effective_status` reports such a row as ``interrupted`` too once
its process is gone (checked only on the host that recorded it).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsarchive.db.models import RunRow
from newsarchive.jobs import job_key

RUNNING = "running"
INTERRUPTED = "interrupted"  # stopped by a signal; also inferred by effective_status() after SIGKILL
JOB_KEY_LENGTH = 512  # RunRow.job is String(512); keys are far shorter (newsarchive.jobs)


def start_run(
    session: Session,
    spider: str,
    arguments: Mapping[str, str],
    *,
    started_at: datetime | None = None,
) -> int:
    """Insert a ``running`` row for this process (host and pid) and return its id."""
    row = RunRow(
        job=job_key(spider, arguments),
        spider=spider,
        arguments=dict(arguments),
        started_at=started_at or datetime.now(UTC),
        status=RUNNING,
        host=socket.gethostname(),
        pid=os.getpid(),
        counts={},
    )
    session.add(row)
    session.flush()
    return row.id


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    finish_reason: str | None,
    counts: Mapping[str, Any],
    finished_at: datetime | None = None,
) -> None:
    """Record how run ``run_id`` ended."""
    row = session.get(RunRow, run_id)
    if row is None:
        raise LookupError(f"no run {run_id}")
    row.finished_at = finished_at or datetime.now(UTC)
    row.status = status
    row.finish_reason = finish_reason
    row.counts = dict(counts)
    session.flush()


def recent_runs(
    session: Session,
    *,
    spider: str | None = None,
    job: str | Sequence[str] | None = None,
    limit: int = 20,
) -> list[RunRow]:
    """The latest ``limit`` runs (of ``spider`` or of one ``job`` only, if given), newest first.

    ``job`` may be several keys of one job (:func:`newsarchive.jobs.job_keys`: its key and the one
    older versions recorded)."""
    statement = select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id.desc()).limit(limit)
    if spider is not None:
        statement = statement.where(RunRow.spider == spider)
    if isinstance(job, str):
        statement = statement.where(RunRow.job == job)
    elif job is not None:
        statement = statement.where(RunRow.job.in_(job))
    return list(session.scalars(statement))


def effective_status(row: RunRow) -> str:
    """The stored status, except that a ``running`` row whose process is gone is ``interrupted``.

    Only a row recorded on this host can be checked; elsewhere ``running`` is all that is known."""
    if row.status != RUNNING or row.host != socket.gethostname():
        return row.status
    return RUNNING if pid_alive(row.pid) else INTERRUPTED


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 checks without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return False
    return True
