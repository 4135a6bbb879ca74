"""SQLAlchemy 2.0 typed models; dedup by ``info_code`` is a unique constraint in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    extraction: Mapped[str | None] = mapped_column(String(16))  # "generic": trafilatura found the body
    # Near-duplicates are kept and linked, never dropped: the info_code of the earliest copy.
    duplicate_of: Mapped[str | None] = mapped_column(String(40), index=True)
    # newsarchive.text.fingerprint signatures (whole text and lead), for finding near-duplicates.
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)


ARTICLE_FIELDS = (
    "info_code",
    "title",
    "published_at",
    "published_raw",
    "media",
    "category",
    "tags",
    "summary",
    "author",
    "url",
    "feed",
    "body_html",
    "body_text",
    "extraction",
)
