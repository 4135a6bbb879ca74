"""newsarchive.text.nesting: HTML nested too deep loses its deep tags, never its text."""

from __future__ import annotations

from html import unescape

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.text.nesting import deeper_than, limit_nesting, parse_within_depth

SHALLOW = (
    "<!DOCTYPE html><html><head><script>if (a < b && c > d) {}</script></head><body><!-- c -->"
    '<div class="x">a &amp; b &#x4e2d; &copy &lt;p&gt; <br/><img src="x.png"><p>one<p>two</div>'
    "<table><tr><td>1<td>2</table></body></html>"
)


def test_shallow_html_parses_as_it_did() -> None:
    before = lxml.html.tostring(lxml.html.document_fromstring(SHALLOW))
    assert lxml.html.tostring(lxml.html.document_fromstring(limit_nesting(SHALLOW, 100))) == before


def depth(tree: lxml.html.HtmlElement) -> int:
    return max(len(list(element.iterancestors())) + 1 for element in tree.iter())


@pytest.mark.parametrize("limit", [0, 5, 50])
def test_no_element_is_opened_below_the_limit_and_no_word_is_lost(limit: int) -> None:
    html = "<div>" * 200 + "<p>甲</p><ul><li>乙<li>丙</ul>" + "</div>" * 200 + "<p>丁</p>"
    limited = lxml.html.fromstring(limit_nesting(html, limit))
    assert depth(limited) <= limit + 3  # the parser's html and body, and an implied p
    assert [word for word in "甲乙丙丁" if word in limited.text_content()] == list("甲乙丙丁")


def test_a_dropped_block_becomes_one_line_break() -> None:
    assert limit_nesting("<div><div><p>a</p><p>b</p></div></div>", 1) == "<div><br>a<br>b<br></div>"


def test_scripts_keep_their_tags_below_the_limit() -> None:
    limited = limit_nesting("<div><div><script>var a = '<p>' && b;</script></div></div>", 1)
    assert limited == "<div><br><script>var a = '<p>' && b;</script><br></div>"


def test_parse_within_depth_parses_again_only_a_tree_too_deep() -> None:
    parsed: list[str] = []

    def parse(html: str) -> lxml.html.HtmlElement:
        parsed.append(html)
        return lxml.html.fromstring(html)

    too_deep = deeper_than(20)
    assert parse_within_depth("<div><p>a</p></div>", parse, too_deep, 20) is not None
    assert len(parsed) == 1
    tree = parse_within_depth("<div>" * 100 + "<p>a</p>", parse, too_deep, 20)
    assert tree is not None and not too_deep(tree) and tree.text_content() == "a"
    assert len(parsed) == 3  # the shallow tree once, the deep one twice


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/!-&;# ='\"abpdivlscrt\n中"))))
def test_junk_never_raises_and_limiting_is_idempotent(junk: str) -> None:
    once = limit_nesting(junk, 3)
    assert limit_nesting(once, 3) == once


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(exclude_characters="<&")))
def test_text_without_markup_keeps_every_character(text: str) -> None:
    assert unescape(limit_nesting(text, 0)) == text
