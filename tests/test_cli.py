"""The ``newsarchive`` command: help everywhere, one-line errors, exports of an empty archive.

Commands that need no reactor run in-process through click's ``CliRunner``; ``crawl`` and ``reparse``
run ``python -m newsarchive`` in a subprocess (``run_cli``), each in its own temporary directory so the
default ``data/`` folder never lands in the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from newsarchive.cli import main
from newsarchive.db.engine import open_database
from newsarchive.db.writer import BatchWriter
from tests.conftest import run_cli
from tests.export.test_jekyll import seed_article

UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/x"
ERROR_PREFIX = "newsarchive: error: "


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path below ``group`` (the group itself first), like sqlite-utils' docs test."""
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def find_command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def squash(value: str) -> str:
    """Whitespace-insensitive text: click re-wraps help to the terminal width."""
    return " ".join(value.split())


pytestmark = pytest.mark.usefixtures("cli_in_tmp")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_line_error(exit_code: int, stderr: str, expected_code: int | None = None) -> str:
    """A user error: non-zero exit, exactly one ``newsarchive: error:`` line, no traceback."""
    assert exit_code != 0
    if expected_code is not None:
        assert exit_code == expected_code
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1, stderr
    return errors[0].removeprefix(ERROR_PREFIX)


# --- help -----------------------------------------------------------------------------------------

COMMANDS = list(command_paths(main))


def test_the_walk_finds_every_command() -> None:
    assert COMMANDS == [
        (),
        ("backfill",),
        ("check",),
        ("crawl",),
        ("db",),
        ("db", "upgrade"),
        ("demo",),
        ("export",),
        ("export", "jekyll"),
        ("export", "jsonl"),
        ("load",),
        ("reparse",),
        ("runs",),
        ("show",),
        ("spiders",),
    ]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "newsarchive")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    command = find_command(path)
    assert command.help, f"`newsarchive {' '.join(path)}` has no docstring"
    first_line = command.help.strip().splitlines()[0]

    result = invoke(*path, "--help")

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {' '.join(path)}".rstrip())
    assert squash(first_line) in squash(result.output)
    if isinstance(command, click.Group):  # a group lists each subcommand with its short help
        for name, sub in command.commands.items():
            assert name in result.output
            assert sub.get_short_help_str(limit=45)[:20] in result.output


COMMAND_DOCS = (Path(__file__).resolve().parents[1] / "docs" / "commands.md").read_text(encoding="utf-8")


def documented_section(path: tuple[str, ...]) -> str:
    """The part of docs/commands.md under ``## `newsarchive PATH…` ``."""
    name = " ".join(("newsarchive", *path))
    sections = re.split(r"^## ", COMMAND_DOCS, flags=re.M)
    found = [section for section in sections if re.match(rf"`{re.escape(name)}( [A-Z_…]+)?`\n", section)]
    assert len(found) == 1, f"docs/commands.md has no section for `{name}`"
    return found[0]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "newsarchive")
def test_every_command_and_option_is_in_the_docs(path: tuple[str, ...]) -> None:
    """Issue 14: the help and docs/commands.md list the same options, command by command."""
    section = documented_section(path)
    options = {
        flag
        for parameter in find_command(path).params
        if isinstance(parameter, click.Option)
        for flag in parameter.opts
        if flag != "--help"
    }
    documented = set(re.findall(r"`(--?[a-z][a-z-]*)[ `=]", section)) - {"--help"}
    assert documented == options


def test_crawl_help_lists_every_spider_with_its_arguments() -> None:
    """Issue 14: the help listed 2 of 5 spiders and none of their arguments."""
    from newsarchive.catalogue import spiders
    from newsarchive.runner import project_settings

    for command in ("crawl", "backfill"):
        help_text = invoke(command, "--help").output
        for info in spiders(project_settings()).values():
            assert (f"{info.name}:" in help_text) != info.internal, (command, info.name)
            for argument in info.arguments if not info.internal else ():
                assert f"-a {argument.name}=" in help_text
        assert "-a since=" in help_text and "-a until=" in help_text


