"""``newsarchive check``: the canary for redesigns, end to end against the sample site (issue 16
item 5), and its pure parts (fields, verdicts, the table)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from newsarchive.check import SiteCheck, table
from newsarchive.exitcodes import CHECK_FAILED, CONFIG_ERROR, OK
from newsarchive.fields import EXPECTED_FIELDS, expected_fields, present
from newsarchive.items import Article
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import Fault
from newsarchive.samplesite.server import FAST_PATH, ROBOTS_PATH
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS, SAMPLE_EASTMONEY

SITES = ("cnstock", "cs_com_cn", "eastmoney", "eastmoney_fast", "zqrb")
ERROR = "newsarchive: error: "
# East Money's newest rows on the sample site: column 344's first row and the 7x24 list's first row
COLUMN_NEWEST = "/a/202204292366280343.html"
FAST_NEWEST = "NW202112082207166919"


def check(origin: str, cwd: Path, *sites: str):  # type: ignore[no-untyped-def]
    result = run_cli("check", *sites, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *FAST_SETTINGS, cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


def lines_of(stdout: str) -> dict[str, str]:
    """The table's line of each site, by site."""
    return {line.split()[0]: line for line in stdout.splitlines()[1:]}


def test_every_site_of_the_sample_site_passes_with_one_listing_page_and_one_article_each(
    site: SampleSite, tmp_path: Path
) -> None:
    result = check(site.origin, tmp_path)

    assert result.returncode == OK, result.stderr[-3000:]
    assert result.stdout.splitlines()[0].split() == ["site", "listing", "newest", "article", "fields"]
    rows = lines_of(result.stdout)
    assert sorted(rows) == sorted(SITES)
    for line in rows.values():
        assert line.endswith("ok: title, published, body, media"), line
    assert FAST_NEWEST in rows["eastmoney_fast"]
    assert re.search(r"\b36 rows\b", rows["eastmoney"])
    # politely and once: each site's robots.txt, one listing page and one article page, nothing more
    pages = [record for record in site.requests if record.path != ROBOTS_PATH]
    assert len(pages) == 2 * len(SITES), pages
    asked_robots = {record.host for record in site.requests if record.path == ROBOTS_PATH}
    assert asked_robots >= {record.host for record in pages}
    assert result.stderr == ""
    # nothing written: no archive, no WARC file, no dead letters
    assert list(tmp_path.iterdir()) == []


def test_a_site_disallowing_us_in_robots_txt_is_not_fetched_and_fails_its_check(tmp_path: Path) -> None:
    with SampleSite(robots={"www.zqrb.cn": "User-agent: *\nDisallow: /\n"}) as site:
        result = check(site.origin, tmp_path, "zqrb")

    assert result.returncode == CHECK_FAILED
    assert [r for r in site.requests if r.path != ROBOTS_PATH] == []
    assert "zqrb: listing http://www.zqrb.cn/finance/hongguanjingji/index.html could not be fetched: " \
        "disallowed by robots.txt" in result.stderr  # fmt: skip


def test_a_failed_fetch_an_empty_listing_and_an_unreadable_listing_are_each_named(
    site: SampleSite, tmp_path: Path
) -> None:
    site.inject("/finance/hongguanjingji/index.html", Fault.HTTP_404)  # zqrb's first 栏目 page
    site.inject(FAST_PATH, Fault.EMPTY_LIST)  # the 7x24 list answers with no rows
    site.inject(COLUMN_NEWEST, Fault.HTTP_500)  # East Money's newest article page fails, retries too
    site.inject("/xwzx/hg/", Fault.TRUNCATED_BODY)  # cs.com.cn's listing arrives cut short

    result = check(site.origin, tmp_path)

    assert result.returncode == CHECK_FAILED, result.stderr
    errors = sorted(line.removeprefix(ERROR) for line in result.stderr.splitlines() if line.startswith(ERROR))
    assert errors[0].startswith("cs_com_cn: listing https://www.cs.com.cn/xwzx/hg/ could not be fetched: ")
    assert errors[1:] == [
        "eastmoney: newest article https://finance.eastmoney.com/a/202204292366280343.html could not "
        "be fetched: http_500",
        "eastmoney_fast: listing https://np-weblist.eastmoney.com/comm/web/getFastNewsList?"
        + errors[2].split("getFastNewsList?", 1)[1].split(" ", 1)[0]
        + " gave no rows",
        "zqrb: listing http://www.zqrb.cn/finance/hongguanjingji/index.html could not be fetched: http_404",
    ]
    rows = lines_of(result.stdout)
    assert rows["cnstock"].endswith("ok: title, published, body, media")
    assert "FAILED: listing" in rows["zqrb"] and "http_404" in rows["zqrb"]
    assert "0 rows" in rows["eastmoney_fast"]


