"""Shared fixtures: databases (SQLite file, PostgreSQL per-test database), one sample site for the
session, the CLI in a forked child (tests.cli_child), and the test tiers (tests.tiers)."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from newsarchive.db.scratch import PostgresUnreachable, scratch_postgres
from newsarchive.samplesite import SampleSite
from tests import tiers
from tests.cli_child import run_command

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("NEWSARCHIVE_REQUIRE_SERVICES") == "1"


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by the markers given here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test gets its tier marker (fast, or e2e/crash/services): ``pytest -m fast``."""
    tiers.assign(items)
    config.stash[tiers.ALL_ITEMS] = list(items)


@pytest.fixture(autouse=True, scope="session")
def _fallback_dead_letters_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Dead letters the configured folder of a test cannot take go to a temporary folder, never to
    the fallback in the user's home (settings.NEWSARCHIVE_DEADLETTER_FALLBACK_DIR); subprocesses
    inherit it."""
    folder = tmp_path_factory.mktemp("fallback-deadletter")
    os.environ["NEWSARCHIVE_DEADLETTER_FALLBACK_DIR"] = str(folder)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


def _scratch_postgres(stack: ExitStack) -> str:
    """A brand-new PostgreSQL database, dropped when ``stack`` closes; skips the test (or fails it
    when services are required) if the server is not there."""
    try:
        return stack.enter_context(scratch_postgres(POSTGRES_ADMIN_URL, "newsarchive_test"))
    except PostgresUnreachable as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"{error} (NEWSARCHIVE_REQUIRE_SERVICES=1)")
        pytest.skip(str(error))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    with ExitStack() as stack:
        yield _scratch_postgres(stack)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run a database-facing test on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """For a test that needs several brand-new databases of one dialect (each call makes one), run
    on SQLite and on PostgreSQL; all are dropped afterwards."""
    with ExitStack() as stack:
        made = itertools.count()
        if request.param == "sqlite":
            yield lambda: f"sqlite:///{tmp_path / f'archive-{next(made)}.db'}"
        else:
            yield lambda: _scratch_postgres(stack)


@pytest.fixture(scope="session")
def session_site() -> Iterator[SampleSite]:
    """The committed sample site, serving on an ephemeral loopback port for the whole session
    (each xdist worker has its own); tests take it through :func:`site`."""
    with SampleSite() as sample:
        yield sample


@pytest.fixture
def site(session_site: SampleSite) -> SampleSite:
    """The committed sample site, as healthy and unrequested as a new one (:meth:`SampleSite.reset`):
    shared by the session, so a test may inject faults but must not change its data."""
    session_site.reset()
    session_site.start()  # again, if a test stopped it (on a new port: read ``site.origin``)
    return session_site


@pytest.fixture
def cli_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process CLI commands resolve ``data/`` against the working directory: keep it in tmp."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m newsarchive ARGS`` in a process of its own (each crawl needs its own
    reactor): a forked child of the test process that behaves as a new one, with Scrapy and the
    rest imported already (tests.cli_child), or a new interpreter where a fork is not safe."""
    return run_command(args, cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout)


@contextmanager
def small_disk(folder: Path, size_kb: int) -> Iterator[Path]:
    """A real filesystem of ``size_kb`` KiB mounted at ``folder`` (tmpfs) for full-disk tests:
    writes past its size fail with ENOSPC, as on a full data disk. Needs mount privileges (root
    in the sandbox and on CI); without them the test is skipped, or fails when services are required."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0777", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a small tmpfs for a full-disk test: {mounted.stderr.strip()}"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (NEWSARCHIVE_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill_disk(folder: Path, leave_bytes: int = 0) -> None:
    """Fill the filesystem holding ``folder`` until at most ``leave_bytes`` are free."""
    filler = folder / ".filler"
    with filler.open("ab") as stream:
        chunk = b"\0" * 4096
        try:
            while os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize > leave_bytes:
                stream.write(chunk)
                stream.flush()
        except OSError:
            pass
