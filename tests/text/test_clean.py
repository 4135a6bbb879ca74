"""Tests for newsarchive.text.clean: the seed article, the synthetic layout, the real corpus, rules, junk,
boilerplate wherever it sits in both East Money layouts, every real body (no marker left, no sentence
lost) and the clean pipeline's drop reasons. Safety, properties and fuzz: test_sanitize.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from newsarchive.items import Article
from newsarchive.pages.eastmoney import parse_article
from newsarchive.text.clean import _CONTROL_CHARS, _SPACE_RUN, CleanedBody, _plain, clean_body, html_to_text
from pipelines.clean import CleanBodyPipeline

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "fixtures" / "eastmoney"
CORPUS = SHARED / "corpus" / "finews"
SEED_POST = SHARED / "reference" / "000_ec9bf5bae55da0f9.txt"
SEED_PAGE = FIXTURES / "article_202204292366280343.html"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
SEED_MEDIA_LINE = '<p class="em_media">（文章来源：证券日报网）</p>'
SAMPLE_ARTICLES = Path(__file__).resolve().parents[2] / "data" / "sample" / "eastmoney" / "articles"
OLDER_LAYOUT_PAGE = SAMPLE_ARTICLES / "202112082206672930.html"  # div#ContentBody.Body, p.res-edit after it
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} (the ../shared reference material beside the project) is absent"
)


def content_body(page: Path) -> str:
    """Inner HTML of div#ContentBody, as a page parser hands it to clean_body."""
    body = lxml.html.parse(str(page)).getroot().get_element_by_id("ContentBody")
    return (body.text or "") + "".join(etree.tostring(child, encoding="unicode") for child in body)


def post_body(post: Path) -> str:
    """The HTML lines of a Jekyll post's body (after the front matter)."""
    lines = post.read_text(encoding="utf-8").split("\n")
    front_matter_end = [index for index, line in enumerate(lines) if line == "---"][1]
    return "".join(line for line in lines[front_matter_end + 1 :] if line.startswith("<p"))


def fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


@needs_shared
def test_seed_article_matches_the_archived_post_byte_for_byte() -> None:
    lines = SEED_POST.read_text(encoding="utf-8").split("\n")
    body_line = lines[[index for index, line in enumerate(lines) if line == "---"][1] + 1]
    assert body_line.endswith(SEED_MEDIA_LINE)
    expected = body_line.removesuffix(SEED_MEDIA_LINE)

    cleaned = clean_body(content_body(SEED_PAGE), SEED_URL)

    assert cleaned.html == expected
    assert cleaned.text.split("\n") == [p.text_content() for p in fragment(expected).iter("p")]
    assert cleaned.removed == ("ad", "editor_line", "promo", "share_text", "source_line", "spacer")


@needs_shared
def test_synthetic_layout_example_keeps_only_the_story() -> None:
    cleaned = clean_body(content_body(FIXTURES / "article_synthetic_layout_example.html"), SEED_URL)

    assert cleaned == CleanedBody(
        html="<p>4月29日，证监会新闻发言人表示，支持证券公司等依法依规回购股份，巨化股份等已发布业绩公告。</p>"
        '<p><img src="https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg" alt="Image"></p>'
        "<p>图片来源：证监会官网</p>"
        "<p>第二段：巨化股份表示将继续推进回购。</p>",
        text="4月29日，证监会新闻发言人表示，支持证券公司等依法依规回购股份，巨化股份等已发布业绩公告。\n"
        "图片来源：证监会官网\n"
        "第二段：巨化股份表示将继续推进回购。",
        removed=("ad", "editor_line", "kline", "promo", "share_text", "source_line", "spacer"),
    )


HTML_POSTS = (
    sorted(p for p in CORPUS.glob("*.md") if "<p" in p.read_text(encoding="utf-8")) if SHARED.is_dir() else []
)


@needs_shared
def test_corpus_html_posts_are_found() -> None:
    names = {post.name for post in HTML_POSTS}
    assert {"2022-04-29-NW202204292366280343.md", "old_post__2022-01-07-202201072239307540.md"} <= names


@needs_shared
@pytest.mark.parametrize(
    "post",
    [pytest.param(post, id=post.name) for post in HTML_POSTS] or [pytest.param(SHARED, id="no-corpus")],
)
def test_corpus_bodies_clean_to_their_paragraphs(post: Path) -> None:
    raw = post_body(post)
    original = fragment(raw)
    cleaned = clean_body(raw, "https://finance.eastmoney.com/a/")

    for unwanted in ("<a", "<span", "class=", "style=", "（文章来源", "责任编辑"):
        assert unwanted not in cleaned.html
    expected_paragraphs = [
        p.text_content().strip() for p in original.iter("p") if p.get("class") != "em_media"
    ]
    assert cleaned.text.split("\n") == expected_paragraphs
    assert [s.text_content() for s in fragment(cleaned.html).iter("strong")] == [
        s.text_content().strip() for s in original.iter("strong")
    ]
    assert cleaned.removed == ("source_line",)


