"""Ctrl-C (issue 14): a real ``newsarchive crawl`` process against the loopback sample site gets
SIGINT while an article download is in flight (the site holds that answer until the test lets it
go), then the same command is run again.

One SIGINT: no new request goes out, the download in flight finishes and its article is stored,
the summary and the stop line are printed, exit 130, the run is recorded as ``interrupted``.
Two SIGINTs: the download in flight is abandoned at once, every article already parsed is still
stored, the same summary, stop line and exit code. Either way the next run completes the job: the
archive ends equal to an uninterrupted crawl's, and no article stored before is fetched again.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from newsarchive.exitcodes import FAILED, INTERRUPTED, NOTHING_NEW, OK
from newsarchive.samplesite.server import FAST_PATH
from newsarchive.summary import RunSummary
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, ArticleHookSite, fetched_codes, revision_count, stored_rows

CRAWL_ARGS = ("-a", "columns=344,345,353", "-a", "page_size=10", "-a", "pages=4")
SMALL_BATCHES = ("-s", "NEWSARCHIVE_STORE_BATCH_SIZE=3")
# A small delay, so one request is in flight at a time and the others wait in the download slot, as
# in a real crawl (with no delay at all Scrapy sends a slot's whole queue at once).
ONE_AT_A_TIME = ("-s", "DOWNLOAD_DELAY=0.05")
HELD_ARTICLE = 5  # the article download in flight when the signal comes (the sixth asked for)
STOP_LINE = "newsarchive: stopped by Ctrl-C; run the same command again to continue"
ACKNOWLEDGED = "newsarchive: stopping"  # printed as soon as the run took the signal
NEVER_IN_STDERR = ("Traceback", "Unhandled error", "ReactorNotRunning")
WAIT = 60.0  # seconds any one step may take before the test gives up on it
REPARSE_COPIES = 40  # a reparse of the crawl's WARC file this many times over takes several seconds


def crawl_args(origin: str, db_url: str) -> list[str]:
    return [
        "crawl", "eastmoney", *CRAWL_ARGS, "--db", db_url,
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS, *ONE_AT_A_TIME, *SMALL_BATCHES,
    ]  # fmt: skip


class HoldingSite(ArticleHookSite):
    """The sample site holding its answer to article request ``HELD_ARTICLE`` until released."""

    def __init__(self) -> None:
        super().__init__(self._on_article)
        self.held = threading.Event()  # the held request has arrived
        self.release = threading.Event()

    def _on_article(self, number: int) -> None:
        if number == HELD_ARTICLE:
            self.held.set()
            self.release.wait(WAIT)

    def stop(self) -> None:
        self.release.set()  # never leave a handler thread waiting
        super().stop()


@pytest.fixture
def holding_site() -> Iterator[HoldingSite]:
    with HoldingSite() as site:
        yield site


@dataclass
class Running:
    """A ``newsarchive`` process whose stdout and stderr are read as they come."""

    process: subprocess.Popen[str]
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    acknowledged: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, args: list[str], cwd: Path) -> Running:
        return cls.watch([sys.executable, "-m", "newsarchive", *args], cwd)

    @classmethod
    def watch(cls, command: list[str], cwd: Path) -> Running:
        pipe = subprocess.PIPE
        process = subprocess.Popen(command, cwd=cwd, stdout=pipe, stderr=pipe, text=True)
        running = cls(process)
        for stream, lines in ((process.stdout, running.stdout), (process.stderr, running.stderr)):
            threading.Thread(target=running._read, args=(stream, lines), daemon=True).start()
        return running

    def _read(self, stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)
            if line.startswith(ACKNOWLEDGED):
                self.acknowledged.set()

    def interrupt(self) -> None:
        """SIGINT, then wait until the run says it took it."""
        self.process.send_signal(signal.SIGINT)
        assert self.acknowledged.wait(WAIT), f"no {ACKNOWLEDGED!r} line: {self.err[-3000:]}"

    def finish(self) -> int:
        try:
            self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"still running {WAIT:.0f} s after the signal: {self.err[-3000:]}")
        return self.process.returncode

    @property
    def out(self) -> str:
        return "".join(self.stdout)

    @property
    def err(self) -> str:
        return "".join(self.stderr)


@dataclass(frozen=True)
class Reference:
    rows: dict[str, dict[str, Any]]  # what an uninterrupted crawl stores
    warc: Path  # the responses it archived


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    folder = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{folder / 'reference.db'}"
    with ArticleHookSite(lambda _number: None) as site:
        result = run_cli(*crawl_args(site.origin, url), cwd=folder)
    assert result.returncode == OK, result.stderr[-3000:]
    rows = stored_rows(url)
    assert len(rows) > 30
    (warc,) = (folder / "data" / "warc").glob("*.warc.gz")
    return Reference(rows, warc)


@pytest.fixture
def reference(crawled: Reference) -> dict[str, dict[str, Any]]:
    """What an uninterrupted crawl stores."""
    return crawled.rows


def run_statuses(db_url: str, cwd: Path) -> list[str]:
    result = run_cli("runs", "--json", "--db", db_url, cwd=cwd)
    assert result.returncode == OK, result.stderr
    return [run["status"] for run in json.loads(result.stdout)]


def assert_stopped_cleanly(code: int, run: Running) -> None:
    assert code == INTERRUPTED, (code, run.err[-3000:])
    assert "new articles stored:" in run.out, run.out  # the summary, as usual
    assert run.err.rstrip().endswith(STOP_LINE), run.err[-3000:]
    for text in NEVER_IN_STDERR:
        assert text not in run.err, run.err[-3000:]


def assert_rerun_completes(
    site: HoldingSite, db_url: str, cwd: Path, reference: dict[str, dict[str, Any]]
) -> None:
    """The same command again completes the job, fetching nothing the interrupted run stored."""
    stored_before = set(stored_rows(db_url))
    site.clear_requests()
    result = run_cli(*crawl_args(site.origin, db_url), cwd=cwd)
    assert result.returncode in (OK, NOTHING_NEW), result.stderr[-3000:]
    assert not fetched_codes(site) & stored_before
    assert stored_rows(db_url) == reference
    assert revision_count(db_url) == 0


def held_code(site: HoldingSite) -> str:
    return "NW" + site.article_requests()[HELD_ARTICLE].rsplit("/", 1)[1].removesuffix(".html")


def test_one_sigint_finishes_the_downloads_in_flight_stores_them_and_exits_130(
    holding_site: HoldingSite, sqlite_url: str, tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    run = Running.start(crawl_args(holding_site.origin, sqlite_url), tmp_path)
    assert holding_site.held.wait(WAIT), run.err[-3000:]
    requests_before = len(holding_site.requests)
    run.interrupt()
    holding_site.release.set()
    code = run.finish()

    assert_stopped_cleanly(code, run)
    # nothing new was asked for after the signal; the answer in flight was used and stored
    assert len(holding_site.requests) == requests_before, holding_site.requests[requests_before:]
    assert held_code(holding_site) in stored_rows(sqlite_url)
    assert set(fetched_codes(holding_site)) <= set(stored_rows(sqlite_url))
    assert run_statuses(sqlite_url, tmp_path) == ["interrupted"]
    assert_rerun_completes(holding_site, sqlite_url, tmp_path, reference)
    assert run_statuses(sqlite_url, tmp_path) == ["ok", "interrupted"]


def test_two_sigints_abandon_the_download_in_flight_keep_what_was_parsed_and_exit_130(
    holding_site: HoldingSite, sqlite_url: str, tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    run = Running.start(crawl_args(holding_site.origin, sqlite_url), tmp_path)
    assert holding_site.held.wait(WAIT), run.err[-3000:]
    answered = fetched_codes(holding_site) - {held_code(holding_site)}
    run.interrupt()
    run.process.send_signal(signal.SIGINT)
    code = run.finish()  # while the site still holds its answer: the download was abandoned
    holding_site.release.set()

    assert_stopped_cleanly(code, run)
    assert answered <= set(stored_rows(sqlite_url))  # every article parsed before was stored
    assert held_code(holding_site) not in stored_rows(sqlite_url)
    assert run_statuses(sqlite_url, tmp_path) == ["interrupted"]
    assert_rerun_completes(holding_site, sqlite_url, tmp_path, reference)


def test_after_ctrl_c_the_remaining_jobs_of_the_process_do_not_start(
    holding_site: HoldingSite, sqlite_url: str, tmp_path: Path
) -> None:
    """Several jobs in one process (as ``newsarchive demo`` runs them): the one running stops, the
    next never starts, and the process exits 130."""
    script = (
        "import sys\n"
        "from newsarchive.cli import run\n"
        "from newsarchive.runner import Job\n"
        f"jobs = [Job('eastmoney', {{'columns': '344,345,353', 'page_size': '10', 'pages': '4'}}),"
        " Job('eastmoney_fast', {'page_size': '10', 'pages': '2'})]\n"
        f"settings = ['NEWSARCHIVE_REPLAY_ORIGIN={holding_site.origin}', 'DOWNLOAD_DELAY=0.05',"
        " 'AUTOTHROTTLE_ENABLED=0', 'NEWSARCHIVE_PROGRESS_INTERVAL=0']\n"
        f"sys.exit(run(jobs, settings, {sqlite_url!r}, 'WARNING'))\n"
    )
    run = Running.watch([sys.executable, "-c", script], tmp_path)
    assert holding_site.held.wait(WAIT), run.err[-3000:]
    run.interrupt()
    holding_site.release.set()
    code = run.finish()

    assert_stopped_cleanly(code, run)
    assert "== eastmoney " in run.out and "== eastmoney_fast" not in run.out, run.out
    assert not [r for r in holding_site.requests if r.path == FAST_PATH]
    assert run_statuses(sqlite_url, tmp_path) == ["interrupted"]


def test_ctrl_c_stops_a_reparse_which_the_same_command_then_completes(
    crawled: Reference, sqlite_url: str, tmp_path: Path
) -> None:
    """A reparse reads no network: its articles come from the WARC files, and the stop must not
    wait for them forever (Scrapy 2.19 alone never finishes closing while one is being stored)."""
    warc = tmp_path / "many.warc.gz"  # the crawl's responses many times over: a reparse that lasts
    warc.write_bytes(crawled.warc.read_bytes() * REPARSE_COPIES)
    args = ["reparse", str(warc), "--db", sqlite_url, *SMALL_BATCHES]
    run = Running.start(args, tmp_path)
    deadline = time.monotonic() + WAIT
    while not (tmp_path / "archive.db").exists() or not stored_rows(sqlite_url):  # the first batch
        assert run.process.poll() is None and time.monotonic() < deadline, run.err[-3000:]
        time.sleep(0.05)
    run.interrupt()
    code = run.finish()

    assert_stopped_cleanly(code, run)
    assert run_statuses(sqlite_url, tmp_path) == ["interrupted"]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == OK, result.stderr[-3000:]
    assert stored_rows(sqlite_url) == crawled.rows


def test_a_run_stopped_by_a_signal_is_interrupted_not_failed_and_still_reports_its_problems() -> None:
    stopped = RunSummary(finish_reason="shutdown", new=2, deadletter=1, deadletter_file="d.jsonl")
    assert stopped.exit_code("eastmoney") == INTERRUPTED
    assert stopped.status("eastmoney") == "interrupted"
    assert [line for line in stopped.problems("eastmoney") if "ended early" in line] == []
    assert any("could not be stored" in line for line in stopped.problems("eastmoney"))
    # a run that could not start or crashed is a failure whatever stopped it
    assert stopped.exit_code("eastmoney", "database down") == FAILED
    assert RunSummary(finish_reason="finished", new=1).exit_code("eastmoney") == OK
