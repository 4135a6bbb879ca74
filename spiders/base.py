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
from typing import Any, ClassVar
from urllib.parse import urlencode

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from twisted.python.failure import Failure

from newsarchive.assemble import assemble_article
from newsarchive.blocks import Blocked
from newsarchive.db.engine import first_line, open_database, session_factory
from newsarchive.db.repository import stored_publish_times
from newsarchive.db.runs import effective_status, job_key, recent_runs
from newsarchive.failures import failure_reason
from newsarchive.hosts import REDIRECT, Refused
from newsarchive.ids import canonical_info_code
from newsarchive.interrupt import Interrupted
from newsarchive.items import PREFERRED_FEED, Article, FeedClaim
from newsarchive.joblock import LockLost
from newsarchive.middlewares import ORIGINAL_URL_KEY
from newsarchive.pages.eastmoney import parse_article
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ListingParser
from newsarchive.summary import OK, PARSER_ERROR, ROBOTS_TXT_SKIP
from newsarchive.text.encoding import decode_noting_charset
from newsarchive.window import DateWindow, Place, listed_time

WINDOW_ARGUMENTS = frozenset({"since", "until"})  # every listing spider can backfill a date window
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
    past_since: set[str]  # listings whose last page was entirely older than since
    started: float  # time.monotonic() at creation, for the backfill estimate
    page_size: int

    arguments: ClassVar[frozenset[str]] = frozenset({"pages", "page_size"})

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArchiveSpider:
        kwargs.pop("_job", None)  # Scrapyd's job id: not part of the job (lock key, run history)
        allowed = cls.arguments | WINDOW_ARGUMENTS
        unknown = sorted(set(kwargs) - allowed)
        if unknown:  # a typo such as -a medias=… must not silently crawl everything
            known = ", ".join(sorted(allowed))
            raise ValueError(f"unknown spider argument {unknown[0]!r} for {cls.name} (known: {known})")
        spider: ArchiveSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.job_arguments = {name: str(value) for name, value in sorted(kwargs.items())}
        spider.followed = set()
        spider.quiet_pages = {}
        spider.engine = open_database(crawler.settings.get("NEWSARCHIVE_DATABASE_URL"))
        spider.refetch_within = timedelta(hours=crawler.settings.getfloat("NEWSARCHIVE_REFETCH_HOURS"))
        spider.window = _window(kwargs)
        spider.started = time.monotonic()
        spider.oldest_seen = None
        spider.past_since = set()
        default_pages = (
            BACKFILL_MAX_PAGES if spider.window else crawler.settings.getint("NEWSARCHIVE_MAX_PAGES")
        )
        spider.max_pages = _positive_int(kwargs.get("pages"), default_pages, "pages")
        spider.page_size = min(
            _positive_int(
                kwargs.get("page_size"), crawler.settings.getint("NEWSARCHIVE_PAGE_SIZE"), "page_size"
            ),
            200,  # the list APIs cap page_size at 200
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
                previous = recent_runs(session, job=job_key(self.name, self.job_arguments), limit=1)
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

    def count(self, key: str, amount: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsarchive/{key}", amount)

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

    def read_listing(self, response: Response, parse: ListingParser) -> ListingPage | None:
        """The listing page in ``response`` read by ``parse`` (and counted), or None when it cannot
        be read: a PageError is the response's fault; any other exception is a parser bug on input
        nobody foresaw, counted as ``listing_error/parser_error`` with one log line, so it costs this
        page only and never a traceback (issue 13)."""
        try:
            listing = parse(self.page_text(response), response.url)
        except PageError as error:
            self.listing_failed(error)
            return None
        except Exception as error:
            self.listing_failed(PageError(PARSER_ERROR, f"{response.url}: {_one_line(error)}"))
            return None
        self.listing_read(listing)
        return listing

    def request_failed(self, failure: Failure) -> None:
        """Errback: one counted line per failed download instead of a logged traceback."""
        if isinstance(failure.value, Blocked):
            return  # counted by newsarchive.blocks (newsarchive/blocked/<kind>, gave_up/<site>)
        if isinstance(failure.value, LockLost):
            return  # counted by newsarchive.joblock (skipped/job_lock_lost): another run has the job
        if isinstance(failure.value, Interrupted):
            return  # counted by newsarchive.interrupt (skipped/interrupted): Ctrl-C stopped the run
        if isinstance(failure.value, Refused):
            return  # counted and logged by newsarchive.hosts (newsarchive/refused/<kind>_<why>)
        if type(failure.value) is IgnoreRequest and "robots.txt" in str(failure.value):
            self.count(f"skipped/{ROBOTS_TXT_SKIP}")  # Scrapy's RobotsTxtMiddleware: Disallow
            return
        self.count(f"download_error/{failure_reason(failure.value)}")
        request = getattr(failure, "request", None)
        url = request.meta.get(ORIGINAL_URL_KEY, request.url) if request is not None else "?"
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
                    self.count("skipped/already_stored")
                    continue
                self.count("refetched")
            requested += 1
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
        return places

    def progress_note(self) -> str | None:
        """Backfill progress for the progress line: how far back it got, and a time estimate."""
        if self.window is None or self.oldest_seen is None:
            return None
        now = datetime.now(UTC)
        covered = self.window.covered(self.oldest_seen, now)
        note = f"backfill reached {self.oldest_seen:%Y-%m-%d %H:%M} ({covered:.0%} of the window)"
        elapsed = time.monotonic() - self.started
        if 0 < covered < 1:
            note += f", about {_duration(elapsed * (1 - covered) / covered)} left"
        return note

    def more_pages(self, listing: str, page: int, *, has_entries: bool) -> bool:
        """Whether to request the next page of ``listing`` (if the site has one) after :meth:`follow`
        handled ``page``.

        Incremental by default: a listing stops once ``NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES`` pages
        in a row held nothing new, so a five-minute job costs a few listing requests."""
        if not has_entries or page >= self.max_pages:
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
        try:
            page = self.parse_page(self.page_text(response), entry.url)
        except Exception as error:  # a parser bug on one odd page: dropped (fetched again next run)
            self.count(f"dropped/{PARSER_ERROR}")
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


def split_arg(value: str | None, name: str = "argument") -> list[str]:
    """``-a columns=344,345`` → ["344", "345"] (also accepts ，). Not given → []; given but empty is
    an error (``-a columns=`` must not quietly mean the defaults)."""
    if value is None:
        return []
    parts = [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    if not parts:
        raise ValueError(f"spider argument {name} is empty")
    return parts


def _positive_int(value: Any, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"spider argument {name} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"spider argument {name} must be a positive integer, got {value!r}")
    return number


def _window(arguments: dict[str, Any]) -> DateWindow | None:
    since, until = arguments.get("since"), arguments.get("until")
    if since is None:
        if until is not None:
            raise ValueError("spider argument until needs since")
        return None
    return DateWindow.parse(str(since), str(until) if until is not None else None)


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{max(minutes, 1)} min"
