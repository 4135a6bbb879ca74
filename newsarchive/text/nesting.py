"""Keep the text of HTML nested deeper than the parsers can take (issue 13).

libxml2 stops parsing at 256 levels of elements (2048 with ``huge_tree``) and drops everything after
that point, and the body cleaner walks a tree one Python call per level: a page wrapped in 300
``<div>``s cleaned to nothing, was dropped as ``empty_body`` and fetched again on every run.
:func:`parse_within_depth` parses as usual and, only for a tree too deep, parses again the HTML with
the tags below a depth dropped (:func:`limit_nesting`): every word stays, only deep structure goes.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from html.parser import HTMLParser
from typing import TypeVar

from lxml import etree

Tree = TypeVar("Tree")

VOID_TAGS = frozenset(
    {"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input"}
    | {"keygen", "link", "meta", "param", "source", "track", "wbr"}
)
# Their content is not HTML: without the tag it would become text (a script shown as a paragraph).
RAW_TEXT_TAGS = frozenset({"script", "style"})
# Parsers add a few levels of their own (html, body, an implied p): limits leave room for them.
_ROOM = 4 / 5
# libxml2's htmlEndPriority: an end tag never closes an open element of a higher priority (it is
# ignored instead), so </span> inside an open <div> leaves both open.
_END_PRIORITY = {"div": 150, "td": 160, "th": 160, "tr": 170, "thead": 180, "tbody": 180, "tfoot": 180}
_END_PRIORITY |= {"table": 190, "head": 200, "body": 200, "html": 220}
_DEFAULT_END_PRIORITY = 100
# Start tags that close the element open on top (the common cases of libxml2's htmlStartClose).
_BLOCKS = frozenset({"div", "ul", "ol", "dl", "table", "blockquote", "pre", "form", "hr", "p"})
_CLOSED_BY = {
    "li": frozenset({"li", "p"}),
    "dt": frozenset({"dt", "dd", "p"}),
    "dd": frozenset({"dt", "dd", "p"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "option": frozenset({"option"}),
    **{f"h{level}": frozenset({"p"}) for level in range(1, 7)},
    **{tag: frozenset({"p"}) for tag in _BLOCKS},
}
# A dropped tag of these becomes a <br>, so the lines of deep paragraphs, items and cells stay lines.
_LINE_BREAKING = _BLOCKS | {"li", "dt", "dd", "tr", "td", "th", "caption", "section", "article", "center"}
_LINE_BREAKING |= {"header", "footer", "main", "aside", "nav", "figure", "address", "h1", "h2", "h3"}
_LINE_BREAKING |= {"h4", "h5", "h6", "details", "summary", "fieldset"}
# Containers that mean nothing without attributes: past half the depth limit a bare one is dropped
# first, so that a chain of wrappers costs no tag a cleaner reads (a p, a classed ad block).
_BARE_WRAPPERS = frozenset({"div", "span", "font", "section", "article", "center", "main", "aside"})
_BARE_WRAPPERS |= {"header", "footer", "nav", "em", "i", "u", "small", "big", "a"}


def deeper_than(depth: int) -> etree.XPath:
    """An XPath that is true for a tree with an element more than ``depth`` levels down (counting
    the root as 1); it visits each element once, in C."""
    return etree.XPath(f"boolean({'/*' * (depth + 1)})")


def stopped_by_a_limit(parser: etree._BaseParser) -> bool:
    """Whether ``parser``'s last parse stopped at one of libxml2's limits (2048 levels with
    huge_tree) and so dropped the rest of the document; a cheaper test than an XPath that deep."""
    return bool(parser.error_log.filter_types([etree.ErrorTypes.ERR_RESOURCE_LIMIT]))


def parse_within_depth(
    html: str, parse: Callable[[str], Tree | None], too_deep: Callable[[Tree], bool], max_depth: int
) -> Tree | None:
    """``parse(html)``, or, when ``too_deep`` says the tree is, ``parse`` of ``html`` with the tags
    below about ``max_depth`` dropped (room is left for the levels the parser adds); should the
    parser still nest deeper than counted here, of ``html`` with every tag dropped but void and
    raw-text ones (all text, lines kept, no other structure)."""
    tree = parse(html)
    for limit in (int(max_depth * _ROOM), 0):
        if tree is None or not too_deep(tree):
            return tree
        tree = parse(limit_nesting(html, limit))
    return tree


def limit_nesting(html: str, max_depth: int) -> str:
    """``html`` with no element opened more than ``max_depth`` levels down: the start tags that would
    are dropped with their end tags (a dropped block becomes one <br>, so its lines stay lines), and
    every element left open is closed explicitly, so a parser nests exactly as counted here. Text
    (entities decoded and escaped again), comments, void elements and scripts are kept."""
    limiter = _DepthLimiter(max_depth)
    limiter.feed(html)
    limiter.close()
    return "".join(limiter.out)


class _DepthLimiter(HTMLParser):
    """Re-emits the markup it reads. ``open`` holds every open element, kept or dropped; ``depth``
    counts the kept ones, the depth the parser will see."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(convert_charrefs=True)
        self.max_depth = max_depth
        self.out: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, kept)
        self.depth = 0
        self.broke_line = False  # a <br> stands for the last dropped tags, and no text came since

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        markup = self.get_starttag_text() or ""
        if tag in VOID_TAGS:
            self.out.append(markup)
            return
        closes = _CLOSED_BY.get(tag, frozenset())
        while self.open and self.open[-1][0] in closes:
            self._close(len(self.open) - 1)
        bare = tag in _BARE_WRAPPERS and not attrs and 2 * self.depth >= self.max_depth
        kept = tag in RAW_TEXT_TAGS or (self.depth < self.max_depth and not bare)
        self.open.append((tag, kept))
        if kept:
            self.depth += 1
            self.out.append(markup)
        else:
            self._break_line(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")  # <x/> leaves nothing open

    def handle_endtag(self, tag: str) -> None:
        priority = _END_PRIORITY.get(tag, _DEFAULT_END_PRIORITY)
        for index in range(len(self.open) - 1, -1, -1):
            open_tag, _ = self.open[index]
            if open_tag == tag:
                self._close(index)
                return
            if _END_PRIORITY.get(open_tag, _DEFAULT_END_PRIORITY) > priority:
                return  # libxml2 ignores this end tag
        self.out.append(f"</{tag}>")  # nothing to close: as written (</p> and </br> mean something)

    def _close(self, index: int) -> None:
        """Close ``open[index]`` and everything opened inside it, innermost first."""
        for tag, kept in reversed(self.open[index:]):
            if kept:
                self.depth -= 1
                self.out.append(f"</{tag}>")
            else:
                self._break_line(tag)
        del self.open[index:]

    def _break_line(self, tag: str) -> None:
        if tag in _LINE_BREAKING and not self.broke_line:
            self.out.append("<br>")
            self.broke_line = True

    def handle_data(self, data: str) -> None:
        raw = bool(self.open) and self.open[-1][0] in RAW_TEXT_TAGS  # a script's text is not HTML
        self.out.append(data if raw else escape(data, quote=False))
        self.broke_line = self.broke_line and not data.strip()

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")
