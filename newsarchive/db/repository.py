"""Repository functions over a caller-owned session: they never commit (the caller batches)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsarchive.db.engine import dialect_of
from newsarchive.db.models import (
    REVISED_BY_FETCH,
    REVISED_BY_REPARSE,
    ArticleRevision,
    ArticleRow,
    ArticleValues,
    content_hash,
)
from newsarchive.items import ARTICLE_FIELDS, PREFERRED_FEED
from newsarchive.store.claims import FeedClaim

# SQLite allows 32766 bound parameters; stay far below for IN (...) lookups.
_LOOKUP_CHUNK = 500
_ARTICLES = cast(Table, ArticleRow.__table__)
_REVISIONS = cast(Table, ArticleRevision.__table__)


@dataclass
class StoreResult:
    """What a batch did: every row is exactly one of new, unchanged, revised or stale."""

    new: int = 0
    unchanged: int = 0  # same title and cleaned body as stored: only last_seen_at moved
    revised: int = 0  # content changed: the stored version went to article_revisions
    stale: int = 0  # an older version than the stored one (e.g. a late dead-letter load): kept as history
    moved: int = 0  # stored rows moved to the preferred feed by a version from it (see _feed_columns)
    new_codes: frozenset[str] = frozenset()
    revised_codes: frozenset[str] = frozenset()
    inserted: tuple[dict[str, Any], ...] = ()  # the rows of the new codes as inserted, with their "id"


class ListingState(NamedTuple):
    """What a listing spider needs to know of a stored article: when it was published (is it due
    to be fetched again?) and its feed (must the preferred feed claim it?)."""

    published_at: datetime
    feed: str


def stored_listing_state(session: Session, codes: Iterable[str]) -> dict[str, ListingState]:
    """The :class:`ListingState` of each of these info codes that is stored (one query per 500 codes)."""
    wanted = list(dict.fromkeys(codes))
    found: dict[str, ListingState] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        statement = select(ArticleRow.info_code, ArticleRow.published_at, ArticleRow.feed).where(
            ArticleRow.info_code.in_(chunk)
        )
        found.update(
            (code, ListingState(published, feed)) for code, published, feed in session.execute(statement)
        )
    return found


def store_articles(
    session: Session, rows: Sequence[ArticleValues], *, replace: bool, now: datetime | None = None
) -> StoreResult:
    """Insert or revise rows, deduplicated by ``info_code`` inside the database.

    Rows need the article columns plus ``fetched_at`` (and may carry a ``fingerprint``, stored with a
    new row). New codes are inserted with the dialect's
    ``INSERT … ON CONFLICT DO NOTHING``, so concurrent writers can never double a row. For a stored
    code, the version with the later ``fetched_at`` becomes current and the other one is kept in
    ``article_revisions`` (when title or cleaned body differ); an unchanged article only gets its
    ``last_seen_at`` moved. ``replace`` (reparse) also rewrites the metadata columns of the current
    version, for parser fixes that change more than the text.

    The feed rule is kept here, where every writer's versions meet: a version from the preferred
    feed (newsarchive.items.PREFERRED_FEED) moves a stored row to it, and nothing moves a row off it,
    so a column crawl and a 7x24 crawl storing the same article at the same moment end the same way
    whichever commits first.
    """
    if not rows:
        return StoreResult()
    changed_at = now or datetime.now(UTC)
    reason = REVISED_BY_REPARSE if replace else REVISED_BY_FETCH
    latest: dict[str, dict[str, Any]] = {}
    superseded: list[dict[str, Any]] = []  # other versions of a code in this batch
    for values in rows:  # one version per code is compared: the latest fetch (the last one on a tie)
        # from here on a version grows columns (content_hash, first/last_seen_at, id): a plain dict
        row: dict[str, Any] = {**values, "content_hash": content_hash(values["title"], values["body_html"])}
        kept = latest.get(row["info_code"])
        if kept is None:
            latest[row["info_code"]] = row
        elif row["fetched_at"] >= kept["fetched_at"]:
            superseded.append(kept)
            latest[row["info_code"]] = {**row, **_feed_columns(kept, row)}
        else:
            superseded.append(row)
            latest[row["info_code"]] = {**kept, **_feed_columns(row, kept)}
    # Sorted, so concurrent PostgreSQL writers lock rows in the same order and cannot deadlock.
    ordered = [latest[code] for code in sorted(latest)]
    # One executemany of a statement compiled once (SQLAlchemy sends it as multi-row INSERTs, in this
    # order), not an INSERT … VALUES of the whole batch, which would be compiled again for every batch.
    new_ids: dict[str, int] = dict(
        session.execute(
            _NEW_ARTICLES[dialect_of(session)],
            [
                {**row, "first_seen_at": row["fetched_at"], "last_seen_at": row["fetched_at"]}
                for row in ordered
            ],
        ).all()
    )
    new_codes = frozenset(new_ids)
    inserted = tuple(
        {**row, "id": new_ids[row["info_code"]]} for row in ordered if row["info_code"] in new_ids
    )
    result = StoreResult(new=len(new_codes), new_codes=new_codes, inserted=inserted)
    existing = [row for row in ordered if row["info_code"] not in new_codes]
    history = _merge_versions(session, existing, replace=replace, result=result) if existing else []
    # An earlier version in the same batch (dead letters of two crawls loaded at once) is history
    # too; a copy of the version kept is simply unchanged.
    for version in superseded:
        if version["content_hash"] == latest[version["info_code"]]["content_hash"]:
            result.unchanged += 1
        else:
            result.stale += 1
            history.append({c: version[c] for c in _REVISION_COLUMNS})
    if history:
        session.execute(
            _NEW_REVISIONS[dialect_of(session)],
            [{**version, "reason": reason, "replaced_at": changed_at} for version in history],
        )
    return result


_CONTENT_COLUMNS = ("title", "body_html", "body_text", "extraction", "content_hash", "fetched_at")
# What puts an article on a feed: moved together, by a FeedClaim or a version from the preferred feed.
FEED_COLUMNS = ("feed", "category", "tags", "summary")
_REVISION_COLUMNS = ("info_code", "title", "body_html", "body_text", "content_hash", "fetched_at")


def _merge_versions(
    session: Session, rows: list[dict[str, Any]], *, replace: bool, result: StoreResult
) -> list[dict[str, Any]]:
    """Compare incoming versions of stored codes with the current rows (locked for the update on
    PostgreSQL), update the rows in a few statements, and return the versions that become history."""
    current = {
        stored.info_code: stored
        for stored in session.execute(
            select(
                ArticleRow.id,
                ArticleRow.last_seen_at,
                *(getattr(ArticleRow, c) for c in (*_REVISION_COLUMNS, *FEED_COLUMNS)),
            )
            .where(ArticleRow.info_code.in_([row["info_code"] for row in rows]))
            .order_by(ArticleRow.info_code)
            .with_for_update()
        )
    }
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    revised: set[str] = set()
    for row in rows:
        stored = current[row["info_code"]]
        update_values: dict[str, Any] = {
            "id": stored.id,
            "last_seen_at": max(stored.last_seen_at, row["fetched_at"]),
        }
        if row["content_hash"] == stored.content_hash:
            result.unchanged += 1
            if replace:
                update_values.update(_metadata(row))
        elif row["fetched_at"] >= stored.fetched_at:
            result.revised += 1
            revised.add(row["info_code"])
            history.append({c: getattr(stored, c) for c in _REVISION_COLUMNS})
            update_values.update({c: row[c] for c in _CONTENT_COLUMNS})
            if replace:
                update_values.update(_metadata(row))
        else:
            result.stale += 1
            history.append({c: row[c] for c in _REVISION_COLUMNS})
        if moved := _feed_columns(row, stored._asdict()):
            update_values.update(moved)
            result.moved += 1
        elif stored.feed == PREFERRED_FEED and row["feed"] != PREFERRED_FEED:
            for column in FEED_COLUMNS:  # a reparse's metadata never takes a row off the preferred feed
                update_values.pop(column, None)
        updates.append(update_values)
    # executemany per distinct column set (UPDATE … WHERE id = ?)
    for columns in {tuple(sorted(values)) for values in updates}:
        group = [values for values in updates if tuple(sorted(values)) == columns]
        session.execute(update(ArticleRow), group)
    result.revised_codes = frozenset(revised)
    return history


# Each dialect's own INSERT … ON CONFLICT DO NOTHING, built once: Core on the tables, so an
# executemany skips the ORM's per-row bookkeeping, and SQLAlchemy only binds the values.
_DIALECT_INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}
_NEW_ARTICLES = {
    name: insert(_ARTICLES)
    .on_conflict_do_nothing(index_elements=["info_code"])
    .returning(_ARTICLES.c.info_code, _ARTICLES.c.id)
    for name, insert in _DIALECT_INSERTS.items()
}
_NEW_REVISIONS = {
    name: insert(_REVISIONS).on_conflict_do_nothing(
        index_elements=["info_code", "content_hash", "fetched_at"]
    )
    for name, insert in _DIALECT_INSERTS.items()
}


def _feed_columns(incoming: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The feed columns ``stored`` must take from ``incoming`` under the feed rule: all of them when
    ``incoming`` is from the preferred feed and ``stored`` is not (its summary only if it has one,
    as a FeedClaim), none otherwise."""
    if incoming["feed"] != PREFERRED_FEED or stored["feed"] == PREFERRED_FEED:
        return {}
    moved = {c: incoming[c] for c in FEED_COLUMNS}
    if not moved["summary"]:
        moved["summary"] = stored["summary"]
    return moved


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    return {c: row[c] for c in ARTICLE_FIELDS if c not in _CONTENT_COLUMNS and c != "info_code"}


