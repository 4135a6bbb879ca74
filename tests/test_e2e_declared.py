"""End to end: the declared sites (newsarchive/sites/*.toml) crawled through the loopback sample
site with the real CLI, into SQLite and PostgreSQL, and replayed from their WARC files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsarchive.archive.warc import WarcArchive
from newsarchive.samplesite import SampleSite
from newsarchive.sites import load_sites
from newsarchive.text.dates import SHANGHAI
from tests.conftest import run_cli
from tests.support import crawl, stored_rows

CNSTOCK_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "sites" / "www.cnstock.com"
SITES = {spec.name: spec for spec in load_sites()}


def test_cnstock_and_cs_com_cn_are_crawled_with_exact_fields(
    site: SampleSite, db_url: str, tmp_path: Path
) -> None:
    first = crawl("cnstock", site.origin, db_url, tmp_path, "-a", "pages=2")
    second = crawl("cs_com_cn", site.origin, db_url, tmp_path, "-a", "pages=3")
    rows = stored_rows(db_url)
    assert sorted(code.split("-")[0] for code in rows) == ["CNSTOCK"] * 4 + ["CSCOMCN"] * 5
    assert "new articles stored:   4" in first and "new articles stored:   5" in second
    assert "errors:                0" in second  # the 404 after the last numbered page ends paging

    court = rows["CNSTOCK-4801362"]
    assert {
        key: court[key] for key in ("title", "published_at", "media", "category", "tags", "url", "feed")
    } == {
        "title": "上海一中院一审公开宣判被告人顾国平等集资诈骗案",
        "published_at": datetime(2021, 12, 8, 13, 4, tzinfo=SHANGHAI),  # pubTime has no seconds
        "media": "上海证券报",
        "category": "shanghaizhengquanbao",
        "tags": ["上海证券报新闻"],
        "url": "https://www.cnstock.com/commonDetail/4801362",
        "feed": "cnstock",
    }
    assert court["body_text"].startswith("上海市第一中级人民法院今日上午依法公开宣判被告人顾国平")
    assert court["extraction"] is None  # read with the site file's body selector (in __NEXT_DATA__)
    assert "相关阅读" not in court["body_text"]

    gbk = rows["CSCOMCN-6225562"]  # served as GBK bytes with only a gb2312 <meta>
    assert gbk["title"] == "A股三大指数集体走强 北向资金净买入近百亿元"
    assert gbk["published_at"] == datetime(2021, 12, 8, 15, 0, tzinfo=SHANGHAI)
    assert (gbk["media"], gbk["category"], gbk["feed"]) == ("中国证券报", "zhongguozhengquanbao", "cs_com_cn")
    assert gbk["body_text"].startswith("A股三大指数今日集体走强")
    assert "责任编辑" not in gbk["body_text"]

    site.clear_requests()
    crawl("cnstock", site.origin, db_url, tmp_path, "-a", "pages=2")
    crawl("cs_com_cn", site.origin, db_url, tmp_path, "-a", "pages=3")
    fetched = [
        r.path
        for r in site.requests
        if "/commonDetail/" in r.path or (".htm" in r.path and "index" not in r.path)
    ]
    assert fetched == []  # every article is stored: only listing pages were requested
    assert stored_rows(db_url) == rows


def test_reparse_of_declared_site_warcs_reproduces_the_rows(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    crawl("cnstock", site.origin, sqlite_url, tmp_path, "-a", "pages=2")
    crawl("cs_com_cn", site.origin, sqlite_url, tmp_path, "-a", "pages=3")
    archives = sorted(str(path) for path in (tmp_path / "data" / "warc").glob("*.warc.gz"))
    replayed = f"sqlite:///{tmp_path / 'replayed.db'}"
    result = run_cli("reparse", *archives, "--db", replayed, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert stored_rows(replayed) == stored_rows(sqlite_url)
    assert len(stored_rows(replayed)) == 9


def test_reparse_reads_old_cnstock_records_and_new_ones(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    """WARC files from before cnstock.com's rebuild (news,yw-….htm pages) reparse with the site
    file's [[legacy]] template next to a crawl of the Next.js site, with the same CNSTOCK ids."""
    crawl("cnstock", site.origin, sqlite_url, tmp_path, "-a", "pages=1")
    new = sorted(str(path) for path in (tmp_path / "data" / "warc").glob("*.warc.gz"))
    old = WarcArchive(tmp_path / "old" / "cnstock-2021.warc.gz")
    pages = [CNSTOCK_SAMPLE / "news" / "sns_yw" / "index.html", *sorted(CNSTOCK_SAMPLE.glob("news,*.htm"))]
    for path in pages:
        url = "https://www.cnstock.com/" + path.relative_to(CNSTOCK_SAMPLE).as_posix()
        headers = [("Content-Type", "text/html")]
        old.write_response(url, 200, headers, path.read_bytes(), fetched_at=datetime(2021, 12, 8, tzinfo=UTC))
    old.close()

    from_old = f"sqlite:///{tmp_path / 'old.db'}"
    result = run_cli("reparse", str(old.path), "--db", from_old, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = stored_rows(from_old)
    assert sorted(rows) == ["CNSTOCK-4800913", "CNSTOCK-4801362", "CNSTOCK-4801375", "CNSTOCK-4801468"]
    court = rows["CNSTOCK-4801362"]
    assert (court["title"], court["published_at"], court["url"], court["feed"]) == (
        "上海一中院一审公开宣判被告人顾国平等集资诈骗案",
        datetime(2021, 12, 8, 13, 4, 47, tzinfo=SHANGHAI),
        "https://www.cnstock.com/news,yw-202112-4801362.htm",
        "cnstock",
    )
    assert court["body_text"].startswith("上海市第一中级人民法院今日上午依法公开宣判被告人顾国平")
    assert "相关阅读" not in court["body_text"]

    from_new = f"sqlite:///{tmp_path / 'new.db'}"
    result = run_cli("reparse", *new, "--db", from_new, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert stored_rows(from_new) == stored_rows(sqlite_url)
    fresh = stored_rows(from_new)["CNSTOCK-4801362"]
    assert fresh["url"] == "https://www.cnstock.com/commonDetail/4801362"
    assert fresh["body_text"] == court["body_text"]  # the same story, read from __NEXT_DATA__


# Outlets added as data only (issue 16 item 4): a site file and sample pages, no Python.
# (spider, pages stored, one stored row's exact fields, the start of its text)
OUTLETS = [
    (
        "stcn",
        3,
        {
            "info_code": "STCN-3962125",
            "title": "外资杀入A股！高景气度军工全产业链上涨 新能源风口依旧",
            "published_at": datetime(2021, 12, 8, 12, 35, tzinfo=SHANGHAI),
            "media": "证券时报网",
            "category": "zhengquanshibaowang",
            "tags": ["证券时报网新闻"],
            "author": "证券时报e公司",
            "url": "https://www.stcn.com/article/detail/3962125.html",
            "feed": "stcn",
            "extraction": None,
        },
        "今日早盘，A股全线走强，上证指数站上3600点",
    ),
    (
        "xinhua",
        3,
        {
            "info_code": "XINHUA-1128140712",  # the 2019 template, at a c_<id>.htm URL
            "title": "专家称明年钢材市场需求趋稳趋弱 须力促供需平衡",
            "published_at": datetime(2021, 12, 8, 12, 21, 28, tzinfo=SHANGHAI),
            "media": "新华社",
            "category": "xinhuashe",
            "tags": ["新华社新闻"],
            "author": None,
            "url": "https://www.news.cn/fortune/2021-12/08/c_1128140712.htm",
            "feed": "xinhua",
            "extraction": None,
        },
        "在近日举办的“2021(第十届)中国钢铁技术经济高端论坛”上",
    ),
]


@pytest.mark.parametrize(("spider", "stored", "fields", "text"), OUTLETS, ids=[o[0] for o in OUTLETS])
def test_an_outlet_added_as_data_is_crawled_stored_and_replayed(
    site: SampleSite,
    sqlite_url: str,
    tmp_path: Path,
    spider: str,
    stored: int,
    fields: dict[str, Any],
    text: str,
) -> None:
    first = crawl(spider, site.origin, sqlite_url, tmp_path)
    assert f"new articles stored:   {stored}" in first and "errors:                0" in first
    rows = stored_rows(sqlite_url)
    namespace = fields["info_code"].split("-")[0]
    assert len(rows) == stored and all(code.startswith(namespace + "-") for code in rows)
    row = rows[fields["info_code"]]
    assert {key: row[key] for key in fields if key != "info_code"} == {
        key: value for key, value in fields.items() if key != "info_code"
    }
    assert row["body_text"].startswith(text)
    assert "责任编辑" not in row["body_text"] and "声明" not in row["body_text"]

    site.clear_requests()
    again = crawl(spider, site.origin, sqlite_url, tmp_path)
    assert "new articles stored:   0" in again
    assert [r.path for r in site.requests if r.path != "/robots.txt"] == [
        urlsplit(url).path for _, url in SITES[spider].listing.columns
    ]  # only the listing page: every article is stored

    archives = sorted(str(path) for path in (tmp_path / "data" / "warc").glob("*.warc.gz"))
    replayed = f"sqlite:///{tmp_path / 'replayed.db'}"
    result = run_cli("reparse", *archives, "--db", replayed, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert stored_rows(replayed) == rows
