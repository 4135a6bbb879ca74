"""The store's one configuration object (issue 15 item 3): built once from the settings, frozen,
and the same object the pipeline's batch store, its writer process and ``newsarchive load`` use."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import timedelta
from pathlib import Path

import pytest
from scrapy.settings import Settings

from newsarchive import settings as project_settings
from newsarchive.store.config import StoreConfig


def settings(**overrides: object) -> Settings:
    values = Settings()
    values.setmodule(project_settings)
    values.setdict(overrides)
    return values


def test_built_from_the_settings_once_and_frozen() -> None:
    config = StoreConfig.from_settings(
        settings(
            NEWSARCHIVE_DATABASE_URL="sqlite:///x.db",
            NEWSARCHIVE_DB_BUSY_TIMEOUT=2.5,
            NEWSARCHIVE_STORE_BATCH_SIZE=0,  # at least one item per batch
            NEWSARCHIVE_STORE_BATCH_SECONDS=3,
            NEWSARCHIVE_DEADLETTER_DIR="/a",
            NEWSARCHIVE_DEADLETTER_FALLBACK_DIR="",  # none: one folder
            NEWSARCHIVE_NEAR_DUPLICATE_HOURS=1.5,
            NEWSARCHIVE_DB_RETRY_SECONDS=7,
        )
    )
    assert config == StoreConfig(
        url="sqlite:///x.db",
        busy_timeout=2.5,
        batch_size=1,
        batch_seconds=3.0,
        deadletter_dirs=(Path("/a"),),
        near_duplicate_window=timedelta(minutes=90),
        retry_seconds=7.0,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.url = "sqlite:///y.db"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(config)) == config  # sent to the writer process as it is
