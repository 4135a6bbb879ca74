"""End to end: an East Money article split over ``<code>.html`` and ``<code>_2.html`` (eastmoney.md
§2.1) is crawled page by page, stored once with both halves in order, never stored half when a
page fails, and rebuilt whole by a reparse of the crawl's WARC file."""

from __future__ import annotations

from pathlib import Path

from newsarchive.exitcodes import OK
from newsarchive.pages.eastmoney import parse_article
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import Fault
from newsarchive.samplesite.server import DEFAULT_ROOT
from newsarchive.text.clean import clean_body
from tests.conftest import run_cli
from tests.support import crawl, sample_codes, stored_rows

CODE = "202201072239307540"  # the sample site's two-page article (券商中国), listed in columns 344 and 353
URL = f"https://finance.eastmoney.com/a/{CODE}.html"
PAGES = (f"/a/{CODE}.html", f"/a/{CODE}_2.html")
COLUMN = ("-a", "columns=353", "-a", "page_size=10")
FIRST_HALF = "资管新规刚刚迈入落地元年"  # page 1's first paragraph
SECOND_HALF = "事实上，记者从业内获悉"  # page 2's first paragraph


def whole_body() -> str:
    """The article's body text as one page holding both halves would give it."""
    folder = DEFAULT_ROOT / "eastmoney" / "articles"
    pages = [(folder / path.removeprefix("/a/")).read_text("utf-8") for path in PAGES]
    raw = "".join(parse_article(page, URL).body_html or "" for page in pages)
    return clean_body(raw, URL).text


def warc_files(workdir: Path) -> list[str]:
    return sorted(str(path) for path in (workdir / "data" / "warc").glob("*.warc.gz"))


def test_a_two_page_article_is_stored_once_with_both_halves_and_reparsed_whole(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    output = crawl("eastmoney", site.origin, sqlite_url, tmp_path, *COLUMN)
    rows = stored_rows(sqlite_url)
    assert set(rows) == sample_codes("353")
    assert "dropped:               0" in output, output
    assert site.article_requests().count(PAGES[0]) == 1 and site.continuation_requests() == [PAGES[1]]
    assert len(site.article_requests()) == len(rows)  # one article, one row: the pages are one article

    long = rows[f"NW{CODE}"]
    text = long["body_text"]
    assert text == whole_body()
    assert text.startswith(FIRST_HALF) and text.index(FIRST_HALF) < text.index(SECOND_HALF)
    assert text.endswith("应当对个人客户制定更为审慎的参与要求。")  # page 2's last paragraph
    assert "文章来源" not in text and "下一页" not in text
    assert (long["url"], long["media"]) == (URL, "券商中国")

    (archive,) = warc_files(tmp_path)
    reparsed = f"sqlite:///{tmp_path / 'reparse.db'}"
    result = run_cli("reparse", archive, "--db", reparsed, "--log-level", "WARNING", cwd=tmp_path)
    assert result.returncode == OK, result.stderr[-3000:]
    assert stored_rows(reparsed) == rows


def test_an_article_whose_second_page_fails_is_not_stored_and_is_fetched_again(
    sqlite_url: str, tmp_path: Path
) -> None:
    with SampleSite() as site:
        site.start()
        site.inject(PAGES[1], Fault.HTTP_404, times=1)
        first = crawl("eastmoney", site.origin, sqlite_url, tmp_path, *COLUMN)
        assert f"NW{CODE}" not in stored_rows(sqlite_url)  # never half an article
        assert len(stored_rows(sqlite_url)) == len(sample_codes("353")) - 1
        assert "incomplete_pages: 1" in first and "http_404: 1" in first, first

        (failed_run,) = warc_files(tmp_path)  # its reparse stores no half article either
        reparsed = f"sqlite:///{tmp_path / 'reparse.db'}"
        result = run_cli("reparse", failed_run, "--db", reparsed, "--log-level", "WARNING", cwd=tmp_path)
        assert result.returncode == OK, result.stderr[-3000:]
        assert "incomplete_pages: 1" in result.stdout, result.stdout
        assert stored_rows(reparsed) == stored_rows(sqlite_url)

        site.clear_requests()
        crawl("eastmoney", site.origin, sqlite_url, tmp_path, *COLUMN)
        assert site.article_requests() == [PAGES[0]] and site.continuation_requests() == [PAGES[1]]
    assert stored_rows(sqlite_url)[f"NW{CODE}"]["body_text"] == whole_body()
