"""Engine and session factories: opens any SQLAlchemy URL, tunes SQLite, and checks the schema.

A brand-new empty database is created at the current schema; a database at an older revision is
refused (``newsarchive db upgrade`` migrates it), one at a revision this release does not know (a
newer newsarchive made it) too, so its data is never touched. Reading commands open the archive
with :func:`open_reader`, which writes nothing and works on a read-only file or mount.

Several processes may write one database at once. Write transactions (see :func:`writer`) take
the database's write lock when they begin, so writers take turns and each sees everything the
previous one committed (near-duplicate linking depends on it): ``BEGIN IMMEDIATE`` on SQLite (a
writer waits up to the busy timeout), a transaction-level advisory lock on PostgreSQL. Readers
never wait for them. Write transactions are short (one batch), so the turns are too.

Alembic is imported only where a schema is checked or migrated: the store's writer process opens
its database unchecked (the crawl checked it) and starts a tenth of a second sooner without it.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from newsarchive import __version__
from newsarchive.resources import package_folder

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for another process's write lock
# Execution option of engines whose transactions write (see writer()).
_WRITE_OPTION = "newsarchive_write"
_WRITE_LOCK_KEY = 0x6E657773  # PostgreSQL advisory lock ("news") held by every write transaction


class DatabaseError(RuntimeError):
    """A database problem worth one line to the user (bad URL, unreachable server, old schema)."""


class NoArchive(DatabaseError):
    """A reader found nothing to read: no SQLite file, no PostgreSQL database, or a database without
    newsarchive's schema (an empty one: a mistyped name, or ``db upgrade`` not run yet)."""


# Where a reader is pointed at nothing, the user most often mistyped the URL.
CHECK_URL = "check --db or NEWSARCHIVE_DATABASE_URL"
# PostgreSQL's answer to a connection naming a database the server does not have.
_NO_SUCH_DATABASE = re.compile(r'database ".*" does not exist')


