"""When a listing spider stops paging a listing: the page limit, the incremental "nothing new" stop,
a backfill's "past --since" stop, and the full pass after an unclean run. Pure: no Scrapy, no I/O.

The spider builds :class:`PagingLimits` once from plain values (settings, ``-a pages``, whether it
is a backfill, whether the job's last run was clean) and asks :class:`ListingPaging` after each
listing page whether to request the next one (docs/crawling.md; settings in docs/settings.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

BACKFILL_MAX_PAGES = 100_000  # a backfill pages until --since unless -a pages caps it


class Stop(Enum):
    """Why a listing paged no further (the counted ones are stats keys ``listing_stopped/<value>``)."""

    NO_ROWS = "no_rows"  # the page listed nothing usable (counted as listing_stopped/empty_page elsewhere)
    LAST_PAGE = "last_page"  # the site has no next page
    PAGE_LIMIT = "page_limit"  # -a pages / NEWSARCHIVE_MAX_PAGES reached
    BEFORE_SINCE = "before_since"  # a backfill's page entirely older than --since
    NOTHING_NEW = "nothing_new"  # NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES quiet pages in a row

    @property
    def counted(self) -> bool:
        """Whether this stop is counted as ``listing_stopped/<value>`` (the others are a listing's
        natural end or the limit the user asked for)."""
        return self in (Stop.BEFORE_SINCE, Stop.NOTHING_NEW)


@dataclass(frozen=True)
class PagingLimits:
    """How far a run pages each listing.

    ``max_pages``: pages per listing at most; ``stop_after_known_pages``: stop a listing after that
    many pages in a row asked for nothing (0: never); ``full_pass``: the job's last run was not
    clean, so every listing is paged to ``max_pages`` this time."""

    max_pages: int
    stop_after_known_pages: int = 0
    full_pass: bool = False

    @classmethod
    def for_job(
        cls, *, pages: int | None, max_pages: int, stop_after_known_pages: int, backfill: bool
    ) -> PagingLimits:
        """The limits of a job: ``pages`` (``-a pages``, None when not given) wins over the
        ``max_pages`` setting; a backfill pages back to --since whatever it has already stored."""
        if backfill:
            return cls(pages or BACKFILL_MAX_PAGES, 0)
        return cls(pages or max_pages, stop_after_known_pages)

    @property
    def stops_when_quiet(self) -> bool:
        """Whether a listing may stop early for holding nothing new (then the last run matters)."""
        return bool(self.stop_after_known_pages)

    def after_unclean_run(self) -> PagingLimits:
        """A stopped or killed run (or one that failed to fetch what it listed) may have left a gap
        below the first known page: close it by paging every listing to the limit."""
        if not self.stops_when_quiet:
            return self
        return replace(self, stop_after_known_pages=0, full_pass=True)


class ListingPaging:
    """Per-listing paging state of one run: quiet pages in a row, listings past --since, and why
    each listing stopped. Listings are named by the spider (a column id, a 栏目 path)."""

    def __init__(self, limits: PagingLimits) -> None:
        self.limits = limits
        self.stopped: dict[str, Stop] = {}  # listing -> why it paged no further
        self._quiet: dict[str, int] = {}  # listing -> pages in a row that asked for nothing
        self._past_since: set[str] = set()
        self._full_pass_noted = False

    def page_followed(self, listing: str, requested: int) -> None:
        """A page of ``listing`` asked for ``requested`` article pages (0: a quiet page: every
        article on it stored and not due again)."""
        self._quiet[listing] = 0 if requested else self._quiet.get(listing, 0) + 1

    def quiet_pages(self, listing: str) -> int:
        return self._quiet.get(listing, 0)

    def page_before_since(self, listing: str) -> None:
        """The page of ``listing`` just read was entirely older than a backfill's --since."""
        self._past_since.add(listing)

    def stop(self, listing: str, page: int, *, has_entries: bool, has_next: bool = True) -> Stop | None:
        """Why not to request the page after ``page`` of ``listing`` (``has_next``: the site has
        one), or None to request it. A stop is remembered in :attr:`stopped`."""
        found = self._stop(listing, page, has_entries=has_entries, has_next=has_next)
        if found is not None:
            self.stopped[listing] = found
        return found

    def _stop(self, listing: str, page: int, *, has_entries: bool, has_next: bool) -> Stop | None:
        if not has_entries:
            return Stop.NO_ROWS
        if not has_next:
            return Stop.LAST_PAGE
        if page >= self.limits.max_pages:
            return Stop.PAGE_LIMIT
        if listing in self._past_since:
            return Stop.BEFORE_SINCE
        quiet_limit = self.limits.stop_after_known_pages
        if quiet_limit and self.quiet_pages(listing) >= quiet_limit:
            return Stop.NOTHING_NEW
        return None

    def full_pass_started(self) -> bool:
        """True once, at the first listing page of a full pass (so it is counted once per run)."""
        if not self.limits.full_pass or self._full_pass_noted:
            return False
        self._full_pass_noted = True
        return True