BASE = "https://finance.eastmoney.com/a/202204292366280343.html"
RULE_CASES = [
    pytest.param(
        '<p style="display:none;height:1px;overflow:hidden;"><br /></p><p>正文</p>',
        "<p>正文</p>",
        ("spacer",),
        id="hidden-spacer",
    ),
    pytest.param(
        '<!-- EM_StockImg_Start --><p style="text-align:center;"><a href="http://quote.eastmoney.com/unify/r/'
        '106.NIO" class="EmImageRemark" target="_blank"><img src="https://webquoteklinepic.eastmoney.com/GetPic'
        '.aspx?nid=106.NIO&imageType=k" alt="K图 NIO_0" /></a></p><!-- EM_StockImg_End --><p>正文</p>',
        "<p>正文</p>",
        ("kline",),
        id="kline-block-between-comments",
    ),
    pytest.param(
        '<p><a class="EmImageRemark" href="http://quote.eastmoney.com/unify/r/1.600160">'
        '<img src="https://x.example/k.png"></a>甲</p>'
        '<p><img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=1.600160"></p>',
        "<p>甲</p>",
        ("kline",),
        id="kline-link-and-image-without-comments",
    ),
    pytest.param(
        '<p>　　<a class="toplink" target="_blank" href="https://ai.eastmoney.com/chat">全新妙想投研助理，立即体验'
        "</a></p><p>正文</p>",
        "<p>正文</p>",
        ("promo",),
        id="toplink-promo",
    ),
    pytest.param(
        "<p>　　在东方财富看资讯行情，选东方财富证券一站式开户交易&gt;&gt;</p><p>正文</p>",
        "<p>正文</p>",
        ("promo",),
        id="account-opening-promo",
    ),
    pytest.param(
        '<p>甲</p><div class="ad_context3"><script>var emad = 1;</script><p>广告</p></div>'
        '<div class="em_xuangu"><p>选股</p></div><p>乙</p>',
        "<p>甲</p><p>乙</p>",
        ("ad",),
        id="ad-slot-and-xuangu",
    ),
    pytest.param(
        '<p style="text-align:center;"><a href="https://acttg.eastmoney.com/pub/web_app_1">'
        '<img src="https://np-newspic.dfcfw.com/download/ad.jpg" /></a></p>'
        '<p>正文<img class="em_handle_adv_close" src="/ad.png"></p>',
        "<p>正文</p>",
        ("ad",),
        id="ad-link-and-ad-image",
    ),
    pytest.param(
        '<p>正文</p><p class="em_media">（文章来源：上海<span id="bk_90.BK0473">'
        '<a href="http://quote.eastmoney.com/unify/r/90.BK0473" class="keytip" data-code="90,BK0473">证券</a>'
        '</span><span id="bkquote_90.BK0473"></span>报）</p><p class="em_media">（来源：财联社）</p>',
        "<p>正文</p>",
        ("source_line",),
        id="em-media-with-board-link-in-name",
    ),
    pytest.param(
        "<p>正文</p><p>（文章来源：证券日报网）</p><p>　　文章来源：券商中国</p><p>(文章来源:财联社)</p>",
        "<p>正文</p>",
        ("source_line",),
        id="source-lines-without-class",
    ),
    pytest.param(
        '<p>正文</p><p>（责任编辑：DF010）</p><p class="res-edit">责任编辑：张三</p>',
        "<p>正文</p>",
        ("editor_line",),
        id="editor-lines",
    ),
    pytest.param(
        "<p>正文</p><p>打开微信，</p><p>点击底部的“发现”，</p><p>使用“扫一扫”</p><p>即可将网页分享至朋友圈。</p>"
        "<p>打开微信，<br>点击底部的“发现”，<br>使用“扫一扫”<br>即可将网页分享至朋友圈。</p>",
        "<p>正文</p>",
        ("share_text",),
        id="wechat-share-text",
    ),
    pytest.param(
        "<p>甲<script>alert(1)</script>乙</p><style>p { color: red }</style><!-- 注释 --><p>丙<!--x-->丁</p>",
        "<p>甲乙</p><p>丙丁</p>",
        ("script",),
        id="script-style-comment",
    ),
    pytest.param(
        '<p class="x" style="text-align:left;" id="p1" data-x="1">'
        '<strong class="s" style="color:red">粗</strong><b id="b">体</b></p>'
        '<center><img src="https://a.example/x.jpg" alt="Image" width="552" border="0" '
        'style="border:#d1d1d1 1px solid;" data-code="x" /></center>',
        '<p><strong>粗</strong><b>体</b></p><p><img src="https://a.example/x.jpg" alt="Image"></p>',
        (),
        id="attributes-stripped",
    ),
    pytest.param(
        '<table border="0" class="t"><thead><tr><th colspan="2" style="x">指标</th></tr></thead><tbody><tr>'
        '<td rowspan="1" width="50">营收</td><td align="right" colspan="x"><span>100</span></td>'
        "</tr></tbody></table>",
        '<table><thead><tr><th colspan="2">指标</th></tr></thead><tbody><tr><td rowspan="1">营收</td>'
        "<td>100</td></tr></tbody></table>",
        (),
        id="table-with-colspan",
    ),
    pytest.param(
        '<ul class="l"><li>　　一</li><li><strong>二</strong></li><li> </li></ul>'
        "<ol><li><p>三</p><p>四</p></li></ol>",
        "<ul><li>一</li><li><strong>二</strong></li></ul><ol><li>三<br>四</li></ol>",
        (),
        id="lists",
    ),
    pytest.param(
        '<center><img src="/download/a.jpg" alt="Image"></center>'
        '<p><img src="//dfscdn.dfcfw.com/download/b.jpg"></p>'
        '<p><img src="pic/c.png"><img src="data:image/png;base64,AAAA"><img src="javascript:x"></p>',
        '<p><img src="https://finance.eastmoney.com/download/a.jpg" alt="Image"></p>'
        '<p><img src="https://dfscdn.dfcfw.com/download/b.jpg"></p>'
        '<p><img src="https://finance.eastmoney.com/a/pic/c.png"></p>',
        (),
        id="image-src-resolved",
    ),
    pytest.param(
        "<p>　　甲</p><p>\xa0\xa0乙\xa0</p><p>\u2002\u2002丙 </p><p>&nbsp;丁&nbsp;</p>"
        "<p><strong>　　标题 </strong></p><p>中间　空格\xa0保留</p>",
        "<p>甲</p><p>乙</p><p>丙</p><p>丁</p><p><strong>标题</strong></p><p>中间　空格\xa0保留</p>",
        (),
        id="edge-spaces-stripped",
    ),
    pytest.param(
        "<p></p><p> </p><p><br></p><p>　　</p><p><span></span><strong> </strong></p><p>正文</p>",
        "<p>正文</p>",
        (),
        id="empty-paragraphs-dropped",
    ),
    pytest.param(
        "开头文字<p>段落</p>结尾<div>块内<span>文字</span><div>嵌套</div></div>",
        "<p>开头文字</p><p>段落</p><p>结尾</p><p>块内文字</p><p>嵌套</p>",
        (),
        id="bare-text-wrapped",
    ),
    pytest.param(
        "<p>A&amp;B &lt;tag&gt; R&D</p>",
        "<p>A&amp;B &lt;tag&gt; R&amp;D</p>",
        (),
        id="escaping",
    ),
    pytest.param(
        '<p>支持<span id="bk_90.BK0473"><a href="http://quote.eastmoney.com/unify/r/90.BK0473" '
        'class="keytip">证券</a></span><span id="bkquote_90.BK0473"></span>公司，'
        '<span id="stock_1.600160"><a class="keytip" href="http://quote.eastmoney.com/unify/r/1.600160">'
        '巨化股份</a></span><span id="quote_1.600160"></span>与'
        '<span web="1" href="http://quote.eastmoney.com/unify/r/90.BK0493" class="em_stock_key_common">'
        "新能源</span>、"
        '<a class="em_stock_key_common" href="http://quote.eastmoney.com/r/0.002353" data-code="002353">'
        "杰瑞股份</a>及"
        '<span id="Info.3321"><a href="http://data.eastmoney.com/bbsj/" class="infokey">业绩</a></span>，'
        '<a href="https://example.com/">链接</a><font color="red">字</font></p>',
        "<p>支持证券公司，巨化股份与新能源、杰瑞股份及业绩，链接字</p>",
        (),
        id="links-unwrapped",
    ),
    pytest.param(
        "<table>甲<caption>表1</caption><tr>乙<td>1</td>丙</tr></table><table><tr><td> </td></tr></table>"
        "<ul>散<li>项</li></ul>",
        "<p>甲</p><p>表1</p><p>乙丙</p><table><tbody><tr><td>1</td></tr></tbody></table>"
        "<ul><li>散</li><li>项</li></ul>",
        (),
        id="stray-table-and-list-text-kept",
    ),
    pytest.param(
        "<p>第一行<br />\n第二行<br></p><p>a\n  b\tc</p>",
        "<p>第一行<br>第二行</p><p>a b c</p>",
        (),
        id="br-kept-whitespace-collapsed",
    ),
]


