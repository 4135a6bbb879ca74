"""Declared sites on saved pages: bytes as served (GBK for cs.com.cn), decoded like a crawl would."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from newsarchive.pages.declared import (
    INFO_CODE,
    DeclaredPageError,
    info_code,
    linked_next_page,
    next_page_url,
    parse_article,
    parse_listing,
)
from newsarchive.sites import SITES_FOLDER as PACKAGE_SITES
from newsarchive.sites import SiteSpec, load_site, load_sites
from newsarchive.text.clean import clean_body
from newsarchive.text.encoding import decode_html

CASES = Path(__file__).with_name("cases")
SITES = {site.name: site for site in load_sites()}
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "sites"
SAMPLE_HOSTS = (
    ("www.cnstock.com", "cnstock"),
    ("www.cs.com.cn", "cs_com_cn"),
    ("www.stcn.com", "stcn"),
    ("www.news.cn", "xinhua"),
)


def load(case: str) -> tuple[bytes, str, dict[str, Any]]:
    folder = CASES / case
    page = next(folder.glob("page.*")).read_bytes()
    url = (folder / "url.txt").read_text().strip()
    return page, url, json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def served(page: bytes) -> str:
    # the sample server and the real sites send text/html without a charset
    return decode_html(page, "text/html")


def test_every_site_ships() -> None:
    assert sorted(SITES) == ["cnstock", "cs_com_cn", "stcn", "xinhua"]
    assert SITES["cnstock"].media == "上海证券报"
    assert SITES["cs_com_cn"].media == "中国证券报"
    assert SITES["stcn"].media == "证券时报网"
    assert SITES["xinhua"].media == "新华社"  # 新华网 is an alias of the agency


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if "_list" in p.name))
def test_listing_pages(case: str) -> None:
    page, url, expected = load(case)
    site = SITES[expected["site"]]
    entries = parse_listing(site, expected["column"], served(page), url)
    assert [dataclasses.asdict(entry) for entry in entries] == expected["entries"]
    if expected["column"] not in dict(site.listing.columns):  # a list of the site before its rebuild
        assert site.listing_for(url) is not site.listing and expected["next_page"] is None
        return
    page_number = 2 if url.endswith("/") or url.endswith("index.html") else 3
    assert next_page_url(site, expected["column"], page_number) == expected["next_page"]


@pytest.mark.parametrize("case", ["cs_list", "cs_list_page2"])
def test_cs_links_are_relative_on_the_page(case: str) -> None:
    """The fixture keeps the real quirk: hrefs like ./202112/t….html, joined by the parser."""
    page, _, expected = load(case)
    hrefs = re.findall(r'href="(\./2021[^"]+)"', served(page))
    assert hrefs == expected["hrefs"]


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if "_article" in p.name))
def test_article_pages(case: str) -> None:
    page, url, expected = load(case)
    parsed = parse_article(SITES[expected["site"]], served(page), url)
    fields = {key: value for key, value in dataclasses.asdict(parsed).items() if key != "body_html"}
    assert fields == expected["fields"]
    for snippet in expected["body_contains"]:
        assert snippet in parsed.body_html
    for snippet in expected["body_not_contains"]:
        assert snippet not in parsed.body_html


@pytest.mark.parametrize("case", ["cs_list", "cs_article", "cnstock_article_gbk"])
def test_gbk_pages_need_decode_html(case: str) -> None:
    page, _, _ = load(case)
    with pytest.raises(UnicodeDecodeError):
        page.decode("utf-8")  # really GBK bytes, so a UTF-8-only caller would fail
    assert b"charset=gb" in page[:400]
    text = served(page)
    assert "\ufffd" not in text
    assert "中国证券" in text or "中证网" in text


def test_pagination() -> None:
    cs, cnstock = SITES["cs_com_cn"], SITES["cnstock"]
    assert next_page_url(cs, "xwzx_hg", 1) == "https://www.cs.com.cn/xwzx/hg/"
    assert next_page_url(cs, "xwzx_hg", 2) == "https://www.cs.com.cn/xwzx/hg/index_1.html"
    assert next_page_url(cs, "xwzx_hg", 5) == "https://www.cs.com.cn/xwzx/hg/index_4.html"
    assert next_page_url(cnstock, "channel_10006", 1) == "https://www.cnstock.com/channel/10006"
    assert next_page_url(cnstock, "channel_10006", 2) is None  # 加载更多 is JavaScript
    with pytest.raises(ValueError):
        next_page_url(cs, "xwzx_hg", 0)
    with pytest.raises(KeyError):
        next_page_url(cs, "nope", 1)


def test_next_link_selector(tmp_path: Path) -> None:
    text = (PACKAGE_SITES / "cs_com_cn.toml").read_text(encoding="utf-8")
    text = text.replace('page_pattern = "index_{n}.html"', "next_link = \"//a[@title='下一页']/@href\"")
    text = text.replace("first_page = 1\n", "")
    (tmp_path / "linked.toml").write_text(text, encoding="utf-8")
    site = load_site(tmp_path / "linked.toml")
    page = '<html><body><a title="下一页" href="index_p2.html">下一页</a></body></html>'
    assert linked_next_page(site, page, "https://www.cs.com.cn/xwzx/hg/index.html") == (
        "https://www.cs.com.cn/xwzx/hg/index_p2.html"
    )
    assert linked_next_page(site, "<html><body></body></html>", "https://www.cs.com.cn/") is None
    assert linked_next_page(SITES["cs_com_cn"], page, "https://www.cs.com.cn/") is None
    assert next_page_url(site, "xwzx_hg", 2) is None


def test_generic_extraction_without_body_selector(tmp_path: Path) -> None:
    """A site file without article.body: trafilatura finds the main text, offline."""
    source = (PACKAGE_SITES / "cs_com_cn.toml").read_text(encoding="utf-8")
    lines = [line for line in source.splitlines() if not line.startswith("body = ")]
    (tmp_path / "cs_generic.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    site = load_site(tmp_path / "cs_generic.toml")
    assert site.article.body == ()
    page, url, expected = load("cs_article")
    parsed = parse_article(site, served(page), url)
    assert parsed.extraction == "generic"
    fields = {k: v for k, v in dataclasses.asdict(parsed).items() if k not in ("body_html", "extraction")}
    assert fields == {k: v for k, v in expected["fields"].items() if k != "extraction"}
    for snippet in ("A股三大指数今日集体走强", "连续第34个交易日突破万亿", "北向资金今日净买入96.85亿元。"):
        assert snippet in parsed.body_html
    assert parsed.body_html.count("<p>") == 3  # the section's three paragraphs, kept apart
    for snippet in (
        "中证网声明",
        "分享到",
        "中证网首页",
        "版权所有",
        "来源：",
        "作者：",
        "<h1",
        expected["fields"]["title"],
    ):
        assert snippet not in parsed.body_html


def test_generic_extraction_applies_boilerplate_rules(tmp_path: Path) -> None:
    source = (PACKAGE_SITES / "cnstock.toml").read_text(encoding="utf-8")
    lines = [line for line in source.splitlines() if not line.startswith("body = ")]
    (tmp_path / "cnstock_generic.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    site = load_site(tmp_path / "cnstock_generic.toml")
    page, url, _ = load("cnstock_article")
    parsed = parse_article(site, served(page), url)
    assert parsed.extraction == "generic"
    assert "为推动上海保险业科技金融与普惠金融服务提质增效" in parsed.body_html
    for snippet in ("相关阅读", "附件", ".pdf", "分享到", "版权所有", "来源：", "上海证券报·中国证券网"):
        assert snippet not in parsed.body_html
    assert SITES["cnstock"].article.body  # the shipped file keeps its selector


def test_missing_title_and_body_are_reasons() -> None:
    site = SITES["cnstock"]
    with pytest.raises(DeclaredPageError) as raised:
        parse_article(site, "", "https://www.cnstock.com/news,yw-202112-1.htm")
    assert raised.value.reason == "empty_page"
    with pytest.raises(DeclaredPageError) as raised:
        parse_article(site, "<html><body><p>x</p></body></html>", "https://www.cnstock.com/")
    assert raised.value.reason == "no_title"
    page = '<html><body><div id="pager-content"><h1 class="title">T</h1></div></body></html>'
    with pytest.raises(DeclaredPageError) as raised:
        parse_article(site, page, "https://www.cnstock.com/news,yw-202112-12345.htm")  # old template
    assert raised.value.reason == "no_body"
    page = (
        '<html><body><script id="__NEXT_DATA__" type="application/json">'
        '{"props":{"pageProps":{"data":{"title":"T","textInfo":{"content":" "}}}}}</script></body></html>'
    )
    with pytest.raises(DeclaredPageError) as raised:
        parse_article(site, page, "https://www.cnstock.com/commonDetail/12345")
    assert raised.value.reason == "no_body"
    assert parse_listing(site, "sns_yw", "", "https://www.cnstock.com/") == []


@pytest.mark.parametrize(
    ("site", "url", "expected"),
    [
        ("cnstock", "http://news.cnstock.com/news,yw-201908-4413224.htm", "CNSTOCK-4413224"),
        (
            "cnstock",
            "http://ggjd.cnstock.com/company/scp_ggjd/tjd_ggjj/202002/4489878.htm",
            "CNSTOCK-4489878",
        ),
        ("cnstock", "https://www.cnstock.com/news/sns_yw/index.html", None),
        ("cnstock", "https://www.cnstock.com/../4489878.htm/x", None),
        ("cs_com_cn", "https://www.cs.com.cn/qc/202206/t20220602_6274329.html", "CSCOMCN-6274329"),
        ("cs_com_cn", "https://www.cs.com.cn/xwzx/hg/index_1.html", None),
        ("cs_com_cn", "https://www.cs.com.cn/xwzx/hg/202206/t20220602_.html", None),
        ("stcn", "https://www.stcn.com/article/detail/3962072.html", "STCN-3962072"),
        ("stcn", "http://kuaixun.stcn.com/2019/0926/15409036.shtml", "STCN-15409036"),  # old template
        ("stcn", "https://www.stcn.com/article/list/yw.html", None),
        ("stcn", "https://www.stcn.com/article/detail/.html", None),
        (
            "xinhua",
            "https://www.news.cn/politics/leaders/20251010/2822d6ac4c4e424abde9fdd8fb94e2d3/c.html",
            "XINHUA-2822d6ac4c4e424abde9fdd8fb94e2d3",
        ),
        ("xinhua", "http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm", "XINHUA-1125327450"),
        ("xinhua", "http://www.news.cn/politics/2022-04/12/c_1128554030.htm", "XINHUA-1128554030"),
        ("xinhua", "https://www.news.cn/fortune/", None),
        ("xinhua", "https://www.news.cn/fortune/20211208/nothex/c.html", None),
        ("xinhua", "https://www.news.cn/fortune/2019-12/10/c_1125327450.html", None),
    ],
)
def test_info_codes(site: str, url: str, expected: str | None) -> None:
    assert info_code(SITES[site], url) == expected


def test_every_id_in_fixtures_and_sample_is_safe() -> None:
    codes: list[str] = []
    for case in sorted(CASES.iterdir()):
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        codes += [entry["info_code"] for entry in expected.get("entries", [])]
        if "fields" in expected:
            codes.append(expected["fields"]["info_code"])
    for host, site_name in SAMPLE_HOSTS:
        for path in sorted((SAMPLE / host).rglob("*.htm*")):
            url = f"https://{host}/{path.relative_to(SAMPLE / host).as_posix()}"
            if (code := info_code(SITES[site_name], url)) is not None:
                codes.append(code)
    assert len(codes) >= 20
    for code in codes:
        assert INFO_CODE.fullmatch(code), code
        assert "/" not in code and "." not in code


def test_id_pattern_with_unsafe_group_gives_no_id(tmp_path: Path) -> None:
    source = (PACKAGE_SITES / "cs_com_cn.toml").read_text(encoding="utf-8")
    source = source.replace("id_pattern = '/t\\d{8}_(\\d+)\\.html$'", "id_pattern = '/xwzx/(.+)$'")
    (tmp_path / "greedy.toml").write_text(source, encoding="utf-8")
    site: SiteSpec = load_site(tmp_path / "greedy.toml")
    assert site.id_pattern.pattern == "/xwzx/(.+)$"
    assert info_code(site, "https://www.cs.com.cn/xwzx/hg/202112/t20211208_6225562.html") is None
    assert info_code(site, "https://www.cs.com.cn/xwzx/..") is None


@pytest.mark.parametrize(
    ("host", "site_name", "start"),
    [
        ("www.cnstock.com", "cnstock", "channel/10006"),
        ("www.cs.com.cn", "cs_com_cn", "xwzx/hg/index.html"),
        ("www.stcn.com", "stcn", "article/list/yw.html"),
        ("www.news.cn", "xinhua", "fortune/index.html"),
    ],
)
def test_sample_site_is_crawlable(host: str, site_name: str, start: str) -> None:
    """Every list page of the sample copy links only to article files that exist and parse."""
    site = SITES[site_name]
    column = site.listing.columns[0][0]
    seen: list[str] = []
    for number in range(1, 10):
        url = next_page_url(site, column, number)
        if url is None:
            break
        relative = url.removeprefix(f"https://{host}/")
        path = SAMPLE / host / relative
        path = path / "index.html" if path.is_dir() else path  # as the sample server serves folders
        if not path.exists():
            break
        for entry in parse_listing(site, column, served(path.read_bytes()), url):
            article_path = SAMPLE / host / entry.url.removeprefix(f"https://{host}/")
            article_path = article_path / "index.html" if article_path.is_dir() else article_path
            article = parse_article(site, served(article_path.read_bytes()), entry.url)
            assert (article.title, article.info_code, article.extraction) == (
                entry.title,
                entry.info_code,
                "selectors",
            )
            assert article.published_raw is not None and entry.date_raw is not None
            assert article.published_raw.startswith("2021-12-08 " + entry.date_raw[-5:])
            seen.append(entry.url)
    assert len(seen) == {"cnstock": 4, "cs_com_cn": 5, "stcn": 3, "xinhua": 3}[site_name]
    assert sorted(seen) == sorted({*seen})


def test_an_unreadable_next_link_ends_paging_without_an_error() -> None:
    listing = dataclasses.replace(SITES["cnstock"].listing, next_link="//a[@class='next']/@href")
    spec = dataclasses.replace(SITES["cnstock"], listing=listing)
    html = '<html><body><a class="next" href="http://[::1/page2.html">下一页</a></body></html>'
    assert linked_next_page(spec, html, "https://www.cnstock.com/news/sns_yw/index.html") is None


def test_old_stcn_body_is_a_bare_text_node_kept_whole() -> None:
    """The 2019 page's text sits outside any <p> (sites.md §3.2): the container is kept, and the
    cleaning every body goes through makes it one paragraph."""
    page, url, _ = load("stcn_article_old")
    parsed = parse_article(SITES["stcn"], served(page), url)
    cleaned = clean_body(parsed.body_html, url)
    assert cleaned.html.startswith("<p>证券时报e公司讯，当升科技：")
    assert cleaned.html.endswith("少数股权。</p>")
    assert cleaned.text.count("：") == 6  # the six notices, and nothing of the chrome
    assert cleaned.html.count("<p>") == 1 and "分享" not in cleaned.text


def test_stcn_old_time_is_the_scripts_seconds_not_the_printed_minutes() -> None:
    page, url, _ = load("stcn_article_old")
    text = served(page)
    assert '<div class="info">2019-09-26 12:11<span>' in text
    assert parse_article(SITES["stcn"], text, url).published_raw == "2019-09-26 12:11:01"
    without_script = re.sub(r"var publishdate = '[^']*';", "", text)
    assert parse_article(SITES["stcn"], without_script, url).published_raw == "2019-09-26 12:11"


def test_xinhua_time_falls_back_when_the_news_cn_spans_are_missing() -> None:
    """The joined year/day/time selector yields nothing (not "- ") without its spans, so the next
    selector is asked; on news.cn pages the spans win."""
    page, url, _ = load("xinhua_article")
    text = served(page)
    assert parse_article(SITES["xinhua"], text, url).published_raw == "2021-12-08 12:53:02"
    spans = re.compile(r'<div class="header-time left">.*?</div>', re.S)
    old = spans.sub('<span id="pubtime">2021年12月08日 12:53:02</span>', text)
    # read by the file's second date format (the old #pubtime one) into ISO text
    assert parse_article(SITES["xinhua"], old, url).published_raw == "2021-12-08 12:53:02"
    bare = spans.sub("", text)
    assert parse_article(SITES["xinhua"], bare, url).published_raw is None
