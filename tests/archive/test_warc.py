"""WARC files: records round-trip with their headers; cut-off files never yield a partial body."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.archive.reader import read_responses
from newsarchive.archive.replay import replay_articles
from newsarchive.archive.warc import ArchiveError, WarcArchive

SEED_PAGE = Path(__file__).parents[1] / "pages" / "cases" / "article_seed" / "page.html"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
LISTING_URL = "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?column=344&page_index=1&req_trace=1"


def write(path: Path, *records: tuple[str, int, list[tuple[str, str]], bytes]) -> None:
    archive = WarcArchive(path)
    for url, status, headers, body in records:
        archive.write_response(
            url, status, headers, body, fetched_at=datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)
        )
    archive.close()


def test_responses_round_trip_with_status_headers_and_time(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    body = SEED_PAGE.read_bytes()
    write(
        path,
        (SEED_URL, 200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], body),
        (
            "https://finance.eastmoney.com/a/202204292366280999.html",
            404,
            [("Content-Type", "text/html")],
            b"gone",
        ),
    )
    first, second = read_responses(path)
    assert (first.url, first.status, first.body, first.complete) == (SEED_URL, 200, body, True)
    assert first.header("content-type") == "text/html"
    assert first.header("Content-Encoding") is None  # the body was stored decoded; the header would lie
    assert first.header("Content-Length") == str(len(body))
    assert first.fetched_at == datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)
    assert (second.status, second.body) == (404, b"gone")


def test_each_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    """WARC readers seek to a record by offset: every record must start a new gzip member."""
    path = tmp_path / "a.warc.gz"
    write(path, *[(SEED_URL, 200, [("Content-Type", "text/html")], SEED_PAGE.read_bytes())] * 3)
    raw = path.read_bytes()
    starts = [at for at in range(len(raw) - 2) if raw[at : at + 3] == b"\x1f\x8b\x08"]
    assert len(starts) == 3
    for start, end in zip(starts, [*starts[1:], len(raw)], strict=True):
        assert gzip.decompress(raw[start:end]).startswith(b"WARC/1.")  # a whole record, alone


def test_no_file_is_left_when_nothing_was_received(tmp_path: Path) -> None:
    WarcArchive(tmp_path / "warc" / "empty.warc.gz").close()
    assert (tmp_path / "warc").is_dir() and not list((tmp_path / "warc").iterdir())


def test_an_unwritable_folder_fails_at_once(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):
        WarcArchive(tmp_path / "file" / "sub" / "a.warc.gz")


def cut_record(tmp_path: Path) -> Path:
    """A WARC whose last record (the seed article) lost the end of its body, re-compressed whole."""
    path = tmp_path / "full.warc.gz"
    write(path, (SEED_URL, 200, [("Content-Type", "text/html")], SEED_PAGE.read_bytes()))
    raw = gzip.decompress(path.read_bytes())
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    return cut


def test_a_cut_off_record_is_marked_incomplete(tmp_path: Path) -> None:
    (response,) = read_responses(cut_record(tmp_path))
    assert not response.complete
    assert len(response.body) < len(SEED_PAGE.read_bytes())


def test_replay_never_turns_a_cut_off_page_into_an_article(tmp_path: Path) -> None:
    counts: dict[str, int] = {}
    articles = list(
        replay_articles([cut_record(tmp_path)], lambda key: counts.update({key: counts.get(key, 0) + 1}))
    )
    assert articles == []
    assert counts == {"article_pages": 1, "skipped/truncated_record": 1}


def test_a_truncated_gzip_stream_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    write(path, (SEED_URL, 200, [], b"first"), (SEED_URL, 200, [], SEED_PAGE.read_bytes()))
    data = path.read_bytes()
    (tmp_path / "cut.warc.gz").write_bytes(data[: len(data) - 500])  # a killed crawl's file
    responses = list(read_responses(tmp_path / "cut.warc.gz"))
    assert (responses[0].body, responses[0].complete) == (b"first", True)
    assert all(not response.complete for response in responses[1:])  # the cut record, if read at all


@pytest.mark.parametrize("content", [b"", b"not a warc at all\n", b"\x1f\x8b\x08\x00garbage"])
def test_junk_files_are_archive_errors_or_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.warc.gz"
    path.write_bytes(content)
    try:
        assert list(read_responses(path)) == []
    except ArchiveError as error:
        assert "\n" not in str(error)


def test_a_missing_file_is_an_archive_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="cannot read"):
        list(read_responses(tmp_path / "missing.warc.gz"))


def test_a_full_disk_costs_the_record_that_did_not_fit_never_the_file(tmp_path: Path) -> None:
    """Issue 13 point 10: each record lands whole or not at all, and closing never fails."""
    from tests.conftest import fill_disk, small_disk

    body = SEED_PAGE.read_bytes()
    with small_disk(tmp_path / "disk", 512) as disk:
        archive = WarcArchive(disk / "a.warc.gz")
        archive.write_response(SEED_URL, 200, [("Content-Type", "text/html")], body)
        fill_disk(disk, leave_bytes=0)
        big = bytes(range(256)) * 4096  # 1 MB that does not compress: cannot fit
        with pytest.raises(OSError):
            archive.write_response(SEED_URL + "?2", 200, [("Content-Type", "text/html")], big)
        archive.close()
        (disk / ".filler").unlink()
        responses = list(read_responses(disk / "a.warc.gz"))
    assert [(r.url, r.body, r.complete) for r in responses] == [(SEED_URL, body, True)]