@pytest.mark.parametrize(("raw", "expected_html", "expected_removed"), RULE_CASES)
def test_rules(raw: str, expected_html: str, expected_removed: tuple[str, ...]) -> None:
    cleaned = clean_body(raw, BASE)

    assert cleaned.html == expected_html
    assert cleaned.removed == expected_removed
    assert clean_body(cleaned.html, BASE).html == cleaned.html


@pytest.mark.parametrize(
    ("raw", "expected_text"),
    [
        pytest.param("<p>A&amp;B &lt;tag&gt;</p>", "A&B <tag>", id="unescaped"),
        pytest.param(
            "<p>第一行<br>第二行</p><p><img src='/a.jpg'></p><p>　　第三段</p>",
            "第一行\n第二行\n第三段",
            id="br-breaks-line-image-has-no-line",
        ),
        pytest.param(
            "<table><tr><td>营收</td><td>100</td></tr></table><ul><li>一</li><li>二</li></ul>",
            "营收\t100\n一\n二",
            id="table-rows-and-list-items",
        ),
    ],
)
def test_text(raw: str, expected_text: str) -> None:
    assert clean_body(raw, BASE).text == expected_text
    assert html_to_text(raw) == expected_text


JUNK = [
    "",
    " \n\t",
    "<!-- only a comment -->",
    "plain text",
    "<p>unclosed <strong>bold",
    "</p></div></span>",
    "<<<>>>&&&;",
    "&#0;&#1;&#xD800;&#x0c;&bogus;",
    "\x00\x01\x7f\ufffe\uffff\ud800",
    bytes(range(256)).decode("latin-1"),
    "<table><td>x<tr>y</table>text<ul>stray<li>item",
    "<table>x<tr>y<td>1</td>z</tr></table>",
    "<span>" * 3000 + "deep",
    "<div>" * 3000 + "deep",
    "<strong><table><tr><td><ul><li>" * 300 + "deep",
    "<img src='http://[::1'><img src=''><img>",
    "<?xml version='1.0' encoding='gbk'?><p>中文</p>",
    "<html><head><title>t</title><meta charset='gbk'></head><body><p>中文</p></body></html>",
    "<p style='display:none'",
    "<script>unterminated",
    "<!-- EM_StockImg_Start --> no end",
    "<p>（文章来源：</p><p>打开微信</p>",
]


