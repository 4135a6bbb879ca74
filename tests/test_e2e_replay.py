"""End to end: reparse of a crawl's WARC files reproduces the crawl's rows; exports from the crawl."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.exitcodes import FAILED, OK
from newsarchive.ids import code_from_url
from newsarchive.pages.eastmoney import parse_article
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import DEFAULT_ROOT
from newsarchive.text.clean import clean_body
from spiders.reparse import MAX_DAMAGE_LINES
from tests.archive.test_reader import flip, members
from tests.conftest import run_cli
from tests.support import crawl, fetched_codes, sample_codes, stored_rows
from tests.test_e2e_zqrb import ZQRB
from tests.test_e2e_zqrb import sample_codes as zqrb_codes

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


BAD_CODE = "2" * 19  # issue 13 point 6: one digit too many made the column-list parser raise
BAD_HREF_ROW = (
    '<li><span class="date">2030-01-01 00:00</span>·<a class="lista" href="http://[::1/x">坏</a></li>'
)


def edit_rows(path: Path, edit: Callable[[list[dict[str, Any]]], None]) -> list[dict[str, Any]]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    edit(rows)
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return rows


def sample_with_bad_rows(root: Path) -> list[str]:
    """Copy the sample site to ``root`` with one bad row on the first page of each listing: a
    19-digit code in column 344 and in the 7x24 list, an href urljoin refuses on 证券日报网's first
    page. Returns the codes of the 7x24 rows a three-page crawl of ten rows a page lists."""
    shutil.copytree(DEFAULT_ROOT, root)
    bad = {"code": BAD_CODE, "title": "坏行"}
    # the site lists newest first: this row leads page 1 of column 344
    edit_rows(
        root / "eastmoney" / "columns" / "344.json",
        lambda rows: rows.append({**rows[0], **bad, "showTime": "2030-01-01 00:00:00"}),
    )
    fast = edit_rows(
        root / "eastmoney" / "fastnews" / "102.json", lambda rows: rows.insert(1, {**rows[1], **bad})
    )
    listing = root / "sites" / "www.zqrb.cn" / "finance" / "hangyedongtai" / "index.html"
    html = listing.read_text(encoding="utf-8")
    listing.write_text(html.replace("<li>", BAD_HREF_ROW + "<li>", 1), encoding="utf-8")
    return [f"NW{row['code']}" for row in fast[:30] if row["code"] != BAD_CODE]


def test_a_bad_listing_row_costs_only_itself_in_a_crawl_and_its_reparse(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A crawl of listings holding one bad row each stores every good article and counts the bad
    rows; the reparse of its WARC files stores the same articles (issue 13 point 6)."""
    crawl_db = f"sqlite:///{tmp_path / 'crawl.db'}"
    fast_codes = sample_with_bad_rows(tmp_path / "sample")
    with SampleSite(tmp_path / "sample") as site:
        outputs = [
            crawl("eastmoney", site.origin, crawl_db, tmp_path, "-a", "columns=344", "-a", "page_size=10"),
            crawl("eastmoney_fast", site.origin, crawl_db, tmp_path, "-a", "page_size=10", "-a", "pages=3"),
            crawl("zqrb", site.origin, crawl_db, tmp_path, *ZQRB),
        ]
    for output in outputs:
        assert "bad_row: 1" in output and "errors:                0" in output, output
    stored = stored_rows(crawl_db)
    assert set(stored) == sample_codes("344") | set(fast_codes) | zqrb_codes()
    archives = sorted(str(path) for path in (tmp_path / "data" / "warc").glob("*.warc.gz"))
    assert len(archives) == 3
    result = run_cli("reparse", *archives, "--db", sqlite_url, cwd=tmp_path)
    assert result.returncode == OK, result.stderr[-3000:]
    assert stored_rows(sqlite_url) == stored


