"""The ``newsarchive`` command: every subcommand, its options and help (docs/commands.md lists them).

Every failure the user can cause (bad URL, bad file, unknown spider, unreachable database) ends with
one line on stderr and a non-zero exit, never a traceback. An argument error is not a run: it is
found before anything starts, printed with the accepted arguments, and exits 2.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from newsarchive import exitcodes
from newsarchive.archive.reader import DamagedRecord, read_responses
from newsarchive.archive.warc import ArchiveError
from newsarchive.catalogue import JobError, describe
from newsarchive.db.engine import (
    DatabaseError,
    first_line,
    open_database,
    open_reader,
    session_factory,
    upgrade_database,
)
from newsarchive.db.repository import iter_articles
from newsarchive.export.jekyll import DEFAULT_SHARE_URL, DEFAULT_SITE_URL, JekyllOptions, write_jekyll
from newsarchive.export.jsonl import write_records, write_records_to
from newsarchive.export.rows import iter_export_records
from newsarchive.jobs import shown_arguments
from newsarchive.runner import Job, JobResult, RunError, project_settings, run_jobs

if TYPE_CHECKING:
    from newsarchive.load import LoadedFile

T = TypeVar("T")

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


def usage_error(error: JobError) -> NoReturn:
    """A job that must not start: the error, then what is accepted, on stderr; exit 2."""
    click.echo(f"newsarchive: error: {error}", err=True)
    for line in error.usage:
        click.echo(f"  {line}", err=True)
    sys.exit(EXIT_USAGE)


DB_HELP = (
    "Archive database, a SQLAlchemy URL (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB). "
    "Default: $NEWSARCHIVE_DATABASE_URL, else sqlite:///data/newsarchive.db "
    "(in $NEWSARCHIVE_DATA_DIR if set)."
)


def db_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--db URL``: the one declaration every command shares."""
    return click.option("--db", metavar="URL", help=DB_HELP)(function)


def database_url(db: str | None) -> str:
    """``--db`` if given, else the setting (``NEWSARCHIVE_DATABASE_URL`` or data/newsarchive.db)."""
    return db or project_settings().get("NEWSARCHIVE_DATABASE_URL")


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
        if result.unusable_database:  # refused before its first request: one line, no summary
            click.echo(f"newsarchive: error: {result.unusable_database}", err=True)
            codes.append(EXIT_FAILED)
            continue
        click.echo(f"== {result.job.spider} {shown_arguments(result.job.arguments)}".rstrip())
        for line in result.summary.lines():
            click.echo(f"   {line}")
        # the same decision as the status recorded in the run history (newsarchive.history)
        for warning in result.summary.warnings:  # compared with the job's previous runs
            click.echo(f"newsarchive: warning: {warning}", err=True)
        for warning in result.summary.nothing_matched:  # a filter or column that matched nothing: exit 6
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
    function = db_option(function)
    return click.option(
        "--log-level",
        default="WARNING",
        show_default=True,
        type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
        help="Scrapy log level (INFO shows every step).",
    )(function)


def run(
    jobs: list[Job],
    settings_pairs: Iterable[str],
    db: str | None,
    log_level: str,
    *,
    allow_internal: bool = False,
) -> int:
    overrides: dict[str, Any] = {
        "LOG_LEVEL": log_level.upper(),
        "NEWSARCHIVE_LOG_SUMMARY": False,  # printed to stdout by report() instead
        "NEWSARCHIVE_PROGRESS_STDERR": True,
        **parse_pairs(settings_pairs, "-s"),
    }
    if db:
        overrides["NEWSARCHIVE_DATABASE_URL"] = db
    settings = project_settings(overrides)
    try:  # every job is checked before any starts; each then opens the database once
        results = run_jobs(jobs, settings, allow_internal=allow_internal)
    except JobError as error:
        usage_error(error)
    except RunError as error:
        fail(str(error), EXIT_USAGE)
    except KeyboardInterrupt:  # Ctrl-C before the first job started (run_jobs handles it after)
        click.echo(exitcodes.STOPPED_LINE, err=True)
        return exitcodes.INTERRUPTED
    return report(results)