@pytest.mark.parametrize("raw", JUNK, ids=[f"junk{index}" for index in range(len(JUNK))])
def test_junk_never_raises_and_is_idempotent(raw: str) -> None:
    cleaned = clean_body(raw, BASE)

    assert clean_body(cleaned.html, BASE).html == cleaned.html
    assert cleaned.text == cleaned.text.strip()
    assert "<a" not in cleaned.html


def test_empty_input_gives_empty_body() -> None:
    assert clean_body("", BASE) == CleanedBody(html="", text="", removed=())
    assert clean_body("<!-- x -->", BASE) == CleanedBody(html="", text="", removed=())


# --- Boilerplate wherever it sits, in both layouts (issue 3, point 1) ---------------------------------
STORY = [
    "第一段：证监会表示，将继续支持上市公司依法依规回购股份。",
    "第二段：巨化股份表示将继续推进回购。",
    "第三段：分析人士认为，回购有助于稳定市场预期。",
]
STORY_HTML = [f"<p>　　{paragraph}</p>" for paragraph in STORY]
KLINE = (
    '<!-- EM_StockImg_Start --><p style="text-align:center;"><a href="http://quote.eastmoney.com/unify/r/'
    '106.NIO" class="EmImageRemark" target="_blank"><img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx'
    '?nid=106.NIO&imageType=k" alt="K图 NIO_0" /></a></p><!-- EM_StockImg_End -->'
)
XINHUA_EDITOR = (
    '<div class="p-tags"><span class="p-jc"><span class="tiyi1"><a href="javascript:void(0);" class="advise">'
    '【纠错】</a><div class="tiyi01" id="advisebox01" style="display:none"><iframe src="about:blank">'
    "</iframe></div></span>\n责任编辑：\n尹世杰\n</span></div>"
)
# id: (html, kind reported in `removed`).
# Sources: eastmoney.md §2.3–2.5; sites.md §1.6, §1.8, §2, §3.2, §5, §6.4.
BOILERPLATE_FORMS: dict[str, tuple[str, str]] = {
    "em-media-split-by-keytip": (
        '<p class="em_media">（文章来源：上海<span id="bk_90.BK0473"><a href="http://quote.eastmoney.com/unify/r/'
        '90.BK0473" class="keytip" data-code="90,BK0473">证券</a></span><span id="bkquote_90.BK0473"></span>'
        "报）</p>",
        "source_line",
    ),
    "source-bracketed": ("<p>（文章来源：证券日报网）</p>", "source_line"),
    "source-plain": ("<p>　　文章来源：券商中国</p>", "source_line"),
    "source-ascii-punctuation": ("<p>(文章来源:财联社)</p>", "source_line"),
    "source-short": ("<p>来源：新华社</p>", "source_line"),
    "source-short-bracketed": ("<p>（来源：财联社）</p>", "source_line"),
    "source-benwen": ("<p>本文来源：中国证券报</p>", "source_line"),
    "source-ziliao": ("<p>资料来源：国家统计局</p>", "source_line"),
    "source-caifuhao": (
        '<p>（来源：券商中国的财富号 2019-01-23 05:31） <a href="http://caifuhao.eastmoney.com/news/'
        '20190124053117311720040" target="_blank" style="color:Red"><b>[点击查看原文]</b></a></p>',
        "source_line",
    ),
    "source-zqrb-era-a": (
        '<p>文章来源：<a href="http://www.zqrb.cn/">证券日报</a>&nbsp;&nbsp;更新时间：2016-03-02 08:40</p>',
        "source_line",
    ),
    "editor-bracketed": ("<p>（责任编辑：DF010）</p>", "editor_line"),
    "editor-plain": ("<p>责任编辑：张三</p>", "editor_line"),
    "editor-lenticular": ("<p>【责任编辑：王某】</p>", "editor_line"),
    "editor-bianji-space": ("<p>（编辑 张三）</p>", "editor_line"),
    "editor-zebian": ("<p>责编：李四</p>", "editor_line"),
    "editor-res-edit": ('<p class="res-edit">责任编辑：DF090</p>', "editor_line"),
    "editor-news-cn-editor": ('<div class="editor">【责任编辑：王某】</div>', "editor_line"),
    "editor-news-cn-zrbj": ('<p><span class="zrbj">责任编辑：赵六</span></p>', "editor_line"),
    "editor-xinhua-p-jc": (XINHUA_EDITOR, "editor_line"),
    "editor-zqrb-span-author": ('<p><span class="author">（编辑 张三）</span></p>', "byline"),
    "byline-one": ("<p>　　本报记者 周菊</p>", "byline"),
    "byline-two": ("<p>本报记者 张三 李四</p>", "byline"),
    "disclaimer-eastmoney": (
        "<p>郑重声明：东方财富发布此内容旨在传播更多信息，与本站立场无关，不构成投资建议。据此操作，风险自担。</p>",
        "disclaimer",
    ),
    "disclaimer-mianze": ("<p>免责声明：本文仅代表作者个人观点，不构成投资建议。</p>", "disclaimer"),
    "disclaimer-after-source": (
        "<p>（文章来源：财联社）郑重声明：东方财富发布此内容旨在传播更多信息，与本站立场无关，不构成投资建议。</p>",
        "source_line",
    ),
    "disclaimer-stcn-div": (
        '<div class="shenming"><p>声明：证券时报力求信息真实、准确，文章提及内容仅供参考，'
        "不构成实质性投资建议，据此操作风险自担。</p></div>",
        "disclaimer",
    ),
    "disclaimer-stcn-text": (
        "<p>声明：证券时报力求信息真实、准确，文章提及内容仅供参考，不构成实质性投资建议，据此操作风险自担。</p>",
        "disclaimer",
    ),
    "disclaimer-choice": (
        "<p>【东方财富Choice数据】东方财富发布此内容旨在传播更多信息，与本平台立场无关。</p>",
        "disclaimer",
    ),
    "related-cnstock": (
        '<p><strong>相关阅读</strong></p><p><a href="http://news.cnstock.com/news,yw-201908-4413224.htm">'
        "外汇局：美国认定中国“汇率操纵”根本站不住脚</a></p>"
        '<p><a href="http://news.cnstock.com/news,yw-201908-4413225.htm">央行：人民币汇率保持基本稳定</a> '
        "2019-08-08</p>",
        "related",
    ),
    "related-heading-and-list": (
        '<h3>延伸阅读：</h3><ul><li><a href="/a/1.html">标题一</a></li>'
        '<li><a href="/a/2.html">标题二</a></li></ul>',
        "related",
    ),
    "related-links-on-the-heading-line": (
        '<p>相关阅读：<a href="/a/1.html">标题一</a> <a href="/a/2.html">标题二</a></p>',
        "related",
    ),
    "related-stcn-tuijian": (
        '<div class="tuijian"><h2>为你推荐</h2><ul><li><a>标题</a></li></ul></div>',
        "related",
    ),
    "related-read-next": ('<p>阅读下一篇：<a href="/c.html">下一篇标题</a></p>', "related"),
    "share-wechat-paragraphs": (
        "<p>打开微信，</p><p>点击底部的“发现”，</p><p>使用“扫一扫”</p><p>即可将网页分享至朋友圈。</p>",
        "share_text",
    ),
    "share-wechat-br": (
        "<p>打开微信，<br>点击底部的“发现”，<br>使用“扫一扫”<br>即可将网页分享至朋友圈。</p>",
        "share_text",
    ),
    "share-wechat-one-line": (
        "<p>打开微信，点击底部的“发现”，使用“扫一扫”即可将网页分享至朋友圈。</p>",
        "share_text",
    ),
    "share-weixin-saoyisao": ("<p>微信扫一扫</p>", "share_text"),
    "share-qr-code": ("<p>扫描二维码，分享到朋友圈</p>", "share_text"),
    "share-to": ("<p>分享到：微信 微博 QQ空间</p>", "share_text"),
    "share-xinhua-tadd": (
        '<div class="tadd">点赞 分享<script>window._bd_share_config = {};</script></div>',
        "share_text",
    ),
    "promo-toplink": (
        '<p>　　<a class="toplink" target="_blank" href="https://ai.eastmoney.com/chat">全新妙想投研助理，立即体验</a></p>',
        "promo",
    ),
    "promo-toplink-text": ("<p>全新妙想投研助理，立即体验</p>", "promo"),
    "promo-account-opening": (
        "<p>　　在东方财富看资讯行情，选东方财富证券一站式开户交易&gt;&gt;</p>",
        "promo",
    ),
    "ad-slot": (
        '<div class="ad_context3"><script type="text/javascript">var emad = 1;</script><p>广告</p></div>',
        "ad",
    ),
    "ad-link-image": (
        '<p style="text-align:center;"><a href="https://acttg.eastmoney.com/pub/web_app_1">'
        '<img src="https://np-newspic.dfcfw.com/download/ad.jpg" class="em_handle_adv_close" /></a></p>',
        "ad",
    ),
    "ad-xuangu": ('<div class="em_xuangu"><p>选股</p></div>', "ad"),
    "kline-block": (KLINE, "kline"),
    "hidden-spacer": ('<p style="display:none;height:1px;overflow:hidden;"><br /></p>', "spacer"),
    "hidden-text": ('<p style="display: none">隐藏的文字</p>', "spacer"),
    "original-title": ("<p>原标题：证监会新闻发言人答记者问</p>", "original_title"),
    "original-title-bracketed": ("<p>（原标题：证监会新闻发言人答记者问）</p>", "original_title"),
    "original-title-square": ("<p>[原标题 证监会新闻发言人答记者问]</p>", "original_title"),
    "original-title-zwothers": (
        '<div class="zwothers"><span>原标题：证监会答记者问</span></div>',
        "original_title",
    ),
    "correction": ("<p>【纠错】</p>", "correction"),
}
WRAPPERS = (
    "{}",
    "<div>{}</div>",
    "<span>{}</span>",
    "<strong>{}</strong>",
    "<div><span><strong>{}</strong></span></div>",
)
POSITIONS = {"start": 0, "middle": 1, "end": 3}


