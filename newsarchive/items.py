"""The article schema: one item per article, shared by spiders, reparse, pipelines and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Article:
    """One news article as it moves through the pipelines.

    Spiders and reparse fill the raw fields (``published_raw``, ``body_html`` as found on the
    page); the pipelines validate, clean ``body_html`` into ``body_text``, parse ``published_at``
    and derive ``category``/``tags`` before the store pipeline writes the row.
    """

    info_code: str
    url: str
    feed: str  # the listing that produced it: "eastmoney" (column lists) or "eastmoney_fast" (7x24)
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
