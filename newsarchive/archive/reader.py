"""Read WARC files back for reparse, record by record, so that damage costs only what is damaged.

The writer (newsarchive.archive.warc) makes every record its own gzip member: a damaged member (a
flipped byte fails its deflate data or its CRC) is reported with its file offset and skipped, and
reading goes on at the next gzip member header. A plain (uncompressed) WARC goes on at the next
record line, and its records are checked against their ``WARC-Block-Digest``. A file cut off by a
killed crawl keeps every record before the cut; the cut record comes back ``complete=False``.

warcio's ArchiveIterator is not used: it cannot resynchronise, and it writes warnings with raw bytes
to stderr (hundreds of KB for a text file given by mistake); only its header parser is.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import mmap
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser

from newsarchive.archive.warc import ArchivedResponse, ArchiveError

GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1 ID2 and CM=deflate: how every gzip member starts
WARC_MAGIC = b"WARC/1."
RECORD_END = b"\r\n\r\n"  # after a record's block (WARC 1.1 §4)
# One record uncompressed: far above any archived response (DOWNLOAD_MAXSIZE is 8 MB), low enough
# that a gzip bomb given as a WARC stops here instead of filling memory.
MAX_RECORD_BYTES = 128 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024  # a record's WARC header block; ours are about 400 bytes
FIRST_READ = 16 * 1024  # compressed bytes fed at once, doubling up to LAST_READ (members are ~10 KB)
LAST_READ = 1024 * 1024

Buffer = bytes | mmap.mmap  # a whole file (mapped) or one inflated member
_WARC_HEADERS = StatusAndHeadersParser(["WARC/1.0", "WARC/1.1"], verify=False)
_HTTP_HEADERS = StatusAndHeadersParser([], verify=False)


@dataclass(frozen=True)
class DamagedRecord:
    """A stretch of a WARC file that could not be read: from ``offset`` to the next readable record."""

    path: Path
    offset: int
    reason: str  # short and printable: never the damaged bytes

    def __str__(self) -> str:
        return f"{self.path}: damaged WARC record at byte {self.offset} skipped ({self.reason})"


DamageHandler = Callable[[DamagedRecord], None]


def read_responses(path: Path, on_damage: DamageHandler | None = None) -> Iterator[ArchivedResponse]:
    """Every HTTP response record in a WARC file (gzip or plain), in file order.

    Raises ArchiveError when the file cannot be read (or is a FIFO, a device, a folder) or is not a
    WARC file. Each damaged stretch is passed to ``on_damage`` and skipped; without ``on_damage`` it
    raises ArchiveError, so that damage is never skipped unseen.
    """
    with _mapped(path) as data:
        for found in _records(path, data):
            if isinstance(found, DamagedRecord):
                if on_damage is None:
                    raise ArchiveError(str(found))
                on_damage(found)
            elif found is not None:
                yield found


class _Unreadable(Exception):
    """A record or member that cannot be read; the message is the reason."""


class _Cut(Exception):
    """The data ends inside a record: what a killed crawl leaves at the end of its file."""

    def __init__(self, response: ArchivedResponse | None) -> None:
        super().__init__("cut off")
        self.response = response


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[Buffer]:
    """The file's bytes (memory-mapped; b"" when empty). A FIFO, a device or a folder is refused
    before reading a byte: /dev/zero would never end and a FIFO would wait for a writer."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise ArchiveError(f"cannot read {path}: {error.strerror}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ArchiveError(f"{path} is not a regular file")
        if status.st_size == 0:
            yield b""
            return
        try:
            data = mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as error:
            raise ArchiveError(f"cannot read {path}: {error}") from None
        with data:
            yield data
    finally:
        os.close(descriptor)  # the map keeps its own reference to the file


def _records(path: Path, data: Buffer) -> Iterator[ArchivedResponse | DamagedRecord | None]:
    if not data:
        return
    if data[: len(GZIP_MAGIC)] == GZIP_MAGIC:
        yield from _gzip_records(path, data)
    elif data[: len(WARC_MAGIC)] == WARC_MAGIC:
        yield from _plain_records(path, data)
    else:
        raise ArchiveError(f"{path} is not a WARC file (it starts with neither a gzip header nor WARC/1.)")