def page_with_body(template: Path, inner_html: str) -> str:
    """`template` (a saved article page) with the inner HTML of its div#ContentBody replaced."""
    root = lxml.html.parse(str(template)).getroot()
    body = root.get_element_by_id("ContentBody")
    for child in list(body):
        body.remove(child)
    body.text = "@@BODY@@"
    return lxml.html.tostring(root, encoding="unicode").replace("@@BODY@@", inner_html)


LAYOUTS = {"current": SEED_PAGE, "older": OLDER_LAYOUT_PAGE}


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(
    ("form", "kind"), [pytest.param(*value, id=key) for key, value in BOILERPLATE_FORMS.items()]
)
def test_boilerplate_is_removed_wherever_it_sits(form: str, kind: str, position: str) -> None:
    for layout, template in LAYOUTS.items():
        if not template.is_file():
            continue
        for wrapper in WRAPPERS:
            paragraphs = list(STORY_HTML)
            paragraphs.insert(POSITIONS[position], wrapper.format(form))
            page = parse_article(
                page_with_body(template, "<!--文章主体-->" + "\n".join(paragraphs)), SEED_URL
            )
            assert page.layout == layout
            cleaned = clean_body(page.body_html or "", SEED_URL)

            where = f"{layout} layout, wrapper {wrapper}"
            assert cleaned.text.split("\n") == STORY, where
            assert cleaned.html == "".join(f"<p>{paragraph}</p>" for paragraph in STORY), where
            assert kind in cleaned.removed, where


