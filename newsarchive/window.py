"""The date window of a backfill (``--since`` / ``--until``), where a listing row falls in it, and how
far a backfill has got (its progress line, and the per-run bookkeeping behind it).

Dates are Asia/Shanghai: ``--since 2022-01-01`` starts at midnight there; ``--until 2022-01-31``
includes that whole day. A row whose listing shows no usable time is "unknown": it is followed, and
its article page decides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum

from newsarchive.text.dates import SHANGHAI, DateError, parse_published, shown_time


class Place(Enum):
    BEFORE = "before_since"
    INSIDE = "inside"
    AFTER = "after_until"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DateWindow:
    since: datetime
    until: datetime | None = None  # exclusive end; None: up to now

    @classmethod
    def parse(cls, since: str, until: str | None = None) -> DateWindow:
        """From ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` strings; ValueError with a one-line reason."""
        start = _day_or_instant(since, "since", end_of_day=False)
        end = _day_or_instant(until, "until", end_of_day=True) if until else None
        if end is not None and end <= start:
            raise ValueError(f"until ({until}) must be after since ({since})")
        return cls(start, end)

    def place(self, raw: str | None, *, now: datetime) -> Place:
        return self.place_of(listed_time(raw, now=now))

    def place_of(self, when: datetime | None) -> Place:
        if when is None:
            return Place.UNKNOWN
        if when < self.since:
            return Place.BEFORE
        if self.until is not None and when >= self.until:
            return Place.AFTER
        return Place.INSIDE

    def covered(self, oldest: datetime, now: datetime) -> float:
        """The share of the window already paged through when the oldest row seen is ``oldest``
        (listings run newest first), for the progress estimate."""
        top = min(self.until or now, now)
        span = (top - self.since).total_seconds()
        if span <= 0:
            return 1.0
        return max(0.0, min(1.0, (top - oldest).total_seconds() / span))


# The most a backfill with work left may claim: the listing reached --since long before the article
# pages it asked for were fetched, and the line said "100 % of the window, about 1 min left" for 50 s.
ALMOST_DONE = 0.99


@dataclass(frozen=True)
class BackfillProgress:
    """What a backfill has done so far, for its progress line.

    ``listed``: per listing, the share of the window it has paged through (1 once it stopped
    paging); ``listing_pages`` read; article pages ``requested`` and ``answered`` (fetched, or
    failed: done either way); ``elapsed`` seconds since the backfill started.

    The work is its requests: those made, plus those still to come, estimated by assuming the
    rest of the window lists as many rows per share as the part already listed. So the share done
    moves with both the listings and the article pages, and is never 1 while work remains."""

    listed: tuple[float, ...]
    listing_pages: int
    requested: int
    answered: int
    elapsed: float

    @property
    def listed_share(self) -> float:
        return sum(self.listed) / len(self.listed) if self.listed else 0.0

    @property
    def finished(self) -> bool:
        return bool(self.listed) and min(self.listed) >= 1.0 and self.answered >= self.requested

    @property
    def share(self) -> float:
        """The share of the whole backfill done, 0 to 1 (1 only when finished)."""
        if self.finished:
            return 1.0
        listed = self.listed_share
        if listed <= 0:
            return 0.0
        expected = (self.listing_pages + self.requested) / listed
        done = self.listing_pages + min(self.answered, self.requested)
        return min(done / expected, ALMOST_DONE) if expected else 0.0

    def seconds_left(self) -> float | None:
        """The time left at the pace so far; None before any work is done, or when finished."""
        share = self.share
        if share <= 0 or share >= 1:
            return None
        return self.elapsed * (1 - share) / share

    def note(self, reached: datetime) -> str:
        """The progress line's backfill part; percentages are rounded down (never 100 % early)."""
        note = (
            f"backfill reached {shown_time(reached)} ({_percent(self.listed_share)} of the window "
            f"listed, {self.answered} of {self.requested} article pages fetched): "
            f"{_percent(self.share)} done"
        )
        left = self.seconds_left()
        return note + (f", {_time_left(left)}" if left is not None else "")


def listing_shares(
    window: DateWindow,
    listings: Iterable[str],
    oldest: Mapping[str, datetime],
    ended: set[str],
    now: datetime,
) -> tuple[float, ...]:
    """Per listing, the share of ``window`` paged through: 1 once it ended, else how far back its
    oldest row seen reaches (at most :data:`ALMOST_DONE`: its last page may still be coming), 0
    before its first page."""
    return tuple(
        1.0
        if listing in ended
        else min(window.covered(oldest[listing], now), ALMOST_DONE)
        if listing in oldest
        else 0.0
        for listing in listings
    )


def _percent(share: float) -> str:
    return f"{math.floor(share * 100)}%"


def _time_left(seconds: float) -> str:
    if seconds < 45:
        return "under a minute left"
    minutes = round(seconds / 60)
    return (
        f"about {minutes // 60} h {minutes % 60} min left" if minutes >= 60 else f"about {minutes} min left"
    )


def listed_time(raw: str | None, *, now: datetime) -> datetime | None:
    """The instant a listing row (or page) shows, or None if it shows none that parses."""
    if not raw:
        return None
    try:
        return parse_published(raw, now=now)
    except DateError:
        return None


def _day_or_instant(text: str, name: str, *, end_of_day: bool) -> datetime:
    value = text.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=SHANGHAI)
        except ValueError:
            pass
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"{name} must be a date like 2022-01-31, got {text!r}") from None
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start + timedelta(days=1) if end_of_day else start


def page_before_since(places: Sequence[Place]) -> bool:
    """Whether a listing page (newest first) is entirely older than --since: every row with a time
    is before it (rows without one do not count; a page with none never is)."""
    dated = [place for place in places if place is not Place.UNKNOWN]
    return bool(dated) and all(place is Place.BEFORE for place in dated)


class BackfillTracker:
    """One backfill run's bookkeeping for its progress line: the oldest listing time seen (overall
    and per listing), the listings that stopped paging, and the article pages requested and
    answered (fetched or failed). ``started``: a monotonic clock reading when the run began."""

    def __init__(self, window: DateWindow, started: float) -> None:
        self.window = window
        self.started = started
        self.oldest_seen: datetime | None = None
        self.oldest_listed: dict[str, datetime] = {}
        self.ended: set[str] = set()
        self.requested = 0
        self.answered = 0

    def places(self, shown_times: Sequence[str | None], listing: str, *, now: datetime) -> list[Place]:
        """Where each row of a page of ``listing`` falls in the window (each listed time parsed
        once), remembering the oldest time seen."""
        times = [listed_time(shown, now=now) for shown in shown_times]
        oldest = min((when for when in times if when is not None), default=None)
        if oldest is not None:
            if self.oldest_seen is None or oldest < self.oldest_seen:
                self.oldest_seen = oldest
            if listing not in self.oldest_listed or oldest < self.oldest_listed[listing]:
                self.oldest_listed[listing] = oldest
        return [self.window.place_of(when) for when in times]

    def listing_ended(self, listing: str) -> None:
        """``listing`` pages no further in this run, for whatever reason."""
        self.ended.add(listing)

    def article_requested(self) -> None:
        self.requested += 1

    def article_answered(self) -> None:
        self.answered += 1

    def progress(
        self, listings: Iterable[str], *, listing_pages: int, now: datetime, clock: float
    ) -> BackfillProgress:
        """The run so far over ``listings`` (the listings it pages), ``clock`` being a reading of
        the same monotonic clock as ``started``."""
        return BackfillProgress(
            listed=listing_shares(self.window, listings, self.oldest_listed, self.ended, now),
            listing_pages=listing_pages,
            requested=self.requested,
            answered=self.answered,
            elapsed=clock - self.started,
        )

    def note(self, listings: Iterable[str], *, listing_pages: int, now: datetime, clock: float) -> str | None:
        """The progress line's backfill part, or None before any listed time was seen."""
        if self.oldest_seen is None:
            return None
        progress = self.progress(listings, listing_pages=listing_pages, now=now, clock=clock)
        return progress.note(self.oldest_seen)
