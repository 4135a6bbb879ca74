"""Replay of archived responses: one record a parser cannot read costs only that record."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsarchive.archive.replay import replay_articles
from newsarchive.archive.warc import WarcArchive
from newsarchive.pages import routes
from newsarchive.pages.routes import ARTICLE, LISTING, Route
from newsarchive.sites.adapter import register_declared_sites

CASES = Path(__file__).parents[1] / "pages" / "cases"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
BROKEN_HOST = "broken.example"  # a site whose parsers have a bug nobody foresaw


def broken_parser(*args: Any) -> Any:
    raise RuntimeError("a parser bug nobody foresaw")


def broken_site(url: str) -> Route | None:
    if urlsplit(url).hostname != BROKEN_HOST:
        return None
    if "/list" in url:
        return Route("broken", LISTING, "broken", broken_parser)
    return Route("broken", ARTICLE, "broken", broken_parser, info_code="BROKEN-1")


def write_warc(path: Path, *records: tuple[str, bytes]) -> Path:
    archive = WarcArchive(path)
    for url, body in records:
        archive.write_response(
            url, 200, [("Content-Type", "text/html; charset=utf-8")], body, fetched_at=datetime.now(UTC)
        )
    archive.close()
    return path


def test_a_parser_exception_costs_only_its_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register_declared_sites()  # before the router list is swapped, so later tests keep the declared sites
    monkeypatch.setattr(routes, "_ROUTERS", [broken_site, *routes._ROUTERS])
    listing_url = (CASES / "columns_344" / "url.txt").read_text().strip()
    path = write_warc(
        tmp_path / "a.warc.gz",
        (f"https://{BROKEN_HOST}/list/1.html", b"<html></html>"),
        (listing_url, (CASES / "columns_344" / "page.json").read_bytes()),
        (f"https://{BROKEN_HOST}/a/1.html", b"<html></html>"),
        (SEED_URL, (CASES / "article_seed" / "page.html").read_bytes()),
    )
    counts: Counter[str] = Counter()
    articles = list(replay_articles([path], lambda key: counts.update([key])))
    assert [article.info_code for article in articles] == ["NW202204292366280343"]
    # paired with its listing row, whose title it carries
    assert articles[0].title == "宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺"
    assert (counts["listing_error/parser_error"], counts["dropped/parser_error"]) == (1, 1)


def test_a_record_whose_url_cannot_be_read_costs_only_itself(tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "a.warc.gz",
        ("http://[::1/a/202204292366280343.html", b"<html></html>"),  # urlsplit refuses it
        (SEED_URL, (CASES / "article_seed" / "page.html").read_bytes()),
    )
    assert [article.info_code for article in replay_articles([path])] == ["NW202204292366280343"]
