"""URL router: which site's parser handles an archived response (used by reparse; no Scrapy).

Every site registers one function ``url -> Route | None``; :func:`route` asks them in order and the
first answer wins. To add a site (e.g. a declared site loaded from a data file), call once, at import
time of the module that defines it::

    from newsarchive.pages.routes import LISTING, ARTICLE, Route, register_router

    def cnstock_route(url: str) -> Route | None:
        if is_cnstock_listing(url):
            return Route("cnstock", LISTING, "cnstock", parse=parse_cnstock_listing)
        if (code := cnstock_info_code(url)) is not None:  # a namespaced id, e.g. CNSTOCK-…
            return Route("cnstock", ARTICLE, "cnstock", parse=parse_cnstock_article, info_code=code)
        return None

    register_router(cnstock_route)

A listing route's ``parse`` returns a :class:`ListingPage` whose entries' ``code`` is the article's
info code (or anything ``canonical_info_code`` accepts); an article route's ``parse`` returns an
:class:`ArticlePage` and carries the page's ``info_code``, so replay can pair it with its listing row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from newsarchive.ids import canonical_info_code, code_from_url, zqrb_info_code
from newsarchive.items import COLUMN_FEED, FAST_FEED, ZQRB_FEED
from newsarchive.pages import eastmoney, zqrb
from newsarchive.pages.model import ArticlePage, ListingPage

LISTING: Literal["listing"] = "listing"
ARTICLE: Literal["article"] = "article"

ListingParser = Callable[[str, str], ListingPage]
ArticleParser = Callable[[str, str], ArticlePage]


@dataclass(frozen=True)
class Route:
    """How to read one URL: the site, listing or article, the feed its articles belong to, the
    parser (a listing parser for LISTING, an article parser for ARTICLE) and, for an article, its
    canonical info code and which page of the article the URL is (a long East Money article
    continues on ``<code>_2.html`` …: page 2 and on are parts of the article of page 1)."""

    site: str
    kind: Literal["listing", "article"]
    feed: str
    parse: ListingParser | ArticleParser
    info_code: str | None = None
    page: int = 1


Router = Callable[[str], Route | None]
_ROUTERS: list[Router] = []


def register_router(router: Router) -> None:
    """Add a site's router; later registrations are asked after the built-in sites."""
    if router not in _ROUTERS:
        _ROUTERS.append(router)


def route(url: str) -> Route | None:
    """The route of the first router that claims ``url``, or None (the response is not replayed)."""
    for router in _ROUTERS:
        try:
            found = router(url)
        except ValueError:  # a URL urlsplit refuses (an unbalanced "[" in the host) is no site's
            return None
        if found is not None:
            return found
    return None


def eastmoney_route(url: str) -> Route | None:
    kind = eastmoney.classify_url(url)
    if kind == "columns":
        return Route("eastmoney", LISTING, COLUMN_FEED, eastmoney.parse_column_list)
    if kind == "fast":
        return Route("eastmoney", LISTING, FAST_FEED, eastmoney.parse_fast_list)
    code = code_from_url(url) if kind == "article" else None
    if code is None:
        return None
    info_code = canonical_info_code(code)
    return Route(
        "eastmoney", ARTICLE, COLUMN_FEED, eastmoney.parse_article, info_code, eastmoney.page_number(url)
    )


def zqrb_route(url: str) -> Route | None:
    if zqrb.is_listing_url(url):
        return Route("zqrb", LISTING, ZQRB_FEED, zqrb.parse_listing)
    code = zqrb_info_code(url)
    if code is None:
        return None
    return Route("zqrb", ARTICLE, ZQRB_FEED, zqrb.parse_article, code)


register_router(eastmoney_route)
register_router(zqrb_route)
