"""Shared crawling for listing spiders: skip what is stored, follow the rest, parse article pages
(with each spider's :meth:`ArchiveSpider.parse_page`). Scrapy glue only: the decisions are the
library's (paging: newsarchive.paging; backfill window: newsarchive.window; the last run:
newsarchive.history; one article page: newsarchive.assemble; arguments: newsarchive.arguments).

Asks the archive before following through the crawl's owner of the database
(newsarchive.store.owner). Reads ``NEWSARCHIVE_REFETCH_HOURS``
(stored articles younger than this are fetched again), ``NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES`` (stop
paging a listing after that many pages with nothing new) and ``NEWSARCHIVE_MAX_PAGES`` (default for
the ``pages`` argument).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar

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
    ListingJob,
    SpiderArgument,
    check_arguments,
)
from newsarchive.assemble import INCOMPLETE_PAGES, join_pages, one_line, read_article, read_page
from newsarchive.blocks import Blocked
from newsarchive.counts import Count, Counter, Prefix, Reason
from newsarchive.db.engine import first_line
from newsarchive.db.repository import stored_listing_state
from newsarchive.failures import failure_reason
from newsarchive.history import last_run_was_clean
from newsarchive.hosts import Refused
from newsarchive.ids import canonical_info_code
from newsarchive.interrupt import Interrupted
from newsarchive.items import PREFERRED_FEED, Article
from newsarchive.joblock import LockLost
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ListingParser
from newsarchive.paging import ListingPaging, PagingLimits
from newsarchive.store.claims import listing_claim
from newsarchive.store.owner import CrawlStore
from newsarchive.text.encoding import decode_noting_charset
from newsarchive.window import BackfillTracker, Place, page_before_since


class ArchiveSpider(Spider):
    """Base for listing spiders; subclasses build listing requests and call :meth:`follow`."""

    feed: ClassVar[str]
    # The sites (newsarchive.blocks.site_of) a redirect or meta refresh may lead to (newsarchive.hosts)
    site_domains: ClassVar[frozenset[str]] = frozenset()
    store: CrawlStore  # the crawl's owner of the database
    engine: Engine
    refetch_within: timedelta
    job_arguments: dict[str, str]  # the -a arguments, recorded with the run (newsarchive.history)
    followed: set[str]  # info codes already handled in this run (an article on two listings)
    paging: ListingPaging  # when each listing stops (newsarchive.paging)
    backfill: BackfillTracker | None  # a backfill's window and progress (newsarchive.window)

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
        job = ListingJob.parse(kwargs)
        spider.job_arguments = job.arguments
        spider.followed = set()
        spider.store = CrawlStore.of(crawler)
        spider.engine = spider.store.engine
        spider.refetch_within = timedelta(hours=crawler.settings.getfloat("NEWSARCHIVE_REFETCH_HOURS"))
        limits = PagingLimits.for_job(
            pages=job.pages,
            max_pages=crawler.settings.getint("NEWSARCHIVE_MAX_PAGES"),
            stop_after_known_pages=crawler.settings.getint("NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES"),
            backfill=job.window is not None,
        )
        if limits.stops_when_quiet and not last_run_was_clean(spider.engine, spider.name, job.arguments):
            limits = limits.after_unclean_run()
        spider.paging = ListingPaging(limits)
        spider.backfill = BackfillTracker(job.window, time.monotonic()) if job.window else None
        return spider

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
        text, quirk = decode_noting_charset(response.body, _content_type(response))
        if quirk:
            self.count(f"quirk/{quirk}")
        return text

    def listing_read(self, listing: ListingPage) -> None:
        self.count("listing_pages")
        if listing.wrapped:
            self.count("quirk/jsonp_wrapper")  # unasked-for JSONP: unwrapped, but the API changed
        self.count("listing_rows", len(listing.entries) + listing.rejected)
        if self.paging.full_pass_started():  # counted once, when the crawl has stats
            self.count("full_pass")
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
            self.listing_failed(PageError(Reason.PARSER_ERROR, f"{response.url}: {one_line(error)}"))
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
        if listing is not None and self.backfill is not None:
            self.backfill.listing_ended(listing)

    def request_failed(self, failure: Failure) -> None:
        """Errback: one counted line per failed download instead of a logged traceback."""
        request = getattr(failure, "request", None)
        if request is not None and "entry" in request.cb_kwargs:  # an article page: done, if failed
            self.article_answered()
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

    def follow(self, entries: Iterable[ListingEntry], listing: str = "") -> Iterator[Request]:
        """Request the article page of every entry not already in the archive.

        ``listing`` names the listing being paged (a column), for :meth:`more_pages`.

        One database query per listing page, so memory does not grow with the archive (only with
        the codes listed in this run: an article on two listings is handled once). A stored
        article is fetched again only if it was published within ``NEWSARCHIVE_REFETCH_HOURS``.
        On the preferred feed (the 7x24 list), a stored article not on it yet is claimed for it: an
        order to the crawl's store (newsarchive.store.claims), not an item.
        """
        wanted: dict[str, ListingEntry] = {}
        undated: set[str] = set()  # backfill: rows whose article page decides (no listed time)
        entries = list(entries)
        places = self.window_places(entries, listing)
        for entry, place in zip(entries, places, strict=True):
            try:
                info_code = canonical_info_code(entry.code)
            except ValueError:
                self.count(f"skipped/{Reason.BAD_CODE}")
                continue
            if info_code in self.followed:
                self.count("skipped/listed_twice")
            elif place in (Place.BEFORE, Place.AFTER):  # a backfill row listed outside its window
                self.count(f"skipped/{place.value}")
            else:
                self.followed.add(info_code)
                wanted[info_code] = entry
                if self.backfill is not None and place is Place.UNKNOWN:
                    undated.add(info_code)
        try:
            with self.store.sessions() as session:
                stored = stored_listing_state(session, wanted)
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
                published_at, stored_feed = stored[info_code]
                if stored_feed != PREFERRED_FEED and (
                    claim := listing_claim(info_code, self.feed, entry.summary)
                ):
                    self.store.claim(claim)
                if not self.refetch_within or published_at < due:
                    self.count(f"skipped/{Reason.ALREADY_STORED}")
                    continue
                self.count("refetched")
            requested += 1
            if self.backfill is not None:
                self.backfill.article_requested()
            yield Request(
                entry.url,
                callback=self.parse_article_page,
                errback=self.request_failed,
                cb_kwargs={"entry": entry, "check_date": info_code in undated},
            )
        # a page that asked for nothing (every article stored and not due again) is a quiet one
        self.paging.page_followed(listing, requested)

    def window_places(self, entries: list[ListingEntry], listing: str) -> list[Place]:
        """Where each row falls in a backfill's window (all UNKNOWN outside a backfill); a page of
        the listing (newest first) entirely older than --since stops its paging."""
        if self.backfill is None:
            return [Place.UNKNOWN] * len(entries)
        shown = [entry.show_time for entry in entries]
        places = self.backfill.places(shown, listing, now=datetime.now(UTC))
        if page_before_since(places):
            self.paging.page_before_since(listing)
        return places

    def progress_note(self) -> str | None:
        """Backfill progress for the progress line: how far back it got, how many article pages
        are fetched, and a time estimate (newsarchive.window.BackfillTracker)."""
        if self.backfill is None:
            return None
        return self.backfill.note(
            self.listing_names(),
            listing_pages=self.counter.get(Count.LISTING_PAGES),
            now=datetime.now(UTC),
            clock=time.monotonic(),
        )

    def more_pages(self, listing: str, page: int, *, has_entries: bool, has_next: bool = True) -> bool:
        """Whether to request the next page of ``listing`` after :meth:`follow` handled ``page``
        (``has_next``: the site has one); newsarchive.paging decides.

        Incremental by default: a listing stops once ``NEWSARCHIVE_STOP_AFTER_KNOWN_PAGES`` pages
        in a row held nothing new, so a five-minute job costs a few listing requests."""
        stop = self.paging.stop(listing, page, has_entries=has_entries, has_next=has_next)
        if stop is None:
            return True
        if stop.counted:
            self.count(f"listing_stopped/{stop.value}")
        self.listing_ended(listing)
        return False

    def article_answered(self) -> None:
        """An article page was fetched, or failed: done either way (backfill progress)."""
        if self.backfill is not None:
            self.backfill.article_answered()

    def parse_page(self, html: str, url: str) -> ArticlePage:
        """The article parser of this spider's site (each site's spider gives its own)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how to parse its article pages")

    def page_url(self, url: str, number: int) -> str:
        """The URL of page ``number`` of the long article at ``url`` (a site whose pages say they
        continue gives its own)."""
        raise NotImplementedError(f"{type(self).__name__} does not say where long articles continue")

    def parse_article_page(
        self, response: Response, entry: ListingEntry, check_date: bool = False
    ) -> Iterator[Article | Request]:
        self.count("article_pages")
        self.article_answered()
        read = read_article(
            response.body,
            _content_type(response),
            entry.url,
            self.parse_page,
            feed=self.feed,
            entry=entry,
            fetched_at=datetime.now(UTC),
            # a backfill row listed without a time: the page's own date decides
            window=self.backfill.window if check_date and self.backfill is not None else None,
        )
        if read.quirk:
            self.count(f"quirk/{read.quirk}")
        if read.error is not None:  # a parser bug on one odd page: dropped (fetched again next run)
            self.logger.warning("unreadable article page %s: %s", entry.url, read.error)
        if read.reason is not None:
            self.count(read.reason)
        if read.article is not None and read.pages > 1:  # a long article: its other pages first
            yield self.next_page_request(read.article, entry.url, 2, read.pages, ())
        elif read.article is not None:
            yield read.article

    def next_page_request(
        self, article: Article, url: str, number: int, pages: int, read: tuple[ArticlePage, ...]
    ) -> Request:
        """The request for page ``number`` of ``pages`` of the long ``article`` whose first page is
        at ``url``; ``read``: its pages 2… read so far. One page at a time, ahead of other requests
        (``priority``), so an article held in memory is finished before others are started."""
        return Request(
            self.page_url(url, number),
            callback=self.parse_next_page,
            errback=self.next_page_failed,
            cb_kwargs={"article": article, "url": url, "number": number, "pages": pages, "read": read},
            priority=1,
        )

    def parse_next_page(
        self,
        response: Response,
        article: Article,
        url: str,
        number: int,
        pages: int,
        read: tuple[ArticlePage, ...],
    ) -> Iterator[Article | Request]:
        """Page ``number`` of a long article: the next page's request, or after the last one the
        whole article (newsarchive.assemble.join_pages). A page that cannot be read drops the
        article (never stored half; fetched again next run)."""
        self.count(Count.CONTINUATION_PAGES.short)
        got = read_page(
            response.body,
            _content_type(response),
            response.url,  # where it came from: a redirect elsewhere is no page of this article
            self.parse_page,
            expected=(article.info_code, number),
        )
        if got.quirk:
            self.count(f"quirk/{got.quirk}")
        if got.page is None:
            self.count(got.reason or INCOMPLETE_PAGES)
            self.logger.warning("article %s not stored: page %d unreadable: %s", url, number, got.error)
            return
        if number < pages:
            yield self.next_page_request(article, url, number + 1, pages, (*read, got.page))
        else:
            yield join_pages(article, (*read, got.page))

    def next_page_failed(self, failure: Failure) -> None:
        """Errback of a long article's later page: the article is not stored (counted), and the
        download failure is counted as any other."""
        self.count(INCOMPLETE_PAGES)
        self.request_failed(failure)

    def listing(
        self,
        url: str,
        callback: Callable[..., Any],
        *,
        errback: Callable[[Failure], Any] | None = None,
        **cb_kwargs: Any,
    ) -> Request:
        """A listing request, never deduplicated."""
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


def _content_type(response: Response) -> str | None:
    """The response's Content-Type header as text (its charset decides how the body decodes)."""
    value = response.headers.get("Content-Type")
    return value.decode("latin-1") if value else None
