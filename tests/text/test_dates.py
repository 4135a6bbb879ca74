"""Publish-time normalization: the issue's date table, its rejections, and the crawl-time anchor.

``NOW`` is 00:30 on New Year's Day so the year-less, time-only and relative rows all cross a day
and a year boundary. Hypothesis properties live in test_dates_properties.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsarchive.items import Article
from newsarchive.text.dates import SHANGHAI, DateError, parse_published, shown_time
from pipelines.dates import NormalizeDatesPipeline

NOW = datetime(2026, 1, 1, 0, 30, tzinfo=SHANGHAI)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=SHANGHAI)


DATE_TABLE = [
    # absolute, every separator style the sites print
    ("2022-04-29 15:03:20", at(2022, 4, 29, 15, 3, 20)),
    ("2022-04-29 15:03", at(2022, 4, 29, 15, 3)),
    ("2022/04/29", at(2022, 4, 29)),
    ("2022/04/29 15:03", at(2022, 4, 29, 15, 3)),
    ("2022/4/9 15:03:20", at(2022, 4, 9, 15, 3, 20)),
    ("2022.04.29", at(2022, 4, 29)),
    ("2022.04.29 15:03", at(2022, 4, 29, 15, 3)),
    ("2022年04月29日 15:03", at(2022, 4, 29, 15, 3)),
    ("2022年04月29日", at(2022, 4, 29)),
    ("2022年4月9日", at(2022, 4, 9)),
    ("2022年4月9日15:03", at(2022, 4, 9, 15, 3)),
    ("2021年12月08日 10:46:18", at(2021, 12, 8, 10, 46, 18)),
    ("2026-01-01 20:00", at(2026, 1, 1, 20)),  # hours ahead: within the one-day tolerance
    ("2026-01-02 00:30", at(2026, 1, 2, 0, 30)),  # exactly one day ahead is still accepted
    # MM-DD HH:MM and MM月DD日: the latest year not ahead of the crawl time (one hour of skew)
    ("12-31 23:00", at(2025, 12, 31, 23)),
    ("01-01 00:10", at(2026, 1, 1, 0, 10)),
    ("01-01 01:00", at(2026, 1, 1, 1)),
    ("01-01 08:00", at(2025, 1, 1, 8)),
    ("08-10 08:23", at(2025, 8, 10, 8, 23)),
    ("财联社 08-10 08:23", at(2025, 8, 10, 8, 23)),
    ("02-29 10:00", at(2024, 2, 29, 10)),
    ("12月31日 23:00", at(2025, 12, 31, 23)),
    ("8月10日 08:23", at(2025, 8, 10, 8, 23)),
    ("12月31日", at(2025, 12, 31)),
    # HH:MM: today, or yesterday when today's would be more than an hour ahead (after midnight)
    ("00:10", at(2026, 1, 1, 0, 10)),
    ("01:00", at(2026, 1, 1, 1)),
    ("23:50", at(2025, 12, 31, 23, 50)),
    ("15:03:20", at(2025, 12, 31, 15, 3, 20)),
    # relative forms
    ("刚刚", NOW),
    ("30秒前", at(2026, 1, 1, 0, 29, 30)),
    ("5分钟前", at(2026, 1, 1, 0, 25)),
    ("半小时前", at(2026, 1, 1, 0, 0)),
    ("2小时前", at(2025, 12, 31, 22, 30)),
    ("3个小时前", at(2025, 12, 31, 21, 30)),
    ("3天前", at(2025, 12, 29, 0, 30)),
    ("今天 00:10", at(2026, 1, 1, 0, 10)),
    ("今天", at(2026, 1, 1)),
    ("昨天 23:00", at(2025, 12, 31, 23)),
    ("昨天23:00:05", at(2025, 12, 31, 23, 0, 5)),
    ("昨天", at(2025, 12, 31)),  # a bare day word is that day at 00:00, like a date without time
    ("前天 10:00", at(2025, 12, 30, 10)),
    ("前天", at(2025, 12, 30)),
    # epoch seconds and milliseconds
    ("1651215800", at(2022, 4, 29, 15, 3, 20)),
    ("1651215800123", at(2022, 4, 29, 15, 3, 20, 123000)),
    ('"showTime": 1651215800,', at(2022, 4, 29, 15, 3, 20)),
    # ISO 8601
    ("2022-04-29T15:03:20+08:00", at(2022, 4, 29, 15, 3, 20)),
    ("2022-04-29T07:03:20Z", at(2022, 4, 29, 15, 3, 20)),
    ("2022-04-29T15:03:20+0800", at(2022, 4, 29, 15, 3, 20)),
    ("2022-04-29T15:03:20+08", at(2022, 4, 29, 15, 3, 20)),
    ("2022-04-29T07:03:20.250Z", at(2022, 4, 29, 15, 3, 20, 250000)),
    ("2022-04-29T15:03:20.123456+08:00", at(2022, 4, 29, 15, 3, 20, 123456)),
    ("2022-04-29 02:03:20 -0500", at(2022, 4, 29, 15, 3, 20)),
    ("2022-04-29T12:48:20+05:45", at(2022, 4, 29, 15, 3, 20)),
    ("2022-04-29T15:03:20", at(2022, 4, 29, 15, 3, 20)),
    # full-width digits, colons and spaces
    ("２０２２－０４－２９　１５：０３", at(2022, 4, 29, 15, 3)),
    ("２０２２年４月２９日　１５：０３：２０", at(2022, 4, 29, 15, 3, 20)),
    ("１２－３１　２３：００", at(2025, 12, 31, 23)),
    ("昨天　２３：００", at(2025, 12, 31, 23)),
    # surrounding noise
    ("发布时间：2022-04-29 15:03", at(2022, 4, 29, 15, 3)),
    ("2022-04-29 15:03 来源：证券日报网", at(2022, 4, 29, 15, 3)),
    ("2022-04-29 15:03 Zhang San", at(2022, 4, 29, 15, 3)),  # a word starting with Z is not UTC
    ("var publishdate = '2019-09-26 12:11:01';", at(2019, 9, 26, 12, 11, 1)),
    ("\n\t 2022年04月29日 15:03\xa0 ", at(2022, 4, 29, 15, 3)),
    ("1990-01-01 00:00", at(1990, 1, 1)),
]


@pytest.mark.parametrize(("raw", "expected"), DATE_TABLE)
def test_date_table(raw: str, expected: datetime) -> None:
    parsed = parse_published(raw, now=NOW)

    assert parsed == expected
    assert (parsed.tzinfo, parsed.utcoffset()) == (SHANGHAI, timedelta(hours=8))
    assert parsed.isoformat() == expected.isoformat()


@pytest.mark.parametrize(
    "raw",
    [
        "2026-01-02 00:30:01",  # one second past the one-day tolerance
        "2026-06-01",
        "2999-01-01 00:00:00",
        "1989-12-31 23:59",
        "1989-12-31T15:59:59Z",  # 23:59:59 in Shanghai
        "0600000000",  # epoch seconds in 1989
        "9999999999",  # epoch seconds in 2286
        "",
        "   ",
        "not a date",
        "刚才",
        "garbage 文字 ::",
        "2022-02-30",
        "2022-02-30 10:00",
        "2022-13-01",
        "2022-04-29 25:61",
        "25:61",
        "02-30 10:00",
        "13-01 10:00",
        "2022-04-29T15:03:20+25:00",
        "22-04-29 15:03",  # two-digit year: refused, not guessed as "today 15:03"
        "明天 10:00",
        "999999999天前",  # overflows datetime arithmetic
        "9" * 5000 + "分钟前",
    ],
)
def test_rejections(raw: str) -> None:
    with pytest.raises(DateError):
        parse_published(raw, now=NOW)


def test_a_utc_crawl_time_resolves_in_shanghai() -> None:
    """``fetched_at`` is UTC; 16:30Z on 31 December is already New Year's Day in Shanghai."""
    crawled = NOW.astimezone(UTC)
    for raw, expected in [("23:50", at(2025, 12, 31, 23, 50)), ("00:10", at(2026, 1, 1, 0, 10))]:
        assert parse_published(raw, now=crawled) == expected
    assert parse_published("12-31 23:00", now=crawled).year == 2025


