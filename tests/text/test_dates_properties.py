"""Hypothesis properties of the date normalizer (issue 3, point 8): junk in, DateError or a sane date out.

Every property runs a fixed, derandomized budget so CI is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from newsarchive.text.dates import EARLIEST, FUTURE_TOLERANCE, SHANGHAI, DateError, parse_published

BUDGET = settings(max_examples=300, derandomize=True, deadline=None)
# Asia/Shanghai kept summer time until 1991, so only later instants are always +08:00.
NO_MORE_DST = datetime(1992, 1, 1, tzinfo=SHANGHAI)
FULL_WIDTH = str.maketrans("0123456789-:/ ", "０１２３４５６７８９－：／　")

# Crawl times, given in Shanghai or in UTC as fetched_at is.
NOWS = st.builds(
    lambda local, zone: local.astimezone(zone),
    st.datetimes(datetime(1993, 1, 1), datetime(2090, 1, 1), timezones=st.just(SHANGHAI)),
    st.sampled_from([SHANGHAI, UTC]),
)
ANY_CHAR = st.characters(exclude_categories=())  # surrogates and control characters included
FRAGMENTS = st.sampled_from(
    ["2022", "1989", "1990", "2999", "-", "/", ".", ":", "：", "T", "Z", "+08:00", "+0800", "-05", " ", "　",
     "年", "月", "日", "前", "秒", "分钟", "小时", "天", "半", "刚刚", "今天", "昨天", "前天", "明天", "来源",
     "１", "２", "０", "9" * 30, "\x00", "\ud800", "\udfff", "\u202e"]
)  # fmt: skip
NUMBERS = st.integers(0, 10**16).map(str)
DATE_ISH = st.lists(st.one_of(FRAGMENTS, NUMBERS, ANY_CHAR), max_size=16).map("".join)
LONG = st.builds(lambda piece, times: (piece * times)[:10_000], DATE_ISH, st.integers(1, 10_000))
JUNK = st.one_of(st.text(ANY_CHAR), DATE_ISH, LONG)


def check_result(parsed: datetime, now: datetime) -> None:
    assert parsed.tzinfo is SHANGHAI
    assert parsed.utcoffset() == SHANGHAI.utcoffset(parsed.replace(tzinfo=None))
    if parsed >= NO_MORE_DST:
        assert parsed.utcoffset() == timedelta(hours=8)
    assert EARLIEST <= parsed <= now + FUTURE_TOLERANCE


@BUDGET
@given(raw=JUNK, now=NOWS)
@example(raw="9" * 10_000, now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
@example(raw="2022-04-29 15:03:20." + "9" * 5000, now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
@example(raw="9" * 5000 + "-01-01 10:00", now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
@example(raw="999999999天前", now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
@example(raw="9999-12-31T23:59:59-23:59", now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
@example(raw="0001-01-01T00:00:00+23:59", now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
@example(raw="\ud800 12:00 \x00", now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
@example(raw=" " * 10_000 + "1", now=datetime(2026, 1, 1, tzinfo=SHANGHAI))
def test_junk_raises_only_date_error(raw: str, now: datetime) -> None:
    try:
        parsed = parse_published(raw, now=now)
    except DateError:
        return
    check_result(parsed, now)


Expectation = Callable[[datetime, datetime], datetime]  # (value, crawl time) -> what parsing gives
ANY_AGE = datetime(2090, 1, 1) - datetime(1992, 1, 1)


@dataclass(frozen=True)
class Form:
    """One way the sources print ``value``, and what parsing it must give back."""

    render: Callable[[datetime, datetime], str]  # (value in Shanghai, crawl time in Shanghai)
    expected: Expectation = lambda value, now: value
    max_age: timedelta = ANY_AGE
    earliest: datetime = NO_MORE_DST


def strftime(pattern: str, expected: Expectation, max_age: timedelta = ANY_AGE) -> Form:
    return Form(lambda value, now: value.strftime(pattern), expected, max_age)


def to_minute(value: datetime, now: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def to_second(value: datetime, now: datetime) -> datetime:
    return value.replace(microsecond=0)


def to_day(value: datetime, now: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def ago(unit: str, size: timedelta) -> Form:
    return Form(
        lambda value, now: f"{(now - value) // size}{unit}前",
        lambda value, now: now - (now - value) // size * size,
        max_age=timedelta(days=3000),
    )


NEPAL = timezone(timedelta(hours=5, minutes=45))
DAY_WORDS = {0: "今天", 1: "昨天", 2: "前天"}
EPOCH_SECONDS_FROM = datetime(2001, 9, 9, 9, 46, 40, tzinfo=SHANGHAI)  # 1_000_000_000: ten digits
ONE_YEAR_BACK = timedelta(days=364)  # a MM-DD within a year resolves to the right year
ONE_DAY_BACK = timedelta(hours=22)  # an HH:MM less than (a day - the skew allowance) back is exact
FORMS = {
    "ymd hms": strftime("%Y-%m-%d %H:%M:%S", to_second),
    "ymd hm": strftime("%Y-%m-%d %H:%M", to_minute),
    "slashes": strftime("%Y/%m/%d %H:%M", to_minute),
    "slashes date": strftime("%Y/%m/%d", to_day),
    "dots": strftime("%Y.%m.%d", to_day),
    "chinese": strftime("%Y年%m月%d日 %H:%M", to_minute),
    "chinese unpadded": Form(lambda value, now: f"{value.year}年{value.month}月{value.day}日", to_day),
    "iso +08:00": Form(lambda value, now: value.isoformat()),
    "iso Z": Form(lambda value, now: value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    "iso -0500": Form(
        lambda value, now: value.astimezone(timezone(-timedelta(hours=5))).strftime("%Y-%m-%dT%H:%M:%S%z"),
        to_second,
    ),
    "iso +05:45": Form(lambda value, now: value.astimezone(NEPAL).isoformat()),
    "epoch s": Form(lambda value, now: str(int(value.timestamp())), to_second, earliest=EPOCH_SECONDS_FROM),
    "epoch ms": Form(
        lambda value, now: str((value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)),
        lambda value, now: value.replace(microsecond=value.microsecond // 1000 * 1000),
        earliest=EPOCH_SECONDS_FROM,
    ),
    "full-width": Form(lambda value, now: value.strftime("%Y-%m-%d %H:%M").translate(FULL_WIDTH), to_minute),
    "noise": Form(lambda value, now: value.strftime("发布时间：%Y-%m-%d %H:%M 来源：证券日报网"), to_minute),
    "mm-dd": strftime("%m-%d %H:%M", to_minute, max_age=ONE_YEAR_BACK),
    "mm月dd日": strftime("%m月%d日 %H:%M", to_minute, max_age=ONE_YEAR_BACK),
    "hh:mm": strftime("%H:%M", to_minute, max_age=ONE_DAY_BACK),
    "hh:mm:ss": strftime("%H:%M:%S", to_second, max_age=ONE_DAY_BACK),
    "day word": Form(
        lambda value, now: DAY_WORDS[(now.date() - value.date()).days] + value.strftime(" %H:%M"),
        to_minute,
        max_age=timedelta(days=1),
    ),
    "seconds ago": ago("秒", timedelta(seconds=1)),
    "minutes ago": ago("分钟", timedelta(minutes=1)),
    "hours ago": ago("小时", timedelta(hours=1)),
    "days ago": ago("天", timedelta(days=1)),
}


@BUDGET
@given(name=st.sampled_from(sorted(FORMS)), now=NOWS, data=st.data())
def test_formatted_dates_round_trip(name: str, now: datetime, data: st.DataObject) -> None:
    form, local_now = FORMS[name], now.astimezone(SHANGHAI)
    assume(local_now >= form.earliest)
    oldest = max(form.earliest, local_now - form.max_age)
    naive = data.draw(st.datetimes(oldest.replace(tzinfo=None), local_now.replace(tzinfo=None)))
    value = naive.replace(tzinfo=SHANGHAI)
    raw = form.render(value, local_now)

    parsed = parse_published(raw, now=now)

    assert parsed == form.expected(value, local_now), raw
    check_result(parsed, now)
