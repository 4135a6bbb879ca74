"""``newsarchive load`` trusts its file no more than a page from the web (issue 13 point 11): every
line goes through the crawl's validation, cleaning and sanitizing; bad lines cost only themselves."""

from __future__ import annotations

import json
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from newsarchive.deadletter import MAX_LINE_BYTES
from tests.conftest import run_cli
from tests.support import stored_rows

GOOD: dict[str, Any] = {
    "kind": "article", "info_code": "NW202204292366280343", "title": "标题",
    "published_at": "2022-04-29T15:03:20+08:00", "published_raw": "2022-04-29 15:03:20",
    "media": "证券日报网", "category": "zhengquanribaowang", "tags": ["证券日报网新闻"],
    "summary": None, "author": None, "url": "https://finance.eastmoney.com/a/202204292366280343.html",
    "feed": "eastmoney", "body_html": "<p>正文</p>", "body_text": "正文", "extraction": None,
    "fetched_at": "2026-11-24T01:00:00+00:00",
}  # fmt: skip


def record(number: int, **changes: Any) -> str:
    code = f"2022042923662803{number:02d}"
    return json.dumps(
        {**GOOD, "info_code": f"NW{code}", "url": f"https://finance.eastmoney.com/a/{code}.html", **changes},
        ensure_ascii=False,
    )


def load(tmp_path: Path, db_url: str, *lines: str | bytes) -> tuple[int, str, str]:
    path = tmp_path / "dead.jsonl"
    path.write_bytes(
        b"".join((line.encode("utf-8") if isinstance(line, str) else line) + b"\n" for line in lines)
    )
    result = run_cli("load", str(path), "--db", db_url, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, result.stdout, result.stderr


def test_a_loaded_body_is_cleaned_and_sanitized_as_a_crawled_one(tmp_path: Path, sqlite_url: str) -> None:
    body = '<p>正文<script>alert(1)</script><img src="javascript:alert(2)" onerror="alert(3)"></p>'
    body += "<div>第二段</div>"
    code, _, stderr = load(tmp_path, sqlite_url, record(1, body_html=body, body_text="别的文本"))
    assert code == 0, stderr
    row = stored_rows(sqlite_url)["NW202204292366280301"]
    assert "script" not in row["body_html"] and "javascript" not in row["body_html"]
    assert "onerror" not in row["body_html"]
    assert row["body_text"] == "正文\n第二段"  # worked out from the body again, never taken on trust


def test_loaded_short_fields_are_plain_text_as_crawled_ones(tmp_path: Path, sqlite_url: str) -> None:
    hostile = {"title": "\u202e看涨<img src=x onerror=alert(1)//", "author": "<scr<script>ipt>记者"}
    code, _, stderr = load(tmp_path, sqlite_url, record(1, **hostile, summary="PMI<50 <b>摘要</b>"))
    assert code == 0, stderr
    row = stored_rows(sqlite_url)["NW202204292366280301"]
    assert (row["title"], row["author"], row["summary"]) == ("看涨", "记者", "PMI<50 摘要")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"url": "javascript:alert(1)"}, "is not an http(s) address"),
        ({"published_raw": "1900-01-01 00:00:00", "published_at": "1900-01-01T00:00:00+08:00"}, "bad_date"),
        ({"fetched_at": "2999-01-01T00:00:00+00:00"}, "not a time a page could have been fetched"),
        ({"feed": "eastmoney\nlayout: evil"}, "is not a feed name"),
        ({"body_html": "<script>only code</script>"}, "empty_body"),
        ({"media": {"$ne": 1}}, "media is not a string"),
        ({"title": ""}, "missing title"),
    ],
    ids=[
        "javascript-url",
        "year-1900",
        "fetched-in-2999",
        "feed-newline",
        "script-body",
        "object",
        "no-title",
    ],
)
def test_a_hostile_line_is_refused_and_the_others_loaded(
    tmp_path: Path, sqlite_url: str, changes: dict[str, Any], reason: str
) -> None:
    code, stdout, stderr = load(tmp_path, sqlite_url, record(1), record(2, **changes), record(3))
    assert code == 1
    assert stderr.count("newsarchive: error:") == 1 and ":2: " in stderr and reason in stderr, stderr
    assert sorted(stored_rows(sqlite_url)) == ["NW202204292366280301", "NW202204292366280303"]
    assert "2 items: 2 new" in stdout


