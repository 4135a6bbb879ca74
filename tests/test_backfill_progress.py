"""The backfill estimate as pure logic (newsarchive.window.BackfillProgress): it moves with the
listings and with the article pages, and never claims 100 % while work remains (issue 14: the line
said "100 % of the window, about 1 min left" for 50 s while article pages were still fetched).
Also the per-run bookkeeping behind it (BackfillTracker), which the spider feeds."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from newsarchive.text.dates import SHANGHAI
from newsarchive.window import (
    ALMOST_DONE,
    BackfillProgress,
    BackfillTracker,
    DateWindow,
    Place,
    listing_shares,
    page_before_since,
)

WINDOW = DateWindow.parse("2022-01-01", "2022-01-10")  # ten days
NOW = datetime(2026, 1, 1, tzinfo=SHANGHAI)


def day(number: int) -> datetime:
    return datetime(2022, 1, number, 12, tzinfo=SHANGHAI)


def test_listing_shares_follow_each_listing_and_reach_1_only_when_it_ended() -> None:
    oldest = {"344": day(6), "345": day(1) - timedelta(days=1)}  # 345 listed a row before --since
    shares = listing_shares(WINDOW, ["344", "345", "353"], oldest, set(), NOW)
    assert shares[0] == (WINDOW.until - day(6)) / (WINDOW.until - WINDOW.since)  # type: ignore[operator]
    assert shares[1:] == (ALMOST_DONE, 0.0)  # its last page may still come; 353 has listed nothing yet
    assert listing_shares(WINDOW, ["344", "345"], oldest, {"345"}, NOW)[1] == 1.0


def test_a_sequence_of_observations_moves_and_ends_at_100_percent() -> None:
    # what the backfill of the issue saw: the listings race to --since in seconds, then 300
    # article pages take minutes; each line must say less than 100 % until the last page is in
    observations = [
        BackfillProgress(listed=(0.2, 0.1), listing_pages=2, requested=20, answered=0, elapsed=2),
        BackfillProgress(listed=(0.6, 0.5), listing_pages=8, requested=160, answered=10, elapsed=5),
        BackfillProgress(listed=(1.0, 1.0), listing_pages=14, requested=300, answered=40, elapsed=15),
        BackfillProgress(listed=(1.0, 1.0), listing_pages=14, requested=300, answered=150, elapsed=40),
        BackfillProgress(listed=(1.0, 1.0), listing_pages=14, requested=300, answered=299, elapsed=65),
        BackfillProgress(listed=(1.0, 1.0), listing_pages=14, requested=300, answered=300, elapsed=66),
    ]
    shares = [progress.share for progress in observations]
    assert shares == sorted(shares) and len(set(shares)) == len(shares)  # it moves, forward
    assert all(share < 1 for share in shares[:-1]) and shares[-1] == 1.0
    lefts = [progress.seconds_left() for progress in observations]
    assert all(left is not None and left > 0 for left in lefts[:-1]) and lefts[-1] is None
    assert lefts[2] > lefts[3] > lefts[4]  # once listing is done, the estimate shrinks as pages come in
    assert "100% done" not in observations[-2].note(day(1))
    assert observations[-2].note(day(1)) == (
        "backfill reached 2022-01-01 12:00:00+08:00 (100% of the window listed, 299 of 300 article pages "
        "fetched): 99% done, under a minute left"
    )
    assert (
        observations[-1]
        .note(day(1))
        .endswith("(100% of the window listed, 300 of 300 article pages fetched): 100% done")
    )


def test_everything_already_stored_follows_the_listings_alone() -> None:
    progress = BackfillProgress(listed=(0.5,), listing_pages=5, requested=0, answered=0, elapsed=10)
    assert progress.share == 0.5 and progress.seconds_left() == 10


def test_nothing_listed_yet_has_no_estimate() -> None:
    progress = BackfillProgress(listed=(0.0, 0.0), listing_pages=0, requested=0, answered=0, elapsed=1)
    assert progress.share == 0 and progress.seconds_left() is None
    assert progress.note(day(9)).endswith(": 0% done")


@given(
    listed=st.lists(st.floats(0, 1), min_size=1, max_size=4),
    pages=st.integers(0, 50),
    requested=st.integers(0, 500),
    answered=st.integers(0, 500),
    elapsed=st.floats(0, 1e5),
)
def test_never_100_percent_while_work_remains(
    listed: list[float], pages: int, requested: int, answered: int, elapsed: float
) -> None:
    answered = min(answered, requested)
    progress = BackfillProgress(tuple(listed), pages, requested, answered, elapsed)
    assert 0 <= progress.share <= 1
    if min(listed) < 1 or answered < requested:
        assert progress.share <= ALMOST_DONE and "100% done" not in progress.note(day(1))


def test_the_tracker_places_rows_and_remembers_the_oldest_time_per_listing() -> None:
    tracker = BackfillTracker(WINDOW, started=100.0)
    places = tracker.places(
        ["2022-01-06 12:00:00", None, "not a time", "2021-12-31 23:00:00", "2022-01-11 00:00:00"],
        "344",
        now=NOW,
    )
    assert places == [Place.INSIDE, Place.UNKNOWN, Place.UNKNOWN, Place.BEFORE, Place.AFTER]
    assert tracker.oldest_seen == tracker.oldest_listed["344"] == datetime(2021, 12, 31, 23, tzinfo=SHANGHAI)
    tracker.places(["2022-01-08 12:00:00"], "345", now=NOW)
    tracker.places(["2022-01-09 12:00:00"], "344", now=NOW)  # newer: changes nothing
    assert tracker.oldest_listed == {"344": datetime(2021, 12, 31, 23, tzinfo=SHANGHAI), "345": day(8)}
    assert tracker.oldest_seen == datetime(2021, 12, 31, 23, tzinfo=SHANGHAI)


def test_the_tracker_says_nothing_before_it_saw_a_listed_time() -> None:
    tracker = BackfillTracker(WINDOW, started=100.0)
    tracker.places([None], "344", now=NOW)
    assert tracker.note(["344"], listing_pages=1, now=NOW, clock=105.0) is None


def test_the_tracker_feeds_the_estimate() -> None:
    tracker = BackfillTracker(WINDOW, started=100.0)
    tracker.places(["2022-01-06 12:00:00"], "344", now=NOW)
    tracker.places(["2022-01-02 12:00:00"], "345", now=NOW)
    for _ in range(4):
        tracker.article_requested()
    tracker.article_answered()
    tracker.listing_ended("345")
    progress = tracker.progress(["344", "345", "353"], listing_pages=3, now=NOW, clock=130.0)
    assert progress == BackfillProgress(
        listed=listing_shares(WINDOW, ["344", "345", "353"], {"344": day(6)}, {"345"}, NOW),
        listing_pages=3,
        requested=4,
        answered=1,
        elapsed=30.0,
    )
    assert progress.listed[1:] == (1.0, 0.0)  # 345 ended; 353 has listed nothing yet
    assert tracker.note(["344", "345", "353"], listing_pages=3, now=NOW, clock=130.0) == progress.note(day(2))


def test_a_page_is_before_since_only_when_every_dated_row_is() -> None:
    assert page_before_since([Place.BEFORE, Place.UNKNOWN, Place.BEFORE])
    assert not page_before_since([Place.BEFORE, Place.INSIDE])
    assert not page_before_since([Place.UNKNOWN, Place.UNKNOWN])  # no time at all: the pages decide
    assert not page_before_since([])
