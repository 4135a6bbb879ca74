"""One run per job: real locks (flock on SQLite archives, advisory locks on PostgreSQL), real
processes killed with SIGKILL, and real overlapping crawls through the CLI."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import RunRow
from newsarchive.exitcodes import ALREADY_RUNNING, FAILED, OK
from newsarchive.locks import AdvisoryJobLock, JobAlreadyRunning, Recheck, lock_for
from newsarchive.samplesite import SampleSite
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, ArticleHookSite, crawl, revision_count, sample_codes, stored_rows

JOB = "eastmoney columns=344"

HOLD = """
import sys, time
from newsarchive.locks import lock_for
lock = lock_for(sys.argv[1], sys.argv[2])  # kept referenced: the lock lives with it
lock.acquire()
print("locked", flush=True)
time.sleep(600)
"""


def test_a_second_holder_of_the_same_job_is_refused_with_the_holder_named(db_url: str) -> None:
    first = lock_for(db_url, JOB)
    first.acquire()
    try:
        with pytest.raises(JobAlreadyRunning) as refused:
            lock_for(db_url, JOB).acquire()
        message = str(refused.value)
        assert message.startswith(f"{JOB} is already running (pid {os.getpid()} on ")
        assert "\n" not in message
        other = lock_for(db_url, "eastmoney columns=345")  # another job is not blocked
        other.acquire()
        other.release()
    finally:
        first.release()
    again = lock_for(db_url, JOB)  # released: the next run takes it
    again.acquire()
    again.release()


def test_a_lock_left_by_a_killed_process_is_taken_over(db_url: str, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, db_url, JOB], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(JobAlreadyRunning, match=f"pid {holder.pid} on "):
            lock_for(db_url, JOB).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        lock = lock_for(db_url, JOB)
        deadline = time.monotonic() + 10  # the server notices the dropped connection at once,
        while True:  # but give a loaded machine a moment
            try:
                lock.acquire()
                break
            except JobAlreadyRunning:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_second_crawl_of_a_running_job_exits_at_once(db_url: str, tmp_path: Path) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold_the_first(number: int) -> None:  # the crawl stays alive until the test is done
        if number == 0:
            holding.set()
            release.wait(timeout=60)

    with ArticleHookSite(hold_the_first) as site:
        command = [
            sys.executable, "-m", "newsarchive", "crawl", "eastmoney", "-a", "columns=344",
            "-a", "page_size=10", "--db", db_url, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}",
            *FAST_SETTINGS,
        ]  # fmt: skip
        first = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert holding.wait(timeout=60), "the first crawl never reached an article"
            # the same job (spider and arguments) pointed at a second site, which must see nothing
            with SampleSite() as other:
                second = run_cli(
                    *command[3:], "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={other.origin}", cwd=tmp_path
                )
                assert other.requests == []
            assert second.returncode == ALREADY_RUNNING
            (line,) = second.stderr.strip().splitlines()
            job = "eastmoney columns=344 page_size=10"
            assert line.startswith(f"newsarchive: error: {job} is already running (pid {first.pid} on ")
            # the holder's start in Asia/Shanghai with its offset, as every time newsarchive shows
            assert re.search(r" since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00\)$", line), line
            assert second.stdout == ""  # no summary: nothing ran
        finally:
            release.set()
            _, stderr = first.communicate(timeout=120)
    assert first.returncode == OK, stderr[-3000:]
    assert set(stored_rows(db_url)) == sample_codes("344")


# --- a lock lost while its run goes on (issue 13 point 12) -----------------------------------------

LOCKS_OF_KEY = text(
    "SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' AND database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND ((classid::bigint << 32) | objid::bigint) = (:key)::bigint ORDER BY granted DESC"
)
CRAWL_JOB = "eastmoney columns=344 page_size=10"  # the job of HeldCrawl's command


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def lock_key(url: str, job: str) -> int:
    lock = lock_for(url, job)
    assert isinstance(lock, AdvisoryJobLock)
    return lock.key


def advisory_locks(url: str, job: str) -> list[tuple[int, bool]]:
    """(pid, granted) of every session holding or waiting for the job's advisory lock."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(LOCKS_OF_KEY, {"key": lock_key(url, job)}).all()
    engine.dispose()
    return [(int(pid), bool(granted)) for pid, granted in rows]


def lock_files(url: str) -> list[Path]:
    return sorted((Path(str(make_url(url).database)).parent / "locks").glob("*.lock"))


