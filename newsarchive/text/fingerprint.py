"""Content fingerprints for near-duplicate Chinese news: character shingles and MinHash.

No word segmentation: text is reduced to its letters, digits and CJK characters and cut into
overlapping 3-character shingles. A 64-bin MinHash signature of the whole text, and one of its
lead (first LEAD_CHARS characters), let the store find candidates cheaply; the decision is then
made on exact shingle sets and on the figures the texts state (:func:`near_duplicate`). Thresholds
are documented in docs/storage.md ("Near-duplicates").
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SHINGLE_CHARS = 3
NUM_PERMUTATIONS = 64
LEAD_CHARS = 200  # a 7x24 digest is usually the article's lead, so the lead gets its own signature
# Decision thresholds on exact shingle sets (tested on real pairs from the finews corpus):
SAME_TEXT_JACCARD = 0.5  # reposts and the same article on two sites share most of their text
CONTAINED = 0.8  # a digest whose shingles are (nearly) all inside a longer article
# Below MIN_SHINGLES (about 40 characters) no similarity decision is made: only the same text is a
# copy. Measured on every real text the project holds (bench/near_duplicates.py --pairs, issue 13
# point 15): a quarter of the real 7x24 items are that short, templated one-liners (北向资金净流入超
# 50亿元 / 达80亿元, 在岸/离岸人民币 rates) that look alike up to a Jaccard of 0.64 between different
# events, while the shortest real copy that is not the same text (a digest inside its article) has
# 52 shingles.
MIN_SHINGLES = 40
# The figures the texts state must agree: of the text stating fewer distinct figures, at least this
# share must be in the other. Real copies keep theirs (1.0 on every real pair: a digest quotes its
# article's figures), while a template with other figures (an index, a flow, a price at another
# time) keeps its words: such pairs pass the shingle rules at any length and share at most 0.7.
FIGURES_FOUND = 0.8
# Candidate thresholds on signature estimates: deliberately loose, the exact check decides.
CANDIDATE_JACCARD = 0.3
CANDIDATE_LEAD = 0.15
SHINGLE_CACHE_BYTES = 24 << 20  # what linking keeps of recent texts' shingles between batches

# Fixed constants: stored signatures must stay comparable across runs and versions.
_SEED = 0x9E3779B97F4A7C15
_DENSIFY_STEP = 0x61C88647
_NOT_ALNUM = re.compile(r"[\W_]+")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")  # 40, 6.3512, 2018: a decimal point belongs to its figure
_EMPTY = np.full(NUM_PERMUTATIONS, np.iinfo(np.uint32).max, dtype=np.uint32)
_NO_VALUE = np.uint64(1 << 63)  # above every 32-bit bin value: marks an empty bin
_BIN_OFFSETS = np.arange(NUM_PERMUTATIONS, dtype=np.uint64) << np.uint64(32)
# 256 KiB of bitmap: a batch's cells (200 wholes and 200 leads, 25,600 at most) fill under 10 % of it;
# a bigger one (1 MiB, 2.4 %) measured no faster on a batch of 200 against 2,000 window rows
_BITMAP_BITS = 18
_BIN_SALTS = (np.arange(NUM_PERMUTATIONS, dtype=np.uint32) * np.uint32(0x85EBCA6B)) ^ np.uint32(0xC2B2AE35)

Signature = npt.NDArray[np.uint32]
Shingles = npt.NDArray[np.uint64]


def normalize(text: str) -> str:
    """Lower-cased letters, digits and CJK characters only: spacing and punctuation never matter."""
    return _NOT_ALNUM.sub("", text.lower())


def shingles(text: str) -> Shingles:
    """The text's shingles as sorted distinct integers, each one's three code points packed in 63 bits:
    equal integers are equal shingles (no hashing, so no collisions). A text of at most three
    characters is one shingle, itself (shorter ones padded with NUL, which normalize() never keeps)."""
    normalized = normalize(text)
    if not normalized:
        return np.zeros(0, dtype=np.uint64)
    padded = normalized + "\0" * (SHINGLE_CHARS - len(normalized))
    return np.unique(_packed(np.frombuffer(padded.encode("utf-32-le"), dtype="<u4").astype(np.uint64)))


class ShingleCache:
    """:func:`shingles` of recently seen texts, keyed by the text itself (so never stale), least
    recently used first out once they hold more than ``budget`` bytes. Linking compares each batch
    with the texts of its time window, mostly the same texts from one batch to the next."""

    def __init__(self, budget: int = SHINGLE_CACHE_BYTES) -> None:
        self.budget = budget
        self.held = 0
        self._cut: OrderedDict[str, Shingles] = OrderedDict()

    def __call__(self, text: str) -> Shingles:
        found = self._cut.get(text)
        if found is not None:
            self._cut.move_to_end(text)
            return found
        found = shingles(text)
        self._cut[text] = found
        self.held += _cost(text, found)
        while self.held > self.budget:
            old_text, old = self._cut.popitem(last=False)
            self.held -= _cost(old_text, old)
        return found


def _cost(text: str, cut: Shingles) -> int:
    return cut.nbytes + 4 * len(text)  # a text holds at most 4 bytes a character


def _packed(points: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Every window of SHINGLE_CHARS code points as one integer (code points are < 2**21)."""
    width = max(len(points) - SHINGLE_CHARS + 1, 0)
    packed = np.zeros(width, dtype=np.uint64)
    for offset in range(SHINGLE_CHARS):
        packed = (packed << np.uint64(21)) | points[offset : offset + width]
    return packed


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
    hashes = np.unique(_mix(_packed(points)))  # sorted, so the first hash of each bin is its minimum
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


