"""The store's configuration: one frozen object built once from the settings, used by the store
pipeline and its writer process, ``newsarchive load`` and the benchmarks.

Settings: ``NEWSARCHIVE_DATABASE_URL``, ``NEWSARCHIVE_DB_BUSY_TIMEOUT``, ``NEWSARCHIVE_STORE_BATCH_SIZE``,
``NEWSARCHIVE_STORE_BATCH_SECONDS``, ``NEWSARCHIVE_DEADLETTER_DIR`` / ``_FALLBACK_DIR``,
``NEWSARCHIVE_NEAR_DUPLICATE_HOURS`` and ``NEWSARCHIVE_DB_RETRY_SECONDS`` (docs/settings.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from scrapy.settings import BaseSettings

DEADLETTER_SETTINGS = ("NEWSARCHIVE_DEADLETTER_DIR", "NEWSARCHIVE_DEADLETTER_FALLBACK_DIR")


@dataclass(frozen=True)
class StoreConfig:
    """How the archive is reached and written (pickled to the store's writer process as it is)."""

    url: str
    busy_timeout: float  # SQLite: seconds a write waits for another process's lock
    batch_size: int = 200  # items per write transaction (at least 1)
    batch_seconds: float = 10.0  # a batch is written once its oldest item waited this long (0: never)
    deadletter_dirs: tuple[Path, ...] = ()  # where items the database cannot take go, in order
    near_duplicate_window: timedelta = timedelta(0)  # 0: near-duplicates are not linked
    retry_seconds: float = 120.0  # how long an unreachable or locked database is retried

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> StoreConfig:
        return cls(
            url=settings.get("NEWSARCHIVE_DATABASE_URL"),
            busy_timeout=settings.getfloat("NEWSARCHIVE_DB_BUSY_TIMEOUT"),
            batch_size=max(1, settings.getint("NEWSARCHIVE_STORE_BATCH_SIZE")),
            batch_seconds=settings.getfloat("NEWSARCHIVE_STORE_BATCH_SECONDS"),
            deadletter_dirs=tuple(
                Path(folder) for name in DEADLETTER_SETTINGS if (folder := settings.get(name))
            ),
            near_duplicate_window=timedelta(hours=settings.getfloat("NEWSARCHIVE_NEAR_DUPLICATE_HOURS")),
            retry_seconds=settings.getfloat("NEWSARCHIVE_DB_RETRY_SECONDS"),
        )
