"""Near-duplicate linking inside the store's transaction: fingerprint new rows, find the same story
stored under another info_code within a time window, and point every copy at the earliest one.

Copies are never dropped. ``duplicate_of`` is None on the earliest copy (by publish time, then
info_code) and holds its info_code on every other copy, whatever order the copies arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from newsarchive.db.models import ArticleRow
from newsarchive.text.fingerprint import Fingerprint, FingerprintMatrix, fingerprint, near_duplicate


def link_near_duplicates(session: Session, codes: Iterable[str], window: timedelta) -> int:
    """Fingerprint the rows with these codes and link them to stored near-duplicates.

    One query per cluster of the batch loads the fingerprints published within ``window`` of it;
    only candidates that pass the signature estimate get an exact comparison of their texts.
    Returns the number of rows whose ``duplicate_of`` changed.
    """
    rows = list(session.scalars(select(ArticleRow).where(ArticleRow.info_code.in_(list(codes)))))
    if not rows:
        return 0
    for row in rows:
        row.fingerprint = fingerprint(row.body_text).to_bytes()
    session.flush()
    changed = 0
    for cluster in _clusters(rows, window):
        changed += _link_cluster(session, cluster, window)
    return changed


def _clusters(rows: list[ArticleRow], window: timedelta) -> list[list[ArticleRow]]:
    """Rows in publish order, split wherever two neighbours are more than two windows apart, so a
    batch mixing years (a reparse, a backfill) never loads the archive in between."""
    ordered = sorted(rows, key=lambda r: (r.published_at, r.info_code))
    clusters = [[ordered[0]]]
    for row in ordered[1:]:
        if row.published_at - clusters[-1][-1].published_at > 2 * window:
            clusters.append([])
        clusters[-1].append(row)
    return clusters


def _link_cluster(session: Session, rows: list[ArticleRow], window: timedelta) -> int:
    nearby = session.execute(
        select(ArticleRow.info_code, ArticleRow.published_at, ArticleRow.fingerprint).where(
            ArticleRow.published_at.between(rows[0].published_at - window, rows[-1].published_at + window),
            ArticleRow.fingerprint.is_not(None),
        )
    ).all()
    if not nearby:
        return 0
    # decoded once for the cluster; each row is then compared with its window in numpy
    prints = FingerprintMatrix.from_bytes([other.fingerprint for other in nearby])
    codes = np.array([other.info_code for other in nearby], dtype=object)
    seconds = np.array([other.published_at.timestamp() for other in nearby])
    reach = window.total_seconds()
    changed = 0
    for row in rows:
        close = np.flatnonzero(
            (np.abs(seconds - row.published_at.timestamp()) <= reach) & (codes != row.info_code)
        )
        found = prints.candidates(Fingerprint.from_bytes(row.fingerprint or b""), close)
        if found:
            changed += _merge(session, row, [nearby[index].info_code for index in found])
    return changed


def _merge(session: Session, row: ArticleRow, candidate_codes: list[str]) -> int:
    texts = dict(
        session.execute(
            select(ArticleRow.info_code, ArticleRow.body_text).where(
                ArticleRow.info_code.in_(candidate_codes)
            )
        ).all()
    )
    same = [code for code in candidate_codes if near_duplicate(row.body_text, texts.get(code, ""))]
    if not same:
        return 0
    copies = list(session.scalars(select(ArticleRow).where(ArticleRow.info_code.in_(same))))
    roots = {copy.duplicate_of or copy.info_code for copy in copies} | {row.duplicate_of or row.info_code}
    group = list(
        session.scalars(
            select(ArticleRow).where(or_(ArticleRow.info_code.in_(roots), ArticleRow.duplicate_of.in_(roots)))
        )
    )
    members = {member.info_code: member for member in [*group, *copies, row]}
    first = min(members.values(), key=lambda member: (member.published_at, member.info_code))
    changed = 0
    for member in members.values():
        target = None if member is first else first.info_code
        if member.duplicate_of != target:
            member.duplicate_of = target
            changed += 1
    session.flush()
    return changed
