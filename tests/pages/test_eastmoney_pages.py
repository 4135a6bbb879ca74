"""East Money parsers on saved pages: one folder per case (page, url.txt, expected.json)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from newsarchive.pages.eastmoney import (
    MAX_ARTICLE_PAGES,
    PageError,
    classify_url,
    page_number,
    page_url,
    parse_article,
    parse_column_list,
    parse_fast_list,
)
from newsarchive.text.clean import clean_body
from newsarchive.text.media import canonical_media, category_slug

CASES = Path(__file__).with_name("cases")


def load(case: str) -> tuple[str, str, dict]:
    folder = CASES / case
    page = next(folder.glob("page.*")).read_text(encoding="utf-8")
    return page, (folder / "url.txt").read_text().strip(), json.loads((folder / "expected.json").read_text())


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.name.startswith("article_")))
def test_article_pages(case: str) -> None:
    page, url, expected = load(case)
    parsed = parse_article(page, url)
    fields = {k: v for k, v in dataclasses.asdict(parsed).items() if k != "body_html"}
    assert fields == expected["fields"]
    assert parsed.body_html is not None
    for snippet in expected["body_contains"]:
        assert snippet in parsed.body_html
    for snippet in expected["body_not_contains"]:
        assert snippet not in parsed.body_html
    if "category" in expected:  # what the taxonomy pipeline (pipelines/taxonomy.py) files it under
        assert parsed.media is not None
        assert category_slug(canonical_media(parsed.media)) == expected["category"]
    if "text" in expected:  # the body as CleanBodyPipeline stores it: one paragraph a line
        lines = clean_body(parsed.body_html, url).text.splitlines()
        assert len(lines) == expected["text"]["lines"]
        assert (lines[0], lines[-1]) == (expected["text"]["first"], expected["text"]["last"])


@pytest.mark.parametrize(
    ("case", "parser"),
    [
        ("columns_344", parse_column_list),
        ("fast_102", parse_fast_list),
        ("fast_real_2026_09", parse_fast_list),
        ("columns_error", parse_column_list),
    ],
)
def test_listing_pages(case: str, parser) -> None:  # type: ignore[no-untyped-def]
    page, url, expected = load(case)
    if "error" in expected:
        with pytest.raises(PageError) as raised:
            parser(page, url)
        assert raised.value.reason == expected["error"]
        return
    listing = parser(page, url)
    assert [dataclasses.asdict(entry) for entry in listing.entries] == expected["entries"]
    assert (listing.total, listing.page_index, listing.next_cursor) == (
        expected["total"],
        expected["page_index"],
        expected["next_cursor"],
    )


def test_jsonp_wrapper_is_accepted() -> None:
    page, url, _ = load("columns_344")
    assert parse_column_list(f"jQuery1234_5678({page});", url).total == 2440


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "bad_json"),
        ("<html>blocked</html>", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"code": 1, "data": null}', "no_data"),
        ('{"code": 1, "data": {"list": "x"}}', "no_list"),
        ('{"code": 0, "message": "Required String parameter \'req_trace\' is not present"}', "api_error"),
        ('{"code": 1, "data": {"list": [', "bad_json"),
    ],
)
def test_bad_listing_responses_give_a_reason(text: str, reason: str) -> None:
    with pytest.raises(PageError) as raised:
        parse_column_list(text, "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns")
    assert raised.value.reason == reason


def test_fast_list_data_null_quirk() -> None:
    with pytest.raises(PageError) as raised:
        parse_fast_list('{"code":"1","message":"success","data":null}', "x")
    assert raised.value.reason == "no_data"


def test_listing_rows_without_valid_code_are_skipped() -> None:
    text = json.dumps(
        {"code": 1, "data": {"list": [{"code": "abc"}, "junk", {"code": "202204292366280343"}]}}
    )
    assert [e.code for e in parse_column_list(text, "x").entries] == ["202204292366280343"]


@pytest.mark.parametrize("junk", ["", "   ", "\x00\x01binary", "<html><body>", "<p>no article here</p>"])
def test_article_parser_never_raises(junk: str) -> None:
    parsed = parse_article(junk, "https://finance.eastmoney.com/a/202204292366280343.html")
    assert parsed.body_html is None
    assert parsed.code == "202204292366280343"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?column=344", "columns"),
        ("https://np-weblist.eastmoney.com/comm/web/getFastNewsList?sortEnd=", "fast"),
        ("https://finance.eastmoney.com/a/202204292366280343.html", "article"),
        ("http://finance.eastmoney.com/news/1344,202204292366280343.html", "article"),
        ("https://caifuhao.eastmoney.com/news/20260702101113747001360", None),
        ("https://example.com/a/202204292366280343.html", None),
    ],
)
def test_classify_url(url: str, kind: str | None) -> None:
    assert classify_url(url) == kind


def test_listing_text_is_plain_single_line_text() -> None:
    row = {
        "code": "202204292366280343",
        "title": "<em>证监会</em>：<script>alert(1)</script>回购\ud800\x00\n股份",
        "summary": "\u3000\u3000第一行\r\n第二行",
        "mediaName": " 证券日报网 ",
    }
    entry = parse_column_list(json.dumps({"code": 1, "data": {"list": [row]}}), "x").entries[0]
    assert (entry.title, entry.summary, entry.media) == (
        "证监会：alert(1)回购 股份",
        "第一行 第二行",
        "证券日报网",
    )


GOOD_ROW = {"code": "202204292366280343", "showTime": "2022-04-29 15:03:20", "title": "标题"}
# issue 13 point 6: rows a hostile or broken list API can send; each must cost only itself.
BAD_ROWS = [
    pytest.param({"code": "2" * 19, "title": "19 digits"}, id="19-digit-code"),
    pytest.param({"code": 2 * 10**18 + 5}, id="19-digit-number"),
    pytest.param({"code": 2.022042923662803e17}, id="float-code"),
    pytest.param({"code": True}, id="bool-code"),
    pytest.param({"code": None}, id="null-code"),
    pytest.param({"code": {"nested": "202204292366280344"}}, id="object-code"),
    pytest.param({"code": ["202204292366280344"]}, id="list-code"),
    pytest.param({}, id="empty-row"),
    pytest.param(None, id="null-row"),
    pytest.param("202204292366280344", id="string-row"),
    pytest.param(202204292366280344, id="number-row"),
    pytest.param([{"code": "202204292366280344"}], id="list-row"),
]


def listing_json(rows: list[object], **data: object) -> str:
    return json.dumps({"code": 1, "data": {"list": rows, "fastNewsList": rows, **data}})


@pytest.mark.parametrize("parser", [parse_column_list, parse_fast_list])
@pytest.mark.parametrize("bad", BAD_ROWS)
def test_one_bad_row_costs_only_itself(parser, bad: object) -> None:  # type: ignore[no-untyped-def]
    listing = parser(listing_json([GOOD_ROW, bad, {**GOOD_ROW, "code": "202204292366280344"}]), "x")
    assert [entry.code for entry in listing.entries] == ["202204292366280343", "202204292366280344"]
    assert listing.rejected == 1


@pytest.mark.parametrize("parser", [parse_column_list, parse_fast_list])
def test_fields_of_the_wrong_type_are_missing_not_stringified(parser) -> None:  # type: ignore[no-untyped-def]
    row = {
        **GOOD_ROW,
        "title": {"text": "x"},
        "showTime": ["2022-04-29"],
        "summary": None,
        "mediaName": 12,
        "np_dst": {"kind": "CFH"},
    }
    (entry,) = parser(listing_json([row]), "x").entries
    assert (entry.title, entry.show_time, entry.summary) == (None, None, None)
    assert entry.kind == "CMS"
    assert entry.url == "https://finance.eastmoney.com/a/202204292366280343.html"


@pytest.mark.parametrize("parser", [parse_column_list, parse_fast_list])
@pytest.mark.parametrize(
    "odd",
    [
        {"totle_hits": 1e999, "total": 1e999, "page_index": -1e999},
        {"totle_hits": {"n": 1}, "total": [1], "page_index": "x", "sortEnd": {"n": 1}},
        {"totle_hits": True, "total": None, "sortEnd": ["1638949458066919"]},
    ],
)
def test_odd_page_fields_are_missing_not_fatal(parser, odd: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    listing = parser(listing_json([GOOD_ROW], **odd), "x")
    assert [entry.code for entry in listing.entries] == ["202204292366280343"]
    assert (listing.total, listing.next_cursor) == (None, None)


@pytest.mark.parametrize("parser", [parse_column_list, parse_fast_list])
def test_a_huge_number_in_one_row_costs_only_that_row(parser) -> None:  # type: ignore[no-untyped-def]
    # json.loads refuses integers over 4,300 digits (ValueError): it must not lose the whole page
    huge = "9" * 5000
    text = listing_json([GOOD_ROW, {"code": 0, "title": "x"}]).replace('"code": 0', f'"code": {huge}')
    listing = parser(text, "x")
    assert [entry.code for entry in listing.entries] == ["202204292366280343"]
    assert listing.rejected == 1


@pytest.mark.parametrize("parser", [parse_column_list, parse_fast_list])
def test_duplicate_keys_take_the_last_value(parser) -> None:  # type: ignore[no-untyped-def]
    text = listing_json([GOOD_ROW]).replace('"code": "2022', '"code": "junk", "code": "2022')
    assert [entry.code for entry in parser(text, "x").entries] == ["202204292366280343"]


@pytest.mark.parametrize("depth", [300, 1990])
@pytest.mark.parametrize("where", ["around_the_page", "inside_the_body"])
def test_a_deeply_nested_page_reads_as_it_would_flat(depth: int, where: str) -> None:
    """issue 13: libxml2 stopped at 256 levels and dropped the rest of the page with the body."""
    page, url, _ = load("article_seed")
    if where == "around_the_page":
        deep = page.replace("<body>", "<body>" + "<div>" * depth, 1)
    else:  # wrappers opened at the top of the body and closed at its end
        deep = page.replace("<!--文章主体-->", "<!--文章主体-->" + "<div>" * depth, 1)
        deep = deep.replace(
            '  </div>\n  <div class="zwothers">', "</div>" * depth + '  </div>\n  <div class="zwothers">', 1
        )
    flat, nested = parse_article(page, url), parse_article(deep, url)
    assert dataclasses.replace(nested, body_html=None) == dataclasses.replace(flat, body_html=None)
    assert clean_body(nested.body_html or "", url) == clean_body(flat.body_html or "", url)


def test_a_page_nested_past_the_parsers_limit_never_raises() -> None:
    page, url, _ = load("article_seed")
    parsed = parse_article(page.replace("<body>", "<body>" + "<div>" * 5000, 1), url)
    assert parsed.title == "宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺"  # the head is above the nesting


CODE = "202201072239307540"


@pytest.mark.parametrize(
    ("url", "number", "first", "third"),
    [
        (
            f"https://finance.eastmoney.com/a/{CODE}.html",
            1,
            f"https://finance.eastmoney.com/a/{CODE}.html",
            None,
        ),
        (
            f"http://stock.eastmoney.com/a/{CODE}_2.html?x=1",
            2,
            f"http://stock.eastmoney.com/a/{CODE}.html",
            None,
        ),
        (
            f"https://finance.eastmoney.com/a/{CODE}_12.html",
            12,
            None,
            f"https://finance.eastmoney.com/a/{CODE}_3.html",
        ),
    ],
)
def test_page_number_and_page_url(url: str, number: int, first: str | None, third: str | None) -> None:
    assert page_number(url) == number
    if first is not None:
        assert page_url(url, 1) == first
    if third is not None:
        assert page_url(url, 3) == third


@pytest.mark.parametrize(
    ("links", "pages"),
    [
        ([], 1),
        ([f"/a/{CODE}_2.html"], 2),
        ([f"https://finance.eastmoney.com/a/{CODE}_2.html", f"{CODE}_3.html", f"/a/{CODE}_5.html#top"], 5),
        ([f"/a/{CODE}.html", "/a/202112082206672930_9.html"], 1),  # page 1 itself; another article's pager
        ([f"/a/{CODE}_2.html", f"/a/{CODE}_{MAX_ARTICLE_PAGES + 1}.html"], 2),  # junk past the limit
        ([f"/a/{CODE}_2.htmlx", f"/a/{CODE}_two.html", f"/a/x{CODE}_4.html"], 1),
    ],
)
def test_the_pager_links_say_how_many_pages(links: list[str], pages: int) -> None:
    anchors = "".join(f'<a href="{link}">{n}</a>' for n, link in enumerate(links, start=2))
    pager = f'<div class="pagerbox">{anchors}</div>'
    html = f'<html><body><div id="ContentBody"><p>正文</p></div>{pager}</body></html>'
    parsed = parse_article(html, f"https://finance.eastmoney.com/a/{CODE}.html")
    assert (parsed.page, parsed.pages) == (1, pages)
    later = parse_article(html, f"https://finance.eastmoney.com/a/{CODE}_3.html")
    assert (later.page, later.pages) == (3, max(pages, 3))