class SpiderCommand(click.Command):
    """A command taking SPIDER: its help ends with the spiders and their arguments (read when the
    help is shown, so declared-site files are listed too)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        try:
            text = describe(project_settings())
        except JobError as error:
            text = f"(the spiders cannot be listed: {error})"
        formatter.write_paragraph()
        formatter.write_text("Spiders and their -a arguments (also: newsarchive spiders):")
        with formatter.indentation():
            for line in text.splitlines():
                formatter.write(f"{formatter.current_indent * ' '}{line}\n" if line else "\n")


@click.group(context_settings={"max_content_width": 100})
@click.version_option(package_name="newsarchive")
def main() -> None:
    """Archive Chinese financial news.

    \b
    Crawl:    crawl, backfill (a date window), spiders (what can be crawled)
    Watch:    check (does each site still give what a crawl needs)
    Store:    reparse (WARC files again), load (dead-letter files), db upgrade
    Look:     runs (the run history), show (one article and its revisions)
    Export:   export jsonl, export jekyll
    Try it:   demo (a sample site on loopback, no network)

    Commands that use the archive take --db (default: $NEWSARCHIVE_DATABASE_URL, else
    data/newsarchive.db).
    Exit codes: docs/operations.md; every command and option: docs/commands.md."""


@main.command("spiders")
def spiders_command() -> None:
    """List the spiders with their -a arguments and defaults."""
    try:
        click.echo(describe(project_settings()))
    except JobError as error:
        fail(str(error), EXIT_USAGE)


@main.command(cls=SpiderCommand, short_help="Crawl a source's listings and new articles.")
@click.argument("spider")
@click.option(
    "-a", "arguments", multiple=True, metavar="NAME=VALUE", help="Spider argument, e.g. -a media=证券日报网."
)
@crawl_options
def crawl(
    spider: str, arguments: tuple[str, ...], settings: tuple[str, ...], db: str | None, log_level: str
) -> None:
    """Crawl SPIDER's listings into the database, fetching each article not stored yet and keeping
    every raw response in WARC files."""
    sys.exit(run([Job(spider, parse_pairs(arguments, "-a"))], settings, db, log_level))


@main.command(cls=SpiderCommand, short_help="Archive a date window of a source's listings.")
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


@main.command(short_help="Check that each site still gives what a crawl needs (no storing).")
@click.argument("sites", nargs=-1, metavar="[SITE]...")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Override a setting.")
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
    help="Scrapy log level (INFO shows every step).",
)
def check(sites: tuple[str, ...], settings: tuple[str, ...], log_level: str) -> None:
    """Fetch the first listing page of each SITE (a spider name; default: every one) and its
    newest article, politely and once, read them as a crawl would, and print per site which
    expected fields (title, published, body, media) the article has. Stores nothing (no archive,
    no WARC file).

    Exits 7 naming the site and what is wrong when an expected field is missing, a listing gives
    no rows, or a page cannot be fetched or read: a cron line can alert before a crawl degrades."""
    from newsarchive.check import check_sites, exit_code, table

    overrides = {"LOG_LEVEL": log_level.upper(), **parse_pairs(settings, "-s")}
    try:
        checks, finished = check_sites(sites, project_settings(overrides))
    except JobError as error:
        usage_error(error)
    for line in table(checks):
        click.echo(line)
    for site in checks:
        for finding in site.errors():
            click.echo(f"newsarchive: error: {finding}", err=True)
    if not finished:
        click.echo(exitcodes.STOPPED_LINE, err=True)
        sys.exit(exitcodes.INTERRUPTED)
    sys.exit(exit_code(checks))


@main.command(short_help="Re-extract articles from WARC files, no network.")
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
    sys.exit(run([job], (*settings, "NEWSARCHIVE_WARC_ENABLED=0"), db, log_level, allow_internal=True))


@main.command(short_help="Store the articles of dead-letter files.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
def load(files: tuple[Path, ...], db: str | None) -> None:
    """Store the items of dead-letter FILES (written when the database was unavailable).

    Each line is checked as a crawled page is (validation, cleaning, sanitizing, dates); bad lines
    are reported by number and the good ones stored."""
    from newsarchive.db.writer import BatchWriter, StoreUnavailable
    from newsarchive.load import LoadError, check_file, load_file
    from newsarchive.store.config import StoreConfig
    from pipelines import article_steps

    try:
        for path in files:
            check_file(path)
    except LoadError as error:
        fail(str(error))
    settings = project_settings({"NEWSARCHIVE_DATABASE_URL": db} if db else {})
    steps = [pipeline.process_item for pipeline in article_steps(settings)]
    config = StoreConfig.from_settings(settings)
    try:
        engine = open_database(config.url, busy_timeout=config.busy_timeout)
    except DatabaseError as error:
        fail(str(error))
    writer = BatchWriter.for_store(engine, config)
    status = 0
    try:
        for path in files:
            try:
                loaded = load_file(writer, path, steps, config.batch_size)
            except StoreUnavailable as error:
                fail(f"database unavailable while loading {path}: {error}; run load again")
            except LoadError as error:
                fail(str(error))
            result = loaded.result
            click.echo(
                f"{path}: {counted(loaded.items, 'item')}: {result.new} new, "
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


def counted(count: int, noun: str) -> str:
    """``1 article``, ``2 articles``: every count the commands print."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _report_bad_lines(loaded: LoadedFile) -> None:
    """The file's bad lines, the first few by number; a file with no loadable line in one line."""
    if not loaded.bad_count:
        return
    if not loaded.items:
        first = loaded.bad_lines[0]
        how_many = counted(loaded.bad_count, "line")
        click.echo(
            f"newsarchive: error: {loaded.path}: no line could be loaded ({how_many} bad; "
            f"line {first.line}: {first.reason})",
            err=True,
        )
        return
    for bad in loaded.bad_lines:
        click.echo(f"newsarchive: error: {loaded.path}:{bad.line}: {bad.reason}", err=True)
    if loaded.bad_count > len(loaded.bad_lines):
        more = counted(loaded.bad_count - len(loaded.bad_lines), "line")
        click.echo(f"newsarchive: error: {loaded.path}: … and {more} more, bad too", err=True)


