"""Articles, not copies: each article a run stored is counted once, by its best outcome (issue 14).

A run can store one article several times: a reparse of WARC files that each hold a copy of it, a
refetch in a later batch. The database counts versions (``stored/unchanged`` once per copy, so a
reparse of two crawls' files said "already stored: 174" of an archive of 87); the summary counts
articles: new beats revised beats unchanged (or stale), so new + revised + already stored is the
number of distinct articles the run handled. Pure; the store pipeline feeds it each written batch.
"""

from __future__ import annotations

from collections.abc import Iterable

from newsarchive.counts import Outcome

NEW, REVISED, UNCHANGED = Outcome.NEW, Outcome.REVISED, Outcome.UNCHANGED
_RANK: dict[str, int] = {UNCHANGED: 0, REVISED: 1, NEW: 2}


class ArticleTally:
    """The best outcome of every article stored so far in one run (memory: one entry per article
    the run stored, as the spiders' record of what they followed)."""

    def __init__(self) -> None:
        self._outcomes: dict[str, str] = {}

    def add(
        self, codes: Iterable[str], new_codes: Iterable[str], revised_codes: Iterable[str]
    ) -> dict[str, int]:
        """Record a written batch (the info codes of its stored articles, and which of them the
        database inserted or revised); returns the change of each outcome's count of articles."""
        new, revised = set(new_codes), set(revised_codes)
        changes: dict[str, int] = {}
        for code in dict.fromkeys(codes):
            outcome = NEW if code in new else REVISED if code in revised else UNCHANGED
            before = self._outcomes.get(code)
            if before is not None and _RANK[before] >= _RANK[outcome]:
                continue
            self._outcomes[code] = outcome
            changes[outcome] = changes.get(outcome, 0) + 1
            if before is not None:
                changes[before] = changes.get(before, 0) - 1
        return {outcome: change for outcome, change in changes.items() if change}

    def count(self, outcome: str) -> int:
        return sum(1 for value in self._outcomes.values() if value == outcome)
