"""Date normalization: every time the sources print becomes a timezone-aware Asia/Shanghai datetime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
EARLIEST = datetime(1990, 1, 1, tzinfo=SHANGHAI)
# A publish time further ahead than this is a parsing error, not news from the future.
FUTURE_TOLERANCE = timedelta(days=1)

# 2022-04-29 15:03:20 / 2022-04-29 15:03 / 2022/04/29 / 2022年04月29日 15:03
_FULL = re.compile(
    r"(?P<y>\d{4})\s*[-/年.]\s*(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)
_FULLWIDTH = str.maketrans("０１２３４５６７８９：／－　", "0123456789:/- ")


class DateError(ValueError):
    """Raised when a date string cannot be turned into a plausible publish time."""


def parse_published(raw: str, *, now: datetime | None = None) -> datetime:
    """Parse a source date string; naive times are Asia/Shanghai. Raises DateError when implausible."""
    text = raw.translate(_FULLWIDTH).strip()
    match = _FULL.search(text)
    if match is None:
        raise DateError(f"unparseable date {raw!r}")
    parts = match.groupdict()
    try:
        value = datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or 0),
        )
    except ValueError as exc:
        raise DateError(f"invalid date {raw!r}: {exc}") from None
    aware = value.replace(tzinfo=_offset(parts["tz"]) or SHANGHAI).astimezone(SHANGHAI)
    return check_plausible(aware, now=now)


def check_plausible(value: datetime, *, now: datetime | None = None) -> datetime:
    """Reject times before 1990 or more than a day in the future."""
    current = now or datetime.now(SHANGHAI)
    if value < EARLIEST:
        raise DateError(f"date {value.isoformat()} is before 1990")
    if value > current + FUTURE_TOLERANCE:
        raise DateError(f"date {value.isoformat()} is in the future")
    return value


def _offset(token: str | None) -> tzinfo | None:
    """``Z``, ``+08:00`` or ``+0800`` as a fixed offset; None when the string carried no zone."""
    if not token:
        return None
    if token == "Z":
        return UTC
    sign = -1 if token[0] == "-" else 1
    digits = token[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
