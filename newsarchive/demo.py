"""``newsarchive demo``: serve the committed sample site on loopback, crawl it with the East Money
spiders, ``zqrb`` and every declared site through NEWSARCHIVE_REPLAY_ORIGIN, export Jekyll posts,
and say what happened. No network needed."""

from __future__ import annotations

from pathlib import Path

import click

from newsarchive.catalogue import JobError
from newsarchive.db.engine import DatabaseError, open_database
from newsarchive.db.repository import count_articles, iter_articles
from newsarchive.exitcodes import INTERRUPTED
from newsarchive.export.jekyll import write_jekyll
from newsarchive.runner import Job, RunError, project_settings, run_jobs
from newsarchive.samplesite import SampleSite
from newsarchive.views import read_archive

# Small pages so the demo walks several listing pages of the sample columns.
DEMO_JOBS = (
    Job("eastmoney", {"columns": "344,345", "page_size": "10", "pages": "10"}),
    Job("eastmoney_fast", {"page_size": "10", "pages": "10"}),
    Job("zqrb", {"columns": "finance/hangyedongtai,finance/hongguanjingji", "pages": "2"}),
    Job("cnstock", {"pages": "2"}),  # declared in newsarchive/sites/cnstock.toml
    Job("cs_com_cn", {"pages": "3"}),  # declared in newsarchive/sites/cs_com_cn.toml (GBK pages)
    Job("stcn", {}),  # newsarchive/sites/stcn.toml: one listing page (more rows come by XHR)
    Job("xinhua", {}),  # newsarchive/sites/xinhua.toml
)


def run_demo(db: str | None, out: Path) -> int:
    from newsarchive.cli import counted, fail, report

    posts = out / "_posts"
    try:  # before a minute of crawling, not after it
        posts.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"cannot write posts to {posts}: {error.strerror or error}")
    with SampleSite() as site:
        origin = site.start()
        click.echo(f"sample site serving {site.root} at {origin}")
        overrides = {
            "NEWSARCHIVE_REPLAY_ORIGIN": origin,
            "LOG_LEVEL": "WARNING",
            "NEWSARCHIVE_LOG_SUMMARY": False,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
        }
        if db:
            overrides["NEWSARCHIVE_DATABASE_URL"] = db
        settings = project_settings(overrides)
        url = settings.get("NEWSARCHIVE_DATABASE_URL")
        try:
            open_database(url).dispose()
            results = run_jobs(list(DEMO_JOBS), settings)
        except (DatabaseError, RunError, JobError) as error:
            fail(str(error))
        status = report(results)
        if status == INTERRUPTED:  # Ctrl-C: the jobs after the stopped one did not run; no export
            return status
        click.echo(
            f"sample site answered {len(site.requests)} requests "
            f"({sum(result.summary.article_pages for result in results)} article pages)"
        )
    try:
        total, written = read_archive(
            url, lambda session: (count_articles(session), write_jekyll(iter_articles(session), out).posts)
        )
    except DatabaseError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write posts to {posts}: {error.strerror or error}")
    click.echo(f"database {url} holds {counted(total, 'article')}")
    click.echo(f"exported {written} Jekyll posts to {posts}")
    click.echo("run the demo again: every article is already stored, so no article page is fetched")
    return status
