"""Charset detection on the traps the sources set: no charset, GBK, lying headers, script decoys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.text.encoding import (
    CHARSET_MISDECLARED,
    CHARSET_UNDECLARED,
    declared_charsets,
    decode_html,
    decode_noting_charset,
)

TEXT = "证券日报网：沪指收涨0.5%，两市成交额超9000亿元"


def page(meta: str = "", body: str = TEXT, script: str = "") -> str:
    return f"<html><head>{script}{meta}<title>{body}</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        # 证券日报网: text/html with no charset anywhere, UTF-8 bytes
        (page().encode("utf-8"), "text/html"),
        (page('<meta charset="utf-8">').encode("utf-8"), "text/html"),
        # 中证网: GBK bytes declared by a gb2312 meta tag
        (
            page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk"),
            "text/html",
        ),
        # GBK bytes with no declaration at all
        (page().encode("gbk"), "text/html"),
        # header says UTF-8, bytes and meta are GBK: the header lies
        (page('<meta charset="gbk">').encode("gbk"), "text/html; charset=utf-8"),
        # header says GBK, meta says UTF-8, bytes are UTF-8: GBK decoding fails strictly, meta wins
        (page('<meta charset="utf-8">').encode("utf-8"), "text/html; charset=gbk"),
        # 证券时报网: a UTF-8 page carrying <script charset="gb2312"> decoys
        (
            page(
                '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
                script='<script src="/common/js/suggestfinance.js" charset="gb2312"></script>',
            ).encode("utf-8"),
            "text/html",
        ),
        # a GBK page whose meta charset sits after byte 4096
        (
            ("<html><head>" + "<!-- padding -->" * 400 + '<meta charset="gbk">').encode()
            + TEXT.encode("gbk"),
            None,
        ),
        # the malformed meta seen in the wild
        (page('<meta httpequiv="ContentType" content="text/html; charset=gbk" />').encode("gbk"), None),
        # GB18030-only characters
        (page('<meta charset="gb18030">', body=TEXT + "𠀀").encode("gb18030"), None),
        # a single-byte header charset accepts any bytes, so it must not win over UTF-8 and the meta
        (page('<meta charset="utf-8">').encode("utf-8"), "text/html; charset=ISO-8859-1"),
        (page().encode("gbk"), "text/html; charset=windows-1252"),
        # UTF-8 with BOM
        (b"\xef\xbb\xbf" + page().encode("utf-8"), "text/html"),
        # JSON list API without charset
        (f'{{"title": "{TEXT}"}}'.encode(), "application/json"),
    ],
)
def test_decodes_correctly(raw: bytes, content_type: str | None) -> None:
    assert TEXT in decode_html(raw, content_type)


def test_script_charset_is_never_taken_for_the_page_charset() -> None:
    raw = page(script='<script charset="gb2312" src="x.js"></script>').encode("utf-8")
    assert declared_charsets(raw, "text/html") == []


def test_declared_charsets_order_and_aliases() -> None:
    raw = page('<meta charset="GB2312">').encode("gbk")
    assert declared_charsets(raw, "text/html; charset=UTF-8") == ["utf-8", "gb18030"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.binary(max_size=2048), st.one_of(st.none(), st.text(max_size=80)))
def test_never_raises(raw: bytes, content_type: str | None) -> None:
    assert isinstance(decode_html(raw, content_type), str)


@pytest.mark.parametrize(
    ("raw", "content_type", "quirk"),
    [
        (page('<meta charset="utf-8">').encode("utf-8"), "text/html", None),
        (page().encode("utf-8"), "application/json;charset=UTF-8", None),
        (page('<meta charset="gb2312">').encode("gbk"), "text/html", None),
        (page().encode("utf-8"), "text/html", CHARSET_UNDECLARED),  # 证券日报网
        (page().encode("gbk"), None, CHARSET_UNDECLARED),
        (page('<meta charset="gbk">').encode("gbk"), "text/html; charset=utf-8", CHARSET_MISDECLARED),
        (
            page('<meta charset="utf-8">').encode("utf-8"),
            "text/html; charset=ISO-8859-1",
            CHARSET_MISDECLARED,
        ),
        (b"<html><p>plain ascii</p></html>", "text/html; charset=ISO-8859-1", None),  # agrees
        (b"", "text/html", None),  # nothing to decode (an empty body is a block, counted there)
    ],
)
def test_charset_trouble_is_reported_with_the_text(
    raw: bytes, content_type: str | None, quirk: str | None
) -> None:
    text, found = decode_noting_charset(raw, content_type)
    assert found == quirk
    assert text == decode_html(raw, content_type)
    if raw:
        assert TEXT in text or "plain ascii" in text
