"""WARC files: write each HTTP response as a ``response`` record, read them back for reparse."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# The body we archive is already decoded by the downloader, so these headers would lie about it.
_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class ArchiveError(ValueError):
    """A file that is not a readable WARC archive."""


@dataclass(frozen=True)
class ArchivedResponse:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


class WarcArchive:
    """Appends response records to one gzip-compressed WARC file; call ``close`` when done."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._stream: BinaryIO = path.open("ab")
        self._writer = WARCWriter(self._stream, gzip=True)
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
        record = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        self._writer.write_record(record)
        self._stream.flush()  # a killed crawl keeps every response it got up to the kill
        self.records += 1

    def close(self) -> None:
        self._stream.close()


def read_responses(path: Path) -> Iterator[ArchivedResponse]:
    """Every HTTP response record in a WARC file (gzip or plain). Raises ArchiveError on junk."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror}") from None
    with stream:
        try:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                date = record.rec_headers.get_header("WARC-Date") or "1970-01-01T00:00:00Z"
                yield ArchivedResponse(
                    url=url,
                    status=int(record.http_headers.get_statuscode() or 0),
                    headers=list(record.http_headers.headers),
                    body=record.content_stream().read(),
                    fetched_at=datetime.fromisoformat(date.replace("Z", "+00:00")),
                )
        except ArchiveLoadFailed as exc:
            raise ArchiveError(f"{path} is not a WARC file: {str(exc).splitlines()[0]}") from None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