def test_spiders_lists_each_spider_its_line_and_its_arguments_with_defaults() -> None:
    result = invoke("spiders")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    names = [line.split(":")[0] for line in lines if not line.startswith(" ")][:-1]
    assert names == ["cnstock", "cs_com_cn", "eastmoney", "eastmoney_fast", "zqrb"]
    assert "eastmoney: East Money column lists" in result.output
    assert "-a media=" in result.output and "(default: every media)" in result.output
    assert "(default: NEWSARCHIVE_MAX_PAGES=5; a backfill pages back to since)" in result.output
    assert "(default: 344,345,350,353 " in result.output
    assert "reparse" not in result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.startswith("main, version ")


# --- one-line errors: crawl and reparse in a subprocess ------------------------------------------


def test_crawl_unknown_spider_names_the_available_ones(tmp_path: Path) -> None:
    done = run_cli("crawl", "nosuchspider", cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=2)
    spiders = "cnstock, cs_com_cn, eastmoney, eastmoney_fast, zqrb"  # not the internal reparse
    assert message == f"unknown spider 'nosuchspider' (available: {spiders})"


def test_the_internal_reparse_spider_is_not_offered_to_crawl(tmp_path: Path) -> None:
    """Issue 14: `crawl reparse` started the internal spider; it is run by `newsarchive reparse`."""
    done = run_cli("crawl", "reparse", "-a", "warc=x.warc.gz", cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=2)
    assert message.startswith("unknown spider 'reparse' (available: cnstock, ")
    assert message.endswith("; use `newsarchive reparse FILE…`")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--db", "not a url"), "bad database URL 'not a url'"),
        (("--db", UNREACHABLE_PG), f"cannot use database {UNREACHABLE_PG}: connection failed"),
        (("-a", "pages"), "-a expects KEY=VALUE, got 'pages'"),
        (("-a", "=3"), "-a expects KEY=VALUE, got '=3'"),
        (("-s", "LOG_LEVEL"), "-s expects KEY=VALUE, got 'LOG_LEVEL'"),
        (
            ("-a", "pages=zero", "-s", "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:1"),
            "spider argument pages must be a positive integer, got 'zero'",
        ),
        (
            ("-s", "NEWSARCHIVE_REPLAY_ORIGIN=ftp://x"),
            "eastmoney failed: NEWSARCHIVE_REPLAY_ORIGIN must look like http://127.0.0.1:8000, got 'ftp://x'",
        ),
        (
            ("-a", "medias=证券日报网", "-s", "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:1"),
            "unknown spider argument 'medias' for eastmoney "
            "(known: columns, media, pages, page_size, since, until)",
        ),
        (
            ("-a", "columns=", "-s", "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:1"),
            "spider argument columns is empty",
        ),
        (
            (
                "-s",
                "NEWSARCHIVE_WARC_DIR=/proc/newsarchive",
                "-s",
                "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:1",
            ),
            "eastmoney failed: cannot write WARC file /proc/newsarchive/eastmoney-",
        ),
    ],
    ids=[
        "bad-url",
        "unreachable-db",
        "arg-without-equals",
        "arg-without-name",
        "setting-without-equals",
        "bad-spider-argument",
        "bad-replay-origin",
        "unknown-spider-argument",
        "empty-spider-argument",
        "unwritable-warc-dir",
    ],
)
def test_crawl_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    done = run_cli("crawl", "eastmoney", *args, cwd=tmp_path, timeout=30)

    message = assert_one_line_error(done.returncode, done.stderr)
    assert message.startswith(expected)
    assert not list(tmp_path.glob("data/warc/*"))  # nothing was fetched or archived


