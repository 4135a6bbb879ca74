"""End to end: the declared sites (newsarchive/sites/*.toml) crawled through the loopback sample
site with the real CLI, into SQLite and PostgreSQL, and replayed from their WARC files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from newsarchive.archive.warc import WarcArchive
from newsarchive.samplesite import SampleSite
from newsarchive.text.dates import SHANGHAI
from tests.conftest import run_cli
from tests.support import crawl, stored_rows

CNSTOCK_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "sites" / "www.cnstock.com"


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
