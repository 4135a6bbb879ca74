"""End to end: reparse of a crawl's WARC files reproduces the crawl's rows; exports from the crawl."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsarchive.samplesite import SampleSite
from tests.conftest import run_cli
from tests.support import crawl, stored_rows

SEED_POST = Path(__file__).with_name("export") / "seed_post.md"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """Both spiders over the sample site into one SQLite archive (module-scoped: crawls are slow)."""
    workdir = tmp_path_factory.mktemp("crawl")
    db_url = f"sqlite:///{workdir / 'crawl.db'}"
    with SampleSite() as site:
        site.start()
        crawl("eastmoney", site.origin, db_url, workdir, "-a", "columns=344,345", "-a", "page_size=10")
        crawl("eastmoney_fast", site.origin, db_url, workdir, "-a", "page_size=10", "-a", "pages=3")
    yield workdir, db_url


def test_reparse_of_the_warc_reproduces_the_database(crawled: tuple[Path, str], db_url: str) -> None:
    workdir, crawl_db = crawled
    archives = sorted(str(path) for path in (workdir / "data" / "warc").glob("*.warc.gz"))
    assert len(archives) == 2
    result = run_cli("reparse", *archives, "--db", db_url, "--log-level", "WARNING", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    original = stored_rows(crawl_db)
    assert len(original) > 40
    assert stored_rows(db_url) == original
    assert f"new articles stored:   {len(original)}" in result.stdout


def test_reparse_rewrites_rows_in_place(crawled: tuple[Path, str], sqlite_url: str) -> None:
    workdir, _ = crawled
    archives = sorted(str(path) for path in (workdir / "data" / "warc").glob("eastmoney-*.warc.gz"))
    for _ in range(2):
        result = run_cli("reparse", *archives, "--db", sqlite_url, "--log-level", "WARNING", cwd=workdir)
        assert result.returncode == 0, result.stderr[-3000:]
    assert "new articles stored:   0" in result.stdout
    assert len(stored_rows(sqlite_url)) == 36


def test_jekyll_export_of_the_seed_is_byte_exact(crawled: tuple[Path, str], tmp_path: Path) -> None:
    workdir, crawl_db = crawled
    result = run_cli("export", "jekyll", "--out", str(tmp_path / "site"), "--db", crawl_db, cwd=workdir)
    assert result.returncode == 0, result.stderr
    posts = tmp_path / "site" / "_posts"
    exported = (posts / "2022-04-29-NW202204292366280343.md").read_bytes()
    assert exported == SEED_POST.read_bytes()
    assert len(list(posts.glob("*.md"))) == len(stored_rows(crawl_db))


def test_jsonl_export_has_every_field(crawled: tuple[Path, str], tmp_path: Path) -> None:
    workdir, crawl_db = crawled
    out = tmp_path / "articles.jsonl"
    result = run_cli("export", "jsonl", "--out", str(out), "--db", crawl_db, cwd=workdir)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(stored_rows(crawl_db))
    seed = next(r for r in records if r["info_code"] == "NW202204292366280343")
    assert seed["published_at"] == "2022-04-29T15:03:20+08:00"
    assert seed["category"] == "zhengquanribaowang" and seed["tags"] == ["证券日报网新闻"]
    assert seed["url"] == "https://finance.eastmoney.com/a/202204292366280343.html"
    assert {"title", "media", "summary", "author", "body_html", "body_text"} <= set(seed)
    assert [r["published_at"] for r in records] == sorted(r["published_at"] for r in records)
