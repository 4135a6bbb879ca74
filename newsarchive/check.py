"""``newsarchive check``: a canary for redesigns. Fetch each site's first listing page and its newest
article through Scrapy (robots.txt, user agent, delays and replay routing as a crawl has them), read
them with the site's own spider, parsers and item pipelines, and say per site which of its expected
fields (newsarchive.fields) the article has. Nothing is stored: no archive, no WARC file, no run
history. Exit codes: :data:`newsarchive.exitcodes.CHECK_FAILED` when a site fails its check.
Documented in docs/operations.md ("Checking the sites").
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.utils.reactor import install_reactor
from twisted.internet import defer
from twisted.internet.error import ReactorNotRunning

from newsarchive import exitcodes
from newsarchive.assemble import one_line
from newsarchive.catalogue import JobError
from newsarchive.fields import present
from newsarchive.interrupt import Interrupt
from newsarchive.items import Article
from newsarchive.logclock import use_shanghai_clock

# What a check's crawls run with, over the project's settings: the spiders are built as for a crawl,
# but on an empty in-memory archive (nothing of the real one is read or written), with no WARC file,
# job lock, run history, progress line or item pipeline (the article goes through the pipelines'
# steps by hand, up to the store: pipelines.article_steps).
CHECK_SETTINGS: dict[str, Any] = {
    "NEWSARCHIVE_DATABASE_URL": "sqlite://",
    "NEWSARCHIVE_WARC_ENABLED": False,
    "NEWSARCHIVE_JOB_LOCK": False,
    "EXTENSIONS": {"newsarchive.logclock.ShanghaiLogClock": 0},
    "ITEM_PIPELINES": {},
}


@dataclass
class SiteCheck:
    """What checking one site found. ``problem`` says why the site could not be judged (a fetch
    failed, the listing was unreadable or had no rows, the page gave no article); otherwise
    ``missing`` names the expected fields the newest article lacks."""

    site: str
    expected: tuple[str, ...]
    listing_url: str | None = None
    listed: int | None = None  # rows on the first listing page (None: not read)
    followed: int = 0  # of those, rows the spider would follow (its filters applied)
    article_url: str | None = None
    info_code: str | None = None
    found: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    dropped: list[str] = field(default_factory=list)  # what the item pipelines dropped it for
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.info_code is not None and not self.missing

    def fail(self, problem: str) -> None:
        """Record the first thing that went wrong (a later one is its consequence)."""
        if self.problem is None:
            self.problem = problem

    def listing_done(self) -> None:
        """The crawl is over: a listing read without rows, or never answered, is the problem."""
        if self.problem is not None or self.info_code is not None:
            return
        if self.listed is None:
            self.fail(f"listing {self.listing_url or '(none requested)'} was not read")
        elif not self.followed:
            rows = f"no rows ({self.listed} listed, none to follow)" if self.listed else "no rows"
            self.fail(f"listing {self.listing_url} gave {rows}")
        elif self.article_url is not None:
            self.fail(f"newest article {self.article_url} was not read")

    def judge(self, article: Article, steps: Sequence[Any]) -> None:
        """Put ``article`` through the item pipelines' ``steps`` (each one even after a drop, so
        every missing field shows) and note which expected fields it has."""
        self.info_code = article.info_code
        for step in steps:
            try:
                result = step.process_item(article)
            except DropItem as error:
                self.dropped.append(str(error).split(":", 1)[0])
                continue
            except Exception as error:  # a step that cannot take a half-read article
                self.dropped.append(one_line(error))
                continue
            if isinstance(result, Article):
                article = result
        self.found = tuple(name for name in self.expected if present(article, name))
        self.missing = tuple(name for name in self.expected if name not in self.found)

    def errors(self) -> list[str]:
        """One line per finding, each naming the site and what is wrong."""
        if self.problem is not None:
            return [f"{self.site}: {self.problem}"]
        dropped = f" (the pipelines would drop it: {', '.join(self.dropped)})" if self.dropped else ""
        return [
            f"{self.site}: newest article {self.article_url} has no {name}{dropped if index == 0 else ''}"
            for index, name in enumerate(self.missing)
        ]


def check_sites(names: Sequence[str], settings: Settings) -> tuple[list[SiteCheck], bool]:
    """Check the public spiders ``names`` (every one when empty), one after another, with the
    project ``settings`` (``-s`` overrides included). Returns a check per site and whether the run
    finished (False: Ctrl-C stopped it; the sites not reached have no check). An unknown or internal
    spider, or a broken site file, is a :class:`newsarchive.catalogue.JobError` before anything is
    fetched."""
    from scrapy.spiderloader import SpiderLoader

    from newsarchive.catalogue import check_job, spider_names
    from newsarchive.fields import expected_fields
    from pipelines import article_steps
    from spiders.base import ArchiveSpider
    from spiders.check import probe

    sites = list(dict.fromkeys(names)) or spider_names(settings)
    for name in sites:
        check_job(name, {}, settings)
    steps = article_steps(settings)  # the crawl's pipelines up to the store, built as `load` builds them
    loader = SpiderLoader.from_settings(settings)
    checks, probes = [], []
    for name in sites:
        spider_class = loader.load(name)
        if not issubclass(spider_class, ArchiveSpider):
            raise JobError(f"{name} is not a listing spider: it cannot be checked")
        try:
            expected = expected_fields(spider_class)
        except ValueError as error:
            raise JobError(str(error)) from None
        checks.append(SiteCheck(name, expected))
        probes.append(probe(spider_class, checks[-1], steps))
    crawl_settings = settings.copy()
    crawl_settings.setdict(CHECK_SETTINGS, priority="cmdline")
    finished = run_crawls(probes, crawl_settings)
    reached = [check for check in checks if finished or check.listing_url is not None]
    return reached, finished


def table(checks: Sequence[SiteCheck]) -> list[str]:
    """One line per site: its listing rows, its newest article, and its expected fields."""
    rows = [("site", "listing", "newest article", "fields")]
    for check in checks:
        listing = "-" if check.listed is None else f"{check.listed} rows"
        if check.problem is not None:
            verdict = f"FAILED: {check.problem}"
        elif check.missing:
            verdict = f"MISSING {', '.join(check.missing)} (found {', '.join(check.found) or 'none'})"
        else:
            verdict = f"ok: {', '.join(check.found)}"
        rows.append((check.site, listing, check.info_code or "-", verdict))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]).rstrip()
        for row in rows
    ]


def exit_code(checks: Sequence[SiteCheck]) -> int:
    return exitcodes.OK if all(check.ok for check in checks) else exitcodes.CHECK_FAILED


def run_crawls(spider_classes: Sequence[type[Any]], settings: Settings) -> bool:
    """Crawl each spider class in turn in one reactor (as :func:`newsarchive.runner.run_jobs`
    runs jobs): one site at a time, so two spiders of one site never fetch at once. A class
    whose spider cannot start is skipped (its check says why). Returns False when Ctrl-C stopped
    the run (the classes after the stopped one did not run)."""
    install_reactor(settings["TWISTED_REACTOR"])
    use_shanghai_clock()
    process = CrawlerProcess(settings)
    interrupt = Interrupt(process)

    @defer.inlineCallbacks
    def run_all() -> Generator[defer.Deferred[Any], Any, None]:
        for spider_class in spider_classes:
            if interrupt.requested:
                break
            try:
                yield process.crawl(spider_class)
            except Exception as error:  # a spider that cannot start: its check says so
                outcome = getattr(spider_class, "outcome", None)
                if isinstance(outcome, SiteCheck):
                    outcome.fail(f"could not start: {one_line(error)}")

    from twisted.internet import reactor as installed

    reactor: Any = installed

    def stop(result: Any) -> Any:
        if reactor.running:
            with contextlib.suppress(ReactorNotRunning):
                reactor.stop()
        else:
            reactor.callWhenRunning(reactor.stop)
        return result

    interrupt.install()
    try:
        done = run_all()
        done.addBoth(stop)
        process.start(stop_after_crawl=False, install_signal_handlers=False)
    finally:
        interrupt.uninstall()
    return not interrupt.requested