def lock_state(url: str, job: str) -> object:
    """What identifies the job lock's current holding: the holding backend, or the lock file's inode."""
    if is_postgres(url):
        return [pid for pid, granted in advisory_locks(url, job) if granted]
    return [path.stat().st_ino for path in lock_files(url)]


def break_lock(url: str, job: str) -> None:
    """What an operator (or a cleanup script) does to a live lock: terminate the backend holding
    it, or delete the lock file."""
    if not is_postgres(url):
        for path in lock_files(url):
            path.unlink()
        return
    (pid,) = [pid for pid, granted in advisory_locks(url, job) if granted]
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:  # waits until the backend is gone (and its lock with it)
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
    engine.dispose()


@contextmanager
def stolen_lock(url: str, job: str) -> Iterator[None]:
    """Break the job's lock and take it at once, as a second run winning the race would: on
    PostgreSQL this session is queued for the lock before its holder is terminated, so the server
    hands it over on the spot."""
    if not is_postgres(url):
        break_lock(url, job)
        thief = lock_for(url, job)
        thief.acquire()
        try:
            yield
        finally:
            thief.release()
        return
    engine = create_engine(url, poolclass=NullPool)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    queued = threading.Thread(
        target=connection.execute,
        args=(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(url, job)}),
    )
    queued.start()
    try:
        wait_for(lambda: len(advisory_locks(url, job)) == 2)
        break_lock(url, job)
        queued.join(timeout=30)
        assert not queued.is_alive() and advisory_locks(url, job)[0][1], "the lock was not handed over"
        yield
    finally:
        queued.join(timeout=30)
        connection.close()
        engine.dispose()


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class HeldCrawl:
    """``newsarchive crawl`` of the sample site (column 344), held at its first article page until
    :meth:`release`; its stderr is read as it comes, so a test can wait for a line."""

    def __init__(self, db_url: str, cwd: Path) -> None:
        self.holding, self._released = threading.Event(), threading.Event()
        self.site = ArticleHookSite(self._hold_the_first)
        self.db_url, self.cwd = db_url, cwd
        # PostgreSQL: no periodic check, so only the watch on the lock's socket can notice the loss
        self.check_seconds = 0 if is_postgres(db_url) else 0.5
        self.stderr_lines: list[str] = []

    def _hold_the_first(self, number: int) -> None:
        if number == 0:
            self.holding.set()
            self._released.wait(timeout=120)

    def command(self, origin: str) -> list[str]:
        return [
            sys.executable, "-m", "newsarchive", "crawl", "eastmoney", "-a", "columns=344",
            "-a", "page_size=10", "--db", self.db_url, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}",
            "-s", f"NEWSARCHIVE_JOB_LOCK_CHECK_SECONDS={self.check_seconds}", *FAST_SETTINGS,
        ]  # fmt: skip

    def __enter__(self) -> HeldCrawl:
        self.site.__enter__()
        self.process = subprocess.Popen(
            self.command(self.site.origin),
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read_stderr)
        self._reader.start()
        assert self.holding.wait(timeout=60), "the crawl never reached an article"
        return self

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def logged(self, snippet: str) -> bool:
        return any(snippet in line for line in self.stderr_lines)

    def release(self) -> None:
        self._released.set()

    def finish(self) -> tuple[int, str, str]:
        """Let the crawl end; its exit code, stdout and stderr."""
        self.release()
        self.process.wait(timeout=180)
        self._reader.join(timeout=30)
        assert self.process.stdout is not None
        return self.process.returncode, self.process.stdout.read(), "\n".join(self.stderr_lines)

    def __exit__(self, *exc_info: Any) -> None:
        self.release()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=30)
        self.site.__exit__(*exc_info)


def test_recheck_takes_a_broken_lock_back_unless_another_run_has_it(db_url: str) -> None:
    lock = lock_for(db_url, JOB)
    lock.acquire()
    try:
        assert lock.recheck() is Recheck.HELD
        break_lock(db_url, JOB)
        assert lock.recheck() is Recheck.RETAKEN
        with pytest.raises(JobAlreadyRunning, match=f"pid {os.getpid()} on "):  # held again
            lock_for(db_url, JOB).acquire()
        assert lock.recheck() is Recheck.HELD

        break_lock(db_url, JOB)
        thief = lock_for(db_url, JOB)
        thief.acquire()
        with pytest.raises(JobAlreadyRunning, match=f"^{JOB} is already running"):
            lock.recheck()
        thief.release()
    finally:
        lock.release()
    assert lock.recheck() is Recheck.HELD  # released: nothing to check, nothing taken again
    again = lock_for(db_url, JOB)
    again.acquire()
    again.release()