EXCLUDE_DUPLICATES = click.option(
    "--exclude-duplicates",
    is_flag=True,
    help="Leave out near-duplicate copies (rows whose duplicate_of points to an earlier copy).",
)


@main.group(short_help="Write the archive out as JSON Lines or Jekyll posts.")
def export() -> None:
    """Export the archive (jekyll posts, jsonl)."""


STDOUT = "-"  # --out - : standard output


@export.command("jekyll")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Site directory; posts go to OUT/_posts."
)
@db_option
@click.option(
    "--site-url", default=DEFAULT_SITE_URL, show_default=True, help="Site prefix of the back links."
)
@click.option(
    "--share-url", default=DEFAULT_SHARE_URL, show_default=True, help="Share link template ({info_code})."
)
@EXCLUDE_DUPLICATES
def export_jekyll(out: Path, db: str | None, site_url: str, share_url: str, exclude_duplicates: bool) -> None:
    """Write Jekyll posts in the original site's format (each post replaced atomically).

    The posts written are recorded in OUT/.newsarchive-export.json; the next export into OUT removes
    those that are no longer part of it (never a file it did not write, nor one edited since)."""
    if str(out) == STDOUT:
        fail("export jekyll writes a folder of posts: --out - (standard output) cannot hold one", EXIT_USAGE)
    if "{info_code}" not in share_url:
        fail("--share-url must contain {info_code}", EXIT_USAGE)
    options = JekyllOptions(site_url, share_url)
    posts = out / "_posts"
    done = _export(db, exclude_duplicates, lambda rows: write_jekyll(rows, out, options), posts)
    click.echo(f"wrote {counted(done.posts, 'post')} to {posts}")
    if done.removed:
        removed = counted(len(done.removed), "post")
        click.echo(f"removed {removed} written by an earlier export and no longer part of it")
    for warning in done.warnings:
        click.echo(f"newsarchive: warning: {warning}", err=True)


