"""What ``newsarchive runs`` and ``newsarchive show`` print: the run history as an aligned table or
JSON, and one article with its revision history (unified diffs between versions) as text or JSON.

Times are shown in Asia/Shanghai with their offset: to the second in text
(:func:`~newsarchive.text.dates.shown_time`), ISO 8601 in JSON.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsarchive.counts import Recorded, recorded_value
from newsarchive.db.engine import DatabaseError, first_line, open_reader, session_factory
from newsarchive.db.models import ArticleRevision, ArticleRow, RunRow
from newsarchive.db.runs import effective_status, recent_runs
from newsarchive.export.records import article_record
from newsarchive.text.dates import SHANGHAI, shown_time

T = TypeVar("T")

NO_RUNS = "no runs recorded"
MAX_ARGUMENTS_WIDTH = 40  # the arguments column of the table; --json has them in full
# The largest LIMIT both SQLite and PostgreSQL accept (64-bit): a larger --limit overflowed in the
# driver; no archive holds that many runs, so it means "all of them".
LARGEST_LIMIT = 2**63 - 1
RUN_COLUMNS = (
    "id",
    "spider",
    "arguments",
    "started",
    "duration",
    "status",
    "new/unchanged/revised",
    "dropped",
    "errors",
)
ARTICLE_TIMES = ("first_seen_at", "last_seen_at", "fetched_at")


def read_archive(url: str, query: Callable[[Session], T]) -> T:
    """Open the archive at ``url`` read-only, run ``query`` in a read session, close.

    Nothing is created (a mistyped path is :class:`NoArchive`); every failure is a
    :class:`DatabaseError` with a one-line message."""
    engine = open_reader(url)
    try:
        with session_factory(engine)() as session:
            return query(session)
    except SQLAlchemyError as error:
        raise DatabaseError(f"cannot read database: {first_line(error)}") from None
    finally:
        engine.dispose()


# --- run history -----------------------------------------------------------------------------------


def runs_output(session: Session, spider: str | None, limit: int, *, as_json: bool) -> str:
    """``newsarchive runs``: the latest ``limit`` runs (of ``spider``) as a table or JSON."""
    rows = recent_runs(session, spider=spider, limit=min(limit, LARGEST_LIMIT))
    return runs_json(rows) if as_json else runs_table(rows)


def run_record(row: RunRow) -> dict[str, Any]:
    """Every field of a run, JSON-ready; ``status`` is the effective one (``interrupted`` inferred)."""
    return {
        "id": row.id,
        "job": row.job,
        "spider": row.spider,
        "arguments": dict(row.arguments),
        "started_at": iso_time(row.started_at),
        "finished_at": iso_time(row.finished_at),
        "duration_seconds": duration_seconds(row),
        "status": effective_status(row),
        "finish_reason": row.finish_reason,
        "host": row.host,
        "pid": row.pid,
        "counts": dict(row.counts),
    }


def runs_json(rows: Sequence[RunRow]) -> str:
    return json.dumps([run_record(row) for row in rows], ensure_ascii=False, indent=2)


def runs_table(rows: Sequence[RunRow]) -> str:
    """An aligned plain-text table, one run per line, newest first; a one-line message when empty."""
    if not rows:
        return NO_RUNS
    return "\n".join(aligned([RUN_COLUMNS, *(_run_cells(row) for row in rows)]))


def _run_cells(row: RunRow) -> tuple[str, ...]:
    counts = row.counts or {}
    finished = row.finished_at is not None and bool(counts)
    stored = "/".join(
        str(recorded_value(counts, name)) for name in (Recorded.NEW, Recorded.UNCHANGED, Recorded.REVISED)
    )
    errors = recorded_value(counts, Recorded.ERRORS).get("total", 0)
    return (
        str(row.id),
        row.spider,
        _shorten(" ".join(f"{name}={value}" for name, value in sorted(row.arguments.items()))),
        local_time(row.started_at),
        _duration(duration_seconds(row)),
        effective_status(row),
        stored if finished else "-",
        str(sum(recorded_value(counts, Recorded.DROPPED).values())) if finished else "-",
        str(errors) if finished else "-",
    )


def duration_seconds(row: RunRow) -> float | None:
    if row.finished_at is None:
        return None
    return round((row.finished_at - row.started_at).total_seconds(), 3)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_ARGUMENTS_WIDTH else text[: MAX_ARGUMENTS_WIDTH - 1] + "…"


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; CJK characters count as two columns, as terminals show."""
    widths = [max(display_width(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


# --- one article -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleHistory:
    """A stored article and its earlier versions, newest first."""

    article: ArticleRow
    revisions: list[ArticleRevision]


def article_output(session: Session, info_code: str, *, as_json: bool) -> str | None:
    """``newsarchive show``: the article with its history as text or JSON; None if not stored."""
    history = load_article(session, info_code)
    if history is None:
        return None
    return article_json(history) if as_json else article_text(history)


def load_article(session: Session, info_code: str) -> ArticleHistory | None:
    article = session.scalars(select(ArticleRow).where(ArticleRow.info_code == info_code)).one_or_none()
    if article is None:
        return None
    revisions = session.scalars(
        select(ArticleRevision)
        .where(ArticleRevision.info_code == info_code)
        .order_by(ArticleRevision.fetched_at.desc(), ArticleRevision.id.desc())
    )
    return ArticleHistory(article, list(revisions))


def article_json(history: ArticleHistory) -> str:
    """The article (every export field, its fetch times and content hash) with ``revisions``."""
    article = history.article
    record = article_record(article)
    record.update({name: iso_time(getattr(article, name)) for name in ARTICLE_TIMES})
    record["content_hash"] = article.content_hash
    record["revisions"] = [
        {
            "fetched_at": iso_time(revision.fetched_at),
            "replaced_at": iso_time(revision.replaced_at),
            "reason": revision.reason,
            "title": revision.title,
            "content_hash": revision.content_hash,
            "body_html": revision.body_html,
            "body_text": revision.body_text,
        }
        for revision in history.revisions
    ]
    return json.dumps(record, ensure_ascii=False, indent=2)


def article_text(history: ArticleHistory) -> str:
    """The article's fields, its body text, then each earlier version and what changed after it."""
    article = history.article
    fields = [
        ("info_code", article.info_code),
        ("title", article.title),
        ("published_at", local_time(article.published_at)),
        ("media", article.media or "-"),
        ("category", article.category or "-"),
        ("tags", ", ".join(article.tags or []) or "-"),
        ("url", article.url),
        ("feed", article.feed),
        *((name, local_time(getattr(article, name))) for name in ARTICLE_TIMES),
        ("duplicate_of", article.duplicate_of or "-"),
        ("extraction", article.extraction or "-"),
    ]
    width = max(len(name) for name, _ in fields) + 2
    lines = [f"{name + ':':<{width}}{value}" for name, value in fields]
    lines += ["", article.body_text, ""]
    lines += revision_lines(history)
    return "\n".join(lines)


def revision_lines(history: ArticleHistory) -> list[str]:
    """Each earlier version, newest first, diffed against the version that replaced it."""
    if not history.revisions:
        return ["no earlier versions"]
    lines = [f"{len(history.revisions)} earlier versions, newest first:"]
    newer_title, newer_text, newer_fetched = (
        history.article.title,
        history.article.body_text,
        history.article.fetched_at,
    )
    for revision in history.revisions:
        lines.append("")
        lines.append(
            f"version fetched {local_time(revision.fetched_at)}, "
            f"replaced {local_time(revision.replaced_at)} (by {revision.reason})"
        )
        if revision.title != newer_title:
            lines.append(f"title: {revision.title}")
        diff = difflib.unified_diff(
            revision.body_text.splitlines(),
            newer_text.splitlines(),
            fromfile=f"fetched {local_time(revision.fetched_at)}",
            tofile=f"fetched {local_time(newer_fetched)}",
            lineterm="",
        )
        lines += list(diff) or ["(body text unchanged)"]
        newer_title, newer_text, newer_fetched = revision.title, revision.body_text, revision.fetched_at
    return lines


# --- times -----------------------------------------------------------------------------------------


def local_time(value: datetime | None) -> str:
    return shown_time(value) if value is not None else "-"


def iso_time(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat() if value is not None else None
