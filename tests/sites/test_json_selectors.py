"""Declared-site selectors over JSON embedded in a page (Next.js ``__NEXT_DATA__``), their
processors, date formats that are used, and legacy layouts chosen by URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsarchive.pages.declared import parse_article, parse_listing
from newsarchive.sites import SiteFileError, load_site
from newsarchive.sites.loader import JsonSelector

SITE = """\
name = "nextsite"
media = "上海证券报"
base_url = "https://www.example.cn/"
id_namespace = "NEXT"
id_pattern = '(?:/detail/|[-/](?=\\d+\\.htm$))(\\d+)(?:\\.htm)?$'

[listing]
columns = { c1 = "channel/1" }
json_script = "//script[@id='__NEXT_DATA__']"
entry = { json = "props.pageProps.data.list" }
link = { json = "contId", format = "/detail/{}" }
title = { json = "name" }
date = { json = "shareInfo.dateInfo" }
date_formats = ["%Y-%m-%d %H:%M"]

[article]
json_script = "//script[@id='__NEXT_DATA__']"
title = { json = "props.pageProps.data.title" }
time = { json = "props.pageProps.data.pubTime" }
author = { json = "props.pageProps.data.author", strip_prefix = "作者：" }
body = { json = "props.pageProps.data.textInfo.content" }
date_formats = ["%Y年%m月%d日 %H:%M"]

[boilerplate]
drop_paragraphs = ['^责任编辑']

[[legacy]]
url = '/old/[^/]+\\.htm$|/old/index\\.html$'

[legacy.listing]
entry = "//ul/li"
link = "./a/@href"
title = "./a"
date = "./span"

