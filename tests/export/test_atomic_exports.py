"""Exports replace their files atomically (issue 13, point 9): a killed export, a full disk or a
damaged database leaves the previous export as it was (JSON Lines) or every post complete (Jekyll),
no temporary file behind (but after SIGKILL), and says what went wrong in one line.

The archives are real SQLite files made by the benchmarks' generator (bench.synthetic: real sample
pages, cleaned by newsarchive, stored through the models), the full disk a real tmpfs
(tests.conftest.small_disk), the export the real command in a subprocess.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.synthetic import fill_database
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.repository import iter_articles
from newsarchive.export.jekyll import post_filename, render_post
from tests.conftest import fill_disk, run_cli, small_disk
from tests.test_cli import assert_one_line_error

ARTICLES = 3000  # a few MB of JSON Lines: the export writes for a while, far more than the small disk holds
PREVIOUS = '{"previous": "export"}\n'


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "archive.db"
    fill_database(f"sqlite:///{path}", ARTICLES)
    return path


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small") / "small.db"
    fill_database(f"sqlite:///{path}", 20, seed=1)
    return path


@pytest.fixture
def damaged_archive(archive: Path, tmp_path: Path) -> Path:
    """A copy of the archive with 4 KiB overwritten in the middle: it opens and passes the schema
    check, then fails while the export reads its rows ("database disk image is malformed")."""
    damaged = tmp_path / "damaged.db"
    shutil.copyfile(archive, damaged)
    with damaged.open("r+b") as stream:
        stream.seek(damaged.stat().st_size // 2)
        stream.write(b"\xde\xad\xbe\xef" * 1024)
    return damaged


def sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def expected_posts(database: Path) -> dict[str, str]:
    engine = open_database(sqlite(database))
    with session_factory(engine)() as session:
        posts = {post_filename(row): render_post(row) for row in iter_articles(session)}
    engine.dispose()
    return posts


def post_files(site: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in (site / "_posts").iterdir()}


# --- JSON Lines -----------------------------------------------------------------------------------


def test_a_killed_jsonl_export_leaves_the_previous_file(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "export" / "articles.jsonl"
    out.parent.mkdir()
    out.write_text(PREVIOUS, encoding="utf-8")
    command = [sys.executable, "-m", "newsarchive", "export", "jsonl", "--db", sqlite(archive)]
    export = subprocess.Popen([*command, "--out", str(out)], cwd=tmp_path)

    # SIGKILL as soon as any byte of the new export is on disk, wherever the export writes it
    while export.poll() is None and not _new_bytes_written(out):
        time.sleep(0.001)
    export.send_signal(signal.SIGKILL)
    assert export.wait() == -signal.SIGKILL, "the export ended before it could be killed"

    assert out.read_text(encoding="utf-8") == PREVIOUS
    leftovers = [path.name for path in out.parent.iterdir() if path != out]
    assert all(name.startswith(".articles.jsonl.") and name.endswith(".tmp") for name in leftovers)


def _new_bytes_written(out: Path) -> bool:
    return any(
        path.stat().st_size > 0 for path in out.parent.iterdir() if path != out
    ) or out.stat().st_size != len(PREVIOUS)


def test_a_jsonl_export_of_a_damaged_database_keeps_the_previous_file(
    damaged_archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "articles.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")

    done = run_cli("export", "jsonl", "--db", sqlite(damaged_archive), "--out", str(out), cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
    assert message == "cannot read database: database disk image is malformed"
    assert out.read_text(encoding="utf-8") == PREVIOUS
    assert sorted(path.name for path in tmp_path.iterdir()) == ["articles.jsonl", "damaged.db"]


def test_a_jsonl_export_on_a_full_disk_keeps_the_previous_file(archive: Path, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 256) as disk:
        out = disk / "articles.jsonl"
        out.write_text(PREVIOUS, encoding="utf-8")

        done = run_cli("export", "jsonl", "--db", sqlite(archive), "--out", str(out), cwd=tmp_path)

        message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
        assert message == f"cannot write {out}: No space left on device"
        assert out.read_text(encoding="utf-8") == PREVIOUS
        assert list(disk.iterdir()) == [out]


def test_a_complete_jsonl_export_replaces_the_previous_file(small_archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    out.write_text(PREVIOUS, encoding="utf-8")

    done = run_cli("export", "jsonl", "--db", sqlite(small_archive), "--out", str(out), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert len([json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]) == 20
    assert sorted(path.name for path in tmp_path.iterdir()) == ["articles.jsonl"]


# --- Jekyll: each post is replaced atomically -----------------------------------------------------


def test_a_jekyll_export_on_a_full_disk_never_leaves_a_partial_post(
    archive: Path, small_archive: Path, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk", 512) as site:
        first = run_cli("export", "jekyll", "--db", sqlite(small_archive), "--out", str(site), cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        previous = post_files(site)

        done = run_cli("export", "jekyll", "--db", sqlite(archive), "--out", str(site), cwd=tmp_path)

        message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
        assert message == f"cannot write {site / '_posts'}: No space left on device"
        posts = post_files(site)
        expected = expected_posts(archive)
        assert len(posts) > len(previous)  # it got some way before the disk was full
        for name, text in posts.items():  # each post is the previous one or the new one, whole
            assert text in (previous.get(name), expected.get(name)), name
        assert not [path for path in site.rglob("*") if path.name.endswith(".tmp")]


def test_an_unchanged_jekyll_export_needs_no_free_space(small_archive: Path, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 512) as site:
        first = run_cli("export", "jekyll", "--db", sqlite(small_archive), "--out", str(site), cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        previous = post_files(site)
        fill_disk(site)

        again = run_cli("export", "jekyll", "--db", sqlite(small_archive), "--out", str(site), cwd=tmp_path)

        assert again.returncode == 0, again.stderr
        assert again.stdout == f"wrote 20 posts to {site / '_posts'}\n"
        assert post_files(site) == previous


def test_a_jekyll_export_of_a_damaged_database_is_one_line(
    damaged_archive: Path, archive: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"

    done = run_cli("export", "jekyll", "--db", sqlite(damaged_archive), "--out", str(site), cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
    assert message == "cannot read database: database disk image is malformed"
    expected = expected_posts(archive)
    posts = post_files(site)
    assert all(text == expected[name] for name, text in posts.items())
    assert not [path for path in site.rglob("*") if path.name.endswith(".tmp")]
