"""Near-duplicate linking inside the store's transaction: fingerprint new rows, find the same story
stored under another info_code within a time window, and link each copy to an original it resembles.

Copies are never dropped. The rule: taken in publish order (publish time, then info_code), a row is
a copy of the first earlier *original* (a row that is no copy) published at most ``window`` before it
whose text it resembles (:func:`newsarchive.text.fingerprint.near_duplicate`), and an original when
there is none. So ``duplicate_of`` always names an original that the copy itself resembles, published
within the window before it, and a group (an original and its copies) spans at most the window.
Nothing is linked through an intermediate: a chain of look-alikes once made one group of 16,219 rows
spanning more than 48 h, most of them unlike the row they pointed to (issue 13 point 15).

A batch is linked by one sweep in publish order over its rows and the stored rows their arrival
changes: a later row that now has an earlier original, the copies of a row that stopped being an
original or whose text changed. So the links do not depend on the order rows arrive in, up to
FOLLOWED_ROWS stored rows relinked per batch (see there). Per cluster of the batch that costs one
query for the window around it (read as one row of text), one for the texts of the candidates that
pass the signature estimate (exact checks are numpy on integer shingles, a row against all its
candidates at once) and one executemany for the links that changed; a late row whose consequences
reach past the window read costs a query more for the next window.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from newsarchive.db.fingerprint_window import MICROSECOND, Window, from_micros
from newsarchive.db.models import ArticleRow
from newsarchive.text.fingerprint import (
    FingerprintMatrix,
    Shingles,
    figures,
    figures_agree,
    fingerprints,
    same_stories,
    shingles,
)

_ARTICLES = cast(Table, ArticleRow.__table__)
_SET_FINGERPRINT = (
    update(_ARTICLES).where(_ARTICLES.c.id == bindparam("row_id")).values(fingerprint=bindparam("print"))
)
_SET_DUPLICATE_OF = (
    update(_ARTICLES)
    .where(_ARTICLES.c.info_code == bindparam("code"))
    .values(duplicate_of=bindparam("target"))
)
# How many stored rows a batch may relink before a stored row that becomes an original stops taking
# over the groups after it (it then stays an original beside a later group that resembles it: a
# missed link, never a wrong one). Following every consequence is exact but unbounded: a late copy
# of a story re-posted all along (a hostile feed can back-date one copy after another) would move the
# start of every later group, and each batch would relink the whole archive after it. About what the
# two feeds publish in a 48-hour window.
FOLLOWED_ROWS = 2_000


# Built once: SQLAlchemy then only binds values (an IN list is expanded when executed).
_ROWS = select(_ARTICLES.c.id, _ARTICLES.c.info_code, _ARTICLES.c.published_at, _ARTICLES.c.body_text).where(
    _ARTICLES.c.info_code.in_(bindparam("codes", expanding=True))
)
_TEXTS = select(_ARTICLES.c.id, _ARTICLES.c.body_text).where(
    _ARTICLES.c.id.in_(bindparam("ids", expanding=True))
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
    """Fingerprint the rows with these codes and link them, and the stored rows their arrival
    changes, by the rule above.

    ``known`` are rows among ``codes`` that the caller has just inserted with their fingerprint: they
    are not read back nor fingerprinted again. Only candidates that pass the signature estimate get
    an exact comparison of their texts, cut into shingles by ``cut`` (a :class:`ShingleCache` keeps
    them from one batch to the next). Returns the number of rows whose ``duplicate_of`` changed.
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
    changed = 0
    for cluster in _clusters(rows, window):
        around = Window.read(session, cluster[0].published_at - window, cluster[-1].published_at + window)
        links = _Sweep(session, around, window, cut, cluster).run()
        if links:  # sorted: concurrent writers lock rows in the same order
            moves = [{"code": code, "target": links[code]} for code in sorted(links)]
            session.execute(_SET_DUPLICATE_OF, moves)
        changed += len(links)
    return changed


