"""Turn archived responses back into Articles with no network: route each response by URL to its
parser, and merge listing rows with article pages by info_code (same logic as the live spiders)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from newsarchive.archive.warc import ArchivedResponse, read_responses
from newsarchive.assemble import assemble_article
from newsarchive.ids import canonical_info_code, code_from_url
from newsarchive.items import COLUMN_FEED, FAST_FEED, PREFERRED_FEED, Article
from newsarchive.pages.eastmoney import (
    ListingEntry,
    ListingPage,
    PageError,
    classify_url,
    parse_article,
    parse_column_list,
    parse_fast_list,
)
from newsarchive.text.encoding import decode_html

Counter = Callable[[str], None]
_LISTING_PARSERS = {"columns": (parse_column_list, COLUMN_FEED), "fast": (parse_fast_list, FAST_FEED)}
# code -> {file number -> (first listing row for it in that file, its feed)}
ListingIndex = dict[str, dict[int, tuple[ListingEntry, str]]]


def replay_articles(paths: Iterable[Path], count: Counter = lambda key: None) -> Iterator[Article]:
    """Articles from WARC files, merged with their listing rows as the live spiders merge them.

    Listing rows are indexed first (two passes), so memory holds the small listing metadata and
    never the article pages. A page pairs with a row from its own file first (the crawl that
    fetched it); an article also listed on the preferred feed moves to it, as a live FeedClaim does.
    """
    files = list(paths)
    listings: ListingIndex = {}
    preferred: dict[str, str | None] = {}  # code -> digest on the preferred feed's listing
    for number, path in enumerate(files):
        _index_listings(read_responses(path), number, listings, preferred, count)
    for number, path in enumerate(files):
        for response in read_responses(path):
            if classify_url(response.url) != "article":
                continue
            count("article_pages")
            if not response.complete:
                count("skipped/truncated_record")
                continue
            if response.status != 200:
                count(f"skipped/http_{response.status}")
                continue
            code = code_from_url(response.url)
            key = canonical_info_code(code) if code else ""
            rows = listings.get(key, {})
            entry, feed = rows.get(number) or next(iter(rows.values()), (None, COLUMN_FEED))
            page = parse_article(_decode(response), response.url)
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
        kind = classify_url(response.url)
        if kind not in _LISTING_PARSERS or response.status != 200:
            continue
        if not response.complete:
            count("skipped/truncated_record")
            continue
        parser, feed = _LISTING_PARSERS[kind]
        try:
            listing: ListingPage = parser(_decode(response), response.url)
        except PageError as error:
            count(f"listing_error/{error.reason}")
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
