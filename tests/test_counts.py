"""The one vocabulary of counts (newsarchive.counts): every name counted is in it, the summary and
the run history use the same names, and runs recorded by earlier versions still read."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from newsarchive.assemble import INCOMPLETE_PAGES, ORPHAN_PAGE
from newsarchive.counts import NAMESPACE, Count, Counter, Prefix, Reason, Recorded, named, recorded_value
from newsarchive.monitor import run_warnings
from newsarchive.summary import RunSummary
from newsarchive.window import Place
from tests.conftest import REPO


def counter() -> Counter:
    crawler = get_crawler()
    assert isinstance(crawler.stats, MemoryStatsCollector)
    return Counter.from_crawler(crawler)


def test_a_name_is_a_count_or_a_prefix_and_a_reason() -> None:
    assert named("listing_pages") == Count.LISTING_PAGES == "newsarchive/listing_pages"
    assert named("skipped/caifuhao") == "newsarchive/skipped/caifuhao"
    assert named("job_lock/retaken") == Count.JOB_LOCK_RETAKEN
    assert named("matched/media=证券日报网") == "newsarchive/matched/media=证券日报网"
    assert named("refused/redirect_offsite") == "newsarchive/refused/redirect_offsite"
    for typo in ("listing_page", "skiped/caifuhao", "skipped/", "dropped", "downloader/request_count"):
        with pytest.raises(ValueError, match=r"no count of newsarchive\.counts"):
            named(typo)


SPIDER_COUNT = re.compile(r"""\bcount\(\s*f?["']([^"'{]+)""")


COUNTING_BY_NAME = sorted(
    path.relative_to(REPO).as_posix()
    for path in [*(REPO / "spiders").glob("*.py"), REPO / "newsarchive" / "archive" / "replay.py"]
    if SPIDER_COUNT.search(path.read_text(encoding="utf-8"))
)


def test_the_files_counting_by_name_are_all_checked() -> None:
    """Every spider that counts by name is scanned below, a new one included."""
    assert {"spiders/base.py", "spiders/eastmoney.py", "spiders/declared.py"} <= set(COUNTING_BY_NAME)
    assert "newsarchive/archive/replay.py" in COUNTING_BY_NAME


@pytest.mark.parametrize("path", COUNTING_BY_NAME)
def test_every_name_the_spiders_count_is_in_the_vocabulary(path: str) -> None:
    """The spiders count by name (``self.count("skipped/…")``); a name outside newsarchive.counts
    would raise in the middle of a crawl, so it fails here first."""
    source = (REPO / path).read_text(encoding="utf-8")
    names = SPIDER_COUNT.findall(source)
    assert names, path
    for name in names:  # an f-string's literal start (``skipped/``) must open a known prefix
        named(name + "x" if name.endswith("/") else name)


# Every stats key as the code would write it: newsarchive's own namespace and Scrapy's keys.
STATS_KEYS = sorted(
    {NAMESPACE}
    | {name.value for name in Count if not name.value.startswith(NAMESPACE)}
    | {name.value for name in Prefix if not name.value.startswith(NAMESPACE)}
)
CODE = ["newsarchive", "spiders", "pipelines", "bench"]


def test_no_stats_key_is_written_out_of_the_vocabulary() -> None:
    """A stats key spelled as a string elsewhere (``"newsarchive/stored/new"``,
    ``f"newsarchive/{key}"``) is a second vocabulary: code merged in from other branches brought
    some (the batch store, newsarchive check, the throughput benchmark)."""
    keys = "|".join(re.escape(key) for key in STATS_KEYS)
    literal = re.compile(r"""["'](""" + keys + ")")
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder in CODE
        for path in sorted((REPO / folder).rglob("*.py"))
        if path != REPO / "newsarchive" / "counts.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []


def test_the_reasons_read_article_gives_are_names_of_the_vocabulary() -> None:
    """newsarchive.assemble.read_article hands back a name its caller counts (count_named)."""
    for name in (
        Prefix.SKIPPED.reason_name(Reason.BAD_CODE),
        Prefix.DROPPED.reason_name(Reason.PARSER_ERROR),
        Prefix.SKIPPED.reason_name(Place.BEFORE.value),
        INCOMPLETE_PAGES,  # read_page and reparse's long articles
        ORPHAN_PAGE,
    ):
        assert named(name).startswith(NAMESPACE), name
    assert Prefix.SKIPPED.reason_name(Reason.BAD_CODE) == "skipped/bad_code"


def test_the_counter_counts_into_the_crawl_stats_and_zero_still_shows() -> None:
    count = counter()
    count.count(Count.LISTING_PAGES)
    count.count(Count.LISTING_ROWS, 40)
    count.count_reason(Prefix.SKIPPED, Reason.ALREADY_STORED, 3)
    count.count_named("matched/columns=99999", 0)  # a value that matched nothing: 0, not absent
    assert count.snapshot() == {
        "newsarchive/listing_pages": 1,
        "newsarchive/listing_rows": 40,
        "newsarchive/skipped/already_stored": 3,
        "newsarchive/matched/columns=99999": 0,
    }
    assert count.get(Count.LISTING_ROWS) == 40


def test_without_stats_nothing_is_counted_but_a_bad_name_still_fails() -> None:
    nothing = Counter(None)
    nothing.count(Count.DEADLETTER, 2)
    assert nothing.snapshot() == {} and nothing.get(Count.DEADLETTER) == 0
    with pytest.raises(ValueError):
        nothing.count_named("no_such_count")


def test_the_summary_attributes_are_the_recorded_names() -> None:
    """No renaming layer: what the run history stores is the summary's attribute of the same name."""
    summary = RunSummary.from_stats(
        {
            Count.ARTICLE_PAGES: 7,
            Prefix.ARTICLES + "unchanged": 2,
            Prefix.SKIPPED + "already_stored": 3,
            Prefix.SKIPPED + "caifuhao": 1,
            Prefix.DOWNLOAD_ERROR + "timeout": 2,
            Count.REQUESTS: 12,
            Count.NEAR_DUPLICATES: 1,
        }
    )
    recorded = summary.recorded()
    assert list(recorded) == [name.value for name in Recorded if name is not Recorded.WARNINGS]
    attributes = {f.name for f in fields(RunSummary)} | {"errors", "nothing_matched"}
    assert set(recorded) <= attributes
    assert (recorded["article_pages"], recorded["unchanged"], recorded["requests"]) == (7, 5, 12)
    assert recorded["skipped"] == {"caifuhao": 1}  # already_stored is in unchanged, not skipped
    assert recorded["download_errors"] == {"timeout": 2} and recorded["near_duplicates"] == 1
    assert recorded["errors"] == {"total": 2, "by_kind": {"download": 2, "spider": 0}}


# A run recorded before refused, quirks, nothing_matched, listing_rows … existed (issue 12's shape).
OLD_ROW = {
    "requests": 10,
    "responses_by_status": {"200": 10},
    "new": 6,
    "unchanged": 1,
    "revised": 0,
    "dropped": {"no_body": 1},
    "skipped": {},
    "errors": {"total": 0, "by_kind": {"download": 0, "spider": 0}},
    "listing_pages": 6,
    "article_pages": 7,
    "kept": 6,
}


def test_a_run_recorded_by_an_earlier_version_still_reads() -> None:
    assert recorded_value(OLD_ROW, Recorded.UNCHANGED) == 1
    assert recorded_value(OLD_ROW, Recorded.REFUSED) == {}
    assert recorded_value(OLD_ROW, Recorded.NOTHING_MATCHED) == []
    assert recorded_value(OLD_ROW, Recorded.LISTING_ROWS) == 0
    assert recorded_value({"errors": None}, Recorded.ERRORS) == {"total": 0, "by_kind": {}}
    assert recorded_value(None, Recorded.FIELDS_PRESENT) == {}
    # the monitor compares a new run with old rows without a KeyError
    assert run_warnings(RunSummary(listing_pages=6, article_pages=7, kept=6).recorded(), [OLD_ROW] * 3) == []


def test_the_docs_list_every_recorded_count() -> None:
    storage = (Path(REPO) / "docs" / "storage.md").read_text(encoding="utf-8")
    counts = storage.split("### Counts", 1)[1].split("\n## ", 1)[0]
    for name in Recorded:
        assert f"`{name.value}`" in counts, name