def test_an_unknown_site_is_a_usage_error_before_anything_is_fetched(
    site: SampleSite, tmp_path: Path
) -> None:
    result = check(site.origin, tmp_path, "zqrb", "sina")

    assert result.returncode == CONFIG_ERROR
    assert result.stderr.startswith(f"{ERROR}unknown spider 'sina' (available: cnstock, ")
    assert site.requests == []
    internal = check(site.origin, tmp_path, "reparse")
    assert internal.returncode == CONFIG_ERROR


def redesign_article_pages(root: Path) -> None:
    """East Money's article pages no longer name their source: the header's 来源 item, the body's
    ``（文章来源：…）`` line and the source box are gone (each is one line of the sample pages)."""
    for page in (root / "eastmoney" / "articles").glob("*.html"):
        html = page.read_text(encoding="utf-8")
        page.write_text(re.sub(r"(?m)^.*来源.*\n", "", html), encoding="utf-8")


def test_a_redesigned_article_page_is_flagged_by_check_and_by_the_monitor(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The 7x24 list names no outlet: its articles' media comes from the article page only. Once the
    page stops naming it, `check` names the site and the field, and the monitor warns after a crawl.
    The column lists name the outlet themselves, so `eastmoney` still passes."""
    root = tmp_path / "site"
    shutil.copytree(SAMPLE_EASTMONEY.parent, root)
    fast_list = root / "eastmoney" / "fastnews" / "102.json"
    rows = json.loads(fast_list.read_text(encoding="utf-8"))
    crawl = ("crawl", "eastmoney_fast", "-a", "pages=1", "--db", sqlite_url, *FAST_SETTINGS)
    site = SampleSite(root)

    def run(number: int, *command: str) -> subprocess.CompletedProcess[str]:
        """``command`` against the site listing its ``number``-th ten rows: as on the real list,
        every run of the job finds ten new articles."""
        fast_list.write_text(json.dumps(rows[10 * number : 10 * number + 10]), encoding="utf-8")
        with site:  # (re)loads the list and the article pages
            return run_cli(*command, "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", cwd=tmp_path)

    for number in range(3):
        steady = run(number, *crawl)
        assert steady.returncode == OK, steady.stderr
        assert "warning" not in steady.stderr
    redesign_article_pages(root)
    checked = run(3, "check", "eastmoney", "eastmoney_fast", *FAST_SETTINGS)
    crawled = run(3, *crawl)

    assert checked.returncode == CHECK_FAILED
    assert checked.stderr.splitlines() == [
        f"{ERROR}eastmoney_fast: newest article "
        f"https://finance.eastmoney.com/a/{rows[30]['code']}.html has no media"
    ]
    table_rows = lines_of(checked.stdout)
    assert table_rows["eastmoney_fast"].endswith("MISSING media (found title, published, body)")
    assert table_rows["eastmoney"].endswith("ok: title, published, body, media")
    assert crawled.returncode == OK, crawled.stderr
    warnings = [line for line in crawled.stderr.splitlines() if line.startswith("newsarchive: warning: ")]
    assert warnings == ["newsarchive: warning: only 0% of articles have a media (usually 100%)"], (
        crawled.stderr
    )


# --- the pure parts -------------------------------------------------------------------------------


def article(**fields: object) -> Article:
    values: dict[str, object] = {"info_code": "NW202112082207166919", "url": "https://x/a.html", "feed": "f"}
    return Article(**{**values, **fields})  # type: ignore[arg-type]


def test_a_field_is_present_when_it_has_a_value_that_is_not_blank() -> None:
    assert present(article(title="标题"), "title")
    assert not present(article(title="  \n"), "title")
    assert not present(article(), "published")
    assert not present(article(body_html="<p>x</p>"), "body")  # the cleaned body is what counts
    assert present(article(body_text="x"), "body")


def test_a_site_may_expect_more_fields_but_never_fewer_than_the_essential_ones() -> None:
    class Plain:
        name = "plain"

    class Digests:
        name = "digests"
        expected_fields = ("summary", "media")

    class Typo:
        name = "typo"
        expected_fields = ("sumary",)

    assert expected_fields(Plain) == EXPECTED_FIELDS == ("title", "published", "body", "media")
    assert expected_fields(Digests) == ("title", "published", "body", "summary", "media")
    with pytest.raises(ValueError, match=r"^typo: expected_fields: unknown field 'sumary' \(known: title, "):
        expected_fields(Typo)


class DropTitleless:
    """A step like pipelines/validate.py: drops an article without a title."""

    def process_item(self, item: Article) -> Article:
        from scrapy.exceptions import DropItem

        if not item.title:
            raise DropItem(f"no_title: {item.info_code}")
        return item


class Clean:
    """A step like pipelines/clean.py: fills the cleaned body."""

    def process_item(self, item: Article) -> Article:
        item.body_text = item.body_html
        return item


def test_every_step_runs_even_after_a_drop_so_every_missing_field_shows() -> None:
    site = SiteCheck("zqrb", EXPECTED_FIELDS, article_url="http://www.zqrb.cn/a.html")
    site.judge(article(body_html="<p>正文</p>", media="证券日报网"), [DropTitleless(), Clean()])

    assert site.found == ("body", "media")
    assert site.missing == ("title", "published")
    assert site.dropped == ["no_title"]
    assert not site.ok
    assert site.errors() == [
        "zqrb: newest article http://www.zqrb.cn/a.html has no title (the pipelines would drop it: no_title)",
        "zqrb: newest article http://www.zqrb.cn/a.html has no published",
    ]


def test_a_listing_read_without_rows_or_never_answered_is_the_problem() -> None:
    empty = SiteCheck("cnstock", EXPECTED_FIELDS, listing_url="https://www.cnstock.com/l", listed=0)
    empty.listing_done()
    assert empty.problem == "listing https://www.cnstock.com/l gave no rows"
    filtered = SiteCheck("eastmoney", EXPECTED_FIELDS, listing_url="https://e/l", listed=3)
    filtered.listing_done()
    assert filtered.problem == "listing https://e/l gave no rows (3 listed, none to follow)"
    failed = SiteCheck("zqrb", EXPECTED_FIELDS, listing_url="http://z/l")
    failed.fail("listing http://z/l could not be fetched: http_404")
    failed.listing_done()  # the first problem stays
    assert failed.errors() == ["zqrb: listing http://z/l could not be fetched: http_404"]


def test_the_table_has_one_aligned_line_per_site_naming_what_is_missing() -> None:
    good = SiteCheck("eastmoney", EXPECTED_FIELDS, listed=36, info_code="NW1", found=EXPECTED_FIELDS)
    bad = SiteCheck("eastmoney_fast", EXPECTED_FIELDS, listed=50, info_code="NW2")
    bad.found, bad.missing = ("title", "published", "body"), ("media",)
    down = SiteCheck("zqrb", EXPECTED_FIELDS, problem="listing http://z/l could not be fetched: http_404")

    assert table([good, bad, down]) == [
        "site            listing  newest article  fields",
        "eastmoney       36 rows  NW1             ok: title, published, body, media",
        "eastmoney_fast  50 rows  NW2             MISSING media (found title, published, body)",
        "zqrb            -        -               FAILED: listing http://z/l could not be fetched: http_404",
    ]
    assert Counter(site.ok for site in (good, bad, down)) == Counter({False: 2, True: 1})
