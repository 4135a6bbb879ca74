"""The end-of-run summary (and progress line) computed from a crawl's stats.

Every stats key it reads and every name it gives is in newsarchive.counts: an attribute named like a
:class:`~newsarchive.counts.Recorded` count is that count, and :meth:`RunSummary.recorded` is what
the run history stores, under the same names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from newsarchive import exitcodes
from newsarchive.counts import Count, Outcome, Prefix, Reason, Recorded, Value
from newsarchive.db.runs import INTERRUPTED
from newsarchive.failures import retry_reason
from newsarchive.matching import unmatched

# finish reasons newsarchive sets itself, in words for the one-line error
EARLY_END_REASONS: dict[str, str] = {
    Reason.JOB_LOCK_LOST.value: "another run of the job took its lock after this run's lock was broken"
}
OK = "ok"
FAILED = "failed"
NOTHING_MATCHED = "nothing_matched"  # the run status of exit code 6


@dataclass
class RunSummary:
    responses: int = 0
    article_pages: int = 0
    kept: int = 0
    new: int = 0
    unchanged: int = 0  # already stored: skipped at the listing, or fetched again unchanged (or older)
    revised: int = 0
    refetched: int = 0
    db_retries: int = 0
    near_duplicates: int = 0
    moved: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    listing_errors: dict[str, int] = field(default_factory=dict)
    listing_pages: int = 0
    spider_errors: int = 0
    deadletter: int = 0
    deadletter_file: str | None = None
    not_saved: int = 0
    warc_errors: int = 0
    damaged_records: int = 0  # reparse: damaged stretches of WARC files, skipped
    warc_file: str | None = None
    finish_reason: str | None = None
    requests: int = 0  # HTTP requests sent (retries and robots.txt included): Scrapy's own count
    listing_rows: int = 0
    fields_present: dict[str, int] = field(default_factory=dict)  # optional field -> articles with it
    warnings: list[str] = field(default_factory=list)  # newsarchive.monitor, set by the run history
    responses_by_status: dict[str, int] = field(default_factory=dict)  # HTTP status -> responses
    blocked: dict[str, int] = field(default_factory=dict)  # kind of block -> responses
    gave_up: dict[str, int] = field(default_factory=dict)  # site given up -> requests not sent
    responses_checked: int = 0  # responses checked for blocks: every one but robots.txt
    download_errors: dict[str, int] = field(default_factory=dict)  # reason -> requests given up
    retries: dict[str, int] = field(default_factory=dict)  # reason -> requests sent again
    quirks: dict[str, int] = field(default_factory=dict)  # kind -> responses used despite it
    listing_stopped: dict[str, int] = field(default_factory=dict)  # why listings stopped paging
    refused: dict[str, int] = field(default_factory=dict)  # <kind>_<why> -> requests not sent/followed
    matched: dict[str, int] = field(default_factory=dict)  # <argument>=<value> -> listed rows it matched
    not_found: dict[str, int] = field(default_factory=dict)  # <argument>=<value> -> first page 404
    checked: dict[str, int] = field(default_factory=dict)  # filter argument -> rows checked against it
    arguments: dict[str, str] = field(default_factory=dict)  # checked arguments as given with -a

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> RunSummary:
        def number(key: Count | str) -> int:
            return int(stats.get(key, 0))

        def prefixed(prefix: Prefix) -> dict[str, int]:
            return {
                key[len(prefix) :]: int(value)
                for key, value in sorted(stats.items())
                if key.startswith(prefix)
            }

        skipped = prefixed(Prefix.SKIPPED)
        return cls(
            responses=number(Count.RESPONSES),
            article_pages=number(Count.ARTICLE_PAGES),
            kept=number(Count.KEPT),
            # articles, not copies (newsarchive.tally): a code is inserted once, so stored/new is
            # one per article; the articles/* counts take each article once, by its best outcome
            new=number(Prefix.STORED + Outcome.NEW),
            unchanged=number(Prefix.ARTICLES + Outcome.UNCHANGED) + skipped.pop(Reason.ALREADY_STORED, 0),
            revised=number(Prefix.ARTICLES + Outcome.REVISED),
            refetched=number(Count.REFETCHED),
            db_retries=number(Count.DB_RETRIES),
            near_duplicates=number(Count.NEAR_DUPLICATES),
            moved=number(Prefix.STORED + Outcome.MOVED),
            dropped=prefixed(Prefix.DROPPED),
            skipped=skipped,
            listing_errors=prefixed(Prefix.LISTING_ERROR),
            listing_pages=number(Count.LISTING_PAGES),
            spider_errors=sum(prefixed(Prefix.SPIDER_EXCEPTIONS).values()),
            deadletter=number(Count.DEADLETTER),
            deadletter_file=stats.get(Value.DEADLETTER_FILE),
            not_saved=number(Count.NOT_SAVED),
            warc_errors=number(Count.WARC_ERRORS),
            damaged_records=number(Count.DAMAGED_RECORDS),
            warc_file=stats.get(Value.WARC_FILE),
            finish_reason=stats.get(Value.FINISH_REASON),
            requests=number(Count.REQUESTS),
            listing_rows=number(Count.LISTING_ROWS),
            fields_present=prefixed(Prefix.FIELD_PRESENT),
            warnings=list(stats.get(Value.WARNINGS, [])),
            responses_by_status=prefixed(Prefix.RESPONSE_STATUS),
            blocked=prefixed(Prefix.BLOCKED),
            gave_up=prefixed(Prefix.GAVE_UP),
            responses_checked=number(Count.RESPONSES_CHECKED),
            download_errors=prefixed(Prefix.DOWNLOAD_ERROR),
            retries=_merged((retry_reason(k), v) for k, v in prefixed(Prefix.RETRY).items()),
            quirks=prefixed(Prefix.QUIRK),
            listing_stopped=prefixed(Prefix.LISTING_STOPPED),
            refused=prefixed(Prefix.REFUSED),
            matched=prefixed(Prefix.MATCHED),
            not_found=prefixed(Prefix.NOT_FOUND),
            checked=prefixed(Prefix.CHECKED),
            arguments={
                key[len(Prefix.ARGUMENT) :]: str(value)
                for key, value in sorted(stats.items())
                if key.startswith(Prefix.ARGUMENT)
            },
        )

    def recorded(self) -> dict[str, Any]:
        """The counts the run history stores (``newsarchive runs --json`` shows them): every
        :class:`~newsarchive.counts.Recorded` name but the monitor's warnings (the history adds
        those), each this summary's attribute of the same name."""
        return {
            name.value: _plain(getattr(self, name.value))
            for name in Recorded
            if name is not Recorded.WARNINGS
        }

    @property
    def nothing_matched(self) -> list[str]:
        """One warning line per spider argument that matched nothing (newsarchive.matching)."""
        return unmatched(self.matched, self.not_found, self.checked, self.arguments)

    @property
    def errors(self) -> dict[str, Any]:
        """``{"total": …, "by_kind": …}``: :attr:`error_total` and :attr:`errors_by_kind`."""
        return {"total": self.error_total, "by_kind": self.errors_by_kind}

    @property
    def blocks(self) -> int:
        return sum(self.blocked.values())

    @property
    def mostly_blocked(self) -> bool:
        """The source is refusing us: at least half the responses checked were blocks, or the run
        gave a site up after blocks in a row (``NEWSARCHIVE_BLOCK_LIMIT``)."""
        return bool(self.gave_up) or (self.blocks > 0 and 2 * self.blocks >= self.responses_checked)

    @property
    def interrupted(self) -> bool:
        """Stopped by Ctrl-C or SIGTERM: what it fetched is stored; the same command continues."""
        return self.finish_reason == Reason.SHUTDOWN

    @property
    def download_error_total(self) -> int:
        return sum(self.download_errors.values())

    @property
    def error_total(self) -> int:
        return self.download_error_total + self.spider_errors + sum(self.listing_errors.values())

    @property
    def errors_by_kind(self) -> dict[str, int]:
        """The errors behind :attr:`error_total`: each listing error reason, ``download`` and ``spider``."""
        return {**self.listing_errors, "download": self.download_error_total, "spider": self.spider_errors}

    def problems(self, spider: str, failure: str | None = None) -> list[str]:
        """Why this run failed, one line each; none for a run that succeeded.

        The one place a run's outcome is decided: the exit status of ``newsarchive crawl`` and the
        status recorded in the run history both come from here. ``failure`` is a run that could not
        start or crashed (its one-line error)."""
        out: list[str] = []
        if failure:
            out.append(f"{spider} failed: {failure}")
        elif self.finish_reason not in (None, "finished", Reason.SHUTDOWN):
            why = EARLY_END_REASONS.get(self.finish_reason)
            out.append(f"{spider} ended early: {self.finish_reason}" + (f" ({why})" if why else ""))
        unread = (
            self.error_total
            or self.blocks
            or self.skipped.get(Reason.ROBOTS_TXT)
            or sum(self.refused.values())
        )
        if self.listing_pages == 0 and unread and spider != "reparse":  # reparse reads no listing
            out.append(f"{spider} could not read any listing page")
        if self.mostly_blocked:
            out.append(
                f"{spider} was blocked: {self.blocks} of {self.responses_checked} responses were blocks"
                + _breakdown(self.blocked)
                + "".join(f"; gave up on {site}" for site in self.gave_up)
            )
        if self.warc_errors:
            out.append(f"{self.warc_errors} responses could not be archived")
        if self.damaged_records:  # the rest of each file was reparsed; what was damaged is lost
            out.append(f"{self.damaged_records} damaged WARC records were skipped")
        if self.deadletter:
            out.append(
                f"{self.deadletter} articles could not be stored; they were saved to "
                f"{self.deadletter_file or 'the dead-letter folder'} (store them with newsarchive load)"
            )
        if self.not_saved:
            out.append(
                f"{self.not_saved} articles could be neither stored nor saved to a dead-letter folder; "
                "the next run fetches them again"
            )
        return out

    def exit_code(self, spider: str, failure: str | None = None) -> int:
        """The ``newsarchive`` exit code of this run (see newsarchive.exitcodes)."""
        if self.interrupted and not failure:
            return exitcodes.INTERRUPTED
        if self.problems(spider, failure):
            return exitcodes.BLOCKED if self.mostly_blocked else exitcodes.FAILED
        if self.nothing_matched:  # a mistyped filter or column: a failure for schedulers, not "nothing new"
            return exitcodes.NOTHING_MATCHED
        if spider != "reparse" and not (self.new or self.revised):
            return exitcodes.NOTHING_NEW
        return exitcodes.OK

    def status(self, spider: str, failure: str | None = None) -> str:
        """``interrupted`` when a signal stopped it, else ``failed`` when the run had :meth:`problems`,
        else ``nothing_matched`` when an argument matched nothing (:attr:`nothing_matched`), else ``ok``."""
        if self.interrupted and not failure:
            return INTERRUPTED
        if self.problems(spider, failure):
            return FAILED
        return NOTHING_MATCHED if self.nothing_matched else OK

    def progress_line(self) -> str:
        return (
            f"{self.responses} responses, {self.article_pages} article pages, {self.kept} articles kept "
            f"({self.new} written so far), {sum(self.dropped.values())} dropped, {self.error_total} errors"
        )

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        out = [
            f"new articles stored:   {self.new}",
            f"already stored:        {self.unchanged}",
            f"revised:               {self.revised}"
            + (f"  ({self.refetched} stored articles fetched again)" if self.refetched else ""),
            f"near-duplicates linked: {self.near_duplicates}",
            f"moved to 7x24 feed:    {self.moved}",
            f"dropped:               {sum(self.dropped.values())}" + _breakdown(self.dropped),
            f"skipped:               {sum(self.skipped.values())}" + _breakdown(self.skipped),
            f"errors:                {self.error_total}" + _breakdown(self.errors_by_kind),
            f"responses received:    {self.responses} ({self.article_pages} article pages)",
        ]
        if self.download_errors:
            out.append(
                f"downloads failed:      {self.download_error_total}" + _breakdown(self.download_errors)
            )
        if self.retries:
            out.append(f"requests retried:      {sum(self.retries.values())}" + _breakdown(self.retries))
        if self.quirks:
            out.append(f"quirks handled:        {sum(self.quirks.values())}" + _breakdown(self.quirks))
        if self.refused:
            out.append(f"refused:               {sum(self.refused.values())}" + _breakdown(self.refused))
        if self.blocks or self.gave_up:
            out.append(
                f"blocked:               {self.blocks}"
                + _breakdown(self.blocked)
                + "".join(f"; gave up on {site} ({n} requests not sent)" for site, n in self.gave_up.items())
            )
        if self.db_retries:
            out.append(f"database retries:      {self.db_retries}")
        if self.deadletter:
            out.append(f"dead-lettered:         {self.deadletter}  (in {self.deadletter_file})")
        if self.not_saved:
            out.append(f"not saved:             {self.not_saved}  (fetched again by the next run)")
        if self.damaged_records:
            out.append(f"damaged WARC records:  {self.damaged_records} (skipped)")
        if self.warc_file:
            out.append(f"raw responses in:      {self.warc_file}")
        return out


def _merged(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for key, value in pairs:
        merged[key] = merged.get(key, 0) + value
    return dict(sorted(merged.items()))


def _plain(value: Any) -> Any:
    """A stored copy: dicts copied, so the record never shares a dict with the summary."""
    return dict(value) if isinstance(value, dict) else value


def _breakdown(counts: dict[str, int]) -> str:
    shown = {key: value for key, value in counts.items() if value}
    return f"  ({', '.join(f'{key}: {value}' for key, value in shown.items())})" if shown else ""
