"""Shared crawling for listing spiders: skip what is stored, follow the rest, parse article pages
(with each spider's :meth:`ArchiveSpider.parse_page`; East Money's parser by default).

Reads ``NEWSARCHIVE_DATABASE_URL`` (to ask the archive before following), ``NEWSARCHIVE_REFETCH_HOURS``
(stored articles younger than this are fetched again), ``NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES`` (stop
paging a listing after that many pages with nothing new) and ``NEWSARCHIVE_MAX_PAGES`` /
``NEWSARCHIVE_PAGE_SIZE`` (defaults for the ``pages`` / ``page_size`` arguments).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlencode

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from twisted.python.failure import Failure

from newsarchive.arguments import (
    PAGES,
    SCRAPYD_JOB,
    WINDOW,
    SpiderArgument,
    check_arguments,
    date_window,
    job_arguments,
    positive_int,
)
from newsarchive.assemble import assemble_article
from newsarchive.blocks import Blocked
from newsarchive.counts import Count, Counter, Prefix, Reason
from newsarchive.db.engine import first_line, open_database, session_factory
from newsarchive.db.repository import stored_publish_times
from newsarchive.db.runs import effective_status, recent_runs
from newsarchive.failures import failure_reason
from newsarchive.hosts import REDIRECT, Refused
from newsarchive.ids import canonical_info_code
from newsarchive.interrupt import Interrupted
from newsarchive.items import PREFERRED_FEED, Article, FeedClaim
from newsarchive.joblock import LockLost
from newsarchive.jobs import job_keys
from newsarchive.pages.eastmoney import parse_article
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ListingParser
from newsarchive.summary import OK
from newsarchive.text.encoding import decode_noting_charset
from newsarchive.window import BackfillProgress, DateWindow, Place, listed_time, listing_shares

MAX_PAGE_SIZE = 200  # the list APIs cap page_size at 200
PAGE_SIZE = SpiderArgument(
    "page_size",
    f"rows per listing request, at most {MAX_PAGE_SIZE}",
    "NEWSARCHIVE_PAGE_SIZE",
    lambda value, name: positive_int(value, name),
)

BACKFILL_MAX_PAGES = 100_000  # a backfill pages until --since unless -a pages caps it


class ArchiveSpider(Spider):
    """Base for listing spiders; subclasses build listing requests and call :meth:`follow`."""

    feed: ClassVar[str]
    # The sites (newsarchive.blocks.site_of) a redirect or meta refresh may lead to (newsarchive.hosts)
    site_domains: ClassVar[frozenset[str]] = frozenset()
    engine: Engine
    max_pages: int
    refetch_within: timedelta
    job_arguments: dict[str, str]  # the -a arguments, recorded with the run (newsarchive.history)
    followed: set[str]  # info codes already handled in this run (an article on two listings)
    quiet_pages: dict[str, int]  # per listing: pages in a row that held nothing new
    stop_after_known_pages: int
    full_pass: bool  # the job's last run did not finish ok: page every listing to the limit
    window: DateWindow | None  # a backfill's -a since / until
    oldest_seen: datetime | None  # the oldest listing time seen (backfill progress)
    oldest_listed: dict[str, datetime]  # per listing, the oldest listing time seen (backfill progress)
    listings_ended: set[str]  # listings that stopped paging, for whatever reason (backfill progress)
    articles_requested: int  # article pages asked for (backfill progress)
    articles_answered: int  # of those, fetched or failed (backfill progress)
    past_since: set[str]  # listings whose last page was entirely older than since
    started: float  # time.monotonic() at creation, for the backfill estimate
    page_size: int

    description: ClassVar[str]  # one line, for `newsarchive spiders`
    # The -a arguments this spider takes besides every listing spider's since / until
    arguments: ClassVar[tuple[SpiderArgument, ...]] = (PAGES,)
    internal: ClassVar[bool] = False  # true: not offered by `crawl`, `backfill` or `spiders`

    @classmethod
    def accepted_arguments(cls) -> tuple[SpiderArgument, ...]:
        return (*cls.arguments, *WINDOW)

    @classmethod
    def check_arguments(cls, given: dict[str, str]) -> None:
        """Raise :class:`ArgumentError` for an unknown or malformed argument (before any run)."""
        check_arguments(cls.name, cls.accepted_arguments(), given)

    # The argument naming this spider's listings: each must list something (newsarchive.matching).
    # Listing requests carry the listing's name as ``column`` and its page number as ``page``.
    listing_argument: ClassVar[str] = "columns"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArchiveSpider:
        kwargs.pop(SCRAPYD_JOB, None)  # Scrapyd's job id: not part of the job (lock key, run history)
        cls.check_arguments(kwargs)  # `newsarchive` checked them already; `scrapy crawl` did not
        spider: ArchiveSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.job_arguments = job_arguments(kwargs)
        spider.followed = set()
        spider.quiet_pages = {}
        spider.engine = open_database(crawler.settings.get("NEWSARCHIVE_DATABASE_URL"))
        spider.refetch_within = timedelta(hours=crawler.settings.getfloat("NEWSARCHIVE_REFETCH_HOURS"))
        spider.window = date_window(kwargs)
        spider.started = time.monotonic()
        spider.oldest_seen = None
        spider.oldest_listed = {}
        spider.listings_ended = set()
        spider.articles_requested = spider.articles_answered = 0
        spider.past_since = set()
        default_pages = (
            BACKFILL_MAX_PAGES if spider.window else crawler.settings.getint("NEWSARCHIVE_MAX_PAGES")
        )
        spider.max_pages = positive_int(kwargs.get("pages"), "pages", default_pages)
        spider.page_size = min(
            positive_int(
                kwargs.get("page_size"), "page_size", crawler.settings.getint("NEWSARCHIVE_PAGE_SIZE")
            ),
            MAX_PAGE_SIZE,
        )
        spider.stop_after_known_pages = crawler.settings.getint("NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES")
        if spider.window:  # a backfill pages back to --since whatever it has already stored
            spider.stop_after_known_pages = 0
        spider.full_pass = bool(spider.stop_after_known_pages) and not spider.last_run_was_clean()
        if spider.full_pass:
            # a stopped or killed run may have left a gap below the first known page: close it
            spider.stop_after_known_pages = 0
        return spider

    def last_run_was_clean(self) -> bool:
        """Whether the previous run of this job (spider and arguments) finished ok and fetched all
        it listed. A job with no run yet, or whose last run failed, was interrupted, is unknown, or
        had a download fail, a response blocked or a redirect refused (an article it listed may
        since have slid below the first known page), pages every listing."""
        try:
            with session_factory(self.engine)() as session:
                previous = recent_runs(session, job=job_keys(self.name, self.job_arguments), limit=1)
        except SQLAlchemyError:
            return False
        if not previous or effective_status(previous[0]) != OK:
            return False
        counts = previous[0].counts or {}
        # a refused redirect left its article unfetched, as a failed download does
        refused_redirects = [key for key in counts.get("refused") or {} if key.startswith(f"{REDIRECT}_")]
        errors = (counts.get("errors") or {}).get("total")
        return not errors and not counts.get("blocked") and not refused_redirects

    def closed(self, reason: str) -> None:
        self.engine.dispose()

    @cached_property
    def counter(self) -> Counter:
        return Counter.from_crawler(self.crawler)

    def count(self, key: str, amount: int = 1) -> None:
        """Count ``key``, a name of newsarchive.counts (``listing_pages``, ``skipped/caifuhao``)."""
        self.counter.count_named(key, amount)

    def page_text(self, response: Response) -> str:
        """Body text of any response, decoded by newsarchive.text.encoding (header, meta, then
        sniffing), so pages that lie about or omit their charset still parse (and are counted under
        ``quirk/charset_…``); junk parses as junk and is counted where it fails."""
        content_type = response.headers.get("Content-Type")
        text, quirk = decode_noting_charset(
            response.body, content_type.decode("latin-1") if content_type else None
        )
        if quirk:
            self.count(f"quirk/{quirk}")
        return text

    def listing_read(self, listing: ListingPage) -> None:
        self.count("listing_pages")
        if listing.wrapped:
            self.count("quirk/jsonp_wrapper")  # unasked-for JSONP: unwrapped, but the API changed
        self.count("listing_rows", len(listing.entries) + listing.rejected)
        if self.full_pass:  # counted once, when the crawl has stats
            self.count("full_pass")
            self.full_pass = False
        if listing.rejected:
            self.count("skipped/bad_row", listing.rejected)
        elif not listing.entries:  # a page with no rows ends its listing, expected or not
            self.count("listing_stopped/empty_page")

    def listing_failed(self, error: PageError) -> None:
        self.count(f"listing_error/{error.reason}")
        self.logger.warning("unusable listing response: %s", error)

    def read_listing(
        self, response: Response, parse: ListingParser, listing_name: str | None = None
    ) -> ListingPage | None:
        """The listing page in ``response`` read by ``parse`` (and counted), or None when it cannot
        be read: a PageError is the response's fault; any other exception is a parser bug on input
        nobody foresaw, counted as ``listing_error/parser_error`` with one log line, so it costs this
        page only and never a traceback (issue 13). The rows read are counted as matched by
        ``listing_name`` (the value of :attr:`listing_argument` this page belongs to)."""
        try:
            listing = parse(self.page_text(response), response.url)
        except PageError as error:
            self.listing_failed(error)
            self.listing_ended(listing_name)
            return None
        except Exception as error:
            self.listing_failed(PageError(Reason.PARSER_ERROR, f"{response.url}: {_one_line(error)}"))
            self.listing_ended(listing_name)
            return None
        self.listing_read(listing)
        if listing_name is not None:
            self.matched(self.listing_argument, listing_name, len(listing.entries) + listing.rejected)
        return listing

    def matched(self, argument: str, value: str, rows: int) -> None:
        """Count ``rows`` listed rows as matched by ``value`` of spider argument ``argument`` (0 too:
        a value still at 0 when the run ends matched nothing; newsarchive.matching)."""
        self.count(f"matched/{argument}={value}", rows)
        self.note_argument(argument)

    def note_argument(self, argument: str) -> None:
        """Keep spider argument ``argument`` as given with -a, for the nothing-matched warning
        (absent: the spider's default was used)."""
        if argument in self.job_arguments:
            self.counter.set_reason(Prefix.ARGUMENT, argument, self.job_arguments[argument])

    def listing_names(self) -> list[str]:
        """The listings this run pages: the values of :attr:`listing_argument` (its ``columns``)."""
        return list(getattr(self, "columns", []))

    def listing_ended(self, listing: str | None) -> None:
        """``listing`` pages no further in this run (backfill progress)."""
        if listing is not None:
            self.listings_ended.add(listing)

    def request_failed(self, failure: Failure) -> None:
        """Errback: one counted line per failed download instead of a logged traceback."""
        request = getattr(failure, "request", None)
        if request is not None and "entry" in request.cb_kwargs:  # an article page: done, if failed
            self.articles_answered += 1
        elif request is not None and "column" in request.cb_kwargs:  # a listing page: its listing ends
            self.listing_ended(request.cb_kwargs["column"])
        if isinstance(failure.value, Blocked):
            return  # counted by newsarchive.blocks (newsarchive/blocked/<kind>, gave_up/<site>)
        if isinstance(failure.value, LockLost):
            return  # counted by newsarchive.joblock (skipped/job_lock_lost): another run has the job
        if isinstance(failure.value, Interrupted):
            return  # counted by newsarchive.interrupt (skipped/interrupted): Ctrl-C stopped the run
        if isinstance(failure.value, Refused):
            return  # counted and logged by newsarchive.hosts (newsarchive/refused/<kind>_<why>)
        if type(failure.value) is IgnoreRequest and "robots.txt" in str(failure.value):
            self.count(f"skipped/{Reason.ROBOTS_TXT}")  # Scrapy's RobotsTxtMiddleware: Disallow
            return
        if request is not None and _first_listing_page_missing(request, failure.value):
            # no such column (or 栏目): a configuration that matches nothing, not a download error
            self.count(f"not_found/{self.listing_argument}={request.cb_kwargs['column']}")
            self.note_argument(self.listing_argument)
            return
        self.count(f"download_error/{failure_reason(failure.value)}")
        url = request.url if request is not None else "?"
        self.logger.warning("download failed: %s: %s", url, failure.getErrorMessage())

    def follow(self, entries: Iterable[ListingEntry], listing: str = "") -> Iterator[Request | FeedClaim]:
        """Request the article page of every entry not already in the archive.

        ``listing`` names the listing being paged (a column), for :meth:`more_pages`.

        One database query per listing page, so memory does not grow with the archive (only with
        the codes listed in this run: an article on two listings is handled once). A stored
        article is fetched again only if it was published within ``NEWSARCHIVE_REFETCH_HOURS``.
        On the preferred feed (the 7x24 list), a stored article is also claimed for that feed.
        """
        wanted: dict[str, ListingEntry] = {}
        undated: set[str] = set()  # backfill: rows whose article page decides (no listed time)
        entries = list(entries)
        places = self.window_places(entries, listing)
        for entry, place in zip(entries, places, strict=True):
            try:
                info_code = canonical_info_code(entry.code)
            except ValueError:
                self.count("skipped/bad_code")
                continue
            if info_code in self.followed:
                self.count("skipped/listed_twice")
            elif place in (Place.BEFORE, Place.AFTER):  # a backfill row listed outside its window
                self.count(f"skipped/{place.value}")
            else:
                self.followed.add(info_code)
                wanted[info_code] = entry
                if self.window and place is Place.UNKNOWN:
                    undated.add(info_code)
        try:
            with session_factory(self.engine)() as session:
                stored = stored_publish_times(session, wanted)
        except SQLAlchemyError as error:  # unreachable: follow nothing now, the next run will
            self.count("listing_error/database")
            self.logger.warning(
                "cannot check the archive, skipping %d entries: %s", len(wanted), first_line(error)
            )
            return
        due = datetime.now(UTC) - self.refetch_within
        requested = 0
        for info_code, entry in wanted.items():
            if info_code in stored:
                if self.feed == PREFERRED_FEED:
                    yield FeedClaim(info_code=info_code, feed=self.feed, summary=entry.summary)
                if not self.refetch_within or stored[info_code] < due:
                    self.count(f"skipped/{Reason.ALREADY_STORED}")
                    continue
                self.count("refetched")
            requested += 1
            self.articles_requested += 1
            yield Request(
                entry.url,
                callback=self.parse_article_page,
                errback=self.request_failed,
                cb_kwargs={"entry": entry, "check_date": info_code in undated},
            )
        # a page that asked for nothing (every article stored and not due again) is a quiet one
        self.quiet_pages[listing] = 0 if requested else self.quiet_pages.get(listing, 0) + 1

    def window_places(self, entries: list[ListingEntry], listing: str) -> list[Place]:
        """Where each row falls in a backfill's window (all UNKNOWN outside a backfill), parsing
        each listed time once. Also remembers the oldest time seen (progress) and whether this
        page of the listing (newest first) is entirely older than --since (then paging stops)."""
        if self.window is None:
            return [Place.UNKNOWN] * len(entries)
        now = datetime.now(UTC)
        times = [listed_time(entry.show_time, now=now) for entry in entries]
        places = [self.window.place_of(when) for when in times]
        dated = [place for place in places if place is not Place.UNKNOWN]
        if dated and all(place is Place.BEFORE for place in dated):
            self.past_since.add(listing)
        oldest = min((when for when in times if when is not None), default=None)
        if oldest is not None and (self.oldest_seen is None or oldest < self.oldest_seen):
            self.oldest_seen = oldest
        if oldest is not None and (listing not in self.oldest_listed or oldest < self.oldest_listed[listing]):
            self.oldest_listed[listing] = oldest
        return places

    def progress_note(self) -> str | None:
        """Backfill progress for the progress line: how far back it got, how many article pages
        are fetched, and a time estimate (newsarchive.window.BackfillProgress)."""
        if self.window is None or self.oldest_seen is None:
            return None
        progress = BackfillProgress(
            listed=listing_shares(
                self.window, self.listing_names(), self.oldest_listed, self.listings_ended, datetime.now(UTC)
            ),
            listing_pages=self.counter.get(Count.LISTING_PAGES),
            requested=self.articles_requested,
            answered=self.articles_answered,
            elapsed=time.monotonic() - self.started,
        )
        return progress.note(self.oldest_seen)

    def more_pages(self, listing: str, page: int, *, has_entries: bool, has_next: bool = True) -> bool:
        """Whether to request the next page of ``listing`` after :meth:`follow` handled ``page``
        (``has_next``: the site has one).

        Incremental by default: a listing stops once ``NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES`` pages
        in a row held nothing new, so a five-minute job costs a few listing requests."""
        more = self._more_pages(listing, page, has_entries=has_entries, has_next=has_next)
        if not more:
            self.listing_ended(listing)
        return more

    def _more_pages(self, listing: str, page: int, *, has_entries: bool, has_next: bool) -> bool:
        if not has_entries or not has_next or page >= self.max_pages:
            return False
        if listing in self.past_since:
            self.count("listing_stopped/before_since")
            return False
        if self.stop_after_known_pages and self.quiet_pages.get(listing, 0) >= self.stop_after_known_pages:
            self.count("listing_stopped/nothing_new")
            return False
        return True

    def parse_page(self, html: str, url: str) -> ArticlePage:
        """The article parser of this spider's site (a hook: override it for another site)."""
        return parse_article(html, url)

    def parse_article_page(
        self, response: Response, entry: ListingEntry, check_date: bool = False
    ) -> Iterator[Article]:
        self.count("article_pages")
        self.articles_answered += 1
        try:
            page = self.parse_page(self.page_text(response), entry.url)
        except Exception as error:  # a parser bug on one odd page: dropped (fetched again next run)
            self.count(f"dropped/{Reason.PARSER_ERROR}")
            self.logger.warning("unreadable article page %s: %s", entry.url, _one_line(error))
            return
        if check_date and self.window:  # a backfill row listed without a time
            place = self.window.place(page.published_raw, now=datetime.now(UTC))
            if place in (Place.BEFORE, Place.AFTER):  # the page's own date decides an undated row
                self.count(f"skipped/{place.value}")
                return
        article = assemble_article(
            page,
            entry.url,
            feed=self.feed,
            entry=entry,
            fetched_at=datetime.now(UTC),
        )
        if article is not None:
            yield article

    def listing(
        self,
        url: str,
        callback: Callable[..., Any],
        *,
        query: dict[str, str] | None = None,
        errback: Callable[[Failure], Any] | None = None,
        **cb_kwargs: Any,
    ) -> Request:
        """A listing request, never deduplicated. With ``query`` it is an East Money list API call
        and ``req_trace`` is added (the APIs answer an error shell without it; the site's own pages
        send epoch milliseconds)."""
        if query is not None:
            url = f"{url}?{urlencode({**query, 'req_trace': str(int(time.time() * 1000))})}"
        return Request(
            url,
            callback=callback,
            errback=errback or self.request_failed,
            cb_kwargs=cb_kwargs,
            dont_filter=True,  # paging must never be deduplicated away
        )


def _first_listing_page_missing(request: Request, error: BaseException | None) -> bool:
    """Whether ``error`` is a 404 answering the first page of a listing (its ``column``)."""
    response = getattr(error, "response", None)
    arguments = request.cb_kwargs
    return (
        response is not None
        and response.status == 404
        and "column" in arguments
        and arguments.get("page") == 1
    )


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__
