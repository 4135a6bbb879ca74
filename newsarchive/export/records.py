"""The flat record shape shared by JSON Lines exports and dead-letter files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newsarchive.items import ARTICLE_FIELDS

# The database row's content columns (so an export or a dead letter can be loaded back), plus the
# near-duplicate link.
RECORD_FIELDS = (*ARTICLE_FIELDS, "duplicate_of")


def article_record(article: Any) -> dict[str, Any]:
    """A JSON-ready dict of an Article item or a stored row; ``published_at`` as ISO 8601 (+08:00)."""
    return _json_ready({name: getattr(article, name, None) for name in RECORD_FIELDS})


def values_record(values: Sequence[Any]) -> dict[str, Any]:
    """The same dict from the values of RECORD_FIELDS in that order (a row of exactly those columns)."""
    return _json_ready(dict(zip(RECORD_FIELDS, values, strict=True)))


def _json_ready(record: dict[str, Any]) -> dict[str, Any]:
    published = record["published_at"]
    record["published_at"] = published.isoformat() if isinstance(published, datetime) else None
    record["tags"] = list(record["tags"] or [])
    return record
