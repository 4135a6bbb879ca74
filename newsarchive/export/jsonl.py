"""JSON Lines export: one object per article, in publish order, UTF-8, ``published_at`` with +08:00.

The file is replaced atomically (newsarchive.files): an export that fails or is killed
leaves the previous file as it was. ``newsarchive export jsonl --out -`` writes the same lines to
standard output (:func:`write_records_to`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from newsarchive.export.records import article_record
from newsarchive.files import atomic_write

# What json.dumps(record, ensure_ascii=False) builds on every call, built once.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_LINES_PER_WRITE = 1000


def write_jsonl(articles: Iterable[Any], out: Path) -> int:
    """Write every article (an Article item or a stored row) to ``out`` (``-`` is not special);
    returns the number written."""
    return write_records(map(article_record, articles), out)


def write_records(records: Iterable[dict[str, Any]], out: Path) -> int:
    """Write records (newsarchive.export.records) to ``out``, one JSON object a line; returns the
    number written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as stream:
        return write_records_to(records, stream)


def write_records_to(records: Iterable[dict[str, Any]], stream: TextIO) -> int:
    """Write records to an open text stream (a temporary file, standard output), one JSON object a
    line; returns the number written."""
    count = 0
    lines: list[str] = []
    for record in records:
        lines.append(_ENCODER.encode(record))
        count += 1
        if len(lines) == _LINES_PER_WRITE:
            stream.write("\n".join(lines) + "\n")
            lines.clear()
    if lines:
        stream.write("\n".join(lines) + "\n")
    return count
