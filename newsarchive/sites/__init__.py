"""Declared sites: one TOML file per news site (listing, article and boilerplate selectors as data).

Read with :func:`load_sites`; parsed by :mod:`newsarchive.pages.declared` (issue 4 point 4).
"""

from __future__ import annotations

from newsarchive.sites.loader import (
    SITES_FOLDER,
    ArticleSpec,
    BoilerplateSpec,
    ListingSpec,
    SiteFileError,
    SiteSpec,
    load_site,
    load_sites,
)

__all__ = [
    "SITES_FOLDER",
    "ArticleSpec",
    "BoilerplateSpec",
    "ListingSpec",
    "SiteFileError",
    "SiteSpec",
    "load_site",
    "load_sites",
]
