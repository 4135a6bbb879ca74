"""The exit codes of the ``newsarchive`` command, one per outcome an operator (or cron, or systemd)
reacts to differently. Documented in docs/operations.md ("Exit codes").

When a run has several outcomes the most severe wins, in this order: configuration error,
interrupted, already running, blocked, failed, check failed, nothing matched, nothing new, ok.
"""

from __future__ import annotations

OK = 0  # the run finished and stored something new (or had nothing to store: reparse, load, export)
FAILED = 1  # finished with errors: articles dead-lettered, listings unreadable, WARC not written …
CONFIG_ERROR = 2  # bad arguments, unknown spider, broken site file: nothing ran
NOTHING_NEW = 3  # the crawl finished cleanly and every listed article was already stored
BLOCKED = 4  # most responses were blocks (403, soft blocks, 429): the source is refusing us
ALREADY_RUNNING = 5  # the same job (spider and arguments) holds its lock: this run did nothing
NOTHING_MATCHED = 6  # the job's configuration matched nothing (a media filter no row matched, a column
# that listed nothing or answered 404 on its first page): a mistyped job, which schedulers must see
CHECK_FAILED = 7  # `newsarchive check`: a site's newest article lacks an expected field, its listing
# gave no rows, or a page could not be fetched or read: the site may have changed (docs/operations.md)
INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT) or SIGTERM: what was fetched is stored; run it again
# the last line on stderr of a run that exits INTERRUPTED (newsarchive.interrupt)
STOPPED_LINE = "newsarchive: stopped by Ctrl-C; run the same command again to continue"

_SEVERITY = (
    CONFIG_ERROR,
    INTERRUPTED,
    ALREADY_RUNNING,
    BLOCKED,
    FAILED,
    CHECK_FAILED,
    NOTHING_MATCHED,
    NOTHING_NEW,
    OK,
)


def most_severe(codes: list[int]) -> int:
    """The exit code of several runs (or several findings about one run)."""
    present = set(codes)
    return next((code for code in _SEVERITY if code in present), OK)
