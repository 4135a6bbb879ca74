"""``newsarchive load``: store the items of dead-letter files once the database is back.

A dead-letter line is trusted no more than a page from the web: each article goes through the crawl's
own item pipelines (validation, cleaning and sanitizing, dates, taxonomy: pipelines.article_steps),
and each feed claim is made again by the claim rule (newsarchive.store.claims, as the crawl made it),
then the same :class:`newsarchive.db.writer.BatchWriter` as a crawl (dedup, revisions, feed claims,
near-duplicate links), so loading a file twice changes nothing the second time. A file is read a
line at a time and stored a batch at a time: a bad line is reported with its number and every good
line is stored, whatever the bad ones are.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scrapy.exceptions import DropItem

from newsarchive.db.writer import BatchResult, BatchWriter
from newsarchive.deadletter import BadLine, read_dead_letters
from newsarchive.items import Article
from newsarchive.store.claims import FeedClaim

Step = Callable[[Article], Article]


class LoadError(RuntimeError):
    """A file that cannot be read at all: one line for the user."""


# Bad lines kept (and shown) per file: a file that is no dead-letter file at all has millions.
BAD_LINES_KEPT = 10


@dataclass
class LoadedFile:
    """What loading one file did: items read and stored, lines refused (the first few kept)."""

    path: Path
    items: int = 0
    result: BatchResult = field(default_factory=BatchResult)
    bad_lines: list[BadLine] = field(default_factory=list)
    bad_count: int = 0

    def refuse(self, line: BadLine) -> None:
        self.bad_count += 1
        if len(self.bad_lines) < BAD_LINES_KEPT:
            self.bad_lines.append(line)


def check_file(path: Path) -> None:
    """Raise LoadError unless ``path`` is a regular file that can be opened: a device or a pipe
    (``/dev/zero``) would be read forever."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except OSError as error:
        raise LoadError(f"{path}: {error.strerror}") from None
    if stat.S_ISDIR(mode):
        raise LoadError(f"{path}: is a directory, not a dead-letter file")
    if not stat.S_ISREG(mode):
        raise LoadError(f"{path}: not a regular file")
    try:
        path.open("rb").close()
    except OSError as error:
        raise LoadError(f"{path}: {error.strerror}") from None


def load_file(writer: BatchWriter, path: Path, steps: Sequence[Step], batch_size: int) -> LoadedFile:
    """Read, check and store one file in batches (raises StoreUnavailable if the database stays
    away: what was stored stays stored, and loading the file again is harmless)."""
    loaded = LoadedFile(path)
    batch: list[Article | FeedClaim] = []
    for item in _checked(path, steps, loaded):
        batch.append(item)
        if len(batch) >= max(1, batch_size):
            loaded.result += _store(writer, batch)
            batch = []
    if batch:
        loaded.result += _store(writer, batch)
    return loaded


def _checked(path: Path, steps: Sequence[Step], loaded: LoadedFile) -> Iterator[Article | FeedClaim]:
    try:
        for number, entry in read_dead_letters(path):
            if isinstance(entry, BadLine):
                loaded.refuse(entry)
                continue
            try:
                if isinstance(entry, Article):  # a claim was made by the rule as it was read
                    for step in steps:
                        entry = step(entry)
            except DropItem as dropped:  # what the crawl would have dropped, with its reason
                loaded.refuse(BadLine(number, f"refused: {dropped}"))
                continue
            loaded.items += 1
            yield entry
    except OSError as error:
        raise LoadError(f"{path}: {error.strerror}") from None


def _store(writer: BatchWriter, batch: list[Article | FeedClaim]) -> BatchResult:
    return writer.write(
        [item for item in batch if isinstance(item, Article)],
        [item for item in batch if isinstance(item, FeedClaim)],
    )
