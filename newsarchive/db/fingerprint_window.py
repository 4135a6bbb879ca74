"""The fingerprinted articles of a time window, read in one query, with their near-duplicate links
as linking (:mod:`newsarchive.db.duplicates`) changes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, Text, bindparam, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from newsarchive.db.engine import dialect_of
from newsarchive.db.models import ArticleRow
from newsarchive.text.fingerprint import FingerprintMatrix

_ARTICLES = cast(Table, ArticleRow.__table__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _window_query(dialect: str) -> Select[Any]:
    """The fingerprinted rows published between ``start`` and ``end`` as ONE row of text: every row's
    ``id,published,code,link,fingerprint`` (code, link and fingerprint in hex) joined by ``;``.

    One row, not one per article: the sqlite3 module lets go of the GIL for every row it steps,
    and during a crawl the reactor thread then holds it, so a store thread reading a window of
    1,400 rows a row at a time waited about 30 µs for each (measured: that read was a third of the
    store thread's time, near-duplicate linking cost a quarter of bench (d)'s throughput). Times are
    the stored naive UTC, written out in ISO form on both dialects; codes go in hex so that no
    character of a stored code can be taken for a separator."""
    published: ColumnElement[str]
    if dialect == "postgresql":
        published = func.to_char(_ARTICLES.c.published_at, 'YYYY-MM-DD"T"HH24:MI:SS.US')
        code_hex = func.encode(func.convert_to(_ARTICLES.c.info_code, "UTF8"), "hex")
        link_hex = func.encode(func.convert_to(_ARTICLES.c.duplicate_of, "UTF8"), "hex")
        print_hex = func.encode(_ARTICLES.c.fingerprint, "hex")
    else:  # SQLite keeps the ISO text SQLAlchemy wrote; hex() of text is its UTF-8
        published = sql_cast(_ARTICLES.c.published_at, Text)
        code_hex = func.hex(_ARTICLES.c.info_code)
        link_hex = func.hex(_ARTICLES.c.duplicate_of)
        print_hex = func.hex(_ARTICLES.c.fingerprint)
    entry = (
        sql_cast(_ARTICLES.c.id, Text)
        + ","
        + published
        + ","
        + code_hex
        + ","
        + func.coalesce(link_hex, "")
        + ","
        + print_hex
    )
    return select(func.aggregate_strings(entry, ";")).where(
        _ARTICLES.c.published_at >= bindparam("start"),
        _ARTICLES.c.published_at <= bindparam("end"),
        _ARTICLES.c.fingerprint.is_not(None),
    )


_WINDOW = {dialect: _window_query(dialect) for dialect in ("sqlite", "postgresql")}


class Window:
    """The fingerprinted rows published from ``start`` to ``end`` and their links as the sweep sets
    them; it grows forward when a row's reach goes past its end."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        self.end = end
        self.ids: list[int] = []
        self.codes: list[str] = []
        self.micros = np.zeros(0, dtype=np.int64)  # publish times, µs since the epoch
        self.links: list[str | None] = []
        self.is_original = np.zeros(0, dtype=bool)
        self.matrix = FingerprintMatrix.from_buffer(b"")
        self.position: dict[str, int] = {}
        self.copies: dict[str, set[int]] = {}  # an original's code: the indexes of its copies

    @classmethod
    def read(cls, session: Session, start: datetime, end: datetime) -> Window:
        found = cls(start, start - MICROSECOND)
        found.extend(session, end)
        return found

    def extend(self, session: Session, end: datetime) -> None:
        """Add the rows published after the current end, up to ``end``."""
        query = _WINDOW[dialect_of(session)]
        joined: str | None = session.execute(query, {"start": self.end + MICROSECOND, "end": end}).scalar()
        self.end = end
        if not joined:
            return
        fields = joined.replace(";", ",").split(",")
        first = len(self.ids)
        self.ids += map(int, fields[0::5])
        micros = np.array(fields[1::5], dtype="datetime64[us]").astype(np.int64)
        self.micros = np.concatenate([self.micros, micros])
        self.codes += (bytes.fromhex(code).decode() for code in fields[2::5])
        links = [bytes.fromhex(link).decode() if link else None for link in fields[3::5]]
        self.links += links
        self.is_original = np.concatenate([self.is_original, [link is None for link in links]])
        added = FingerprintMatrix.from_buffer(bytes.fromhex("".join(fields[4::5])))
        wholes = np.concatenate([self.matrix.wholes, added.wholes])
        self.matrix = FingerprintMatrix(wholes, np.concatenate([self.matrix.leads, added.leads]))
        for index in range(first, len(self.ids)):
            self.position[self.codes[index]] = index
            link = self.links[index]
            if link is not None:
                self.copies.setdefault(link, set()).add(index)

    def key(self, index: int) -> tuple[int, str]:
        """Publish order: time, then info_code."""
        return int(self.micros[index]), self.codes[index]

    def relink(self, index: int, target: str | None) -> None:
        """Point the row at ``target`` (None: it is an original), keeping the copies index right."""
        old = self.links[index]
        if old is not None:
            self.copies[old].discard(index)
        if target is not None:
            self.copies.setdefault(target, set()).add(index)
        self.links[index] = target
        self.is_original[index] = target is None


def from_micros(micros: int) -> datetime:
    """A time from its µs since the epoch (as :class:`Window` keeps publish times)."""
    return _EPOCH + micros * MICROSECOND
