"""Near-duplicate linking inside the store's transaction: fingerprint new rows, find the same story
stored under another info_code within a time window, and point every copy at the earliest one.

Copies are never dropped. ``duplicate_of`` is None on the earliest copy (by publish time, then
info_code) and holds its info_code on every other copy, whatever order the copies arrive in.

Everything here is Core SQL on the articles table (no ORM objects): a batch costs one query for its
rows, one executemany for their fingerprints, and per cluster one query for the fingerprints around
it and one for the texts of the candidates that pass the signature estimate, whose exact check is
numpy on integer shingles; only a row found to have copies costs more (its groups, the moves).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, Text, bindparam, func, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from newsarchive.db.engine import dialect_of
from newsarchive.db.models import ArticleRow
from newsarchive.text.fingerprint import FingerprintMatrix, Shingles, fingerprints, same_story, shingles

_ARTICLES = cast(Table, ArticleRow.__table__)
_SET_FINGERPRINT = (
    update(_ARTICLES).where(_ARTICLES.c.id == bindparam("row_id")).values(fingerprint=bindparam("print"))
)
_SET_DUPLICATE_OF = (
    update(_ARTICLES)
    .where(_ARTICLES.c.info_code == bindparam("code"))
    .values(duplicate_of=bindparam("target"))
)


def _window_query(dialect: str) -> Select[Any]:
    """The stored fingerprints published between ``start`` and ``end`` as ONE row of text: every row's
    ``id,published,fingerprint-in-hex`` joined by ``;``.

    One row, not one per article: the sqlite3 module lets go of the GIL for every row it steps,
    and during a crawl the reactor thread then holds it, so a store thread reading a window of
    1,400 rows a row at a time waited about 30 µs for each (measured: that read was a third of the
    store thread's time, near-duplicate linking cost a quarter of bench (d)'s throughput). Times are
    the stored naive UTC, written out in ISO form on both dialects."""
    published: ColumnElement[str]
    if dialect == "postgresql":
        published = func.to_char(_ARTICLES.c.published_at, 'YYYY-MM-DD"T"HH24:MI:SS.US')
        print_hex = func.encode(_ARTICLES.c.fingerprint, "hex")
    else:  # SQLite keeps the ISO text SQLAlchemy wrote
        published = sql_cast(_ARTICLES.c.published_at, Text)
        print_hex = func.hex(_ARTICLES.c.fingerprint)
    entry = sql_cast(_ARTICLES.c.id, Text) + "," + published + "," + print_hex
    return select(func.aggregate_strings(entry, ";")).where(
        _ARTICLES.c.published_at.between(bindparam("start"), bindparam("end")),
        _ARTICLES.c.fingerprint.is_not(None),
    )


# Built once: SQLAlchemy then only binds values (an IN list is expanded when executed).
_ROWS = select(_ARTICLES.c.id, _ARTICLES.c.info_code, _ARTICLES.c.published_at, _ARTICLES.c.body_text).where(
    _ARTICLES.c.info_code.in_(bindparam("codes", expanding=True))
)
_WINDOW = {dialect: _window_query(dialect) for dialect in ("sqlite", "postgresql")}
_TEXTS = select(_ARTICLES.c.id, _ARTICLES.c.body_text).where(
    _ARTICLES.c.id.in_(bindparam("ids", expanding=True))
)
_LINKS = select(_ARTICLES.c.info_code, _ARTICLES.c.duplicate_of).where(
    _ARTICLES.c.id.in_(bindparam("ids", expanding=True))
)
_GROUPS = select(_ARTICLES.c.info_code, _ARTICLES.c.published_at, _ARTICLES.c.duplicate_of).where(
    or_(
        _ARTICLES.c.info_code.in_(bindparam("roots", expanding=True)),
        _ARTICLES.c.duplicate_of.in_(bindparam("roots", expanding=True)),
    )
)


@dataclass(frozen=True)
class StoredRow:
    """What linking needs of a stored row, its fingerprint (:meth:`Fingerprint.to_bytes`) included."""

    id: int
    info_code: str
    published_at: datetime  # timezone-aware
    body_text: str
    fingerprint: bytes


def link_near_duplicates(
    session: Session,
    codes: Iterable[str],
    window: timedelta,
    known: Iterable[StoredRow] = (),
    cut: Callable[[str], Shingles] = shingles,
) -> int:
    """Fingerprint the rows with these codes and link them to stored near-duplicates.

    ``known`` are rows among ``codes`` that the caller has just inserted with their fingerprint: they
    are not read back nor fingerprinted again. One query per cluster of the batch loads the
    fingerprints published within ``window`` of it; only candidates that pass the signature
    estimate get an exact comparison of their texts, cut into shingles by ``cut`` (a
    :class:`ShingleCache` keeps them from one batch to the next). Returns the number of rows whose
    ``duplicate_of`` changed.
    """
    wanted = set(codes)
    rows = [row for row in known if row.info_code in wanted]
    unknown = wanted.difference(row.info_code for row in rows)
    if unknown:
        found = session.execute(_ROWS, {"codes": sorted(unknown)}).all()
        computed = fingerprints([text for *_, text in found])
        read = [StoredRow(*values, print_.to_bytes()) for values, print_ in zip(found, computed, strict=True)]
        if read:
            session.execute(_SET_FINGERPRINT, [{"row_id": row.id, "print": row.fingerprint} for row in read])
        rows += read
    if not rows:
        return 0
    changed = 0
    for cluster in _clusters(rows, window):
        changed += _link_cluster(session, cluster, window, cut)
    return changed


def _clusters(rows: list[StoredRow], window: timedelta) -> list[list[StoredRow]]:
    """Rows in publish order, split wherever two neighbours are more than two windows apart, so a
    batch mixing years (a reparse, a backfill) never loads the archive in between."""
    ordered = sorted(rows, key=lambda r: (r.published_at, r.info_code))
    clusters = [[ordered[0]]]
    for row in ordered[1:]:
        if row.published_at - clusters[-1][-1].published_at > 2 * window:
            clusters.append([])
        clusters[-1].append(row)
    return clusters


def _link_cluster(
    session: Session, rows: list[StoredRow], window: timedelta, cut: Callable[[str], Shingles]
) -> int:
    ids, seconds, matrix = _window(session, rows[0].published_at - window, rows[-1].published_at + window)
    if not ids:
        return 0
    position = {row_id: index for index, row_id in enumerate(ids)}
    reach = window.total_seconds()
    estimates = matrix.candidate_rows(FingerprintMatrix.from_bytes([row.fingerprint for row in rows]))
    stamps = np.array([row.published_at.timestamp() for row in rows])
    worth = estimates & (np.abs(seconds[np.newaxis, :] - stamps[:, np.newaxis]) <= reach)
    for number, row in enumerate(rows):
        if row.id in position:
            worth[number, position[row.id]] = False  # not itself
    wanted = np.flatnonzero(worth.any(axis=1))
    if not len(wanted):
        return 0
    # every candidate's text once for the cluster: texts never change here, and each is cut into
    # shingles once however many of the cluster's rows it is a candidate for
    texts = dict(
        session.execute(_TEXTS, {"ids": sorted({ids[i] for i in np.flatnonzero(worth.any(axis=0))})}).all()
    )
    candidate = {row_id: cut(text) for row_id, text in texts.items()}
    changed = 0
    for number in wanted.tolist():  # in publish order, as the rows are
        own = cut(rows[number].body_text)
        same = [
            ids[i]
            for i in np.flatnonzero(worth[number])
            # a row deleted (by hand) since the window was read is no copy
            if ids[i] in candidate and same_story(own, candidate[ids[i]])
        ]
        if same:
            changed += _merge(session, rows[number], same)
    return changed


def _window(
    session: Session, start: datetime, end: datetime
) -> tuple[list[int], npt.NDArray[np.float64], FingerprintMatrix]:
    """Ids, POSIX seconds and fingerprints of the rows published between ``start`` and ``end``, with
    a fingerprint. Seconds are exact microseconds divided by 10**6, as ``aware.timestamp()`` gives."""
    joined: str | None = session.execute(_WINDOW[dialect_of(session)], {"start": start, "end": end}).scalar()
    if not joined:
        return [], np.zeros(0), FingerprintMatrix.from_buffer(b"")
    fields = joined.replace(";", ",").split(",")
    microseconds = np.array(fields[1::3], dtype="datetime64[us]").astype(np.int64)
    return (
        list(map(int, fields[0::3])),
        microseconds / 1e6,
        FingerprintMatrix.from_buffer(bytes.fromhex("".join(fields[2::3]))),
    )


def _merge(session: Session, row: StoredRow, same_ids: list[int]) -> int:
    """Link the row and its copies (with their groups) to the earliest. Groups are read as stored
    right now: an earlier row of the cluster may have just moved some."""
    found = session.execute(_LINKS, {"ids": [*same_ids, row.id]}).all()
    roots = sorted({duplicate_of or code for code, duplicate_of in found})
    members = session.execute(_GROUPS, {"roots": roots}).all()
    first = min(members, key=lambda member: (member[1], member[0]))[0]
    moves = []
    for code, _, duplicate_of in members:
        target = None if code == first else first
        if duplicate_of != target:
            moves.append({"code": code, "target": target})
    if moves:
        session.execute(_SET_DUPLICATE_OF, moves)
    return len(moves)