def fingerprints(texts: Sequence[str]) -> list[Fingerprint]:
    """:func:`fingerprint` of many texts at once, equal value for value: a store batch costs a few
    numpy operations over all its shingles instead of a few dozen per text.

    The texts' code points go in one buffer; a text's shingles are the windows that start inside it
    and do not run past its end. Every bin keeps its minimum through ``np.minimum.at`` (the minimum
    hash of a bin and the minimum of its bits 26-57 are the same shingle's: the bin fixes the top bits),
    and rotation densification finds each bin's next filled bin with a running minimum.
    """
    # Padded with NUL to SHINGLE_CHARS as signature() pads; a normalized text never holds a NUL.
    padded = [text + "\0" * (SHINGLE_CHARS - len(text)) if text else "" for text in map(normalize, texts)]
    lengths = np.array([len(text) for text in padded], dtype=np.int64)
    counts = np.maximum(lengths - SHINGLE_CHARS + 1, 0)  # shingles of each text
    lead_counts = np.maximum(np.minimum(lengths, LEAD_CHARS) - SHINGLE_CHARS + 1, 0)
    points = np.frombuffer("".join(padded).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    packed = _packed(points)
    text_of = np.repeat(np.arange(len(padded)), counts)
    local = np.arange(len(text_of)) - np.repeat(np.cumsum(counts) - counts, counts)  # index in its text
    hashes = _mix(packed[np.repeat(np.cumsum(lengths) - lengths, counts) + local])
    bins = (hashes >> np.uint64(58)).astype(np.int64)
    values = (hashes >> np.uint64(26)) & np.uint64(0xFFFFFFFF)
    # signature rows: 2 * i for text i's whole, 2 * i + 1 for its lead
    minimum = np.full(2 * len(padded) * NUM_PERMUTATIONS, _NO_VALUE, dtype=np.uint64)
    np.minimum.at(minimum, 2 * NUM_PERMUTATIONS * text_of + bins, values)
    in_lead = local < lead_counts[text_of]
    np.minimum.at(minimum, NUM_PERMUTATIONS * (2 * text_of[in_lead] + 1) + bins[in_lead], values[in_lead])
    signatures = _densify(minimum.reshape(-1, NUM_PERMUTATIONS))
    return [Fingerprint(signatures[2 * i], signatures[2 * i + 1]) for i in range(len(padded))]


def _densify(minimum: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """Rows of per-bin minimums (_NO_VALUE where a bin is empty) to signatures, as :func:`signature`
    fills empty bins; a row with no value at all is the empty text's signature."""
    present = minimum != _NO_VALUE
    where = np.arange(2 * NUM_PERMUTATIONS)
    # the first filled bin at or after each bin, circularly: a running minimum over the row twice
    filled_at = np.where(np.concatenate([present, present], axis=1), where, 2 * NUM_PERMUTATIONS)
    nearest = np.minimum.accumulate(filled_at[:, ::-1], axis=1)[:, ::-1][:, :NUM_PERMUTATIONS]
    empty = ~present.any(axis=1)
    nearest[empty] = np.arange(NUM_PERMUTATIONS)  # any bin: the row is replaced below
    distance = (nearest - np.arange(NUM_PERMUTATIONS)).astype(np.uint64)
    values = np.take_along_axis(minimum, nearest % NUM_PERMUTATIONS, axis=1)
    with np.errstate(over="ignore"):
        result = (values + distance * np.uint64(_DENSIFY_STEP)) & np.uint64(0xFFFFFFFF)
    signatures = result.astype(np.uint32)
    signatures[empty] = _EMPTY
    return signatures


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
        return cls.from_buffer(b"".join(blobs))

    @classmethod
    def from_buffer(cls, data: bytes) -> FingerprintMatrix:
        """From :meth:`Fingerprint.to_bytes` values laid end to end."""
        values = np.frombuffer(data, dtype="<u4").astype(np.uint32).reshape(-1, 2 * NUM_PERMUTATIONS)
        return cls(values[:, :NUM_PERMUTATIONS], values[:, NUM_PERMUTATIONS:])

    def candidates(self, new: Fingerprint, among: npt.NDArray[np.intp] | None = None) -> list[int]:
        """Indexes (into this matrix) worth an exact check, optionally only among some rows."""
        rows = np.arange(len(self.wholes)) if among is None else among
        some = FingerprintMatrix(self.wholes[rows], self.leads[rows])
        worth = some.candidate_rows(FingerprintMatrix(new.whole[np.newaxis], new.lead[np.newaxis]))[0]
        return [int(rows[i]) for i in np.flatnonzero(worth)]

    def candidate_rows(self, new: FingerprintMatrix) -> npt.NDArray[np.bool_]:
        """For every fingerprint of ``new`` (a row of the result), which rows of this matrix are worth an
        exact check (a column): a whole batch against its whole window at once.

        Equal fingerprints (the same text stored again and again) are compared once: equal bins are
        what the index counts, so a story re-posted a thousand times made it count a million pairs
        for every one of its copies."""
        own, own_rows = self._distinct()
        fresh, fresh_rows = new._distinct()
        return own._candidate_rows(fresh)[fresh_rows][:, own_rows]

    def _distinct(self) -> tuple[FingerprintMatrix, npt.NDArray[np.intp]]:
        """The distinct fingerprints, and for every row the index of its own among them."""
        rows = np.ascontiguousarray(np.concatenate([self.wholes, self.leads], axis=1))
        as_bytes = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel()
        _, first, inverse = np.unique(as_bytes, return_index=True, return_inverse=True)
        return FingerprintMatrix(self.wholes[first], self.leads[first]), inverse.ravel()

    def _candidate_rows(self, new: FingerprintMatrix) -> npt.NDArray[np.bool_]:
        # A text of at most LEAD_CHARS is its own lead: its lead compares exactly as its whole does, so
        # only the leads that differ are compared on their own.
        count = len(new.wholes)
        new_long = np.flatnonzero((new.leads != new.wholes).any(axis=1))
        own_long = np.flatnonzero((self.leads != self.wholes).any(axis=1))
        index = _BinIndex(np.concatenate([new.wholes, new.leads[new_long]]))
        by_whole = index.shares(self.wholes)  # new wholes, then the differing new leads, against wholes
        same_text = by_whole[:count] >= CANDIDATE_JACCARD
        other_is_digest = by_whole[:count] >= CANDIDATE_LEAD  # new lead against whole
        other_is_digest[new_long] = by_whole[count:] >= CANDIDATE_LEAD
        digest_of_other = by_whole[:count] >= CANDIDATE_LEAD  # new whole against lead
        if len(own_long):
            digest_of_other[:, own_long] = index.shares(self.leads[own_long])[:count] >= CANDIDATE_LEAD
        return same_text | digest_of_other | other_is_digest


class _BinIndex:
    """A few signatures (a batch), indexed to count the bins they share with many others at once.

    Equal bins are rare, so counting them beats comparing every pair bin by bin: each other value
    is looked up in a bitmap of the indexed (bin, value) pairs' hashes, and only the few that hit it
    (the equal ones, and a few % by chance) are searched among the indexed keys, bin b's values
    offset by b * 2**32 in one sorted array. The bitmap only saves work: an equal value always hits.
    """

    def __init__(self, signatures: npt.NDArray[np.uint32]) -> None:
        self.size = len(signatures)
        keys = (signatures.astype(np.uint64) + _BIN_OFFSETS).ravel()  # key k = row * 64 + bin
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.rows = order // NUM_PERMUTATIONS
        self.run_ends = np.searchsorted(self.keys, self.keys, side="right")  # past each key's equals
        self.bitmap = np.zeros(1 << _BITMAP_BITS, dtype=bool)
        self.bitmap[_bitmap_slots(signatures)] = True

    def shares(self, others: npt.NDArray[np.uint32]) -> npt.NDArray[np.float64]:
        """(indexed, len(others)): the share of bins each indexed signature has equal to each other one,
        equal bins / 64 (exactly the mean of the bin-by-bin equality bits)."""
        if not self.size:
            return np.zeros((0, len(others)))
        maybe = np.flatnonzero(self.bitmap[_bitmap_slots(others)])  # others' cells: row * 64 + bin
        keys = others.ravel()[maybe].astype(np.uint64) + _BIN_OFFSETS[maybe % NUM_PERMUTATIONS]
        first = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        matches = np.where(self.keys[first] == keys, self.run_ends[first] - first, 0)
        other_row = np.repeat(maybe // NUM_PERMUTATIONS, matches)
        nth = np.arange(len(other_row)) - np.repeat(np.cumsum(matches) - matches, matches)
        own_row = self.rows[np.repeat(first, matches) + nth]
        equal = np.bincount(own_row * len(others) + other_row, minlength=self.size * len(others))
        return equal.reshape(self.size, len(others)) / NUM_PERMUTATIONS


def _bitmap_slots(signatures: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """A hash of each (bin, value) cell: multiplicative, of the value mixed with a constant per bin."""
    with np.errstate(over="ignore"):
        mixed = (signatures ^ _BIN_SALTS) * np.uint32(0x9E3779B1)
    return mixed >> np.uint32(32 - _BITMAP_BITS)


def near_duplicate(first: str, second: str) -> bool:
    """The exact decision on two texts (see the thresholds above): their shingles and their figures."""
    return same_story(shingles(first), shingles(second)) and same_figures(first, second)


def same_story(a: Shingles, b: Shingles) -> bool:
    """The shingle half of :func:`near_duplicate`, on two texts' :func:`shingles`."""
    return bool(same_stories(a, [b])[0])


def same_stories(own: Shingles, others: Sequence[Shingles]) -> npt.NDArray[np.bool_]:
    """:func:`same_story` of one text with each of many, in a few numpy operations over all their
    shingles: the store compares a new text with every candidate of its window at once (a flood of
    templated items can make hundreds of them). A caller must check :func:`same_figures` too."""
    if not others:
        return np.zeros(0, dtype=bool)
    sizes = np.fromiter(map(len, others), dtype=np.int64, count=len(others))
    common = np.zeros(len(others), dtype=np.intp)  # shingles each other shares with own
    if len(own):
        joined = np.concatenate(others)
        found = own[np.minimum(np.searchsorted(own, joined), len(own) - 1)] == joined
        common = np.bincount(np.repeat(np.arange(len(others)), sizes)[found], minlength=len(others))
    small = np.minimum(sizes, len(own))
    with np.errstate(divide="ignore", invalid="ignore"):  # empty texts: small == 0, decided below
        similar = (common / (sizes + len(own) - common) >= SAME_TEXT_JACCARD) | (common / small >= CONTAINED)
    identical = (common == sizes) & (sizes == len(own))  # the same text: too short to judge resemblance
    return (small > 0) & np.where(small < MIN_SHINGLES, identical, similar)


def figures(text: str) -> frozenset[str]:
    """The distinct figures a text states, as written (digits and a decimal part)."""
    return frozenset(_FIGURE.findall(text))


def same_figures(first: str, second: str) -> bool:
    """Whether the figures agree: the text stating fewer states (nearly) none the other does not.
    A text stating no figure contradicts nothing."""
    return figures_agree(figures(first), figures(second))


def figures_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """:func:`same_figures` on two texts' :func:`figures`, for a caller that keeps them."""
    fewer, more = (a, b) if len(a) <= len(b) else (b, a)
    return not fewer or len(fewer & more) >= FIGURES_FOUND * len(fewer)