# --- gzip: one member per record ------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    content: bytes  # inflated; partial when end is None
    end: int | None  # offset after the member; None: the file ends inside it


@dataclass(frozen=True)
class _Skip:
    """A stretch being skipped: where it starts, why, and the member the file ended in if the
    stretch starts with one (then it may be a killed crawl's last record, not damage)."""

    offset: int
    reason: str
    cut: _Member | None = None


def _gzip_records(path: Path, data: Buffer) -> Iterator[ArchivedResponse | DamagedRecord | None]:
    offset = 0
    skip: _Skip | None = None
    first = True
    while offset < len(data):
        try:
            member = _inflate(data, offset)
        except _Unreadable as error:
            skip = skip or _Skip(offset, str(error))
            offset = _next_member(data, offset)
            continue
        if member.end is None:  # cut off, or damage that ran into the members after it: look on
            skip = skip or _Skip(offset, "gzip data runs past its member", cut=member)
            offset = _next_member(data, offset)
            continue
        if first and skip is None and not member.content.startswith(WARC_MAGIC):
            raise ArchiveError(f"{path} is not a WARC file (its first gzip member holds no WARC record)")
        first = False
        if skip is not None:
            yield DamagedRecord(path, skip.offset, skip.reason)
            skip = None
        for found in _member_records(member.content):
            yield DamagedRecord(path, offset, found) if isinstance(found, str) else found
        offset = member.end
    if skip is not None and skip.cut is not None:
        # nothing readable after the member the file ended in: a killed crawl's last record, unless
        # what it inflated to is no prefix of a record (then a damaged last member)
        for found in _member_records(skip.cut.content):
            yield DamagedRecord(path, skip.offset, found) if isinstance(found, str) else _untrusted(found)
    elif skip is not None:
        yield DamagedRecord(path, skip.offset, skip.reason)


