"""Every article field list derives from the one Article schema (newsarchive.items, issue 15 item 3):
the table's columns, the typed row the writer hands the repository, exports, dead letters and the
plain-text pipeline all follow it."""

from __future__ import annotations

from dataclasses import fields
from typing import get_type_hints

from newsarchive.db.models import ArticleRow, ArticleValues
from newsarchive.deadletter import _OPTIONAL_TEXT
from newsarchive.export.records import RECORD_FIELDS
from newsarchive.items import ARTICLE_FIELDS, REQUIRED_FIELDS, SHORT_TEXT_FIELDS, Article

# The columns of ``articles`` the store fills itself: identity, version bookkeeping, links.
STORE_COLUMNS = {
    "id", "first_seen_at", "last_seen_at", "fetched_at", "content_hash", "duplicate_of", "fingerprint"
}  # fmt: skip


def test_the_table_has_exactly_the_articles_stored_fields() -> None:
    columns = {column.name: column for column in ArticleRow.__table__.columns}
    assert set(columns) - STORE_COLUMNS == set(ARTICLE_FIELDS)
    # a required field is a NOT NULL column; the others may be NULL (tags: an empty list)
    assert {name for name in ARTICLE_FIELDS if not columns[name].nullable} - {"tags"} == set(REQUIRED_FIELDS)


def test_the_typed_row_is_the_stored_fields_with_the_fetch_time() -> None:
    assert list(get_type_hints(ArticleValues)) == [*ARTICLE_FIELDS, "fetched_at", "fingerprint"]
    assert ArticleValues.__required_keys__ == {*ARTICLE_FIELDS, "fetched_at"}


def test_the_lists_are_read_from_the_schema() -> None:
    declared = [item.name for item in fields(Article)]
    assert [name for name in declared if name in ARTICLE_FIELDS] == list(ARTICLE_FIELDS)
    assert set(REQUIRED_FIELDS) <= set(ARTICLE_FIELDS)
    assert (*ARTICLE_FIELDS, "duplicate_of") == RECORD_FIELDS
    assert set(_OPTIONAL_TEXT) == set(ARTICLE_FIELDS) - set(REQUIRED_FIELDS) - {"tags"}
    assert set(SHORT_TEXT_FIELDS) == {"title", "media", "category", "summary", "author", "section"}
