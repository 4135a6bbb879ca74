"""Tests for newsarchive.files.atomic_write: a file is replaced only by a complete new one."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from newsarchive.files import atomic_write

PREVIOUS = '{"previous": "export"}\n'


def test_atomic_write_replaces_the_file_only_when_the_block_succeeds(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text(PREVIOUS, encoding="utf-8")
    target.chmod(0o640)

    with pytest.raises(RuntimeError), atomic_write(target) as stream:
        stream.write("half of a new export\n")
        raise RuntimeError("the database went away")
    assert target.read_text(encoding="utf-8") == PREVIOUS
    assert list(tmp_path.iterdir()) == [target]

    with atomic_write(target) as stream:
        stream.write("新的\n")
    assert target.read_bytes() == "新的\n".encode()
    assert list(tmp_path.iterdir()) == [target]
    assert target.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "new.jsonl") as stream:
            stream.write("{}\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.jsonl").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def test_a_symbolic_link_keeps_pointing_at_the_new_file(tmp_path: Path) -> None:
    real = tmp_path / "exports" / "2026.jsonl"
    real.parent.mkdir()
    real.write_text(PREVIOUS, encoding="utf-8")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)

    with atomic_write(link) as stream:
        stream.write("{}\n")

    assert link.is_symlink() and link.resolve() == real
    assert real.read_text(encoding="utf-8") == "{}\n"
    assert sorted(path.name for path in real.parent.iterdir()) == ["2026.jsonl"]


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()))
    reader.start()

    with atomic_write(fifo) as stream:
        stream.write("流\n")
    reader.join()

    assert read == ["流\n".encode()]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert list(tmp_path.iterdir()) == [fifo]
