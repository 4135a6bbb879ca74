"""Shapes of the sample site's files: article pages in the current layout (like the seed page) and the
older ≈2016–2021 layout, and the JSON rows of the column and 7x24 lists (reference eastmoney.md §1–2).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

SITE_SUFFIX = "_东方财富网"
SPACER = '<p style="display:none;height:1px;overflow:hidden;"><br /></p>'
TOPLINK = (
    '<p>　　<a class="toplink" target="_blank" href="https://ai.eastmoney.com/chat">'
    "全新妙想投研助理，立即体验</a></p>"
)
AD_SLOT = '<div class="ad_context3"><script type="text/javascript">var emad = 1;</script><p>广告</p></div>'
WECHAT_SHARE = "<p>打开微信，</p><p>点击底部的“发现”，</p><p>使用“扫一扫”</p><p>即可将网页分享至朋友圈。</p>"
DISCLAIMER = (
    "郑重声明：东方财富发布此内容旨在传播更多信息，与本站立场无关，不构成投资建议。据此操作，风险自担。"
)
# Third field of data-code per market, as in the real K-line blocks (1 = SH, 106 = US seen; 0 = SZ inferred).
_KLINE_KIND = {"1": "1", "0": "2", "106": "7", "105": "7", "116": "3"}


@dataclass(frozen=True)
class PageData:
    """Everything a page template needs; ``body_lines`` are finished HTML lines of the story text."""

    code: str
    title: str
    published: str  # "YYYY年MM月DD日 HH:MM"
    media: str
    author: str | None
    editor: str
    summary: str
    body_lines: tuple[str, ...]
    em_media_html: str
    stock: str | None  # "<market>.<code>" for the K-line block, or None
    ad_after: int | None  # insert the ad slot after this many body lines, or None
    rank: tuple[tuple[str, str], ...]  # (code, title) for the click-rank box
    # A long article continues on <code>_2.html …: which page this is, of how many. Each page holds
    # its share of body_lines; the first has the K-line block and ad slot, the last the em_media line.
    page_number: int = 1
    page_count: int = 1


def text(value: str) -> str:
    """Escape a text node."""
    return escape(value, quote=False)


def attr(value: str) -> str:
    """Escape an attribute value."""
    return escape(value, quote=True)


def chrome_tail(editor: str) -> list[str]:
    """The WeChat share text and the 责任编辑 line, as page chrome after the body: real #ContentBody
    bodies end at the em_media line (../shared/real/eastmoney, eastmoney.md §6). Their containers
    (div.share, div.editor) are named in consumers' end markers (§2.4); their exact markup is INFERRED."""
    return [
        f'  <div class="share">{WECHAT_SHARE}</div>',
        f'  <div class="editor">（责任编辑：{text(editor)}）</div>',
    ]


def em_media_line(media: str) -> str:
    return f'<p class="em_media">（文章来源：{text(media)}）</p>'


def stock_link(market_code: str, name: str) -> str:
    """The CMS auto-link around a stock name: a keytip anchor plus an empty quote span."""
    market, code = market_code.split(".", 1)
    return (
        f'<span id="stock_{market_code}"><a href="http://quote.eastmoney.com/unify/r/{market_code}" '
        f'class="keytip" data-code="{market},{code}">{text(name)}</a></span>'
        f'<span id="quote_{market_code}"></span>'
    )


def kline_block(market_code: str) -> str:
    """The K-line chart block the CMS puts at the top of a story about one stock."""
    market, code = market_code.split(".", 1)
    kind = _KLINE_KIND.get(market, "1")
    picture = (
        f"https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={market_code}"
        "&imageType=k&token=28dfeb41d35cc81d84b4664d7c23c49f&at=1"
    )
    return (
        '<!-- EM_StockImg_Start --><p style="text-align:center;">'
        f'<a href="http://quote.eastmoney.com/unify/r/{market_code}" data-code="{code}|{market}|{kind}" '
        f'data-code2="{code}|{market}|3|" class="EmImageRemark" target="_blank">'
        f'<img src="{picture}" border="0" alt="K图 {code}_0" data-code="K {code}|{market}|{kind}" '
        f'data-code2="K {code}|{market}|3|" style="border:#d1d1d1 1px solid;" width="578" height="276" />'
        "</a></p><!-- EM_StockImg_End -->"
    )


def page_file(code: str, number: int) -> str:
    """The file (and URL path) name of page ``number`` of an article: ``<code>.html``, ``<code>_2.html`` …"""
    return f"{code}.html" if number == 1 else f"{code}_{number}.html"


def pager(page: PageData) -> list[str]:
    """The pager of a long article, on every one of its pages: a link to each other page and to the
    next one. The real pages continue on <code>_N.html and their first page links every page
    (eastmoney.md §2.1, a connector's notes); the container and its class are INFERRED."""
    if page.page_count == 1:
        return []
    links = [
        f'<a class="cur">{number}</a>'
        if number == page.page_number
        else f'<a href="/a/{page_file(page.code, number)}">{number}</a>'
        for number in range(1, page.page_count + 1)
    ]
    if page.page_number < page.page_count:
        links.append(f'<a class="next" href="/a/{page_file(page.code, page.page_number + 1)}">下一页</a>')
    return [f'  <div class="pagerbox">{"".join(links)}</div>']


