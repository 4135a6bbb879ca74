"""SQLAlchemy 2.0 typed models; dedup by ``info_code`` is a unique constraint in the database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from newsarchive.items import ARTICLE_FIELDS as ARTICLE_FIELDS  # re-exported: the columns an Article fills
from newsarchive.text.dates import SHANGHAI


class AwareDateTime(TypeDecorator[datetime]):
    """Stores instants as naive UTC on every dialect and returns Asia/Shanghai-aware datetimes.

    SQLite has no time zone type; keeping UTC everywhere makes both dialects sort and compare alike.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to an AwareDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC).astimezone(SHANGHAI)  # type: ignore[no-any-return]


class Base(DeclarativeBase):
    pass


class ArticleRow(Base):
    """One stored article; the columns mirror :class:`newsarchive.items.Article`."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("info_code", name="uq_articles_info_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    info_code: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    published_at: Mapped[datetime] = mapped_column(AwareDateTime, nullable=False, index=True)
    published_raw: Mapped[str | None] = mapped_column(String(64))
    media: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(128), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(256))
    url: Mapped[str] = mapped_column(Text, nullable=False)
    feed: Mapped[str] = mapped_column(String(64), nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(AwareDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(AwareDateTime, nullable=False)
    # When the current version (title and cleaned body) was fetched, and its content_hash().
    fetched_at: Mapped[datetime] = mapped_column(AwareDateTime, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    extraction: Mapped[str | None] = mapped_column(String(16))  # "generic": trafilatura found the body
    # Near-duplicates are kept and linked, never dropped: the info_code of the earliest copy.
    duplicate_of: Mapped[str | None] = mapped_column(String(40), index=True)
    # newsarchive.text.fingerprint signatures (whole text and lead), for finding near-duplicates.
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)


class ArticleRevision(Base):
    """A version of an article that a later fetch (or a reparse) replaced, kept with its fetch time.

    A version is recorded once: (info_code, content_hash, fetched_at) is unique, so concurrent
    writers and re-runs cannot double the history.
    """

    __tablename__ = "article_revisions"
    __table_args__ = (
        UniqueConstraint("info_code", "content_hash", "fetched_at", name="uq_article_revisions_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    info_code: Mapped[str] = mapped_column(
        String(40), ForeignKey("articles.info_code", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    fetched_at: Mapped[datetime] = mapped_column(AwareDateTime, nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(AwareDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # REVISED_BY_FETCH / _REPARSE


class RunRow(Base):
    """One crawl, backfill or reparse: what ran, when, how it ended, and its counts."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(512), nullable=False, index=True)  # spider + arguments
    spider: Mapped[str] = mapped_column(String(64), nullable=False)
    arguments: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    started_at: Mapped[datetime] = mapped_column(AwareDateTime, nullable=False, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # "running" until it ends
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


REVISED_BY_FETCH = "fetch"
REVISED_BY_REPARSE = "reparse"


def content_hash(title: str, body_html: str) -> str:
    """What decides whether a re-fetched article changed: its title and cleaned body."""
    return hashlib.sha256(f"{title}\x00{body_html}".encode()).hexdigest()


class _ArticleColumns(TypedDict):
    info_code: str
    title: str
    published_at: datetime
    published_raw: str | None
    media: str | None
    category: str | None
    tags: list[str]
    summary: str | None
    author: str | None
    url: str
    feed: str
    body_html: str
    body_text: str
    extraction: str | None
    fetched_at: datetime


# total=False, not NotRequired: with postponed annotations Python 3.11 counts NotRequired keys as required
class ArticleValues(_ArticleColumns, total=False):
    """One article version on its way into ``articles`` (newsarchive.db.writer.article_row ->
    newsarchive.db.repository.store_articles): the columns of :data:`ARTICLE_FIELDS` (the Article
    schema, newsarchive.items), its fetch time, and its fingerprint when near-duplicates are linked.
    A test holds these keys to that one definition."""

    fingerprint: bytes


def column_limits() -> dict[str, int]:
    """The length limit of every bounded text column of ``articles`` (PostgreSQL enforces them,
    SQLite does not: the writer clips values to these so both dialects store the same row)."""
    return {
        column.name: column.type.length
        for column in ArticleRow.__table__.columns
        if isinstance(column.type, String) and column.type.length and column.name in ARTICLE_FIELDS
    }
