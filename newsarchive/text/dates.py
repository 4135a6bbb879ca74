"""Date normalization: every time the sources print becomes a timezone-aware Asia/Shanghai datetime.

One entry point, :func:`parse_published`; anything it cannot turn into a plausible publish time
raises :class:`DateError` (and nothing else), so the dates pipeline can drop the item with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
EARLIEST = datetime(1990, 1, 1, tzinfo=SHANGHAI)
# A publish time further ahead than this is a parsing error, not news from the future.
FUTURE_TOLERANCE = timedelta(days=1)
# When the parser itself picks the day or year (`HH:MM`, `MM-DD HH:MM`), a candidate more than
# this far ahead of the crawl time belongs to the previous day/year: only clock skew is allowed.
INFERRED_TOLERANCE = timedelta(hours=1)

_TIME = r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?"
# 2022-04-29 15:03:20 / 2022/04/29 / 2022.04.29 / 2022年4月9日15:03 / ISO 8601 with fraction and zone
FULL_DATE = re.compile(
    r"(?<![0-9])(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})(?:\s*日)?"
    r"(?:(?:T|\s*)(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,](?P<F>[0-9]+))?)?"
    r" ?(?P<tz>Z(?![A-Za-z])|[+-][0-9]{2}(?::?[0-9]{2})?)?)?(?![0-9])"
)
# 10 digits = epoch seconds, 13 digits = epoch milliseconds (API fields, realSort-style stamps)
EPOCH = re.compile(r"(?<![0-9])(?:(?P<ms>[0-9]{13})|(?P<s>[0-9]{10}))(?![0-9])")
JUST_NOW = re.compile(r"刚刚")
# 5分钟前 / 3小时前 / 3个小时前 / 半小时前 / 30秒前 / 2天前 (N天前 keeps the clock time of the crawl)
AGO = re.compile(r"(?:(?<![0-9])(?P<n>[0-9]{1,9})|(?P<half>半))\s*个?(?P<unit>秒钟?|分钟|小时|天)前")
NAMED_DAY = re.compile(rf"(?P<word>今天|昨天|前天)\s*(?:{_TIME}(?![0-9]))?")
# 4月29日 15:03 / 04月29日 (year implied)
MONTH_DAY_CN = re.compile(
    rf"(?<![0-9])(?P<m>[0-9]{{1,2}})\s*月\s*(?P<d>[0-9]{{1,2}})\s*日\s*(?:{_TIME}(?![0-9]))?"
)
# 08-10 08:23 (East Money mobile header, cnstock lists; year implied)
MONTH_DAY = re.compile(
    rf"(?<![0-9])(?<![0-9][-/.])(?P<m>[0-9]{{1,2}})[-/](?P<d>[0-9]{{1,2}})\s*{_TIME}(?![0-9])"
)
# A bare 15:03 (stcn 7x24, cnstock "today")...
TIME_ONLY = re.compile(rf"(?<![0-9:]){_TIME}(?![0-9:])")
# ...unless the text also holds a date fragment no rule above could read (`22-04-29 15:03`,
# `明天 15:03`): guessing "today" for those would store garbage.
UNREAD_DAY = re.compile(r"[0-9]\s*[-/.年月]\s*[0-9]|明天|后天")
# Full-width ASCII (０-９, ：, －, ／, ．, ＋, Ｚ…) and ideographic / no-break spaces to plain ASCII.
_TO_ASCII = {0xFF01 + offset: 0x21 + offset for offset in range(94)} | {0x3000: 0x20, 0xA0: 0x20}
_NAMED_DAY_OFFSET = {"今天": 0, "昨天": 1, "前天": 2}
_AGO_UNIT = {"秒": "seconds", "秒钟": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}


class DateError(ValueError):
    """Raised when a date string cannot be turned into a plausible publish time."""


def parse_published(raw: str, *, now: datetime | None = None) -> datetime:
    """Parse a source date string into an aware Asia/Shanghai datetime.

    ``now`` is the crawl time the relative and year-less forms resolve against (default: the
    current time; naive means Asia/Shanghai). Naive source times are Asia/Shanghai. Raises
    :class:`DateError`, and only that, when the text holds no date or an implausible one.
    """
    current = _reference(now)
    text = raw.translate(_TO_ASCII)
    for pattern, resolve in _RULES:
        match = pattern.search(text)
        if match is None:
            continue
        try:
            value = resolve(match, current).astimezone(SHANGHAI)
        except DateError:
            raise
        except (ValueError, OverflowError) as exc:  # day 30 of February, 25:61, a 10**9-day delta
            raise DateError(f"invalid date {_shown(raw)}: {exc}") from None
        return check_plausible(value, now=current)
    raise DateError(f"unparseable date {_shown(raw)}")


def check_plausible(value: datetime, *, now: datetime | None = None) -> datetime:
    """Reject times before 1990 or more than a day in the future."""
    if value < EARLIEST:
        raise DateError(f"date {shown_time(value)} is before 1990")
    if value > _reference(now) + FUTURE_TOLERANCE:
        raise DateError(f"date {shown_time(value)} is in the future")
    return value


def shown_time(value: datetime) -> str:
    """An instant as every message and listing shows it: Asia/Shanghai, to the second, with its
    offset (``2026-12-05 23:07:12+08:00``), so no reader has to guess the zone. A naive value is
    Shanghai wall time, as everywhere in this module. (File names keep their UTC stamps.)"""
    local = value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value.astimezone(SHANGHAI)
    return local.isoformat(sep=" ", timespec="seconds")


def _absolute(match: re.Match[str], now: datetime) -> datetime:
    fraction = (match["F"] or "")[:6].ljust(6, "0")
    value = datetime(int(match["y"]), int(match["m"]), int(match["d"]), *_clock(match), int(fraction))
    return value.replace(tzinfo=_offset(match["tz"]) or SHANGHAI)


def _epoch(match: re.Match[str], now: datetime) -> datetime:
    if match["ms"]:
        millis = int(match["ms"])
        return datetime.fromtimestamp(millis // 1000, SHANGHAI) + timedelta(milliseconds=millis % 1000)
    return datetime.fromtimestamp(int(match["s"]), SHANGHAI)


def _ago(match: re.Match[str], now: datetime) -> datetime:
    amount = 0.5 if match["half"] else int(match["n"])
    return now - timedelta(**{_AGO_UNIT[match["unit"]]: amount})


def _named_day(match: re.Match[str], now: datetime) -> datetime:
    day = now.date() - timedelta(days=_NAMED_DAY_OFFSET[match["word"]])
    return _at(day, match)


def _month_day(match: re.Match[str], now: datetime) -> datetime:
    """The latest year in which this month-day-time is not ahead of the crawl time (beyond skew)."""
    latest = now + INFERRED_TOLERANCE
    month, day, clock = int(match["m"]), int(match["d"]), time(*_clock(match))
    for year in range(latest.year, latest.year - 8, -1):  # 8 years always contains a 29 February
        try:
            candidate = datetime.combine(date(year, month, day), clock, tzinfo=SHANGHAI)
        except ValueError:
            continue
        if candidate <= latest:
            return candidate
    raise DateError(f"no such day {month:02d}-{day:02d}")


def _time_only(match: re.Match[str], now: datetime) -> datetime:
    """Today at that time, or yesterday when today's would be ahead of the crawl time."""
    if UNREAD_DAY.search(match.string):
        raise DateError(f"time {match[0]!r} next to an unreadable day")
    candidate = _at(now.date(), match)
    if candidate > now + INFERRED_TOLERANCE:
        candidate = _at(now.date() - timedelta(days=1), match)
    return candidate


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], datetime], datetime]], ...] = (
    (FULL_DATE, _absolute),
    (EPOCH, _epoch),
    (JUST_NOW, lambda match, now: now),
    (AGO, _ago),
    (NAMED_DAY, _named_day),
    (MONTH_DAY_CN, _month_day),
    (MONTH_DAY, _month_day),
    (TIME_ONLY, _time_only),
)


def _at(day: date, match: re.Match[str]) -> datetime:
    """``day`` at the match's optional ``H:M[:S]`` (midnight without one), in Asia/Shanghai."""
    return datetime.combine(day, time(*_clock(match)), tzinfo=SHANGHAI)


def _clock(match: re.Match[str]) -> tuple[int, int, int]:
    return int(match["H"] or 0), int(match["M"] or 0), int(match["S"] or 0)


def _reference(now: datetime | None) -> datetime:
    """The crawl time in Asia/Shanghai; a naive ``now`` is taken as Shanghai wall time."""
    if now is None:
        return datetime.now(SHANGHAI)
    return now.replace(tzinfo=SHANGHAI) if now.tzinfo is None else now.astimezone(SHANGHAI)


def _offset(token: str | None) -> tzinfo | None:
    """``Z``, ``+08``, ``+08:00`` or ``+0800`` as a fixed offset; None when the string had no zone."""
    if not token:
        return None
    if token == "Z":
        return UTC
    sign = -1 if token[0] == "-" else 1
    digits = token[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))


def _shown(raw: str) -> str:
    """The raw string for an error message, cut short (inputs can be 10k characters of junk)."""
    return repr(raw[:60] + ("…" if len(raw) > 60 else ""))
