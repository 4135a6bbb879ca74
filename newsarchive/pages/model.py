"""The site-independent page model every parser returns: listing rows, listing pages, article pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

Row = TypeVar("Row")
Entry = TypeVar("Entry")


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

    A long article continues on more pages (East Money's ``<code>_2.html`` …): ``page`` is which
    page of it this is and ``pages`` how many its pager says it has; ``body_html`` is this page's
    part only. A one-page article is page 1 of 1.
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
    page: int = 1
    pages: int = 1


def read_rows(rows: Iterable[Row], read_row: Callable[[Row], Entry | None]) -> tuple[list[Entry], int]:
    """The entries of the rows ``read_row`` can read, and how many rows it could not (None or any
    exception): one odd row of a listing costs only itself, never the rest of its page (issue 13)."""
    entries: list[Entry] = []
    rejected = 0
    for row in rows:
        try:
            entry = read_row(row)
        except Exception:  # a row no parser rule foresaw: counted by the caller, like a row without a code
            entry = None
        if entry is None:
            rejected += 1
        else:
            entries.append(entry)
    return entries, rejected
