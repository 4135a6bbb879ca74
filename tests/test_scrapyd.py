"""Deployment: ``scrapyd-deploy`` puts the project on a real Scrapyd (from PyPI) on loopback, which crawls
the sample site from the uploaded egg; the cron and systemd files in ``deploy/`` run real spiders
with arguments they accept and map the exit codes of ``newsarchive.exitcodes``."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from scrapy.spiderloader import SpiderLoader

from newsarchive import exitcodes
from newsarchive.catalogue import spider_names, spiders
from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.runs import recent_runs
from newsarchive.runner import project_settings
from newsarchive.samplesite import SampleSite
from tests.conftest import REPO
from tests.support import sample_codes, stored_rows

DEPLOY = REPO / "deploy"
PROJECT = "newsarchive"
DEADLINE = 45.0  # seconds for Scrapyd to answer and for the scheduled job to finish (it takes ~3)
T = TypeVar("T")


@dataclass
class Scrapyd:
    """A Scrapyd process serving on loopback from its own folder (config, eggs, logs, queues)."""

    url: str
    root: Path
    process: subprocess.Popen[bytes]

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        with urlopen(f"{self.url}{endpoint}?{urlencode(params)}", timeout=10) as response:
            return dict(json.load(response))

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
        with urlopen(self.url + endpoint, data=urlencode(fields).encode(), timeout=10) as response:
            return dict(json.load(response))

    def output(self) -> str:
        return tail(self.root / "scrapyd.out")

    def job_log(self, spider: str, job: str) -> str:
        return tail(self.root / "logs" / PROJECT / spider / f"{job}.log")

    def stop(self) -> None:
        """SIGTERM to Scrapyd and any crawl it started (its own process group), SIGKILL if they linger."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue


def tail(path: Path, size: int = 6000) -> str:
    if not path.exists():
        return f"({path} was not written)"
    return path.read_text(encoding="utf-8", errors="replace")[-size:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def poll(check: Callable[[], T | None], what: str, on_timeout: Callable[[], str]) -> T:
    """Call ``check`` until it returns something other than None, for at most DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        result = check()
        if result is not None:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what} within {DEADLINE:.0f} s\n{on_timeout()}")


SCRAPYD_CONF = """\
[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = {root}/eggs
logs_dir = {root}/logs
dbs_dir = {root}/dbs
items_dir =
jobs_dir =
max_proc = 1
poll_interval = 0.2
"""


def start_scrapyd(root: Path) -> Scrapyd:
    """Scrapyd on a free loopback port, run from ``root`` so it reads ``root/scrapyd.conf``.

    HOME is ``root`` too, so a ``~/.scrapyd.conf`` (read after the working directory's) cannot
    change the test's setup. Another process may take the port between the probe and the bind:
    then Scrapyd exits and is started again on another port."""
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith(("SCRAPY", "NEWSARCHIVE_"))
    }
    env = {**inherited, "HOME": str(root)}  # the egg's entry point picks the settings module
    for _attempt in range(3):
        port = free_port()
        (root / "scrapyd.conf").write_text(SCRAPYD_CONF.format(port=port, root=root), encoding="utf-8")
        with (root / "scrapyd.out").open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "scrapyd", "--pidfile="],
                cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        scrapyd = Scrapyd(f"http://127.0.0.1:{port}/", root, process)

        def answering(scrapyd: Scrapyd = scrapyd) -> bool | None:
            if scrapyd.process.poll() is not None:
                return False
            try:
                return scrapyd.get("daemonstatus.json")["status"] == "ok" or None
            except (URLError, OSError):
                return None

        try:
            if poll(answering, "Scrapyd did not answer daemonstatus.json", scrapyd.output):
                return scrapyd
        except BaseException:  # pytest.fail at the deadline: do not leave it running
            scrapyd.stop()
            raise
        scrapyd.stop()
    pytest.fail(f"Scrapyd did not start\n{scrapyd.output()}")


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[Scrapyd]:
    root = tmp_path / "scrapyd"
    root.mkdir()
    server = start_scrapyd(root)
    try:
        yield server
    finally:
        server.stop()


def project_copy(destination: Path) -> Path:
    """The files ``scrapyd-deploy`` packs, copied so its build folders never land in the work tree."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        pattern.rstrip("*.") for pattern in config["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in sorted(packages):
        shutil.copytree(REPO / package, destination / package, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md"):
        shutil.copy2(REPO / name, destination / name)
    return destination


def deploy(scrapyd: Scrapyd, tmp_path: Path) -> dict[str, Any]:
    """``scrapyd-deploy loopback`` from a copy of the project, as an operator would run it.

    The ``loopback`` target lives in the user's Scrapy config ($XDG_CONFIG_HOME/scrapy.cfg) and takes
    the project name from the repository's ``[deploy]`` section."""
    config_home = tmp_path / "config"
    config_home.mkdir()
    (config_home / "scrapy.cfg").write_text(f"[deploy:loopback]\nurl = {scrapyd.url}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy", "loopback", "--version", "r1"],
        cwd=project_copy(tmp_path / "project"),
        env={**os.environ, "XDG_CONFIG_HOME": str(config_home), "TMPDIR": str(tmp_path)},
        capture_output=True, text=True, timeout=DEADLINE, check=False,
    )  # fmt: skip
    detail = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}\n{scrapyd.output()}"
    assert result.returncode == 0, detail
    response: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert response["status"] == "ok", detail  # Scrapyd answers errors with HTTP 200 too
    return response


def test_scrapyd_crawls_the_sample_site_from_the_deployed_egg(
    scrapyd: Scrapyd, site: SampleSite, tmp_path: Path
) -> None:
    names = list(spiders(project_settings()))  # Scrapy lists the internal reparse spider too
    deployed = deploy(scrapyd, tmp_path)
    listed = sorted(scrapyd.get("listspiders.json", project=PROJECT)["spiders"])
    # every spider, the declared sites too: their site files are package data read from the egg
    assert listed == names, "the deployed egg lacks spiders (package data not readable from it?)"
    assert (deployed["project"], deployed["spiders"]) == (PROJECT, len(names))

    db_url = f"sqlite:///{tmp_path / 'archive.db'}"
    warc_dir = tmp_path / "warc"
    settings = {
        "NEWSARCHIVE_DATABASE_URL": db_url,
        "NEWSARCHIVE_REPLAY_ORIGIN": site.origin,
        "NEWSARCHIVE_WARC_DIR": str(warc_dir),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
    }
    scheduled = scrapyd.post(
        "schedule.json",
        [("project", PROJECT), ("spider", "eastmoney"), ("columns", "344,345"), ("page_size", "10")]
        + [("setting", f"{name}={value}") for name, value in settings.items()],
    )
    assert scheduled["status"] == "ok", scheduled
    job = str(scheduled["jobid"])

    def finished() -> bool | None:
        jobs = scrapyd.get("listjobs.json", project=PROJECT)
        return any(entry["id"] == job for entry in jobs["finished"]) or None

    poll(finished, f"job {job} did not finish", lambda: scrapyd.job_log("eastmoney", job) + scrapyd.output())
    log = f"job log:\n{scrapyd.job_log('eastmoney', job)}\nscrapyd:\n{scrapyd.output()}"

    assert set(stored_rows(db_url)) == sample_codes("344", "345"), log
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        runs = [
            (run.spider, run.arguments, run.status, run.finished_at is not None)
            for run in recent_runs(session)
        ]
    engine.dispose()
    # Scrapyd's own _job argument is not part of the job: the run history and job lock key stay stable
    assert runs == [("eastmoney", {"columns": "344,345", "page_size": "10"}, "ok", True)], log
    assert len(list(warc_dir.glob("*.warc.gz"))) == 1, log  # the settings reached the crawl


# --- cron and systemd ---------------------------------------------------------------------------

README = (REPO / "README.md").read_text(encoding="utf-8")
CRAWL = re.compile(r"newsarchive crawl (?P<spider>\S+)(?P<arguments>(?: -a \S+)*)")


def crontab_jobs() -> list[str]:
    lines = (DEPLOY / "newsarchive.crontab").read_text(encoding="utf-8").splitlines()
    return [
        line for line in lines if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]


def systemd_jobs() -> dict[str, dict[str, str]]:
    """deploy/jobs/<instance>.env: the variables of each newsarchive-crawl@<instance> job."""
    jobs = {}
    for path in sorted((DEPLOY / "jobs").glob("*.env")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
        jobs[path.stem] = {key: " ".join(shlex.split(value)) for key, value in pairs}
    return jobs


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep systemd's CamelCase keys
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_the_crontab_is_the_readme_schedule() -> None:
    blocks = re.findall(r"```cron\n(.*?)\n```", README, re.S)
    assert blocks, "the README shows the crontab"
    assert crontab_jobs() == blocks[0].splitlines()


def test_every_scheduled_crawl_names_a_spider_and_arguments_it_takes() -> None:
    settings = project_settings()
    loader = SpiderLoader.from_settings(settings)
    commands = [match.group(0) for line in crontab_jobs() if (match := CRAWL.search(line))]
    commands += [
        f"newsarchive crawl {job['CRAWL_SPIDER']} {job['CRAWL_ARGS']}" for job in systemd_jobs().values()
    ]
    assert len(commands) >= 4  # two five-minute jobs, in cron and as systemd instances
    for command in commands:
        match = CRAWL.fullmatch(command)
        assert match, command
        assert match["spider"] in spider_names(settings), command
        names = {pair.split("=", 1)[0] for pair in match["arguments"].split(" -a ") if pair}
        accepted = {argument.name for argument in loader.load(match["spider"]).accepted_arguments()}
        assert names <= accepted, command


def test_the_systemd_units_map_exit_codes_and_stop_scrapy_cleanly() -> None:
    service = unit("newsarchive-crawl@.service")["Service"]
    assert {int(code) for code in service["SuccessExitStatus"].split()} == {
        exitcodes.NOTHING_NEW,
        exitcodes.ALREADY_RUNNING,
        exitcodes.INTERRUPTED,  # the unit stops a run with SIGINT: it stored what it fetched
    }  # not NOTHING_MATCHED: a mistyped media filter or column must fail the unit
    assert service["KillSignal"] == "SIGINT"  # Scrapy's graceful shutdown: the last batch is stored
    assert "$CRAWL_SPIDER $CRAWL_ARGS" in service["ExecStart"]
    assert service["Type"] == "oneshot"
    timer = unit("newsarchive-crawl@.timer")["Timer"]
    assert timer["Persistent"] == "true"
    assert timer["OnCalendar"] == "*:0/5"
