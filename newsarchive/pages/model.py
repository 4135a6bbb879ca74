"""The site-independent page model every parser returns: listing rows, listing pages, article pages."""

from __future__ import annotations

from dataclasses import dataclass


class PageError(ValueError):
    """A response that cannot be parsed; ``reason`` is a short stats key (e.g. ``bad_json``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class ListingEntry:
    """One row of a listing: enough to decide whether to follow it and to fill the item.

    ``code`` is anything :func:`newsarchive.ids.canonical_info_code` accepts: an East Money code or
    a namespaced id such as ``ZQRB-A1774350569667``, so a row carries its own info_code.
    """

    code: str
    kind: str
    title: str | None
    show_time: str | None
    media: str | None
    summary: str | None
    url: str


@dataclass(frozen=True)
class ListingPage:
    entries: list[ListingEntry]
    total: int | None = None
    page_index: int | None = None
    next_cursor: str | None = None  # East Money 7x24: sortEnd; HTML listings: the next page URL
    rejected: int = 0  # rows without a usable article code, counted by the caller
    wrapped: bool = False  # the JSON came in a JSONP callback nobody asked for (unwrapped)


@dataclass(frozen=True)
class ArticlePage:
    """What an article page says about itself; ``body_html`` is the raw inner HTML of the body node.

    ``section`` is the site's own 栏目 (column) name when the page names one (证券日报网's breadcrumb).
    """

    code: str | None
    layout: str
    title: str | None
    published_raw: str | None
    media: str | None
    author: str | None
    summary: str | None
    body_html: str | None
    section: str | None = None
