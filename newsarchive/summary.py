"""The end-of-run summary (and progress line) computed from a crawl's stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DROPPED_PREFIX = "newsarchive/dropped/"
SKIPPED_PREFIX = "newsarchive/skipped/"
LISTING_ERROR_PREFIX = "newsarchive/listing_error/"


@dataclass
class RunSummary:
    responses: int = 0
    articles_fetched: int = 0
    kept: int = 0
    new: int = 0
    already_stored: int = 0
    near_duplicates: int = 0
    moved: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    listing_errors: dict[str, int] = field(default_factory=dict)
    listing_pages: int = 0
    download_errors: int = 0
    spider_errors: int = 0
    deadletter: int = 0
    warc_errors: int = 0
    warc_file: str | None = None
    finish_reason: str | None = None

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> RunSummary:
        def prefixed(prefix: str) -> dict[str, int]:
            return {
                key[len(prefix) :]: int(value)
                for key, value in sorted(stats.items())
                if key.startswith(prefix)
            }

        return cls(
            responses=int(stats.get("response_received_count", 0)),
            articles_fetched=int(stats.get("newsarchive/article_pages", 0)),
            kept=int(stats.get("item_scraped_count", 0)),
            new=int(stats.get("newsarchive/stored/new", 0)),
            already_stored=int(stats.get("newsarchive/stored/existing", 0))
            + int(stats.get("newsarchive/skipped/already_stored", 0)),
            near_duplicates=int(stats.get("newsarchive/near_duplicates_linked", 0)),
            moved=int(stats.get("newsarchive/stored/moved_to_preferred_feed", 0)),
            dropped=prefixed(DROPPED_PREFIX),
            skipped={k: v for k, v in prefixed(SKIPPED_PREFIX).items() if k != "already_stored"},
            listing_errors=prefixed(LISTING_ERROR_PREFIX),
            listing_pages=int(stats.get("newsarchive/listing_pages", 0)),
            download_errors=sum(
                int(v) for k, v in stats.items() if k.startswith("newsarchive/download_error/")
            ),
            spider_errors=sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/")),
            deadletter=int(stats.get("newsarchive/deadletter", 0)),
            warc_errors=int(stats.get("newsarchive/warc_errors", 0)),
            warc_file=stats.get("newsarchive/warc_file"),
            finish_reason=stats.get("finish_reason"),
        )

    @property
    def errors(self) -> int:
        return self.download_errors + self.spider_errors + sum(self.listing_errors.values())

    def progress_line(self) -> str:
        return (
            f"{self.responses} responses, {self.articles_fetched} article pages, {self.kept} articles kept "
            f"({self.new} written so far), {sum(self.dropped.values())} dropped, {self.errors} errors"
        )

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        out = [
            f"new articles stored:   {self.new}",
            f"already stored:        {self.already_stored}",
            f"near-duplicates linked: {self.near_duplicates}",
            f"moved to 7x24 feed:    {self.moved}",
            f"dropped:               {sum(self.dropped.values())}" + _breakdown(self.dropped),
            f"skipped:               {sum(self.skipped.values())}" + _breakdown(self.skipped),
            f"errors:                {self.errors}"
            + _breakdown(
                {**self.listing_errors, "download": self.download_errors, "spider": self.spider_errors}
            ),
            f"responses received:    {self.responses} ({self.articles_fetched} article pages)",
        ]
        if self.warc_file:
            out.append(f"raw responses in:      {self.warc_file}")
        return out


def _breakdown(counts: dict[str, int]) -> str:
    shown = {key: value for key, value in counts.items() if value}
    return f"  ({', '.join(f'{key}: {value}' for key, value in shown.items())})" if shown else ""
