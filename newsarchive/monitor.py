"""End-of-run warnings: compare a run's counts with the previous runs of the same job.

A scheduled job's numbers are steady; when a site is redesigned or starts refusing us they move
first. Three checks, each against the median of up to ``HISTORY`` previous finished runs (at least
``MIN_HISTORY`` are needed, so a new job never warns):

- **rows**: listing rows per listing page fell below ``ROWS_FLOOR`` of the usual (a listing that
  lost its rows or its markup);
- **parsing**: the share of fetched article pages that produced no article (dropped for no title,
  no body, no date, an empty body…) rose above ``PARSE_FAILURE_CEILING`` and ``PARSE_FAILURE_RISE``
  over the usual (the usual sign of a redesigned article page);
- **coverage**: a field the job's articles normally carry (``media``, ``summary``, ``author``,
  present in at least ``COVERAGE_USUAL`` of them) is present in fewer than ``COVERAGE_FLOOR``.

Pure functions over the counts the run history stores (:meth:`newsarchive.summary.RunSummary.recorded`),
read by their names in :class:`newsarchive.counts.Recorded`; a run recorded before a count existed
reads it as zero (:func:`newsarchive.counts.recorded_value`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

from newsarchive.counts import Reason, Recorded, recorded_value
from newsarchive.fields import COVERED_FIELDS as COVERED_FIELDS  # pipelines/coverage.py reads it here

HISTORY = 10
MIN_HISTORY = 3
ROWS_FLOOR = 0.5
PARSE_FAILURE_CEILING = 0.2
PARSE_FAILURE_RISE = 0.1
COVERAGE_USUAL = 0.8
COVERAGE_FLOOR = 0.5
MIN_SAMPLE = 5  # a run with fewer listing pages / article pages / articles is not judged
# Drop reasons that mean the article page did not parse into a usable article.
PARSE_FAILURES = frozenset(
    {"no_title", "no_body", "no_date", "empty_body", "clean_failed", "bad_date", Reason.PARSER_ERROR}
)


def run_warnings(current: Mapping[str, Any], previous: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per warning for a run with these counts, given the previous runs' counts."""
    history = list(previous)[:HISTORY]
    if len(history) < MIN_HISTORY:
        return []
    return [*_rows(current, history), *_parsing(current, history), *_coverage(current, history)]


def _rows(current: Mapping[str, Any], history: list[Mapping[str, Any]]) -> list[str]:
    now = _rows_per_page(current)
    usual = _usual([_rows_per_page(run) for run in history])
    if now is None or usual is None or usual == 0 or now >= ROWS_FLOOR * usual:
        return []
    return [f"listing pages held {now:.1f} rows each, usually {usual:.1f}: has a listing changed?"]


def _parsing(current: Mapping[str, Any], history: list[Mapping[str, Any]]) -> list[str]:
    now = _parse_failure_share(current)
    usual = _usual([_parse_failure_share(run) for run in history])
    if now is None or usual is None:
        return []
    if now <= PARSE_FAILURE_CEILING or now <= usual + PARSE_FAILURE_RISE:
        return []
    return [
        f"{now:.0%} of article pages gave no article (usually {usual:.0%}): has the article page changed?"
    ]


def _coverage(current: Mapping[str, Any], history: list[Mapping[str, Any]]) -> list[str]:
    warnings = []
    for name in COVERED_FIELDS:
        now = _field_share(current, name)
        usual = _usual([_field_share(run, name) for run in history])
        if now is None or usual is None or usual < COVERAGE_USUAL or now >= COVERAGE_FLOOR:
            continue
        warnings.append(f"only {now:.0%} of articles have a {name} (usually {usual:.0%})")
    return warnings


def _rows_per_page(counts: Mapping[str, Any]) -> float | None:
    pages = int(recorded_value(counts, Recorded.LISTING_PAGES))
    if pages < 1 or not _judged(pages):
        return None
    return int(recorded_value(counts, Recorded.LISTING_ROWS)) / pages


def _parse_failure_share(counts: Mapping[str, Any]) -> float | None:
    pages = int(recorded_value(counts, Recorded.ARTICLE_PAGES))
    if not _judged(pages):
        return None
    dropped = recorded_value(counts, Recorded.DROPPED)
    failed = sum(int(value) for key, value in dropped.items() if key in PARSE_FAILURES)
    return failed / pages


def _field_share(counts: Mapping[str, Any], name: str) -> float | None:
    kept = int(recorded_value(counts, Recorded.KEPT))
    if not _judged(kept):
        return None
    return int(recorded_value(counts, Recorded.FIELDS_PRESENT).get(name, 0)) / kept


def _judged(amount: int) -> bool:
    return amount >= MIN_SAMPLE


def _usual(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return median(known) if len(known) >= MIN_HISTORY else None
