"""The committed sample site: rebuilding it from ../shared is byte-identical, and its invariants hold."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from newsarchive.samplesite.build import build, cms_body_lines, read_posts
from newsarchive.samplesite.server import DEFAULT_ROOT
from newsarchive.samplesite.templates import DISCLAIMER

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SITE = DEFAULT_ROOT / "eastmoney"
ZQRB_HOST = "www.zqrb.cn"
ZQRB_SITE = DEFAULT_ROOT / "sites" / ZQRB_HOST
SEED_CODE = "202204292366280343"
COLUMN_KEYS = ["code", "np_dst", "showTime", "title", "mediaName", "summary", "image", "url", "uniqueUrl"]
FAST_KEYS = ["summary", "code", "titleColor", "realSort", "showTime", "title", "stockList", "image"]
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"{SHARED} (the builder's input) is absent; the committed data is still checked",
)
_CURRENT_MEDIA = re.compile(r'<div class="item">来源：(.+?)</div>')
_OLDER_MEDIA = re.compile(r'<div class="source data-source" data-source="(.+?)">')
_PAGE_TIME = re.compile(r"(\d{4})年(\d{2})月(\d{2})日 (\d{2}:\d{2})</div>")


def rows(name: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((SITE / name).read_text(encoding="utf-8"))
    return loaded


def pages() -> dict[str, str]:
    """The page each article starts on (``<code>.html``), by code."""
    return {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted(SITE.glob("articles/*.html"))
        if "_" not in path.stem
    }


def continuations() -> dict[str, str]:
    """The pages long articles continue on (``<code>_2.html`` …), by file stem."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(SITE.glob("articles/*_*.html"))}


def last_pages() -> dict[str, str]:
    """The last page of every article, by code: where its em_media line is."""
    last = pages()
    for stem, page in sorted(continuations().items(), key=lambda item: int(item[0].split("_")[1])):
        last[stem.split("_")[0]] = page
    return last


def tree(root: Path) -> dict[str, bytes]:
    files = sorted(path for path in root.rglob("*") if path.is_file())
    return {str(path.relative_to(root)): path.read_bytes() for path in files}


@needs_shared
def test_rebuild_is_byte_identical_to_the_committed_data(tmp_path: Path) -> None:
    build(SHARED, tmp_path)
    rebuilt, committed = tree(tmp_path / "eastmoney"), tree(SITE)
    assert sorted(rebuilt) == sorted(committed)
    changed = [name for name in rebuilt if rebuilt[name] != committed[name]]
    assert changed == [], "data/sample drifted: rerun python -m newsarchive.samplesite.build"
    rebuilt, committed = tree(tmp_path / "sites" / ZQRB_HOST), tree(ZQRB_SITE)
    assert rebuilt == committed, "data/sample/sites/www.zqrb.cn drifted: rerun the builder"


@needs_shared
def test_rebuild_is_deterministic_and_removes_stale_files(tmp_path: Path) -> None:
    build(SHARED, tmp_path)
    first = tree(tmp_path)
    stale = tmp_path / "eastmoney" / "articles" / "202001010000000000.html"
    stale.write_text("old")
    build(SHARED, tmp_path)
    assert tree(tmp_path) == first


@needs_shared
def test_seed_page_is_the_fixture_as_real_pages_are_and_its_body_matches_the_template_rules() -> None:
    fixture = (SHARED / "fixtures/eastmoney/article_202204292366280343.html").read_bytes()
    seed_page = (SITE / "articles" / f"{SEED_CODE}.html").read_bytes()
    # the fixture verbatim, but for its 责任编辑 line and share text: moved out of #ContentBody
    tail = [
        "<p>（责任编辑：DF010）</p>",
        "<p>打开微信，</p><p>点击底部的“发现”，</p><p>使用“扫一扫”</p><p>即可将网页分享至朋友圈。</p>",
    ]
    moved = [f'  <div class="share">{tail[1]}</div>', '  <div class="editor">（责任编辑：DF010）</div>']
    fixture_lines, page_lines = fixture.decode().splitlines(), seed_page.decode().splitlines()
    assert [line for line in fixture_lines if line not in tail] == [
        line for line in page_lines if line not in moved
    ]
    assert page_lines[page_lines.index('  <div class="sm">' + DISCLAIMER + "</div>") + 1 :][:2] == moved
    assert page_lines.index(moved[0]) > page_lines.index('<p class="em_media">（文章来源：证券日报网）</p>')
    seed_list = json.loads((SHARED / "fixtures/eastmoney/columns_344_page1.json").read_text(encoding="utf-8"))
    assert rows("columns/344.json")[0] == seed_list["data"]["list"][0]
    # The current-layout template turns the seed's archived CMS body into exactly the seed page's paragraphs.
    seed = next(post for post in read_posts(SHARED / "corpus/finews") if post.code == SEED_CODE)
    story = [line for line in seed_page.decode().splitlines() if line.startswith("<p>")][1:]
    assert cms_body_lines(seed.body_html) == story


@needs_shared
def test_corpus_reading_skips_non_news_and_merges_repeats() -> None:
    posts = read_posts(SHARED / "corpus/finews")
    codes = [post.code for post in posts]
    assert len(codes) == len(set(codes)) == 70  # 72 files - init.md - one repeated old_post__ copy
    assert all(post.title and post.published and re.fullmatch(r"\d{18}", post.code) for post in posts)
    assert "开站大吉" not in {post.title for post in posts}


def test_enough_articles_in_both_layouts() -> None:
    html = pages()
    assert len(html) >= 40
    older = [code for code, page in html.items() if '<div class="newsContent">' in page]
    current = [code for code, page in html.items() if '<div class="txtinfos" id="ContentBody"' in page]
    assert len(older) >= 5 and len(current) >= 20 and len(older) + len(current) == len(html)
    assert all(code.startswith("2021") for code in older)
    assert '<meta charset="utf-8">' in html[current[0]]
    assert '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">' in html[older[0]]


def test_bodies_end_at_the_em_media_line_as_real_pages_do() -> None:
    """Real #ContentBody bodies (../shared/real/eastmoney, eastmoney.md §6) end at the （文章来源：…）
    line: the 责任编辑 line and the WeChat share text are page chrome, after the body."""
    continued = {stem.split("_")[0] for stem in continuations()}
    for code, html in [*pages().items(), *continuations().items()]:
        body = lxml.html.document_fromstring(html).get_element_by_id("ContentBody")
        last = body[-1]
        if code in continued:  # a page a long article continues after: no em_media line
            assert not body.find_class("em_media"), code
        else:
            assert "em_media" in last.get("class", ""), code
            assert last.tail is None or not last.tail.strip(), code
        inside = lxml.html.tostring(body, encoding="unicode")
        assert "责任编辑" not in inside and "打开微信" not in inside, code
        if 'class="txtinfos"' in html:  # current layout: they follow, outside the body
            assert (
                '<div class="editor">（责任编辑：' in html and '<div class="share"><p>打开微信，</p>' in html
            )


@needs_shared
def test_a_long_article_continues_on_a_second_page_its_pager_links() -> None:
    code = "202201072239307540"
    assert [name for name in continuations() if name.startswith(code)] == [f"{code}_2"]
    first, second = pages()[code], continuations()[f"{code}_2"]
    assert f'<a href="/a/{code}_2.html">2</a>' in first and f'<a href="/a/{code}.html">1</a>' in second
    assert {stem.split("_")[0] for stem in continuations()} == {code}  # the only long one
    # its story lines, in order over both pages, are the corpus body's
    post = next(post for post in read_posts(SHARED / "corpus/finews") if post.code == code)
    story = [
        line
        for page in (first, second)
        for line in page.splitlines()
        if line.startswith("<p>") and "toplink" not in line
    ]
    assert story == cms_body_lines(post.body_html)


def test_media_are_varied_with_several_from_zqrb() -> None:
    media: Counter[str] = Counter()
    for page in last_pages().values():
        found = _CURRENT_MEDIA.search(page) or _OLDER_MEDIA.search(page)
        assert found is not None
        assert f"（文章来源：{found.group(1)}）" in page
        media[found.group(1)] += 1
    assert len(media) >= 5
    assert media["证券日报网"] >= 6


def test_rows_have_the_real_shapes_and_order() -> None:
    for name in ("columns/344.json", "columns/345.json", "fastnews/102.json"):
        listed = rows(name)
        keys = FAST_KEYS if name.startswith("fast") else COLUMN_KEYS
        assert all(list(row) == keys for row in listed)
        times = [row["showTime"] for row in listed]
        assert times == sorted(times, reverse=True)
    assert len(rows("columns/344.json")) >= 25
    assert len(rows("fastnews/102.json")) >= 20


def test_real_sort_is_epoch_seconds_of_show_time_plus_six_digits() -> None:
    beijing = timezone(timedelta(hours=8))
    sorts = []
    for row in rows("fastnews/102.json"):
        shown = datetime.strptime(row["showTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=beijing)
        assert re.fullmatch(rf"{int(shown.timestamp())}\d{{6}}", row["realSort"])
        sorts.append(int(row["realSort"]))
    assert sorts == sorted(sorts, reverse=True) and len(set(sorts)) == len(sorts)


def test_every_listed_code_has_a_page_except_cfh_rows() -> None:
    html = pages()
    listed = [row for path in sorted(SITE.glob("columns/*.json")) for row in rows(f"columns/{path.name}")]
    cfh = [row for row in listed if row["np_dst"] == "CFH"]
    assert cfh and all(row["uniqueUrl"] == "" and "caifuhao.eastmoney.com" in row["url"] for row in cfh)
    assert not {row["code"] for row in cfh} & set(html)
    cms = [row for row in listed if row["np_dst"] == "CMS"] + rows("fastnews/102.json")
    assert {row["code"] for row in cms} <= set(html)
    assert {row["code"] for row in cms} == set(html)  # and every page is listed somewhere


def test_listed_times_match_the_pages() -> None:
    html = pages()
    for row in [*rows("columns/344.json"), *rows("fastnews/102.json")]:
        if row["code"] in html:
            found = _PAGE_TIME.search(html[row["code"]])
            assert found is not None
            assert "{}-{}-{} {}".format(*found.groups()) == row["showTime"][:16]


def test_an_article_is_shared_by_both_columns_and_the_fast_feed() -> None:
    in_344 = {row["code"] for row in rows("columns/344.json") if row["np_dst"] == "CMS"}
    in_345 = {row["code"] for row in rows("columns/345.json") if row["np_dst"] == "CMS"}
    in_fast = {row["code"] for row in rows("fastnews/102.json")}
    assert in_344 & in_345 & in_fast
    assert in_344 - in_fast and in_fast - in_344  # and each feed also has articles of its own


def test_zqrb_site_has_both_list_templates_pagination_and_every_zqrb_story() -> None:
    listings = {
        str(p.relative_to(ZQRB_SITE)): p.read_text(encoding="utf-8")
        for p in ZQRB_SITE.glob("*/*/index*.html")
    }
    assert sorted(listings) == [
        "finance/hangyedongtai/index.html",
        "finance/hangyedongtai/index_p1.html",
        "finance/hangyedongtai/index_p2.html",
        "finance/hongguanjingji/index.html",
        "finance/hongguanjingji/index_p1.html",
    ]
    assert '<div class="news_content">' in listings["finance/hangyedongtai/index.html"]
    assert 'title="下一页">下一页</a>' in listings["finance/hangyedongtai/index.html"]
    assert "下一页" not in listings["finance/hangyedongtai/index_p2.html"]
    assert '<div class="listMain">' in listings["finance/hongguanjingji/index.html"]
    articles = {p.stem: p.read_text(encoding="utf-8") for p in ZQRB_SITE.glob("*/*/*/A*.html")}
    zqrb_titles = {re.search(r"<h1>(.*?)</h1>", page).group(1) for page in articles.values()}  # type: ignore[union-attr]
    listed = [row for path in sorted(SITE.glob("columns/*.json")) for row in rows(f"columns/{path.name}")]
    html = pages()
    east_money = {
        code
        for code, page in html.items()
        if "来源：证券日报网" in page or 'data-source="证券日报网"' in page
    }
    assert len(articles) == len(east_money) == 8  # every East Money 证券日报网 story has its zqrb copy
    assert {row["title"] for row in listed if row["code"] in east_money} <= {
        escape(t) for t in zqrb_titles
    } | zqrb_titles
    assert all(re.fullmatch(r"A\d{13}", code) for code in articles)
    assert all(
        "<!--con-->" in page and "本报记者 " in page and "&ensp;来源：" in page for page in articles.values()
    )
    assert sum('<div class="content">' in page for page in articles.values()) == 1  # the older body container


def test_the_zqrb_seed_copy_is_earlier_than_east_money_s() -> None:
    page = (ZQRB_SITE / "finance/hangyedongtai/2022-04-29/A1651215300343.html").read_text(encoding="utf-8")
    assert '<div class="info_news">2022-04-29 14:58&ensp;&ensp;来源：证券日报网&ensp;&ensp;</div>' in page
    assert "<p>　　本报记者 王明</p>" in page
    assert rows("columns/344.json")[0]["showTime"] == "2022-04-29 15:03:20"