def claim_for_feed(session: Session, claims: Sequence[FeedClaim]) -> int:
    """Move stored articles to the feed that takes precedence (newsarchive.store.claims):
    feed, category and tags change, and the feed's digest replaces the summary when it has one.
    Rows already on that feed are left alone. Returns the number of rows moved."""
    moved = 0
    for claim in claims:
        values: dict[str, Any] = {"feed": claim.feed, "category": claim.category, "tags": list(claim.tags)}
        if claim.summary:
            values["summary"] = claim.summary
        result = session.execute(
            update(ArticleRow)
            .where(ArticleRow.info_code == claim.info_code, ArticleRow.feed != claim.feed)
            .values(**values)
        )
        moved += result.rowcount or 0  # type: ignore[attr-defined]
    return moved


def count_articles(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ArticleRow)) or 0


def iter_articles(
    session: Session, *, exclude_duplicates: bool = False, batch_size: int = 1000
) -> Iterator[ArticleRow]:
    """All articles in publish order, streamed in batches so exports do not hold the archive in
    memory; ``exclude_duplicates`` leaves out every copy linked to an earlier one."""
    statement = select(ArticleRow).order_by(ArticleRow.published_at, ArticleRow.info_code)
    if exclude_duplicates:
        statement = statement.where(ArticleRow.duplicate_of.is_(None))
    yield from session.scalars(statement.execution_options(yield_per=batch_size))
