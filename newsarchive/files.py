"""Appending whole records to files: a write that fails (a full disk) leaves the file as it was.

Used for WARC records and dead letters, which are appended one record at a time by crawls that may
meet a full disk: a record half-written would damage every reader's view of the file after it.
"""

from __future__ import annotations

import contextlib
import os


def append_whole(descriptor: int, data: bytes, *, sync: bool = False) -> None:
    """Append ``data`` at the end of the open file, all of it or none of it: on an error the file is
    cut back to its length before the call (which needs no free space) and the error raised.
    Unbuffered, so nothing is left behind to fail again when the file is closed; ``sync`` also
    waits for the data to reach the disk."""
    start = os.lseek(descriptor, 0, os.SEEK_END)
    try:
        written = 0
        while written < len(data):
            written += os.write(descriptor, data[written:])
        if sync:
            os.fsync(descriptor)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, start)
        raise


def open_for_append(path: os.PathLike[str] | str) -> int:
    """A descriptor appending to ``path`` (created with mode 0644 if missing)."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
