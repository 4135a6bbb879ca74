"""Publish-time normalization: every result is Asia/Shanghai-aware; implausible dates raise."""

from __future__ import annotations

from datetime import datetime

import pytest

from newsarchive.text.dates import SHANGHAI, DateError, parse_published

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-04-29 15:03:20", datetime(2022, 4, 29, 15, 3, 20)),
        ("2022-04-29 15:03", datetime(2022, 4, 29, 15, 3)),
        ("2022/04/29", datetime(2022, 4, 29)),
        ("2022年04月29日 15:03", datetime(2022, 4, 29, 15, 3)),
        ("2022年4月9日15:03", datetime(2022, 4, 9, 15, 3)),
        ("２０２２－０４－２９　１５：０３", datetime(2022, 4, 29, 15, 3)),
        ("2022-04-29T07:03:20Z", datetime(2022, 4, 29, 15, 3, 20)),
        ("2022-04-29T15:03:20+08:00", datetime(2022, 4, 29, 15, 3, 20)),
        ("2022-04-29 02:03:20 -0500", datetime(2022, 4, 29, 15, 3, 20)),
    ],
)
def test_formats(raw: str, expected: datetime) -> None:
    parsed = parse_published(raw, now=NOW)
    assert parsed == expected.replace(tzinfo=SHANGHAI)
    assert parsed.utcoffset() is not None
    assert parsed.isoformat().endswith("+08:00")


@pytest.mark.parametrize(
    "raw", ["", "刚才", "2022-13-40 10:00", "1989-12-31 23:59", "2026-11-26 12:00:01", "not a date"]
)
def test_implausible_or_unparseable_dates_raise(raw: str) -> None:
    with pytest.raises(DateError):
        parse_published(raw, now=NOW)


def test_a_few_hours_ahead_is_tolerated() -> None:
    assert parse_published("2026-11-24 20:00", now=NOW).hour == 20