@pytest.fixture(scope="module")
def column_archive(crawled: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The column crawl's WARC file and the rows a reparse of it (undamaged) stores."""
    workdir, _ = crawled
    (archive,) = (workdir / "data" / "warc").glob("eastmoney-*.warc.gz")
    db_url = f"sqlite:///{tmp_path_factory.mktemp('undamaged') / 'reparse.db'}"
    result = run_cli("reparse", str(archive), "--db", db_url, cwd=workdir)
    assert result.returncode == OK, result.stderr[-3000:]
    return archive, stored_rows(db_url)


def article_members(data: bytes, rows: dict[str, dict[str, Any]]) -> list[tuple[int, int, str]]:
    """(start, end, info code) of the gzip members holding an article page, in file order, for the
    articles no near-duplicate link ties to another (so losing one changes no other row)."""
    linked = {row["duplicate_of"] for row in rows.values()} | {
        code for code, row in rows.items() if row["duplicate_of"]
    }
    found = []
    for start, end in members(data):
        record = zlib.decompress(data[start:end], zlib.MAX_WBITS | 16)
        url = record.split(b"WARC-Target-URI: ", 1)[1].split(b"\r\n", 1)[0].decode()
        code = f"NW{code_from_url(url)}" if code_from_url(url) else None
        if code in rows and code not in linked:
            found.append((start, end, code))
    return found


# issue 13 point 8: where one flipped byte lands in a member, drawn from a seeded generator
DAMAGE = {
    "warc_header": lambda rng, start, end: start + rng.randrange(12, 40),  # deflate data of the headers
    "body": lambda rng, start, end: rng.randrange(start + (end - start) // 3, end - 40),
    "gzip_trailer": lambda rng, start, end: rng.randrange(end - 8, end),  # CRC-32 and length
}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("place", sorted(DAMAGE))
def test_a_damaged_warc_member_costs_only_its_record(
    column_archive: tuple[Path, dict], tmp_path: Path, sqlite_url: str, place: str, seed: int
) -> None:
    archive, undamaged = column_archive
    data = archive.read_bytes()
    rng = random.Random(f"{place}-{seed}")
    start, end, lost = rng.choice(article_members(data, undamaged)[1:-1])  # mid-file
    damaged = flip(archive, DAMAGE[place](rng, start, end), into=tmp_path)
    result = run_cli("reparse", str(damaged), "--db", sqlite_url, cwd=tmp_path)
    assert result.returncode == FAILED, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr[-3000:]  # the record (file, offset), then the run's error
    assert f"WARNING: {damaged}: damaged WARC record at byte {start} skipped (" in lines[0]
    assert lines[1] == "newsarchive: error: 1 damaged WARC records were skipped"
    assert "\\x" not in result.stderr and "Traceback" not in result.stderr
    assert stored_rows(sqlite_url) == {code: row for code, row in undamaged.items() if code != lost}


def test_many_damaged_members_print_a_few_lines(
    column_archive: tuple[Path, dict], tmp_path: Path, sqlite_url: str
) -> None:
    archive, undamaged = column_archive
    data = archive.read_bytes()
    chosen = article_members(data, undamaged)[1::2]  # every other one: each its own damaged stretch
    assert len(chosen) > MAX_DAMAGE_LINES
    damaged = flip(archive, *((start + end) // 2 for start, end, _ in chosen), into=tmp_path)
    result = run_cli("reparse", str(damaged), "--db", sqlite_url, cwd=tmp_path)
    assert result.returncode == FAILED
    lines = result.stderr.splitlines()
    assert len(lines) == MAX_DAMAGE_LINES + 2, result.stderr[-3000:]
    assert "more damaged WARC records" in lines[-2]
    assert lines[-1] == f"newsarchive: error: {len(chosen)} damaged WARC records were skipped"
    assert set(stored_rows(sqlite_url)) == set(undamaged) - {code for _, _, code in chosen}


# issue 13: a page nested 256+ levels deep cleaned to nothing, dropped as empty_body, fetched every run
DEEP_ARTICLES = {"202204292366280343": 300, "202201072239307540": 3000}  # 3000: past libxml2's 2048
BODY_START = "<!--文章主体-->"
# the body's end: the chrome after it, a long article's pager first (the deep article has two pages)
BODY_END = re.compile(r'  </div>\n  <div class="(?:pagerbox|zwothers)">')


def sample_with_deep_bodies(root: Path) -> dict[str, str]:
    """Copy the sample site to ``root`` with the bodies of DEEP_ARTICLES (their first page) wrapped
    in that many ``<div>``s; returns each one's body text as a crawl of the unchanged pages (all of
    a long article's) stores it."""
    shutil.copytree(DEFAULT_ROOT, root)
    expected = {}
    for code, depth in DEEP_ARTICLES.items():
        path = root / "eastmoney" / "articles" / f"{code}.html"
        page = path.read_text(encoding="utf-8")
        url = f"https://finance.eastmoney.com/a/{code}.html"
        pages = [
            page,
            *(later.read_text(encoding="utf-8") for later in sorted(path.parent.glob(f"{code}_*.html"))),
        ]
        body = "".join(parse_article(text, url).body_html or "" for text in pages)
        expected[f"NW{code}"] = clean_body(body, url).text
        page = page.replace(BODY_START, BODY_START + "<div>" * depth, 1)
        end = BODY_END.search(page)
        assert end is not None
        page = page[: end.start()] + "</div>" * depth + page[end.start() :]
        path.write_text(page, encoding="utf-8")
    return expected


def test_a_deeply_nested_page_is_stored_with_its_text_and_not_fetched_again(
    tmp_path: Path, sqlite_url: str
) -> None:
    crawl_db = f"sqlite:///{tmp_path / 'crawl.db'}"
    expected = sample_with_deep_bodies(tmp_path / "sample")
    with SampleSite(tmp_path / "sample") as site:
        output = crawl(
            "eastmoney", site.origin, crawl_db, tmp_path, "-a", "columns=344", "-a", "page_size=10"
        )
        assert "dropped:               0" in output, output
        stored = stored_rows(crawl_db)
        assert {code: stored[code]["body_text"] for code in expected} == expected
        site.clear_requests()
        crawl("eastmoney", site.origin, crawl_db, tmp_path, "-a", "columns=344", "-a", "page_size=10")
        assert not fetched_codes(site) & set(expected)  # stored, so not fetched again
    archives = sorted(str(path) for path in (tmp_path / "data" / "warc").glob("*.warc.gz"))
    result = run_cli("reparse", *archives, "--db", sqlite_url, cwd=tmp_path)
    assert result.returncode == OK, result.stderr[-3000:]
    assert {code: stored_rows(sqlite_url)[code]["body_text"] for code in expected} == expected


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "folder", "zeros", "json_lines", "gzip_text"])
def test_reparse_of_what_is_no_warc_ends_at_once_in_one_line(
    tmp_path: Path, sqlite_url: str, kind: str
) -> None:
    """issue 13: reparse /dev/zero spun forever; a FIFO waited for a writer; a JSON Lines file
    printed hundreds of KB of warcio warnings with raw bytes before its error (issue 14)."""
    target = tmp_path / f"{kind}.warc.gz"
    if kind == "dev_zero":
        target = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "zeros":
        target.write_bytes(bytes(20 * 1024 * 1024))
    else:
        lines = "".join(
            json.dumps({"info_code": f"NW{number:018d}", "title": "标题" * 20, "body_html": "<p>x</p>" * 30})
            + "\n"
            for number in range(300)
        ).encode()
        target.write_bytes(gzip.compress(lines) if kind == "gzip_text" else lines)
    result = run_cli("reparse", str(target), "--db", sqlite_url, cwd=tmp_path, timeout=60)  # hung: fails
    assert result.returncode == FAILED
    assert result.stderr.startswith(f"newsarchive: error: {target} ") and result.stderr.count("\n") == 1, (
        result.stderr[:3000]
    )
