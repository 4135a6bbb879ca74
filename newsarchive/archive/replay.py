"""Turn archived responses back into Articles with no network: route each response by URL to its
site's parser (newsarchive.pages.routes), and merge listing rows with article pages by info_code
(the live spiders' own function, newsarchive.assemble.read_article)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import cast

from newsarchive.archive.reader import DamagedRecord, DamageHandler, read_responses
from newsarchive.archive.warc import ArchivedResponse, ArchiveError
from newsarchive.assemble import read_article
from newsarchive.counts import Count, Reason
from newsarchive.ids import canonical_info_code
from newsarchive.items import Article
from newsarchive.pages.model import ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ARTICLE, LISTING, ArticleParser, route
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
    preferred: dict[str, FeedClaim],
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
    return article


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