def open_database(
    url: str, *, check_schema: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> Engine:
    """Create an engine for ``url``, create the schema in an empty database, and verify it otherwise.

    ``busy_timeout`` (SQLite only) is how long a write waits for another process's lock before
    failing with "database is locked"."""
    parsed = _parse(url)
    if _sqlite_file(parsed) is not None:
        folder = Path(str(parsed.database)).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create database folder {folder}: {exc.strerror}") from None
    engine = _engine(parsed, busy_timeout)
    if check_schema:
        try:
            ensure_schema(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise DatabaseError(
                f"cannot use database {parsed.render_as_string()}: {first_line(exc)}"
            ) from None
    return engine


def open_reader(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An engine that only reads the archive at ``url`` (``runs``, ``show``, ``export``).

    It never creates a file, folder, database or schema and never changes the journal mode, so it
    works on a read-only file, folder or mount. :class:`NoArchive` when there is no archive to read
    (no SQLite file, no PostgreSQL database, an empty database: issue 14), one-line
    :class:`DatabaseError` as :func:`open_database` otherwise."""
    parsed = _parse(url)
    where = parsed.render_as_string()
    path = _sqlite_file(parsed)
    connect_args: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise NoArchive(f"no archive at {path} ({CHECK_URL})")
        where = str(path)
        parsed = _sqlite_reader_url(path)
    elif parsed.get_backend_name() == "postgresql":  # the server refuses any write of this engine
        given = parsed.query.get("options")  # connect_args would replace the URL's own options
        connect_args["options"] = f"{given or ''} -c default_transaction_read_only=on".strip()
    engine = _engine(parsed, busy_timeout, connect_args=connect_args, query_only=True)
    try:
        with engine.connect() as connection:
            current = _check_revision(connection)
    except SQLAlchemyError as exc:
        engine.dispose()
        if _NO_SUCH_DATABASE.search(first_line(exc)):
            raise NoArchive(f"no archive at {where}: the database does not exist ({CHECK_URL})") from None
        raise DatabaseError(f"cannot use database {where}: {first_line(exc)}") from None
    except DatabaseError:
        engine.dispose()
        raise
    if not current:  # an empty database: nothing newsarchive wrote, so nothing to read
        engine.dispose()
        raise NoArchive(
            f"{where} is not a newsarchive archive (no schema): {CHECK_URL}, "
            "or run `newsarchive db upgrade` to make it one"
        )
    return engine


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseError(f"bad database URL {url!r}") from None


def _sqlite_file(parsed: URL) -> Path | None:
    """The file of a SQLite URL; None for other databases, in-memory ones and SQLite URI filenames
    (``file:…?uri=true``: the user chose the open mode)."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri"):
        return None
    return Path(str(parsed.database)).expanduser()


def _sqlite_reader_url(path: Path) -> URL:
    """How to open the SQLite archive ``path`` for reading, wherever it lies.

    A WAL archive needs its index (the -shm file) beside it. Where the file and folder are writable,
    a plain connection (made read-only by ``query_only``) creates it and, closing, removes it again
    with the -wal file, as every writer does. Elsewhere SQLite cannot create it: ``mode=ro`` reads
    through an index that exists (a writer died and left one); without one, ``immutable=1`` reads
    the file alone, which holds everything unless a -wal file with commits was left behind."""
    folder = path.parent
    if os.access(path, os.W_OK) and os.access(folder, os.W_OK):
        return URL.create("sqlite", database=str(path))
    index, log = (path.with_name(path.name + suffix) for suffix in ("-shm", "-wal"))
    if os.access(folder, os.W_OK) or index.exists():
        option = {"mode": "ro"}
    elif log.exists() and log.stat().st_size > 0:
        raise DatabaseError(
            f"cannot read {path}: its last commits are in {log.name}, which needs a {index.name} "
            "file that this read-only folder cannot hold; copy the archive to a writable folder"
        )
    else:
        option = {"immutable": "1"}
    uri_path = quote(str(path.absolute()))  # a '#' or '?' in a folder name would end the path
    return URL.create("sqlite", database=f"file:{uri_path}", query={**option, "uri": "true"})


def _engine(
    parsed: URL,
    busy_timeout: float,
    *,
    connect_args: dict[str, Any] | None = None,
    query_only: bool = False,
) -> Engine:
    """The engine for ``parsed`` with newsarchive's connection set-up (see the module docstring)."""
    try:
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args or {})
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseError(f"unsupported database URL {parsed.render_as_string()!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_tuner(busy_timeout, query_only=query_only))
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgresql_begin)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def dialect_of(session: Session) -> str:
    """ "postgresql" or "sqlite": which of the two dialects' own statements a session needs."""
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def writer(engine: Engine) -> Engine:
    """The same engine (and pool) for transactions that write: on SQLite they begin IMMEDIATE."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    # a real folder even when running from a zipped egg (Scrapyd)
    config.set_main_option("script_location", str(package_folder("newsarchive.db", "migrations")))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def ensure_schema(engine: Engine) -> None:
    """Create the schema in an empty database; refuse one that is not at the current revision.

    Safe when several processes open the same new database at once: the creation happens under
    the database's write lock (SQLite) or an advisory lock (PostgreSQL), after a second look.
    """
    with engine.connect() as connection:
        try:
            current = _check_revision(connection)
        except DatabaseError:
            current = False  # maybe another process is creating the schema now: look again, locked
    if current:
        _use_wal(engine)
        return
    with writer(engine).begin() as connection:
        if not _check_revision(connection):
            _upgrade(connection)
    _use_wal(engine)


def _check_revision(connection: Connection) -> bool:
    """True if the schema is current, False if the database is empty; raises if it is neither."""
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        if inspect(connection).get_table_names():
            raise DatabaseError(
                "database has tables but no newsarchive schema version; run `newsarchive db upgrade` "
                "only if it is a newsarchive database"
            )
        return False
    if current != head_revision():
        _refuse_newer(current)
        raise DatabaseError(
            f"database schema is at revision {current}, not {head_revision()}; "
            "run `newsarchive db upgrade` first"
        )
    return True


def _refuse_newer(revision: str) -> None:
    """Raise if ``revision`` is none of this release's migrations: a newer newsarchive wrote it, so
    ``db upgrade`` cannot help (it only knows the way up to its own head), upgrading newsarchive can."""
    from alembic.script import ScriptDirectory

    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision not in known:
        raise DatabaseError(
            f"database schema is at revision {revision}, which newsarchive {__version__} does not know "
            f"(its latest is {head_revision()}): the archive was made by a newer newsarchive; "
            "upgrade newsarchive to use it"
        )


def upgrade_database(url: str) -> str | None:
    """Migrate a database to the current schema (``newsarchive db upgrade``); returns the new revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    engine = open_database(url, check_schema=False)
    try:
        with writer(engine).begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None:
                _refuse_newer(current)  # before alembic fails on it with "Can't locate revision"
            _upgrade(connection)
        _use_wal(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot upgrade database: {first_line(exc)}") from None
    except CommandError as exc:  # e.g. a revision this version of newsarchive does not know
        raise DatabaseError(f"cannot upgrade database: {first_line(exc)}") from None
    finally:
        engine.dispose()
    return head_revision()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def first_line(error: BaseException) -> str:
    """The first line of a (database) error, without SQLAlchemy's SQL and background notes."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _use_wal(engine: Engine) -> None:
    """Put a SQLite archive in WAL mode (persistent in the file), so readers never wait for a
    writer. Only done to a database that passed the schema check: a refused file stays as it was."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # needs every other connection gone: try briefly, not for the whole busy timeout
            waited = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
            cursor.execute("PRAGMA busy_timeout=200")
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            finally:
                cursor.execute(f"PRAGMA busy_timeout={int(waited)}")
        cursor.close()
    except sqlite3.OperationalError:
        pass  # another process holds the database right now; the next open switches it
    finally:
        connection.close()


def _sqlite_tuner(busy_timeout: float, *, query_only: bool = False) -> Any:
    def tune(dbapi_connection: Any, _record: Any) -> None:
        # newsarchive emits BEGIN itself (see _sqlite_begin), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout turns lock contention between writers into waiting, not errors (WAL
        # mode is set once, in the file, by _use_wal).
        cursor.execute(f"PRAGMA busy_timeout={max(0, int(busy_timeout * 1000))}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if query_only:  # a reader (open_reader): SQLite refuses any write on this connection
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return tune


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgresql_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(_WRITE_OPTION):
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY})
