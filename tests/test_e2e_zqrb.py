"""End to end: the ``zqrb`` spider over the sample 证券日报网 site (real CLI, SQLite and PostgreSQL),
reparse of its WARC, and the cross-source link between its copy and East Money's copy of a story."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from newsarchive.samplesite import SampleSite
from newsarchive.text.dates import SHANGHAI
from tests.conftest import run_cli
from tests.support import crawl, stored_rows
from tests.test_e2e_crawl import seed_body

ZQRB = ("-a", "columns=finance/hangyedongtai,finance/hongguanjingji", "-a", "pages=2")
SEED = "ZQRB-A1651215300343"
SEED_URL = "http://www.zqrb.cn/finance/hangyedongtai/2022-04-29/A1651215300343.html"
EM_SEED = "NW202204292366280343"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "sites" / "www.zqrb.cn"


def sample_codes() -> set[str]:
    return {f"ZQRB-{path.stem}" for path in SAMPLE.glob("*/*/*/A*.html")}


def test_zqrb_crawl_stores_every_article_once_then_fetches_nothing(
    site: SampleSite, db_url: str, tmp_path: Path
) -> None:
    first = crawl("zqrb", site.origin, db_url, tmp_path, *ZQRB)
    rows = stored_rows(db_url)
    assert set(rows) == sample_codes() and len(rows) == 8
    assert f"new articles stored:   {len(rows)}" in first
    assert len(site.article_requests()) == len(rows)
    assert {record.host for record in site.requests} == {"www.zqrb.cn"}
    listings = sorted(r.path for r in site.requests if "index" in r.path)
    assert listings == [
        "/finance/hangyedongtai/index.html",
        "/finance/hangyedongtai/index_p2.html",  # followed from the 下一页 link
        "/finance/hongguanjingji/index.html",
    ]

    seed = rows[SEED]
    assert seed == {
        "info_code": SEED,
        "title": "宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺",
        "published_at": datetime(2022, 4, 29, 14, 58, tzinfo=SHANGHAI),
        "published_raw": "2022-04-29 14:58",
        "media": "证券日报网",
        "category": "zhengquanribaowang",
        "tags": ["证券日报网新闻", "行业动态"],
        "summary": None,
        "author": "王明",
        "url": SEED_URL,
        "feed": "zqrb",
        "body_html": seed_body(),  # the same story as East Money's, byline and editor line removed
        "body_text": seed["body_text"],
        "duplicate_of": None,
        "extraction": None,
    }
    assert seed["published_at"].utcoffset().total_seconds() == 8 * 3600
    assert "本报记者" not in seed["body_text"] and "编辑" not in seed["body_text"]
    aliased = rows["ZQRB-A1638946320266"]  # 来源：证券日报 (the paper) is the same outlet
    assert (aliased["media"], aliased["tags"]) == ("证券日报网", ["证券日报网新闻", "宏观经济"])

    site.clear_requests()
    second = crawl("zqrb", site.origin, db_url, tmp_path, *ZQRB)
    assert site.article_requests() == []
    assert "new articles stored:   0" in second
    assert stored_rows(db_url) == rows


def test_pages_limits_the_listing_pages(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    crawl("zqrb", site.origin, sqlite_url, tmp_path, "-a", "columns=finance/hangyedongtai", "-a", "pages=1")
    assert len(stored_rows(sqlite_url)) == 2
    assert not [r for r in site.requests if r.path.endswith("index_p2.html")]


def test_reparse_of_the_zqrb_warc_reproduces_the_rows(site: SampleSite, tmp_path: Path) -> None:
    crawl_db, reparse_db = f"sqlite:///{tmp_path / 'crawl.db'}", f"sqlite:///{tmp_path / 'reparse.db'}"
    crawl("zqrb", site.origin, crawl_db, tmp_path, *ZQRB)
    archives = sorted(str(path) for path in (tmp_path / "data" / "warc").glob("zqrb-*.warc.gz"))
    assert len(archives) == 1
    result = run_cli("reparse", *archives, "--db", reparse_db, "--log-level", "WARNING", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "new articles stored:   8" in result.stdout
    assert stored_rows(reparse_db) == stored_rows(crawl_db)


@pytest.mark.parametrize("order", [("eastmoney", "zqrb"), ("zqrb", "eastmoney")])
def test_the_two_copies_of_a_story_are_linked_whatever_the_order(
    order: tuple[str, str], site: SampleSite, db_url: str, tmp_path: Path
) -> None:
    arguments = {"eastmoney": ("-a", "columns=344", "-a", "page_size=50"), "zqrb": ZQRB}
    for spider in order:
        crawl(spider, site.origin, db_url, tmp_path, *arguments[spider])
    rows = stored_rows(db_url)
    # the zqrb copy was published first (14:58 < 15:03:20), so it is the canonical one
    assert rows[EM_SEED]["duplicate_of"] == SEED and rows[SEED]["duplicate_of"] is None
    assert rows[EM_SEED]["body_text"] == rows[SEED]["body_text"]
    linked = {code: row["duplicate_of"] for code, row in rows.items() if row["duplicate_of"]}
    assert set(linked.values()) <= {code for code in rows if code.startswith("ZQRB-")}
    assert all(code.startswith("NW") for code in linked)
