"""The test tiers (tests/tiers.py) are sane, and the forked CLI (tests/cli_child.py) is a faithful
stand-in for ``python -m newsarchive`` in a new interpreter."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.faults import Fault
from newsarchive.samplesite.server import COLUMN_PATH, LOOPBACK_SETTINGS
from tests import tiers
from tests.cli_child import NEW_INTERPRETER_VARIABLE, fork_refused, run_command
from tests.conftest import REPO, run_cli

# --- the tiers --------------------------------------------------------------------------------------


def marked_tiers(item: pytest.Item) -> set[str]:
    return {mark.name for mark in item.iter_markers() if mark.name in tiers.TIERS}


@pytest.fixture
def collected(request: pytest.FixtureRequest) -> list[pytest.Item]:
    """Every test of the suite as collected, before ``-m`` or ``-k`` deselected any (the checks
    are about the whole suite: they are skipped when pytest was given only some files)."""
    items = request.config.stash[tiers.ALL_ITEMS]
    files = {item.nodeid.split("::")[0] for item in items}
    every_file = {path.relative_to(REPO).as_posix() for path in (REPO / "tests").rglob("test_*.py")}
    if not every_file <= files:
        pytest.skip("checks the tiers of the whole suite: run pytest (or pytest -m fast) naming no file")
    return items


def in_file(items: list[pytest.Item], *paths: str) -> list[pytest.Item]:
    found = [item for item in items if item.nodeid.split("::")[0] in paths]
    assert found, f"no test collected from {paths}"
    return found


def test_every_test_is_fast_or_has_a_reason_to_be_slow(collected: list[pytest.Item]) -> None:
    wrong = [
        item.nodeid
        for item in collected
        if not marked_tiers(item) or ("fast" in marked_tiers(item) and marked_tiers(item) != {"fast"})
    ]
    assert wrong == []


def test_parsers_and_cleaning_are_fast(collected: list[pytest.Item]) -> None:
    parsers_and_cleaning = [
        item for item in collected if item.nodeid.startswith(("tests/pages/", "tests/text/"))
    ]
    assert parsers_and_cleaning
    assert [item.nodeid for item in parsers_and_cleaning if marked_tiers(item) != {"fast"}] == []


def test_the_fast_tier_holds_most_tests(collected: list[pytest.Item]) -> None:
    fast = [item for item in collected if marked_tiers(item) == {"fast"}]
    assert len(fast) > len(collected) / 2


def test_crawls_through_the_cli_and_the_sample_site_are_e2e(collected: list[pytest.Item]) -> None:
    crawls = in_file(collected, "tests/test_e2e_crawl.py", "tests/test_e2e_replay.py", "tests/test_faults.py")
    sample_site = [item for item in collected if "session_site" in getattr(item, "fixturenames", ())]
    assert sample_site
    assert [item.nodeid for item in crawls + sample_site if "e2e" not in marked_tiers(item)] == []


def test_sigkill_tests_are_crash_tests(collected: list[pytest.Item]) -> None:
    killed = in_file(collected, "tests/test_crash.py")
    assert [item.nodeid for item in killed if "crash" not in marked_tiers(item)] == []


def test_postgresql_cases_are_service_tests_and_their_sqlite_twins_are_not(
    collected: list[pytest.Item],
) -> None:
    cases = {
        item.nodeid: item.callspec.params["db_url"]
        for item in collected
        if "db_url" in getattr(getattr(item, "callspec", None), "params", {})
    }
    assert set(cases.values()) == {"sqlite", "postgresql"}
    for item in collected:
        if item.nodeid in cases:
            assert ("services" in marked_tiers(item)) == (cases[item.nodeid] == "postgresql"), item.nodeid


# What the tiers see in helpers. The tests reach these only through SAMPLES, which the tiers do not
# follow: a test of the tiers is no crawl and no crash test.
def _crawls_through_the_cli() -> None:
    run_cli("crawl", "eastmoney", cwd=Path())


def _uses_a_helper() -> None:
    _crawls_through_the_cli()


class _OwnSite(SampleSite):
    pass


def _makes_a_site_of_its_own() -> None:
    _OwnSite()


def _kills_to_clean_up(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=1)
    finally:
        if process.poll() is None:
            process.kill()


def _kills_on_the_way_to_failing(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("still running")


def _kills_as_the_test(process: subprocess.Popen[bytes]) -> None:
    process.kill()


def _kills_when_it_overruns(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)


SAMPLES = types.SimpleNamespace(
    uses_a_helper=_uses_a_helper,
    makes_a_site_of_its_own=_makes_a_site_of_its_own,
    kills_to_clean_up=_kills_to_clean_up,
    kills_on_the_way_to_failing=_kills_on_the_way_to_failing,
    kills_as_the_test=_kills_as_the_test,
    kills_when_it_overruns=_kills_when_it_overruns,
)


def test_names_are_followed_through_helpers_and_classes() -> None:
    assert "run_cli" in tiers.referenced_names([SAMPLES.uses_a_helper])
    assert "SampleSite" in tiers.referenced_names([SAMPLES.makes_a_site_of_its_own])
    assert "run_cli" not in tiers.referenced_names([SAMPLES.kills_as_the_test])


def test_a_kill_to_clean_up_is_no_crash_test() -> None:
    assert tiers.kills(SAMPLES.kills_as_the_test)
    assert tiers.kills(SAMPLES.kills_when_it_overruns)
    assert not tiers.kills(SAMPLES.kills_to_clean_up)
    assert not tiers.kills(SAMPLES.kills_on_the_way_to_failing)


def test_the_tests_of_the_tiers_are_fast(collected: list[pytest.Item]) -> None:
    mine = [
        item
        for item in in_file(collected, "tests/test_tiers.py")
        if item.name
        in ("test_names_are_followed_through_helpers_and_classes", "test_a_kill_to_clean_up_is_no_crash_test")
    ]
    assert len(mine) == 2
    assert [marked_tiers(item) for item in mine] == [{"fast"}, {"fast"}]


# --- the CLI in a forked child ------------------------------------------------------------------


def both_ways(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> list[tuple[int, str, str]]:
    """The command run in a forked child and in a new interpreter: (code, stdout, stderr) each."""
    full_env = {**os.environ, **(env or {})}
    assert fork_refused(full_env) is None
    assert fork_refused({**full_env, NEW_INTERPRETER_VARIABLE: "1"}) is not None
    forked = run_command(args, cwd=cwd, env=full_env, timeout=120)
    new = run_command(args, cwd=cwd, env={**full_env, NEW_INTERPRETER_VARIABLE: "1"}, timeout=120)
    return [(done.returncode, done.stdout, done.stderr) for done in (forked, new)]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],  # click names the program as -m makes it: "python -m newsarchive"
        ["no-such-command"],  # a usage error: click's message and exit code 2
        ["runs"],  # the settings read NEWSARCHIVE_DATABASE_URL from the command's environment
        ["crawl", "no_such_spider"],
        ["export", "jsonl", "--out", "-"],
    ],
    ids=" ".join,
)
def test_a_forked_command_says_and_exits_as_a_new_interpreter_does(args: list[str], tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    forked, new = both_ways(args, tmp_path, {"NEWSARCHIVE_DATABASE_URL": missing})
    assert forked == new
    assert "Traceback" not in forked[2]


def test_a_forked_command_crawls_as_a_new_interpreter_does(site: SampleSite, tmp_path: Path) -> None:
    outcomes = []
    for name in ("forked", "new"):
        work = tmp_path / name
        work.mkdir()
        args = [
            "crawl", "eastmoney", "-a", "columns=344", "-a", "pages=1", "--db", f"sqlite:///{work / 'a.db'}",
            "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *LOOPBACK_SETTINGS,
        ]  # fmt: skip
        env = {**os.environ, "TZ": "UTC"} | ({NEW_INTERPRETER_VARIABLE: "1"} if name == "new" else {})
        done = run_command(args, cwd=work, env=env, timeout=120)
        outcomes.append((done.returncode, done.stdout.replace(str(work), "WORK"), done.stderr))
        assert done.returncode == 0, done.stderr[-3000:]
        assert (work / "data" / "warc").is_dir()  # the data folder of the command's directory
    (forked_code, forked_out, forked_err), (new_code, new_out, _) = outcomes
    assert forked_code == new_code
    assert forked_out.splitlines()[0] == new_out.splitlines()[0]
    assert "Traceback" not in forked_err


def test_the_forked_command_writes_nothing_into_the_tests_output(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    done = run_cli("--help", cwd=tmp_path)
    assert done.stdout.startswith("Usage: python -m newsarchive")
    assert capfd.readouterr() == ("", "")


def test_the_test_process_keeps_its_temporary_folders_and_its_environment(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        before = dict(os.environ)
        run_cli("runs", "--db", f"sqlite:///{tmp_path / 'missing.db'}", cwd=tmp_path, env={"TZ": "UTC"})
        assert Path(folder).is_dir()
        assert dict(os.environ) == before
        assert Path.cwd() != tmp_path


def test_a_command_that_overruns_is_killed_and_reported_as_subprocess_run_does(
    site: SampleSite, tmp_path: Path
) -> None:
    site.inject(COLUMN_PATH, Fault.STALL)
    args = [
        "crawl", "eastmoney", "-a", "columns=344", "-a", "pages=1", "--db", f"sqlite:///{tmp_path / 'a.db'}",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *LOOPBACK_SETTINGS,
    ]  # fmt: skip
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as expired:
        run_command(args, cwd=tmp_path, env=dict(os.environ), timeout=3)
    assert time.monotonic() - started < 30
    assert expired.value.cmd[:3] == [sys.executable, "-m", "newsarchive"]
    assert isinstance(expired.value.stderr, str)


def test_a_command_from_another_thread_runs_in_a_new_interpreter(tmp_path: Path) -> None:
    seen: list[Any] = []

    def in_a_thread() -> None:
        seen.append(fork_refused())
        seen.append(run_cli("--help", cwd=tmp_path))

    assert fork_refused() is None
    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join(timeout=120)
    reason, done = seen
    assert "main thread" in reason
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: python -m newsarchive")


def test_the_shared_sample_site_is_reset_between_tests(site: SampleSite) -> None:
    """Each test gets the site healthy and with no request log, whatever the one before did."""
    assert site.injections == [] and site.requests == [] and site.robots == {}
    site.inject(COLUMN_PATH, Fault.HTTP_500)
    site.robots["example.com"] = "User-agent: *\nDisallow: /\n"
    site.reset()
    assert site.injections == [] and site.requests == [] and site.robots == {}


def test_reset_lets_a_stalled_handler_go(tmp_path: Path) -> None:
    import urllib.request

    with SampleSite() as site:
        site.inject(COLUMN_PATH, Fault.STALL)
        answered: list[float] = []

        def ask() -> None:
            started = time.monotonic()
            with contextlib.suppress(OSError):  # any ending counts: only when it ends matters
                urllib.request.urlopen(f"{site.origin}{COLUMN_PATH}?req_trace=1", timeout=30).read()
            answered.append(time.monotonic() - started)

        asker = threading.Thread(target=ask)
        asker.start()
        deadline = time.monotonic() + 10
        while not site.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        site.reset()
        asker.join(timeout=30)
        assert answered and answered[0] < 15  # not the stall's 60 s
