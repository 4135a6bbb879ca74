"""A body's markup as every parser takes it (newsarchive.pages.html.inner_html): the text before the
first tag is text, escaped as lxml escapes text, never markup (issue 15)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.pages import eastmoney, zqrb
from newsarchive.pages.declared import parse_article as parse_declared
from newsarchive.pages.html import inner_html, parse_tree
from newsarchive.sites import load_sites
from newsarchive.text.clean import clean_body

CASES = Path(__file__).with_name("cases")
SITE_CASES = Path(__file__).resolve().parents[1] / "sites" / "cases"
LEADING = "a &lt;b&gt; c"  # as the page writes it: the text "a <b> c"
CNSTOCK = next(site for site in load_sites() if site.name == "cnstock")


def page_with_leading_text(folder: Path, body_start: str) -> tuple[str, str]:
    """The saved page of ``folder`` with LEADING as the first thing inside its body element."""
    page = (folder / "page.html").read_text(encoding="utf-8")
    assert page.count(body_start) == 1
    return page.replace(body_start, body_start + LEADING), (folder / "url.txt").read_text().strip()


def parse_eastmoney(page: str, url: str) -> str | None:
    return eastmoney.parse_article(page, url).body_html


def parse_zqrb(page: str, url: str) -> str | None:
    return zqrb.parse_article(page, url).body_html


def parse_cnstock(page: str, url: str) -> str | None:
    return parse_declared(CNSTOCK, page, url).body_html


@pytest.mark.parametrize(
    ("folder", "body_start", "parse"),
    [
        (
            CASES / "article_seed",
            '<div class="txtinfos" id="ContentBody" style="margin-top:0;">',
            parse_eastmoney,
        ),
        (CASES / "zqrb_article_seed", '<div class="content-lcq">', parse_zqrb),
        (SITE_CASES / "cnstock_article", '<div class="content" id="qmt_content_div">', parse_cnstock),
    ],
    ids=["eastmoney", "zqrb", "declared"],
)
def test_the_leading_text_of_a_body_stays_text(
    folder: Path, body_start: str, parse: Callable[[str, str], str | None]
) -> None:
    page, url = page_with_leading_text(folder, body_start)
    body_html = parse(page, url)
    assert body_html is not None
    assert body_html.lstrip().startswith(LEADING)
    cleaned = clean_body(body_html, url)
    assert "a <b> c" in cleaned.text
    assert "<b>" not in cleaned.html and "&lt;b&gt;" in cleaned.html


def test_inner_html_escapes_as_lxml_serializes_text() -> None:
    node = parse_tree("<div>1 &lt; 2 &amp;&amp; 3 &gt; 2\xa0元<br>尾 &lt;i&gt;<p>段</p></div>")
    assert inner_html(node) == "1 &lt; 2 &amp;&amp; 3 &gt; 2\xa0元<br>尾 &lt;i&gt;<p>段</p>"


@given(st.text(alphabet=st.sampled_from("ab <>&;/\"'中\xa0"), max_size=40))
def test_the_leading_text_round_trips(text: str) -> None:
    """Whatever the text before the first tag, parsing the inner HTML again gives the same text."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    node = parse_tree(f"<div>{escaped}<p>x</p></div>")
    again = parse_tree(f"<div>{inner_html(node)}</div>")
    assert again.text == node.text
    assert [child.tag for child in again] == ["p"]
    assert re.sub(r"\s+", "", again.text_content()) == re.sub(r"\s+", "", node.text_content())
