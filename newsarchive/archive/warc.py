"""WARC files: write each HTTP response as a ``response`` record (read back by archive.reader)."""

from __future__ import annotations

import io
import os
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsarchive.files import append_whole, open_for_append

# The body we archive is already decoded by the downloader, so these headers would lie about it.
_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
# Each record is its own gzip member (as WARC readers expect). warcio compresses at level 9, which
# costs 15 % more CPU than zlib's default 6 for 0.4 % smaller files on article pages.
GZIP_LEVEL = 6


class ArchiveError(ValueError):
    """A file that is not a readable WARC archive."""


@dataclass(frozen=True)
class ArchivedResponse:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    complete: bool = True  # False when the body is shorter than its Content-Length (a cut-off file)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


class WarcArchive:
    """Appends response records to one gzip-compressed WARC file; call ``close`` when done.

    The folder is created and checked for writing at once (OSError otherwise); the file itself
    is created with the first record, so a run that received nothing leaves no empty archive.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
        self.path = path
        self._descriptor: int | None = None
        self._buffer = io.BytesIO()
        self._writer = WARCWriter(self._buffer, gzip=False)  # records are compressed one by one
        self.records = 0

    def write_response(
        self,
        url: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        protocol: str = "HTTP/1.1",
        fetched_at: datetime | None = None,
    ) -> None:
        kept = [(key, value) for key, value in headers if key.lower() not in _DROPPED_HEADERS]
        kept.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(f"{status} {_reason(status)}", kept, protocol=protocol)
        when = (fetched_at or datetime.now(UTC)).astimezone(UTC)
        if self._descriptor is None:
            self._descriptor = open_for_append(self.path)
        record = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        self._writer.write_record(record)
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        member = compressor.compress(self._buffer.getbuffer()) + compressor.flush()
        self._buffer.seek(0)
        self._buffer.truncate()
        # unbuffered: a killed crawl keeps every response it got up to the kill, and a full disk
        # costs the record that did not fit, never the file's integrity
        append_whole(self._descriptor, member)
        self.records += 1

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