def test_without_now_the_current_time_is_the_reference() -> None:
    before = datetime.now(SHANGHAI)
    parsed = parse_published("刚刚")
    assert before <= parsed <= datetime.now(SHANGHAI)
    assert parse_published("2022-04-29 15:03") == at(2022, 4, 29, 15, 3)


def test_pipeline_resolves_against_the_fetch_time_and_keeps_the_raw_string() -> None:
    """A reparsed 2022 capture must resolve ``昨天 23:00`` against its WARC date, not today."""
    pipeline = NormalizeDatesPipeline(stats=None)
    item = Article(
        info_code="NW202204292366280343",
        url="https://finance.eastmoney.com/a/202204292366280343.html",
        feed="eastmoney_fast",
        published_raw="昨天 23:00",
        fetched_at=datetime(2022, 4, 29, 1, 0, tzinfo=UTC),
    )

    pipeline.process_item(item)

    assert item.published_at == at(2022, 4, 28, 23)
    assert item.published_raw == "昨天 23:00"


# --- times in messages (issue 14: one time zone, with its offset, in every message) -----------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (datetime(2026, 12, 5, 15, 7, 12, 999_999, tzinfo=UTC), "2026-12-05 23:07:12+08:00"),
        (datetime(2026, 12, 5, 23, 7, 12, tzinfo=SHANGHAI), "2026-12-05 23:07:12+08:00"),
        (datetime(2026, 12, 5, 10, 7, 12, tzinfo=timezone(timedelta(hours=-5))), "2026-12-05 23:07:12+08:00"),
        (datetime(2026, 12, 5, 23, 7, 12), "2026-12-05 23:07:12+08:00"),  # naive: Shanghai wall time
        (datetime(2025, 12, 31, 16, 30, tzinfo=UTC), "2026-01-01 00:30:00+08:00"),  # the day changes
    ],
)
def test_shown_time_is_shanghai_to_the_second_with_the_offset(value: datetime, shown: str) -> None:
    assert shown_time(value) == shown
    assert datetime.fromisoformat(shown) == value.replace(microsecond=0, tzinfo=value.tzinfo or SHANGHAI)


def test_an_implausible_date_is_shown_in_shanghai_with_its_offset() -> None:
    with pytest.raises(DateError, match=r"^date 2030-01-01 08:00:00\+08:00 is in the future$"):
        parse_published("2030-01-01T00:00:00Z", now=NOW)
    with pytest.raises(DateError, match=r"^date 1989-06-01 10:00:00\+09:00 is before 1990$"):
        parse_published("1989-06-01 10:00", now=NOW)
