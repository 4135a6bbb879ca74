"""Nothing matched, as pure logic: which arguments matched nothing (newsarchive.matching) and how
the summary turns that into exit code 6 and the run status ``nothing_matched`` (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from newsarchive import exitcodes
from newsarchive.matching import unmatched
from newsarchive.summary import FAILED, NOTHING_MATCHED, OK, RunSummary

CASES = [
    # a column that listed rows, one of its pages empty: matched
    ({"columns=344": 20}, {}, {}, {"columns": "344"}, []),
    ({"columns=99999": 0}, {}, {}, {"columns": "99999"}, ["-a columns=99999: column 99999 listed nothing"]),
    # one of several columns is enough: a mistyped column in a cron job must alert
    (
        {"columns=344": 20, "columns=99999": 0},
        {},
        {},
        {"columns": "344,99999"},
        ["-a columns=344,99999: column 99999 listed nothing"],
    ),
    # a 404 on the first page: no matched count at all
    (
        {"columns=finance/a": 4},
        {"columns=finance/b": 1},
        {},
        {"columns": "finance/a,finance/b"},
        ["-a columns=finance/a,finance/b: column finance/b listed nothing (HTTP 404 on its first page)"],
    ),
    # a default column (no -a columns) is named as one
    ({"columns=350": 0}, {}, {}, {}, ["the default columns: column 350 listed nothing"]),
    ({"column=999": 0}, {}, {}, {"column": "999"}, ["-a column=999: column 999 listed nothing"]),
    # a filter: judged against the rows checked
    (
        {"columns=344": 36, "media=不存在的媒体": 0},
        {},
        {"media": 120},
        {"media": "不存在的媒体"},
        ["-a media=不存在的媒体 matched none of the 120 listed articles"],
    ),
    (
        {"media=证券日报网": 3, "media=不存在": 0},
        {},
        {"media": 1},
        {"media": "证券日报网,不存在"},
        ["-a media=证券日报网,不存在: 不存在 matched none of the 1 listed article"],
    ),
    ({"media=证券日报网": 3}, {}, {"media": 40}, {"media": "证券日报网"}, []),
    # nothing listed to check the filter against: the columns are to blame, not the filter
    (
        {"columns=99999": 0, "media=证券日报网": 0},
        {},
        {"media": 0},
        {"columns": "99999", "media": "证券日报网"},
        ["-a columns=99999: column 99999 listed nothing"],
    ),
    ({}, {}, {}, {}, []),  # reparse, or a run whose listings all failed to download
]


@pytest.mark.parametrize(("matched", "not_found", "checked", "given", "expected"), CASES)
def test_unmatched_names_each_argument_once(
    matched: dict[str, int],
    not_found: dict[str, int],
    checked: dict[str, int],
    given: dict[str, str],
    expected: list[str],
) -> None:
    assert unmatched(matched, not_found, checked, given) == expected


def summary(**stats: Any) -> RunSummary:
    return RunSummary.from_stats({f"newsarchive/{key}": value for key, value in stats.items()})


def test_a_media_filter_matching_nothing_is_exit_6_not_nothing_new() -> None:
    run = summary(
        **{
            "matched/columns=344": 40,
            "matched/media=不存在": 0,
            "checked/media": 36,
            "argument/media": "不存在",
        }
    )
    assert run.nothing_matched == ["-a media=不存在 matched none of the 36 listed articles"]
    assert run.problems("eastmoney") == []
    assert (run.exit_code("eastmoney"), run.status("eastmoney")) == (
        exitcodes.NOTHING_MATCHED,
        NOTHING_MATCHED,
    )


def test_a_run_that_matched_and_had_everything_stays_nothing_new() -> None:
    run = summary(**{"matched/columns=344": 40, "skipped/already_stored": 40, "listing_pages": 2})
    assert (run.exit_code("eastmoney"), run.status("eastmoney")) == (exitcodes.NOTHING_NEW, OK)


def test_a_column_listing_nothing_beside_new_articles_is_still_exit_6() -> None:
    run = summary(**{"matched/columns=344": 40, "matched/columns=99999": 0, "stored/new": 12})
    assert (run.exit_code("eastmoney"), run.status("eastmoney")) == (
        exitcodes.NOTHING_MATCHED,
        NOTHING_MATCHED,
    )


def test_a_failed_run_stays_failed_whatever_else_matched_nothing() -> None:
    run = summary(**{"matched/columns=99999": 0, "deadletter": 2})
    assert (run.exit_code("eastmoney"), run.status("eastmoney")) == (exitcodes.FAILED, FAILED)
    assert run.nothing_matched  # still warned about
