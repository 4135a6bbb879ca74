"""The summary counts articles, not copies or listing occurrences (issue 14: "already stored: 210"
of an archive of 87): new + already stored + revised is the number of distinct articles a run
handled, and the run history holds the same counts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from newsarchive.samplesite import SampleSite
from tests.conftest import run_cli
from tests.support import column_entries, crawl, stored_rows


def counts(stdout: str) -> tuple[int, int, int]:
    def number(label: str) -> int:
        found = re.search(rf"^\s*{label}:\s+(\d+)", stdout, re.M)
        assert found, stdout
        return int(found.group(1))

    return number("new articles stored"), number("already stored"), number("revised")


def last_counts(db_url: str, cwd: Path) -> dict:
    shown = run_cli("runs", "--json", "--limit", "1", "--db", db_url, cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)[0]["counts"]


def test_a_reparse_of_two_files_holding_the_same_articles_counts_each_article_once(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, "-a", "columns=344", "-a", "page_size=10")
    stored = len(stored_rows(sqlite_url))
    (warc,) = (tmp_path / "data" / "warc").glob("*.warc.gz")
    copy = warc.with_name("copy-" + warc.name)  # the same responses kept twice (two crawls' files)
    shutil.copy(warc, copy)
    result = run_cli("reparse", str(warc), str(copy), "--db", sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"({2 * stored} article pages)" in result.stdout  # every copy was read ...
    assert counts(result.stdout) == (0, stored, 0)  # ... and each article counted once
    assert last_counts(sqlite_url, tmp_path)["unchanged"] == stored


def test_articles_listed_in_several_columns_count_once(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    columns = ("344", "345", "353")
    listed = column_entries(*columns)
    assert len(listed) > len(set(listed))  # the sample lists some articles in two columns
    arguments = ("-a", f"columns={','.join(columns)}", "-a", "page_size=10", "-a", "pages=10")
    first = crawl("eastmoney", site.origin, sqlite_url, tmp_path, *arguments)
    assert counts(first) == (len(set(listed)), 0, 0)
    again = crawl(
        "eastmoney",
        site.origin,
        sqlite_url,
        tmp_path,
        "-s",
        "NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES=0",
        *arguments,
    )
    assert counts(again) == (0, len(set(listed)), 0)
    assert last_counts(sqlite_url, tmp_path)["unchanged"] == len(set(listed))
