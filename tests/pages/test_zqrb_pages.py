"""证券日报网 parsers on saved pages (both list templates, both body containers) and on junk."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from newsarchive.pages import zqrb
from newsarchive.pages.routes import ARTICLE, LISTING, route

CASES = Path(__file__).with_name("cases")
SEED_URL = "http://www.zqrb.cn/finance/hangyedongtai/2022-04-29/A1651215300343.html"


def load(case: str) -> tuple[str, str, dict]:  # type: ignore[type-arg]
    folder = CASES / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return (
        (folder / "page.html").read_text(encoding="utf-8"),
        (folder / "url.txt").read_text().strip(),
        expected,
    )


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.name.startswith("zqrb_article")))
def test_article_pages(case: str) -> None:
    page, url, expected = load(case)
    parsed = zqrb.parse_article(page, url)
    fields = {k: v for k, v in dataclasses.asdict(parsed).items() if k != "body_html"}
    assert fields == expected["fields"]
    assert parsed.body_html is not None
    for snippet in expected["body_contains"]:
        assert snippet in parsed.body_html
    for snippet in expected["body_not_contains"]:
        assert snippet not in parsed.body_html


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.name.startswith("zqrb_listing")))
def test_listing_pages(case: str) -> None:
    page, url, expected = load(case)
    listing = zqrb.parse_listing(page, url)
    assert [dataclasses.asdict(entry) for entry in listing.entries] == expected["entries"]
    assert (listing.next_cursor, listing.rejected) == (expected["next_cursor"], expected["rejected"])


def test_both_list_templates_are_covered() -> None:
    assert 'class="news_content"' in load("zqrb_listing_b")[0]
    assert 'class="listMain"' in load("zqrb_listing_a")[0]


def test_author_line_and_title_fallback() -> None:
    page, _, _ = load("zqrb_article_synthetic")
    page = page.replace("来源：经济观察网&ensp;&ensp;", "来源：经济观察网&ensp;&ensp;作者：周菊&ensp;")
    page = page.replace("<p>　　本报记者 周菊</p>", "").replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    parsed = zqrb.parse_article(page, SEED_URL)
    assert (parsed.author, parsed.media) == ("周菊", "经济观察网")
    assert (
        parsed.title == "国常会促进汽车消费举措提振市场 数十家汽车企业股价触及涨停"
    )  # from <title>, suffix cut


@pytest.mark.parametrize("junk", ["", "   ", "\x00\x01binary", "<html><body>", "<p>no article here</p>"])
def test_parsers_never_raise(junk: str) -> None:
    parsed = zqrb.parse_article(junk, SEED_URL)
    assert parsed.body_html is None and parsed.code == "ZQRB-A1651215300343"
    assert zqrb.parse_listing(junk, "http://www.zqrb.cn/finance/hongguanjingji/index.html").entries == []


@pytest.mark.parametrize(
    ("url", "site", "kind", "info_code"),
    [
        ("http://www.zqrb.cn/finance/hongguanjingji/index.html", "zqrb", LISTING, None),
        ("http://www.zqrb.cn/finance/hongguanjingji/index_p2.html", "zqrb", LISTING, None),
        ("https://m.zqrb.cn/stock/redian/", "zqrb", LISTING, None),
        (SEED_URL, "zqrb", ARTICLE, "ZQRB-A1651215300343"),
        ("https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?x=1", "eastmoney", LISTING, None),
        (
            "https://finance.eastmoney.com/a/202204292366280343.html",
            "eastmoney",
            ARTICLE,
            "NW202204292366280343",
        ),
    ],
)
def test_router(url: str, site: str, kind: str, info_code: str | None) -> None:
    found = route(url)
    assert found is not None
    assert (found.site, found.kind, found.info_code) == (site, kind, info_code)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.zqrb.cn/",
        "http://epaper.zqrb.cn/html/2025-10/18/node_2.htm",
        "https://example.com/a/1.html",
        "http://[::1/finance/hangyedongtai/index.html",  # urlsplit refuses it: no site's (issue 13)
        "https://[www.cnstock.com/news,yw-202112-4801468.htm",
    ],
)
def test_router_ignores_other_urls(url: str) -> None:
    assert route(url) is None


@pytest.mark.parametrize(
    "bad_href",
    ["http://[::1/finance/x/2022-04-29/A1651215300999.html", "http://[bad]x/", "//[/A1651215300999.html"],
)
def test_one_bad_row_link_costs_only_its_row(bad_href: str) -> None:
    """issue 13 point 6: urljoin raises on an unbalanced IPv6 bracket; the page's other rows stay."""
    page, url, expected = load("zqrb_listing_b")
    bad_row = f'<li><span class="date">2022-04-29 15:00</span>·<a class="lista" href="{bad_href}">坏</a></li>'
    page = page.replace("<li>", bad_row + "<li>", 1)
    page = page.replace('<a href="index_p2.html" title="下一页">', f'<a href="{bad_href}" title="下一页">')
    listing = zqrb.parse_listing(page, url)
    assert [dataclasses.asdict(entry) for entry in listing.entries] == expected["entries"]
    assert listing.rejected == expected["rejected"] + 1
    assert listing.next_cursor is None  # the pager link was damaged too: paging stops, no exception
