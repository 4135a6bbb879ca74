"""One article page in, one Article out: decode the body, parse it with its site's parser, and merge
it with its listing row. Used alike by the live spiders and by reparse (newsarchive.archive.replay),
so a reparse reads exactly what the crawl read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from newsarchive.counts import Prefix, Reason
from newsarchive.ids import canonical_info_code, canonical_url, code_from_url, info_code_or_none
from newsarchive.items import GENERIC_EXTRACTION, Article
from newsarchive.pages.model import ArticlePage, ListingEntry
from newsarchive.pages.routes import ArticleParser
from newsarchive.text.encoding import decode_noting_charset
from newsarchive.window import DateWindow, Place


@dataclass(frozen=True)
class ArticleRead:
    """What :func:`read_article` made of one response: the ``article``, or the ``reason`` there is
    none (a name of newsarchive.counts, ``dropped/parser_error``, for the caller to count);
    ``error``: the parser's exception in one line, for a log line; ``quirk``: what was odd about the
    body's charset (newsarchive.text.encoding), if anything (the caller counts it as
    ``quirk/<quirk>`` if it counts quirks)."""

    article: Article | None = None
    reason: str | None = None
    error: str | None = None
    quirk: str | None = None
    # How many pages the article has (its pager): more than 1, and ``article`` holds page 1 only,
    # to be completed by join_pages with pages 2… read by read_page; never stored as it is.
    pages: int = 1


@dataclass(frozen=True)
class PageRead:
    """What :func:`read_page` made of a page a long article continues on: the ``page``, or the
    ``reason`` (a stats key) the article cannot be completed; ``error`` and ``quirk`` as in
    :class:`ArticleRead`."""

    page: ArticlePage | None = None
    reason: str | None = None
    error: str | None = None
    quirk: str | None = None


# A long article one of whose pages could not be read is not stored (never half an article): a
# dropped reason, so it is fetched again next run.
INCOMPLETE_PAGES = Prefix.DROPPED.reason_name(Reason.INCOMPLETE_PAGES)
# A page a long article continues on, found without the article's first page (reparse): no article.
ORPHAN_PAGE = Prefix.SKIPPED.reason_name(Reason.ORPHAN_PAGE)


def read_article(
    body: bytes,
    content_type: str | None,
    url: str,
    parse: ArticleParser,
    *,
    feed: str,
    entry: ListingEntry | None,
    fetched_at: datetime,
    window: DateWindow | None = None,
) -> ArticleRead:
    """The article in a response ``body`` (with its ``Content-Type`` header) read from ``url``.

    A parser exception (a bug on input nobody foresaw) costs this page only: reason
    ``dropped/parser_error`` (issue 13). With ``window`` (a backfill row listed without a time), the
    page's own date decides: outside the window it is ``skipped/before_since`` or
    ``skipped/after_until``. No article code anywhere is ``skipped/bad_code``."""
    text, quirk = decode_noting_charset(body, content_type)
    try:
        page = parse(text, url)
        if not isinstance(page, ArticlePage):
            raise TypeError(f"the article parser returned {type(page).__name__}, not an ArticlePage")
        if window is not None:
            place = window.place(page.published_raw, now=fetched_at)
            if place in (Place.BEFORE, Place.AFTER):
                return ArticleRead(reason=Prefix.SKIPPED.reason_name(place.value), quirk=quirk)
        article = assemble_article(page, url, feed=feed, entry=entry, fetched_at=fetched_at)
    except Exception as error:  # a parser bug on one odd page: dropped (fetched again next run)
        reason = Prefix.DROPPED.reason_name(Reason.PARSER_ERROR)
        return ArticleRead(reason=reason, error=one_line(error), quirk=quirk)
    if article is None:
        return ArticleRead(reason=Prefix.SKIPPED.reason_name(Reason.BAD_CODE), quirk=quirk)
    # A first page without a body is no article whatever its pager says (the validation drops it as
    # no_body, as it drops a one-page article): its other pages are not worth fetching.
    return ArticleRead(article=article, quirk=quirk, pages=page.pages if page.body_html is not None else 1)


def read_page(
    body: bytes,
    content_type: str | None,
    url: str,
    parse: ArticleParser,
    *,
    expected: tuple[str, int] | None = None,
) -> PageRead:
    """A page a long article continues on (``url``: the URL it was read from, e.g. ``<code>_2.html``),
    read as :func:`read_article` reads the first: decoded, parsed. A page without a body, or one the
    parser fails on, leaves the article incomplete (``dropped/incomplete_pages``,
    ``dropped/parser_error``); so does, with ``expected`` (the article's info code and the page
    number asked for), a response that turns out to be another page (a redirect to page 1, or to
    another article), which would otherwise be joined into the article."""
    text, quirk = decode_noting_charset(body, content_type)
    try:
        page = parse(text, url)
        if not isinstance(page, ArticlePage):
            raise TypeError(f"the article parser returned {type(page).__name__}, not an ArticlePage")
    except Exception as error:  # a parser bug on one odd page: its article is dropped
        return PageRead(
            reason=Prefix.DROPPED.reason_name(Reason.PARSER_ERROR), error=one_line(error), quirk=quirk
        )
    if page.body_html is None:
        return PageRead(reason=INCOMPLETE_PAGES, error=f"{url}: no article body", quirk=quirk)
    if expected is not None and (info_code_or_none(page.code), page.page) != expected:
        info_code, number = expected
        elsewhere = f"{url}: not page {number} of {info_code}"
        return PageRead(reason=INCOMPLETE_PAGES, error=elsewhere, quirk=quirk)
    return PageRead(page=page, quirk=quirk)


def join_pages(article: Article, pages: Sequence[ArticlePage]) -> Article:
    """The long ``article`` (read from its first page) with the bodies of the ``pages`` it continues
    on appended in order. The media is the first page's, or else the one a later page names (the
    body's （文章来源：…） line is on the last page)."""
    media = article.media or next((page.media for page in reversed(pages) if page.media), None)
    body = "".join([article.body_html or "", *(page.body_html or "" for page in pages)])
    return replace(article, body_html=body, media=media)


def assemble_article(
    page: ArticlePage,
    url: str,
    *,
    feed: str,
    entry: ListingEntry | None,
    fetched_at: datetime,
) -> Article | None:
    """One item per article: listing fields win where both exist (the list has the seconds and the
    editorial summary), the page fills the rest. None when no article code can be found at all."""
    code = (entry.code if entry else None) or page.code or code_from_url(url)
    try:
        info_code = canonical_info_code(code or "")
    except ValueError:
        return None
    return Article(
        info_code=info_code,
        url=canonical_url(info_code, url),
        feed=feed,
        title=_first(entry.title if entry else None, page.title),
        published_raw=_first(entry.show_time if entry else None, page.published_raw),
        media=_first(entry.media if entry else None, page.media),
        summary=_first(entry.summary if entry else None, page.summary),
        author=page.author,
        body_html=page.body_html,
        fetched_at=fetched_at,
        section=page.section,
        extraction=GENERIC_EXTRACTION if page.layout == GENERIC_EXTRACTION else None,
    )


def one_line(error: BaseException) -> str:
    """An exception as one short log line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__


def _first(*values: str | None) -> str | None:
    return next((value for value in values if value), None)
