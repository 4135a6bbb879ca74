"""Clean East Money article bodies (the inner HTML of ``div#ContentBody``) into compact HTML and text.

Pure functions, no Scrapy and no I/O: boilerplate selectors and patterns are the constants below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

# --- Boilerplate (see shared/reference/eastmoney.md §2.4) -------------------------------------
# The K-line chart sits between two CMS comments; cut it before parsing, comments carry no children.
KLINE_BLOCK = re.compile(r"<!--\s*EM_StockImg_Start\s*-->.*?<!--\s*EM_StockImg_End\s*-->", re.S | re.I)
KLINE_IMAGE_HOST = "webquoteklinepic.eastmoney.com"
AD_LINK_HOST = "acttg.eastmoney.com"
AD_DIV_CLASS_PREFIX = "ad_"  # div.ad_context3 and other in-body ad slots
HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.I)  # the <p style="display:none"><br></p> spacer
BOILERPLATE_CLASSES: dict[str, str] = {
    "em_media": "source_line",
    "res-edit": "editor_line",
    "toplink": "promo",
    "EmImageRemark": "kline",
    "em_xuangu": "ad",
    "em_handle_adv_close": "ad",
}
# Tags dropped with their content; "" means dropped without being reported in `removed`.
DROPPED_TAGS: dict[str, str] = {
    **dict.fromkeys(("script", "style", "noscript", "template"), "script"),
    **dict.fromkeys(("iframe", "object", "embed", "video", "audio", "canvas", "svg"), "embed"),
    **dict.fromkeys(("head", "title", "meta", "link", "button", "input", "select", "textarea"), ""),
}
# Whole paragraphs (text after cleaning) that are boilerplate.
BOILERPLATE_LINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("source_line", re.compile(r"[（(]?\s*文章来源\s*[：:][^\n]{0,100}")),
    ("editor_line", re.compile(r"[（(]?\s*责任编辑\s*[：:][^\n]{0,100}")),
    (
        "share_text",
        re.compile(r"(\s*(打开微信|点击底部的.发现.|使用.扫一扫.|即可将网页分享至朋友圈)[，,。]?)+"),
    ),
    ("promo", re.compile(r"全新妙想投研助理，?立即体验|在东方财富看资讯行情.{0,20}开户交易\s*(>>|＞＞)?")),
)

# --- Output shape -------------------------------------------------------------------------------
BOLD_TAGS = frozenset({"strong", "b"})
LIST_TAGS = frozenset({"ul", "ol"})
TABLE_SECTIONS = frozenset({"thead", "tbody", "tfoot"})
CELL_TAGS = frozenset({"th", "td"})
CELL_SPAN_ATTRIBUTES = ("colspan", "rowspan")
IMAGE_SCHEMES = frozenset({"http", "https", ""})  # "" = relative URL left as is when base_url is empty
# Elements that end the current paragraph; everything else not handled above is unwrapped.
BLOCK_TAGS = frozenset(
    {"html", "body", "p", "div", "center", "section", "article", "aside", "header", "footer", "main", "nav"}
    | {"blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "address", "hr"}
    | {"dl", "dt", "dd", "li", "ul", "ol", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption"}
    | {"form", "fieldset", "details", "summary"}
)

_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SPACE_RUN = re.compile(r"[ \t\n\r]+")  # HTML collapsible whitespace; \xa0 and U+3000 are not
_LEADING_SPACE = re.compile(r"^[\s\u200b\ufeff]+")  # \s covers U+3000, \xa0, \u2002
_TRAILING_SPACE = re.compile(r"[\s\u200b\ufeff]+$")
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)

TEXT, BR, IMG, OPEN, CLOSE = "text", "br", "img", "open", "close"
_Token = tuple[str, str]  # (kind, value): text, <br>, rendered <img>, opening/closing bold tag
_BR_TOKEN: _Token = (BR, "")
_MARKUP = {BR: "<br>", IMG: "{}", OPEN: "<{}>", CLOSE: "</{}>"}


@dataclass(frozen=True)
class CleanedBody:
    """A cleaned article body."""

    html: str  # compact HTML: blocks joined with no whitespace between them
    text: str  # plain text: one block per line (a <br> also breaks the line)
    removed: tuple[str, ...]  # sorted names of the boilerplate kinds that were removed


def clean_body(raw_html: str, base_url: str) -> CleanedBody:
    """Keep paragraphs, bold, lists, tables and images (absolute src); drop East Money boilerplate."""
    removed: set[str] = set()
    source, kline_blocks = KLINE_BLOCK.subn("", _CONTROL_CHARS.sub("", raw_html))
    if kline_blocks:
        removed.add("kline")
    body = _parse_body(source)
    blocks: list[tuple[str, str]] = []
    if body is not None:
        walker = _Walker(base_url, removed)
        walker.node(body, flat=False)
        blocks = walker.blocks
    return CleanedBody(
        html="".join(block_html for block_html, _ in blocks),
        text="\n".join(block_text for _, block_text in blocks if block_text).strip(),
        removed=tuple(sorted(removed)),
    )


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment, one block per line, with the same rules as `clean_body`."""
    return clean_body(html, "").text


