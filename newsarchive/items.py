"""The article schema: one item per article, shared by spiders, reparse, pipelines and exports.

:class:`Article` is the one definition of an article's fields: each field's metadata says whether it
is a column of ``articles`` (:data:`ARTICLE_FIELDS`, and so of exports and dead letters), one a
stored row needs (:data:`REQUIRED_FIELDS`) and one that is short plain text (:data:`SHORT_TEXT_FIELDS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

COLUMN_FEED = "eastmoney"  # East Money column lists
FAST_FEED = "eastmoney_fast"  # East Money's 7x24 list
GENERIC_EXTRACTION = "generic"  # Article.extraction / ArticlePage.layout of trafilatura bodies
ZQRB_FEED = "zqrb"  # 证券日报网's own 栏目 listings
# An article carried by both is archived as a 7x24 post (category emnews, the list digest kept),
# as the original did, whichever spider reached it first.
PREFERRED_FEED = FAST_FEED


# Field metadata: what each Article field is, read by the lists below.
_STORED = {"stored": True}  # a column of ``articles`` (newsarchive.db.models.ArticleRow)
_REQUIRED = {"stored": True, "required": True}  # a stored row needs it, non-empty
_SHORT = {"stored": True, "short": True}  # stored, and plain single-line text
# fetched_at is stored too, but as the version's fetch time (newsarchive.db.writer), not content;
# section is kept as a tag (pipelines/taxonomy.py), not a column.


@dataclass(kw_only=True)  # keyword-only, so the fields can be declared in the stored columns' order
class Article:
    """One news article as it moves through the pipelines.

    Spiders and reparse fill the raw fields (``published_raw``, ``body_html`` as found on the
    page); the pipelines validate, clean ``body_html`` into ``body_text``, parse ``published_at``
    and derive ``category``/``tags`` before the store pipeline writes the row.
    """

    info_code: str = field(metadata=_REQUIRED)
    title: str | None = field(default=None, metadata={**_REQUIRED, "short": True})
    published_at: datetime | None = field(default=None, metadata=_REQUIRED)
    published_raw: str | None = field(default=None, metadata=_STORED)
    media: str | None = field(default=None, metadata=_SHORT)
    category: str | None = field(default=None, metadata=_SHORT)
    tags: list[str] = field(default_factory=list, metadata=_STORED)
    summary: str | None = field(default=None, metadata=_SHORT)
    author: str | None = field(default=None, metadata=_SHORT)
    url: str = field(metadata=_REQUIRED)
    feed: str = field(metadata=_REQUIRED)  # the listing that produced it: COLUMN_FEED, FAST_FEED, …
    body_html: str | None = field(default=None, metadata=_REQUIRED)
    body_text: str | None = field(default=None, metadata=_REQUIRED)
    fetched_at: datetime | None = None
    section: str | None = field(default=None, metadata={"short": True})  # the site's own 栏目 name
    # "generic" when a general main-text extractor (trafilatura) found the body, not site selectors
    extraction: str | None = field(default=None, metadata=_STORED)


def _article_fields(key: str) -> tuple[str, ...]:
    """The names of Article's fields whose metadata has ``key``, in declaration order."""
    return tuple(item.name for item in fields(Article) if item.metadata.get(key))


# The columns of ``articles`` an Article fills, in the order exports and dead letters write them.
ARTICLE_FIELDS = _article_fields("stored")
# The ones a stored row (and a dead-letter line) must have, non-empty.
REQUIRED_FIELDS = _article_fields("required")
# The short text fields the plain-text pipeline cleans (titles, names, digests).
SHORT_TEXT_FIELDS = _article_fields("short")


def article_values(article: Article) -> dict[str, Any]:
    """The stored fields of ``article`` by name (:data:`ARTICLE_FIELDS`)."""
    return {name: getattr(article, name) for name in ARTICLE_FIELDS}
