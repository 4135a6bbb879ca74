"""Write one batch of items in one transaction, retrying while the database is unreachable or locked.

Shared by the store pipeline and ``newsarchive load``: articles are inserted or revised
(:func:`newsarchive.db.repository.store_articles`), feed claims applied, near-duplicates linked.
A transient failure (connection lost, server down, "database is locked", a deadlock) is retried with
exponential backoff until ``retry_seconds`` have passed; then :class:`StoreUnavailable` is raised
and the caller keeps the items (dead-letter file) instead of losing them. Any other database error
(a row the database rejects) is isolated by writing the batch's articles one by one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from newsarchive.db.duplicates import StoredRow, link_near_duplicates
from newsarchive.db.engine import first_line, session_factory, writer
from newsarchive.db.models import ArticleValues, column_limits
from newsarchive.db.repository import StoreResult, claim_for_feed, store_articles
from newsarchive.items import Article, article_values
from newsarchive.store.claims import FeedClaim
from newsarchive.store.config import StoreConfig
from newsarchive.text.fingerprint import ShingleCache, fingerprints

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5  # seconds before the first retry; doubled after each failure
MAX_BACKOFF = 30.0


class StoreUnavailable(RuntimeError):
    """The database stayed unreachable or locked for the whole retry budget."""

    def __init__(self, reason: str, retries: int) -> None:
        super().__init__(reason)
        self.retries = retries

    def __reduce__(self) -> tuple[type[StoreUnavailable], tuple[str, int]]:
        # raised in the store's writer process and sent back pickled (newsarchive.db.writer_process)
        return StoreUnavailable, (str(self), self.retries)


@dataclass
class BatchResult:
    """Counts of one or more written batches (added up by ``+=``)."""

    new: int = 0
    unchanged: int = 0
    revised: int = 0
    stale: int = 0
    moved: int = 0
    linked: int = 0
    retries: int = 0
    fitted: int = 0  # values changed to fit the database (NUL removed, cut to the column's length)
    rejected: list[tuple[Article | FeedClaim, str]] = field(default_factory=list)
    new_codes: frozenset[str] = frozenset()  # the info codes inserted (newsarchive.tally)
    revised_codes: frozenset[str] = frozenset()  # the info codes whose stored text was revised

    def __iadd__(self, other: BatchResult) -> BatchResult:
        for name in ("new", "unchanged", "revised", "stale", "moved", "linked", "retries", "fitted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected += other.rejected
        self.new_codes |= other.new_codes
        self.revised_codes |= other.revised_codes
        return self


def is_transient(error: SQLAlchemyError) -> bool:
    """Errors that a later attempt can get past: lost or refused connections, locks, deadlocks."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class BatchWriter:
    """Writes batches (:meth:`write`) through ``engine``; :meth:`for_store` builds it from the
    store's configuration, as the writer process, ``newsarchive load`` and the benchmarks do."""

    def __init__(
        self,
        engine: Engine,
        *,
        replace: bool = False,
        near_duplicate_window: timedelta = timedelta(0),
        retry_seconds: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = writer(engine)
        self.replace = replace
        self.near_duplicate_window = near_duplicate_window
        self.retry_seconds = retry_seconds
        self.sleep = sleep
        self.shingles = ShingleCache()  # one writer's batches share their time windows

    @classmethod
    def for_store(cls, engine: Engine, config: StoreConfig, *, replace: bool = False) -> BatchWriter:
        return cls(
            engine,
            replace=replace,
            near_duplicate_window=config.near_duplicate_window,
            retry_seconds=config.retry_seconds,
        )

    def write(self, articles: Sequence[Article], claims: Sequence[FeedClaim] = ()) -> BatchResult:
        """Store the batch; raises StoreUnavailable once retries are exhausted (nothing committed)."""
        try:
            return self._with_retries(articles, claims)
        except SQLAlchemyError as error:
            if len(articles) + len(claims) <= 1:
                items: list[Article | FeedClaim] = [*articles, *claims]
                return BatchResult(rejected=[(item, first_line(error)) for item in items])
        # A row the database refuses must not take the rest of its batch down with it.
        total = BatchResult()
        for article in articles:
            total += self.write([article])
        for claim in claims:
            total += self.write([], [claim])
        return total

    def _with_retries(self, articles: Sequence[Article], claims: Sequence[FeedClaim]) -> BatchResult:
        deadline = time.monotonic() + self.retry_seconds
        backoff = FIRST_BACKOFF
        retries = 0
        while True:
            try:
                result = self._transaction(articles, claims)
                result.retries = retries
                return result
            except SQLAlchemyError as error:
                if not is_transient(error):
                    raise
                if time.monotonic() + backoff > deadline:
                    raise StoreUnavailable(first_line(error), retries) from error
                retries += 1
                logger.warning("database unavailable (%s); retrying in %.1f s", first_line(error), backoff)
                self.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _transaction(self, articles: Sequence[Article], claims: Sequence[FeedClaim]) -> BatchResult:
        rows = [article_row(article) for article in articles]
        fitted = sum(len(fit_to_columns(row)) for row in rows)
        if self.near_duplicate_window:  # before the write lock is taken: new rows are stored with it
            for row, print_ in zip(rows, fingerprints([row["body_text"] for row in rows]), strict=True):
                row["fingerprint"] = print_.to_bytes()
        with session_factory(self.engine).begin() as session:
            stored: StoreResult = store_articles(session, rows, replace=self.replace)
            moved = claim_for_feed(session, claims)
            linked = 0
            if self.near_duplicate_window:
                written = (
                    {row["info_code"] for row in rows}
                    if self.replace
                    else (stored.new_codes | stored.revised_codes)
                )
                inserted = [
                    StoredRow(
                        row["id"], row["info_code"], row["published_at"], row["body_text"], row["fingerprint"]
                    )
                    for row in stored.inserted
                ]
                linked = link_near_duplicates(
                    session, written, self.near_duplicate_window, inserted, self.shingles
                )
        return BatchResult(
            new=stored.new,
            unchanged=stored.unchanged,
            revised=stored.revised,
            stale=stored.stale,
            moved=moved + stored.moved,
            linked=linked,
            fitted=fitted,
            new_codes=stored.new_codes,
            revised_codes=stored.revised_codes,
        )


def article_row(article: Article) -> ArticleValues:
    """The database row of a cleaned Article (its fetch time defaults to now)."""
    values = {**article_values(article), "fetched_at": article.fetched_at or datetime.now(UTC)}
    return cast(ArticleValues, values)  # the validate pipeline saw to the required fields


_LIMITS = column_limits()


def fit_to_columns(row: ArticleValues) -> list[str]:
    """Make a row storable the same way on every dialect, in place; returns the fields changed.

    PostgreSQL refuses NUL characters in text and values longer than a bounded column, SQLite takes
    both: NULs are removed and over-long values (a hostile 来源 or byline) cut to the column's
    length. An info_code is never changed (the validate pipeline refuses a bad one)."""
    values = cast(dict[str, Any], row)  # changed field by field, by name
    changed = []
    for name, value in values.items():
        if name == "info_code":
            continue
        if isinstance(value, str) and "\x00" in value:
            values[name] = value = value.replace("\x00", "")
            changed.append(name)
        elif isinstance(value, list) and any(isinstance(tag, str) and "\x00" in tag for tag in value):
            values[name] = [tag.replace("\x00", "") if isinstance(tag, str) else tag for tag in value]
            changed.append(name)
        limit = _LIMITS.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            values[name] = value[: limit - 1] + "…"
            changed.append(name)
    for name in changed:
        logger.warning("%s: %s changed to fit the database (NUL or over-long)", row["info_code"], name)
    return changed
