"""One run per job at a time: a lock per (spider, arguments), held for the whole crawl.

A second run of the same job started while the first is alive fails at once with
:class:`JobAlreadyRunning` (``newsarchive`` exits with ``ALREADY_RUNNING``) before a single request.
The lock dies with its process, so a crawl killed with SIGKILL never leaves a stale lock behind:

- SQLite archives: an exclusive ``flock`` on ``<archive folder>/locks/<job>.lock`` (the kernel
  drops it when the process dies); the file keeps the holder's pid, host and start for the message.
- PostgreSQL archives: a session advisory lock on a connection of its own (the server drops it
  when the connection goes); the connection's ``application_name`` names the holder.

Setting ``NEWSARCHIVE_JOB_LOCK`` (on by default) turns the extension off.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from newsarchive.db.runs import job_key


class JobAlreadyRunning(RuntimeError):
    """Another live process holds this job's lock."""


class JobLock(Protocol):
    def acquire(self) -> None: ...
    def release(self) -> None: ...


def lock_for(database_url: str, job: str) -> JobLock:
    """The lock of ``job`` for the archive at ``database_url``."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryJobLock(database_url, job)
    if url.database in (None, "", ":memory:"):
        return NoLock()  # a private in-memory archive: no other process can write it
    return FileJobLock(Path(url.database).expanduser().parent / "locks", job)


class NoLock:
    def acquire(self) -> None:
        pass

    def release(self) -> None:
        pass


def _holder() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"


class FileJobLock:
    def __init__(self, folder: Path, job: str) -> None:
        digest = hashlib.sha256(job.encode()).hexdigest()[:12]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", job)[:60]
        self.path = folder / f"{slug}-{digest}.lock"
        self.job = job
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise JobAlreadyRunning(f"{self.job} is already running ({holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(_holder() + "\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryJobLock:
    def __init__(self, database_url: str, job: str) -> None:
        self.job = job
        # 63 bits, so the key is the same positive number in Python and in pg_locks
        self.key = int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big") >> 1
        self.holder = _holder()
        # one connection of its own, outside any pool: the lock lives exactly as long as it does
        self._engine: Engine = create_engine(
            database_url,
            poolclass=NullPool,
            connect_args={"application_name": f"newsarchive {self.holder}"[:63]},
        )
        self._connection: Connection | None = None

    def acquire(self) -> None:
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        taken = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        if taken:
            self._connection = connection
            return
        holder = connection.scalar(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND ((l.classid::bigint << 32) | l.objid::bigint) = (:key)::bigint"
            ),
            {"key": self.key},
        )
        connection.close()
        self._engine.dispose()
        described = str(holder).removeprefix("newsarchive ") if holder else "another process"
        raise JobAlreadyRunning(f"{self.job} is already running ({described})")

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


class JobLockExtension:
    """Takes the lock when the crawler is built (before any request) and frees it when it stops."""

    def __init__(self, lock: JobLock) -> None:
        self.lock = lock

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobLockExtension:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_JOB_LOCK"):
            raise NotConfigured
        spider = crawler.spider
        if spider is None:  # built outside a crawl: nothing to lock
            raise NotConfigured
        job = job_key(spider.name, getattr(spider, "job_arguments", None) or {})
        lock = lock_for(settings.get("NEWSARCHIVE_DATABASE_URL"), job)
        lock.acquire()  # raises JobAlreadyRunning: the crawl never starts
        extension = cls(lock)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        self.lock.release()
