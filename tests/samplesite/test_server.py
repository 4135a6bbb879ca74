"""The sample East Money server over loopback HTTP: list envelopes, paging, quirks, pages, request log."""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import DEFAULT_ROOT

SITE = DEFAULT_ROOT / "eastmoney"
SEED_CODE = "202204292366280343"
COLUMN_PATH = "/comm/web/getNewsByColumns"
FAST_PATH = "/comm/web/getFastNewsList"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def fetch(site: SampleSite, path: str, *, host: str | None = None, method: str = "GET") -> Reply:
    request = urllib.request.Request(site.origin + path, method=method)
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def columns(site: SampleSite, **params: Any) -> Reply:
    query = {"client": "web", "biz": "web_news_col", "column": "344", "order": "1", "needInteractData": "0"}
    query.update({"page_index": "1", "page_size": "10", "req_trace": "1710314682980"})
    query.update({"fields": "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"})
    query.update({key: str(value) for key, value in params.items()})
    query = {key: value for key, value in query.items() if value != "<absent>"}
    return fetch(site, f"{COLUMN_PATH}?{urlencode(query)}", host="np-listapi.eastmoney.com")


def fast(site: SampleSite, **params: Any) -> Reply:
    query = {"client": "web", "biz": "web_724", "fastColumn": "102", "sortEnd": "", "pageSize": "10"}
    query.update({"req_trace": "1710315450384"})
    query.update({key: str(value) for key, value in params.items()})
    query = {key: value for key, value in query.items() if value != "<absent>"}
    return fetch(site, f"{FAST_PATH}?{urlencode(query)}", host="np-weblist.eastmoney.com")