def _parse_body(source: str) -> Any | None:
    if not source.strip():
        return None
    try:
        document = lxml.html.document_fromstring(source.encode("utf-8", "replace"), parser=_PARSER)
    except (etree.ParserError, etree.ParseError):  # "Document is empty": only comments or blanks
        return None
    return document.find("body")


def _boilerplate_kind(element: Any, tag: str) -> str | None:
    if tag in DROPPED_TAGS:
        return DROPPED_TAGS[tag]
    style = element.get("style")
    if style and HIDDEN_STYLE.search(style):
        return "spacer"
    for name in (element.get("class") or "").split():
        if name in BOILERPLATE_CLASSES:
            return BOILERPLATE_CLASSES[name]
        if tag == "div" and name.startswith(AD_DIV_CLASS_PREFIX):
            return "ad"
    if tag == "a" and AD_LINK_HOST in (element.get("href") or ""):
        return "ad"
    if tag == "img" and KLINE_IMAGE_HOST in (element.get("src") or ""):
        return "kline"
    return None


class _Walker:
    """One pass over the parsed body: inline content collects in `run`, finished blocks in `blocks`."""

    def __init__(self, base_url: str, removed: set[str]) -> None:
        self.base_url = base_url
        self.removed = removed
        self.run: list[_Token] = []
        self.blocks: list[tuple[str, str]] = []  # (html, text)

    def node(self, element: Any, flat: bool) -> None:
        """Handle one element; `flat` (inside bold, li or a cell) turns block breaks into <br>."""
        tag = element.tag
        if not isinstance(tag, str):  # entities and the like; their tail is read by the caller
            return
        kind = _boilerplate_kind(element, tag)
        if kind is not None:
            if kind:
                self.removed.add(kind)
            return
        if tag == "br":
            self.run.append(_BR_TOKEN)
            return
        if tag == "img":
            self._image(element)
            return
        if not flat and (tag in LIST_TAGS or tag == "table"):
            self._flush()
            (self._table if tag == "table" else self._list)(element)
            return
        is_bold, is_block = tag in BOLD_TAGS, tag in BLOCK_TAGS
        if is_bold:
            self.run.append((OPEN, tag))
        elif is_block:
            self._break(flat)
        self._text(element.text)
        for child in element:  # a loop, not a helper, so each tree level costs one stack frame
            self.node(child, flat or is_bold)
            self._text(child.tail)
        if is_bold:
            self.run.append((CLOSE, tag))
        elif is_block:
            self._break(flat)

    def _text(self, text: str | None) -> None:
        if text:
            self.run.append((TEXT, _plain(text)))

    def _break(self, flat: bool) -> None:
        if not flat:
            self._flush()
            return
        last = next((token for token in reversed(self.run) if token[0] != TEXT or token[1].strip()), None)
        if last is not None and last != _BR_TOKEN:
            self.run.append(_BR_TOKEN)

    def _flush(self) -> None:
        tokens, self.run = _tidy(self.run), []
        if not tokens:
            return
        text = _render_text(tokens)
        for kind, pattern in BOILERPLATE_LINES:
            if pattern.fullmatch(text):
                self.removed.add(kind)
                return
        self.blocks.append((f"<p>{_render_html(tokens)}</p>", text))

    def _inline(self, element: Any) -> list[_Token]:
        """The content of a list item or table cell as one run of inline tokens."""
        walker = _Walker(self.base_url, self.removed)
        walker.node(element, flat=True)
        return _tidy(walker.run)

    def _image(self, element: Any) -> None:
        source = _CONTROL_CHARS.sub("", element.get("src") or "").strip()
        try:
            url = urljoin(self.base_url, source) if source else ""
            if not url or urlsplit(url).scheme.lower() not in IMAGE_SCHEMES:
                return
        except ValueError:  # e.g. an unbalanced "[" in the host
            return
        alt = element.get("alt")
        alt_attribute = "" if alt is None else f' alt="{escape(_CONTROL_CHARS.sub("", alt))}"'
        self.run.append((IMG, f'<img src="{escape(url)}"{alt_attribute}>'))

    def _list(self, element: Any) -> None:
        items = [_tidy([(TEXT, _plain(element.text or ""))])]  # stray text shows as an item of its own
        for child in element:
            items += [self._inline(child) if isinstance(child.tag, str) else []]
            items += [_tidy([(TEXT, _plain(child.tail or ""))])]
        if items := [item for item in items if item]:
            html = "".join(f"<li>{_render_html(item)}</li>" for item in items)
            text = "\n".join(map(_render_text, items))
            self.blocks.append((f"<{element.tag}>{html}</{element.tag}>", text))

    def _table(self, element: Any) -> None:
        """Rebuild rows and cells; anything else (caption, stray text) is shown before the table."""
        parts: list[str] = []
        lines: list[str] = []
        self._text(element.text)
        for child in element:
            if child.tag in TABLE_SECTIONS:
                self._text(child.text)
                if rows := "".join(self._row(row, lines) for row in child):
                    parts.append(f"<{child.tag}>{rows}</{child.tag}>")
            else:
                parts.append(self._row(child, lines))
            self._text(child.tail)
        self._flush()
        html = "".join(parts)
        if any(line.strip() for line in lines) or "<img" in html:  # text is escaped: "<img" is a tag
            self.blocks.append((f"<table>{html}</table>", "\n".join(lines).strip()))

    def _row(self, row: Any, lines: list[str]) -> str:
        if row.tag != "tr":
            self.node(row, flat=False)
            return ""
        cells: list[str] = []
        texts: list[str] = []
        self._text(row.text)
        for cell in row:
            if cell.tag in CELL_TAGS:
                tokens = self._inline(cell)
                spans = "".join(
                    f' {name}="{value}"'
                    for name in CELL_SPAN_ATTRIBUTES
                    if (value := (cell.get(name) or "").strip()).isascii() and value.isdigit()
                )
                cells.append(f"<{cell.tag}{spans}>{_render_html(tokens)}</{cell.tag}>")
                texts.append(_render_text(tokens))
            else:
                self.node(cell, flat=False)
            self._text(cell.tail)
        if not cells:
            return ""
        lines.append("\t".join(texts))
        return f"<tr>{''.join(cells)}</tr>"


