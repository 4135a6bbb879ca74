"""Writing files so that a failure (a full disk, a crash, a kill) never leaves half of anything.

* :func:`append_whole` appends one record to a file, all of it or none of it: WARC records and dead
  letters are appended one at a time by crawls that may meet a full disk, and a record half-written
  would damage every reader's view of the file after it.
* :func:`atomic_write` replaces a whole file (the exports): a temporary file beside the target,
  fsync, rename over the target, fsync the folder. The target is the previous complete file or the
  new complete one, never a part of either. A temporary file is named ``.<target name>.<random>.tmp``:
  a dotfile, so Jekyll never publishes one left in ``_posts``. Any failure removes it; only a killed
  process (SIGKILL, power loss) leaves it. A symbolic link is followed (the file it names is
  replaced, the link stays); a target that exists and is no regular file (``/dev/stdout``,
  ``/dev/null``, a FIFO) is written in place, as there is nothing to replace.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


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


@contextlib.contextmanager
def atomic_write(target: Path, *, follow_symlinks: bool = True) -> Iterator[TextIO]:
    """A UTF-8 text stream whose content replaces ``target`` when the block ends without an exception;
    on an exception ``target`` is left as it was. The folder must exist.

    ``follow_symlinks=False`` (a file only newsarchive writes, such as the Jekyll export's manifest):
    whatever is at ``target`` (a symbolic link, a FIFO) is itself replaced by the new regular file,
    and nothing it names is written or followed."""
    if follow_symlinks and target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8", newline="\n") as stream:
            yield stream
        return
    if follow_symlinks:
        target = target.resolve()
        mode = _mode_for(target)
    else:
        target = target.parent.resolve() / target.name
        mode = _mode_for(target) if target.is_file() and not target.is_symlink() else _new_file_mode()
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
        return _new_file_mode()


def _new_file_mode() -> int:
    umask = os.umask(0o022)  # reading the umask means setting it: put it back at once
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable. Some filesystems cannot fsync a folder; the file is complete
    either way, so that is not an error."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
