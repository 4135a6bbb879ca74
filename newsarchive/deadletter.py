"""Dead-letter files: JSON Lines of items the database could not take, for ``newsarchive load``.

One object per line: ``{"kind": "article", …}`` with the article's stored fields and its fetch
time, or ``{"kind": "claim", …}`` for a feed claim. Loading a file twice is harmless: the store
deduplicates by ``info_code`` and keeps each version once.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.db.engine import first_line
from newsarchive.export.records import article_record
from newsarchive.files import append_whole, open_for_append
from newsarchive.ids import canonical_info_code
from newsarchive.items import Article, FeedClaim

ARTICLE = "article"
CLAIM = "claim"
_REQUIRED = ("info_code", "title", "published_at", "url", "feed", "body_html", "body_text")


class DeadLetterError(OSError):
    """No dead-letter folder could take the items (every one full, read-only or missing)."""


class DeadLetterFile:
    """Appends items to one file, created on first use and flushed to disk after every write.

    ``folders`` are tried in order: when the first cannot take a write (a full data disk, the very
    reason the database failed too), the items go to a file in the next one, and later writes
    follow them there. A write either lands whole or not at all: a partial write is cut off again,
    so a file never ends in half a line.
    """

    def __init__(self, folders: Sequence[Path], name: str) -> None:
        if not folders:
            raise ValueError("a dead-letter file needs at least one folder")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.file_name = f"{name}-{stamp}-{os.getpid()}.jsonl"
        self.folders = list(folders)
        self._folder = 0  # index of the folder in use
        self.count = 0

    @property
    def path(self) -> Path:
        """The file the next write goes to."""
        return self.folders[self._folder] / self.file_name

    @property
    def in_fallback(self) -> bool:
        """Whether the first folder failed and a later one is in use."""
        return self._folder > 0

    def write(self, items: Iterable[Article | FeedClaim]) -> Path:
        """Append the items; returns the file they are in, or raises DeadLetterError naming every
        folder tried and why it failed."""
        data = "".join(json.dumps(to_record(item), ensure_ascii=False) + "\n" for item in items)
        failures = []
        while True:
            try:
                self._append(data.encode("utf-8"))
            except OSError as error:
                failures.append(f"{self.path.parent}: {error.strerror or error}")
                if self._folder + 1 == len(self.folders):
                    raise DeadLetterError("; ".join(failures)) from None
                self._folder += 1
                continue
            self.count += data.count("\n")
            return self.path

    def _append(self, data: bytes) -> None:
        if not data:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = open_for_append(self.path)
        try:
            append_whole(descriptor, data, sync=True)
        except OSError:
            if os.fstat(descriptor).st_size == 0:  # created by this write: leave no empty file
                with contextlib.suppress(OSError):
                    self.path.unlink()
            raise
        finally:
            os.close(descriptor)


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
