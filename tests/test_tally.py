"""Each article once per run, by its best outcome (newsarchive.tally; issue 14: "already stored: 210"
of an archive of 87, copies counted instead of articles)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newsarchive.tally import NEW, REVISED, UNCHANGED, ArticleTally


def test_copies_of_an_article_in_later_batches_count_once() -> None:
    tally = ArticleTally()
    assert tally.add(["A", "B"], [], []) == {UNCHANGED: 2}
    assert tally.add(["A", "B", "A"], [], []) == {}  # the same articles again (another WARC file)
    assert tally.count(UNCHANGED) == 2


def test_the_best_outcome_wins_whatever_the_order() -> None:
    tally = ArticleTally()
    assert tally.add(["A"], ["A"], []) == {NEW: 1}
    assert tally.add(["A"], [], ["A"]) == {}  # revised after being new this run: still one new article
    assert tally.add(["B"], [], []) == {UNCHANGED: 1}
    assert tally.add(["B"], [], ["B"]) == {REVISED: 1, UNCHANGED: -1}  # an unchanged copy, then a change
    assert (tally.count(NEW), tally.count(REVISED), tally.count(UNCHANGED)) == (1, 1, 0)


codes = st.sampled_from("ABCDEF")
batches = st.lists(
    st.tuples(st.lists(codes, max_size=6), st.sets(codes), st.sets(codes)).map(
        lambda batch: (batch[0], batch[1] & set(batch[0]), batch[2] & set(batch[0]) - batch[1])
    ),
    max_size=8,
)


@given(batches)
def test_the_counts_add_up_to_the_distinct_articles(
    written: list[tuple[list[str], set[str], set[str]]],
) -> None:
    tally = ArticleTally()
    totals = {NEW: 0, REVISED: 0, UNCHANGED: 0}
    for stored, new, revised in written:
        for outcome, change in tally.add(stored, new, revised).items():
            totals[outcome] += change
    assert all(value >= 0 for value in totals.values())
    assert sum(totals.values()) == len({code for stored, _, _ in written for code in stored})
    assert totals == {outcome: tally.count(outcome) for outcome in totals}
