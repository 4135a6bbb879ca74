"""Atomic file replacement for the exports: write a temporary file beside the target, fsync it, rename
it over the target, fsync the folder. Whatever happens (a full disk, a database error, a crash), the
target is the previous complete file or the new complete one, never a part of either.

A temporary file is named ``.<target name>.<random>.tmp``: a dotfile, so Jekyll never publishes one
left in ``_posts``. Any failure removes it; only a killed process (SIGKILL, power loss) leaves it.
A symbolic link is followed (the file it names is replaced, the link stays); a target that exists
and is no regular file (``/dev/stdout``, ``/dev/null``, a FIFO) is written in place, as there is
nothing to replace.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO


@contextmanager
def atomic_write(target: Path) -> Iterator[TextIO]:
    """A UTF-8 text stream whose content replaces ``target`` when the block ends without an exception;
    on an exception ``target`` is left as it was. The folder must exist."""
    if target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8", newline="\n") as stream:
            yield stream
        return
    target = target.resolve()
    mode = _mode_for(target)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, mode)
        with open(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())  # the data is on disk before the name points at it
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _mode_for(target: Path) -> int:
    """The target's permissions when it exists, else those of a new file (mkstemp's are 0600)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0o022)  # reading the umask means setting it: put it back at once
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable. Some filesystems cannot fsync a folder; the file is complete
    either way, so that is not an error."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
