"""Spider arguments (``-a NAME=VALUE``) as data.

Each spider declares the arguments it takes (:class:`SpiderArgument`: name, one line of help, the
default in words, a check). The same declaration serves three places, so they cannot disagree:

- the command checks a job's arguments before anything runs (an argument error is not a run: no
  summary, no run recorded, exit 2, the accepted arguments printed);
- the spider checks them again in ``from_crawler`` (``scrapy crawl`` and Scrapyd start spiders
  without our command);
- ``newsarchive spiders`` and each command's help list them.

Every check raises :class:`ArgumentError` with one line naming the argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from newsarchive.window import DateWindow

SCRAPYD_JOB = "_job"  # Scrapyd's job id, passed as an argument: not part of the job


class ArgumentError(ValueError):
    """A spider argument that is unknown, empty or malformed: one line for the user."""


@dataclass(frozen=True)
class SpiderArgument:
    """One ``-a NAME=VALUE`` a spider takes."""

    name: str
    help: str  # one line
    default: str = ""  # what leaving it out means, in words ("all", "the four news columns", …)
    check: Callable[[str, str], object] | None = None  # (value, name); raises ArgumentError

    def usage(self, default: str | None = None) -> str:
        """``-a name=…  help (default: …)``; ``default`` replaces the declared words (with the
        settings' values filled in, say)."""
        default = self.default if default is None else default
        said = f" (default: {default})" if default else ""
        return f"{'-a ' + self.name + '=…':<16} {self.help}{said}"


def split_list(value: str | None, name: str = "argument") -> list[str]:
    """``344,345`` → ["344", "345"] (a full-width ``，`` too). Not given → []; given but empty is an
    error: ``-a columns=`` must not quietly mean the defaults."""
    if value is None:
        return []
    parts = [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    if not parts:
        raise ArgumentError(f"spider argument {name} is empty")
    return parts


def single_value(value: str, name: str) -> str:
    """A one-word argument such as a column id: given but empty is an error."""
    if not value.strip():
        raise ArgumentError(f"spider argument {name} is empty")
    return value.strip()


def positive_int(value: str | None, name: str, default: int = 0) -> int:
    """A count such as ``pages``: not given (or empty) → ``default``."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ArgumentError(f"spider argument {name} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ArgumentError(f"spider argument {name} must be a positive integer, got {value!r}")
    return number


def date_window(arguments: Mapping[str, str]) -> DateWindow | None:
    """A backfill's ``since`` / ``until`` (Asia/Shanghai), or None when ``since`` is not given."""
    since, until = arguments.get("since"), arguments.get("until")
    if since is None:
        if until is not None:
            raise ArgumentError("spider argument until needs since")
        return None
    try:
        return DateWindow.parse(since, until)
    except ValueError as error:
        raise ArgumentError(str(error)) from None


# Every listing spider takes these (`newsarchive backfill` passes the window as since / until).
PAGES = SpiderArgument(
    "pages",
    "listing pages to read per column",
    "NEWSARCHIVE_MAX_PAGES; a backfill pages back to since",
    lambda value, name: positive_int(value, name),
)
SINCE = SpiderArgument(
    "since", "oldest day to archive, YYYY-MM-DD[ HH:MM] Asia/Shanghai (what backfill --since sets)"
)
UNTIL = SpiderArgument("until", "last day to archive (what backfill --until sets)", "up to now")
WINDOW = (SINCE, UNTIL)


def check_arguments(spider: str, declared: Sequence[SpiderArgument], given: Mapping[str, str]) -> None:
    """Raise :class:`ArgumentError` for the first unknown, empty or malformed argument in ``given``."""
    by_name = {argument.name: argument for argument in declared}
    for name in sorted(given):
        if name == SCRAPYD_JOB:
            continue
        argument = by_name.get(name)
        if argument is None:  # a typo such as -a medias=… must not silently crawl everything
            known = ", ".join(by_name) or "none"
            raise ArgumentError(f"unknown spider argument {name!r} for {spider} (known: {known})")
        if argument.check is not None:
            argument.check(str(given[name]), name)
    if "since" in by_name:
        date_window(given)


def job_arguments(given: Mapping[str, object]) -> dict[str, str]:
    """The arguments that make up the job (lock key, run history): Scrapyd's job id left out."""
    return {name: str(value) for name, value in sorted(given.items()) if name != SCRAPYD_JOB}


@dataclass(frozen=True)
class ListingJob:
    """What every listing spider's arguments ask for, parsed once (its own listings, media and
    the like are its own): ``arguments`` as recorded with the run (the job), the backfill
    ``window`` (None: an incremental crawl) and ``pages`` (None: the setting's default)."""

    arguments: dict[str, str]
    window: DateWindow | None = None
    pages: int | None = None

    @classmethod
    def parse(cls, given: Mapping[str, object]) -> ListingJob:
        """From the ``-a`` arguments as the spider received them; :class:`ArgumentError` when one
        is malformed (Scrapyd's job id is left out of the job)."""
        pages = given.get("pages")
        return cls(
            arguments=job_arguments(given),
            window=date_window({name: str(value) for name, value in given.items()}),
            pages=positive_int(None if pages is None else str(pages), "pages") or None,
        )