def test_category_and_tags_are_worked_out_again(tmp_path: Path, sqlite_url: str) -> None:
    """A category or tag with a newline would inject front matter into the Jekyll export."""
    code, _, stderr = load(
        tmp_path, sqlite_url, record(1, category="x\nlayout: evil", tags=["证券日报网新闻", "宏观\n经济"])
    )
    assert code == 0, stderr
    row = stored_rows(sqlite_url)["NW202204292366280301"]
    assert (row["category"], row["tags"]) == ("zhengquanribaowang", ["证券日报网新闻", "宏观 经济"])


def test_a_claim_takes_the_7x24_taxonomy_whatever_its_line_says(tmp_path: Path, sqlite_url: str) -> None:
    claim = {"kind": "claim", "info_code": "NW202204292366280301", "feed": "eastmoney_fast",
             "summary": "快讯", "category": "evil\n---", "tags": ["x: [y"]}  # fmt: skip
    code, _, stderr = load(tmp_path, sqlite_url, record(1), json.dumps(claim, ensure_ascii=False))
    assert code == 0, stderr
    row = stored_rows(sqlite_url)["NW202204292366280301"]
    assert (row["feed"], row["category"], row["tags"]) == ("eastmoney_fast", "emnews", ["东财滚动新闻"])


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b"[" * 100_000, "nested too deeply"),
        ("标题".encode("gbk"), "not UTF-8 text"),
        (b"{" + b" " * (MAX_LINE_BYTES + 10) + b"}", f"longer than {MAX_LINE_BYTES} bytes"),
        (b"\x00" * 1000, ""),
    ],
    ids=["deep", "gbk", "too-long", "nul"],
)
def test_junk_lines_cost_only_themselves(tmp_path: Path, sqlite_url: str, bad: bytes, reason: str) -> None:
    code, _, stderr = load(tmp_path, sqlite_url, record(1), bad, record(3))
    assert code == 1
    assert ":2: " in stderr and reason in stderr, stderr[:500]
    assert sorted(stored_rows(sqlite_url)) == ["NW202204292366280301", "NW202204292366280303"]


def test_a_file_of_junk_is_one_line_not_one_per_line(tmp_path: Path, sqlite_url: str) -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    result = run_cli("load", str(readme), "--db", sqlite_url, cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr[:2000]
    assert "no line could be loaded" in result.stderr


def test_many_bad_lines_are_shown_up_to_a_few(tmp_path: Path, sqlite_url: str) -> None:
    code, _, stderr = load(tmp_path, sqlite_url, record(1), *["{not json"] * 50)
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 11 and lines[-1].endswith("… and 40 lines more, bad too"), lines


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_at_once(tmp_path: Path, sqlite_url: str, device: str) -> None:
    def limited() -> None:  # a reader that does not stop would take the machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "newsarchive", "load", device, "--db", sqlite_url],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, preexec_fn=limited, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == f"newsarchive: error: {device}: not a regular file"


def test_load_reports_bad_lines_and_stores_the_good_ones(db_url: str, tmp_path: Path) -> None:
    good = GOOD
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        json.dumps({**good, "info_code": "../../etc"}),
        json.dumps({**good, "info_code": "NW202204292366280344", "title": ""}),
        json.dumps({**good, "info_code": "NW202204292366280345", "published_at": "2022-04-29 15:03:20"}),
        json.dumps({"kind": "claim", "info_code": "NW202204292366280343", "feed": "eastmoney_fast",
                    "summary": "快讯摘要", "category": "emnews", "tags": ["东财滚动新闻"]}),
    ]  # fmt: skip
    path = tmp_path / "dead.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_cli("load", str(path), "--db", db_url, cwd=tmp_path)

    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert [line.split(": ")[2].split(":")[1] for line in errors] == ["2", "3", "4", "5"]
    assert all(line.startswith("newsarchive: error: ") for line in errors)
    assert "Traceback" not in result.stderr
    assert "2 items: 1 new, 0 already stored, 0 revised, 1 moved to the 7x24 feed" in result.stdout
    rows = stored_rows(db_url)
    assert list(rows) == ["NW202204292366280343"]
    assert (rows["NW202204292366280343"]["feed"], rows["NW202204292366280343"]["category"]) == (
        "eastmoney_fast",
        "emnews",
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory, not a dead-letter file"),
        (
            lambda p: p.write_bytes("标题".encode("gbk")),
            "no line could be loaded (1 line bad; line 1: not UTF-8 text)",
        ),
    ],
)
def test_load_rejects_unreadable_files_in_one_line(
    make: Callable[[Path], None], message: str, sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "dead.jsonl"
    make(path)
    result = run_cli("load", str(path), "--db", sqlite_url, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"newsarchive: error: {path}: {message}"
