"""The job locks: one live run per job (spider and arguments) and archive, taken by
:mod:`newsarchive.joblock` for every crawl.

A second holder of a job's lock is refused with :class:`JobAlreadyRunning`, naming the holder. A
lock dies with its process, so a crawl killed with SIGKILL never leaves a stale lock behind:

- SQLite archives: an exclusive ``flock`` on ``<archive folder>/locks/<job>.lock`` (the kernel
  drops it when the process dies); the file keeps the holder's pid, host and start for the message.
  The run removes the file (and the folder, once empty) when it ends; a file left by a killed run
  is taken over and removed by the job's next run. Removal happens while the file is still locked,
  and a taker checks after locking that it locked the file now at the path (see ``_take``).
- PostgreSQL archives: a session advisory lock on a connection of its own (the server drops it
  when the connection goes); the connection's ``application_name`` names the holder.

:meth:`JobLock.recheck` finds a lock that went while its holder lives on (its connection
terminated, its file deleted) and takes it back unless another run took it first.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import re
import socket
import threading
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from newsarchive.text.dates import shown_time


class JobAlreadyRunning(RuntimeError):
    """Another live process holds this job's lock."""


class Recheck(Enum):
    """What :meth:`JobLock.recheck` found (it raises :class:`JobAlreadyRunning` if another run took it)."""

    HELD = "held"
    RETAKEN = "retaken"  # it had gone (connection ended, file deleted) and was free: taken back
    UNREACHABLE = "unreachable"  # it went with the database: nobody can take it until it is back


class JobLock(Protocol):
    def acquire(self) -> None: ...
    def recheck(self) -> Recheck: ...
    def fileno(self) -> int | None: ...
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

    def recheck(self) -> Recheck:
        return Recheck.HELD

    def fileno(self) -> int | None:
        return None

    def release(self) -> None:
        pass


def _holder() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {shown_time(datetime.now(UTC))}"


_TAKE_ATTEMPTS = 100  # each retry means another run removed the file or folder just then


class FileJobLock:
    def __init__(self, folder: Path, job: str) -> None:
        digest = hashlib.sha256(job.encode()).hexdigest()[:12]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", job)[:60]
        self.path = folder / f"{slug}-{digest}.lock"
        self.job = job
        self.holder = _holder()
        self._file: IO[str] | None = None
        self._guard = threading.Lock()  # recheck runs in a worker thread, release in the reactor's

    def acquire(self) -> None:
        with self._guard:
            self._file = self._take()
        # a run that ends before its engine starts (an unwritable WARC folder) never reaches the
        # extension's release: remove the file when the process exits (a SIGKILL leaves it to the
        # next run of the job, which reuses and then removes it)
        atexit.register(self._release_at_exit, os.getpid())

    def _release_at_exit(self, pid: int) -> None:
        if os.getpid() == pid:  # not in a forked child, whose exit must not remove the parent's file
            self.release()

    def _take(self) -> IO[str]:
        """Lock the file at the lock's path (created if missing) and write this run's holder in it.

        A run ending removes its file while it still holds it (:meth:`release`), so the file opened
        here may be removed between opening and locking it: locking that one would lock nothing
        (the next run creates a new file at the path and locks that). So after locking, the file
        must still be the one at the path; if not, take the one there now."""
        for _ in range(_TAKE_ATTEMPTS):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = self.path.open("a+", encoding="utf-8")
            except (FileNotFoundError, FileExistsError):  # a run ending removed the folder just then
                if self.path.parent.exists() and not self.path.parent.is_dir():
                    raise NotADirectoryError(f"cannot make the lock folder {self.path.parent}") from None
                continue
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise JobAlreadyRunning(f"{self.job} is already running ({holder})") from None
            except BaseException:
                handle.close()
                raise
            if self._same_file(handle):
                handle.seek(0)
                handle.truncate()
                handle.write(self.holder + "\n")
                handle.flush()
                return handle
            handle.close()  # removed (or replaced) by the run that held it: try the one at the path
        raise OSError(f"cannot take the lock file {self.path}: it keeps being removed")

    def recheck(self) -> Recheck:
        """Still the file at the lock's path? A deleted (or replaced) lock file would let a second
        run lock a new one beside this run: take the one at the path, unless another run has."""
        with self._guard:
            if self._file is None:
                return Recheck.HELD  # released (or lost): nothing to check
            if self._same_file(self._file):
                return Recheck.HELD
            try:
                taken = self._take()
            except JobAlreadyRunning:
                self._file.close()
                self._file = None
                raise
            # any other error (a full or read-only disk) keeps the old file: the next check retries
            self._file.close()
            self._file = taken
            return Recheck.RETAKEN

    def _same_file(self, handle: IO[str]) -> bool:
        try:
            at_path = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(handle.fileno())
        return (at_path.st_dev, at_path.st_ino) == (mine.st_dev, mine.st_ino)

    def fileno(self) -> int | None:
        return None  # nothing to watch: deleting a file signals no one, the periodic check sees it

    def release(self) -> None:
        """Unlock, and remove the lock file (and the lock folder once empty): removed while still
        locked, so no other run can be holding it; a file that is no longer this run's (deleted and
        taken by another run meanwhile) is left alone."""
        with self._guard:
            if self._file is None:
                return
            try:
                if self._same_file(self._file):
                    self.path.unlink()
                    with contextlib.suppress(OSError):  # other jobs' locks are in it
                        self.path.parent.rmdir()
            except OSError:  # a read-only folder: the next run of the job reuses the file
                pass
            finally:
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
                self._file = None
                atexit.unregister(self._release_at_exit)


