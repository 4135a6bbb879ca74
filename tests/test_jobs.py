"""Job names (issue 14): short argument lists keep their key, long ones (a reparse of many WARC files)
get a short deterministic key with a digest; headers show a bounded argument list; the run history
keeps the full arguments and still finds runs recorded under the old long key."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from newsarchive.archive.warc import WarcArchive
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.models import RunRow
from newsarchive.db.runs import recent_runs, start_run
from newsarchive.jobs import MAX_JOB_KEY, job_key, job_keys, legacy_job_key, shown_arguments
from tests.conftest import run_cli

CASES = Path(__file__).parent / "pages" / "cases"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
FILES = [f"/srv/newsarchive/data/warc/eastmoney-20261205T{n:06d}Z-4242.warc.gz" for n in range(37)]
MANY = {"warc": ",".join(FILES)}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def test_a_short_job_keeps_the_key_it_always_had() -> None:
    for spider, arguments in [
        ("eastmoney", {}),
        ("eastmoney", {"columns": "344", "page_size": "10"}),
        ("eastmoney", {"media": "证券日报网", "pages": "2"}),
        ("reparse", {"warc": "data/warc/eastmoney-20261205T150712Z-4242.warc.gz"}),
        ("eastmoney", {"columns": ",".join(str(n) for n in range(300, 330))}),
    ]:
        assert job_key(spider, arguments) == legacy_job_key(spider, arguments)
        assert job_keys(spider, arguments) == (job_key(spider, arguments),)


def test_a_long_job_gets_a_short_key_with_a_digest_of_its_long_values() -> None:
    key = job_key("reparse", MANY)
    assert key == f"reparse warc={digest(MANY['warc'])}…(37 files)"
    assert job_key("reparse", dict(MANY)) == key  # the same job, the same lock and history
    fewer = {"warc": ",".join(FILES[1:])}
    assert job_key("reparse", fewer) != key
    # short arguments beside a long one stay readable
    columns = {"columns": ",".join(str(n) for n in range(100, 160)), "media": "证券日报网"}
    assert job_key("eastmoney", columns) == (
        f"eastmoney columns={digest(columns['columns'])}…(60 values) media=证券日报网"
    )
    long_text = {"media": "很长的媒体名" * 40}
    assert job_key("eastmoney", long_text) == f"eastmoney media={digest(long_text['media'])}…(240 characters)"


def test_a_job_with_many_long_arguments_still_gets_a_bounded_key() -> None:
    arguments = {f"argument_{n}": "x" * 200 for n in range(20)}
    key = job_key("eastmoney", arguments)
    assert len(key) <= MAX_JOB_KEY
    assert key == job_key("eastmoney", dict(reversed(arguments.items())))
    assert key != job_key("eastmoney", {**arguments, "argument_0": "y" * 200})


def test_a_long_jobs_lookup_keys_include_the_key_older_versions_recorded() -> None:
    new, old = job_keys("reparse", MANY)
    assert new == job_key("reparse", MANY)
    assert old == legacy_job_key("reparse", MANY) and len(old) == 512 and old.startswith("reparse warc=/srv/")


def test_shown_arguments_list_the_first_of_many_values() -> None:
    assert shown_arguments({"columns": "344,345", "page_size": "10"}) == "columns=344,345 page_size=10"
    assert shown_arguments(MANY) == f"warc={FILES[0]} and 36 more"
    assert shown_arguments({"media": "很长的媒体名" * 40}) == "media=" + ("很长的媒体名" * 40)[:59] + "…"
    assert shown_arguments({}) == ""


def test_runs_recorded_under_the_old_long_key_are_still_the_jobs_runs(db_url: str) -> None:
    """An archive written before short job names holds a long job's runs under the old key: the
    lookups that decide "was the last run of this job clean" and the end-of-run comparison find them."""
    engine = open_database(db_url)
    factory = session_factory(engine)
    with factory.begin() as session:
        older = start_run(session, "reparse", MANY, started_at=datetime(2026, 11, 1, tzinfo=UTC))
        session.get_one(RunRow, older).job = legacy_job_key("reparse", MANY)  # as the old version wrote it
        newer = start_run(session, "reparse", MANY, started_at=datetime(2026, 12, 1, tzinfo=UTC))
        start_run(session, "reparse", {"warc": ",".join(FILES[1:])})  # another job
    with factory() as session:
        assert session.get_one(RunRow, newer).job == job_key("reparse", MANY)
        assert session.get_one(RunRow, newer).arguments == MANY  # whole
        found = recent_runs(session, job=job_keys("reparse", MANY))
        assert [run.id for run in found] == [newer, older]
    engine.dispose()


# --- through the CLI --------------------------------------------------------------------------------


def test_a_reparse_of_many_files_has_a_short_header_and_job_and_keeps_every_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "a-rather-long-folder-name-for-warc-files" / "2026" / "12"
    folder.mkdir(parents=True)
    first = folder / "eastmoney-20261205T000000Z-4242.warc.gz"
    archive = WarcArchive(first)
    page = (CASES / "article_seed" / "page.html").read_bytes()
    archive.write_response(SEED_URL, 200, [("Content-Type", "text/html; charset=utf-8")], page)
    archive.close()
    files = [first]
    for number in range(1, 37):
        files.append(folder / f"eastmoney-20261205T{number:06d}Z-4242.warc.gz")
        shutil.copyfile(first, files[-1])
    paths = [str(path) for path in files]

    done = run_cli("reparse", *paths, "--db", sqlite_url, cwd=tmp_path)

    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    header = done.stdout.splitlines()[0]
    assert header == f"== reparse warc={paths[0]} and 36 more"
    listed = run_cli("runs", "--json", "--db", sqlite_url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (run,) = json.loads(listed.stdout)
    assert run["arguments"] == {"warc": ",".join(paths)}  # every file, in full
    assert run["job"] == f"reparse warc={digest(','.join(paths))}…(37 files)"
    table = run_cli("runs", "--db", sqlite_url, cwd=tmp_path)
    assert max(len(line) for line in table.stdout.splitlines()) < 200
