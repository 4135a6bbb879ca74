"""Benchmark c: peak memory of an incremental crawl over a large archive against a small one.

Each run copies a cached synthetic archive (bench.synthetic: 1,000,000 or 1,000 articles, 300 a
day around the sample's day 2021-12-08), adds the sample site's articles as a first crawl stored
them, all but the newest few of 2021-12-08, plus that crawl's run record (so the job pages like a
five-minute cron job), then runs the real ``newsarchive crawl eastmoney`` against the loopback
sample site, WARC on. The crawl stores the few missing articles and links near-duplicates against
their 48 h window. Its peak RSS is read from the kernel's rusage of that child process (wait4), and
the RSS of the crawl and its store's writer process together is sampled while it runs: the figure
is the higher of the two.

That figure can never be below this process's own peak: the child is forked (vforked) from here,
and Linux keeps the high-water mark of the memory it leaves at exec. So nothing big is ever built
in this process: a missing synthetic archive is built by ``python -m bench.synthetic`` in a child
of its own (building 1,000,000 rows here once put 95 MB of the builder's peak on the crawl).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.common import Figure, report, wants_json
from bench.synthetic import CACHE, SAMPLE, SAMPLE_DAY, cache_path, copy_database, remove_database
from newsarchive.db.engine import head_revision
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import LOOPBACK_SETTINGS

LARGE = 1_000_000
SMALL = 1_000
QUICK_LARGE = 2_000
QUICK_SMALL = 100
NEW_ARTICLES = 5  # sample articles left out of the archive: what the incremental crawl finds new
TARGET_MB = 50.0
SAMPLE_SECONDS = 0.02  # how often the RSS of the crawl and its writer process is read
SPIDER = "eastmoney"
# The sample's three columns: a default column it does not have (350) would list nothing, and a run
# whose column lists nothing fails with exit 6 (newsarchive.matching).
ARGUMENTS = ("-a", "columns=344,345,353")
_NEW_STORED = re.compile(r"new articles stored:\s*(\d+)")


@dataclass(frozen=True)
class CrawlRun:
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str

    @property
    def new_articles(self) -> int | None:
        found = _NEW_STORED.search(self.stdout)
        return int(found.group(1)) if found else None


def crawl_command(url: str, origin: str) -> list[str]:
    return [
        sys.executable, "-m", "newsarchive", "crawl", SPIDER, *ARGUMENTS, "--db", url,
        "--log-level", "WARNING", "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *LOOPBACK_SETTINGS,
    ]  # fmt: skip


def run_crawl(url: str, origin: str, workdir: Path) -> CrawlRun:
    """Run the crawl in a child process (data/warc goes under ``workdir``); its peak is the larger
    of the rusage wait4 returns for exactly that child (the crawl process's own high-water mark)
    and the highest sum of the RSS of the crawl and its store's writer process, sampled every
    SAMPLE_SECONDS while it runs (wait4 gives the larger of the two peaks, never their sum)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(crawl_command(url, origin), cwd=workdir, stdout=out, stderr=err)
        sampled = [0]
        done = threading.Event()
        sampler = threading.Thread(target=_sample_tree, args=(process.pid, sampled, done), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return CrawlRun(
            peak_mb=max(usage.ru_maxrss, sampled[0]) / 1024,  # kilobytes on Linux
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def _sample_tree(pid: int, peak: list[int], done: threading.Event) -> None:
    """Keep in ``peak[0]`` the highest total RSS (kB) of ``pid`` and its descendants seen."""
    while not done.wait(SAMPLE_SECONDS):
        peak[0] = max(peak[0], sum(_rss_kb(member) for member in _tree(pid)))


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc; one that ends meanwhile is skipped)."""
    members, index = [pid], 0
    while index < len(members):
        try:
            tasks = Path(f"/proc/{members[index]}/task").iterdir()
            members += [int(child) for task in tasks for child in (task / "children").read_text().split()]
        except OSError:  # gone meanwhile
            pass
        index += 1
    return members


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else 0


def sample_archive(origin: str) -> Path:
    """The sample's articles and run record as a first crawl stores them (cached per schema and
    sample): a database the incremental runs take their "already stored" rows from."""
    digest = hashlib.sha256(" ".join(ARGUMENTS).encode())  # its run record is that job's
    for path in sorted(SAMPLE.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(SAMPLE).as_posix().encode() + path.read_bytes())
    path = CACHE / f"sample-crawl-{head_revision()}-{digest.hexdigest()[:12]}.db"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-sample-") as folder:
        building = Path(folder) / "sample.db"
        first = run_crawl(f"sqlite:///{building}", origin, Path(folder))
        if first.returncode != 0:
            raise RuntimeError(
                f"first crawl of the sample failed ({first.returncode}): {first.stderr[-2000:]}"
            )
        with closing(sqlite3.connect(building)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy_database(building, path)
    return path


def built_elsewhere(size: int) -> Path:
    """The cached synthetic archive of ``size`` rows, built by a child process if missing."""
    path = cache_path(size)
    if not path.exists():
        command = [sys.executable, "-m", "bench.synthetic", "--articles", str(size)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return path


def incremental_archive(synthetic: Path, sample: Path, target: Path) -> tuple[str, int, int]:
    """Copy the synthetic archive to ``target`` and add the sample's rows but the newest
    NEW_ARTICLES of the sample's day, and its run record; returns the URL, the sample articles
    stored and the sample's total."""
    url = copy_database(synthetic, target)
    with closing(sqlite3.connect(target)) as connection:
        connection.execute("ATTACH DATABASE ? AS sample", (str(sample),))
        day = SAMPLE_DAY.strftime("%Y-%m-%d")
        # published_at is stored as naive UTC: the sample's day in Asia/Shanghai starts 8 h earlier
        left_out = [
            code
            for (code,) in connection.execute(
                "SELECT info_code FROM sample.articles WHERE published_at >= datetime(?, '-8 hours') "
                "AND published_at < datetime(?, '+16 hours') ORDER BY published_at DESC, info_code LIMIT ?",
                (day, day, NEW_ARTICLES),
            )
        ]
        marks = ", ".join("?" for _ in left_out)
        _copy_rows(connection, "articles", f"info_code NOT IN ({marks})", left_out)
        _copy_rows(connection, "runs", "1 = 1", [])
        connection.commit()
        total = int(connection.execute("SELECT count(*) FROM sample.articles").fetchone()[0])
    return url, total - len(left_out), total


def _copy_rows(connection: sqlite3.Connection, table: str, where: str, parameters: list[str]) -> None:
    """Rows of the attached ``sample`` database's table into the main one (new ids)."""
    columns = ", ".join(row[1] for row in connection.execute(f"PRAGMA table_info({table})") if row[1] != "id")
    connection.execute(
        f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM sample.{table} WHERE {where}", parameters
    )


def run(quick: bool = False, articles: int | None = None, small: int | None = None) -> list[Figure]:
    large_size = articles or (QUICK_LARGE if quick else LARGE)
    small_size = small or (QUICK_SMALL if quick else SMALL)
    peaks: dict[int, CrawlRun] = {}
    with SampleSite() as site, tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        sample = sample_archive(site.origin)
        stored = total = 0
        for size in (small_size, large_size):
            synthetic = built_elsewhere(size)
            workdir = Path(folder) / str(size)
            workdir.mkdir()
            url, stored, total = incremental_archive(synthetic, sample, workdir / "archive.db")
            crawl = run_crawl(url, site.origin, workdir)
            if crawl.returncode != 0 or crawl.new_articles != NEW_ARTICLES:
                raise RuntimeError(
                    f"incremental crawl over {size:,} articles: exit {crawl.returncode}, "
                    f"{crawl.new_articles} new (expected {NEW_ARTICLES})\n"
                    f"{crawl.stdout}{crawl.stderr[-3000:]}"
                )
            peaks[size] = crawl
            remove_database(workdir / "archive.db")
    more = peaks[large_size].peak_mb - peaks[small_size].peak_mb
    return [
        Figure(
            key="c",
            name=f"peak RSS of an incremental crawl, {large_size:,} articles stored",
            value=peaks[large_size].peak_mb,
            unit="MB",
            baseline_name=f"{small_size:,} articles stored",
            baseline=peaks[small_size].peak_mb,
            target=f"< {TARGET_MB:g} MB more",
            met=more < TARGET_MB,
            detail=(
                f"{more:+.1f} MB; newsarchive crawl {SPIDER} of the loopback sample site, WARC on, with "
                f"{stored} of its {total} articles stored besides the synthetic ones: {NEW_ARTICLES} new; "
                f"peak RSS (MiB) of the crawl and its writer process together (sampled) or of the crawl "
                f"alone (wait4), whichever is higher (this process's own peak, a floor for wait4's: "
                f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
            ),
        )
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LARGE:,} vs {QUICK_SMALL:,} articles")
    parser.add_argument("--json", action="store_true", help="print figures as JSON lines")
    parser.add_argument("--articles", type=int, help=f"articles in the large archive (default {LARGE:,})")
    parser.add_argument("--small", type=int, help=f"articles in the small archive (default {SMALL:,})")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick, articles=args.articles, small=args.small)
    report(figures, as_json=args.json or wants_json(argv))


if __name__ == "__main__":
    main()
