"""``newsarchive load``: store the items of dead-letter files once the database is back.

Every file is read and checked before anything is written, so a damaged file is reported with its
line numbers and the good lines are still stored. Items go through the same
:class:`newsarchive.db.writer.BatchWriter` as a crawl (dedup, revisions, feed claims, near-duplicate
links), so loading a file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newsarchive.db.writer import BatchResult, BatchWriter
from newsarchive.deadletter import BadLine, read_dead_letters
from newsarchive.items import Article, FeedClaim


class LoadError(RuntimeError):
    """A file that cannot be read at all: one line for the user."""


@dataclass
class LoadedFile:
    path: Path
    items: list[Article | FeedClaim] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)


def read_files(paths: Sequence[Path]) -> list[LoadedFile]:
    """Parse every file up front; raises LoadError for a missing, unreadable or non-UTF-8 file."""
    loaded = []
    for path in paths:
        entry = LoadedFile(path)
        try:
            for item in read_dead_letters(path):
                if isinstance(item, BadLine):
                    entry.bad_lines.append(item)
                else:
                    entry.items.append(item)
        except FileNotFoundError:
            raise LoadError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise LoadError(f"{path}: is a directory, not a dead-letter file") from None
        except UnicodeDecodeError:
            raise LoadError(f"{path}: not a UTF-8 JSON Lines file") from None
        except OSError as error:
            raise LoadError(f"{path}: {error.strerror}") from None
        loaded.append(entry)
    return loaded


def store_file(writer: BatchWriter, loaded: LoadedFile, batch_size: int) -> BatchResult:
    """Write one file's items in batches (raises StoreUnavailable if the database stays away)."""
    total = BatchResult()
    for start in range(0, len(loaded.items), max(1, batch_size)):
        batch = loaded.items[start : start + batch_size]
        total += writer.write(
            [item for item in batch if isinstance(item, Article)],
            [item for item in batch if isinstance(item, FeedClaim)],
        )
    return total
