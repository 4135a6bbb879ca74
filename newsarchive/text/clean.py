"""Clean East Money article bodies (the inner HTML of ``div#ContentBody``) into compact HTML and text.

Pure functions, no Scrapy and no I/O: what is boilerplate lives in newsarchive.text.boilerplate, and the
HTML always ends in newsarchive.text.sanitize's allowlist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from newsarchive.text.boilerplate import (
    BREAKOUT_TAGS,
    FOREIGN_TAGS,
    KLINE_BLOCK,
    TRAILING_NOTE,
    VOID_EMBEDS,
    drop_related_blocks,
    element_kind,
    line_kind,
)
from newsarchive.text.characters import CONTROLS_IN_TEXT, UNSAFE_IN_MARKUP
from newsarchive.text.nesting import deeper_than, parse_within_depth
from newsarchive.text.sanitize import sanitize_html

# --- Output shape -------------------------------------------------------------------------------
BOLD_TAGS = frozenset({"strong", "b"})
LIST_TAGS = frozenset({"ul", "ol"})
TABLE_SECTIONS = frozenset({"thead", "tbody", "tfoot"})  # a tfoot is kept as a tbody (not in the allowlist)
CELL_TAGS = frozenset({"th", "td"})
CELL_SPAN_ATTRIBUTES = ("colspan", "rowspan")
IMAGE_SCHEMES = frozenset({"http", "https", ""})  # "" = relative URL left as is when base_url is empty
# Longer image URLs are junk (data: URIs are refused anyway) and long alt texts are cut: this bounds the
# sanitizer's work, which is quadratic in the character references of one attribute (see sanitize.py).
MAX_IMAGE_URL = 2048
MAX_ALT = 300
# Elements that end the current paragraph; everything else not handled above is unwrapped.
BLOCK_TAGS = frozenset(
    {"html", "body", "p", "div", "center", "section", "article", "aside", "header", "footer", "main", "nav"}
    | {"blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "address", "hr"}
    | {"dl", "dt", "dd", "li", "ul", "ol", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption"}
    | {"form", "fieldset", "details", "summary"}
)

_CONTROL_CHARS = UNSAFE_IN_MARKUP
_SPACE_RUN = re.compile(r"[ \t\n\r]+")  # HTML collapsible whitespace; \xa0 and U+3000 are not
# What _plain changes: a control character (\t \n \r among them) or two spaces in a row.
_NOT_PLAIN = re.compile(f"[{CONTROLS_IN_TEXT}]|  ")
_LEADING_SPACE = re.compile(r"^[\s\u200b\ufeff]+")  # \s covers U+3000, \xa0, \u2002
_TRAILING_SPACE = re.compile(r"[\s\u200b\ufeff]+$")
# lxml.etree's HTML parser, the very parser lxml.html subclasses, without lxml.html's Python lookup
# of an element class for every element touched (a tenth of the time a body took to clean).
# huge_tree: libxml2 otherwise stops at 256 levels and drops the rest of the body (issue 13).
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
# The walker recurses once per level: a body nested deeper is flattened below this depth, its text kept.
MAX_BODY_DEPTH = 200
_TOO_DEEP = deeper_than(MAX_BODY_DEPTH)

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
    """Keep paragraphs, bold, lists, tables and images (absolute src), drop boilerplate, sanitize."""
    removed: set[str] = set()
    source, kline_blocks = KLINE_BLOCK.subn("", _CONTROL_CHARS.sub("", raw_html))
    if kline_blocks:
        removed.add("kline")
    body = _parse_body(source)
    blocks: list[tuple[str, str]] = []
    if body is not None:
        if drop_related_blocks(body):
            removed.add("related")
        walker = _Walker(base_url, removed)
        walker.node(body, flat=False)
        blocks = walker.blocks
    return CleanedBody(
        html=sanitize_html("".join(block_html for block_html, _ in blocks)),
        text="\n".join(block_text for _, block_text in blocks if block_text).strip(),
        removed=tuple(sorted(removed)),
    )


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment, one block per line, with the same rules as `clean_body`."""
    return clean_body(html, "").text


def _parse_body(source: str) -> Any | None:
    if not source.strip():
        return None
    document = parse_within_depth(source, _parse_document, _TOO_DEEP, MAX_BODY_DEPTH)
    return None if document is None else document.find("body")


