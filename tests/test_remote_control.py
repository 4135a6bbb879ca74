"""Scrapy 2.19's remote control (a localhost HTTP server that runs code sent to it, its token in a
job file under the user's state folder) stays off in newsarchive's crawls (issue 13 point 14)."""

from __future__ import annotations

from pathlib import Path

from newsarchive.runner import project_settings
from newsarchive.samplesite import SampleSite
from tests.conftest import run_cli
from tests.support import FAST_SETTINGS


def test_the_project_settings_turn_remote_control_off() -> None:
    assert project_settings().getbool("REMOTE_CONTROL_ENABLED") is False


def test_a_crawl_opens_no_remote_control_server_and_writes_no_job_file(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    state = tmp_path / "state"  # where platformdirs puts Scrapy's job_files folder
    result = run_cli(
        "crawl", "eastmoney", "-a", "columns=345", "-a", "page_size=5", "-a", "pages=1",
        "--db", sqlite_url, "--log-level", "INFO",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS,
        cwd=tmp_path, env={"HOME": str(home), "XDG_STATE_HOME": str(state)},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Enabled extensions" in result.stderr  # the INFO lines that would name it are there
    assert "RemoteControl" not in result.stderr
    assert "Remote control HTTP server" not in result.stderr
    # the job file is deleted when the crawl stops; the folder it was written in stays behind
    assert not list(state.rglob("*")) and not list(home.rglob("*job_files*"))