@pytest.mark.parametrize(
    "args",
    [
        ("crawl", "eastmoney", "-a", "medias=证券日报网"),
        ("crawl", "zqrb", "-a", "columns=not a path"),
        ("backfill", "cnstock", "--since", "2026-11-01", "-a", "columns=nosuch"),
        ("crawl", "eastmoney_fast", "-a", "pages=-1"),
    ],
    ids=["unknown", "bad-zqrb-column", "unknown-declared-column", "bad-pages"],
)
def test_an_argument_error_is_not_a_run(tmp_path: Path, sqlite_url: str, args: tuple[str, ...]) -> None:
    """Issue 14: an unknown spider argument printed a full all-zero summary before the error. Now:
    the error and the accepted arguments, exit 2, no summary, no run recorded, no file created."""
    open_database(sqlite_url).dispose()  # an archive that exists: the run would be recorded in it
    done = run_cli(*args, "--db", sqlite_url, cwd=tmp_path, timeout=30)
    missing = tmp_path / "typo" / "new.db"
    into_nothing = run_cli(*args, "--db", f"sqlite:///{missing}", cwd=tmp_path, timeout=30)

    assert assert_one_line_error(done.returncode, done.stderr, expected_code=2)
    assert done.stdout == ""  # no summary
    spider = args[1]
    assert f"\n  accepted arguments of {spider}:\n" in done.stderr
    assert "\n    -a pages=…  " in done.stderr and "\n    -a since=…  " in done.stderr
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr  # no class names
    with open_database(sqlite_url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM runs")).scalar() == 0
    assert (into_nothing.returncode, into_nothing.stdout) == (2, "")
    assert not missing.parent.exists()
    assert [path.name for path in tmp_path.iterdir() if not path.name.startswith("archive.db")] == []


def test_a_log_file_that_cannot_be_opened_is_a_one_line_usage_error(tmp_path: Path) -> None:
    """Issue 13: Scrapy opened LOG_FILE while the crawler process was built, and its OSError was a
    traceback."""
    done = run_cli(
        "crawl", "eastmoney", "-s", "LOG_FILE=/dev/null/x",
        "-s", "NEWSARCHIVE_REPLAY_ORIGIN=http://127.0.0.1:1", cwd=tmp_path, timeout=30,
    )  # fmt: skip

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=2)
    assert message == "cannot open log file /dev/null/x: Not a directory"
    assert done.stderr.count("\n") == 1
    assert not list(tmp_path.glob("data/warc/*"))


