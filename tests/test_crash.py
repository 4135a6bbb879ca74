"""Crash safety: a crawl or a reparse killed with SIGKILL at a random moment, then run again,
leaves the archive exactly as one uninterrupted run does: nothing lost, nothing twice, no
revision invented. (Backfills get the same trials in tests/test_backfill.py; all share
tests.support.kill_and_resume.)

Each trial draws its kill moments from a seeded generator, so a failure names a reproducible
trial; the moments cover the whole run: process start-up, listing pages, article downloads and the
batch commits (batches of 3, so commits are frequent).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from newsarchive.exitcodes import OK
from tests.conftest import run_cli
from tests.support import (
    FAST_SETTINGS,
    ArticleHookSite,
    kill_and_resume,
    revision_count,
    stored_rows,
)

SEED = 7_2026_1125
CRAWL_ARGS = ("-a", "columns=344,345,353", "-a", "page_size=10", "-a", "pages=4")
SMALL_BATCHES = ("-s", "NEWSARCHIVE_STORE_BATCH_SIZE=3")


def crawl_command(origin: str, db_url: str) -> list[str]:
    return [
        sys.executable, "-m", "newsarchive", "crawl", "eastmoney", *CRAWL_ARGS, "--db", db_url,
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS, *SMALL_BATCHES,
    ]  # fmt: skip


def reparse_command(warcs: list[str], db_url: str) -> list[str]:
    return [sys.executable, "-m", "newsarchive", "reparse", *warcs, "--db", db_url, *SMALL_BATCHES]


def slow_site() -> ArticleHookSite:
    """The sample site answering each article page after a short pause (a real site's latency)."""
    return ArticleHookSite(lambda _number: time.sleep(0.05))


@dataclass(frozen=True)
class Reference:
    rows: dict[str, dict[str, Any]]  # what an uninterrupted crawl stores
    folder: Path  # its working folder, with its WARC files
    crawl_seconds: float  # how long it ran after its first request
    reparse_seconds: float  # how long an uninterrupted reparse of its WARC files takes


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    folder = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{folder / 'reference.db'}"
    with slow_site() as site:
        result = run_cli(*crawl_command(site.origin, url)[3:], cwd=folder)
        crawl_seconds = time.monotonic() - site.requests[0].at
    assert result.returncode == OK, result.stderr[-3000:]
    rows = stored_rows(url)
    assert len(rows) > 30
    replayed = f"sqlite:///{folder / 'replayed.db'}"
    started = time.monotonic()
    result = run_cli(*reparse_command(warc_files(folder), replayed)[3:], cwd=folder)
    reparse_seconds = time.monotonic() - started
    assert result.returncode == OK, result.stderr[-3000:]
    assert stored_rows(replayed) == rows
    return Reference(rows, folder, crawl_seconds, reparse_seconds)


def warc_files(folder: Path) -> list[str]:
    return sorted(str(path) for path in (folder / "data" / "warc").glob("*.warc.gz"))


def killed_crawl(reference: Reference, db_url: str, tmp_path: Path, seed: int, kills: int) -> None:
    with slow_site() as site:
        command = crawl_command(site.origin, db_url)
        rng = random.Random(seed)
        story = kill_and_resume(
            command, db_url, tmp_path, rng, kills, within=reference.crawl_seconds, site=site
        )
    assert stored_rows(db_url) == reference.rows, story
    assert revision_count(db_url) == 0, story


def killed_reparse(reference: Reference, db_url: str, tmp_path: Path, seed: int, kills: int) -> None:
    command = reparse_command(warc_files(reference.folder), db_url)
    rng = random.Random(seed)
    story = kill_and_resume(command, db_url, tmp_path, rng, kills, within=reference.reparse_seconds)
    assert stored_rows(db_url) == reference.rows, story
    assert revision_count(db_url) == 0, story


@pytest.mark.parametrize("trial", range(4))
def test_a_killed_crawl_completes_on_rerun_exactly_once(
    trial: int, reference: Reference, sqlite_url: str, tmp_path: Path
) -> None:
    killed_crawl(reference, sqlite_url, tmp_path, SEED + trial, kills=1 + trial % 2)


def test_a_killed_crawl_completes_on_rerun_exactly_once_on_postgresql(
    reference: Reference, postgres_url: str, tmp_path: Path
) -> None:
    killed_crawl(reference, postgres_url, tmp_path, SEED + 50, kills=2)


@pytest.mark.parametrize("trial", range(3))
def test_a_killed_reparse_completes_on_rerun_exactly_once(
    trial: int, reference: Reference, sqlite_url: str, tmp_path: Path
) -> None:
    killed_reparse(reference, sqlite_url, tmp_path, SEED + 100 + trial, kills=1 + trial % 2)


def test_a_killed_reparse_completes_on_rerun_exactly_once_on_postgresql(
    reference: Reference, postgres_url: str, tmp_path: Path
) -> None:
    killed_reparse(reference, postgres_url, tmp_path, SEED + 150, kills=2)
