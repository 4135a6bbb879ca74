"""Repository functions over a caller-owned session: they never commit (the caller batches)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsarchive.db.models import ARTICLE_FIELDS, ArticleRow

# SQLite allows 32766 bound parameters; stay far below for IN (...) lookups.
_LOOKUP_CHUNK = 500


@dataclass
class StoreResult:
    new: int = 0
    existing: int = 0
    new_codes: frozenset[str] = frozenset()


def stored_codes(session: Session, codes: Iterable[str]) -> set[str]:
    """Which of these info codes are already in the archive (one query per 500 codes)."""
    wanted = list(dict.fromkeys(codes))
    found: set[str] = set()
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        found.update(session.scalars(select(ArticleRow.info_code).where(ArticleRow.info_code.in_(chunk))))
    return found


def store_articles(session: Session, rows: Sequence[dict[str, Any]], *, replace: bool) -> StoreResult:
    """Insert rows, deduplicated by ``info_code`` inside the database.

    Existing rows are left alone (only ``last_seen_at`` moves) unless ``replace`` is set, which is
    what reparse uses to rewrite rows after a parser fix.
    """
    if not rows:
        return StoreResult()
    by_code = {row["info_code"]: row for row in rows}  # the last copy of a code in a batch wins
    existing = stored_codes(session, by_code)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ArticleRow).values(list(by_code.values()))
    if replace:
        columns = {name: statement.excluded[name] for name in (*ARTICLE_FIELDS, "last_seen_at")}
        columns.pop("info_code")
        statement = statement.on_conflict_do_update(index_elements=["info_code"], set_=columns)
    else:
        statement = statement.on_conflict_do_update(
            index_elements=["info_code"], set_={"last_seen_at": statement.excluded.last_seen_at}
        )
    session.execute(statement)
    new_codes = frozenset(by_code) - existing
    # a code twice in one batch counts as 1 new and 1 existing, so the counts add up to the rows
    return StoreResult(new=len(new_codes), existing=len(rows) - len(new_codes), new_codes=new_codes)


def claim_for_feed(session: Session, claims: Sequence[dict[str, Any]]) -> int:
    """Move stored articles to the feed that takes precedence (see newsarchive.items.PREFERRED_FEED):
    feed, category and tags change, and the feed's digest replaces the summary when it has one.
    Rows already on that feed are left alone. Returns the number of rows moved."""
    moved = 0
    for claim in claims:
        values: dict[str, Any] = {"feed": claim["feed"], "category": claim["category"], "tags": claim["tags"]}
        if claim.get("summary"):
            values["summary"] = claim["summary"]
        result = session.execute(
            update(ArticleRow)
            .where(ArticleRow.info_code == claim["info_code"], ArticleRow.feed != claim["feed"])
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
