"""The spiders of ``newsarchive check`` (newsarchive.check): each site's own spider, made to fetch
its first listing page and that page's newest article only, and to report what it read instead of
storing it.

:func:`probe` puts :class:`SiteProbe` in front of a site's spider class, so everything else is the
site's own: its first listing request (headers, API parameters), its listing parser and filters
(East Money's 财富号 rows), its article parser and ``newsarchive.assemble`` (through
``parse_article_page``), its error handling. No class here has a ``name``: Scrapy's spider loader
never lists them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, ClassVar

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from newsarchive.blocks import Blocked
from newsarchive.check import SiteCheck
from newsarchive.counts import NAMESPACE, Count
from newsarchive.failures import failure_reason
from newsarchive.ids import info_code_or_none
from newsarchive.items import Article
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage, PageError
from newsarchive.pages.routes import ListingParser
from spiders.base import ArchiveSpider


class SiteProbe(ArchiveSpider):
    """Put before a site's spider class (:func:`probe`): one listing page, one article, a report."""

    outcome: ClassVar[SiteCheck]  # what the check found, read by newsarchive.check
    steps: ClassVar[Sequence[Any]]  # the item pipelines up to the store (pipelines.article_steps)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteProbe:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, SiteProbe)
        # the crawl is over: a listing never answered, or without rows, is the problem then
        crawler.signals.connect(cls.outcome.listing_done, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        """The spider's first listing request only (its first column, page 1)."""
        requests = super().start()
        async for request in requests:
            if isinstance(request, Request):
                self.outcome.listing_url = request.url
                yield request
                break
        close = getattr(requests, "aclose", None)
        if close is not None:
            await close()

    def read_listing(
        self, response: Response, parse: ListingParser, listing_name: str | None = None
    ) -> ListingPage | None:
        listing = super().read_listing(response, parse, listing_name)
        if listing is not None:
            self.outcome.listed = len(listing.entries) + listing.rejected
        return listing

    def listing_failed(self, error: PageError) -> None:
        super().listing_failed(error)
        self.outcome.fail(f"listing {self.outcome.listing_url} is unreadable: {error}")

    def follow(self, entries: Iterable[ListingEntry], listing: str = "") -> Iterator[Request]:
        """Request the newest (first) row's article page: the archive is not asked."""
        rows = [entry for entry in entries if info_code_or_none(entry.code)]
        self.outcome.followed += len(rows)
        if not rows or self.outcome.article_url is not None:
            return
        self.outcome.article_url = rows[0].url
        yield Request(
            rows[0].url,
            callback=self.parse_article_page,
            errback=self.request_failed,
            cb_kwargs={"entry": rows[0]},
        )

    def more_pages(self, listing: str, page: int, *, has_entries: bool, has_next: bool = True) -> bool:
        return False  # the first page only

    def parse_article_page(
        self, response: Response, entry: ListingEntry, check_date: bool = False
    ) -> Iterator[Article | Request]:
        """Read the page as the spider does, then judge the article (nothing is yielded: nothing
        is stored); a page giving no article is the problem, named by what the spider counted. A
        long article's other pages are fetched first (:meth:`parse_next_page` judges it whole)."""
        before = self._counts()
        return self._judged(list(super().parse_article_page(response, entry, check_date)), entry.url, before)

    def parse_next_page(
        self,
        response: Response,
        article: Article,
        url: str,
        number: int,
        pages: int,
        read: tuple[ArticlePage, ...],
    ) -> Iterator[Article | Request]:
        """A later page of the newest article, read as the spider reads it; after the last one the
        whole article is judged."""
        before = self._counts()
        return self._judged(
            list(super().parse_next_page(response, article, url, number, pages, read)), url, before
        )

    def _judged(
        self, results: list[Article | Request], url: str, before: dict[str, int]
    ) -> Iterator[Request]:
        """The next page's request, if ``results`` hold one; else the article judged, or the reason
        there is none recorded (what the spider counted since ``before``)."""
        requests = [result for result in results if isinstance(result, Request)]
        if requests:
            return iter(requests)
        articles = [result for result in results if isinstance(result, Article)]
        if not articles:
            counted = [key for key, value in self._counts().items() if value > before.get(key, 0)]
            pages = (Count.ARTICLE_PAGES.short, Count.CONTINUATION_PAGES.short)
            reasons = [key for key in counted if key not in pages] or ["no article"]
            self.outcome.fail(f"newest article {url} gave no article: {', '.join(reasons)}")
            return iter(())
        self.outcome.article_url = url
        self.outcome.judge(articles[0], self.steps)
        return iter(())

    def request_failed(self, failure: Failure) -> None:
        super().request_failed(failure)
        request = getattr(failure, "request", None)
        if request is not None and "entry" in request.cb_kwargs:
            what = f"newest article {self.outcome.article_url}"
        elif request is not None and "article" in request.cb_kwargs:  # a long article's later page
            what = f"newest article {self.outcome.article_url} (its page {request.url})"
        else:
            what = f"listing {self.outcome.listing_url}"
        self.outcome.fail(f"{what} could not be fetched: {_why(failure.value)}")

    def _counts(self) -> dict[str, int]:
        """The run's counts so far by name (``dropped/no_title``: newsarchive.counts)."""
        return {
            key.removeprefix(NAMESPACE): value
            for key, value in self.counter.snapshot().items()
            if key.startswith(NAMESPACE) and isinstance(value, int)
        }


def probe(spider_class: type[ArchiveSpider], outcome: SiteCheck, steps: Sequence[Any]) -> type[SiteProbe]:
    """``spider_class`` made into a check of its site, reporting into ``outcome``."""
    attributes = {"outcome": outcome, "steps": tuple(steps), "__module__": __name__}
    return type(f"{spider_class.__name__}Check", (SiteProbe, spider_class), attributes)


def _why(error: BaseException | None) -> str:
    if isinstance(error, Blocked):
        return f"blocked ({error})"
    if type(error) is IgnoreRequest and "robots.txt" in str(error):
        return "disallowed by robots.txt"
    return failure_reason(error)
