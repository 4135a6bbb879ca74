"""The paging policy as pure logic (newsarchive.paging): when a listing stops, and why. No Scrapy."""

from __future__ import annotations

import pytest

from newsarchive.paging import BACKFILL_MAX_PAGES, ListingPaging, PagingLimits, Stop


def test_pages_given_win_over_the_setting() -> None:
    assert PagingLimits.for_job(pages=None, max_pages=5, stop_after_known_pages=1, backfill=False) == (
        PagingLimits(max_pages=5, stop_after_known_pages=1)
    )
    assert PagingLimits.for_job(pages=3, max_pages=5, stop_after_known_pages=1, backfill=False).max_pages == 3


def test_a_backfill_pages_back_to_since_whatever_is_stored() -> None:
    limits = PagingLimits.for_job(pages=None, max_pages=5, stop_after_known_pages=2, backfill=True)
    assert limits == PagingLimits(max_pages=BACKFILL_MAX_PAGES, stop_after_known_pages=0)
    assert not limits.stops_when_quiet
    capped = PagingLimits.for_job(pages=7, max_pages=5, stop_after_known_pages=2, backfill=True)
    assert capped.max_pages == 7


def test_after_an_unclean_run_every_listing_is_paged_to_the_limit() -> None:
    limits = PagingLimits(max_pages=5, stop_after_known_pages=1)
    full = limits.after_unclean_run()
    assert full == PagingLimits(max_pages=5, stop_after_known_pages=0, full_pass=True)
    # a run that never stops early (a backfill, the setting at 0) has no gap to close: no full pass
    never = PagingLimits(max_pages=5)
    assert never.after_unclean_run() is never


def test_a_listing_stops_after_the_quiet_pages_in_a_row() -> None:
    paging = ListingPaging(PagingLimits(max_pages=10, stop_after_known_pages=2))
    paging.page_followed("344", requested=0)
    assert paging.stop("344", 1, has_entries=True) is None  # one quiet page of two
    paging.page_followed("344", requested=0)
    assert paging.stop("344", 2, has_entries=True) is Stop.NOTHING_NEW
    assert paging.stopped == {"344": Stop.NOTHING_NEW}
    assert Stop.NOTHING_NEW.counted


def test_a_page_that_asked_for_something_resets_the_quiet_count() -> None:
    paging = ListingPaging(PagingLimits(max_pages=10, stop_after_known_pages=2))
    paging.page_followed("344", requested=0)
    paging.page_followed("344", requested=3)
    paging.page_followed("344", requested=0)
    assert paging.quiet_pages("344") == 1
    assert paging.stop("344", 3, has_entries=True) is None


def test_listings_are_counted_apart() -> None:
    paging = ListingPaging(PagingLimits(max_pages=10, stop_after_known_pages=1))
    paging.page_followed("344", requested=0)
    paging.page_followed("345", requested=1)
    assert paging.stop("344", 1, has_entries=True) is Stop.NOTHING_NEW
    assert paging.stop("345", 1, has_entries=True) is None
    assert paging.stopped == {"344": Stop.NOTHING_NEW}


def test_without_a_quiet_limit_quiet_pages_never_stop_a_listing() -> None:
    paging = ListingPaging(PagingLimits(max_pages=10))
    for _ in range(5):
        paging.page_followed("344", requested=0)
    assert paging.stop("344", 5, has_entries=True) is None


@pytest.mark.parametrize(
    ("page", "has_entries", "has_next", "stop"),
    [
        (1, False, True, Stop.NO_ROWS),
        (1, True, False, Stop.LAST_PAGE),
        (3, True, True, Stop.PAGE_LIMIT),
        (4, True, True, Stop.PAGE_LIMIT),
        (2, True, True, None),
    ],
)
def test_the_natural_ends_of_a_listing_are_not_counted(
    page: int, has_entries: bool, has_next: bool, stop: Stop | None
) -> None:
    paging = ListingPaging(PagingLimits(max_pages=3, stop_after_known_pages=1))
    assert paging.stop("344", page, has_entries=has_entries, has_next=has_next) is stop
    assert stop is None or not stop.counted


def test_the_page_limit_comes_before_the_counted_stops() -> None:
    # as before the policy moved out of the spider: the last allowed page is not a "nothing new" stop
    paging = ListingPaging(PagingLimits(max_pages=2, stop_after_known_pages=1))
    paging.page_followed("344", requested=0)
    paging.page_before_since("344")
    assert paging.stop("344", 2, has_entries=True) is Stop.PAGE_LIMIT


def test_a_page_entirely_before_since_stops_its_listing() -> None:
    paging = ListingPaging(PagingLimits(max_pages=BACKFILL_MAX_PAGES))
    paging.page_before_since("344")
    assert paging.stop("344", 1, has_entries=True) is Stop.BEFORE_SINCE
    assert Stop.BEFORE_SINCE.counted
    assert paging.stop("345", 1, has_entries=True) is None


def test_a_full_pass_is_announced_once() -> None:
    paging = ListingPaging(PagingLimits(max_pages=5).after_unclean_run())
    assert not paging.full_pass_started()  # nothing to close: not a full pass
    paging = ListingPaging(PagingLimits(max_pages=5, stop_after_known_pages=1).after_unclean_run())
    assert [paging.full_pass_started() for _ in range(3)] == [True, False, False]
