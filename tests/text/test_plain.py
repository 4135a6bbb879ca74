"""Tests for newsarchive.text.plain: short fields hold plain text, never a markup fragment or an
invisible format control, and ordinary comparisons such as ``PMI<50`` survive."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsarchive.pages import eastmoney
from newsarchive.text.plain import plain_text

# What starts a tag, an end tag, a comment or a declaration in the HTML tokenizer (HTML 13.2.5.6).
TAG_OPENER = re.compile(r"<[A-Za-z/!?]")
FIXED_BUDGET = settings(
    max_examples=500,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # issue 13, point 3: what the old tag regex left behind
        ("标题<img src=x onerror=alert(1)//", "标题"),
        ("<scr<script>ipt>alert(1)</scr</script>ipt>", "alert(1)"),
        ("<<script>script>alert(1)<</script>/script>", "alert(1)"),
        ("\u202egnp.exe 看涨", "gnp.exe 看涨"),
        ("a\u2066b\u2069c\u200fd\u200be\ufeff", "abcde"),
        ("<svg/onload=alert(1)>行情", "行情"),
        ("<!-- 注释 -->正文", "正文"),
        ("<a\nhref=x>链接</a>", "链接"),
        ("x<\u202escript>alert(1)", "xalert(1)"),  # the control goes first: no "<script" is left
        # list APIs wrap search hits in <em>
        ("<em>证券</em>日报网", "证券日报网"),
        ("  多个   空格\u3000和\n换行 ", "多个 空格 和 换行"),
        ("\x00控制\x07字符\x85\x9f", "控制字符"),
        # legit text: a "<" HTML itself reads as text is kept
        ("PMI<50", "PMI<50"),
        ("A股>B股", "A股>B股"),
        ("5<6 且 7>3", "5<6 且 7>3"),
        ("涨幅<=5%", "涨幅<=5%"),
        ("<<发展>>", "<<发展>>"),
        ("<未完", "<未完"),
        ("a < b", "a < b"),
        ("&lt;script&gt; 是文字", "&lt;script&gt; 是文字"),
        ("{{ site.title }} [x](javascript:1)", "{{ site.title }} [x](javascript:1)"),
        # a "<" before an ASCII letter opens a tag in HTML: unclosed, it takes the rest of the text
        ("A<B 股", "A"),
        ("", None),
        ("<b></b>", None),
        (None, None),
        (18, "18"),
    ],
)
def test_plain_text(raw: object, expected: str | None) -> None:
    assert plain_text(raw) == expected


def test_every_control_and_format_character_is_removed() -> None:
    """Checked against this Python's Unicode database, so a new format character is noticed."""
    invisible = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in {"Cc", "Cf", "Cs"}
    ]
    kept = [char for char in invisible if plain_text(f"a{char}b") not in {"ab", "a b"}]
    assert [f"U+{ord(char):04X}" for char in kept] == []


def test_long_nested_fragments_take_linear_time() -> None:
    # A fixpoint loop over a tag regex would take one pass per nesting level here.
    assert plain_text("<a" * 50_000 + ">" * 50_000 + "尾") == "尾"
    assert plain_text("<" * 100_000 + "b>") == "<" * 99_999


@FIXED_BUDGET
@given(st.text(max_size=300))
@example("<<a>b")
@example("<a<<b>c>d")
@example("<\u202ea>")
@example("<\x00/a>")
def test_plain_text_properties(raw: str) -> None:
    text = plain_text(raw)
    if text is None:
        return
    assert text == text.strip() and text
    assert not TAG_OPENER.search(text), text
    assert not any(unicodedata.category(char) in {"Cc", "Cf", "Cs"} for char in text)
    assert "\n" not in text and "  " not in text
    assert plain_text(text) == text  # idempotent


@FIXED_BUDGET
@given(st.text(alphabet=st.sampled_from("<>/!?ab \u202e\n="), max_size=60))
def test_markup_like_junk(raw: str) -> None:
    text = plain_text(raw)
    assert text is None or (not TAG_OPENER.search(text) and plain_text(text) == text)


# --- where the parsers extract text (newsarchive.pages.html re-exports this function) ------------

PAGES = Path(__file__).parents[1] / "pages" / "cases"
HOSTILE_TITLE = "\u202e看涨&lt;img src=x onerror=alert(1)// 与 &lt;scr&lt;script&gt;ipt&gt;"


def test_article_page_fields_are_plain_text() -> None:
    page = (PAGES / "article_seed" / "page.html").read_text(encoding="utf-8")
    page = page.replace(
        "<title>宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺_东方财富网</title>",
        f"<title>{HOSTILE_TITLE}</title>",
    )
    page = page.replace("来源：证券日报网", "来源：证券日报网\u202e&lt;svg onload=alert(1)")
    parsed = eastmoney.parse_article(page, (PAGES / "article_seed" / "url.txt").read_text().strip())
    assert (parsed.title, parsed.media) == ("看涨", "证券日报网")


def test_listing_row_fields_are_plain_text() -> None:
    case = PAGES / "columns_344"
    payload = json.loads((case / "page.json").read_text(encoding="utf-8"))
    row = payload["data"]["list"][0]
    row.update(title="A股>B股\u2066 <b>涨</b> <img src=x onerror=alert(1)//", mediaName="证券\u200b日报网")
    row["summary"] = "PMI<50 <scr<script>ipt>alert(1)</script>"
    listing = eastmoney.parse_column_list(json.dumps(payload), (case / "url.txt").read_text().strip())
    entry = listing.entries[0]
    assert (entry.title, entry.media, entry.summary) == ("A股>B股 涨", "证券日报网", "PMI<50 alert(1)")
