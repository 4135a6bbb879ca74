"""Near-duplicate fingerprints on real pairs from the finews corpus, and their invariants."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.text.fingerprint import (
    CANDIDATE_JACCARD,
    CANDIDATE_LEAD,
    CONTAINED,
    FIGURES_FOUND,
    MIN_SHINGLES,
    NUM_PERMUTATIONS,
    SAME_TEXT_JACCARD,
    SHINGLE_CHARS,
    Fingerprint,
    FingerprintMatrix,
    ShingleCache,
    candidates,
    fingerprint,
    fingerprints,
    near_duplicate,
    normalize,
    same_stories,
    same_story,
    shingles,
)

PAIRS = json.loads(Path(__file__).with_name("near_duplicate_pairs.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("pair", PAIRS["positive"], ids=lambda pair: pair["why"][:40])
def test_real_copies_are_near_duplicates_and_found_as_candidates(pair: dict[str, str]) -> None:
    assert near_duplicate(pair["a"], pair["b"]) and near_duplicate(pair["b"], pair["a"])
    a, b = fingerprint(pair["a"]), fingerprint(pair["b"])
    assert candidates(a, [b]) == [0] and candidates(b, [a]) == [0]


@pytest.mark.parametrize("pair", PAIRS["negative"], ids=lambda pair: pair["why"][:40])
def test_different_stories_are_not_near_duplicates(pair: dict[str, str]) -> None:
    assert not near_duplicate(pair["a"], pair["b"]) and not near_duplicate(pair["b"], pair["a"])


# Issue 13 point 15: templates with other figures, and short texts that differ in a word, are other
# events. The first is a flood item of the reported attack (boilerplate + template, every figure new);
# the second a real 7x24 item (2021-12-08, 牧原股份) as next month's update would read; the others
# short one-liners whose few words differ.
OTHER_EVENTS = [
    (
        "东方财富网讯，19时9分，北向资金净流入1225.78亿元，其中沪股通净流入37.78亿元。数据来源：东方财富Choice数据。",
        "东方财富网讯，12时27分，北向资金净流入4578.55亿元，其中沪股通净流入2.08亿元。数据来源：东方财富Choice数据。",
    ),
    (
        "牧原股份表示，公司预计2021年底建成生猪养殖产能将超过7000万头，目前公司生猪存栏量在3600万头左右。"
        "现阶段公司月均出栏量保持在450万头水平。",
        "牧原股份表示，公司预计2022年底建成生猪养殖产能将超过7500万头，目前公司生猪存栏量在3900万头左右。"
        "现阶段公司月均出栏量保持在480万头水平。",
    ),
    (
        "港股锂电池板块走高，赣锋锂业涨幅扩大至5%，比亚迪电子涨近5%，比亚迪股份、天能动力跟涨。",
        "港股锂电池板块走高，赣锋锂业涨幅扩大至7%，比亚迪电子涨近3%，比亚迪股份、天能动力跟涨。",
    ),
    (
        "受美联储加息预期影响，美元指数盘中走强，非美货币普遍承压下跌。",
        "受美联储加息预期影响，美元指数盘中走弱，非美货币普遍获得支撑。",
    ),
    (
        "港股科技股午后集体走强，美团、快手、哔哩哔哩涨幅居前，恒生科技指数翻红。",
        "港股科技股午后集体走弱，美团、快手、哔哩哔哩跌幅居前，恒生科技指数翻绿。",
    ),
]


@pytest.mark.parametrize(
    ("first", "second"), OTHER_EVENTS, ids=["flash-flow", "update", "sector", "fx-words", "tech-words"]
)
def test_templates_with_other_figures_and_short_look_alikes_are_other_events(first: str, second: str) -> None:
    assert not near_duplicate(first, second) and not near_duplicate(second, first)
    assert near_duplicate(first, first) and near_duplicate(second, second)  # each is its own copy


def test_unrelated_long_articles_are_not_even_candidates() -> None:
    long_texts = [pair["a"] for pair in PAIRS["positive"] if len(pair["a"]) > 1000]
    other = next(pair["b"] for pair in PAIRS["negative"] if pair["why"] == "two unrelated long articles")
    assert candidates(fingerprint(long_texts[0]), [fingerprint(other)]) == []


def test_punctuation_spacing_and_case_do_not_matter() -> None:
    assert normalize("A股 三大指数，集体走强！") == normalize("a股三大指数集体走强")
    assert fingerprint("A股 三大指数，集体走强！").to_bytes() == fingerprint("a股三大指数集体走强").to_bytes()


def test_signatures_are_stable_across_runs() -> None:
    # stored fingerprints must stay comparable with future runs: pin the first values
    assert fingerprint("北向资金净流入超40亿元").whole[:4].tolist() == [
        516062152,
        3170497921,
        1529966394,
        4184402163,
    ]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(max_size=400))
def test_fingerprint_round_trips_and_text_matches_itself(text: str) -> None:
    print_ = fingerprint(text)
    assert Fingerprint.from_bytes(print_.to_bytes()).to_bytes() == print_.to_bytes()
    if len(normalize(text)) >= 3:
        assert near_duplicate(text, text)
        assert candidates(print_, [print_]) == [0]


def _string_shingles(text: str) -> set[str]:
    """The definition (README): the normalized text's 3-character substrings, or the text itself."""
    normalized = normalize(text)
    if len(normalized) <= SHINGLE_CHARS:
        return {normalized} if normalized else set()
    return {normalized[i : i + SHINGLE_CHARS] for i in range(len(normalized) - SHINGLE_CHARS + 1)}


