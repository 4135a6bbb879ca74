"""The ``newsarchive`` command: crawl, reparse, export, demo and db upgrade.

Every failure the user can cause (bad URL, bad file, unknown spider, unreachable database) ends with
one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from newsarchive import exitcodes
from newsarchive.archive.reader import DamagedRecord, read_responses
from newsarchive.archive.warc import ArchiveError
from newsarchive.db.engine import (
    DatabaseError,
    NoArchive,
    first_line,
    open_database,
    open_reader,
    session_factory,
    upgrade_database,
)
from newsarchive.db.repository import iter_articles
from newsarchive.export.jekyll import DEFAULT_SHARE_URL, DEFAULT_SITE_URL, JekyllOptions, write_jekyll
from newsarchive.export.jsonl import write_records
from newsarchive.export.rows import iter_export_records
from newsarchive.runner import Job, JobResult, RunError, project_settings, run_jobs

if TYPE_CHECKING:
    from newsarchive.load import LoadedFile

EXIT_FAILED = exitcodes.FAILED
EXIT_USAGE = exitcodes.CONFIG_ERROR


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"newsarchive: error: {message}", err=True)
    sys.exit(code)


def parse_pairs(pairs: Iterable[str], flag: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"{flag} expects KEY=VALUE, got {pair!r}", EXIT_USAGE)
        parsed[key.strip()] = value
    return parsed


def database_url(settings_url: str, db: str | None) -> str:
    return db or settings_url


def check_database(url: str) -> None:
    try:
        open_database(url).dispose()
    except DatabaseError as error:
        fail(str(error))


def report(results: list[JobResult]) -> int:
    """Print each run's summary; returns the most severe of their exit codes (newsarchive.exitcodes)."""
    codes = []
    for result in results:
        if result.not_started:  # a Ctrl-C came first: nothing ran
            codes.append(exitcodes.INTERRUPTED)
            continue
        if result.already_running:  # nothing ran: one line, no summary
            click.echo(f"newsarchive: error: {result.already_running}", err=True)
            codes.append(exitcodes.ALREADY_RUNNING)
            continue
        click.echo(
            f"== {result.job.spider} {' '.join(f'{k}={v}' for k, v in result.job.arguments.items())}".rstrip()
        )
        for line in result.summary.lines():
            click.echo(f"   {line}")
        # the same decision as the status recorded in the run history (newsarchive.history)
        for warning in result.summary.warnings:  # compared with the job's previous runs
            click.echo(f"newsarchive: warning: {warning}", err=True)
        for problem in result.summary.problems(result.job.spider, result.failure):
            click.echo(f"newsarchive: error: {problem}", err=True)
        if result.config_error:
            codes.append(exitcodes.CONFIG_ERROR)
        else:
            codes.append(result.summary.exit_code(result.job.spider, result.failure))
    code = exitcodes.most_severe(codes)
    if code == exitcodes.INTERRUPTED:
        click.echo(exitcodes.STOPPED_LINE, err=True)
    return code


def crawl_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "-s", "settings", multiple=True, metavar="NAME=VALUE", help="Override a setting."
    )(function)
    function = click.option(
        "--db", metavar="URL", help="SQLAlchemy database URL (default: data/newsarchive.db)."
    )(function)
    return click.option(
        "--log-level",
        default="WARNING",
        show_default=True,
        type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
        help="Scrapy log level (INFO shows every step).",
    )(function)


def run(jobs: list[Job], settings_pairs: Iterable[str], db: str | None, log_level: str) -> int:
    overrides: dict[str, Any] = {
        "LOG_LEVEL": log_level.upper(),
        "NEWSARCHIVE_LOG_SUMMARY": False,  # printed to stdout by report() instead
        "NEWSARCHIVE_PROGRESS_STDERR": True,
        **parse_pairs(settings_pairs, "-s"),
    }
    if db:
        overrides["NEWSARCHIVE_DATABASE_URL"] = db
    settings = project_settings(overrides)
    try:
        check_database(settings.get("NEWSARCHIVE_DATABASE_URL"))
        results = run_jobs(jobs, settings)
    except RunError as error:
        fail(str(error), EXIT_USAGE)
    except KeyboardInterrupt:  # Ctrl-C before the first job started (run_jobs handles it after)
        click.echo(exitcodes.STOPPED_LINE, err=True)
        return exitcodes.INTERRUPTED
    return report(results)


