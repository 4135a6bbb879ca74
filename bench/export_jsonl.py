"""Benchmark e: time to export a 1,000,000-article archive to JSON Lines.

newsarchive's figure is the real command, ``newsarchive export jsonl --db … --out …``, timed from
start to exit in a child process. The baseline, in the same run, is the plainest export of the
same rows: one sqlite3 SELECT of the exported columns in publish order and ``json.dumps`` of each
row to a file. The target is absolute (under 60 s); the baseline shows what is left to gain.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from bench.common import Figure, report, timer, wants_json
from bench.synthetic import cached_database
from newsarchive.export.records import RECORD_FIELDS

ARTICLES = 1_000_000
QUICK_ARTICLES = 2_000
TARGET_SECONDS = 60.0  # for 1,000,000 articles
_READ_CHUNK = 1 << 24


def export_with_newsarchive(database: Path, out: Path) -> float:
    """Seconds ``newsarchive export jsonl`` takes, process start to exit."""
    command = [sys.executable, "-m", "newsarchive", "export", "jsonl", "--db", f"sqlite:///{database}"]
    with timer() as elapsed:
        result = subprocess.run(
            [*command, "--out", str(out)], capture_output=True, text=True, check=False, cwd=out.parent
        )
    if result.returncode != 0:
        raise RuntimeError(f"newsarchive export jsonl failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed()


def export_plainly(database: Path, out: Path) -> float:
    """Seconds the plainest export of the same rows takes: SELECT, json.dumps, write."""
    names = ", ".join(RECORD_FIELDS)
    with timer() as elapsed, closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        cursor = connection.execute(f"SELECT {names} FROM articles ORDER BY published_at, info_code")
        with out.open("w", encoding="utf-8") as stream:
            for row in cursor:
                stream.write(json.dumps(dict(zip(RECORD_FIELDS, row, strict=True)), ensure_ascii=False))
                stream.write("\n")
    return elapsed()


def count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_READ_CHUNK):
            lines += chunk.count(b"\n")
    return lines


def warm(path: Path) -> None:
    """Read the database file once, so neither side pays for the first read from disk."""
    with path.open("rb") as stream:
        while stream.read(_READ_CHUNK):
            pass


def run(quick: bool = False, articles: int | None = None) -> list[Figure]:
    size = articles or (QUICK_ARTICLES if quick else ARTICLES)
    database = cached_database(size)
    warm(database)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        ours_file, plain_file = Path(folder) / "newsarchive.jsonl", Path(folder) / "plain.jsonl"
        ours = export_with_newsarchive(database, ours_file)
        plain = export_plainly(database, plain_file)
        exported, plain_lines = count_lines(ours_file), count_lines(plain_file)
        megabytes = ours_file.stat().st_size / 1e6
    if exported != size or plain_lines != size:
        raise RuntimeError(f"exported {exported} and {plain_lines} lines of {size} articles")
    limit = TARGET_SECONDS * max(1.0, size / ARTICLES)
    return [
        Figure(
            key="e",
            name=f"export {size:,} articles to JSON Lines",
            value=ours,
            unit="s",
            baseline_name="sqlite3 SELECT + json.dumps",
            baseline=plain,
            target=f"< {TARGET_SECONDS:g} s" + ("" if size == ARTICLES else f" (for {ARTICLES:,} articles)"),
            met=ours < limit,
            detail=(
                f"newsarchive export jsonl of a {size:,}-article SQLite archive (bench.synthetic), "
                f"{megabytes:,.0f} MB written, {size / ours:,.0f} articles/s, process start to exit"
            ),
        )
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ARTICLES:,} articles (smoke test)")
    parser.add_argument("--json", action="store_true", help="print figures as JSON lines")
    parser.add_argument("--articles", type=int, help=f"articles in the archive (default {ARTICLES:,})")
    args = parser.parse_args(argv)
    report(run(quick=args.quick, articles=args.articles), as_json=args.json or wants_json(argv))


if __name__ == "__main__":
    main()