def _story(page: PageData) -> list[str]:
    lines = list(page.body_lines)
    if page.page_number > 1:
        return lines
    if page.ad_after is not None:
        lines.insert(min(page.ad_after, len(lines)), AD_SLOT)
    if page.stock:
        lines.insert(0, kline_block(page.stock))
    return lines


def _em_media(page: PageData) -> list[str]:
    return [page.em_media_html] if page.page_number == page.page_count else []


def _rank_box(page: PageData) -> list[str]:
    link = ' <li><span class="no">{}</span> <a target="_blank" href="/a/{}.html">{}</a></li>'
    items = [
        link.format(number, code, text(title)) for number, (code, title) in enumerate(page.rank, start=1)
    ]
    return [
        '<div class="Wydj clearfix"><div class="tabList"><ul class="h28 fn">',
        *items,
        "</ul></div></div>",
    ]


def render_current(page: PageData) -> str:
    """Current layout: title in <title> and div.title, header items in .tipbox .infos, body in .txtinfos
    ending at its em_media line (the 责任编辑 line and share text follow in the chrome)."""
    infos = [
        f'     <div class=" item">{page.published}</div>',
        f'     <div class="item">来源：{text(page.media)}</div>',
    ]
    if page.author:
        infos.append(f'     <div class="item">作者：{text(page.author)}</div>')
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{text(page.title)}{SITE_SUFFIX}</title>",
        '<meta name="keywords" content="">',
        f'<meta name="description" content="{attr(page.summary)}">',
        f'<script type="text/javascript">var articleCode = "{page.code}";</script>',
        "</head>",
        "<body>",
        '<div class="mainleft">',
        ' <div class="contentwrap">',
        f'  <div class="title">{text(page.title)}</div>',
        '  <div class="tipbox">',
        '    <div class="infos">',
        *infos,
        "    </div>",
        "  </div>",
        '  <div class="txtinfos" id="ContentBody" style="margin-top:0;"><!--文章主体-->',
        SPACER,
        TOPLINK,
        *_story(page),
        *_em_media(page),
        "  </div>",
        *pager(page),
        f'  <div class="zwothers"><span>原标题：{text(page.title)}</span></div>',
        f'  <div class="sourcebox"><span>文章来源：{text(page.media)}</span></div>',
        f'  <div class="sm">{DISCLAIMER}</div>',
        *chrome_tail(page.editor),
        " </div>",
        "</div>",
        *_rank_box(page),
        "</body>",
        "</html>",
    ]
    return "\n".join(lines)


def render_older(page: PageData) -> str:
    """Older layout: div.newsContent > h1, div.time-source, div.b-review, div#ContentBody.Body, p.res-edit."""
    source = [
        f'     <div class="time">{page.published}</div>',
        f'     <div class="source data-source" data-source="{attr(page.media)}">'
        f"<span>来源：</span>{text(page.media)}</div>",
    ]
    if page.author:
        source.append(f'     <div class="author">作者：{text(page.author)}</div>')
    lines = [
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml">',
        "<head>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
        f"<title>{text(page.title)}{SITE_SUFFIX}</title>",
        '<meta name="keywords" content="">',
        f'<meta name="description" content="{attr(page.summary)}">',
        "</head>",
        "<body>",
        '<div class="main">',
        ' <div class="left">',
        '  <div class="newsContent">',
        f"   <h1>{text(page.title)}</h1>",
        '   <div class="Info">',
        '    <div class="time-source">',
        *source,
        "    </div>",
        "   </div>",
        f'   <div class="b-review">{text(page.summary)}</div>',
        '   <div id="ContentBody" class="Body">',
        SPACER,
        *_story(page),
        page.em_media_html,
        "   </div>",
        f'   <p class="res-edit">责任编辑：{page.editor}</p>',
        "  </div>",
        " </div>",
        "</div>",
        *_rank_box(page),
        "</body>",
        "</html>",
    ]
    return "\n".join(lines)


def column_row(
    code: str, show_time: str, title: str, media: str, summary: str, *, column: str
) -> dict[str, Any]:
    """A ``getNewsByColumns`` row of an editorial (CMS) article, keys in the real order."""
    return {
        "code": code,
        "np_dst": "CMS",
        "showTime": show_time,
        "title": title,
        "mediaName": media,
        "summary": summary,
        "image": "",
        "url": f"http://finance.eastmoney.com/news/{column},{code}.html",
        "uniqueUrl": f"http://finance.eastmoney.com/a/{code}.html",
    }


def cfh_row(code: str, show_time: str, title: str, summary: str) -> dict[str, Any]:
    """A 财富号 row: links to caifuhao, empty uniqueUrl, no /a/ page."""
    return {
        "code": code,
        "np_dst": "CFH",
        "showTime": show_time,
        "title": title,
        "mediaName": "东方财富网",
        "summary": summary,
        "image": "",
        "url": f"http://caifuhao.eastmoney.com/news/{code}",
        "uniqueUrl": "",
    }


def fast_row(
    code: str, show_time: str, title: str, summary: str, real_sort: str, stocks: list[str]
) -> dict[str, Any]:
    """A ``getFastNewsList`` row, keys in the real order."""
    return {
        "summary": summary,
        "code": code,
        "titleColor": 0,
        "realSort": real_sort,
        "showTime": show_time,
        "title": title,
        "stockList": stocks,
        "image": [],
    }