STAYS = [
    "据新华社消息，本次会议来源广泛……",
    "该书编辑部表示……",
    "编辑部表示，将继续关注此事。",
    "本报记者从国家统计局获悉，今年以来经济平稳运行。",
    "本报记者日前走访了多家上市公司",
    "新华社巴黎12月9日电（记者唐霁）法国9日再次爆发全国跨行业大罢工。",
    "相关阅读材料显示，公司营收增长。",
    "数据来源：Wind",
    "注：文中数据仅供参考。",
    "来源：公司公告显示，本季度营收增长30%。",
    "公司郑重声明：从未授权任何机构代为办理业务。",
    "开户数量同比增长20%，中国结算数据显示新增投资者持续增加。",
    "手机开户比例持续上升。",
    "原标题为《证监会答记者问》的文章引发关注。",
    "扫码支付已成为主流消费方式。",
    "分享经济成为新的增长点。",
    "打开微信，搜索公众号即可关注。",
    "记者张三报道",
]


@pytest.mark.parametrize("sentence", STAYS)
def test_story_sentences_that_mention_a_label_stay(sentence: str) -> None:
    cleaned = clean_body(
        "".join(STORY_HTML[:1]) + f"<p>　　{sentence}</p>" + "".join(STORY_HTML[1:]), SEED_URL
    )

    assert cleaned.text.split("\n") == [STORY[0], sentence, *STORY[1:]]
    assert cleaned.removed == ()


def test_image_caption_with_picture_source_stays_as_a_paragraph() -> None:
    raw = (
        '<p>正文</p><center><img src="https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg" '
        'alt="Image" width="552" /></center><p style="text-align:center;">图片来源：霍尼韦尔官网</p>'
    )
    assert clean_body(raw, SEED_URL).html == (
        '<p>正文</p><p><img src="https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg" '
        'alt="Image"></p><p>图片来源：霍尼韦尔官网</p>'
    )