class LoopbackProxy:
    """A TCP relay on loopback to the PostgreSQL server: :meth:`cut` drops every connection through
    it and refuses new ones (the server unreachable, as in a restart), :meth:`restore` reopens it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open.clear()
        for end in self.sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        self.sockets.clear()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_a_lock_lost_with_an_unreachable_server_is_taken_back_when_it_answers(postgres_url: str) -> None:
    """A server restart ends the lock's connection and refuses new ones for a while: the run keeps
    its claim (nobody can take the lock meanwhile) and takes the lock back once the server answers."""
    url = make_url(postgres_url)
    proxy = LoopbackProxy((str(url.host), int(url.port or 5432)))
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    lock = lock_for(through_proxy, JOB)
    try:
        lock.acquire()
        proxy.cut()
        assert lock.recheck() is Recheck.UNREACHABLE
        assert lock.recheck() is Recheck.UNREACHABLE
        assert wait_for(lambda: advisory_locks(postgres_url, JOB) == [])  # the server dropped it
        proxy.restore()
        assert lock.recheck() is Recheck.RETAKEN
        assert lock.recheck() is Recheck.HELD
        with pytest.raises(JobAlreadyRunning, match=f"pid {os.getpid()} on "):
            lock_for(postgres_url, JOB).acquire()
    finally:
        lock.release()
        proxy.close()


def test_a_broken_lock_is_taken_back_so_a_second_run_is_refused(db_url: str, tmp_path: Path) -> None:
    """Issue 13: after pg_terminate_backend on the lock's connection (or a deleted lock file), a
    second run of the job ran beside the first. The first takes its lock back; the second is refused."""
    with HeldCrawl(db_url, tmp_path) as first:
        before = lock_state(db_url, CRAWL_JOB)
        break_lock(db_url, CRAWL_JOB)
        # at once on PostgreSQL (the lock's socket is watched), at the next check for a lock file
        wait_for(lambda: lock_state(db_url, CRAWL_JOB) not in ([], before))
        with SampleSite() as other:
            second = run_cli(*first.command(other.origin)[3:], cwd=tmp_path)
            assert other.requests == []
        assert second.returncode == ALREADY_RUNNING, second.stderr[-3000:]
        (line,) = second.stderr.strip().splitlines()
        assert line.startswith(
            f"newsarchive: error: {CRAWL_JOB} is already running (pid {first.process.pid} on "
        )
        returncode, _, stderr = first.finish()
    assert returncode == OK, stderr[-3000:]
    assert "took its job lock back" in stderr
    assert set(stored_rows(db_url)) == sample_codes("344")
    assert revision_count(db_url) == 0


def test_a_run_whose_lock_another_run_took_stops_before_its_next_request(db_url: str, tmp_path: Path) -> None:
    """The race the first run loses (another run took the lock before it could take it back): it
    stops with finish reason job_lock_lost and sends no further request; what it had fetched is
    stored (a second writer of the same rows changes nothing), never thrown away."""
    with HeldCrawl(db_url, tmp_path) as first:
        with stolen_lock(db_url, CRAWL_JOB):
            assert wait_for(lambda: first.logged("lost its job lock")), "\n".join(first.stderr_lines)
            requests_at_the_loss = len(first.site.requests)
            returncode, stdout, stderr = first.finish()
        assert len(first.site.requests) == requests_at_the_loss  # the held article page was the last
        assert returncode == FAILED
        errors = [line for line in stderr.splitlines() if line.startswith("newsarchive: error: ")]
        assert errors == [
            "newsarchive: error: eastmoney ended early: job_lock_lost (another run of the job took its "
            "lock after this run's lock was broken)"
        ]
        # the pages it fetched (the held one, and any answered while it was held) are stored
        fetched = re.search(r"\((\d+) article pages\)", stdout)
        assert fetched is not None and int(fetched[1]) >= 1
        assert len(stored_rows(db_url)) == int(fetched[1])
        assert "dropped:               0" in stdout
        (run,) = recorded_runs(db_url)
        assert (run.status, run.finish_reason) == ("failed", "job_lock_lost")

        # nothing is lost: the job's next run fetches what the stopped one did not store
        crawl("eastmoney", first.site.origin, db_url, tmp_path, "-a", "columns=344", "-a", "page_size=10")
    assert set(stored_rows(db_url)) == sample_codes("344")
    assert revision_count(db_url) == 0


def recorded_runs(url: str) -> list[RunRow]:
    engine = open_database(url)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(RunRow)))
    engine.dispose()
    return rows
