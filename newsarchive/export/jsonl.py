"""JSON Lines export: one object per article, in publish order, UTF-8, ``published_at`` with +08:00."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from newsarchive.export.records import article_record


def write_jsonl(articles: Iterable[Any], out: Path) -> int:
    """Write every article to ``out`` (``-`` is not special); returns the number written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", encoding="utf-8") as stream:
        for article in articles:
            stream.write(json.dumps(article_record(article), ensure_ascii=False) + "\n")
            count += 1
    return count