def _plain(text: str) -> str:
    return _SPACE_RUN.sub(" ", _CONTROL_CHARS.sub("", text))


def _tidy(tokens: list[_Token]) -> list[_Token]:
    """Merge and collapse text, strip blanks at both edges and beside <br>, drop empty bold pairs."""
    while True:  # dropping an empty pair can join two texts: repeat until nothing changes
        tidied = _tidy_once(tokens)
        if tidied == tokens:
            return tidied
        tokens = tidied


def _tidy_once(tokens: list[_Token]) -> list[_Token]:
    out: list[_Token] = []
    for kind, value in _drop_empty_pairs([token for token in tokens if token != (TEXT, "")]):
        if kind == TEXT and out and out[-1][0] == TEXT:
            out[-1] = (TEXT, out[-1][1] + value)
        else:
            out.append((kind, value))
    for index, (kind, value) in enumerate(out):
        if kind == TEXT:  # a blank at the start or end of a line is not rendered
            value = _SPACE_RUN.sub(" ", value)
            value = value.lstrip(" ") if index and out[index - 1] == _BR_TOKEN else value
            value = value.rstrip(" ") if out[index + 1 : index + 2] == [_BR_TOKEN] else value
            out[index] = (TEXT, value)
    out = _strip_start(out, _LEADING_SPACE)
    out = _strip_start(out[::-1], _TRAILING_SPACE)[::-1]
    return _drop_empty_pairs([token for token in out if token != (TEXT, "")])


def _drop_empty_pairs(tokens: list[_Token]) -> list[_Token]:
    out: list[_Token] = []
    for kind, value in tokens:
        if kind == CLOSE and out and out[-1] == (OPEN, value):
            out.pop()
        else:
            out.append((kind, value))
    return out


def _strip_start(tokens: list[_Token], edge: re.Pattern[str]) -> list[_Token]:
    index = 0
    while index < len(tokens):
        kind, value = tokens[index]
        if kind in (OPEN, CLOSE):
            index += 1
            continue
        if kind == TEXT:
            value = edge.sub("", value)
            if value:
                tokens[index] = (TEXT, value)
                break
        elif kind == IMG:
            break
        del tokens[index]  # a <br> or a blank text at the edge
    return tokens


def _render_html(tokens: list[_Token]) -> str:
    return "".join(
        escape(value, quote=False) if kind == TEXT else _MARKUP[kind].format(value) for kind, value in tokens
    )


def _render_text(tokens: list[_Token]) -> str:
    return "".join(value if kind == TEXT else "\n" if kind == BR else "" for kind, value in tokens)
