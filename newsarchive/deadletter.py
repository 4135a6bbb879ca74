"""Dead-letter files: JSON Lines of items the database could not take, for ``newsarchive load``.

One object per line: ``{"kind": "article", …}`` with the article's stored fields and its fetch
time, or ``{"kind": "claim", …}`` for a feed claim. Loading a file twice is harmless: the store
deduplicates by ``info_code`` and keeps each version once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from newsarchive.db.engine import first_line
from newsarchive.export.records import article_record
from newsarchive.files import append_whole, open_for_append
from newsarchive.ids import canonical_info_code, canonical_url
from newsarchive.items import ARTICLE_FIELDS, REQUIRED_FIELDS, Article
from newsarchive.store.claims import FeedClaim, listing_claim
from newsarchive.text.characters import NOT_IN_URL, character_class
from newsarchive.text.dates import EARLIEST

ARTICLE = "article"
CLAIM = "claim"
# The stored fields an article's line may leave out: text, or null (tags are checked as a list)
_OPTIONAL_TEXT = tuple(name for name in ARTICLE_FIELDS if name not in (*REQUIRED_FIELDS, "tags"))
# No record is longer: a body is at most NEWSARCHIVE_MAX_BODY_CHARS (2 M characters, up to 3 bytes
# each in UTF-8), stored as cleaned HTML and as text.
MAX_LINE_BYTES = 16 * 1024 * 1024
FEED_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")  # a spider's feed: eastmoney, eastmoney_fast, zqrb …
# A dead letter written on one machine may be loaded on another whose clock is a little behind.
CLOCK_SKEW = timedelta(hours=1)
_NOT_IN_URL = character_class(NOT_IN_URL)


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
        return {"kind": CLAIM, **vars(item), "tags": list(item.tags)}
    record = article_record(item)
    record.pop("duplicate_of", None)  # the store works it out again
    fetched = item.fetched_at
    return {"kind": ARTICLE, **record, "fetched_at": fetched.isoformat() if fetched else None}


@dataclass
class BadLine:
    line: int
    reason: str


def read_dead_letters(path: Path) -> Iterator[tuple[int, Article | FeedClaim | BadLine]]:
    """``(line number, item)`` for each record of a dead-letter file in order; a line that is not
    a valid record gives a BadLine.

    A file is read a line at a time, never more than MAX_LINE_BYTES of one line: a line longer than
    that (no record is), one that is not UTF-8 or not JSON, or nested past what Python's JSON
    reader takes, is a BadLine like any other, and the lines after it are still read."""
    with path.open("rb") as stream:
        for number, line in enumerate(_lines(stream), start=1):
            if line is not None and not line.strip():
                continue
            yield number, _entry(number, line)


def _entry(number: int, line: bytes | None) -> Article | FeedClaim | BadLine:
    if line is None:
        return BadLine(number, f"longer than {MAX_LINE_BYTES} bytes")
    try:
        return from_record(json.loads(line.decode("utf-8")))
    except UnicodeDecodeError:
        return BadLine(number, "not UTF-8 text")
    except RecursionError:
        return BadLine(number, "nested too deeply")
    except (ValueError, TypeError, KeyError) as error:
        return BadLine(number, first_line(error))


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The file's lines; None for a line over MAX_LINE_BYTES, which is skipped without holding it."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def from_record(record: Any, *, now: datetime | None = None) -> Article | FeedClaim:
    """The item a record describes, its fields checked for type and shape (what the crawl's
    pipelines then check of an article's content is theirs to check). ``now`` bounds its fetch
    time: a version from the future would stay the current one forever."""
    if not isinstance(record, dict):
        raise TypeError("not a JSON object")
    record = {**record, "info_code": canonical_info_code(_text(record, "info_code"))}
    kind = record.get("kind", ARTICLE)  # files written before claims were kept have no kind
    feed = _text(record, "feed")
    if not FEED_NAME.fullmatch(feed):
        raise ValueError(f"feed {feed[:40]!r} is not a feed name")
    for name in _OPTIONAL_TEXT:
        if record.get(name) is not None and not isinstance(record[name], str):
            raise ValueError(f"{name} is not a string")
    if kind == CLAIM:
        # the claim rule decides its category, tags and plain-text digest, whatever the line says
        _tags(record)
        claim = listing_claim(record["info_code"], feed, record.get("summary"))
        if claim is None:
            raise ValueError(f"a claim for feed {feed!r}: only the preferred feed claims articles")
        return claim
    if kind != ARTICLE:
        raise ValueError(f"unknown kind {kind!r}")
    missing = [name for name in REQUIRED_FIELDS if not record.get(name)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    published_at = _aware(record["published_at"], "published_at")
    fetched_at = _aware(record["fetched_at"], "fetched_at") if record.get("fetched_at") else None
    if fetched_at is not None and not EARLIEST <= fetched_at <= (now or datetime.now(UTC)) + CLOCK_SKEW:
        raise ValueError(f"fetched_at {record['fetched_at']} is not a time a page could have been fetched")
    info_code = record["info_code"]
    return Article(
        info_code=info_code,
        url=_url(info_code, _text(record, "url")),
        feed=feed,
        title=_text(record, "title"),
        # the crawl's date pipeline reads the page's own text again; a record without it has its time
        published_raw=record.get("published_raw") or published_at.isoformat(),
        published_at=published_at,
        media=record.get("media"),
        category=record.get("category"),
        tags=_tags(record),
        summary=record.get("summary"),
        author=record.get("author"),
        body_html=_text(record, "body_html"),
        body_text=_text(record, "body_text"),
        fetched_at=fetched_at,
        # a crawl keeps the site's own 栏目 as the tag after the outlet's (pipelines/taxonomy.py)
        section=tags[1] if len(tags := _tags(record)) > 1 else None,
        extraction=record.get("extraction"),
    )


def _url(info_code: str, url: str) -> str:
    """The URL a crawl would store for the article: an East Money code decides its own; any other
    must be a plain http(s) address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or _NOT_IN_URL.search(url):
        raise ValueError(f"url {url[:80]!r} is not an http(s) address")
    return canonical_url(info_code, url)


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
