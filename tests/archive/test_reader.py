"""Reading WARC files back: a damaged record costs only itself (issue 13 point 8); anything that is
not a WARC file is refused in one line, at once, whatever its size or kind (issue 13 point 13)."""

from __future__ import annotations

import gzip
import os
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.archive import reader
from newsarchive.archive.reader import DamagedRecord, read_responses
from newsarchive.archive.warc import ArchivedResponse, ArchiveError, WarcArchive

URL = "https://finance.eastmoney.com/a/2022042923662803{:02d}.html"
RECORDS = 5


def write_warc(path: Path, count: int = RECORDS) -> list[bytes]:
    """A WARC file as a crawl writes it; returns the bodies, one per record, all different."""
    bodies = [(f"<p>第{number}篇</p>" * 300 + os.urandom(200).hex()).encode() for number in range(count)]
    archive = WarcArchive(path)
    for number, body in enumerate(bodies):
        archive.write_response(
            URL.format(number), 200, [("Content-Type", "text/html")], body, fetched_at=datetime.now(UTC)
        )
    archive.close()
    return bodies


def members(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every gzip member, found by inflating them one after the other."""
    spans = []
    start = 0
    while start < len(data):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        inflater.decompress(data[start:])
        end = len(data) - len(inflater.unused_data)
        spans.append((start, end))
        start = end
    return spans


def read(path: Path) -> tuple[list[ArchivedResponse], list[DamagedRecord]]:
    damaged: list[DamagedRecord] = []
    return list(read_responses(path, damaged.append)), damaged


def flip(path: Path, *positions: int, into: Path | None = None) -> Path:
    """A copy of ``path`` (named damaged-…, in ``into`` or beside it) with a byte flipped at each position."""
    data = bytearray(path.read_bytes())
    for position in positions:
        data[position] ^= 0xFF
    damaged = (into or path.parent) / f"damaged-{path.name}"
    damaged.write_bytes(bytes(data))
    return damaged


# where in a member a byte flips: its gzip header flags, the deflate data that inflates to the WARC
# header, the body's deflate data, the CRC-32 and the length in its trailer
PLACES = {
    "gzip_flags": lambda start, end: start + 3,
    "warc_header": lambda start, end: start + 20,
    "body": lambda start, end: (start + end) // 2,
    "crc": lambda start, end: end - 6,
    "length": lambda start, end: end - 2,
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("damaged_member", [0, 2])
def test_a_damaged_member_is_reported_and_every_other_record_read(
    tmp_path: Path, place: str, damaged_member: int
) -> None:
    bodies = write_warc(tmp_path / "a.warc.gz")
    start, end = members((tmp_path / "a.warc.gz").read_bytes())[damaged_member]
    responses, damaged = read(flip(tmp_path / "a.warc.gz", PLACES[place](start, end)))
    assert [response.body for response in responses] == bodies[:damaged_member] + bodies[damaged_member + 1 :]
    assert all(response.complete for response in responses)
    assert [(damage.offset, damage.path.name) for damage in damaged] == [(start, "damaged-a.warc.gz")]
    assert "\n" not in str(damaged[0]) and "\\x" not in str(damaged[0])


@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_damaged_last_member_is_never_trusted(tmp_path: Path, place: str) -> None:
    """A last member whose data runs to the end of the file may look cut off (a killed crawl): its
    record is then marked incomplete, else it is reported; never is it read as a good record."""
    bodies = write_warc(tmp_path / "a.warc.gz")
    start, end = members((tmp_path / "a.warc.gz").read_bytes())[-1]
    responses, damaged = read(flip(tmp_path / "a.warc.gz", PLACES[place](start, end)))
    assert [response.body for response in responses if response.complete] == bodies[:-1]
    assert [damage.offset for damage in damaged] in ([start], [])
    assert bool(damaged) != (len(responses) == RECORDS)  # reported, or read back as incomplete


def test_each_damaged_stretch_is_reported_once(tmp_path: Path) -> None:
    """Members 1 and 2 (next to each other) and 4 damaged: two stretches, both reported."""
    bodies = write_warc(tmp_path / "a.warc.gz", count=6)
    spans = members((tmp_path / "a.warc.gz").read_bytes())
    middles = [(spans[number][0] + spans[number][1]) // 2 for number in (1, 2, 4)]
    responses, damaged = read(flip(tmp_path / "a.warc.gz", *middles))
    assert [response.body for response in responses] == [bodies[0], bodies[3], bodies[5]]
    assert [damage.offset for damage in damaged] == [spans[1][0], spans[4][0]]


def test_damage_is_never_skipped_unseen(tmp_path: Path) -> None:
    write_warc(tmp_path / "a.warc.gz")
    start = members((tmp_path / "a.warc.gz").read_bytes())[1][0]
    with pytest.raises(ArchiveError, match=f"damaged WARC record at byte {start} skipped"):
        list(read_responses(flip(tmp_path / "a.warc.gz", start + 20)))  # no on_damage: raises


def plain_warc(tmp_path: Path) -> tuple[Path, list[bytes], list[int]]:
    """An uncompressed WARC of the same records; returns it, the bodies and each record's offset."""
    bodies = write_warc(tmp_path / "a.warc.gz")
    plain = gzip.decompress((tmp_path / "a.warc.gz").read_bytes())
    (tmp_path / "a.warc").write_bytes(plain)
    offsets = [at for at in range(len(plain)) if plain.startswith(b"WARC/1.0\r\n", at)]
    assert len(offsets) == RECORDS
    return tmp_path / "a.warc", bodies, offsets


@pytest.mark.parametrize("place", ["version_line", "content_length", "body", "record_end"])
def test_a_damaged_plain_record_is_reported_and_every_other_record_read(tmp_path: Path, place: str) -> None:
    path, bodies, offsets = plain_warc(tmp_path)
    data = path.read_bytes()
    start, end = offsets[2], offsets[3]
    position = {
        "version_line": start + 1,
        "content_length": data.index(b"Content-Length: ", start) + len(b"Content-Length: "),
        "body": (start + end) // 2,  # only the WARC-Block-Digest can tell
        "record_end": end - 3,
    }[place]
    responses, damaged = read(flip(path, position))
    assert [response.body for response in responses] == bodies[:2] + bodies[3:]
    assert [damage.offset for damage in damaged] == [start]


def test_a_plain_file_cut_off_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    path, bodies, offsets = plain_warc(tmp_path)
    path.write_bytes(path.read_bytes()[: offsets[4] + 2000])
    responses, damaged = read(path)
    assert [response.body for response in responses if response.complete] == bodies[:4]
    assert not responses[4].complete and damaged == []


def test_a_gzip_bomb_is_one_damaged_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_RECORD_BYTES", 1024 * 1024)
    bodies = write_warc(tmp_path / "a.warc.gz", count=2)
    data = (tmp_path / "a.warc.gz").read_bytes()
    first_end = members(data)[0][1]
    bomb = gzip.compress(b"WARC/1.0\r\n" + bytes(3 * 1024 * 1024))
    (tmp_path / "bomb.warc.gz").write_bytes(data[:first_end] + bomb + data[first_end:])
    responses, damaged = read(tmp_path / "bomb.warc.gz")
    assert [response.body for response in responses] == bodies
    assert [(damage.offset, damage.reason) for damage in damaged] == [(first_end, "over 1 MB uncompressed")]


NOT_WARC = {
    "text": b"hello\nworld\n" * 10_000,
    "json_lines": b'{"info_code": "NW202204292366280343", "title": "\xe6\xa0\x87"}\n' * 3000,
    "gzip_of_text": gzip.compress(b"hello\nworld\n" * 10_000),
    "zeros": bytes(5 * 1024 * 1024),
    "binary": bytes(range(256)) * 4000,
}


@pytest.mark.parametrize("kind", sorted(NOT_WARC))
def test_a_file_that_is_not_a_warc_is_refused_in_one_line(
    tmp_path: Path, kind: str, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"{kind}.warc.gz"
    path.write_bytes(NOT_WARC[kind])
    with pytest.raises(ArchiveError) as raised:
        list(read_responses(path, lambda damage: pytest.fail(f"reported as damage: {damage}")))
    message = str(raised.value)
    assert message.startswith(f"{path} is not a WARC file") and "\n" not in message
    assert not any(echo in message for echo in ("hello", "info_code", "\\x"))  # none of its bytes
    assert capfd.readouterr().err == ""  # warcio wrote hundreds of KB of warnings here (issue 14)


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder"])
def test_a_fifo_a_device_or_a_folder_is_refused_without_reading(tmp_path: Path, special: str) -> None:
    if special == "fifo":
        path = tmp_path / "a.warc.gz"
        os.mkfifo(path)  # opening it for reading without O_NONBLOCK would wait for a writer forever
    else:
        path = tmp_path if special == "folder" else Path(special)
    with pytest.raises(ArchiveError, match="is not a regular file"):
        list(read_responses(path))
