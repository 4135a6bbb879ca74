"""What counts as boilerplate in a news body: element rules, whole-line patterns and the 相关阅读 cut.

Sources: shared/reference/eastmoney.md §2.4–2.5 (East Money, both layouts) and sites.md §1.6 (证券日报网),
§2 (cnstock), §3.2 (stcn), §5 (新华网/news.cn) and §6.4 (head and tail paragraphs seen across sites).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lxml import etree

# --- Elements (tested on tag, class, style, href, src) -------------------------------------------
# The K-line chart sits between two CMS comments; cut it before parsing, comments carry no children.
KLINE_BLOCK = re.compile(r"<!--\s*EM_StockImg_Start\s*-->.*?<!--\s*EM_StockImg_End\s*-->", re.S | re.I)
KLINE_IMAGE_HOST = "webquoteklinepic.eastmoney.com"
AD_LINK_HOST = "acttg.eastmoney.com"
AD_CLASS_PREFIX = "ad_"  # div.ad_context3 and other in-body ad slots
# the <p style="display:none"><br></p> spacer; xinhua hides its 纠错 form and video stub the same way
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
BOILERPLATE_CLASSES: dict[str, str] = {
    "em_media": "source_line",  # eastmoney §2.4: p.em_media （文章来源：X）
    "res-edit": "editor_line",  # eastmoney §2.5: older layout p.res-edit 责任编辑：X
    "toplink": "promo",  # eastmoney §2.4: 全新妙想 top promo
    "EmImageRemark": "kline",
    "em_xuangu": "ad",
    "em_handle_adv_close": "ad",
    # eastmoney §2.4, page chrome that must never be taken for body text if it lands in #ContentBody
    "zwothers": "original_title",
    "sublab": "original_title",
    "sourcebox": "source_line",
    "xgxw": "related",
    "relateNews": "related",
    "sharebox": "share_text",
    "pinglunbox": "share_text",
    "zwctrls": "share_text",
    # sites.md §3.2 (stcn old page) and §5 (xinhua 2019 page)
    "shenming": "disclaimer",
    "fenxiang": "share_text",
    "tuijian": "related",
    "tadd": "share_text",
    "p-jc": "editor_line",
    "advise": "correction",
    "tiyi1": "correction",
}
# Classes also used for wrappers elsewhere: boilerplate only while the element's text is this short.
SHORT_TEXT_CLASSES: dict[str, str] = {
    "editor": "editor_line",  # news.cn .editor (sites.md §5)
    "zrbj": "editor_line",  # news.cn .zrbj
    "author": "byline",  # zqrb Era A span.author （编辑 张三） (sites.md §1.8)
}
SHORT_TEXT_LIMIT = 60
# Tags dropped with their content; "" means dropped without being reported in `removed`.
DROPPED_TAGS: dict[str, str] = {
    **dict.fromkeys(("script", "style", "noscript", "template"), "script"),
    **dict.fromkeys(("iframe", "object", "video", "audio", "canvas"), "embed"),  # <embed>: VOID_EMBEDS
    **dict.fromkeys(("head", "title", "meta", "link", "button", "input", "select", "textarea"), ""),
}

# HTML5 void elements libxml2 does not know: it nests what follows inside them, so only the tag goes.
VOID_EMBEDS = frozenset({"embed"})
# SVG and MathML are dropped, except what an HTML5 parser would lift out of them: from the first HTML
# "breakout" tag on (libxml2 leaves <svg/><p>story</p> nested; a browser shows the paragraph).
FOREIGN_TAGS = frozenset({"svg", "math"})
BREAKOUT_TAGS = frozenset(
    {"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed", "h1"}
    | {"h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol"}
    | {"p", "pre", "ruby", "s", "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u", "ul"}
    | {"var", "font"}
)


# lxml.html's HtmlElement.text_content() and drop_tree(), for the plain lxml.etree elements clean.py parses
_text_content = etree.XPath("string()", smart_strings=False)


def _drop_tree(element: Any) -> None:
    """Remove the element and its content; its tail joins the previous sibling's tail or the parent's text."""
    parent = element.getparent()
    assert parent is not None
    if element.tail:
        previous = element.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + element.tail
        else:
            previous.tail = (previous.tail or "") + element.tail
    parent.remove(element)


def element_kind(element: Any, tag: str) -> str | None:
    """The boilerplate kind of one element ("" = drop silently), or None to keep it."""
    if tag in DROPPED_TAGS:
        return DROPPED_TAGS[tag]
    style = element.get("style")
    if (style and HIDDEN_STYLE.search(style)) or element.get("hidden") is not None:
        return "spacer"
    for name in (element.get("class") or "").split():
        if name in BOILERPLATE_CLASSES:
            return BOILERPLATE_CLASSES[name]
        if name.startswith(AD_CLASS_PREFIX):
            return "ad"
        if name in SHORT_TEXT_CLASSES and len(_text_content(element).strip()) <= SHORT_TEXT_LIMIT:
            return SHORT_TEXT_CLASSES[name]
    if tag == "a" and AD_LINK_HOST in (element.get("href") or ""):
        return "ad"
    if tag == "img" and KLINE_IMAGE_HOST in (element.get("src") or ""):
        return "kline"
    return None


# --- Lines ---------------------------------------------------------------------------------------
# A line (a paragraph, or a <br>-separated part of one) is boilerplate when it is nothing but a run of
# the segments below, each optionally in brackets: "（文章来源：X）（责任编辑：Y）" or "【纠错】责任编辑：Z".
# Names are short and hold no sentence punctuation, so "据新华社消息，本次会议来源广泛" and "该书编辑部
# 表示" stay. Possessive quantifiers (*+, {m,n}+) keep matching linear on long or hostile lines.
RELATED_WORDS: tuple[str, ...] = ("相关阅读", "延伸阅读", "推荐阅读", "热点阅读", "相关新闻", "相关报道")
RELATED_WORDS += ("相关文章", "为你推荐")
_NAME = r"[^，。！？；（()）【】\[\]［］〔〕\n]{0,60}+"
_QUOTED = r"[“\"「『]?{}[”\"」』]?"
_PERSON = r"(?:[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,6}·[\u4e00-\u9fff]{1,8})"
_BYLINE = rf"本报(?:见习|特约)?记者\s*+{_PERSON}(?:[\s、，,]++(?:见习记者|实习生|通讯员)?\s*+{_PERSON})*+"
_SHARE_TAIL = r"(?:[，,]?\s*+(?:分享|关注|下载|阅读|进入|查看|加入)[^\n，。！]{0,20}+)?"
SEGMENTS: tuple[tuple[str, str], ...] = (
    # eastmoney §2.4 （文章来源：X）, 财富号 （来源：X的财富号 2019-01-23 05:31）; sites.md §6.4 tail list
    ("source_line", rf"(?:文章|本文|资料|素材|稿件|新闻|信息)?来源\s*+[：:]\s*+{_NAME}"),
    ("source_line", r"点击查看原文|(?:更新时间|发布时间)\s*+[：:]\s*+[\d\-/:：年月日 ]{6,25}+"),
    # eastmoney §2.3–2.5 （责任编辑：X）; sites.md §5 【责任编辑：X】, §1.8 （编辑 X）, §6.4 责编 主编
    ("editor_line", rf"(?:责任编辑|编辑)(?:\s*+[：:]|\s++){_NAME}"),
    ("editor_line", rf"(?:值班编辑|实习编辑|栏目主编|责编|主编|审核|校对)\s*+[：:]{_NAME}"),
    # sites.md §1.6 本报记者 周菊 (a byline, not a sentence: short names separated by spaces or 、)
    ("byline", _BYLINE),
    ("byline", rf"作者\s*+[：:]\s*+{_NAME}"),
    # eastmoney §2.4 郑重声明：东方财富发布此内容…; sites.md §3.2 声明：证券时报力求…, §6.4 新浪声明
    ("disclaimer", r"(?:郑重声明|免责声明|特别声明|风险声明|新浪声明)\s*+[：:].*+"),
    ("disclaimer", r"声明\s*+[：:].{0,300}?(?:投资建议|风险自担|仅供参考|不代表|立场|登载此文).*+"),
    ("disclaimer", r"东方财富Choice数据|东方财富发布此内容.*+"),
    # sites.md §2 相关阅读 (cnstock), §3.2 为你推荐, §5 阅读下一篇：; eastmoney §2.4 热点阅读
    ("related", "|".join(RELATED_WORDS)),
    ("related", r"(?:相关阅读|延伸阅读|推荐阅读|热点阅读|阅读下一篇)\s*+[：:].*+"),
    # eastmoney §2.4 the WeChat share text in all its forms; sites.md §5 分享到：
    ("share_text", r"打开微信|即可将网页分享(?:至|到)朋友圈|(?:分享|转发)(?:至|到)(?:微信)?朋友圈"),
    ("share_text", r"点击(?:底部|下方|右上角)?的?\s*+" + _QUOTED.format("发现")),
    ("share_text", r"使用\s*+" + _QUOTED.format("扫一扫")),
    ("share_text", rf"(?:用?微信)?扫一扫{_SHARE_TAIL}|扫描(?:下方|上方|文末)?二维码{_SHARE_TAIL}"),
    ("share_text", r"分享到\s*+[：:][^\n]{0,40}+"),
    # eastmoney §2.4 promos: 全新妙想投研助理，立即体验 / 在东方财富看资讯行情，选东方财富证券一站式开户交易>>
    ("promo", r"全新妙想[^\n。]{0,30}+|在东方财富看资讯行情[^\n。]{0,40}+"),
    # an account-opening call to action: "…开户…>>" or a bare "立即开户" ("开户数同比增长" stays)
    ("promo", r"[^\n。]{0,30}?开户[^\n。]{0,20}?(?:>>|＞＞|》》|→)|(?:立即|一键|马上|点击)开户"),
    ("promo", r"海量资讯、?精准解读[^\n。]{0,30}+|点击进入专题\s*+[：:][^\n]{0,60}+"),
    # sites.md §6.4 原标题：… / （原标题：…） / [原标题…]; §1.6 原文标题
    ("original_title", r"原文?标题(?:\s*+[：:]|\s++)[^\n]{1,200}+"),
    # sites.md §5 【纠错】 (xinhua)
    ("correction", r"(?:我要)?纠错"),
)
_OPEN = r"[（(【\[［〔]"
_CLOSE = r"[）)】\]］〕]"
_SEPARATOR = r"[\s，,。．.;；、|｜/>＞》!！]*+"
_SEGMENT = rf"(?:{_OPEN}\s*+)?(?:{'|'.join(pattern for _, pattern in SEGMENTS)})(?:\s*+{_CLOSE})?"
BOILERPLATE_LINE = re.compile(rf"(?:{_SEPARATOR}{_SEGMENT})++{_SEPARATOR}")
# The kind a boilerplate line is reported under: that of its first segment.
_LEADING: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"{_SEPARATOR}(?:{_OPEN}\s*+)?(?:{pattern})")) for kind, pattern in SEGMENTS
)
# An East Money source or editor note in brackets closing a line of story text (the wap page runs
# "（文章来源：财联社）郑重声明：…" on): everything from it to the end of the line goes.
TRAILING_NOTE = re.compile(
    rf"[（(]\s*+(?:文章来源|责任编辑)\s*+[：:][^（()）\n]{{0,60}}+[）)](?:{_SEPARATOR}{_SEGMENT})*+{_SEPARATOR}$"
)
MAX_LINE = 1000  # longer lines are story text whatever they start with; also bounds the regex work


@lru_cache(maxsize=4096)  # the same boilerplate lines (share text, source notes) close most articles
def line_kind(line: str) -> str | None:
    """The boilerplate kind of a whole line of text, or None when it is (or may be) story text."""
    if not line or len(line) > MAX_LINE or not BOILERPLATE_LINE.fullmatch(line):
        return None
    return next((kind for kind, pattern in _LEADING if pattern.match(line)), "boilerplate")


# --- 相关阅读: a heading followed by link lists (sites.md §2, cnstock) ------------------------------
RELATED_HEADING = re.compile(rf"[\s（(【\[［〔]*+(?:{'|'.join(RELATED_WORDS)})[\s）)】\]］〕：:]*+")
RELATED_TEXT_XPATH = " | ".join(f".//text()[contains(., '{word}')]" for word in RELATED_WORDS)
HEADING_BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "section"})
HEADING_BLOCK_TAGS |= {"center", "header", "aside", "nav", "blockquote", "table", "ul", "ol", "dl"}
_LIST_RESIDUE = re.compile(r"[\s\d\-:：/.·•|｜、，,()（）\[\]【】>》]+")
LINK_LIST_RESIDUE = 12  # characters outside links (once dates and separators are gone) a link row may have


def drop_related_blocks(body: Any) -> bool:
    """Cut each 相关阅读 heading and the link lists after it, up to the end of the body; True if any."""
    # Every text node is part of the body's text, so without a heading word in it the XPath below
    # finds nothing; it cost a tenth of the time a saved page took to parse and clean to learn that.
    whole_text = _text_content(body)
    if not any(word in whole_text for word in RELATED_WORDS):
        return False
    found = False
    for text in body.xpath(RELATED_TEXT_XPATH):
        block = text.getparent()
        if block is None:
            continue
        if text.is_tail:
            block = block.getparent()
        while block is not None and block is not body and block.tag not in HEADING_BLOCK_TAGS:
            block = block.getparent()
        if block is None or block is body or not _in_tree(block, body) or not _is_heading(block):
            continue
        found = True
        _cut_from(block, body)
    return found


def _in_tree(element: Any, body: Any) -> bool:
    return any(ancestor is body for ancestor in element.iterancestors())


def _is_heading(block: Any) -> bool:
    """The block is a 相关阅读 heading, alone or followed by its links ("相关阅读材料显示…" is not)."""
    text = _text_content(block)
    match = RELATED_HEADING.match(text)
    return match is not None and (not text[match.end() :].strip() or _is_link_list(block, skip=match.end()))


def _is_link_list(element: Any, skip: int = 0) -> bool:
    """Only links (plus dates, numbering, a short note) or blank; skips the `skip` heading characters."""
    if not isinstance(element.tag, str):
        return True  # a comment or processing instruction
    text = _text_content(element)[skip:]
    links = [_text_content(link) for link in element.iter("a")]
    for link_text in links:
        text = text.replace(link_text, "", 1)
    residue = _LIST_RESIDUE.sub("", text)
    if any(not any(a.tag == "a" for a in image.iterancestors()) for image in element.iter("img")):
        return False  # a picture that is not a link thumbnail is story content
    if not any(link_text.strip() for link_text in links):
        return not residue  # a blank spacer between link rows
    return len(residue) <= LINK_LIST_RESIDUE and "。" not in residue


def _cut_from(block: Any, body: Any) -> None:
    """Drop `block`, then following siblings while they are link lists, climbing while siblings run out."""
    current: Any = block
    while current is not None and current is not body:
        parent = current.getparent()
        siblings = [current, *current.itersiblings()] if current is block else list(current.itersiblings())
        for sibling in siblings:
            if sibling is not block and not _is_link_list(sibling):
                return
            tail_kept = bool(sibling.tail and _LIST_RESIDUE.sub("", sibling.tail))  # bare text: story
            if not tail_kept:
                sibling.tail = None
            _drop_tree(sibling)
            if tail_kept:
                return
        current = parent
