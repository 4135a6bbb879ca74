"""One JSONP pattern (newsarchive.pages.jsonp) for the parsers and the block detector: what the
parser reads as a wrapped payload, the block detector reads too (issue 15)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.blocks import LISTING_CODE_0, PASSPORT_ONLY, block_kind
from newsarchive.pages.eastmoney import COLUMN_LIST_PATH, PageError, parse_column_list
from newsarchive.pages.jsonp import jsonp_payload

PASSPORT = json.dumps({"code": 1, "result": {"passportWeb": [{"uid": "1"}]}})
CODE_0 = json.dumps({"code": "0", "message": "参数错误", "data": None})
URL = "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?column=344&cb=x"


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("jQuery1234_5678({});", "{}"),
        ('  window.cb.done ({"a": 1})  ', '{"a": 1}'),
        ("$cb([1, 2]);\n", "[1, 2]"),
        ("回调({})", "{}"),  # a callback name is any word, also outside ASCII
        ('{"a": 1}', None),
        ("cb{}", None),
        ("<html>(x)</html>", None),
        ("", None),
    ],
)
def test_jsonp_payload(text: str, payload: str | None) -> None:
    assert jsonp_payload(text) == payload
    assert jsonp_payload(text.encode("utf-8")) == (None if payload is None else payload.encode("utf-8"))


@given(st.text(alphabet=st.sampled_from('ab_$.回 ({});\n"')))
def test_text_and_raw_body_are_read_alike(text: str) -> None:
    payload = jsonp_payload(text)
    assert jsonp_payload(text.encode("utf-8")) == (None if payload is None else payload.encode("utf-8"))


def test_bytes_that_are_not_utf8_are_not_jsonp() -> None:
    assert jsonp_payload(b"cb(\xff)") is None


@pytest.mark.parametrize("callback", ["jQuery1234_5678", "回调"])
def test_a_wrapped_block_shell_is_a_block_whatever_callback_the_parser_accepts(callback: str) -> None:
    """The parser unwraps the listing; the block detector must see the same payload in it."""
    for payload, kind in ((PASSPORT, PASSPORT_ONLY), (CODE_0, LISTING_CODE_0)):
        body = f"{callback}({payload});"
        with pytest.raises(PageError):  # the parser reads it as JSONP: no rows in it
            parse_column_list(body, URL)
        assert block_kind(200, body.encode("utf-8"), COLUMN_LIST_PATH) == kind