def test_a_bad_log_level_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("crawl", "eastmoney", "--log-level", "bogus", cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Invalid value for '--log-level'" in done.stderr


def test_reparse_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    done = run_cli("reparse", "empty.warc.gz", cwd=tmp_path)
    assert assert_one_line_error(done.returncode, done.stderr) == "empty.warc.gz holds no HTTP responses"


def test_reparse_missing_file(tmp_path: Path) -> None:
    done = run_cli("reparse", "missing.warc.gz", cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
    assert message == "cannot read missing.warc.gz: No such file or directory"


def test_reparse_a_text_file_that_is_not_warc(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("just some notes\nnot a WARC record\n", encoding="utf-8")

    done = run_cli("reparse", "notes.txt", cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
    assert message.startswith("notes.txt is not a WARC file")


def test_reparse_needs_an_archive(tmp_path: Path) -> None:
    done = run_cli("reparse", cwd=tmp_path)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Missing argument 'ARCHIVES...'" in done.stderr


def test_demo_with_an_unusable_out_folder_is_one_line_before_any_crawl(tmp_path: Path) -> None:
    done = run_cli("demo", "--out", "/dev/null", "--db", f"sqlite:///{tmp_path / 'demo.db'}", cwd=tmp_path)

    message = assert_one_line_error(done.returncode, done.stderr, expected_code=1)
    assert message == "cannot write posts to /dev/null/_posts: Not a directory"
    assert "sample site" not in done.stdout  # refused before serving or crawling anything
    assert not (tmp_path / "demo.db").exists()


# --- export: in-process ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["jsonl", "jekyll"])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "bad database URL 'not a url'"),
        (UNREACHABLE_PG, f"cannot use database {UNREACHABLE_PG}: connection failed"),
        ("nosuchdialect://x/y", "unsupported database URL 'nosuchdialect://x/y'"),
    ],
    ids=["bad-url", "unreachable", "unknown-dialect"],
)
def test_export_with_a_bad_database_is_one_line(
    tmp_path: Path, command: str, url: str, expected: str
) -> None:
    result = invoke("export", command, "--out", str(tmp_path / "out"), "--db", url)

    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = assert_one_line_error(result.exit_code, result.stderr, expected_code=1)
    assert message.startswith(expected)
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_database_that_is_not_an_archive(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{other}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
        connection.execute(text("INSERT INTO notes VALUES ('keep me')"))
    engine.dispose()

    result = invoke("export", "jsonl", "--out", str(tmp_path / "a.jsonl"), "--db", f"sqlite:///{other}")

    message = assert_one_line_error(result.exit_code, result.stderr, expected_code=1)
    assert "database has tables but no newsarchive schema version" in message
    engine = create_engine(f"sqlite:///{other}")
    with engine.connect() as connection:  # untouched
        assert connection.execute(text("SELECT body FROM notes")).scalars().all() == ["keep me"]
    engine.dispose()


def test_export_jekyll_share_url_without_placeholder(tmp_path: Path, sqlite_url: str) -> None:
    result = invoke(
        "export", "jekyll", "--out", str(tmp_path / "site"), "--db", sqlite_url, "--share-url", "https://x/"
    )

    message = assert_one_line_error(result.exit_code, result.stderr, expected_code=2)
    assert message == "--share-url must contain {info_code}"


@pytest.mark.parametrize(
    "template", ["https://s/?c={info_code}&x={0}", "https://s/{info_code}/{", "{info_code}{x}"]
)
def test_export_jekyll_share_url_is_plain_substitution(
    tmp_path: Path, sqlite_url: str, template: str
) -> None:
    engine = open_database(sqlite_url)
    BatchWriter(engine).write([seed_article()])
    engine.dispose()
    site = tmp_path / "site"

    result = invoke("export", "jekyll", "--out", str(site), "--db", sqlite_url, "--share-url", template)

    assert result.exit_code == 0, result.output
    post = (site / "_posts" / "2022-04-29-NW202204292366280343.md").read_text(encoding="utf-8")
    assert f"\n\n<{template.replace('{info_code}', 'NW202204292366280343')}>\n\n" in post


def test_export_jsonl_of_an_empty_archive(tmp_path: Path, db_url: str) -> None:
    open_database(db_url).dispose()  # a crawl created it and stored nothing
    out = tmp_path / "export" / "articles.jsonl"

    result = invoke("export", "jsonl", "--out", str(out), "--db", db_url)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 0 articles to {out}\n"
    assert result.stderr == ""
    assert out.read_text(encoding="utf-8") == ""


def test_export_jekyll_of_an_empty_archive(tmp_path: Path, db_url: str) -> None:
    open_database(db_url).dispose()  # a crawl created it and stored nothing
    site = tmp_path / "site"

    result = invoke("export", "jekyll", "--out", str(site), "--db", db_url)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 0 posts to {site / '_posts'}\n"
    assert result.stderr == ""
    assert list((site / "_posts").iterdir()) == []


def test_export_without_db_uses_the_default_archive_in_data(tmp_path: Path) -> None:
    engine = open_database("sqlite:///data/newsarchive.db")  # relative, as the default is
    BatchWriter(engine).write([seed_article()])
    engine.dispose()
    out = tmp_path / "all.jsonl"

    result = invoke("export", "jsonl", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 1 article to {out}\n"
