"""Run every benchmark, each in its own process, and print its figures and a table for the README.

``python -m bench [--quick] [--only a,b,…] [--json]``: the machine line, each figure as its
benchmark reports it, then a Markdown table of them all. A missed target is a finding, not a
failure: the exit status is non-zero only when a benchmark crashed (or reported nothing).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields

from bench.common import REPO, Figure, machine, number

# (key, module): the keys are those of the issue; a module not written yet is skipped, not failed.
BENCHMARKS = (
    ("a", "crawl_throughput"),
    ("b", "parse_clean"),
    ("c", "memory_incremental"),
    ("d", "store_throughput"),
    ("e", "export_jsonl"),
)
_FIGURE_FIELDS = {field.name for field in fields(Figure)}


@dataclass(frozen=True)
class Reported:
    figure: Figure
    command: str


def selected(only: str | None) -> list[tuple[str, str]]:
    """The benchmarks named by ``--only`` (keys or module names, comma-separated), else all."""
    if not only:
        return list(BENCHMARKS)
    wanted = {name.strip() for name in only.split(",") if name.strip()}
    unknown = wanted - {key for key, _ in BENCHMARKS} - {module for _, module in BENCHMARKS}
    if unknown:
        raise SystemExit(
            f"bench: unknown benchmark {', '.join(sorted(unknown))} (known: a–e or module names)"
        )
    return [(key, module) for key, module in BENCHMARKS if key in wanted or module in wanted]


def run_benchmark(module: str, quick: bool, *, as_json: bool) -> tuple[list[Figure], int]:
    """Run ``python -m bench.MODULE --json``, printing each figure as it arrives; its stderr passes
    through. Returns the figures and the exit status."""
    command = [sys.executable, "-m", f"bench.{module}", "--json", *(["--quick"] if quick else [])]
    figures: list[Figure] = []
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            figure = parse_figure(line)
            if figure is None:
                if line.strip():
                    print(line.rstrip(), file=sys.stderr, flush=True)  # not a figure: pass it on
                continue
            figures.append(figure)
            print(figure.as_json() if as_json else figure.line(), flush=True)
    return figures, process.returncode


def parse_figure(line: str) -> Figure | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:  # "ratio" is computed, not a field
        return Figure(**{name: value for name, value in data.items() if name in _FIGURE_FIELDS})
    except TypeError:  # a required field missing
        return None


def markdown_table(reported: Sequence[Reported]) -> str:
    lines = [
        "| benchmark | newsarchive | baseline | ratio | target | met | command |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in reported:
        figure = entry.figure
        baseline = (
            f"{figure.baseline_name}: {number(figure.baseline)} {figure.unit}"
            if figure.baseline is not None and figure.baseline_name
            else "—"
        )
        cells = [
            f"{figure.key}. {figure.name}",
            f"{number(figure.value)} {figure.unit}",
            baseline,
            f"{figure.ratio:.2f}" if figure.ratio is not None else "—",
            figure.target,
            "yes" if figure.met else "**no**",
            f"`{entry.command}`",
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in seconds")
    parser.add_argument("--only", metavar="KEYS", help="comma list of benchmarks to run, e.g. b,c,e")
    parser.add_argument("--json", action="store_true", help="print only the figures, as JSON lines")
    args = parser.parse_args(argv)
    chosen = selected(args.only)
    notes = sys.stderr if args.json else sys.stdout  # with --json, stdout holds figures only
    print(machine(), file=notes, flush=True)
    reported: list[Reported] = []
    failed: list[str] = []
    for key, module in chosen:
        if importlib.util.find_spec(f"bench.{module}") is None:
            print(f"{key}. bench.{module}: not there yet, skipped", file=notes, flush=True)
            continue
        figures, status = run_benchmark(module, args.quick, as_json=args.json)
        command = f"python -m bench.{module}" + (" --quick" if args.quick else "")
        reported += [Reported(figure, command) for figure in figures]
        if status != 0 or not figures:
            failed.append(module)
            print(
                f"{key}. bench.{module}: crashed (exit {status}, {len(figures)} figures)",
                file=notes,
                flush=True,
            )
    if not args.json and reported:
        print(f"\n{machine()}\n\n{markdown_table(reported)}", flush=True)
    if failed:
        print(f"bench: {', '.join(failed)} crashed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
