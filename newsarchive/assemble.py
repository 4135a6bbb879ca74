"""Merge a listing row and its article page into one Article (used by the spiders and by reparse)."""

from __future__ import annotations

from datetime import datetime

from newsarchive.ids import canonical_info_code, canonical_url, code_from_url
from newsarchive.items import GENERIC_EXTRACTION, Article
from newsarchive.pages.model import ArticlePage, ListingEntry


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


def _first(*values: str | None) -> str | None:
    return next((value for value in values if value), None)
