"""Smoke test of the benchmarks: ``python -m bench --quick`` runs b, c and e end to end and reports
every figure with positive values. Timings and targets are never asserted: figures, not tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.__main__ import Reported, markdown_table
from bench.common import Figure

REPO = Path(__file__).resolve().parents[1]


def test_quick_run_reports_every_figure(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_CACHE": str(tmp_path / "cache")}  # tiny archives, built apart
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "b,c,e", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert sorted(figure["key"] for figure in figures) == ["b", "c", "e"]
    for figure in figures:
        assert figure["value"] > 0 and figure["baseline"] > 0 and figure["ratio"] > 0, figure
        assert figure["unit"] and figure["baseline_name"] and figure["target"], figure


def test_table_has_a_row_per_figure() -> None:
    figure = Figure("b", "parse | clean", 2.5, "pages/s", "trafilatura", 1.0, "≥ 10×", False)
    table = markdown_table([Reported(figure, "python -m bench.parse_clean")]).splitlines()
    assert table[0].startswith("| benchmark | newsarchive | baseline | ratio | target | met | command |")
    assert len(table) == 3 and table[2].count(" | ") == 6  # the "|" in the name is escaped
    assert "2.50" in table[2] and "**no**" in table[2] and "`python -m bench.parse_clean`" in table[2]
