"""Turn archived responses back into Articles with no network: route each response by URL to its
site's parser (newsarchive.pages.routes), merge listing rows with article pages by info_code (the
live spiders' own function, newsarchive.assemble.read_article), and join a long article's pages
(newsarchive.assemble.join_pages)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import cast

from newsarchive.archive.reader import DamagedRecord, DamageHandler, read_responses
from newsarchive.archive.warc import ArchivedResponse, ArchiveError
from newsarchive.assemble import INCOMPLETE_PAGES, ORPHAN_PAGE, PageRead, join_pages, read_article, read_page
from newsarchive.counts import Count, Reason
from newsarchive.ids import canonical_info_code
from newsarchive.items import Article
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ARTICLE, LISTING, ArticleParser, Route, route
from newsarchive.sites.adapter import register_declared_sites
from newsarchive.store.claims import FeedClaim, listing_claim
from newsarchive.text.encoding import decode_html

Counter = Callable[[str], None]
# code -> {file number -> (first listing row for it in that file, its feed)}
ListingIndex = dict[str, dict[int, tuple[ListingEntry, str]]]


def replay_articles(
    paths: Iterable[Path], count: Counter = lambda key: None, report: DamageHandler = lambda damage: None
) -> Iterator[Article]:
    """Articles from WARC files, merged with their listing rows as the live spiders merge them.

    Listing rows are indexed first (two passes), so memory holds the small listing metadata and
    never the article pages. A page pairs with a row from its own file first (the crawl that
    fetched it); an article also listed on the preferred feed moves to it by the same claim a live
    crawl makes (newsarchive.store.claims).
    One bad record costs only itself: a damaged stretch of a file is counted (``damaged_records``)
    and passed to ``report`` once, a response a parser fails on is counted, and the rest go on.
    """
    register_declared_sites()  # declared sites' URLs route to their data files' parsers
    files = list(paths)
    listings: ListingIndex = {}
    preferred: dict[str, FeedClaim] = {}  # code -> the preferred feed's claim on it

    def damaged(damage: DamagedRecord) -> None:
        count(Count.DAMAGED_RECORDS.short)
        report(damage)

    for number, path in enumerate(files):
        _index_listings(_responses(path, damaged), number, listings, preferred, count)
    for number, path in enumerate(files):
        responses = _responses(path, lambda damage: None)  # damage reported by the first pass
        yield from _file_articles(responses, number, listings, preferred, count)


def _file_articles(
    responses: Iterable[ArchivedResponse],
    number: int,
    listings: ListingIndex,
    preferred: dict[str, FeedClaim],
    count: Counter,
) -> Iterator[Article]:
    """The articles of file ``number``. A long article (``<code>.html``, ``<code>_2.html`` …) is
    joined from its pages in this file, as the crawl that wrote it fetched them all into it: it
    comes out when its last page is read, in whatever order the pages come. Memory holds only the
    long articles whose pages are not all read yet; at the end of the file one still missing a page
    is dropped (``dropped/incomplete_pages``, as the crawl dropped it) and a page without its first
    page is no article (``skipped/orphan_page``)."""
    waiting: dict[str, tuple[Article, int]] = {}  # info code -> page 1's article, its page count
    parts: dict[str, dict[int, ArticlePage]] = {}  # info code -> page number -> that page
    unreadable: set[str] = set()  # long articles dropped already, by the reason a page of theirs gave
    for response in responses:
        found = route(response.url)
        if found is None or found.kind != ARTICLE:
            continue
        key = found.info_code or ""
        if found.page > 1:
            continuation = _continuation(response, found, count)
            if continuation is None:  # a cut or non-200 record: the article ends incomplete
                continue
            if continuation.page is None:  # counted by its reason, once, as the crawl counts it
                unreadable.add(key)
                continue
            parts.setdefault(key, {})[found.page] = continuation.page
        else:
            read = _article(response, found, number, listings, preferred, count)
            if read is None:
                continue
            article, pages = read
            if pages == 1:
                yield article
                continue
            waiting[key] = (article, pages)
        if key in waiting:
            article, pages = waiting[key]
            have = parts.get(key, {})
            if all(page in have for page in range(2, pages + 1)):
                del waiting[key]
                parts.pop(key, None)
                yield join_pages(article, [have[page] for page in range(2, pages + 1)])
    for key in waiting:
        if key not in unreadable:
            count(INCOMPLETE_PAGES)
    for key, pages_read in parts.items():
        if key not in waiting:
            for _ in pages_read:
                count(ORPHAN_PAGE)


def _continuation(response: ArchivedResponse, found: Route, count: Counter) -> PageRead | None:
    """A page a long article continues on, read (a page that cannot complete its article: its
    reason counted), or None for a record that is not whole or not a 200 (counted as skipped)."""
    count(Count.CONTINUATION_PAGES.short)
    if not _usable(response, count):
        return None
    read = read_page(
        response.body, response.header("Content-Type"), response.url, cast(ArticleParser, found.parse)
    )
    if read.reason is not None:
        count(read.reason)
    return read


def _usable(response: ArchivedResponse, count: Counter) -> bool:
    """Whether an article page's record is whole and a 200 (else it is counted as skipped)."""
    if not response.complete:
        count("skipped/truncated_record")
        return False
    if response.status != 200:
        count(f"skipped/http_{response.status}")
        return False
    return True


