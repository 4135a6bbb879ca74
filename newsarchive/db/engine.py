"""Engine and session factory: opens any SQLAlchemy URL, tunes SQLite, and checks the schema.

A brand-new empty database is created at the current schema; a database at an older or unknown
revision is refused (``newsarchive db upgrade`` migrates it) so its data is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class DatabaseError(RuntimeError):
    """A database problem worth one line to the user (bad URL, unreachable server, old schema)."""


def open_database(url: str, *, check_schema: bool = True) -> Engine:
    """Create an engine for ``url``, create the schema in an empty database, and verify it otherwise."""
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
        event.listen(engine, "connect", _tune_sqlite)
    if check_schema:
        try:
            with engine.begin() as connection:
                ensure_schema(connection)
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise DatabaseError(f"cannot use database {parsed.render_as_string()}: {reason}") from None
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def ensure_schema(connection: Connection) -> None:
    """Create the schema in an empty database; refuse one that is not at the current revision."""
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        if inspect(connection).get_table_names():
            raise DatabaseError(
                "database has tables but no newsarchive schema version; run `newsarchive db upgrade` "
                "only if it is a newsarchive database"
            )
        command.upgrade(alembic_config(connection), "head")
        return
    if current != head_revision():
        raise DatabaseError(
            f"database schema is at revision {current}, not {head_revision()}; "
            "run `newsarchive db upgrade` first"
        )


def upgrade_database(url: str) -> str | None:
    """Migrate a database to the current schema (``newsarchive db upgrade``); returns the new revision."""
    engine = open_database(url, check_schema=False)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot upgrade database: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return head_revision()


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (the spider's "already stored?" lookups) run while the store pipeline writes;
    # the busy timeout turns short lock contention between writers into waiting, not errors.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
