"""Content fingerprints for near-duplicate Chinese news: character shingles and MinHash.

No word segmentation: text is reduced to its letters, digits and CJK characters and cut into
overlapping 3-character shingles. A 64-bin MinHash signature of the whole text, and one of its
lead (first LEAD_CHARS characters), let the store find candidates cheaply; the decision is then
made on exact shingle sets (:func:`near_duplicate`). Thresholds are documented in the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SHINGLE_CHARS = 3
NUM_PERMUTATIONS = 64
LEAD_CHARS = 200  # a 7x24 digest is usually the article's lead, so the lead gets its own signature
# Decision thresholds on exact shingle sets (tested on real pairs from the finews corpus):
SAME_TEXT_JACCARD = 0.5  # reposts and the same article on two sites share most of their text
CONTAINED = 0.8  # a digest whose shingles are (nearly) all inside a longer article
MIN_SHINGLES = 20  # below this, templated one-liners (北向资金净流入超40亿元) look alike...
SHORT_TEXT_JACCARD = 0.9  # ...so short texts must be near-identical
# Candidate thresholds on signature estimates: deliberately loose, the exact check decides.
CANDIDATE_JACCARD = 0.3
CANDIDATE_LEAD = 0.15

# Fixed constants: stored signatures must stay comparable across runs and versions.
_SEED = 0x9E3779B97F4A7C15
_DENSIFY_STEP = 0x61C88647
_NOT_ALNUM = re.compile(r"[\W_]+")
_EMPTY = np.full(NUM_PERMUTATIONS, np.iinfo(np.uint32).max, dtype=np.uint32)

Signature = npt.NDArray[np.uint32]


def normalize(text: str) -> str:
    """Lower-cased letters, digits and CJK characters only: spacing and punctuation never matter."""
    return _NOT_ALNUM.sub("", text.lower())


def shingles(text: str) -> set[str]:
    normalized = normalize(text)
    if len(normalized) <= SHINGLE_CHARS:
        return {normalized} if normalized else set()
    return {normalized[i : i + SHINGLE_CHARS] for i in range(len(normalized) - SHINGLE_CHARS + 1)}


def signature(normalized: str) -> Signature:
    """One-permutation MinHash of a normalized text's shingles, all in numpy.

    Each shingle (three code points packed into one integer) is hashed once; the 64-bit hash
    space is cut into 64 bins by its top 6 bits and each bin keeps its minimum, so one sort
    replaces 64 hash functions. Empty bins (short texts) borrow from the next non-empty bin
    with an offset per step (rotation densification), which keeps estimates unbiased.
    """
    if not normalized:
        return _EMPTY.copy()
    points = np.frombuffer(normalized.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(points) < SHINGLE_CHARS:
        points = np.concatenate([points, np.zeros(SHINGLE_CHARS - len(points), dtype=np.uint64)])
    width = len(points) - SHINGLE_CHARS + 1
    packed = np.zeros(width, dtype=np.uint64)
    for offset in range(SHINGLE_CHARS):  # code points are < 2^21, so three fit in 63 bits
        packed = (packed << np.uint64(21)) | points[offset : offset + width]
    hashes = np.unique(_mix(packed))  # sorted, so the first hash of each bin is its minimum
    bins = (hashes >> np.uint64(58)).astype(np.int64)
    first = np.searchsorted(bins, np.arange(NUM_PERMUTATIONS))
    present = first < len(hashes)
    present[present] = bins[first[present]] == np.flatnonzero(present)
    filled = np.flatnonzero(present)
    values = ((hashes[first[filled]] >> np.uint64(26)) & np.uint64(0xFFFFFFFF)).astype(np.uint64)
    # every bin takes the next filled bin at or after it (circularly), shifted by the distance
    nearest = np.searchsorted(filled, np.arange(NUM_PERMUTATIONS)) % len(filled)
    distance = (filled[nearest] - np.arange(NUM_PERMUTATIONS)) % NUM_PERMUTATIONS
    with np.errstate(over="ignore"):
        result = values[nearest] + distance.astype(np.uint64) * np.uint64(_DENSIFY_STEP)
    return (result & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """A fixed 64-bit mixer (splitmix64's finalizer): spreads packed shingles over the hash space."""
    with np.errstate(over="ignore"):
        values = values + np.uint64(_SEED)
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


@dataclass(frozen=True)
class Fingerprint:
    whole: Signature
    lead: Signature

    def to_bytes(self) -> bytes:
        return self.whole.astype("<u4").tobytes() + self.lead.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        values = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        return cls(values[:NUM_PERMUTATIONS], values[NUM_PERMUTATIONS:])


def fingerprint(text: str) -> Fingerprint:
    normalized = normalize(text)
    return Fingerprint(signature(normalized), signature(normalized[:LEAD_CHARS]))


def candidates(new: Fingerprint, others: list[Fingerprint]) -> list[int]:
    """Indexes of the fingerprints worth an exact check: similar whole texts, or one text's whole
    resembling the other's lead (a digest and its full article)."""
    if not others:
        return []
    return FingerprintMatrix.of(others).candidates(new)


@dataclass(frozen=True)
class FingerprintMatrix:
    """Many fingerprints as two (n, 64) arrays, so one new text is compared with all of them at once."""

    wholes: npt.NDArray[np.uint32]
    leads: npt.NDArray[np.uint32]

    @classmethod
    def of(cls, prints: list[Fingerprint]) -> FingerprintMatrix:
        return cls(np.stack([p.whole for p in prints]), np.stack([p.lead for p in prints]))

    @classmethod
    def from_bytes(cls, blobs: list[bytes]) -> FingerprintMatrix:
        """From stored :meth:`Fingerprint.to_bytes` values (one decode for the lot)."""
        values = np.frombuffer(b"".join(blobs), dtype="<u4").astype(np.uint32)
        values = values.reshape(len(blobs), 2 * NUM_PERMUTATIONS)
        return cls(values[:, :NUM_PERMUTATIONS], values[:, NUM_PERMUTATIONS:])

    def candidates(self, new: Fingerprint, among: npt.NDArray[np.intp] | None = None) -> list[int]:
        """Indexes (into this matrix) worth an exact check, optionally only among some rows."""
        rows = np.arange(len(self.wholes)) if among is None else among
        wholes, leads = self.wholes[rows], self.leads[rows]
        same_text = (wholes == new.whole).mean(axis=1) >= CANDIDATE_JACCARD
        digest_of_other = (leads == new.whole).mean(axis=1) >= CANDIDATE_LEAD
        other_is_digest = (wholes == new.lead).mean(axis=1) >= CANDIDATE_LEAD
        return [int(rows[i]) for i in np.flatnonzero(same_text | digest_of_other | other_is_digest)]


def near_duplicate(first: str, second: str) -> bool:
    """The exact decision on two texts (see the thresholds above)."""
    a, b = shingles(first), shingles(second)
    if not a or not b:
        return False
    common = len(a & b)
    jaccard = common / len(a | b)
    if min(len(a), len(b)) < MIN_SHINGLES:
        return jaccard >= SHORT_TEXT_JACCARD
    return jaccard >= SAME_TEXT_JACCARD or common / min(len(a), len(b)) >= CONTAINED
