"""Declared sites in the shared page model: listing rows and article pages as the spiders and
reparse use them, and one URL router per site file (registered with newsarchive.pages.routes)."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from newsarchive.blocks import site_of
from newsarchive.items import GENERIC_EXTRACTION
from newsarchive.pages import declared
from newsarchive.pages.model import ArticlePage, ListingEntry, ListingPage
from newsarchive.pages.routes import ARTICLE, LISTING, Route, Router, register_router
from newsarchive.sites.loader import SiteSpec, load_sites


def listing_page(spec: SiteSpec, html: str, url: str, column: str = "") -> ListingPage:
    """A listing page as ListingEntry rows keyed by the namespaced id; rows whose URL does not fit
    the site's id_pattern are counted as rejected. ``next_cursor`` is a linked next page, if any."""
    rows = declared.parse_listing(spec, column, html, url)
    entries = [
        ListingEntry(
            code=row.info_code,
            kind="CMS",
            title=row.title,
            show_time=None,  # list dates are HH:MM or MM-DD HH:MM; the article page has the full time
            media=spec.media,
            summary=None,
            url=row.url,
        )
        for row in rows
        if row.info_code is not None
    ]
    return ListingPage(
        entries=entries,
        next_cursor=declared.linked_next_page(spec, html, url),
        rejected=len(rows) - len(entries),
    )


def article_page(spec: SiteSpec, html: str, url: str) -> ArticlePage:
    """An article page; one the site's selectors cannot read comes back without title or body,
    so the validate pipeline drops it with a counted reason."""
    code = declared.info_code(spec, url)
    try:
        page = declared.parse_article(spec, html, url)
    except declared.DeclaredPageError:
        return ArticlePage(code, "declared", None, None, spec.media, None, None, None)
    layout = GENERIC_EXTRACTION if page.extraction == "generic" else "declared"
    return ArticlePage(
        code=page.info_code,
        layout=layout,
        title=page.title,
        published_raw=page.published_raw,
        media=spec.media,
        author=page.author,
        summary=None,
        body_html=page.body_html,
    )


def site_router(spec: SiteSpec) -> Router:
    """Route a URL of this site (any host of its base URL's site: ``www.``, ``m.``, the old
    ``news.`` …): an article if it fits id_pattern, a listing if it sits under one of the site's
    column folders (start page or a numbered page) or is a list of a ``[[legacy]]`` template, else
    not this site's."""
    site = site_of(urlsplit(spec.base_url).hostname or "")
    folders = tuple(
        urlsplit(spec.column_url(column).rsplit("/", 1)[0] + "/").path for column, _ in spec.listing.columns
    )

    def route(url: str) -> Route | None:
        parts = urlsplit(url)
        if site_of(parts.hostname or "") != site:
            return None
        code = declared.info_code(spec, url)
        if code is not None:
            return Route(spec.name, ARTICLE, spec.name, lambda html, u: article_page(spec, html, u), code)
        if parts.path.startswith(folders) or spec.is_legacy_listing(url):
            return Route(spec.name, LISTING, spec.name, lambda html, u: listing_page(spec, html, u))
        return None

    return route


@cache
def register_declared_sites() -> tuple[SiteSpec, ...]:
    """Load the site files once and register a router for each (idempotent)."""
    sites = tuple(load_sites())
    for spec in sites:
        register_router(site_router(spec))
    return sites
