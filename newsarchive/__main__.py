"""``python -m newsarchive`` is the ``newsarchive`` command (its entry point is :func:`main` too).

The CLI is imported inside :func:`main`, so a Ctrl-C while it loads (Scrapy, SQLAlchemy: a second
or two) ends as any other Ctrl-C does, with the stop line and exit 130 instead of a traceback.
"""

from __future__ import annotations

import sys

from newsarchive.exitcodes import INTERRUPTED, STOPPED_LINE


def main() -> None:
    try:
        from newsarchive.cli import main as cli
    except KeyboardInterrupt:
        print(STOPPED_LINE, file=sys.stderr)
        sys.exit(INTERRUPTED)
    cli()


if __name__ == "__main__":
    main()
