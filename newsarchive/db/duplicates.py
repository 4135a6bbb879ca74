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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import DateTime, Table, bindparam, or_, select, type_coerce, update
from sqlalchemy.orm import Session

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
# Stored times are naive UTC on both dialects (models.AwareDateTime); read as such, the window's
# thousands of rows need no time zone conversion each.
_PUBLISHED_UTC = type_coerce(_ARTICLES.c.published_at, DateTime())
# Built once: SQLAlchemy then only binds values (an IN list is expanded when executed).
_ROWS = select(_ARTICLES.c.id, _ARTICLES.c.info_code, _ARTICLES.c.published_at, _ARTICLES.c.body_text).where(
    _ARTICLES.c.info_code.in_(bindparam("codes", expanding=True))
)
_WINDOW = select(_ARTICLES.c.id, _PUBLISHED_UTC, _ARTICLES.c.fingerprint).where(
    _ARTICLES.c.published_at.between(bindparam("start"), bindparam("end")),
    _ARTICLES.c.fingerprint.is_not(None),
)
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
_EPOCH = datetime(1970, 1, 1)


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
    nearby = session.execute(
        _WINDOW, {"start": rows[0].published_at - window, "end": rows[-1].published_at + window}
    ).all()
    if not nearby:
        return 0
    ids = [other[0] for other in nearby]
    position = {row_id: index for index, row_id in enumerate(ids)}
    # decoded once for the cluster; all its rows are compared with all of it at once in numpy
    matrix = FingerprintMatrix.from_bytes([other[2] for other in nearby])
    seconds = _seconds([other[1] for other in nearby])
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


def _seconds(naive_utc: Sequence[datetime]) -> npt.NDArray[np.float64]:
    """POSIX seconds of naive UTC times, the very floats ``aware.timestamp()`` gives (both divide the
    exact microseconds since the epoch by 10**6), several times faster than numpy's datetime64."""
    return np.array([(moment - _EPOCH).total_seconds() for moment in naive_utc])


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