_HOLDER_OF_KEY = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND ((l.classid::bigint << 32) | l.objid::bigint) = (:key)::bigint"
)
_HELD_HERE = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
    "AND ((classid::bigint << 32) | objid::bigint) = (:key)::bigint"
)
# The lock's connection is idle for hours: keepalives make a silently dead peer an error (and a
# readable socket) within a minute instead of after the system's two-hour default.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
_CONNECT_TIMEOUT = 10  # seconds: a re-take from a worker thread never hangs on an unreachable server


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
            connect_args={
                "application_name": f"newsarchive {self.holder}"[:63],
                "connect_timeout": _CONNECT_TIMEOUT,
                **_KEEPALIVES,
            },
        )
        self._connection: Connection | None = None  # None while the database cannot be reached
        self._held = False  # acquired, and neither released nor taken by another run since
        self._guard = threading.Lock()  # recheck runs in a worker thread, release in the reactor's

    def acquire(self) -> None:
        with self._guard:
            self._take()
            self._held = True

    def _take(self) -> None:
        """Take the lock on a new connection, or raise JobAlreadyRunning naming its holder."""
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}):
                self._connection = connection
                return
            holder = connection.scalar(_HOLDER_OF_KEY, {"key": self.key})
        except BaseException:
            connection.close()
            raise
        connection.close()
        described = str(holder).removeprefix("newsarchive ") if holder else "another process"
        raise JobAlreadyRunning(f"{self.job} is already running ({described})")

    def recheck(self) -> Recheck:
        """Does this run's connection still hold the lock? If the connection ended (and the lock
        with it), take the lock again on a new one, unless another run took it (JobAlreadyRunning)."""
        with self._guard:
            if not self._held:
                return Recheck.HELD  # released (or lost): nothing to check
            if self._connection is not None:
                if self._still_held(self._connection):
                    return Recheck.HELD
                self._connection.invalidate()  # dead: never handed back, its socket is closed
                self._connection = None
            try:
                self._take()
            except SQLAlchemyError:
                return Recheck.UNREACHABLE  # nobody can take it either; the next check tries again
            except JobAlreadyRunning:
                self._held = False
                raise
            return Recheck.RETAKEN

    def _still_held(self, connection: Connection) -> bool:
        try:
            return bool(connection.scalar(_HELD_HERE, {"key": self.key}))
        except SQLAlchemyError:  # terminated, server gone, network down
            return False

    def fileno(self) -> int | None:
        """The lock connection's socket: it turns readable when the server ends the connection."""
        with self._guard:
            if self._connection is None:
                return None
            return int(self._connection.connection.dbapi_connection.fileno())  # type: ignore[union-attr]

    def release(self) -> None:
        with self._guard:
            self._held = False
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._engine.dispose()