@pytest.mark.parametrize(
    ("raw", "expected_html", "expected_removed"),
    [
        pytest.param(
            "<p>正文<br>（责任编辑：张三）<br>续</p>", "<p>正文<br>续</p>", ("editor_line",), id="br-line"
        ),
        pytest.param(
            "<p><strong>小标题<br>（文章来源：X）</strong></p>",
            "<p><strong>小标题</strong></p>",
            ("source_line",),
            id="bold",
        ),
        pytest.param(
            "<p>最后一段。（文章来源：证券日报）</p>", "<p>最后一段。</p>", ("source_line",), id="trailing"
        ),
        pytest.param(
            "<p>最后一段。（文章来源：财联社）郑重声明：东方财富发布此内容旨在传播更多信息，不构成投资建议。</p>",
            "<p>最后一段。</p>",
            ("source_line",),
            id="trailing-with-disclaimer",
        ),
        pytest.param(
            "<ul><li>一</li><li>（责任编辑：张三）</li></ul>",
            "<ul><li>一</li></ul>",
            ("editor_line",),
            id="li",
        ),
        pytest.param(
            "<p>正文</p><p>相关阅读</p><p><a>甲</a></p><p>后面的正文。</p><p><a>链接段</a></p>",
            "<p>正文</p><p>后面的正文。</p><p>链接段</p>",
            ("related",),
            id="related-cut-stops-at-story",
        ),
        pytest.param(
            "<p>正文</p><p>相关阅读</p><a>甲</a><br><a>乙</a>尾巴是正文",
            "<p>正文</p><p>尾巴是正文</p>",
            ("related",),
            id="related-bare-links",
        ),
    ],
)
def test_boilerplate_lines_inside_blocks(
    raw: str, expected_html: str, expected_removed: tuple[str, ...]
) -> None:
    cleaned = clean_body(raw, BASE)

    assert (cleaned.html, cleaned.removed) == (expected_html, expected_removed)
    assert clean_body(cleaned.html, BASE).html == cleaned.html


# --- Every real body: no boilerplate marker left, no story sentence lost (issue 3, Done when) --------
def _body_cases() -> list[Any]:
    cases = []
    if SHARED.is_dir():
        cases += [pytest.param(post_body(post), id=f"corpus/{post.name}") for post in HTML_POSTS]
        pages = sorted(FIXTURES.glob("article_*.html"))
        cases += [pytest.param(content_body(page), id=f"fixtures/{page.name}") for page in pages]
    for page in sorted(SAMPLE_ARTICLES.glob("*.html")):
        url = f"https://finance.eastmoney.com/a/{page.stem}.html"
        body = parse_article(page.read_text(encoding="utf-8"), url).body_html
        cases += [pytest.param(body, id=f"sample/{page.name}")] if body else []
    return cases


BODY_CASES = _body_cases()
MARKERS = [
    re.compile(marker)
    for marker in ("文章来源", "责任编辑", "打开微信", "扫一扫", "郑重声明", "全新妙想", "开户", "原标题")
]
MARKERS += [re.compile(marker) for marker in ("EM_StockImg", "keytip", "class=", "style=", "<a ", "<script")]
# The independent rule: paragraphs that are East Money boilerplate by class, ad slot or first words.
BOILERPLATE_CLASS_NAMES = {"em_media", "res-edit", "toplink"}
BOILERPLATE_START = re.compile(
    r"[（(]?(文章来源|责任编辑)|打开微信|点击底部的|使用“扫一扫”|即可将网页分享|全新妙想|在东方财富看资讯行情"
)


def story_paragraphs(body_html: str) -> list[str]:
    """The text of every paragraph a reader would call the story, worked out without the cleaner."""
    paragraphs = []
    for paragraph in fragment(body_html).iter("p"):
        chain = [paragraph, *paragraph.iterancestors()]
        if any(ancestor.tag == "p" for ancestor in chain[1:]):
            continue
        classes = {name for element in chain for name in (element.get("class") or "").split()}
        if classes & BOILERPLATE_CLASS_NAMES or any(name.startswith("ad_") for name in classes):
            continue
        text = re.sub(r"[ \t\n\r]+", " ", paragraph.text_content()).strip()
        if text and not BOILERPLATE_START.match(text):
            paragraphs.append(text)
    return paragraphs


def test_every_real_body_is_collected() -> None:
    ids = {case.id for case in BODY_CASES}
    assert sum(case_id.startswith("sample/") for case_id in ids) == len(list(SAMPLE_ARTICLES.glob("*.html")))
    if SHARED.is_dir():
        assert {
            "corpus/2022-04-29-NW202204292366280343.md",
            "fixtures/article_202204292366280343.html",
        } <= ids


@pytest.mark.parametrize("body_html", BODY_CASES or [pytest.param("", id="no-bodies")])
def test_real_body_keeps_every_story_sentence_and_no_boilerplate(body_html: str) -> None:
    cleaned = clean_body(body_html, SEED_URL)

    for marker in MARKERS:
        assert not marker.search(cleaned.html), f"{marker.pattern} left in html"
        assert not marker.search(cleaned.text), f"{marker.pattern} left in text"
    expected = story_paragraphs(body_html)
    lines = cleaned.text.split("\n") if cleaned.text else []
    assert lines == expected  # every story paragraph, in order, and nothing else


