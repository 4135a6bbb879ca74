"""The fields an article is judged by, in one place: those every site's articles must carry
(``newsarchive check``, docs/operations.md "Checking the sites") and those counted on every run
(pipelines/coverage.py) and watched between runs (newsarchive.monitor).

A field is named by what it means, not by the Article attribute holding it: ``published`` is the
parsed ``published_at``, ``body`` the cleaned ``body_text`` (what the pipelines keep).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from newsarchive.items import Article

# An article without one of these is dropped (pipelines/validate.py, clean.py, dates.py).
ESSENTIAL_FIELDS = ("title", "published", "body")
# Optional fields each run counts (newsarchive/field_present/<name>) and the monitor warns about
# when a job's articles usually carry one and stop carrying it.
COVERED_FIELDS = ("media", "summary", "author")
# What `newsarchive check` requires of every site's newest article unless the site says otherwise
# (every source names its outlet: a listing row, the page's 来源 line, or the site file's media).
EXPECTED_FIELDS = (*ESSENTIAL_FIELDS, "media")

_VALUES: dict[str, Callable[[Article], Any]] = {
    "title": lambda article: article.title,
    "published": lambda article: article.published_at,
    "body": lambda article: article.body_text,
    "media": lambda article: article.media,
    "summary": lambda article: article.summary,
    "author": lambda article: article.author,
}
KNOWN_FIELDS = tuple(_VALUES)


def present(article: Article, name: str) -> bool:
    """Whether ``article`` carries field ``name`` (one of :data:`KNOWN_FIELDS`): a value that is
    not empty nor only white space."""
    value = _VALUES[name](article)
    return bool(value.strip()) if isinstance(value, str) else value is not None


def expected_fields(site: object) -> tuple[str, ...]:
    """The fields ``site`` (a spider class) requires of its articles: its ``expected_fields`` if it
    declares some (the essential ones always included), else :data:`EXPECTED_FIELDS`. A name not in
    :data:`KNOWN_FIELDS` is a ValueError naming the site."""
    declared = getattr(site, "expected_fields", None)
    if declared is None:
        return EXPECTED_FIELDS
    unknown = [name for name in declared if name not in _VALUES]
    if unknown:
        owner = getattr(site, "name", site)
        raise ValueError(
            f"{owner}: expected_fields: unknown field {unknown[0]!r} (known: {', '.join(KNOWN_FIELDS)})"
        )
    return tuple(dict.fromkeys((*ESSENTIAL_FIELDS, *declared)))
