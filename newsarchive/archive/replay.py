"""Turn archived responses back into Articles with no network: route each response by URL to its
site's parser (newsarchive.pages.routes), and merge listing rows with article pages by info_code
(same logic as the live spiders)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from newsarchive.archive.warc import ArchivedResponse, read_responses
from newsarchive.assemble import assemble_article
from newsarchive.ids import canonical_info_code
from newsarchive.items import PREFERRED_FEED, Article
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ARTICLE, LISTING, route
from newsarchive.sites.adapter import register_declared_sites
from newsarchive.text.encoding import decode_html

Counter = Callable[[str], None]
# code -> {file number -> (first listing row for it in that file, its feed)}
ListingIndex = dict[str, dict[int, tuple[ListingEntry, str]]]


def replay_articles(paths: Iterable[Path], count: Counter = lambda key: None) -> Iterator[Article]:
    """Articles from WARC files, merged with their listing rows as the live spiders merge them.

    Listing rows are indexed first (two passes), so memory holds the small listing metadata and
    never the article pages. A page pairs with a row from its own file first (the crawl that
    fetched it); an article also listed on the preferred feed moves to it, as a live FeedClaim does.
    """
    register_declared_sites()  # declared sites' URLs route to their data files' parsers
    files = list(paths)
    listings: ListingIndex = {}
    preferred: dict[str, str | None] = {}  # code -> digest on the preferred feed's listing
    for number, path in enumerate(files):
        _index_listings(read_responses(path), number, listings, preferred, count)
    for number, path in enumerate(files):
        for response in read_responses(path):
            found = route(response.url)
            if found is None or found.kind != ARTICLE:
                continue
            count("article_pages")
            if not response.complete:
                count("skipped/truncated_record")
                continue
            if response.status != 200:
                count(f"skipped/http_{response.status}")
                continue
            key = found.info_code or ""
            rows = listings.get(key, {})
            entry, feed = rows.get(number) or next(iter(rows.values()), (None, found.feed))
            page = found.parse(_decode(response), response.url)
            if not isinstance(page, ArticlePage):
                continue
            article = assemble_article(
                page, response.url, feed=feed, entry=entry, fetched_at=response.fetched_at
            )
            if article is None:
                count("skipped/bad_code")
                continue
            if key in preferred and article.feed != PREFERRED_FEED:
                article.feed = PREFERRED_FEED
                article.summary = preferred[key] or article.summary
            yield article


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
