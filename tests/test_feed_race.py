"""A column crawl and a 7x24 crawl at the same moment (the README's own cron schedule) on one
database: every article carried by the 7x24 list ends on that feed whichever crawl stored it first
(issue 13 point 7). The race is played out once in its worst order, then run freely several times.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsarchive.samplesite import SampleSite
from tests.support import FAST_SETTINGS, SAMPLE_EASTMONEY, ArticleHookSite, crawl, stored_rows

COLUMNS = ("-a", "columns=344,345", "-a", "page_size=10")
FAST = ("-a", "page_size=10", "-a", "pages=10")  # every row of the sample 7x24 list
RACES = 3  # free races per database


def fast_codes() -> set[str]:
    rows = json.loads((SAMPLE_EASTMONEY / "fastnews" / "102.json").read_text(encoding="utf-8"))
    return {f"NW{row['code']}" for row in rows}


def crawl_process(spider: str, origin: str, db_url: str, cwd: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "newsarchive", "crawl", spider, *args, "--db", db_url]
    command += ["-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS]
    return subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> str:
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode in (0, 3), stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    return stdout


def off_their_feed(rows: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Articles breaking the feed rule: on the 7x24 list but not archived as 7x24 posts, or the
    other way round."""
    carried = fast_codes()
    return {
        code: (row["feed"], row["category"])
        for code, row in rows.items()
        if (code in carried) != ((row["feed"], row["category"]) == ("eastmoney_fast", "emnews"))
    }


def test_a_7x24_crawl_storing_after_a_column_crawl_still_takes_it(db_url: str, tmp_path: Path) -> None:
    """The worst order: the 7x24 crawl checks its first listing page while nothing is stored, then
    its article fetches are held until a whole column crawl has stored the same articles."""
    release = threading.Event()
    with SampleSite() as column_site, ArticleHookSite(lambda _number: _hold(release)) as fast_site:
        fast = crawl_process("eastmoney_fast", fast_site.origin, db_url, tmp_path, *FAST)
        _wait_for(lambda: bool(fast_site.article_requests()) or fast.poll() is not None)
        held = {f"NW{path.rsplit('/', 1)[1].removesuffix('.html')}" for path in fast_site.article_requests()}
        crawl("eastmoney", column_site.origin, db_url, tmp_path, *COLUMNS)
        release.set()
        output = finished(fast)
    rows = stored_rows(db_url)
    assert held & set(rows)  # the held article was stored by the column crawl meanwhile
    assert off_their_feed(rows) == {}
    assert "moved to 7x24 feed:" in output


def test_crawls_racing_freely_keep_the_feed_rule(new_database: Callable[[], str], tmp_path: Path) -> None:
    broken = {}
    with SampleSite() as site:
        for race in range(RACES):
            db_url = new_database()
            column = crawl_process("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)
            fast = crawl_process("eastmoney_fast", site.origin, db_url, tmp_path, *FAST)
            finished(column), finished(fast)
            if wrong := off_their_feed(stored_rows(db_url)):
                broken[race] = wrong
    assert broken == {}


def _hold(release: threading.Event) -> None:
    release.wait(60)


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
