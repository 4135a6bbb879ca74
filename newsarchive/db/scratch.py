"""Throwaway PostgreSQL databases for tests and benchmarks: created fresh, dropped afterwards.

Both connect to a server through an administrative URL (any database the user may log in to) and
need a database of their own per run, so that runs never see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from newsarchive.db.engine import first_line


class PostgresUnreachable(Exception):
    """The server at the administrative URL refused or did not answer (the message is one line)."""


@contextmanager
def scratch_postgres(admin_url: str, prefix: str) -> Iterator[str]:
    """The URL of a brand-new database named ``prefix`` + a random suffix, dropped (connections and
    all) on exit; raises :class:`PostgresUnreachable` if it cannot be created."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        raise PostgresUnreachable(f"PostgreSQL not reachable at {admin_url}: {first_line(error)}") from None
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
