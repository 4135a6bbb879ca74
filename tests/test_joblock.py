"""One run per job: real locks (flock on SQLite archives, advisory locks on PostgreSQL), real
processes killed with SIGKILL, and real overlapping crawls through the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from newsarchive.exitcodes import ALREADY_RUNNING, OK
from newsarchive.joblock import JobAlreadyRunning, lock_for
from newsarchive.samplesite import SampleSite
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, ArticleHookSite, sample_codes, stored_rows

JOB = "eastmoney columns=344"

HOLD = """
import sys, time
from newsarchive.joblock import lock_for
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
            assert line.endswith(" UTC)")
            assert second.stdout == ""  # no summary: nothing ran
        finally:
            release.set()
            _, stderr = first.communicate(timeout=120)
    assert first.returncode == OK, stderr[-3000:]
    assert set(stored_rows(db_url)) == sample_codes("344")
