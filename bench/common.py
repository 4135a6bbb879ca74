"""What every benchmark shares: the figure it reports, the machine it ran on, and a timer.

A benchmark measures newsarchive and a baseline in the same run and reports one :class:`Figure`
per comparison: both values, their ratio, and the target the ratio (or value) is held to.
``--json`` on any benchmark prints the figures as one JSON object per line instead of the table,
which is what ``python -m bench`` collects.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Figure:
    """One measured comparison.

    ``value`` is newsarchive's figure and ``baseline`` the same quantity for the baseline measured
    in the same run (None when the target is absolute, e.g. "under 60 s"). ``ratio`` is
    value / baseline, or None. ``met`` says whether ``target`` (a sentence) holds."""

    key: str  # "a", "b", … as in issue 7
    name: str
    value: float
    unit: str
    baseline_name: str | None
    baseline: float | None
    target: str
    met: bool
    detail: str = ""  # sizes, counts: what a reader needs to reproduce the figure

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.baseline is None:
            return None
        return self.value / self.baseline

    def line(self) -> str:
        parts = [f"{self.key}. {self.name}: {number(self.value)} {self.unit}"]
        if self.baseline is not None and self.baseline_name:
            parts.append(f"{self.baseline_name}: {number(self.baseline)} {self.unit}")
        if self.ratio is not None:
            parts.append(f"ratio {self.ratio:.2f}")
        parts.append(f"target {self.target}: {'met' if self.met else 'MISSED'}")
        text = " | ".join(parts)
        return f"{text}\n   ({self.detail})" if self.detail else text

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "ratio": self.ratio}, ensure_ascii=False)


def report(figures: Sequence[Figure], *, as_json: bool) -> None:
    """Print the figures (a line each, or JSON lines) on stdout."""
    for figure in figures:
        print(figure.as_json() if as_json else figure.line(), flush=True)


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, OS, Python, SQLite."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    """``with timer() as elapsed: …`` then ``elapsed()`` gives the seconds the block took."""
    start = time.perf_counter()
    end: list[float] = []
    try:
        yield lambda: (end[0] if end else time.perf_counter()) - start
    finally:
        end.append(time.perf_counter())


def wants_json(argv: Sequence[str] | None = None) -> bool:
    return "--json" in (sys.argv[1:] if argv is None else argv)


def number(value: float) -> str:
    """A figure as the tables show it: thousands grouped, three significant digits for small ones."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"