def _clusters(rows: list[StoredRow], window: timedelta) -> list[list[StoredRow]]:
    """Rows in publish order, split wherever two neighbours are more than two windows apart, so a
    batch mixing years (a reparse, a backfill) never loads the archive in between."""
    if not rows:
        return []
    ordered = sorted(rows, key=lambda r: (r.published_at, r.info_code))
    clusters = [[ordered[0]]]
    for row in ordered[1:]:
        if row.published_at - clusters[-1][-1].published_at > 2 * window:
            clusters.append([])
        clusters[-1].append(row)
    return clusters


class _Sweep:
    """One cluster's rows, and the stored rows they affect, linked in publish order: when a row is
    taken, every row before it is final, and it only ever affects rows after it."""

    def __init__(
        self,
        session: Session,
        window: Window,
        reach: timedelta,
        cut: Callable[[str], Shingles],
        rows: list[StoredRow],
    ) -> None:
        self.session = session
        self.window = window
        self.reach = reach
        self.reach_micros = reach // MICROSECOND
        self.cut = cut
        self.texts = {row.id: row.body_text for row in rows}
        self.cuts: dict[int, Shingles] = {}  # by row id, for this sweep (``cut`` may cache them longer)
        self.stated: dict[int, frozenset[str]] = {}  # figures, by row id
        self.asked = np.zeros(len(window.ids), dtype=bool)  # by window index: text read (or gone)
        self.written = {window.position[row.info_code] for row in rows if row.info_code in window.position}
        self.estimates: dict[int, npt.NDArray[np.bool_]] = {}
        self.pending: set[int] = set()  # queued, not yet linked
        self.followed = 0  # stored rows relinked because of the batch
        self.changed: dict[str, str | None] = {}

    def run(self) -> dict[str, str | None]:
        """The links that changed, by info_code."""
        window = self.window
        queue = [(*window.key(index), index) for index in self.written]
        heapq.heapify(queue)
        self.pending = set(self.written)
        while queue:
            *_, index = heapq.heappop(queue)
            self.pending.discard(index)
            for later in self._relink(index):
                if later not in self.pending:
                    self.pending.add(later)
                    heapq.heappush(queue, (*window.key(later), later))
        return self.changed

    def _relink(self, index: int) -> list[int]:
        """Link the row by the rule; returns the later rows whose link this may change."""
        window = self.window
        original = self._first_original(index)
        target = None if original is None else window.codes[original]
        before = window.links[index]
        if target != before:
            window.relink(index, target)
            self.changed[window.codes[index]] = target
        written = index in self.written
        self.followed += not written
        if not written and (before is None) == (target is None):
            return []  # still what it was: an original (same text) or a copy, nothing else moves
        affected: list[int] = []
        if target is not None or written:  # its copies need another original, or may no longer resemble it
            affected += window.copies.get(window.codes[index], ())
        if target is None and (written or self.followed <= FOLLOWED_ROWS):
            affected += self._later_lookalikes(index)  # it may take over later groups
        own = window.key(index)
        return [later for later in affected if window.key(later) > own]

    def _first_original(self, index: int) -> int | None:
        """The first original before the row, within the window, that the row resembles."""
        window = self.window
        estimate = self._estimate(index)
        count = len(estimate)
        at = window.micros[index]
        micros = window.micros[:count]
        near = np.flatnonzero(estimate & window.is_original[:count] & (micros <= at))
        near = near[micros[near] >= at - self.reach_micros]
        own = window.key(index)
        # in publish order: by time here, and by code among the rows of one time below (rare)
        ordered = near[np.argsort(micros[near], kind="stable")].tolist()
        alike = self._alike(
            index, [other for other in ordered if micros[other] < at or window.key(other) < own]
        )
        if not alike:
            return None
        return min((other for other in alike if micros[other] == micros[alike[0]]), key=window.key)

    def _later_lookalikes(self, index: int) -> list[int]:
        """Later rows within its reach that resemble this original and have no earlier original yet:
        their link becomes this row."""
        window = self.window
        estimate = self._estimate(index)
        count = len(estimate)
        at = window.micros[index]
        micros = window.micros[:count]
        near = np.flatnonzero(estimate & (micros >= at) & (micros <= at + self.reach_micros)).tolist()
        own = window.key(index)
        return self._alike(
            index, [other for other in near if window.key(other) > own and self._prefers(other, own)]
        )

    def _prefers(self, index: int, original: tuple[int, str]) -> bool:
        """Whether an original at ``original`` would come before the row's current one."""
        window = self.window
        link = window.links[index]
        if link is None:
            return True
        current = window.position.get(link)
        return current is None or window.key(current) > original

    def _estimate(self, index: int) -> npt.NDArray[np.bool_]:
        """Which window rows pass the signature estimate against the row (the row itself among them)."""
        if index not in self.estimates:
            self._estimate_pending(index)
        return self.estimates[index]

    def _estimate_pending(self, index: int) -> None:
        """Estimates for the row and every row waiting in the sweep without one, in one pass (the
        batch's at the start; a late original can queue hundreds of stored rows), with the window
        grown to their reach and the texts they may be compared with read in one query."""
        window = self.window
        rows = sorted({index, *self.pending} - self.estimates.keys())
        reach_end = from_micros(int(window.micros[rows].max())) + self.reach
        if reach_end > window.end:  # a window further at least: growing costs a query each time
            window.extend(self.session, max(reach_end, window.end + self.reach))
        estimates = window.matrix.candidate_rows(
            FingerprintMatrix(window.matrix.wholes[rows], window.matrix.leads[rows])
        )
        self.estimates.update(zip(rows, estimates, strict=True))
        # earlier originals and later rows: what a row is ever compared with
        micros = window.micros
        worth = estimates.any(axis=0) & (window.is_original | (micros >= micros[rows].min()))
        self._load_texts(np.flatnonzero(worth))

    def _alike(self, index: int, others: list[int]) -> list[int]:
        """The rows among ``others`` (in their order) whose text the row's resembles: shingles for all
        at once, then figures for the few that pass."""
        self._load_texts(np.array([index, *others], dtype=np.intp))
        ids = self.window.ids
        # a row deleted (by hand) since the window was read has no text: it is nobody's copy
        present = [other for other in others if ids[other] in self.texts]
        if ids[index] not in self.texts or not present:
            return []
        passed = same_stories(self._cut(ids[index]), [self._cut(ids[other]) for other in present])
        own = self._figures(ids[index])
        return [
            other
            for other, alike in zip(present, passed.tolist(), strict=True)
            if alike and figures_agree(own, self._figures(ids[other]))
        ]

    def _cut(self, row_id: int) -> Shingles:
        cut = self.cuts.get(row_id)
        if cut is None:
            cut = self.cuts[row_id] = self.cut(self.texts[row_id])
        return cut

    def _figures(self, row_id: int) -> frozenset[str]:
        stated = self.stated.get(row_id)
        if stated is None:
            stated = self.stated[row_id] = figures(self.texts[row_id])
        return stated

    def _load_texts(self, indexes: npt.NDArray[np.intp]) -> None:
        """Read the texts of these window rows not asked for yet, in one query."""
        grown = len(self.window.ids) - len(self.asked)
        if grown:
            self.asked = np.concatenate([self.asked, np.zeros(grown, dtype=bool)])
        fresh = np.unique(indexes[~self.asked[indexes]])
        self.asked[fresh] = True
        ids = self.window.ids
        missing = [ids[index] for index in fresh.tolist() if ids[index] not in self.texts]
        if missing:
            found = self.session.execute(_TEXTS, {"ids": missing})
            self.texts.update((row_id, text) for row_id, text in found)