[legacy.article]
title = "//h1"
time = "//span[@class='timer']"
body = "//div[@id='content']"
date_formats = ["%Y-%m-%d %H:%M:%S"]
"""


def next_page(data: dict[str, Any]) -> str:
    payload = {"props": {"pageProps": {"data": data}}, "page": "/x", "query": {}, "buildId": "b1"}
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><div id="__next"></div>'
        '<script id="__NEXT_DATA__" type="application/json">'
        + json.dumps(payload, ensure_ascii=False).replace("</", "<\\/")
        + "</script></body></html>"
    )


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "nextsite.toml"
    path.write_text(SITE, encoding="utf-8")
    return path


def test_json_selectors_load(site_file: Path) -> None:
    site = load_site(site_file)
    assert site.article.title == (JsonSelector(("props", "pageProps", "data", "title")),)
    assert site.article.author == (
        JsonSelector(("props", "pageProps", "data", "author"), strip_prefix=("作者：",)),
    )
    assert site.listing.link == JsonSelector(("contId",), format="/detail/{}")
    assert site.article_for("https://www.example.cn/detail/1") is site.article
    assert site.article_for("https://www.example.cn/old/a-77.htm") is not site.article
    assert site.listing_for("https://www.example.cn/old/index.html") is not site.listing


def test_article_from_next_data(site_file: Path) -> None:
    site = load_site(site_file)
    html = next_page(
        {
            "contId": 77,
            "title": "标题 一",
            "pubTime": "2021年12月08日 13:04",
            "author": "作者：王明",
            "textInfo": {"content": "<p>第一段</p><p>第二段 </script></p><p>责任编辑：李</p>"},
        }
    )
    article = parse_article(site, html, "https://m.example.cn/detail/77")
    assert (article.info_code, article.title, article.author) == ("NEXT-77", "标题 一", "王明")
    assert article.published_raw == "2021-12-08 13:04"  # date_formats used: read, written as ISO
    assert article.body_html == "<p>第一段</p><p>第二段 </p>"


def test_date_formats_keep_what_they_cannot_read(site_file: Path) -> None:
    site = load_site(site_file)
    html = next_page({"title": "T", "pubTime": "昨天 13:04", "textInfo": {"content": "<p>x</p>"}})
    assert parse_article(site, html, "https://www.example.cn/detail/1").published_raw == "昨天 13:04"


def test_listing_rows_from_next_data(site_file: Path) -> None:
    site = load_site(site_file)
    rows = [
        {
            "contId": 12345,
            "name": "甲",
            "shareInfo": {"dateInfo": {"year": 2021, "month": 12, "day": 8, "hour": 9, "minute": 5}},
        },
        {
            "contId": "678",
            "name": "乙",
            "shareInfo": {"dateInfo": {"year": "2021", "month": "1", "day": "2"}},
        },
        {"name": "无链接"},
        "not a row",
    ]
    entries = parse_listing(site, "c1", next_page({"list": rows}), "https://www.example.cn/channel/1")
    assert [(e.url, e.info_code, e.title, e.date_raw) for e in entries] == [
        ("https://www.example.cn/detail/12345", "NEXT-12345", "甲", "2021-12-08 09:05"),
        ("https://www.example.cn/detail/678", "NEXT-678", "乙", "2021-01-02"),
    ]
    assert (
        parse_listing(site, "c1", "<html><body>no data</body></html>", "https://www.example.cn/channel/1")
        == []
    )
    broken = '<html><body><script id="__NEXT_DATA__">{not json</script></body></html>'
    assert parse_listing(site, "c1", broken, "https://www.example.cn/channel/1") == []


def test_legacy_layout_by_url(site_file: Path) -> None:
    site = load_site(site_file)
    old = (
        "<html><body><h1>旧标题</h1><span class='timer'>2019-08-08 07:37:32</span>"
        "<div id='content'><p>旧正文</p></div></body></html>"
    )
    article = parse_article(site, old, "https://www.example.cn/old/yw-201908-4413224.htm")
    assert (article.info_code, article.title, article.published_raw, article.body_html) == (
        "NEXT-4413224",
        "旧标题",
        "2019-08-08 07:37:32",
        "<p>旧正文</p>",
    )
    listing = "<html><body><ul><li><a href='x-5.htm'>甲</a><span>08-08 07:37</span></li></ul></body></html>"
    entries = parse_listing(site, "c1", listing, "https://www.example.cn/old/index.html")
    assert [(e.url, e.info_code, e.date_raw) for e in entries] == [
        ("https://www.example.cn/old/x-5.htm", "NEXT-5", "08-08 07:37")
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'title = { json = "props.pageProps.data.title" }',
            'title = { json = "" }',
            "article.title.json: must not be empty",
        ),
        (
            'title = { json = "props.pageProps.data.title" }',
            'title = { json = "props..title" }',
            "article.title.json: 'props..title' has an empty step",
        ),
        (
            'title = { json = "props.pageProps.data.title" }',
            'title = { jsn = "props" }',
            "article.title.jsn: unknown key (allowed: format, json, strip_prefix)",
        ),
        (
            'link = { json = "contId", format = "/detail/{}" }',
            'link = { json = "contId", format = "/detail/" }',
            "listing.link.format: must contain {} once",
        ),
        (
            "json_script = \"//script[@id='__NEXT_DATA__']\"\ntitle",
            "title",
            "article.title: a JSON selector needs article.json_script",
        ),
        (
            'entry = { json = "props.pageProps.data.list" }',
            'entry = "//li"',
            "listing.link: a JSON selector needs a JSON listing.entry",
        ),
        (
            'link = { json = "contId", format = "/detail/{}" }',
            'link = "./a/@href"',
            "listing.link: a JSON listing.entry needs JSON row selectors",
        ),
        ("url = '/old/", "url = '(/old/", "legacy[0].url: bad regular expression"),
        ("[legacy.article]\n", "[legacy.article]\nsource = 1\n", "legacy[0].article.source: must be"),
        (
            "[legacy.listing]\n",
            "[legacy.listing]\ncolumns = { a = 'b' }\n",
            "legacy[0].listing.columns: unknown key",
        ),
    ],
)
def test_bad_json_selectors(site_file: Path, old: str, new: str, expected: str) -> None:
    assert old in SITE
    site_file.write_text(SITE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SiteFileError) as raised:
        load_site(site_file)
    message = str(raised.value)
    assert "\n" not in message
    assert message.split(": ", 1)[1].startswith(expected), message


def test_a_listing_date_in_a_declared_format_is_read_into_iso_text(site_file: Path) -> None:
    """The listing's date_formats are used, as the article's are: a string date the format reads
    becomes ISO text; one it does not read is kept as printed."""
    site_file.write_text(
        SITE.replace('date = { json = "shareInfo.dateInfo" }', 'date = { json = "shown" }', 1).replace(
            'date_formats = ["%Y-%m-%d %H:%M"]', 'date_formats = ["%Y年%m月%d日 %H:%M"]', 1
        ),
        encoding="utf-8",
    )
    site = load_site(site_file)
    rows = [
        {"contId": "4801362", "name": "甲", "shown": "2021年12月08日 13:04"},
        {"contId": "4801375", "name": "乙", "shown": "昨天 13:04"},
    ]
    page = next_page({"list": rows})
    entries = parse_listing(site, "c1", page, "https://www.example.cn/channel/1")
    assert [entry.date_raw for entry in entries] == ["2021-12-08 13:04", "昨天 13:04"]