@click.group()
@click.version_option(package_name="newsarchive")
def main() -> None:
    """Archive Chinese financial news: crawl, re-parse archived responses, export."""


@main.command()
@click.argument("spider")
@click.option(
    "-a", "arguments", multiple=True, metavar="NAME=VALUE", help="Spider argument, e.g. -a media=证券日报网."
)
@crawl_options
def crawl(
    spider: str, arguments: tuple[str, ...], settings: tuple[str, ...], db: str | None, log_level: str
) -> None:
    """Crawl with SPIDER (eastmoney, eastmoney_fast) into the database, keeping raw responses in WARC."""
    sys.exit(run([Job(spider, parse_pairs(arguments, "-a"))], settings, db, log_level))


@main.command()
@click.argument("spider")
@click.option("--since", required=True, metavar="DATE", help="Oldest day to archive (Asia/Shanghai).")
@click.option("--until", metavar="DATE", help="Last day to archive (default: up to now).")
@click.option(
    "-a", "arguments", multiple=True, metavar="NAME=VALUE", help="Spider argument, e.g. -a columns=344."
)
@crawl_options
def backfill(
    spider: str,
    since: str,
    until: str | None,
    arguments: tuple[str, ...],
    settings: tuple[str, ...],
    db: str | None,
    log_level: str,
) -> None:
    """Page back through SPIDER's listings to --since, storing the articles in the window.

    Resumable: after any stop, even SIGKILL, run the same command again; stored articles are
    never fetched again."""
    from newsarchive.window import DateWindow

    try:
        DateWindow.parse(since, until)
    except ValueError as error:
        fail(str(error), EXIT_USAGE)
    pairs = parse_pairs(arguments, "-a")
    if {"since", "until"} & set(pairs):
        fail("give the window with --since/--until, not -a", EXIT_USAGE)
    window = {"since": since, **({"until": until} if until else {})}
    sys.exit(run([Job(spider, {**pairs, **window})], settings, db, log_level))


@main.command()
@click.argument("archives", nargs=-1, required=True, type=click.Path(path_type=Path))
@crawl_options
def reparse(archives: tuple[Path, ...], settings: tuple[str, ...], db: str | None, log_level: str) -> None:
    """Re-extract articles from WARC ARCHIVES (no network) and rewrite their rows."""
    for path in archives:
        damaged: list[DamagedRecord] = []  # reported by the run, which reads every record
        try:
            first = next(iter(read_responses(path, damaged.append)), None)
        except ArchiveError as error:
            fail(str(error))
        if first is None:
            unreadable = f" it could read: {damaged[0].reason}" if damaged else ""
            fail(f"{path} holds no HTTP responses{unreadable}")
    job = Job("reparse", {"warc": ",".join(str(path) for path in archives)})
    sys.exit(run([job], (*settings, "NEWSARCHIVE_WARC_ENABLED=0"), db, log_level))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--db", metavar="URL", help="SQLAlchemy database URL (default: data/newsarchive.db).")
