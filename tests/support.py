"""Helpers shared by end-to-end tests: crawl the sample site through the CLI and read stored rows."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import ARTICLE_FIELDS, ArticleRevision, ArticleRow
from newsarchive.exitcodes import NOTHING_NEW, OK
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import _ARTICLE_PAGE, LOOPBACK_SETTINGS, RequestRecord
from tests.conftest import run_cli

SAMPLE_EASTMONEY = Path(__file__).resolve().parents[1] / "data" / "sample" / "eastmoney"

FAST_SETTINGS = LOOPBACK_SETTINGS


def crawl(spider: str, origin: str, db_url: str, cwd: Path, *args: str) -> str:
    """Run ``newsarchive crawl`` against the sample site; returns stdout, fails the test on error."""
    result = run_cli(
        "crawl", spider, *args, "--db", db_url, "--log-level", "WARNING",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS, cwd=cwd,
    )  # fmt: skip
    # 0: something new was stored; 3: nothing new (newsarchive.exitcodes)
    assert result.returncode in (OK, NOTHING_NEW), result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    new = int(result.stdout.split("new articles stored:")[1].split()[0])
    revised = int(result.stdout.split("revised:")[1].split()[0])
    assert result.returncode == (OK if new or revised else NOTHING_NEW), result.stdout
    return result.stdout


def crawl_outcome(origin: str, db_url: str, cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run ``newsarchive COMMAND`` (``crawl SPIDER …`` or ``backfill SPIDER …``) against the sample
    site whatever its exit code (:func:`crawl` takes only 0 and 3 for success); never a traceback."""
    result = run_cli(
        *command, "--db", db_url, "--log-level", "WARNING",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS, cwd=cwd,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


def stored_rows(db_url: str) -> dict[str, dict[str, Any]]:
    """Every stored article keyed by info_code, with the content columns only."""
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        rows = {
            row.info_code: {name: getattr(row, name) for name in (*ARTICLE_FIELDS, "duplicate_of")}
            for row in session.scalars(select(ArticleRow))
        }
    engine.dispose()
    return rows


def revision_count(db_url: str) -> int:
    """Earlier versions kept in article_revisions (a resumed run must not invent any)."""
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(ArticleRevision)) or 0
    engine.dispose()
    return count


def fetched_codes(site: SampleSite) -> set[str]:
    """Info codes of the East Money article pages the site was asked for."""
    return {"NW" + path.rsplit("/", 1)[1].removesuffix(".html") for path in site.article_requests()}


def kill_and_resume(
    command: Sequence[str],
    db_url: str,
    cwd: Path,
    rng: random.Random,
    kills: int,
    *,
    within: float,
    site: SampleSite | None = None,
) -> list[str]:
    """Run ``command`` (a newsarchive crawl, backfill or reparse), SIGKILL it ``kills`` times at a
    random moment up to ``within`` seconds after it started (after the site's first request, when
    it crawls ``site``), then let it run to completion.

    With a site, every attempt is also checked to fetch no article stored before it started.
    Returns a description of each kill, for failure messages."""
    story = []
    for attempt in range(kills + 1):
        stored_before = set(stored_rows(db_url))
        if site is not None:
            site.clear_requests()
        output = subprocess.PIPE if attempt == kills else subprocess.DEVNULL  # a full pipe would stall it
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=output)
        if attempt < kills:
            deadline = time.monotonic() + 60
            while site is not None and not site.requests and process.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            delay = rng.uniform(0.0, within)
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            fetched = f", {len(site.article_requests())} article pages fetched" if site else ""
            story.append(
                f"killed {delay:.2f}s in (rc {process.returncode}{fetched}, "
                f"{len(stored_rows(db_url)) - len(stored_before)} stored)"
            )
        else:
            _, stderr = process.communicate(timeout=180)
            assert process.returncode in (OK, NOTHING_NEW), (story, stderr.decode()[-3000:])
        if site is not None:
            again = fetched_codes(site) & stored_before
            assert not again, (story, sorted(again))
    return story


def column_entries(*columns: str) -> list[str]:
    """The info codes of the sample column rows a crawl follows (财富号 rows are skipped), in listing
    order, an article listed in two columns once per column."""
    codes = []
    for column in columns:
        path = SAMPLE_EASTMONEY / "columns" / f"{column}.json"
        rows = json.loads(path.read_text(encoding="utf-8"))
        codes += [f"NW{row['code']}" for row in rows if row["np_dst"] != "CFH"]
    return codes


def sample_codes(*columns: str) -> set[str]:
    """The articles a crawl of these sample columns stores."""
    return set(column_entries(*columns))


class ArticleHookSite(SampleSite):
    """The sample site calling ``on_article(n)`` (n = 0 for the first) in the handler thread before
    it answers each article page request: where tests start an outage, hold a crawl or add latency."""

    def __init__(self, on_article: Callable[[int], None], root: Path | None = None) -> None:
        super().__init__(root or SAMPLE_EASTMONEY.parent)
        self.on_article = on_article
        self._articles = 0
        self._count_lock = threading.Lock()

    def record(self, record: RequestRecord) -> None:
        super().record(record)
        if _ARTICLE_PAGE.search(record.path):
            with self._count_lock:
                number, self._articles = self._articles, self._articles + 1
            self.on_article(number)
