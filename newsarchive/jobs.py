"""What names a job (a spider and its arguments): its key, which the job lock (:mod:`newsarchive.locks`)
and the run history's ``job`` column share, and its arguments as a summary header shows them.

A job whose ``spider k=v …`` fits :data:`MAX_JOB_KEY` characters keeps exactly that key, as it
always had. A longer one (a reparse of many WARC files) gets a short key in which each long value
is a digest of it, ``reparse warc=3f2a9c01d4e5…(37 files)``: deterministic, so the same job keeps
its lock and its history. The full arguments stay in the run's ``arguments``
(``newsarchive runs --json``). Runs recorded before short keys existed are found through
:func:`job_keys`. See docs/operations.md (job locks and names).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

MAX_JOB_KEY = 160  # characters: a key up to this long is the spider and its arguments, as given
LONG_VALUE = 60  # characters: in a long key, or a header, a longer value is shortened
DIGEST_LENGTH = 12  # hex digits of SHA-256: a collision between two jobs is out of reach
# Before issue 14 a key was cut at the run history's column (String(512)) and ended with a digest.
_LEGACY_KEY_LENGTH = 512
_LEGACY_DIGEST_LENGTH = 16
# What the items of a comma-separated value are, for the key's "(37 files)"; default "values".
_ITEMS = {"warc": "files"}


def job_key(spider: str, arguments: Mapping[str, str]) -> str:
    """``spider k=v k=v`` with the arguments sorted, so the same job always gets the same key; when
    that is longer than :data:`MAX_JOB_KEY`, each value longer than :data:`LONG_VALUE` is replaced
    by a digest of it and a count, and if even that is too long, the whole by one digest."""
    full = _joined(spider, arguments)
    if len(full) <= MAX_JOB_KEY:
        return full
    key = " ".join(
        [spider, *(f"{name}={_digested(name, value)}" for name, value in sorted(arguments.items()))]
    )
    if len(key) <= MAX_JOB_KEY:
        return key
    return f"{spider} {_digest(full)}…({len(arguments)} arguments)"


def legacy_job_key(spider: str, arguments: Mapping[str, str]) -> str:
    """The key this job had before short keys: the same for a short job; a long one kept its head
    and ended with ``#`` and a digest of the whole, at 512 characters."""
    full = _joined(spider, arguments)
    if len(full) <= _LEGACY_KEY_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_LEGACY_DIGEST_LENGTH]
    return f"{full[: _LEGACY_KEY_LENGTH - _LEGACY_DIGEST_LENGTH - 1]}#{digest}"


def job_keys(spider: str, arguments: Mapping[str, str]) -> tuple[str, ...]:
    """The keys this job's runs may be recorded under: its key, then (for a long job) the key an
    archive written before short keys has for it. Lookups of a job's earlier runs use both."""
    key, legacy = job_key(spider, arguments), legacy_job_key(spider, arguments)
    return (key,) if key == legacy else (key, legacy)


def shown_arguments(arguments: Mapping[str, str]) -> str:
    """``k=v k=v`` as given, for a header a person reads: a long list of values shows its first
    and how many more (``warc=/a/b.warc.gz and 36 more``), other long values are cut with ``…``."""
    return " ".join(f"{name}={_shown(value)}" for name, value in arguments.items())


def _joined(spider: str, arguments: Mapping[str, str]) -> str:
    return " ".join([spider, *(f"{name}={value}" for name, value in sorted(arguments.items()))])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def _digested(name: str, value: str) -> str:
    if len(value) <= LONG_VALUE:
        return value
    items = value.split(",")
    counted = f"{len(items)} {_ITEMS.get(name, 'values')}" if len(items) > 1 else f"{len(value)} characters"
    return f"{_digest(value)}…({counted})"


def _shown(value: str) -> str:
    if len(value) <= LONG_VALUE:
        return value
    first, *more = value.split(",")
    if more:
        return f"{first} and {len(more)} more"
    return value[: LONG_VALUE - 1] + "…"