def _inflate(data: Buffer, start: int) -> _Member:
    """The gzip member at ``start``, inflated and checked (zlib checks its CRC-32 and length)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    parts: list[bytes] = []
    size = 0
    position = start
    pending = b""
    chunk = FIRST_READ
    try:
        while not inflater.eof:
            if not pending:
                if position >= len(data):
                    return _Member(b"".join(parts), None)
                pending = data[position : position + chunk]
                position += len(pending)
                chunk = min(chunk * 2, LAST_READ)
            part = inflater.decompress(pending, MAX_RECORD_BYTES + 1 - size)
            pending = inflater.unconsumed_tail
            size += len(part)
            parts.append(part)
            if size > MAX_RECORD_BYTES:
                raise _Unreadable(f"over {MAX_RECORD_BYTES // 2**20} MB uncompressed")
    except zlib.error as error:  # "Error -3 while decompressing data: invalid block type"
        raise _Unreadable(f"gzip: {str(error).rsplit(': ', 1)[-1]}") from None
    return _Member(b"".join(parts), position - len(pending) - len(inflater.unused_data))


def _next_member(data: Buffer, offset: int) -> int:
    found = data.find(GZIP_MAGIC, offset + 1)
    return len(data) if found < 0 else found


def _member_records(content: bytes) -> Iterator[ArchivedResponse | str | None]:
    """The records of one member (one, as the writer makes them; several are read too). A reason
    string stands for an unreadable record: the rest of the member goes with it."""
    position = 0
    while position < len(content):
        try:
            response, position = _record(content, position)
        except _Unreadable as error:
            yield str(error)
            return
        except _Cut as cut:
            yield cut.response  # complete=False: counted and never trusted by replay
            return
        yield response


def _untrusted(response: ArchivedResponse | None) -> ArchivedResponse | None:
    return None if response is None else replace(response, complete=False)


# --- plain WARC ------------------------------------------------------------------------------------


def _plain_records(path: Path, data: Buffer) -> Iterator[ArchivedResponse | DamagedRecord | None]:
    position = 0
    skip: tuple[int, str] | None = None
    while position < len(data):
        try:
            response, end = _record(data, position)
        except _Unreadable as error:
            skip = skip or (position, str(error))
            position = _next_plain_record(data, position)
            continue
        except _Cut as cut:
            later = _next_plain_record(data, position)
            if later < len(data):  # records follow: this one's length is damaged, it was not cut
                skip = skip or (position, "its Content-Length runs past the next record")
                position = later
                continue
            if skip is not None:
                yield DamagedRecord(path, *skip)
            yield cut.response
            return
        if skip is not None:
            yield DamagedRecord(path, *skip)
            skip = None
        yield response
        position = end
    if skip is not None:
        yield DamagedRecord(path, *skip)


def _next_plain_record(data: Buffer, position: int) -> int:
    found = data.find(b"\n" + WARC_MAGIC, position + 1)
    return len(data) if found < 0 else found + 1


# --- one record --------------------------------------------------------------------------------------


def _record(buffer: Buffer, at: int) -> tuple[ArchivedResponse | None, int]:
    """The record at ``at`` (an ArchivedResponse for an HTTP response, else None) and the offset of
    the next one. Raises _Unreadable for a damaged record, _Cut when the buffer ends inside it."""
    header_end = buffer.find(RECORD_END, at, at + MAX_HEADER_BYTES)
    if header_end < 0:
        if len(buffer) - at < MAX_HEADER_BYTES:
            raise _Cut(None)
        raise _Unreadable("no end to its WARC headers")
    if buffer[at : at + len(WARC_MAGIC)] != WARC_MAGIC:
        raise _Unreadable("not a WARC record")
    headers = _WARC_HEADERS.parse(io.BytesIO(buffer[at : header_end + len(RECORD_END)]))
    length = (headers.get_header("Content-Length") or "").strip()
    if not (length.isascii() and length.isdigit()) or len(length) > 12:
        raise _Unreadable("no valid Content-Length")
    block_start = header_end + len(RECORD_END)
    block_end = block_start + int(length)
    if block_end + len(RECORD_END) > len(buffer):
        raise _Cut(_cut_response(headers, buffer[block_start:block_end]))
    if buffer[block_end : block_end + len(RECORD_END)] != RECORD_END:
        raise _Unreadable("its Content-Length does not match its block")
    block = buffer[block_start:block_end]
    _check_digest(headers, block)
    return _response(headers, block), _skip_blank_lines(buffer, block_end + len(RECORD_END))


def _skip_blank_lines(buffer: Buffer, position: int) -> int:
    while buffer[position : position + 1] in (b"\r", b"\n") and position < len(buffer):
        position += 1
    return position


def _check_digest(headers: StatusAndHeaders, block: bytes) -> None:
    """Compare the block with its ``WARC-Block-Digest`` (the sha1 in base32 that warcio writes; other
    forms are not checked): the only check a plain WARC has against a changed byte."""
    algorithm, _, declared = (headers.get_header("WARC-Block-Digest") or "").partition(":")
    if algorithm.strip().lower() != "sha1" or len(declared.strip()) != 32:
        return
    if base64.b32encode(hashlib.sha1(block).digest()).decode() != declared.strip().upper():
        raise _Unreadable("block digest mismatch")


def _cut_response(headers: StatusAndHeaders, block: bytes) -> ArchivedResponse | None:
    try:
        response = _response(headers, block)
    except _Unreadable:  # cut inside its HTTP headers: nothing to show
        return None
    return _untrusted(response)


def _response(headers: StatusAndHeaders, block: bytes) -> ArchivedResponse | None:
    """The HTTP response in a ``response`` record's block; None for other records (warcinfo…)."""
    if headers.get_header("WARC-Type") != "response":
        return None
    if not (headers.get_header("Content-Type") or "").startswith("application/http"):
        return None
    stream = io.BytesIO(block)
    try:
        http = _HTTP_HEADERS.parse(stream)
        status = int(http.get_statuscode() or "")
        fetched_at = datetime.fromisoformat((headers.get_header("WARC-Date") or "").replace("Z", "+00:00"))
    except (EOFError, ValueError):
        raise _Unreadable("no readable HTTP status or WARC-Date") from None
    url = headers.get_header("WARC-Target-URI")
    if not url:
        raise _Unreadable("no WARC-Target-URI")
    body = stream.read()
    declared = http.get_header("Content-Length")
    return ArchivedResponse(
        url=url,
        status=status,
        headers=list(http.headers),
        body=body,
        fetched_at=fetched_at,
        complete=declared is None or not declared.isdigit() or int(declared) == len(body),
    )
