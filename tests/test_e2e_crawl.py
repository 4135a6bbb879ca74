"""End to end: crawl the loopback sample site with the real CLI into SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from newsarchive.samplesite import SampleSite
from newsarchive.text.dates import SHANGHAI
from tests.support import SAMPLE_EASTMONEY as SAMPLE
from tests.support import crawl, sample_codes, stored_rows

SEED_POST = Path(__file__).with_name("export") / "seed_post.md"
COLUMNS = ("-a", "columns=344,345", "-a", "page_size=10")


def seed_body() -> str:
    body = SEED_POST.read_text(encoding="utf-8").split("---\n", 2)[2].split("\n", 1)[0]
    return body.removesuffix('<p class="em_media">（文章来源：证券日报网）</p>')


def test_column_crawl_stores_every_article_once_then_fetches_nothing(
    site: SampleSite, db_url: str, tmp_path: Path
) -> None:
    first = crawl("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)
    rows = stored_rows(db_url)
    assert set(rows) == sample_codes("344", "345")
    assert f"new articles stored:   {len(rows)}" in first
    assert "caifuhao: 3" in first
    assert len(site.article_requests()) == len(rows)  # the article on two listings is fetched once
    # every request reached the sample site with the real host it was meant for
    assert {record.host for record in site.requests} == {"np-listapi.eastmoney.com", "finance.eastmoney.com"}

    seed = rows["NW202204292366280343"]
    assert seed == {
        "info_code": "NW202204292366280343",
        "title": "宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺",
        "published_at": datetime(2022, 4, 29, 15, 3, 20, tzinfo=SHANGHAI),
        "published_raw": "2022-04-29 15:03:20",
        "media": "证券日报网",
        "category": "zhengquanribaowang",
        "tags": ["证券日报网新闻"],
        "summary": "订单锐减、原材料价格上涨、物流配送放缓，一道道难关摆在了源头工厂企业主的面前，"
        "是躺平任由情况恶化，还是寻求突破逆境求生……",
        "author": None,
        "url": "https://finance.eastmoney.com/a/202204292366280343.html",
        "feed": "eastmoney",
        "body_html": seed_body(),
        "body_text": seed["body_text"],
        "duplicate_of": None,
        "extraction": None,
    }
    assert seed["published_at"].utcoffset().total_seconds() == 8 * 3600
    assert seed["body_text"].startswith("订单锐减、原材料价格上涨")
    assert "文章来源" not in seed["body_text"] and "\n" in seed["body_text"]

    older = rows["NW202112082206672930"]  # an older-layout page: time from the listing, author from the page
    assert older["published_at"] == datetime(2021, 12, 8, 10, 46, 18, tzinfo=SHANGHAI)
    assert older["author"] == "张三"
    assert older["body_html"] == "<p>离岸人民币兑美元升至6.3512，为2018年以来最高水平。</p>"

    site.clear_requests()
    second = crawl("eastmoney", site.origin, db_url, tmp_path, *COLUMNS)
    assert site.article_requests() == []
    assert "new articles stored:   0" in second
    assert stored_rows(db_url) == rows


def test_media_filter_keeps_only_that_outlet(site: SampleSite, sqlite_url: str, tmp_path: Path) -> None:
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, *COLUMNS, "-a", "media=证券日报网")
    rows = stored_rows(sqlite_url)
    assert rows and {row["media"] for row in rows.values()} == {"证券日报网"}
    assert {row["category"] for row in rows.values()} == {"zhengquanribaowang"}
    assert len(site.article_requests()) == len(rows)


def test_fast_feed_articles_are_emnews_with_the_list_digest(
    site: SampleSite, db_url: str, tmp_path: Path
) -> None:
    crawl("eastmoney_fast", site.origin, db_url, tmp_path, "-a", "page_size=10", "-a", "pages=2")
    rows = stored_rows(db_url)
    assert len(rows) == 20
    newest = rows["NW202112082207166919"]
    assert newest["title"] == "新力金融：股东海螺水泥拟减持不超1%公司股份"
    assert newest["published_at"] == datetime(2021, 12, 8, 15, 44, 18, tzinfo=SHANGHAI)
    assert newest["summary"] == "新力金融公告，股东海螺水泥拟减持不超过1%的公司股份。（财联社）"
    assert (newest["category"], newest["tags"], newest["feed"]) == (
        "emnews",
        ["东财滚动新闻"],
        "eastmoney_fast",
    )
    assert newest["media"] == "财联社"  # from the article page: the 7x24 list has no media field


def test_bad_articles_are_dropped_with_a_reason_and_fetched_again(tmp_path: Path, sqlite_url: str) -> None:
    root = tmp_path / "site"
    shutil.copytree(SAMPLE.parent, root)
    broken_page, broken_date = "202112082207154789", "202112082207143352"
    (root / "eastmoney" / "articles" / f"{broken_page}.html").write_text(
        "<html><body><p>系统维护中</p></body></html>", encoding="utf-8"
    )
    listing = root / "eastmoney" / "columns" / "344.json"
    rows = json.loads(listing.read_text(encoding="utf-8"))
    for row in rows:
        if row["code"] == broken_date:
            row["showTime"] = "时间未知"
    listing.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert {broken_page, broken_date} <= {row["code"] for row in rows}

    with SampleSite(root) as site:
        site.start()
        first = crawl(
            "eastmoney", site.origin, sqlite_url, tmp_path, "-a", "columns=344", "-a", "page_size=10"
        )
        stored = stored_rows(sqlite_url)
        assert "bad_date: 1" in first and "no_body: 1" in first
        assert f"NW{broken_page}" not in stored and f"NW{broken_date}" not in stored
        assert len(stored) == len(sample_codes("344")) - 2

        site.clear_requests()
        crawl("eastmoney", site.origin, sqlite_url, tmp_path, "-a", "columns=344", "-a", "page_size=10")
        fetched = sorted(path.rsplit("/", 1)[1] for path in site.article_requests())
        assert fetched == sorted([f"{broken_page}.html", f"{broken_date}.html"])


def test_a_repost_under_another_code_is_stored_and_linked(tmp_path: Path, sqlite_url: str) -> None:
    root = tmp_path / "site"
    shutil.copytree(SAMPLE.parent, root)
    original, repost = "202204292366280343", "202204302366299999"
    page = (root / "eastmoney" / "articles" / f"{original}.html").read_text(encoding="utf-8")
    retitled = page.replace("宝藏工厂“论剑”1688", "1688超级工厂大赛落幕").replace(
        "2022年04月29日 15:03", "2022年04月30日 09:12"
    )
    (root / "eastmoney" / "articles" / f"{repost}.html").write_text(retitled, encoding="utf-8")
    listing = root / "eastmoney" / "columns" / "345.json"
    rows = json.loads(listing.read_text(encoding="utf-8"))
    copy = dict(
        rows[0], code=repost, showTime="2022-04-30 09:12:41", title="1688超级工厂大赛落幕：切磋逆势增长的技艺"
    )
    copy.update(mediaName="证券日报网", url="", uniqueUrl=f"http://finance.eastmoney.com/a/{repost}.html")
    listing.write_text(json.dumps([copy, *rows], ensure_ascii=False), encoding="utf-8")

    with SampleSite(root) as site:
        site.start()
        output = crawl("eastmoney", site.origin, sqlite_url, tmp_path, *COLUMNS)
    stored = stored_rows(sqlite_url)
    assert stored[f"NW{repost}"]["title"] == "1688超级工厂大赛落幕：切磋逆势增长的技艺"
    assert len(stored) == len(sample_codes("344", "345")) + 1  # kept, not dropped
    assert "near-duplicates linked: 1" in output
    links = {code: row["duplicate_of"] for code, row in stored.items() if row["duplicate_of"]}
    assert links == {f"NW{repost}": f"NW{original}"}


def test_the_category_does_not_depend_on_which_spider_ran_first(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    fast = ("-a", "page_size=10", "-a", "pages=10")
    columns_first, fast_first = sqlite_url, f"sqlite:///{tmp_path / 'other.db'}"
    crawl("eastmoney", site.origin, columns_first, tmp_path, *COLUMNS)
    moved = crawl("eastmoney_fast", site.origin, columns_first, tmp_path, *fast)
    crawl("eastmoney_fast", site.origin, fast_first, tmp_path, *fast)
    crawl("eastmoney", site.origin, fast_first, tmp_path, *COLUMNS)
    one, other = stored_rows(columns_first), stored_rows(fast_first)
    assert one == other
    fast_rows = {code for code, row in one.items() if row["feed"] == "eastmoney_fast"}
    in_both = fast_rows & sample_codes("344", "345")
    assert in_both  # articles carried by both feeds are archived as 7x24 posts, as the original did
    assert {(one[code]["category"], one[code]["tags"][0]) for code in in_both} == {("emnews", "东财滚动新闻")}
    assert f"moved to 7x24 feed:    {len(in_both)}" in moved


def test_a_gbk_page_without_a_charset_header_is_stored_correctly(tmp_path: Path, sqlite_url: str) -> None:
    root = tmp_path / "site"
    shutil.copytree(SAMPLE.parent, root)
    code = "202204292366280343"
    page = root / "eastmoney" / "articles" / f"{code}.html"
    html = page.read_text(encoding="utf-8").replace('<meta charset="utf-8">', '<meta charset="gb2312">')
    page.write_bytes(html.encode("gb18030"))  # served as text/html with no charset, like the real site
    with SampleSite(root) as site:
        site.start()
        crawl(
            "eastmoney",
            site.origin,
            sqlite_url,
            tmp_path,
            "-a",
            "columns=344",
            "-a",
            "page_size=10",
            "-a",
            "pages=1",
        )
    seed = stored_rows(sqlite_url)[f"NW{code}"]
    assert seed["body_html"] == seed_body()
