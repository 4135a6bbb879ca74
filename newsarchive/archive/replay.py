"""Turn archived responses back into Articles with no network: route each response by URL to its
site's parser (newsarchive.pages.routes), and merge listing rows with article pages by info_code
(same logic as the live spiders)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from newsarchive.archive.reader import DamagedRecord, DamageHandler, read_responses
from newsarchive.archive.warc import ArchivedResponse, ArchiveError
from newsarchive.assemble import assemble_article
from newsarchive.counts import Count, Reason
from newsarchive.ids import canonical_info_code
from newsarchive.items import PREFERRED_FEED, Article
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ARTICLE, LISTING, route
from newsarchive.sites.adapter import register_declared_sites
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
    fetched it); an article also listed on the preferred feed moves to it, as a live FeedClaim does.
    One bad record costs only itself: a damaged stretch of a file is counted (``damaged_records``)
    and passed to ``report`` once, a response a parser fails on is counted, and the rest go on.
    """
    register_declared_sites()  # declared sites' URLs route to their data files' parsers
    files = list(paths)
    listings: ListingIndex = {}
    preferred: dict[str, str | None] = {}  # code -> digest on the preferred feed's listing

    def damaged(damage: DamagedRecord) -> None:
        count(Count.DAMAGED_RECORDS.short)
        report(damage)

    for number, path in enumerate(files):
        _index_listings(_responses(path, damaged), number, listings, preferred, count)
    for number, path in enumerate(files):
        for response in _responses(path, lambda damage: None):  # reported by the first pass
            article = _article(response, number, listings, preferred, count)
            if article is not None:
                yield article


def _responses(path: Path, on_damage: DamageHandler) -> Iterator[ArchivedResponse]:
    try:
        yield from read_responses(path, on_damage)
    except ArchiveError as error:  # checked by the command, then deleted or replaced: that file only
        on_damage(DamagedRecord(path, 0, str(error)))


def _article(
    response: ArchivedResponse,
    number: int,
    listings: ListingIndex,
    preferred: dict[str, str | None],
    count: Counter,
) -> Article | None:
    """The article in one archived response of file ``number``, or None (counted) if it has none."""
    found = route(response.url)
    if found is None or found.kind != ARTICLE:
        return None
    count("article_pages")
    if not response.complete:
        count("skipped/truncated_record")
        return None
    if response.status != 200:
        count(f"skipped/http_{response.status}")
        return None
    key = found.info_code or ""
    rows = listings.get(key, {})
    entry, feed = rows.get(number) or next(iter(rows.values()), (None, found.feed))
    try:
        page = found.parse(_decode(response), response.url)
        if not isinstance(page, ArticlePage):
            return None
        article = assemble_article(page, response.url, feed=feed, entry=entry, fetched_at=response.fetched_at)
    except Exception:  # a parser bug on one page: that article only (issue 13)
        count(f"dropped/{Reason.PARSER_ERROR}")
        return None
    if article is None:
        count("skipped/bad_code")
        return None
    if key in preferred and article.feed != PREFERRED_FEED:
        article.feed = PREFERRED_FEED
        article.summary = preferred[key] or article.summary
    return article


def _index_listings(
    responses: Iterable[ArchivedResponse],
    number: int,
    listings: ListingIndex,
    preferred: dict[str, str | None],
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
            if feed == PREFERRED_FEED:
                preferred.setdefault(key, entry.summary)


def _decode(response: ArchivedResponse) -> str:
    # The same decoding as the live spiders, so a reparse sees exactly the text the crawl saw.
    return decode_html(response.body, response.header("Content-Type"))
