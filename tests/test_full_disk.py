"""A data disk that fills up in the middle of a crawl (issue 13 point 10): the database, the WARC
file and the dead-letter folder all on one real filesystem that runs out of space.

Nothing fetched may be lost silently: an article is stored, or in a dead-letter file (the fallback
folder, off the full disk, when the configured one is full too), or counted as not saved, with a
non-zero exit, and then fetched again by the next run. Never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

from newsarchive.exitcodes import FAILED
from tests.conftest import fill_disk, run_cli, small_disk
from tests.support import FAST_SETTINGS, ArticleHookSite, fetched_codes, sample_codes, stored_rows

COLUMNS = ("-a", "columns=344,345", "-a", "page_size=10")
DISK_KB = 8192
FULL_AT_ARTICLE = 6  # the disk fills up while this article page is being answered


def crawl_on(data: Path, origin: str, fallback: Path, cwd: Path) -> tuple[int, str, str]:
    result = run_cli(
        "crawl", "eastmoney", *COLUMNS, "--db", f"sqlite:///{data / 'newsarchive.db'}",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS,
        "-s", f"NEWSARCHIVE_WARC_DIR={data / 'warc'}",
        "-s", f"NEWSARCHIVE_DEADLETTER_DIR={data / 'deadletter'}",
        "-s", f"NEWSARCHIVE_DEADLETTER_FALLBACK_DIR={fallback}",
        "-s", "NEWSARCHIVE_STORE_BATCH_SIZE=4", "-s", "NEWSARCHIVE_DB_RETRY_SECONDS=1",
        cwd=cwd,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def dead_letter_codes(folder: Path) -> set[str]:
    return {
        json.loads(line)["info_code"]
        for path in folder.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }


def filling_site(disk: Path) -> ArticleHookSite:
    def fill(number: int) -> None:
        if number == FULL_AT_ARTICLE:
            fill_disk(disk)

    return ArticleHookSite(fill)


def test_articles_the_full_disk_refuses_go_to_the_fallback_folder(tmp_path: Path) -> None:
    fallback = tmp_path / "fallback"  # another filesystem than the full one
    with small_disk(tmp_path / "data", DISK_KB) as data, filling_site(data) as site:
        code, stdout, stderr = crawl_on(data, site.origin, fallback, tmp_path)
        fetched = fetched_codes(site)
        stored = set(stored_rows(f"sqlite:///{data / 'newsarchive.db'}")) if code != 0 else set()
    assert "Traceback" not in stderr, stderr[-3000:]
    assert code == FAILED, (stdout, stderr[-2000:])
    saved = dead_letter_codes(fallback)
    assert saved  # the disk filled up before the crawl ended: some articles could not be stored
    assert fetched <= saved | stored, sorted(fetched - saved - stored)  # every fetched article is kept
    assert str(fallback) in stdout + stderr  # the user is told where they went
    assert len(stderr.splitlines()) < 40, stderr


def test_articles_nothing_can_take_are_reported_and_fetched_again(tmp_path: Path) -> None:
    with small_disk(tmp_path / "data", DISK_KB) as data:
        fallback = data / "fallback"  # on the full disk as well
        with filling_site(data) as site:
            code, stdout, stderr = crawl_on(data, site.origin, fallback, tmp_path)
        assert "Traceback" not in stderr, stderr[-3000:]
        assert code == FAILED, (stdout, stderr[-2000:])
        assert "not saved:" in stdout, stdout
        not_saved = int(stdout.split("not saved:")[1].split()[0])
        assert not_saved > 0
        (data / ".filler").unlink()  # space is back
        lost = sample_codes("344", "345") - set(stored_rows(f"sqlite:///{data / 'newsarchive.db'}"))
        assert len(lost) >= not_saved
        with ArticleHookSite(lambda _number: None) as site:
            code, stdout, stderr = crawl_on(data, site.origin, fallback, tmp_path)
            refetched = fetched_codes(site)
        assert code == 0, (stdout, stderr[-2000:])
        assert lost <= refetched
        assert set(stored_rows(f"sqlite:///{data / 'newsarchive.db'}")) == sample_codes("344", "345")
