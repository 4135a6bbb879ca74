"""Spiders for the declared sites: one Scrapy spider per data file in newsarchive/sites/.

Each is named after its file's ``name`` (``cnstock``, ``cs_com_cn``…) and takes ``columns`` (comma
list of the file's column names, default all) and ``pages``. Listing and article pages are read by
the generic parser with the file's selectors (newsarchive.pages.declared via sites.adapter).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from newsarchive.arguments import PAGES, ArgumentError, SpiderArgument, split_list
from newsarchive.blocks import site_of
from newsarchive.pages import declared
from newsarchive.pages.model import ArticlePage
from newsarchive.sites.adapter import article_page, listing_page, register_declared_sites
from newsarchive.sites.loader import SiteSpec
from spiders.base import ArchiveSpider


class DeclaredSiteSpider(ArchiveSpider):
    """Base of the generated spiders; ``site`` is the loaded data file."""

    site: SiteSpec

    def __init__(self, columns: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = site_columns(self.site, columns) or [name for name, _ in self.site.listing.columns]

    async def start(self) -> AsyncIterator[Request]:
        for column in self.columns:
            yield self.listing_page(self.site.column_url(column), column, 1)

    def listing_page(self, url: str, column: str, page: int) -> Request:
        missing = self.listing_missing if page > 1 else None
        return self.listing(url, self.parse_listing, errback=missing, column=column, page=page)

    def parse_listing(self, response: Response, column: str, page: int) -> Iterator[Request]:
        listing = self.read_listing(
            response, lambda html, url: listing_page(self.site, html, url, column), column
        )
        if listing is None:
            return
        yield from self.follow(listing.entries, column)
        following = declared.next_page_url(self.site, column, page + 1) or listing.next_cursor
        more = self.more_pages(column, page, has_entries=bool(listing.entries), has_next=bool(following))
        if more and following:
            yield self.listing_page(following, column, page + 1)

    def listing_missing(self, failure: Failure) -> None:
        """Numbered pages end with a 404 (the sites print the page count only in a script)."""
        response = getattr(failure.value, "response", None)
        if response is not None and response.status == 404:
            self.count("listing_end")
            request = getattr(failure, "request", None)
            self.listing_ended(request.cb_kwargs.get("column") if request is not None else None)
            return
        self.request_failed(failure)

    def parse_page(self, html: str, url: str) -> ArticlePage:
        return article_page(self.site, html, url)


def site_columns(site: SiteSpec, value: str | None) -> list[str]:
    """``-a columns=…`` of a declared site: names from its file's ``listing.columns``."""
    known = [name for name, _ in site.listing.columns]
    columns = split_list(value, "columns")
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise ArgumentError(f"{site.name} has no column {unknown[0]!r} (known: {', '.join(known)})")
    return columns


def site_arguments(site: SiteSpec) -> tuple[SpiderArgument, ...]:
    known = ", ".join(name for name, _ in site.listing.columns)
    columns = SpiderArgument(
        "columns",
        f"comma list of column names from {Path(site.path).name} ({known})",
        "every column",
        lambda value, name: site_columns(site, value),
    )
    return (columns, PAGES)


def site_domains(site: SiteSpec) -> frozenset[str]:
    """The sites a declared site's redirects may lead to: those of its base URL and column URLs."""
    urls = (site.base_url, *(url for _, url in site.listing.columns))
    return frozenset(site_of(urlsplit(url).hostname or "") for url in urls)


def _spider_class(site: SiteSpec) -> type[DeclaredSiteSpider]:
    class_name = "".join(part.title() for part in site.name.split("_")) + "Spider"
    attributes = {
        "name": site.name,
        "feed": site.name,
        "site": site,
        "site_domains": site_domains(site),
        "description": f"{site.media} ({site.base_url}), declared in {Path(site.path).name}",
        "arguments": site_arguments(site),
        "__module__": __name__,
    }
    return type(class_name, (DeclaredSiteSpider,), attributes)


# Scrapy finds spiders as module attributes: one class per site file. A broken file fails loudly
# here (`scrapy list`, `newsarchive crawl`) with the loader's one-line error naming file and field.
globals().update({cls.__name__: cls for cls in map(_spider_class, register_declared_sites())})
