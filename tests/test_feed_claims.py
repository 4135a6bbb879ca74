"""Feed claims are orders to the store, not items (issue 15 item 1): a 7x24 run over stored articles
puts nothing through the pipelines (nothing kept, no field coverage), fetches no article page, and,
when nothing needs moving, starts no writer process; reparse moves an article to the 7x24 feed by
the same claim a crawl makes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from newsarchive.db.engine import open_database, session_factory
from newsarchive.db.runs import recent_runs
from newsarchive.items import COLUMN_FEED, FAST_FEED, Article
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import LOOPBACK_SETTINGS
from newsarchive.store.batches import BatchStore
from newsarchive.store.claims import FeedClaim, listing_claim
from newsarchive.store.config import StoreConfig
from tests.conftest import run_cli
from tests.support import SAMPLE_EASTMONEY, crawl, fetched_codes, stored_rows

CODE = "NW202204292366280343"
FAST = ("-a", "page_size=10", "-a", "pages=2")
WRITER_STARTED = "started the store's writer process"


def test_only_the_preferred_feed_claims_and_its_digest_is_plain_text() -> None:
    assert listing_claim(CODE, COLUMN_FEED, "摘要") is None
    # a claim's summary replaces the stored row's digest (newsarchive.db.repository): plain text
    claim = listing_claim(CODE, FAST_FEED, "[x](javascript:1) <img src=x onerror=alert(1)>")
    assert claim == FeedClaim(CODE, FAST_FEED, "[x](javascript:1)", "emnews", ("东财滚动新闻",))
    assert listing_claim(CODE, FAST_FEED, "") == FeedClaim(CODE, summary=None)


def test_a_claim_moves_an_article_as_the_store_moves_a_row() -> None:
    article = Article(info_code=CODE, url="https://x/a.html", feed=COLUMN_FEED, summary="页面摘要")
    FeedClaim(CODE, summary=None).apply_to(article)  # no digest: the article keeps its own
    assert (article.feed, article.category, article.tags, article.summary) == (
        FAST_FEED,
        "emnews",
        ["东财滚动新闻"],
        "页面摘要",
    )
    on_it = Article(info_code=CODE, url="https://x/a.html", feed=FAST_FEED, summary="快讯")
    FeedClaim(CODE, summary="别的").apply_to(on_it)  # nothing changes an article on the feed
    assert (on_it.feed, on_it.summary, on_it.category) == (FAST_FEED, "快讯", None)


def crawl_fast_debug(site: SampleSite, db_url: str, cwd: Path) -> tuple[str, str]:
    """A 7x24 crawl logging at DEBUG, so the writer process's start shows; (stdout, stderr)."""
    result = run_cli(
        "crawl", "eastmoney_fast", *FAST, "--db", db_url, "--log-level", "DEBUG",
        "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *LOOPBACK_SETTINGS, cwd=cwd,
    )  # fmt: skip
    assert result.returncode in (0, 3), result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stdout, result.stderr


def last_run_counts(db_url: str) -> dict[str, Any]:
    engine = open_database(db_url)
    try:
        with session_factory(engine)() as session:
            return dict(recent_runs(session, spider="eastmoney_fast", limit=1)[0].counts)
    finally:
        engine.dispose()


def test_a_7x24_run_over_stored_articles_keeps_nothing_fetches_nothing_starts_no_writer(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    _, first = crawl_fast_debug(site, sqlite_url, tmp_path)
    assert WRITER_STARTED in first  # the first run stored 20 articles through its writer
    assert last_run_counts(sqlite_url)["kept"] == 20
    before = stored_rows(sqlite_url)

    site.clear_requests()
    _, second = crawl_fast_debug(site, sqlite_url, tmp_path)

    assert site.article_requests() == []
    counts = last_run_counts(sqlite_url)
    assert (counts["kept"], counts["fields_present"], counts["article_pages"]) == (0, {}, 0)
    assert counts["moved"] == 0
    assert WRITER_STARTED not in second  # nothing to move: the store never wrote
    assert stored_rows(sqlite_url) == before


def test_a_7x24_run_claiming_column_articles_moves_them_and_keeps_nothing(
    site: SampleSite, sqlite_url: str, tmp_path: Path
) -> None:
    crawl("eastmoney", site.origin, sqlite_url, tmp_path, "-a", "columns=344,345", "-a", "page_size=10")
    rows = json.loads((SAMPLE_EASTMONEY / "fastnews" / "102.json").read_text(encoding="utf-8"))
    in_both = {f"NW{row['code']}" for row in rows} & set(stored_rows(sqlite_url))
    assert in_both
    site.clear_requests()
    output = crawl(
        "eastmoney_fast", site.origin, sqlite_url, tmp_path, "-a", "page_size=10", "-a", "pages=10"
    )
    fetched = fetched_codes(site)
    assert not fetched & in_both  # a claimed article is never fetched
    counts = last_run_counts(sqlite_url)
    assert counts["moved"] == len(in_both)
    assert counts["kept"] == len(fetched)  # only what went through the pipelines
    assert f"moved to 7x24 feed:    {len(in_both)}" in output
    rows = stored_rows(sqlite_url)
    assert {(rows[code]["feed"], rows[code]["category"]) for code in in_both} == {(FAST_FEED, "emnews")}


def test_a_claim_the_store_can_no_longer_write_is_dead_lettered(sqlite_url: str, tmp_path: Path) -> None:
    config = StoreConfig(sqlite_url, 1.0, deadletter_dirs=(tmp_path / "deadletter",))
    store = BatchStore(config, "eastmoney_fast")
    asyncio.run(store.close())
    store.claim(FeedClaim(CODE, summary="快讯"))  # a callback after the close: never lost silently
    [path] = (tmp_path / "deadletter").glob("*.jsonl")
    [line] = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == {
        "kind": "claim",
        "info_code": CODE,
        "feed": FAST_FEED,
        "summary": "快讯",
        "category": "emnews",
        "tags": ["东财滚动新闻"],
    }
    assert not store.writer.started