def load(files: tuple[Path, ...], db: str | None) -> None:
    """Store the items of dead-letter FILES (written when the database was unavailable).

    Each line is checked as a crawled page is (validation, cleaning, sanitizing, dates); bad lines
    are reported by number and the good ones stored."""
    from datetime import timedelta

    from newsarchive.db.writer import BatchWriter, StoreUnavailable
    from newsarchive.load import LoadError, check_file, load_file
    from pipelines import article_steps

    try:
        for path in files:
            check_file(path)
    except LoadError as error:
        fail(str(error))
    settings = project_settings({"NEWSARCHIVE_DATABASE_URL": db} if db else {})
    steps = [pipeline.process_item for pipeline in article_steps(settings)]
    try:
        engine = open_database(
            settings.get("NEWSARCHIVE_DATABASE_URL"),
            busy_timeout=settings.getfloat("NEWSARCHIVE_DB_BUSY_TIMEOUT"),
        )
    except DatabaseError as error:
        fail(str(error))
    writer = BatchWriter(
        engine,
        near_duplicate_window=timedelta(hours=settings.getfloat("NEWSARCHIVE_NEAR_DUPLICATE_HOURS")),
        retry_seconds=settings.getfloat("NEWSARCHIVE_DB_RETRY_SECONDS"),
    )
    status = 0
    try:
        for path in files:
            try:
                loaded = load_file(writer, path, steps, settings.getint("NEWSARCHIVE_STORE_BATCH_SIZE"))
            except StoreUnavailable as error:
                fail(f"database unavailable while loading {path}: {error}; run load again")
            except LoadError as error:
                fail(str(error))
            result = loaded.result
            click.echo(
                f"{path}: {loaded.items} items: {result.new} new, "
                f"{result.unchanged + result.stale} already stored, {result.revised} revised, "
                f"{result.moved} moved to the 7x24 feed"
            )
            _report_bad_lines(loaded)
            for item, reason in result.rejected:
                click.echo(f"newsarchive: error: {item.info_code} not stored: {reason}", err=True)
            if loaded.bad_count or result.rejected:
                status = EXIT_FAILED
    finally:
        engine.dispose()
    sys.exit(status)


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def _report_bad_lines(loaded: LoadedFile) -> None:
    """The file's bad lines, the first few by number; a file with no loadable line in one line."""
    if not loaded.bad_count:
        return
    if not loaded.items:
        first = loaded.bad_lines[0]
        click.echo(
            f"newsarchive: error: {loaded.path}: no line could be loaded ({_lines(loaded.bad_count)} bad; "
            f"line {first.line}: {first.reason})",
            err=True,
        )
        return
    for bad in loaded.bad_lines:
        click.echo(f"newsarchive: error: {loaded.path}:{bad.line}: {bad.reason}", err=True)
    if loaded.bad_count > len(loaded.bad_lines):
        more = _lines(loaded.bad_count - len(loaded.bad_lines))
        click.echo(f"newsarchive: error: {loaded.path}: … and {more} more, bad too", err=True)


EXCLUDE_DUPLICATES = click.option(
    "--exclude-duplicates",
    is_flag=True,
    help="Leave out near-duplicate copies (rows whose duplicate_of points to an earlier copy).",
)


@main.group()
def export() -> None:
    """Export the archive (jekyll posts, jsonl)."""


@export.command("jekyll")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Site directory; posts go to OUT/_posts."
)
@click.option("--db", metavar="URL", help="SQLAlchemy database URL.")
@click.option(
    "--site-url", default=DEFAULT_SITE_URL, show_default=True, help="Site prefix of the back links."
)
@click.option(
    "--share-url", default=DEFAULT_SHARE_URL, show_default=True, help="Share link template ({info_code})."
)
@EXCLUDE_DUPLICATES
def export_jekyll(out: Path, db: str | None, site_url: str, share_url: str, exclude_duplicates: bool) -> None:
    """Write Jekyll posts in the original site's format (each post replaced atomically)."""
    if "{info_code}" not in share_url:
        fail("--share-url must contain {info_code}", EXIT_USAGE)
    options = JekyllOptions(site_url, share_url)
    posts = out / "_posts"
    count = _export(db, exclude_duplicates, lambda rows: write_jekyll(rows, out, options), posts)
    click.echo(f"wrote {count} posts to {posts}")


@export.command("jsonl")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output file.")
@click.option("--db", metavar="URL", help="SQLAlchemy database URL.")
@EXCLUDE_DUPLICATES
def export_jsonl(out: Path, db: str | None, exclude_duplicates: bool) -> None:
    """Write one JSON object per article (JSON Lines), ``duplicate_of`` included; the file is
    replaced only by a complete export."""
    # plain rows of the record's columns: several times faster than ORM objects (newsarchive.export.rows)
    count = _export(
        db, exclude_duplicates, lambda records: write_records(records, out), out, iter_export_records
    )
    click.echo(f"wrote {count} articles to {out}")


