"""``--out -``: ``export jsonl`` writes the records to standard output, pure data, and says what it
wrote on stderr; ``export jekyll`` refuses it (issue 14: both created a file or folder named ``-``).

The archive is a real SQLite file made by the benchmarks' generator (bench.synthetic), the export
the real command in a subprocess.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.synthetic import fill_database
from newsarchive.exitcodes import INTERRUPTED, STOPPED_LINE
from tests.conftest import run_cli
from tests.test_cli import assert_one_line_error

ARTICLES = 20


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("archive") / "archive.db"
    fill_database(f"sqlite:///{path}", ARTICLES, seed=2)
    return f"sqlite:///{path}"


def test_jsonl_to_standard_output_is_the_file_export_byte_for_byte(archive: str, tmp_path: Path) -> None:
    to_file = run_cli("export", "jsonl", "--db", archive, "--out", "articles.jsonl", cwd=tmp_path)
    assert to_file.returncode == 0, to_file.stderr

    done = subprocess.run(
        [sys.executable, "-m", "newsarchive", "export", "jsonl", "--db", archive, "--out", "-"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == (tmp_path / "articles.jsonl").read_bytes()
    assert len([json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]) == ARTICLES
    assert done.stderr.decode("utf-8") == f"wrote {ARTICLES} articles to standard output\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["articles.jsonl"]  # no file named -


def test_jsonl_to_standard_output_pipes_into_another_program(archive: str, tmp_path: Path) -> None:
    """What a user types: ``newsarchive export jsonl --out - | jq …`` (here a Python reader)."""
    reader = "import json, sys; print(sum(1 for line in sys.stdin if json.loads(line)['info_code']))"
    export = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "export", "jsonl", "--db", archive, "--out", "-"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None and export.stderr is not None
    counted = subprocess.run(
        [sys.executable, "-c", reader], stdin=export.stdout, capture_output=True, text=True, check=False
    )
    export.stdout.close()
    stderr = export.stderr.read().decode("utf-8")

    assert export.wait() == 0, stderr
    assert (counted.returncode, counted.stdout) == (0, f"{ARTICLES}\n"), counted.stderr
    assert stderr == f"wrote {ARTICLES} articles to standard output\n"


def test_jsonl_to_a_reader_that_stops_early_is_one_line(archive: str, tmp_path: Path) -> None:
    """``… --out - | head -1``: the reader closes the pipe; no traceback, no "Exception ignored"."""
    export = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "export", "jsonl", "--db", archive, "--out", "-"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert export.stdout is not None and export.stderr is not None
    export.stdout.close()  # before the export wrote anything: its first write meets a closed pipe
    stderr = export.stderr.read()

    message = assert_one_line_error(export.wait(), stderr, expected_code=1)
    assert message == "cannot write standard output: the reader closed it"
    assert stderr == f"newsarchive: error: {message}\n"


def test_jsonl_to_standard_output_of_no_archive_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"

    done = run_cli("export", "jsonl", "--db", f"sqlite:///{missing}", "--out", "-", cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
    assert message.startswith(f"no archive at {missing}")
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_jekyll_to_standard_output_is_a_usage_error(archive: str, tmp_path: Path) -> None:
    done = run_cli("export", "jekyll", "--db", archive, "--out", "-", cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=2)
    assert message == "export jekyll writes a folder of posts: --out - (standard output) cannot hold one"
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_an_export_is_the_stop_line_and_exit_130(tmp_path: Path) -> None:
    """Issue 14: a Ctrl-C that reached the command (not a crawl) printed click's ``Aborted!`` and
    exited 1. The export here writes to a pipe nobody reads, so it is surely mid-export when
    the signal comes."""
    path = tmp_path / "big.db"
    fill_database(f"sqlite:///{path}", 500, seed=3)  # far more than a pipe holds
    export = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "export", "jsonl", "--db", f"sqlite:///{path}", "--out", "-"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None
    assert export.stdout.read(1)  # it is writing; unread, the pipe fills and the export waits
    export.send_signal(signal.SIGINT)
    rest, stderr = export.communicate(timeout=60)

    assert export.returncode == INTERRUPTED
    text = stderr.decode("utf-8")
    assert text.strip().splitlines() == [STOPPED_LINE], text
    assert len(rest) < 500 * 1000  # stopped part way: the records were not all written
