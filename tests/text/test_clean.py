"""Tests for newsarchive.text.clean: the seed article, the synthetic layout, the real corpus, rules, junk."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from newsarchive.text.clean import CleanedBody, clean_body, html_to_text

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "fixtures" / "eastmoney"
CORPUS = SHARED / "corpus" / "finews"
SEED_POST = SHARED / "reference" / "000_ec9bf5bae55da0f9.txt"
SEED_PAGE = FIXTURES / "article_202204292366280343.html"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
SEED_MEDIA_LINE = '<p class="em_media">（文章来源：证券日报网）</p>'
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
        "<p>甲</p><p>表1</p><p>乙丙</p><table><tr><td>1</td></tr></table><ul><li>散</li><li>项</li></ul>",
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


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    pass
else:
    TAG_PIECES = [
        f"<{name}>" for name in ("p", "/p", "div", "/div", "strong", "/strong", "b", "br", "center")
    ]
    TAG_PIECES += [
        f"<{name}>" for name in ("ul", "li", "/ul", "table", "tr", "td", "/table", "span", "/span")
    ]
    TAG_PIECES += ["</a>", "<script>", "</script>", "<!--", "-->"]
    MARKUP_PIECES = [
        "<img src='x.jpg'>",
        "<img src='//h/y.png' alt='a\"b'>",
        "<a href='//acttg.eastmoney.com/x'>",
        "<a class='keytip'>",
        "<span class='em_media'>",
        "<td colspan=2>",
        "<p style='display:none'>",
        "<!-- EM_StockImg_Start -->",
        "<!-- EM_StockImg_End -->",
    ]
    TEXT_PIECES = ["&amp;", "&nbsp;", "&lt;", "　", "\xa0", "\u2002", " ", "\n", "A&B", "文字", "）"]
    BOILERPLATE_PIECES = ["（文章来源：", "责任编辑：", "打开微信，"]
    HTML_PIECES = st.sampled_from(TAG_PIECES + MARKUP_PIECES + TEXT_PIECES + BOILERPLATE_PIECES)
    HTML_ISH = st.lists(st.one_of(HTML_PIECES, st.text(max_size=6)), max_size=40).map("".join)

    @settings(max_examples=200, deadline=None, database=None)
    @given(raw=st.one_of(HTML_ISH, st.text(max_size=200)))
    def test_property_idempotent_and_never_raises(raw: str) -> None:
        cleaned = clean_body(raw, BASE)

        assert clean_body(cleaned.html, BASE).html == cleaned.html
        assert cleaned.text == cleaned.text.strip()
        assert "<a" not in cleaned.html and "<span" not in cleaned.html
