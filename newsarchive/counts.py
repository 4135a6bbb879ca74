"""The one vocabulary of counts: every stats key newsarchive writes or reads, and the one way to count.

Three kinds of name, each a :class:`~enum.StrEnum` whose value is the stats key:

* :class:`Count`: one number (``newsarchive/article_pages``), counted with :meth:`Counter.count`;
* :class:`Prefix`: a family of numbers by reason (``newsarchive/dropped/no_title``), counted with
  :meth:`Counter.count_reason`; the reasons used by more than one module are in :class:`Reason`;
* :class:`Value`: a value set once (``newsarchive/warc_file``), set with :meth:`Counter.set`.

Where Scrapy keeps a count itself (requests sent, responses, items kept, retries, statuses) its key is
named here and used, never counted again. The run's counts as the summary, the progress line, the
run history and the monitor name them are :class:`Recorded`: the :class:`~newsarchive.summary.RunSummary`
attribute and the run-history key are the same word. Documented in docs/storage.md ("Counts").
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the run views read Recorded without importing Scrapy
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

NAMESPACE = "newsarchive/"


class Count(StrEnum):
    """One number of a run (its short name, the part after ``newsarchive/``, is :attr:`short`)."""

    LISTING_PAGES = "newsarchive/listing_pages"  # listing pages read
    LISTING_ROWS = "newsarchive/listing_rows"  # rows on them, usable or not
    LISTING_END = "newsarchive/listing_end"  # declared sites: a listing that said it has no next page
    FULL_PASS = "newsarchive/full_pass"  # the run paged every listing (the last one was not clean)
    ARTICLE_PAGES = "newsarchive/article_pages"  # article pages fetched (or replayed) and parsed
    CONTINUATION_PAGES = "newsarchive/continuation_pages"  # a long article's later pages (<code>_2.html …)
    REFETCHED = "newsarchive/refetched"  # stored articles fetched again (NEWSARCHIVE_REFETCH_HOURS)
    NEAR_DUPLICATES = "newsarchive/near_duplicates_linked"  # articles linked with duplicate_of
    DB_RETRIES = "newsarchive/db_retries"
    FITTED_FIELDS = "newsarchive/fitted_fields"  # over-long values cut to fit their column
    DEADLETTER = "newsarchive/deadletter"  # items saved to a dead-letter file
    NOT_SAVED = "newsarchive/not_saved"  # items neither stored nor dead-lettered (fetched next run)
    WARC_RECORDS = "newsarchive/warc_records"
    WARC_ERRORS = "newsarchive/warc_errors"  # responses that could not be archived
    DAMAGED_RECORDS = "newsarchive/damaged_records"  # reparse: damaged WARC stretches skipped
    UNKNOWN_MEDIA = "newsarchive/unknown_media"  # distinct media names not in media.toml
    RESPONSES_CHECKED = "newsarchive/responses_checked"  # checked for blocks: all but robots.txt
    JOB_LOCK_RETAKEN = "newsarchive/job_lock/retaken"  # the run took its lost job lock back
    # Scrapy's own: read, never counted here
    REQUESTS = "downloader/request_count"  # HTTP requests sent, retries and robots.txt included
    RESPONSES = "response_received_count"
    KEPT = "item_scraped_count"  # items out of the last pipeline
    ROBOTS_TXT_REQUESTS = "robotstxt/request_count"  # counted by newsarchive.robots as Scrapy's does

    @property
    def short(self) -> str:
        return self.value.removeprefix(NAMESPACE)


class Prefix(StrEnum):
    """A family of counts by reason: ``<prefix><reason>``."""

    DROPPED = "newsarchive/dropped/"  # items dropped, by reason (pipelines, the spiders' parsers)
    SKIPPED = "newsarchive/skipped/"  # listed rows or requests not followed, by reason
    STORED = "newsarchive/stored/"  # versions the database wrote, by outcome
    ARTICLES = "newsarchive/articles/"  # distinct articles of the run by best outcome (newsarchive.tally)
    LISTING_ERROR = "newsarchive/listing_error/"  # listing responses that could not be read
    LISTING_STOPPED = "newsarchive/listing_stopped/"  # why a listing stopped paging
    DOWNLOAD_ERROR = "newsarchive/download_error/"  # requests given up (newsarchive.failures reasons)
    QUIRK = "newsarchive/quirk/"  # odd but usable responses: unasked JSONP, charset trouble
    BLOCKED = "newsarchive/blocked/"  # block responses by kind (newsarchive.blocks)
    GAVE_UP = "newsarchive/gave_up/"  # requests not sent to a site given up (newsarchive.blocks)
    REFUSED = "newsarchive/refused/"  # <kind>_<why>: not sent or followed for where it goes
    CLEANED = "newsarchive/cleaned/"  # what the cleaners removed
    FIELD_PRESENT = "newsarchive/field_present/"  # articles carrying each optional field
    MATCHED = "newsarchive/matched/"  # <argument>=<value>: listed rows it matched
    NOT_FOUND = "newsarchive/not_found/"  # <argument>=<value>: its listing's first page was a 404
    CHECKED = "newsarchive/checked/"  # filter argument: rows checked against it
    ARGUMENT = "newsarchive/argument/"  # a Value: each checked argument as given with -a
    # Scrapy's own
    RESPONSE_STATUS = "downloader/response_status_count/"
    RETRY = "retry/reason_count/"
    SPIDER_EXCEPTIONS = "spider_exceptions/"

    @property
    def short(self) -> str:
        return self.value.removeprefix(NAMESPACE).removesuffix("/")

    def reason_name(self, reason: str) -> str:
        """The name of ``reason`` in this family (``skipped/bad_code``), as :func:`named` and
        :meth:`Counter.count_named` read it: what a library function hands back for its caller
        to count (newsarchive.assemble.read_article)."""
        return f"{self.short}/{reason}"


class Reason(StrEnum):
    """Reasons (and finish reasons) more than one module names."""

    ALREADY_STORED = "already_stored"  # skipped: stored, not due for a re-fetch
    ROBOTS_TXT = "robots_txt"  # skipped: robots.txt disallows it
    PARSER_ERROR = "parser_error"  # listing_error/dropped: a parser raised (issue 13)
    JOB_LOCK_LOST = "job_lock_lost"  # finish reason, and skipped: another run took the job's lock
    INTERRUPTED = "interrupted"  # skipped: Ctrl-C or SIGTERM stopped the run (newsarchive.interrupt)
    SHUTDOWN = "shutdown"  # Scrapy's finish reason of a crawl stopped by a signal
    REDIRECT_LOOP = "redirect_loop"  # download_error: a redirect back to a URL of its own chain
    BAD_CODE = "bad_code"  # skipped/dropped: no usable article code (listing row, page, item)
    INCOMPLETE_PAGES = "incomplete_pages"  # dropped: a page of a long article is missing or empty
    ORPHAN_PAGE = "orphan_page"  # skipped (reparse): a long article's later page without its first


class Outcome(StrEnum):
    """What storing an article did: ``stored/<outcome>`` counts versions the database wrote,
    ``articles/<outcome>`` distinct articles by their best outcome (newsarchive.tally)."""

    NEW = "new"
    REVISED = "revised"
    UNCHANGED = "unchanged"  # already stored: the same text, or an older version kept as history
    STALE = "stale_version"  # an older version than the stored one, kept as history
    MOVED = "moved_to_preferred_feed"  # a stored article claimed for the 7x24 feed


class Value(StrEnum):
    """Values set once, not counted."""

    DEADLETTER_FILE = "newsarchive/deadletter_file"  # where dead letters went (the store)
    WARC_FILE = "newsarchive/warc_file"
    WARNINGS = "newsarchive/warnings"  # set by the run history (newsarchive.monitor)
    FINISH_REASON = "finish_reason"  # Scrapy's


class Recorded(StrEnum):
    """The run's counts by name: RunSummary attributes, run-history keys (``newsarchive runs
    --json``), the monitor's inputs, in the order the history stores them.

    These names were never renamed since the run history began (only added to), so a run recorded
    by any earlier version reads with them; a key added later (``refused``, ``nothing_matched`` …)
    is missing from older rows and every reader takes it as zero or empty (:func:`recorded_value`).
    """

    REQUESTS = "requests"
    RESPONSES_BY_STATUS = "responses_by_status"
    NEW = "new"
    UNCHANGED = "unchanged"  # already stored: skipped at the listing, or fetched again unchanged
    REVISED = "revised"
    MOVED = "moved"
    DROPPED = "dropped"
    SKIPPED = "skipped"
    ERRORS = "errors"  # {"total": n, "by_kind": {...}}
    DOWNLOAD_ERRORS = "download_errors"
    RETRIES = "retries"
    QUIRKS = "quirks"
    LISTING_STOPPED = "listing_stopped"
    BLOCKED = "blocked"
    REFUSED = "refused"
    DEADLETTER = "deadletter"
    NOT_SAVED = "not_saved"
    WARC_ERRORS = "warc_errors"
    DB_RETRIES = "db_retries"
    NEAR_DUPLICATES = "near_duplicates"
    NOTHING_MATCHED = "nothing_matched"  # one line per argument that matched nothing
    # what newsarchive.monitor compares between runs of a job
    LISTING_PAGES = "listing_pages"
    LISTING_ROWS = "listing_rows"
    ARTICLE_PAGES = "article_pages"
    KEPT = "kept"
    FIELDS_PRESENT = "fields_present"
    WARNINGS = "warnings"  # added by the run history once the monitor has compared


def recorded_value(counts: Mapping[str, Any] | None, name: Recorded) -> Any:
    """``counts[name]`` of a recorded run, or the empty value of its kind for a row recorded before
    that count existed (0, {} or [])."""
    value = counts.get(name) if counts else None
    if value is not None:
        return value
    return _EMPTY.get(name, 0)


_EMPTY: dict[Recorded, Any] = {
    Recorded.NOTHING_MATCHED: [],
    Recorded.WARNINGS: [],
    Recorded.ERRORS: {"total": 0, "by_kind": {}},
    **{
        name: {}
        for name in (
            Recorded.RESPONSES_BY_STATUS,
            Recorded.DROPPED,
            Recorded.SKIPPED,
            Recorded.DOWNLOAD_ERRORS,
            Recorded.RETRIES,
            Recorded.QUIRKS,
            Recorded.LISTING_STOPPED,
            Recorded.BLOCKED,
            Recorded.REFUSED,
            Recorded.FIELDS_PRESENT,
        )
    },
}


def named(name: str) -> str:
    """The stats key of ``name``: a :class:`Count`'s short name (``listing_pages``) or a
    :class:`Prefix`'s short name and a reason (``skipped/caifuhao``); ValueError for a name not in
    this vocabulary (a typo would otherwise count under a key nothing reads)."""
    if name in _COUNTS:
        return _COUNTS[name]
    prefix, _, reason = name.rpartition("/")
    while prefix and reason:
        if prefix in _PREFIXES:
            return _PREFIXES[prefix] + name[len(prefix) + 1 :]
        prefix, _, _ = prefix.rpartition("/")
    raise ValueError(f"{name!r} is no count of newsarchive.counts")


_COUNTS = {count.short: count.value for count in Count if count.value.startswith(NAMESPACE)}
_PREFIXES = {prefix.short: prefix.value for prefix in Prefix if prefix.value.startswith(NAMESPACE)}


class Counter:
    """Counts into a crawl's stats: built once per component (:meth:`from_crawler`); with no stats
    (a pipeline run by ``newsarchive load`` without a crawl) it counts nothing."""

    def __init__(self, stats: StatsCollector | None) -> None:
        self.stats = stats
        # looked up once: Scrapy's stats collector wraps every attribute access (pipelines count
        # several keys per article)
        self._inc = stats.inc_value if stats is not None else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Counter:
        return cls(crawler.stats)

    # An amount of 0 still creates the key: "matched/<argument>=<value>: 0" is how a value that
    # matched nothing is told (newsarchive.matching).

    def count(self, key: Count, amount: int = 1) -> None:
        if self._inc is not None:
            self._inc(key.value, amount)

    def count_reason(self, prefix: Prefix, reason: str, amount: int = 1) -> None:
        if self._inc is not None:
            self._inc(prefix.value + reason, amount)

    def count_named(self, name: str, amount: int = 1) -> None:
        """Count ``name`` as :func:`named` reads it (the spiders' ``self.count("skipped/…")``)."""
        key = named(name)  # a name not in the vocabulary fails with or without stats
        if self._inc is not None:
            self._inc(key, amount)

    def set(self, key: Value, value: Any) -> None:
        if self.stats is not None:
            self.stats.set_value(key.value, value)

    def set_reason(self, prefix: Prefix, reason: str, value: Any) -> None:
        if self.stats is not None:
            self.stats.set_value(prefix.value + reason, value)

    def get(self, key: Count) -> int:
        return int(self.stats.get_value(key.value, 0)) if self.stats is not None else 0

    def snapshot(self) -> dict[str, Any]:
        """Every stat so far (newsarchive.summary.RunSummary.from_stats reads them)."""
        return dict(self.stats.get_stats()) if self.stats is not None else {}