def _export(
    db: str | None,
    exclude_duplicates: bool,
    writer: Callable[[Iterable[Any]], int],
    target: Path,
    reader: Callable[..., Iterable[Any]] = iter_articles,
) -> int:
    url = db or project_settings().get("NEWSARCHIVE_DATABASE_URL")
    try:
        engine = _export_source(url)
    except DatabaseError as error:
        fail(str(error))
    try:
        with session_factory(engine)() as session:
            return writer(reader(session, exclude_duplicates=exclude_duplicates))
    except OSError as error:
        fail(f"cannot write {target}: {error.strerror or error}")
    except SQLAlchemyError as error:  # e.g. a damaged SQLite file, a server gone mid-export
        fail(f"cannot read database: {first_line(error)}")
    finally:
        engine.dispose()


def _export_source(url: str) -> Engine:
    """The archive to export, opened read-only (so a read-only archive exports); where there is
    none, a new empty one, as every command but ``runs`` and ``show`` creates it (issue 5)."""
    try:
        return open_reader(url)
    except NoArchive:
        return open_database(url)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.option("--db", "url", metavar="URL", help="SQLAlchemy database URL.")
def db_upgrade(url: str | None) -> None:
    """Create or migrate the database to the current schema."""
    target = url or project_settings().get("NEWSARCHIVE_DATABASE_URL")
    try:
        revision = upgrade_database(target)
    except DatabaseError as error:
        fail(str(error))
    click.echo(f"database at revision {revision}")


@main.command()
@click.option("--db", metavar="URL", help="SQLAlchemy database URL (default: data/newsarchive.db).")
@click.option(
    "--out",
    default=Path("data/site"),
    type=click.Path(path_type=Path),
    show_default=True,
    help="Where the Jekyll posts go (OUT/_posts).",
)
def demo(db: str | None, out: Path) -> None:
    """Crawl the committed sample site on loopback with both spiders, then export Jekyll posts."""
    from newsarchive.demo import run_demo

    sys.exit(run_demo(db, out))


@main.command()
@click.option("--db", metavar="URL", help="SQLAlchemy database URL (default: data/newsarchive.db).")
@click.option("--spider", metavar="NAME", help="Only the runs of this spider.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs to show."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array with every field and all counts.")
def runs(db: str | None, spider: str | None, limit: int, as_json: bool) -> None:
    """List the recorded crawls, backfills and reparses, newest first."""
    from newsarchive.views import read_archive, runs_output

    url = database_url(project_settings().get("NEWSARCHIVE_DATABASE_URL"), db)
    try:
        click.echo(read_archive(url, lambda session: runs_output(session, spider, limit, as_json=as_json)))
    except DatabaseError as error:
        fail(str(error))


@main.command()
@click.argument("info_code")
@click.option("--db", metavar="URL", help="SQLAlchemy database URL (default: data/newsarchive.db).")
@click.option("--json", "as_json", is_flag=True, help="The article and its revisions as one JSON object.")
def show(info_code: str, db: str | None, as_json: bool) -> None:
    """Print the article INFO_CODE (a bare 18-digit East Money code too) with its revision history."""
    from newsarchive.ids import canonical_info_code
    from newsarchive.views import article_output, read_archive

    try:
        code = canonical_info_code(info_code)
    except ValueError as error:
        fail(str(error))
    url = database_url(project_settings().get("NEWSARCHIVE_DATABASE_URL"), db)
    try:
        shown = read_archive(url, lambda session: article_output(session, code, as_json=as_json))
    except DatabaseError as error:
        fail(str(error))
    if shown is None:
        fail(f"no article {code} in the archive")
    click.echo(shown)


if __name__ == "__main__":  # pragma: no cover
    main()
