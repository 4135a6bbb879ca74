"""Engine and session factories: opens any SQLAlchemy URL, tunes SQLite, and checks the schema.

A brand-new empty database is created at the current schema; a database at an older or unknown
revision is refused (``newsarchive db upgrade`` migrates it) so its data is never touched.

Several processes may write one database at once. Write transactions (see :func:`writer`) take
the database's write lock when they begin, so writers take turns and each sees everything the
previous one committed (near-duplicate linking depends on it): ``BEGIN IMMEDIATE`` on SQLite (a
writer waits up to the busy timeout), a transaction-level advisory lock on PostgreSQL. Readers
never wait for them. Write transactions are short (one batch), so the turns are too.

Alembic is imported only where a schema is checked or migrated: the store's writer process opens
its database unchecked (the crawl checked it) and starts a tenth of a second sooner without it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
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


def open_database(
    url: str, *, check_schema: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> Engine:
    """Create an engine for ``url``, create the schema in an empty database, and verify it otherwise.

    ``busy_timeout`` (SQLite only) is how long a write waits for another process's lock before
    failing with "database is locked"."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"bad database URL {url!r}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create database folder {folder}: {exc.strerror}") from None
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseError(f"unsupported database URL {parsed.render_as_string()!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_tuner(busy_timeout))
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgresql_begin)
    if check_schema:
        try:
            ensure_schema(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise DatabaseError(
                f"cannot use database {parsed.render_as_string()}: {first_line(exc)}"
            ) from None
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


def _sqlite_tuner(busy_timeout: float) -> Any:
    def tune(dbapi_connection: Any, _record: Any) -> None:
        # newsarchive emits BEGIN itself (see _sqlite_begin), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout turns lock contention between writers into waiting, not errors (WAL
        # mode is set once, in the file, by _use_wal).
        cursor.execute(f"PRAGMA busy_timeout={max(0, int(busy_timeout * 1000))}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return tune


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgresql_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(_WRITE_OPTION):
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY})
