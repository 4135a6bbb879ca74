"""Package data folders as folders on disk, also when the package is imported from a zip (the egg
Scrapyd runs): Alembic and the site loader need real directories, so such a folder is copied out
once per process into a temporary folder removed at exit."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


@cache
def package_folder(package: str, name: str) -> Path:
    """The folder ``name`` inside ``package``: where it is installed, or an extracted copy."""
    folder = files(package) / name
    if isinstance(folder, Path):
        return folder
    copy = Path(tempfile.mkdtemp(prefix=f"{package}-{name}-"))
    atexit.register(shutil.rmtree, copy, True)
    _copy_tree(folder, copy)
    return copy


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir()
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())
