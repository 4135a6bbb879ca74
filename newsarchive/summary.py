"""The end-of-run summary (and progress line) computed from a crawl's stats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from newsarchive import exitcodes
from newsarchive.db.runs import INTERRUPTED
from newsarchive.failures import retry_reason
from newsarchive.matching import unmatched

DROPPED_PREFIX = "newsarchive/dropped/"
# stored/<outcome>: versions the database wrote (a reparse of two files holding one article writes
# it twice); articles/<outcome>: distinct articles of the run by best outcome (newsarchive.tally)
ARTICLES_PREFIX = "newsarchive/articles/"
SKIPPED_PREFIX = "newsarchive/skipped/"
LISTING_ERROR_PREFIX = "newsarchive/listing_error/"
RESPONSE_STATUS_PREFIX = "downloader/response_status_count/"
DOWNLOAD_ERROR_PREFIX = "newsarchive/download_error/"  # newsarchive.failures reasons
RETRY_PREFIX = "retry/reason_count/"  # Scrapy's RetryMiddleware
QUIRK_PREFIX = "newsarchive/quirk/"  # odd but usable responses: unasked JSONP, charset trouble
LISTING_STOPPED_PREFIX = "newsarchive/listing_stopped/"
REQUESTS_SENT = "newsarchive/requests_sent"  # counted by newsarchive.history.RunHistoryExtension
WARNINGS = "newsarchive/warnings"  # set by newsarchive.history.RunHistoryExtension (newsarchive.monitor)
# counted by newsarchive.blocks.BlockMiddleware (kept here: this module imports no Scrapy component)
BLOCKED_PREFIX = "newsarchive/blocked/"
GAVE_UP_PREFIX = "newsarchive/gave_up/"
# counted by newsarchive.hosts: requests, redirects and refreshes refused for where they go
REFUSED_PREFIX = "newsarchive/refused/"
RESPONSES_CHECKED = "newsarchive/responses_checked"
DEADLETTER_FILE = "newsarchive/deadletter_file"  # set by the store pipeline: where dead letters went
NOT_SAVED = "newsarchive/not_saved"  # articles neither stored nor dead-lettered (fetched again next run)
ROBOTS_TXT_SKIP = "robots_txt"  # the skipped reason of a request robots.txt disallows
# a parser raised on one response: listing_error/parser_error or dropped/parser_error (issue 13)
PARSER_ERROR = "parser_error"
DAMAGED_RECORDS = "damaged_records"  # newsarchive/damaged_records: WARC stretches reparse skipped
# newsarchive.joblock: the finish reason (and dropped reason of the articles it did not store) of a
# run whose job lock another run took; how often a run took its lock back after it had gone
JOB_LOCK_LOST = "job_lock_lost"
JOB_LOCK_RETAKEN = "newsarchive/job_lock/retaken"
# Scrapy's finish reason of a crawl stopped by a signal (Ctrl-C, SIGTERM, a systemd stop): the run is
# interrupted, not failed (newsarchive.interrupt); the skipped reason of the requests it did not send
SHUTDOWN = "shutdown"
INTERRUPTED_SKIP = "interrupted"
# finish reasons newsarchive sets itself, in words for the one-line error
EARLY_END_REASONS = {JOB_LOCK_LOST: "another run of the job took its lock after this run's lock was broken"}
# nothing matched (newsarchive.matching): per <argument>=<value>, the listed rows it matched, a
# listing's first page answering 404; per filter argument, the rows checked against it; the value of
# each checked argument given with -a (a string: absent when the spider's default was used)
MATCHED_PREFIX = "newsarchive/matched/"
NOT_FOUND_PREFIX = "newsarchive/not_found/"
CHECKED_PREFIX = "newsarchive/checked/"
ARGUMENT_PREFIX = "newsarchive/argument/"
OK = "ok"
FAILED = "failed"
NOTHING_MATCHED = "nothing_matched"  # the run status of exit code 6


@dataclass
class RunSummary:
    responses: int = 0
    articles_fetched: int = 0
    kept: int = 0
    new: int = 0
    already_stored: int = 0  # articles skipped at the listing, or fetched again and unchanged (or older)
    revised: int = 0
    refetched: int = 0
    db_retries: int = 0
    near_duplicates: int = 0
    moved: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    listing_errors: dict[str, int] = field(default_factory=dict)
    listing_pages: int = 0
    download_errors: int = 0
    spider_errors: int = 0
    deadletter: int = 0
    deadletter_file: str | None = None
    not_saved: int = 0
    warc_errors: int = 0
    damaged_records: int = 0  # reparse: damaged stretches of WARC files, skipped
    warc_file: str | None = None
    finish_reason: str | None = None
    requests: int = 0  # HTTP requests sent (retries included)
    listing_rows: int = 0
    fields_present: dict[str, int] = field(default_factory=dict)  # optional field -> articles with it
    warnings: list[str] = field(default_factory=list)  # newsarchive.monitor, set by the run history
    responses_by_status: dict[str, int] = field(default_factory=dict)  # HTTP status -> responses
    blocked: dict[str, int] = field(default_factory=dict)  # kind of block -> responses
    gave_up: dict[str, int] = field(default_factory=dict)  # site given up -> requests not sent
    responses_checked: int = 0  # responses checked for blocks: every one but robots.txt
    download_failures: dict[str, int] = field(default_factory=dict)  # reason -> requests given up
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
        def prefixed(prefix: str) -> dict[str, int]:
            return {
                key[len(prefix) :]: int(value)
                for key, value in sorted(stats.items())
                if key.startswith(prefix)
            }

        return cls(
            responses=int(stats.get("response_received_count", 0)),
            articles_fetched=int(stats.get("newsarchive/article_pages", 0)),
            kept=int(stats.get("item_scraped_count", 0)),
            # articles, not copies (newsarchive.tally): a code is inserted once, so stored/new is
            # one per article; the articles/* counts take each article once, by its best outcome
            new=int(stats.get("newsarchive/stored/new", 0)),
            already_stored=int(stats.get(f"{ARTICLES_PREFIX}unchanged", 0))
            + int(stats.get("newsarchive/skipped/already_stored", 0)),
            revised=int(stats.get(f"{ARTICLES_PREFIX}revised", 0)),
            refetched=int(stats.get("newsarchive/refetched", 0)),
            db_retries=int(stats.get("newsarchive/db_retries", 0)),
            near_duplicates=int(stats.get("newsarchive/near_duplicates_linked", 0)),
            moved=int(stats.get("newsarchive/stored/moved_to_preferred_feed", 0)),
            dropped=prefixed(DROPPED_PREFIX),
            skipped={k: v for k, v in prefixed(SKIPPED_PREFIX).items() if k != "already_stored"},
            listing_errors=prefixed(LISTING_ERROR_PREFIX),
            listing_pages=int(stats.get("newsarchive/listing_pages", 0)),
            download_errors=sum(prefixed(DOWNLOAD_ERROR_PREFIX).values()),
            spider_errors=sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/")),
            deadletter=int(stats.get("newsarchive/deadletter", 0)),
            deadletter_file=stats.get(DEADLETTER_FILE),
            not_saved=int(stats.get(NOT_SAVED, 0)),
            warc_errors=int(stats.get("newsarchive/warc_errors", 0)),
            damaged_records=int(stats.get(f"newsarchive/{DAMAGED_RECORDS}", 0)),
            warc_file=stats.get("newsarchive/warc_file"),
            finish_reason=stats.get("finish_reason"),
            requests=int(stats.get(REQUESTS_SENT, stats.get("downloader/request_count", 0))),
            listing_rows=int(stats.get("newsarchive/listing_rows", 0)),
            fields_present=prefixed("newsarchive/field_present/"),
            warnings=list(stats.get(WARNINGS, [])),
            responses_by_status=prefixed(RESPONSE_STATUS_PREFIX),
            blocked=prefixed(BLOCKED_PREFIX),
            gave_up=prefixed(GAVE_UP_PREFIX),
            responses_checked=int(stats.get(RESPONSES_CHECKED, 0)),
            download_failures=prefixed(DOWNLOAD_ERROR_PREFIX),
            retries=_merged((retry_reason(k), v) for k, v in prefixed(RETRY_PREFIX).items()),
            quirks=prefixed(QUIRK_PREFIX),
            listing_stopped=prefixed(LISTING_STOPPED_PREFIX),
            refused=prefixed(REFUSED_PREFIX),
            matched=prefixed(MATCHED_PREFIX),
            not_found=prefixed(NOT_FOUND_PREFIX),
            checked=prefixed(CHECKED_PREFIX),
            arguments={
                key[len(ARGUMENT_PREFIX) :]: str(value)
                for key, value in sorted(stats.items())
                if key.startswith(ARGUMENT_PREFIX)
            },
        )

    @property
    def unmatched(self) -> list[str]:
        """One warning line per spider argument that matched nothing (newsarchive.matching)."""
        return unmatched(self.matched, self.not_found, self.checked, self.arguments)

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
        return self.finish_reason == SHUTDOWN

    @property
    def errors(self) -> int:
        return self.download_errors + self.spider_errors + sum(self.listing_errors.values())

    @property
    def errors_by_kind(self) -> dict[str, int]:
        """The errors behind :attr:`errors`: each listing error reason, ``download`` and ``spider``."""
        return {**self.listing_errors, "download": self.download_errors, "spider": self.spider_errors}

    def problems(self, spider: str, failure: str | None = None) -> list[str]:
        """Why this run failed, one line each; none for a run that succeeded.

        The one place a run's outcome is decided: the exit status of ``newsarchive crawl`` and the
        status recorded in the run history both come from here. ``failure`` is a run that could not
        start or crashed (its one-line error)."""
        out: list[str] = []
        if failure:
            out.append(f"{spider} failed: {failure}")
        elif self.finish_reason not in (None, "finished", SHUTDOWN):
            why = EARLY_END_REASONS.get(self.finish_reason)
            out.append(f"{spider} ended early: {self.finish_reason}" + (f" ({why})" if why else ""))
        unread = self.errors or self.blocks or self.skipped.get(ROBOTS_TXT_SKIP) or sum(self.refused.values())
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
        if self.unmatched:  # a mistyped filter or column: a failure for schedulers, not "nothing new"
            return exitcodes.NOTHING_MATCHED
        if spider != "reparse" and not (self.new or self.revised):
            return exitcodes.NOTHING_NEW
        return exitcodes.OK

    def status(self, spider: str, failure: str | None = None) -> str:
        """``interrupted`` when a signal stopped it, else ``failed`` when the run had :meth:`problems`,
        else ``nothing_matched`` when an argument matched nothing (:attr:`unmatched`), else ``ok``."""
        if self.interrupted and not failure:
            return INTERRUPTED
        if self.problems(spider, failure):
            return FAILED
        return NOTHING_MATCHED if self.unmatched else OK

    def progress_line(self) -> str:
        return (
            f"{self.responses} responses, {self.articles_fetched} article pages, {self.kept} articles kept "
            f"({self.new} written so far), {sum(self.dropped.values())} dropped, {self.errors} errors"
        )

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        out = [
            f"new articles stored:   {self.new}",
            f"already stored:        {self.already_stored}",
            f"revised:               {self.revised}"
            + (f"  ({self.refetched} stored articles fetched again)" if self.refetched else ""),
            f"near-duplicates linked: {self.near_duplicates}",
            f"moved to 7x24 feed:    {self.moved}",
            f"dropped:               {sum(self.dropped.values())}" + _breakdown(self.dropped),
            f"skipped:               {sum(self.skipped.values())}" + _breakdown(self.skipped),
            f"errors:                {self.errors}"
            + _breakdown(
                {**self.listing_errors, "download": self.download_errors, "spider": self.spider_errors}
            ),
            f"responses received:    {self.responses} ({self.articles_fetched} article pages)",
        ]
        if self.download_failures:
            out.append(f"downloads failed:      {self.download_errors}" + _breakdown(self.download_failures))
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


def _breakdown(counts: dict[str, int]) -> str:
    shown = {key: value for key, value in counts.items() if value}
    return f"  ({', '.join(f'{key}: {value}' for key, value in shown.items())})" if shown else ""