def _figures(text: str) -> set[str]:
    """The definition (README): every run of digits, with its decimal part."""
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def _decision_on_sets(first: str, second: str) -> bool:
    a, b = _string_shingles(first), _string_shingles(second)
    if not a or not b:
        return False
    common, shorter = len(a & b), min(len(a), len(b))
    fewer, more = sorted((_figures(first), _figures(second)), key=len)
    if fewer and len(fewer & more) < FIGURES_FOUND * len(fewer):
        return False
    if shorter < MIN_SHINGLES:
        return a == b
    return common / len(a | b) >= SAME_TEXT_JACCARD or common / shorter >= CONTAINED


def test_integer_shingles_are_the_string_shingles() -> None:
    texts = [pair[key] for kind in ("positive", "negative") for pair in PAIRS[kind] for key in ("a", "b")]
    for text in [*texts, "", "，", "北", "北向", "北向资", "北向资金", "𠀀𠀁"]:
        assert len(shingles(text)) == len(_string_shingles(text))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(st.sampled_from("北向资金净流入超亿元AB1"), max_size=60),
    st.lists(st.sampled_from("北向资金净流入超亿元AB1"), max_size=60),
    st.integers(0, 60),
)
def test_decision_is_the_one_on_string_shingle_sets(first: list[str], second: list[str], keep: int) -> None:
    # a small alphabet and a shared prefix make every outcome common: copies, digests, strangers
    a, b = "".join(first), "".join(first[:keep] + second)
    assert near_duplicate(a, b) == _decision_on_sets(a, b) == near_duplicate(b, a)


def test_the_decision_on_real_pairs_is_the_one_on_string_shingle_sets() -> None:
    texts = [pair[key] for kind in ("positive", "negative") for pair in PAIRS[kind] for key in ("a", "b")]
    for first in texts:
        for second in texts:
            assert near_duplicate(first, second) == _decision_on_sets(first, second)


def test_one_text_against_many_is_each_pair_alone() -> None:
    # the store compares a text with all its candidates at once: sizes from empty to 4,000 shingles
    texts = [pair[key] for kind in ("positive", "negative") for pair in PAIRS[kind] for key in ("a", "b")]
    texts += ["", "北", *(text for first, second in OTHER_EVENTS for text in (first, second))]
    cut = [shingles(text) for text in texts]
    for own in cut:
        assert same_stories(own, cut).tolist() == [same_story(own, other) for other in cut]
    assert same_stories(cut[0], []).tolist() == []


