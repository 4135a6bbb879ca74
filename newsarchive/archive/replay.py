"""Turn archived responses back into Articles with no network: route each response by URL to its
parser, and merge listing rows with article pages by info_code (same logic as the live spiders)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from newsarchive.archive.warc import ArchivedResponse, read_responses
from newsarchive.assemble import assemble_article
from newsarchive.ids import canonical_info_code, code_from_url
from newsarchive.items import Article
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
_LISTING_PARSERS = {"columns": (parse_column_list, "eastmoney"), "fast": (parse_fast_list, "eastmoney_fast")}


def replay_articles(paths: Iterable[Path], count: Counter = lambda key: None) -> Iterator[Article]:
    """Articles from WARC files. Listing rows are indexed first (two passes) so memory holds only the
    small listing metadata, never the article pages; a page pairs with a row from its own file first."""
    files = list(paths)
    per_file = [_index_listings(read_responses(path), count) for path in files]
    everywhere: dict[str, tuple[ListingEntry, str]] = {}
    for index in per_file:
        everywhere.update(index)
    for path, index in zip(files, per_file, strict=True):
        for response in read_responses(path):
            if classify_url(response.url) != "article":
                continue
            count("article_pages")
            if response.status != 200:
                count(f"skipped/http_{response.status}")
                continue
            code = code_from_url(response.url)
            key = canonical_info_code(code) if code else ""
            entry, feed = index.get(key) or everywhere.get(key) or (None, "eastmoney")
            page = parse_article(_decode(response), response.url)
            article = assemble_article(
                page, response.url, feed=feed, entry=entry, fetched_at=response.fetched_at
            )
            if article is None:
                count("skipped/bad_code")
                continue
            yield article


def _index_listings(
    responses: Iterable[ArchivedResponse], count: Counter
) -> dict[str, tuple[ListingEntry, str]]:
    index: dict[str, tuple[ListingEntry, str]] = {}
    for response in responses:
        kind = classify_url(response.url)
        if kind not in _LISTING_PARSERS or response.status != 200:
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
                index.setdefault(canonical_info_code(entry.code), (entry, feed))
            except ValueError:
                continue
    return index


def _decode(response: ArchivedResponse) -> str:
    # The same decoding as the live spiders, so a reparse sees exactly the text the crawl saw.
    return decode_html(response.body, response.header("Content-Type"))
