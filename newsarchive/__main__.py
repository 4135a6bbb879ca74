"""``python -m newsarchive`` is the ``newsarchive`` command (its entry point is :func:`main` too).

A Ctrl-C that reaches the command itself (while it loads Scrapy and SQLAlchemy, during an export,
a ``load``, ``runs``…) ends as a crawl's does: the stop line on stderr and exit 130, never a
traceback nor click's ``Aborted!`` with exit 1. A crawl handles its own Ctrl-C
(newsarchive.interrupt) and ends the same way. Exports replace their file only when complete, and
``load`` commits whole batches, so the same command run again finishes the job.
"""

from __future__ import annotations

import sys

from newsarchive.exitcodes import INTERRUPTED, STOPPED_LINE


def main() -> None:
    try:
        import click

        from newsarchive.cli import main as cli

        code = cli.main(standalone_mode=False)  # click's own handling, except for Ctrl-C
    except (KeyboardInterrupt, click.exceptions.Abort):
        print(f"\n{STOPPED_LINE}", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except click.ClickException as error:  # a usage error: click's message, click's exit code
        error.show()
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