def committed_rows(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((SITE / name).read_text(encoding="utf-8"))
    return rows


def test_column_pages_cover_every_row_once_newest_first(site: SampleSite) -> None:
    expected = committed_rows("columns/344.json")
    seen: list[dict[str, Any]] = []
    for page_index in range(1, math.ceil(len(expected) / 10) + 1):
        reply = columns(site, page_index=page_index, req_trace="trace-42")
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "application/json;charset=UTF-8"
        payload = reply.json()
        assert list(payload) == ["req_trace", "code", "message", "data"]
        assert (payload["req_trace"], payload["code"], payload["message"]) == ("trace-42", 1, "success")
        data = payload["data"]
        assert (data["page_index"], data["page_size"], data["totle_hits"]) == (page_index, 10, len(expected))
        assert 0 < len(data["list"]) <= 10
        seen.extend(data["list"])
    assert seen == expected
    assert len({row["code"] for row in seen}) == len(seen) >= 25
    assert [row["showTime"] for row in seen] == sorted((row["showTime"] for row in seen), reverse=True)


def test_column_page_past_the_end_is_an_empty_list(site: SampleSite) -> None:
    data = columns(site, page_index=99).json()["data"]
    assert data["list"] == []
    assert data["totle_hits"] == len(committed_rows("columns/344.json"))


def test_column_page_size_is_clamped_to_200(site: SampleSite) -> None:
    data = columns(site, page_size=5000).json()["data"]
    assert data["page_size"] == 200
    assert data["list"] == committed_rows("columns/344.json")


def test_unknown_column_is_empty(site: SampleSite) -> None:
    data = columns(site, column="999999").json()["data"]
    assert (data["list"], data["totle_hits"]) == ([], 0)


def test_missing_req_trace_gives_the_business_error_shell(site: SampleSite) -> None:
    reply = columns(site, req_trace="<absent>")
    assert reply.status == 200
    assert reply.json() == {"code": 0, "message": "Required String parameter 'req_trace' is not present"}


def test_callback_wraps_the_same_payload_as_jsonp(site: SampleSite) -> None:
    plain = columns(site, page_index=2).json()
    text = columns(site, page_index=2, callback="jQuery351017_1710314682980", _="1710314682981").body.decode()
    match = re.fullmatch(r"jQuery351017_1710314682980\((.*)\)", text, re.S)
    assert match is not None
    assert json.loads(match.group(1)) == plain


def test_fast_cursor_paging_covers_all_rows_exactly_once(site: SampleSite) -> None:
    expected = committed_rows("fastnews/102.json")
    seen: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(len(expected)):
        payload = fast(site, sortEnd=cursor, pageSize=7).json()
        assert (payload["code"], payload["message"]) == ("1", "success")
        data = payload["data"]
        assert data["total"] == len(expected)
        if not data["fastNewsList"]:
            assert data["sortEnd"] == ""
            break
        assert data["sortEnd"] == data["fastNewsList"][-1]["realSort"]
        seen.extend(data["fastNewsList"])
        cursor = data["sortEnd"]
    assert seen == expected
    assert len({row["code"] for row in seen}) == len(seen) >= 20


def test_fast_list_without_sort_end_or_req_trace_has_null_data(site: SampleSite) -> None:
    null_data = {"code": "1", "message": "success", "data": None}
    assert fast(site, sortEnd="<absent>").json() == null_data
    assert fast(site, req_trace="<absent>").json() == null_data
    assert fast(site).json()["data"] is not None


def test_article_page_has_no_charset_header_and_declares_utf8_in_meta(site: SampleSite) -> None:
    for code in (SEED_CODE, "202112082206749391", "202201072239307540"):  # seed, older and current layout
        reply = fetch(site, f"/a/{code}.html", host="finance.eastmoney.com")
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "text/html"
        declared = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", reply.body[:1024])
        assert declared is not None and declared.group(1).lower() == b"utf-8"
        html = reply.body.decode(declared.group(1).decode())
        assert "_东方财富网</title>" in html and 'id="ContentBody"' in html
        assert reply.body == (SITE / "articles" / f"{code}.html").read_bytes()


def test_a_long_article_s_second_page_is_served_and_logged_apart(site: SampleSite) -> None:
    code = "202201072239307540"
    first = fetch(site, f"/a/{code}.html", host="finance.eastmoney.com")
    second = fetch(site, f"/a/{code}_2.html", host="finance.eastmoney.com")
    assert (first.status, second.status) == (200, 200)
    assert second.body == (SITE / "articles" / f"{code}_2.html").read_bytes()
    assert fetch(site, f"/a/{code}_3.html").status == 404  # the pager links page 2 only
    assert site.article_requests() == [f"/a/{code}.html"]  # one per article: its first page
    assert site.continuation_requests() == [f"/a/{code}_2.html", f"/a/{code}_3.html"]


def test_head_sends_headers_without_body(site: SampleSite) -> None:
    reply = fetch(site, f"/a/{SEED_CODE}.html", method="HEAD")
    assert (reply.status, reply.body) == (200, b"")
    assert int(reply.headers["Content-Length"]) == (SITE / "articles" / f"{SEED_CODE}.html").stat().st_size


@pytest.mark.parametrize(
    "path",
    [
        "/a/202204292366280000.html",  # the seed page's click-rank link: no such article
        "/a/202112082206598214.html",  # a 财富号 row of column 344
        "/a/../columns/344.json",
        "/news/1344,202204292366280343.html",
        "/comm/web/getListInfo?mTypeAndCode=1.600519",
        "/",
    ],
)
def test_unknown_paths_are_404_pages(site: SampleSite, path: str) -> None:
    reply = fetch(site, path)
    assert reply.status == 404
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b"404" in reply.body


def test_request_log_records_host_path_and_query(site: SampleSite) -> None:
    columns(site, page_index=1)
    fast(site)
    assert site.article_requests() == []  # listing calls never touch article pages
    fetch(site, f"/a/{SEED_CODE}.html", host="finance.eastmoney.com")
    fetch(site, "/a/202204292366280000.html", host="finance.eastmoney.com")
    hosts = [(r.method, r.host, r.path) for r in site.requests]
    assert hosts == [
        ("GET", "np-listapi.eastmoney.com", COLUMN_PATH),
        ("GET", "np-weblist.eastmoney.com", FAST_PATH),
        ("GET", "finance.eastmoney.com", f"/a/{SEED_CODE}.html"),
        ("GET", "finance.eastmoney.com", "/a/202204292366280000.html"),
    ]
    assert "column=344" in site.requests[0].query and "req_trace=" in site.requests[0].query
    assert site.article_requests() == [f"/a/{SEED_CODE}.html", "/a/202204292366280000.html"]
    site.clear_requests()
    assert site.requests == []


def test_start_binds_an_ephemeral_loopback_port_and_stop_releases_it() -> None:
    first, second = SampleSite(), SampleSite()
    try:
        origins = first.start(), second.start()
        assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+", origin) for origin in origins)
        assert origins[0] != origins[1]
    finally:
        first.stop()
        second.stop()
    with pytest.raises(RuntimeError):
        _ = first.origin


def test_static_sites_are_served_by_host_from_their_folder(tmp_path: Path) -> None:
    column = tmp_path / "sites" / "www.zqrb.cn" / "finance" / "hongguanjingji"
    column.mkdir(parents=True)
    (column / "index.html").write_bytes("<html>宏观经济</html>".encode())
    (tmp_path / "eastmoney").mkdir()
    site = SampleSite(tmp_path)
    site._load()
    listing = site.respond("/finance/hongguanjingji/", "", "www.zqrb.cn:8080")
    assert (listing.status, listing.content_type) == (200, "text/html")  # no charset, as zqrb sends it
    assert listing.body.decode() == "<html>宏观经济</html>"
    assert site.respond("/finance/hongguanjingji/index.html", "", "www.zqrb.cn").status == 200
    assert site.respond("/../../../etc/passwd", "", "www.zqrb.cn").status == 404
    assert site.respond("/finance/hongguanjingji/", "", "finance.eastmoney.com").status == 404
