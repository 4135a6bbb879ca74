"""End-of-run warnings: the pure comparison, and a real redesign of the sample site's article pages."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from newsarchive.monitor import run_warnings
from newsarchive.samplesite import SampleSite
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, SAMPLE_EASTMONEY


def counts(**changes: Any) -> dict[str, Any]:
    """A steady run of a column job: 5 pages of 20 rows, 40 article pages, all parsed."""
    base: dict[str, Any] = {
        "listing_pages": 5,
        "listing_rows": 100,
        "article_pages": 40,
        "kept": 40,
        "dropped": {},
        "fields_present": {"media": 40, "summary": 38, "author": 0},
    }
    return {**base, **changes}


STEADY = [counts(), counts(listing_rows=98), counts(kept=39, dropped={"bad_date": 1})]


def test_a_steady_run_gives_no_warning() -> None:
    assert run_warnings(counts(), STEADY) == []


def test_a_new_job_is_never_judged() -> None:
    broken = counts(listing_rows=0, kept=0, dropped={"no_body": 40})
    assert run_warnings(broken, STEADY[:2]) == []


def test_listing_rows_falling_by_half_warn() -> None:
    assert run_warnings(counts(listing_rows=40), STEADY) == [
        "listing pages held 8.0 rows each, usually 20.0: has a listing changed?"
    ]
    assert run_warnings(counts(listing_rows=60), STEADY) == []


def test_article_pages_that_stop_parsing_warn() -> None:
    redesigned = counts(kept=10, dropped={"no_body": 25, "no_title": 5})
    assert run_warnings(redesigned, STEADY) == [
        "75% of article pages gave no article (usually 0%): has the article page changed?"
    ]
    # a few bad pages are normal
    assert run_warnings(counts(kept=36, dropped={"no_body": 4}), STEADY) == []


def test_a_field_the_job_always_had_going_missing_warns() -> None:
    lost_media = counts(fields_present={"media": 4, "summary": 38, "author": 0})
    assert run_warnings(lost_media, STEADY) == ["only 10% of articles have a media (usually 100%)"]
    # author was never there for this job: its absence is not news
    assert run_warnings(counts(fields_present={"media": 40, "summary": 38}), STEADY) == []


def test_a_quiet_run_is_not_judged() -> None:
    quiet = counts(listing_pages=1, listing_rows=20, article_pages=0, kept=0)
    assert run_warnings(quiet, STEADY) == []


def test_a_redesigned_article_page_warns_at_the_end_of_the_run(sqlite_url: str, tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SAMPLE_EASTMONEY.parent, root)
    arguments = (
        "crawl", "eastmoney", "-a", "columns=344", "-a", "page_size=10", "--db", sqlite_url,
        *FAST_SETTINGS, "-s", "NEWSARCHIVE_REFETCH_HOURS=1000000",  # every run fetches every article
    )  # fmt: skip
    with SampleSite(root) as site:
        for _ in range(3):
            steady = run_cli(*arguments, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", cwd=tmp_path)
            assert steady.returncode in (0, 3), steady.stderr
            assert "warning" not in steady.stderr
        for page in (root / "eastmoney" / "articles").glob("*.html"):  # the site is redesigned
            html = page.read_text(encoding="utf-8")
            page.write_text(html.replace('id="ContentBody"', 'id="ArticleMain"'), encoding="utf-8")
        site.stop()
        site.start()
        redesigned = run_cli(*arguments, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", cwd=tmp_path)
    warnings = [line for line in redesigned.stderr.splitlines() if line.startswith("newsarchive: warning: ")]
    assert warnings == [
        "newsarchive: warning: 100% of article pages gave no article (usually 0%): "
        "has the article page changed?"
    ], redesigned.stderr