def _responses(path: Path, on_damage: DamageHandler) -> Iterator[ArchivedResponse]:
    try:
        yield from read_responses(path, on_damage)
    except ArchiveError as error:  # checked by the command, then deleted or replaced: that file only
        on_damage(DamagedRecord(path, 0, str(error)))


def _article(
    response: ArchivedResponse,
    found: Route,
    number: int,
    listings: ListingIndex,
    preferred: dict[str, FeedClaim],
    count: Counter,
) -> tuple[Article, int] | None:
    """The article in one archived article page of file ``number`` and how many pages it has (more
    than 1: a long article, its first page only), or None (counted) if it has none."""
    count(Count.ARTICLE_PAGES.short)
    if not _usable(response, count):
        return None
    key = found.info_code or ""
    rows = listings.get(key, {})
    entry, feed = rows.get(number) or next(iter(rows.values()), (None, found.feed))
    read = read_article(
        response.body,
        response.header("Content-Type"),
        response.url,
        cast(ArticleParser, found.parse),  # an ARTICLE route's parser
        feed=feed,
        entry=entry,
        fetched_at=response.fetched_at,
    )
    # A parser bug costs that article only (issue 13). Charset quirks are the crawl's to count:
    # a reparse re-reads what was archived and reports what the archive holds.
    if read.reason is not None:
        count(read.reason)
    article = read.article
    if article is None:
        return None
    if (claim := preferred.get(key)) is not None:
        claim.apply_to(article)
    return article, read.pages


def _index_listings(
    responses: Iterable[ArchivedResponse],
    number: int,
    listings: ListingIndex,
    preferred: dict[str, FeedClaim],
    count: Counter,
) -> None:
    for response in responses:
        found = route(response.url)
        if found is None or found.kind != LISTING or response.status != 200:
            continue
        if not response.complete:
            count("skipped/truncated_record")
            continue
        feed = found.feed
        try:
            listing = found.parse(_decode(response), response.url)
        except PageError as error:
            count(f"listing_error/{error.reason}")
            continue
        except Exception:  # a parser bug on one listing: its rows only, never the reparse (issue 13)
            count(f"listing_error/{Reason.PARSER_ERROR}")
            continue
        if not isinstance(listing, ListingPage):
            continue
        count("listing_pages")
        for entry in listing.entries:
            try:
                key = canonical_info_code(entry.code)
            except ValueError:
                continue
            listings.setdefault(key, {}).setdefault(number, (entry, feed))
            if key not in preferred and (claim := listing_claim(key, feed, entry.summary)) is not None:
                preferred[key] = claim


def _decode(response: ArchivedResponse) -> str:
    # The same decoding as the live spiders, so a reparse sees exactly the text the crawl saw.
    return decode_html(response.body, response.header("Content-Type"))
