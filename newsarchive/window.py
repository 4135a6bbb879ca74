"""The date window of a backfill (``--since`` / ``--until``), and where a listing row falls in it.

Dates are Asia/Shanghai: ``--since 2022-01-01`` starts at midnight there; ``--until 2022-01-31``
includes that whole day. A row whose listing shows no usable time is "unknown": it is followed, and
its article page decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum

from newsarchive.text.dates import SHANGHAI, DateError, parse_published


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
