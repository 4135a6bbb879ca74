"""Commands that only read (``export jsonl``, ``export jekyll``, ``runs``, ``show``) never create a
database, a schema or a folder, and never touch the user's files when the archive is not there
(issue 14: a mistyped ``--db`` made ``export jsonl`` create an empty database and truncate the
user's export to nothing, exit 0).

Each command runs as the user runs it, ``python -m newsarchive`` in a subprocess, against a real
SQLite file or a real PostgreSQL server.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from tests.conftest import run_cli
from tests.test_cli import assert_one_line_error

HINT = "(check --db or NEWSARCHIVE_DATABASE_URL)"
VICTIM = "".join(f'{{"line": {n}}}\n' for n in range(87))  # the user's previous 87-line export
READERS = {
    "export-jsonl": ("export", "jsonl", "--out", "victim.jsonl"),
    "export-jekyll": ("export", "jekyll", "--out", "site"),
    "runs": ("runs",),
    "runs-json": ("runs", "--json"),
    "show": ("show", "NW202204292366280343"),
}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder outside the repository holding the user's previous JSON Lines export."""
    (tmp_path / "victim.jsonl").write_text(VICTIM, encoding="utf-8")
    return tmp_path


def assert_nothing_touched(workdir: Path) -> None:
    assert sorted(path.name for path in workdir.iterdir()) == ["victim.jsonl"]
    assert (workdir / "victim.jsonl").read_text(encoding="utf-8") == VICTIM


def refused(command: tuple[str, ...], workdir: Path, env: dict[str, str] | None = None) -> str:
    done = run_cli(*command, cwd=workdir, env=env)
    assert done.stdout == ""
    return assert_one_line_error(done.returncode, done.stderr, expected_code=1)


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_a_mistyped_sqlite_path_creates_nothing_and_destroys_nothing(
    workdir: Path, command: tuple[str, ...]
) -> None:
    typo = workdir / "dta" / "archvie" / "typo.db"

    message = refused((*command, "--db", f"sqlite:///{typo}"), workdir)

    assert message == f"no archive at {typo} {HINT}"
    assert_nothing_touched(workdir)


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_a_mistyped_database_url_in_the_environment_creates_nothing(
    workdir: Path, command: tuple[str, ...]
) -> None:
    typo = workdir / "typo.db"

    message = refused(command, workdir, env={"NEWSARCHIVE_DATABASE_URL": f"sqlite:///{typo}"})

    assert message == f"no archive at {typo} {HINT}"
    assert_nothing_touched(workdir)


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_the_default_archive_outside_the_repository_is_not_created(
    workdir: Path, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSARCHIVE_DATABASE_URL", raising=False)
    monkeypatch.delenv("NEWSARCHIVE_DATA_DIR", raising=False)

    message = refused(command, workdir)

    assert message == f"no archive at data/newsarchive.db {HINT}"
    assert_nothing_touched(workdir)


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_an_empty_sqlite_file_is_not_an_archive_and_stays_empty(
    workdir: Path, command: tuple[str, ...]
) -> None:
    empty = workdir / "empty.db"
    empty.touch()

    message = refused((*command, "--db", f"sqlite:///{empty}"), workdir)

    assert message == (
        f"{empty} is not a newsarchive archive (no schema): check --db or NEWSARCHIVE_DATABASE_URL, "
        "or run `newsarchive db upgrade` to make it one"
    )
    assert empty.stat().st_size == 0
    empty.unlink()
    assert_nothing_touched(workdir)


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_a_postgresql_database_that_does_not_exist_is_one_line(
    postgres_url: str, workdir: Path, command: tuple[str, ...]
) -> None:
    missing = make_url(postgres_url).set(database=f"newsarchive_missing_{uuid.uuid4().hex[:12]}")
    shown = missing.render_as_string()

    message = refused((*command, "--db", missing.render_as_string(hide_password=False)), workdir)

    assert message == f"no archive at {shown}: the database does not exist {HINT}"
    assert_nothing_touched(workdir)


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_an_empty_postgresql_database_is_not_an_archive_and_gets_no_schema(
    postgres_url: str, workdir: Path, command: tuple[str, ...]
) -> None:
    message = refused((*command, "--db", postgres_url), workdir)

    assert message == (
        f"{make_url(postgres_url).render_as_string()} is not a newsarchive archive (no schema): "
        "check --db or NEWSARCHIVE_DATABASE_URL, or run `newsarchive db upgrade` to make it one"
    )
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    engine.dispose()
    assert_nothing_touched(workdir)