# --- The clean pipeline: an item the cleaner cannot handle is dropped, the crawl goes on -------------
def _item(body_html: Any) -> Article:
    return Article(info_code="NW202204292366280343", url=SEED_URL, feed="eastmoney", body_html=body_html)


def test_pipeline_drops_an_item_the_cleaner_fails_on(monkeypatch: pytest.MonkeyPatch) -> None:
    crawler = get_crawler()
    pipeline = CleanBodyPipeline.from_crawler(crawler)

    def failing_clean_body(raw_html: str, base_url: str) -> CleanedBody:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("pipelines.clean.clean_body", failing_clean_body)
    with pytest.raises(DropItem, match=r"^clean_failed: NW202204292366280343 \(RecursionError: maximum"):
        pipeline.process_item(_item("<p>正文</p>"))
    assert crawler.stats.get_stats() == {"newsarchive/dropped/clean_failed": 1}


def test_pipeline_drops_a_body_of_the_wrong_type_as_clean_failed() -> None:
    crawler = get_crawler()
    pipeline = CleanBodyPipeline.from_crawler(crawler)

    with pytest.raises(DropItem, match=r"^clean_failed: NW202204292366280343 \(TypeError"):
        pipeline.process_item(_item(b"<p>\xe6\xad\xa3\xe6\x96\x87</p>"))  # bytes from a buggy spider
    item = pipeline.process_item(_item('<p onclick="alert(1)">正文<script>alert(1)</script></p>'))
    assert (item.body_html, item.body_text) == ("<p>正文</p>", "正文")
    with pytest.raises(DropItem, match=r"^empty_body"):
        pipeline.process_item(_item("<p>（责任编辑：张三）</p><p>打开微信，</p>"))
    assert crawler.stats.get_stats() == {
        "newsarchive/dropped/clean_failed": 1,
        "newsarchive/dropped/empty_body": 1,
        "newsarchive/cleaned/script": 1,
        "newsarchive/cleaned/editor_line": 1,
        "newsarchive/cleaned/share_text": 1,
    }


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            [" ", "\t", "\n", "\r", "\x00", "\x1f", "\x7f", "\ufffe", "\u3000", "\xa0", "a", "新"]
        )
    )
)
def test_plain_text_fast_path_changes_nothing(text: str) -> None:
    # _plain skips its two substitutions when a scan finds nothing they would change
    assert _plain(text) == _SPACE_RUN.sub(" ", _CONTROL_CHARS.sub("", text))


# --- Deep nesting keeps its text (issue 13): libxml2 stopped at 256 levels, the body cleaned to nothing --
NESTED_TEXT = "开头\n正文内容在这里。\n第二段\n结尾"


def nested_body(depth: int) -> str:
    return (
        "<p>开头</p>"
        + "<div>" * depth
        + "<p>正文内容在这里。</p><p>第二段</p>"
        + "</div>" * depth
        + "<p>结尾</p>"
    )


@pytest.mark.parametrize("depth", [255, 256, 300, 1000, 2047, 2048, 5000])
def test_a_deeply_nested_body_keeps_its_text_and_lines(depth: int) -> None:
    assert clean_body(nested_body(depth), SEED_URL).text == NESTED_TEXT


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(("<div><span>", "</span></div>"), id="div-span"),
        pytest.param(("<span><div>", ""), id="unclosed-div-in-span"),  # </span> cannot close a div
        pytest.param(("<font><section><b>", "</b></section></font>"), id="font-section-bold"),
        pytest.param(("<ul><li>项", ""), id="unclosed-lists"),
        pytest.param(("<table><tr><td>格", ""), id="unclosed-tables"),
        pytest.param(("<blockquote>", ""), id="unclosed-quotes"),
    ],
)
def test_any_deep_nesting_keeps_the_text_after_it(shape: tuple[str, str]) -> None:
    opening, closing = shape
    body = "<p>开头</p>" + opening * 3000 + "<p>深处</p>" + closing * 3000 + "<p>结尾</p>"
    text = clean_body(body, SEED_URL).text
    assert text.startswith("开头\n") and text.endswith("深处\n结尾")


def test_deep_nesting_lets_no_script_or_image_through_the_cleaner() -> None:
    deep = (
        "<div>" * 3000
        + '<p>深处<script>alert(1)</script><img src="/a.png" onerror="x()"></p>'
        + "</div>" * 3000
    )
    cleaned = clean_body(f"<p>开头</p>{deep}", SEED_URL)
    assert cleaned.text == "开头\n深处"
    assert "alert" not in cleaned.html and "onerror" not in cleaned.html
    assert '<img src="https://finance.eastmoney.com/a.png">' in cleaned.html


def test_pipeline_keeps_a_deeply_nested_body() -> None:
    crawler = get_crawler()
    item = CleanBodyPipeline.from_crawler(crawler).process_item(_item(nested_body(300)))
    assert item.body_text == NESTED_TEXT
    assert "newsarchive/dropped/empty_body" not in crawler.stats.get_stats()
