"""The store's writer process when its crawl dies under it (issue 13 point 13): it stops quietly,
never printing a traceback into the crawl's log, whatever moment the crawl was killed at."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from newsarchive.db.engine import open_database
from newsarchive.store.config import StoreConfig
from tests.test_deadletter import article


def start_writer(sqlite_url: str) -> subprocess.Popen[bytes]:
    open_database(sqlite_url).dispose()  # the crawl checks the schema before the first batch
    child = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.db.writer_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None
    pickle.dump((StoreConfig(sqlite_url, 1.0, retry_seconds=1.0), False), child.stdin)
    child.stdin.flush()
    return child


def ended_quietly(child: subprocess.Popen[bytes]) -> None:
    assert child.stderr is not None
    assert child.wait(timeout=60) == 0
    assert child.stderr.read().decode() == ""


def test_the_crawl_dying_while_a_batch_is_written(sqlite_url: str) -> None:
    child = start_writer(sqlite_url)
    assert child.stdin is not None and child.stdout is not None
    child.stdout.close()  # SIGKILL: nobody will read the batch's result
    pickle.dump(([article(1)], []), child.stdin)
    child.stdin.close()
    ended_quietly(child)


@pytest.mark.parametrize("cut", [1, 10, 100])
def test_the_crawl_dying_in_the_middle_of_sending_a_batch(sqlite_url: str, cut: int) -> None:
    child = start_writer(sqlite_url)
    assert child.stdin is not None
    message = pickle.dumps(([article(1), article(2)], []), protocol=pickle.HIGHEST_PROTOCOL)
    child.stdin.write(message[:cut])  # the rest never comes
    child.stdin.close()
    ended_quietly(child)
