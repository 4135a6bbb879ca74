"""Job lock files next to a SQLite archive go when their run ends (normal end, error, Ctrl-C); a file
left by a killed run is reused and removed by the next; removing a lock file never lets two
processes hold the job at once (two real processes racing, issue 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from newsarchive.locks import FileJobLock, JobAlreadyRunning, Recheck, lock_for
from newsarchive.samplesite import SampleSite
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, crawl
from tests.test_joblock import HOLD, JOB, HeldCrawl


def lock_folder(url: str) -> Path:
    return Path(str(make_url(url).database)).parent / "locks"


def lock_files(url: str) -> list[Path]:
    return sorted(lock_folder(url).glob("*.lock"))


def test_a_released_lock_leaves_no_file_behind(sqlite_url: str) -> None:
    lock = lock_for(sqlite_url, JOB)
    assert isinstance(lock, FileJobLock)
    lock.acquire()
    assert lock_files(sqlite_url) == [lock.path]
    lock.release()
    assert not lock_folder(sqlite_url).exists()  # nor the folder, once it holds no lock
    lock.release()  # twice is harmless


def test_another_jobs_lock_file_stays_while_its_job_runs(sqlite_url: str) -> None:
    first, second = lock_for(sqlite_url, JOB), lock_for(sqlite_url, "eastmoney columns=345")
    first.acquire()
    second.acquire()
    first.release()
    assert isinstance(second, FileJobLock) and lock_files(sqlite_url) == [second.path]
    second.release()
    assert not lock_folder(sqlite_url).exists()


def test_a_file_left_by_a_killed_holder_is_reused_then_removed(sqlite_url: str, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, sqlite_url, JOB], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    (stale,) = lock_files(sqlite_url)  # SIGKILL: nothing could remove it
    assert f"pid {holder.pid} " in stale.read_text(encoding="utf-8")
    lock = lock_for(sqlite_url, JOB)
    lock.acquire()  # the kernel dropped the dead holder's lock: the file is taken over
    assert lock_files(sqlite_url) == [stale]
    assert f"pid {os.getpid()} " in stale.read_text(encoding="utf-8")
    lock.release()
    assert lock_files(sqlite_url) == []


# Each process takes and releases the job's lock over and over; while it holds it, it claims a marker
# file with O_EXCL, which fails if the other process holds the job too. Removing the lock file on
# release without the acquirer's inode re-check lets the other process lock the removed file while a
# third opening (its own next round) creates and locks a new one: both "hold" the job.
RACE = """
import os, sys
from newsarchive.locks import JobAlreadyRunning, lock_for
url, job, marker, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
held = 0
for _ in range(rounds):
    lock = lock_for(url, job)
    try:
        lock.acquire()
    except JobAlreadyRunning:
        continue
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        print("both processes held the job", flush=True)
        sys.exit(1)
    os.close(fd)
    os.unlink(marker)
    lock.release()
    held += 1
print(held, flush=True)
"""


def test_two_processes_racing_for_a_removable_lock_file_never_both_hold_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    marker = tmp_path / "holder"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, sqlite_url, JOB, str(marker), "1500"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    outputs = [racer.communicate(timeout=300) for racer in racers]
    for racer, (stdout, stderr) in zip(racers, outputs, strict=True):
        assert racer.returncode == 0, stdout + stderr[-3000:]
    assert sum(int(stdout) for stdout, _ in outputs) >= 1500  # each round one of them, at least, held it
    assert lock_files(sqlite_url) == []


# Takes the job's lock, pausing once between opening the lock file and locking it (an audit hook on
# fcntl.flock, which Python calls just before locking) until told to go on; prints how it ended.
PAUSED_ACQUIRER = """
import fcntl, sys
from newsarchive.locks import JobAlreadyRunning, lock_for
paused = []
def pause(event, args):
    if event == "fcntl.flock" and args[1] & fcntl.LOCK_EX and not paused:
        paused.append(True)
        print("opened", flush=True)
        sys.stdin.readline()
sys.addaudithook(pause)
lock = lock_for(sys.argv[1], sys.argv[2])
try:
    lock.acquire()
except JobAlreadyRunning as refused:
    print("refused:", refused, flush=True)
else:
    print("locked", flush=True)
"""


def test_a_lock_file_removed_between_opening_and_locking_it_is_not_taken(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The classic race: a process opens the lock file, the holder ends and removes it, a new run
    creates and locks a new file, and the first process then locks the removed one. It must notice
    (the file at the path is another) and be refused by the new run's lock, not hold the job too."""
    ending = lock_for(sqlite_url, JOB)
    ending.acquire()
    racer = subprocess.Popen(
        [sys.executable, "-c", PAUSED_ACQUIRER, sqlite_url, JOB],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert racer.stdout is not None and racer.stdin is not None
        assert racer.stdout.readline().strip() == "opened"
        ending.release()  # removes the file the racer has open
        new_run = lock_for(sqlite_url, JOB)
        new_run.acquire()  # a new file at the path
        try:
            stdout, stderr = racer.communicate("go\n", timeout=60)
            refused = f"refused: {JOB} is already running (pid {os.getpid()} "
            assert stdout.startswith(refused), stdout + stderr
        finally:
            new_run.release()
    finally:
        if racer.poll() is None:
            racer.kill()
            racer.wait()
    assert lock_files(sqlite_url) == []


def test_a_refused_second_holder_leaves_the_holders_file(sqlite_url: str) -> None:
    first = lock_for(sqlite_url, JOB)
    first.acquire()
    try:
        with pytest.raises(JobAlreadyRunning):
            lock_for(sqlite_url, JOB).acquire()
        assert len(lock_files(sqlite_url)) == 1
        assert first.recheck() is Recheck.HELD  # the refused one removed nothing
    finally:
        first.release()
    assert lock_files(sqlite_url) == []


# --- through the CLI --------------------------------------------------------------------------------


def test_a_crawl_leaves_no_lock_file(sqlite_url: str, tmp_path: Path, site: SampleSite) -> None:
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, "-a", "columns=344")
    assert not lock_folder(sqlite_url).exists()


def test_a_run_failing_after_it_took_its_lock_leaves_no_lock_file(sqlite_url: str, tmp_path: Path) -> None:
    """The WARC file is opened after the job lock is taken: an unwritable WARC folder ends the run
    before its engine starts (so before the extension's own release)."""
    not_a_folder = tmp_path / "warc"
    not_a_folder.write_text("a file where the WARC folder should be", encoding="utf-8")
    result = run_cli(
        "crawl", "eastmoney", "-a", "columns=344", "--db", sqlite_url,
        "-s", f"NEWSARCHIVE_WARC_DIR={not_a_folder}", "-s", "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:9",
        *FAST_SETTINGS, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0
    assert "cannot write WARC file" in result.stderr
    assert lock_files(sqlite_url) == []


def test_ctrl_c_leaves_no_lock_file(sqlite_url: str, tmp_path: Path) -> None:
    """(How Ctrl-C ends a run, exit code and output, is tested with the Ctrl-C tests.)"""
    with HeldCrawl(sqlite_url, tmp_path) as held:
        assert len(lock_files(sqlite_url)) == 1
        held.process.send_signal(signal.SIGINT)  # then the held page is answered and the crawl stops
        returncode, _, stderr = held.finish()
    assert lock_files(sqlite_url) == [], (returncode, stderr[-3000:])
