"""The article schema: one item per article, shared by spiders, reparse, pipelines and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

COLUMN_FEED = "eastmoney"  # East Money column lists
FAST_FEED = "eastmoney_fast"  # East Money's 7x24 list
GENERIC_EXTRACTION = "generic"  # Article.extraction / ArticlePage.layout of trafilatura bodies
ZQRB_FEED = "zqrb"  # 证券日报网's own 栏目 listings
# An article carried by both is archived as a 7x24 post (category emnews, the list digest kept),
# as the original did, whichever spider reached it first.
PREFERRED_FEED = FAST_FEED


@dataclass
class Article:
    """One news article as it moves through the pipelines.

    Spiders and reparse fill the raw fields (``published_raw``, ``body_html`` as found on the
    page); the pipelines validate, clean ``body_html`` into ``body_text``, parse ``published_at``
    and derive ``category``/``tags`` before the store pipeline writes the row.
    """

    info_code: str
    url: str
    feed: str  # the listing that produced it: COLUMN_FEED, FAST_FEED, ZQRB_FEED, …
    title: str | None = None
    published_raw: str | None = None
    published_at: datetime | None = None
    media: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    author: str | None = None
    body_html: str | None = None
    body_text: str | None = None
    fetched_at: datetime | None = None
    section: str | None = None  # the site's own 栏目 name; kept as a tag, not a column
    # "generic" when a general main-text extractor (trafilatura) found the body, not site selectors
    extraction: str | None = None


@dataclass
class FeedClaim:
    """An already-stored article seen again on the preferred feed's listing (PREFERRED_FEED).

    The store moves the stored row to that feed (category, tags, digest), so an article's category
    does not depend on which spider happened to run first. Nothing is fetched for it.
    """

    info_code: str
    feed: str
    summary: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
