"""Dead-letter files: JSON Lines of items the database could not take, for ``newsarchive load``.

One object per line: ``{"kind": "article", …}`` with the article's stored fields and its fetch
time, or ``{"kind": "claim", …}`` for a feed claim. Loading a file twice is harmless: the store
deduplicates by ``info_code`` and keeps each version once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.db.engine import first_line
from newsarchive.export.records import article_record
from newsarchive.ids import canonical_info_code
from newsarchive.items import Article, FeedClaim

ARTICLE = "article"
CLAIM = "claim"
_REQUIRED = ("info_code", "title", "published_at", "url", "feed", "body_html", "body_text")


class DeadLetterFile:
    """Appends items to one file, created on first use and flushed after every write."""

    def __init__(self, folder: Path, name: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.path = folder / f"{name}-{stamp}-{os.getpid()}.jsonl"
        self.count = 0

    def write(self, items: Iterable[Article | FeedClaim]) -> None:
        lines = [json.dumps(to_record(item), ensure_ascii=False) + "\n" for item in items]
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.writelines(lines)
            stream.flush()
            os.fsync(stream.fileno())
        self.count += len(lines)


def to_record(item: Article | FeedClaim) -> dict[str, Any]:
    if isinstance(item, FeedClaim):
        return {"kind": CLAIM, **vars(item)}
    record = article_record(item)
    record.pop("duplicate_of", None)  # the store works it out again
    fetched = item.fetched_at
    return {"kind": ARTICLE, **record, "fetched_at": fetched.isoformat() if fetched else None}


@dataclass
class BadLine:
    line: int
    reason: str


def read_dead_letters(path: Path) -> Iterator[Article | FeedClaim | BadLine]:
    """Items of a dead-letter file in order; a line that is not a valid record yields a BadLine."""
    with path.open(encoding="utf-8", errors="strict") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield from_record(json.loads(line))
            except (ValueError, TypeError, KeyError) as error:
                yield BadLine(number, first_line(error))


def from_record(record: Any) -> Article | FeedClaim:
    if not isinstance(record, dict):
        raise TypeError("not a JSON object")
    record = {**record, "info_code": canonical_info_code(_text(record, "info_code"))}
    kind = record.get("kind", ARTICLE)  # files written before claims were kept have no kind
    if kind == CLAIM:
        return FeedClaim(
            info_code=record["info_code"],
            feed=_text(record, "feed"),
            summary=record.get("summary"),
            category=record.get("category"),
            tags=_tags(record),
        )
    if kind != ARTICLE:
        raise ValueError(f"unknown kind {kind!r}")
    missing = [name for name in _REQUIRED if not record.get(name)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    return Article(
        info_code=record["info_code"],
        url=_text(record, "url"),
        feed=_text(record, "feed"),
        title=_text(record, "title"),
        published_raw=record.get("published_raw"),
        published_at=_aware(record["published_at"], "published_at"),
        media=record.get("media"),
        category=record.get("category"),
        tags=_tags(record),
        summary=record.get("summary"),
        author=record.get("author"),
        body_html=_text(record, "body_html"),
        body_text=_text(record, "body_text"),
        fetched_at=_aware(record["fetched_at"], "fetched_at") if record.get("fetched_at") else None,
        extraction=record.get("extraction"),
    )


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _tags(record: dict[str, Any]) -> list[str]:
    tags = record.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ValueError("tags is not a list of strings")
    return tags


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{name} has no time zone")
    return parsed