@export.command("jsonl")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Output file, - for standard output."
)
@db_option
@EXCLUDE_DUPLICATES
def export_jsonl(out: Path, db: str | None, exclude_duplicates: bool) -> None:
    """Write one JSON object per article (JSON Lines), ``duplicate_of`` included; the file is
    replaced only by a complete export. With ``--out -`` the lines go to standard output and the
    count to stderr."""
    # plain rows of the record's columns: several times faster than ORM objects (newsarchive.export.rows)
    if str(out) == STDOUT:
        count = _export(db, exclude_duplicates, _write_stdout, out, iter_export_records)
        click.echo(f"wrote {counted(count, 'article')} to standard output", err=True)
        return
    count = _export(
        db, exclude_duplicates, lambda records: write_records(records, out), out, iter_export_records
    )
    click.echo(f"wrote {counted(count, 'article')} to {out}")


def _write_stdout(records: Iterable[dict[str, Any]]) -> int:
    """JSON Lines on standard output, UTF-8 whatever the locale; a reader that stops early
    (``| head``) ends the export with one line, not a traceback."""
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        count = write_records_to(records, stream)
        stream.flush()
    except BrokenPipeError:
        # nothing more can reach the reader; stop Python's own flush at exit from failing again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        fail("cannot write standard output: the reader closed it")
    finally:
        stream.detach()  # sys.stdout keeps its buffer
    return count


def _export(
    db: str | None,
    exclude_duplicates: bool,
    writer: Callable[[Iterable[Any]], T],
    target: Path,
    reader: Callable[..., Iterable[Any]] = iter_articles,
) -> T:
    url = database_url(db)
    try:
        # read-only: a mistyped URL is an error, never a new empty archive exported over the user's
        # previous export (issue 14); a read-only archive exports
        engine = open_reader(url)
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


@main.group(short_help="Database maintenance (db upgrade).")
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@db_option
def db_upgrade(db: str | None) -> None:
    """Create or migrate the database to the current schema."""
    target = database_url(db)
    try:
        revision = upgrade_database(target)
    except DatabaseError as error:
        fail(str(error))
    click.echo(f"database at revision {revision}")


@main.command(short_help="Crawl the sample site on loopback and export it (no network).")
@db_option
@click.option(
    "--out",
    default=Path("data/site"),
    type=click.Path(path_type=Path),
    show_default=True,
    help="Where the Jekyll posts go (OUT/_posts).",
)
def demo(db: str | None, out: Path) -> None:
    """Serve the committed sample site on loopback, crawl it with every spider (eastmoney,
    eastmoney_fast, zqrb and the declared sites), then export Jekyll posts. No network needed."""
    from newsarchive.demo import run_demo

    sys.exit(run_demo(db, out))


@main.command(short_help="List recorded runs, newest first.")
@db_option
@click.option("--spider", metavar="NAME", help="Only the runs of this spider.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs to show."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array with every field and all counts.")
def runs(db: str | None, spider: str | None, limit: int, as_json: bool) -> None:
    """List the recorded crawls, backfills and reparses, newest first."""
    from newsarchive.views import read_archive, runs_output

    url = database_url(db)
    try:
        click.echo(read_archive(url, lambda session: runs_output(session, spider, limit, as_json=as_json)))
    except DatabaseError as error:
        fail(str(error))


@main.command(short_help="Print one article and its revision history.")
@click.argument("info_code")
@db_option
@click.option("--json", "as_json", is_flag=True, help="The article and its revisions as one JSON object.")
def show(info_code: str, db: str | None, as_json: bool) -> None:
    """Print the article INFO_CODE (a bare 18-digit East Money code too) with its revision history."""
    from newsarchive.ids import canonical_info_code
    from newsarchive.views import article_output, read_archive

    try:
        code = canonical_info_code(info_code)
    except ValueError as error:
        fail(str(error))
    url = database_url(db)
    try:
        shown = read_archive(url, lambda session: article_output(session, code, as_json=as_json))
    except DatabaseError as error:
        fail(str(error))
    if shown is None:
        fail(f"no article {code} in the archive")
    click.echo(shown)


if __name__ == "__main__":  # pragma: no cover
    main()