def _signatures_of(texts: list[str]) -> list[bytes]:
    return [print_.to_bytes() for print_ in fingerprints(texts)]


def test_a_batch_is_fingerprinted_as_each_text_alone() -> None:
    # the store fingerprints a whole batch at once: the values must be fingerprint()'s, edge cases
    # included (empty, one or two characters, exactly the lead's length, astral characters)
    texts = [pair[key] for kind in ("positive", "negative") for pair in PAIRS[kind] for key in ("a", "b")]
    texts += ["", "，。", "北", "北向", "北向资", "𠀀𠀁", "a" * 200, "b" * 199, "中" * 201, "x" * 202]
    assert _signatures_of(texts) == [fingerprint(text).to_bytes() for text in texts]
    assert fingerprints([]) == []


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.text(max_size=300), max_size=8))
def test_batched_fingerprints_equal_single_ones(texts: list[str]) -> None:
    assert _signatures_of(texts) == [fingerprint(text).to_bytes() for text in texts]


def _brute_force_candidates(window: FingerprintMatrix, new: FingerprintMatrix) -> np.ndarray:
    """The candidate rule bin by bin, for every pair (what candidate_rows must equal)."""
    wholes, leads = window.wholes[np.newaxis], window.leads[np.newaxis]
    same_text = (wholes == new.wholes[:, np.newaxis]).mean(axis=2) >= CANDIDATE_JACCARD
    digest_of_other = (leads == new.wholes[:, np.newaxis]).mean(axis=2) >= CANDIDATE_LEAD
    other_is_digest = (wholes == new.leads[:, np.newaxis]).mean(axis=2) >= CANDIDATE_LEAD
    return same_text | digest_of_other | other_is_digest


def test_candidate_rows_of_a_batch_follow_the_rule_pair_by_pair() -> None:
    texts = [pair[key] for kind in ("positive", "negative") for pair in PAIRS[kind] for key in ("a", "b")]
    texts += ["", "", "北向资金净流入超40亿元", "北向资金净流入达30亿元"]  # empty texts: all bins equal
    window = FingerprintMatrix.of(fingerprints(texts))
    new = FingerprintMatrix.of(fingerprints([*texts[::2], ""]))
    found = window.candidate_rows(new)
    assert found.any() and (found == _brute_force_candidates(window, new)).all()


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 40), st.integers(0, 40))
def test_candidate_rows_equal_the_rule_on_random_signatures(
    seed: int, new: int, window: int, shared: int
) -> None:
    # values from a small range, so that many bins are equal (as in short densified texts)
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, size=(2, window + new, NUM_PERMUTATIONS), dtype=np.uint32)
    values[:, :, : min(shared, NUM_PERMUTATIONS)] += rng.integers(0, 2**31, dtype=np.uint32)
    wholes, leads = values
    matrix = FingerprintMatrix(wholes[:window], leads[:window])
    batch = FingerprintMatrix(
        wholes[window:], np.where(rng.random((new, 1)) < 0.5, wholes[window:], leads[window:])
    )
    assert (matrix.candidate_rows(batch) == _brute_force_candidates(matrix, batch)).all()


def test_shingle_cache_returns_shingles_and_keeps_to_its_budget() -> None:
    texts = [pair[key] for kind in ("positive", "negative") for pair in PAIRS[kind] for key in ("a", "b")]
    biggest = max(len(shingles(text)) * 8 + 4 * len(text) for text in texts)
    cache = ShingleCache(budget=2 * biggest)
    for text in texts + texts[::-1]:
        assert (cache(text) == shingles(text)).all()
        assert 0 < cache.held <= 2 * biggest
    assert cache(texts[0]) is cache(texts[0])  # a hit is the very array
