"""Run spiders in-process (one after another) and collect a RunSummary per run.

Ctrl-C and SIGTERM are handled by newsarchive.interrupt: the running job stops cleanly and the jobs
after it do not start (their results say so: :attr:`JobResult.not_started`)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor
from twisted.internet import defer
from twisted.internet.error import ReactorNotRunning
from twisted.python.failure import Failure

from newsarchive.arguments import ArgumentError
from newsarchive.catalogue import check_job
from newsarchive.db.engine import DatabaseError
from newsarchive.interrupt import Interrupt
from newsarchive.locks import JobAlreadyRunning
from newsarchive.logclock import use_shanghai_clock
from newsarchive.scrapy_compat import crawl_stats
from newsarchive.summary import RunSummary

logger = logging.getLogger(__name__)


class RunError(RuntimeError):
    """A run that could not start or crashed: one line for the user."""


@dataclass
class Job:
    spider: str
    arguments: dict[str, str] = field(default_factory=dict)


@dataclass
class JobResult:
    job: Job
    summary: RunSummary
    failure: str | None = None
    already_running: str | None = None  # the job's lock was held: nothing ran (the one-line reason)
    unusable_database: str | None = None  # the crawl's owner could not open or check it: nothing ran
    config_error: bool = False  # the failure was a bad spider argument
    not_started: bool = False  # Ctrl-C came before this job started: nothing ran


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    settings = get_project_settings()
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


def run_jobs(jobs: Sequence[Job], settings: Settings, *, allow_internal: bool = False) -> list[JobResult]:
    """Run the jobs sequentially in one reactor; returns one result per job that ran, and one per
    job that a Ctrl-C kept from starting.

    Every job is checked first (:func:`newsarchive.catalogue.check_job`): a :class:`JobError`
    (unknown spider, bad argument) means nothing ran and nothing was recorded."""
    for job in jobs:
        check_job(job.spider, job.arguments, settings, allow_internal=allow_internal)
    # Install the configured (asyncio) reactor before anything imports the default one.
    install_reactor(settings["TWISTED_REACTOR"])
    process = _crawler_process(settings)
    interrupt = Interrupt(process)
    results: list[JobResult] = []

    @defer.inlineCallbacks
    def run_all() -> Generator[defer.Deferred[Any], Any, None]:
        for index, job in enumerate(jobs):
            if interrupt.requested:
                results.extend(JobResult(rest, RunSummary(), not_started=True) for rest in jobs[index:])
                break
            crawler: Crawler | None = None
            failure: str | None = None
            config_error = False
            try:
                crawler = process.create_crawler(job.spider)
                yield process.crawl(crawler, **job.arguments)
            except JobAlreadyRunning as error:
                results.append(JobResult(job, RunSummary(), already_running=str(error)))
                continue
            except DatabaseError as error:  # opened once per crawl (newsarchive.store.owner), refused
                results.append(JobResult(job, RunSummary(), unusable_database=str(error)))
                break  # the jobs after it would find the same database
            except ArgumentError as error:  # checked before the run: only a spider's own late check
                failure, config_error = _one_line(error), True
            except Exception as error:  # a spider that cannot start (database down, …)
                failure = _one_line(error)
            summary = RunSummary.from_stats(crawl_stats(crawler))
            results.append(JobResult(job, summary, failure, config_error=config_error))
            if failure:
                break

    from twisted.internet import reactor

    crashed: list[Failure] = []
    interrupt.install()  # before the first job starts: a Ctrl-C from now on stops it cleanly
    try:
        done = run_all()
        done.addErrback(crashed.append)
        done.addBoth(_stop_reactor, reactor)
        process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        interrupt.uninstall()
    if crashed:
        raise RunError(f"the run crashed: {crashed[0].getErrorMessage()}")
    return results


def _crawler_process(settings: Settings) -> CrawlerProcess:
    """Scrapy's process; it opens ``LOG_FILE`` as it starts, so a log file that cannot be opened
    (a mistyped path, a read-only folder) is a one-line :class:`RunError`, not a traceback."""
    use_shanghai_clock()  # before Scrapy's first log line
    try:
        return CrawlerProcess(settings)
    except OSError as error:
        raise RunError(f"cannot open log file {error.filename}: {error.strerror}") from None


def _stop_reactor(result: Any, reactor: Any) -> Any:
    if reactor.running:
        with contextlib.suppress(ReactorNotRunning):  # already shutting down
            reactor.stop()
    else:  # every job failed before the reactor started (e.g. a bad spider argument): stop on start
        reactor.callWhenRunning(reactor.stop)
    return result


def _one_line(error: BaseException) -> str:
    """The error's first line for the user; its class and traceback go to the log at DEBUG."""
    logger.debug("the run failed", exc_info=error)
    text = str(error).strip().splitlines()
    return text[0] if text else f"unexpected {type(error).__name__}"