def _parse_document(source: str) -> Any | None:
    try:
        return etree.fromstring(source.encode("utf-8", "replace"), _PARSER)
    except (etree.ParserError, etree.ParseError):  # "Document is empty": only comments or blanks
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
        if tag in FOREIGN_TAGS or tag in VOID_EMBEDS:
            self.removed.add("embed")
            self._foreign(element, flat, broken_out=tag in VOID_EMBEDS)
            return
        kind = element_kind(element, tag)
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

    def _foreign(self, element: Any, flat: bool, broken_out: bool) -> None:
        """Skip SVG or MathML content up to the first HTML breakout tag, then walk the rest as HTML."""
        if broken_out:
            self._text(element.text)
        for child in element:
            broken_out = broken_out or (isinstance(child.tag, str) and child.tag in BREAKOUT_TAGS)
            if broken_out:
                self.node(child, flat)
                self._text(child.tail)

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
        if not self.run:  # every block element flushes twice: most runs are empty
            return
        tokens, self.run = self._story(self.run), []
        if tokens:
            self.blocks.append((f"<p>{_render_html(tokens)}</p>", _render_text(tokens)))

    def _inline(self, element: Any) -> list[_Token]:
        """The content of a list item or table cell as one run of inline tokens."""
        walker = _Walker(self.base_url, self.removed)
        walker.node(element, flat=True)
        return self._story(walker.run)

    def _story(self, tokens: list[_Token]) -> list[_Token]:
        """Tidy a run and drop its boilerplate lines (a line is the whole run, or a part between <br>s)."""
        if all(kind == TEXT and (not value or value.isspace()) for kind, value in tokens):
            return []  # the blanks between two blocks (most runs): what _tidy makes of them, sooner
        tokens = _tidy(tokens)
        if len(tokens) == 1 and tokens[0][0] == TEXT:
            # One line of plain text (most paragraphs): what _drop_boilerplate_lines and the second
            # _tidy come to, in one step. The text is tidy: stripped, so it is its own line, and
            # tidying it again changes nothing. A trailing note takes the general way below.
            text = tokens[0][1]
            kind = line_kind(text)
            if kind is not None:
                self.removed.add(kind)
                return []
            if TRAILING_NOTE.search(text) is None:
                return tokens
        return _tidy(_drop_boilerplate_lines(tokens, self.removed)) if tokens else tokens

    def _image(self, element: Any) -> None:
        source = _CONTROL_CHARS.sub("", element.get("src") or "").strip()
        if len(source) > MAX_IMAGE_URL:
            return
        try:
            url = urljoin(self.base_url, source) if source else ""
            if not url or urlsplit(url).scheme.lower() not in IMAGE_SCHEMES:
                return
        except ValueError:  # e.g. an unbalanced "[" in the host
            return
        alt = element.get("alt")
        alt_attribute = "" if alt is None else f' alt="{escape(_plain(alt).strip()[:MAX_ALT].strip())}"'
        image = sanitize_html(f'<img src="{escape(url)}"{alt_attribute}>')
        if image.startswith('<img src="'):  # the sanitizer's URL check is the last word
            self.run.append((IMG, image))

    def _list(self, element: Any) -> None:
        items = [self._story([(TEXT, _plain(element.text or ""))])]  # stray text: an item of its own
        for child in element:
            items += [self._inline(child) if isinstance(child.tag, str) else []]
            items += [self._story([(TEXT, _plain(child.tail or ""))])]
        if items := [item for item in items if item]:
            html = "".join(f"<li>{_render_html(item)}</li>" for item in items)
            text = "\n".join(map(_render_text, items))
            self.blocks.append((f"<{element.tag}>{html}</{element.tag}>", text))

    def _table(self, element: Any) -> None:
        """Rebuild rows and cells; anything else (caption, stray text) is shown before the table.

        Rows outside a section go in a <tbody>, as an HTML5 parser (and so the sanitizer) would put them.
        """
        parts: list[str] = []
        bare_rows: list[str] = []
        lines: list[str] = []
        self._text(element.text)
        for child in element:
            if child.tag in TABLE_SECTIONS:
                parts.append(_section("tbody", bare_rows))
                bare_rows = []
                self._text(child.text)
                rows = [self._row(row, lines) for row in child]
                parts.append(_section("thead" if child.tag == "thead" else "tbody", rows))
            else:
                bare_rows.append(self._row(child, lines))
            self._text(child.tail)
        parts.append(_section("tbody", bare_rows))
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


def _section(tag: str, rows: list[str]) -> str:
    return f"<{tag}>{''.join(rows)}</{tag}>" if any(rows) else ""


def _drop_boilerplate_lines(tokens: list[_Token], removed: set[str]) -> list[_Token]:
    """Drop the text of every boilerplate line (keeping bold tags balanced) and trailing source notes."""
    lines: list[list[_Token]] = [[]]
    for token in tokens:
        if token == _BR_TOKEN:
            lines.append([])
        else:
            lines[-1].append(token)
    out: list[_Token] = []
    kept_any = False
    for line in lines:
        kind = line_kind(_render_text(line).strip())
        if kind is not None:
            removed.add(kind)
            out += [token for token in line if token[0] in (OPEN, CLOSE)]
            continue
        if kept_any:
            out.append(_BR_TOKEN)
        out += _drop_trailing_note(line, removed)
        kept_any = True
    return out


def _drop_trailing_note(line: list[_Token], removed: set[str]) -> list[_Token]:
    """Cut a bracketed （文章来源：X） or （责任编辑：X）, and what follows it, off the end of a line."""
    last = max((index for index, (kind, _) in enumerate(line) if kind == TEXT), default=None)
    if last is None or any(kind == IMG for kind, _ in line[last + 1 :]):
        return line
    text = line[last][1]
    match = TRAILING_NOTE.search(text)
    if match is None:
        return line
    kind = line_kind(text[match.start() :].strip())
    removed.add(kind or "source_line")
    return [*line[:last], (TEXT, text[: match.start()]), *line[last + 1 :]]


def _plain(text: str) -> str:
    if _NOT_PLAIN.search(text) is None:  # most text nodes: one scan instead of two substitutions
        return text
    return _SPACE_RUN.sub(" ", _CONTROL_CHARS.sub("", text))


def _tidy(tokens: list[_Token]) -> list[_Token]:
    """Merge and collapse text, strip blanks at both edges and beside <br>, drop empty bold pairs."""
    if all(kind == TEXT for kind, _ in tokens):
        # Plain text only (most paragraphs): what the loop below comes to, in one step (the loop
        # took a fifth of the time a saved page took to parse and clean, bench/parse_clean.py).
        text = _TRAILING_SPACE.sub(
            "", _LEADING_SPACE.sub("", _SPACE_RUN.sub(" ", "".join(v for _, v in tokens)))
        )
        return [(TEXT, text)] if text else []
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
