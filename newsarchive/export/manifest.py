"""The Jekyll export's record of the posts it wrote, ``OUT/.newsarchive-export.json`` (issue 14), and
the removal of the posts an earlier export wrote that are no longer part of the export.

The manifest is JSON, written atomically after the posts (a dotfile: Jekyll never publishes it)::

    {"format": "newsarchive-export", "version": 1,
     "posts": {"_posts/2022-04-29-NW202204292366280343.md": "<sha256 of the file's bytes>", ...}}

Paths are relative to the site folder with ``/`` separators, sorted, so an unchanged export writes
the same bytes (and the manifest is not rewritten). The hashes let a later export tell a post it
wrote from one the user edited since, and let an incremental export (issue 18) skip unchanged posts.

Only the manifest says what the export owns, and a manifest may be damaged or hostile, so a post is
removed only when all of these hold: its entry is exactly ``_posts/<name>`` with a plain file name
(no ``..``, no absolute path, no folder, no dotfile), ``OUT/_posts`` is a real folder (not a
symbolic link), the file is a regular file (not a symbolic link) and its bytes still have the
recorded hash. A post that fails the last check was changed by someone else: it is kept, a warning
says so, and the manifest forgets it (it is the user's now). Anything else is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.files import atomic_write

MANIFEST_NAME = ".newsarchive-export.json"
FORMAT = "newsarchive-export"
VERSION = 1
POSTS_FOLDER = "_posts"
_SHA256_HEX = frozenset("0123456789abcdef")


class ManifestError(ValueError):
    """A manifest that cannot be trusted as a whole: not JSON, another format, an unknown version."""


@dataclass
class Removal:
    """What :func:`remove_stale` did with the previous export's posts that left the export."""

    removed: list[str] = field(default_factory=list)  # relative paths, deleted
    kept: list[str] = field(default_factory=list)  # one warning each: not removed, and why
    failed: dict[str, str] = field(default_factory=dict)  # could not be removed now: tried again next time


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def post_path(name: str) -> str:
    """The manifest's path of the post file ``name``."""
    return f"{POSTS_FOLDER}/{name}"


def post_name(path: str) -> str | None:
    """The file name in ``_posts/`` that a manifest path names, or None when it names anything else
    (another folder, ``..``, an absolute path, a subfolder, a dotfile, a non-Markdown file)."""
    folder, separator, name = path.partition("/")
    if folder != POSTS_FOLDER or not separator:
        return None
    if not name.endswith(".md") or name.startswith(".") or any(char in name for char in "/\\\0"):
        return None
    return name


def render_manifest(posts: Mapping[str, str]) -> str:
    document = {"format": FORMAT, "version": VERSION, "posts": dict(sorted(posts.items()))}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def parse_manifest(text: str) -> dict[str, str]:
    """The posts of a manifest; entries whose value is not a SHA-256 are dropped (never trusted)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ManifestError(f"not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ManifestError(f"not a {FORMAT} manifest")
    if document.get("version") != VERSION:
        raise ManifestError(f"version {document.get('version')!r}, this newsarchive writes {VERSION}")
    posts = document.get("posts")
    if not isinstance(posts, dict):
        raise ManifestError("no posts")
    return {path: sha for path, sha in posts.items() if isinstance(path, str) and _is_sha256(sha)}


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256_HEX


def read_manifest(out: Path) -> tuple[dict[str, str], str | None]:
    """The posts recorded in ``out``'s manifest (none when there is none) and, when it could not be
    used, a warning saying why. A manifest that is a symbolic link or no regular file is not read."""
    manifest = out / MANIFEST_NAME
    try:
        with _open_regular(manifest) as stream:
            text = stream.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return {}, None
    except OSError as error:
        return {}, _ignored(manifest, error.strerror or str(error))
    try:
        return parse_manifest(text), None
    except ManifestError as error:
        return {}, _ignored(manifest, str(error))


def _ignored(manifest: Path, reason: str) -> str:
    return f"ignored {manifest}: {reason}; no post of an earlier export was removed"


@contextlib.contextmanager
def _open_regular(path: Path) -> Iterator[Any]:
    """``path`` opened for reading, refusing a symbolic link (ELOOP) and anything but a regular file."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(0, "not a regular file")
        yield stream


def write_manifest(out: Path, posts: Mapping[str, str]) -> None:
    """Replace the manifest atomically, unless it already holds the same bytes (then nothing is
    written: an unchanged export needs no free space). A symbolic link in its place is replaced
    itself, never the file it names."""
    text = render_manifest(posts)
    manifest = out / MANIFEST_NAME
    try:
        with _open_regular(manifest) as stream:
            if stream.read() == text.encode("utf-8"):
                return
    except OSError:
        pass
    with atomic_write(manifest, follow_symlinks=False) as stream:
        stream.write(text)


def remove_stale(out: Path, previous: Mapping[str, str], current: Mapping[str, str]) -> Removal:
    """Remove the posts ``previous`` recorded that ``current`` does not hold, as the module docstring
    says; returns what was removed, kept and could not be removed."""
    removal = Removal()
    stale = sorted(set(previous) - set(current))
    if not stale:
        return removal
    folder = out / POSTS_FOLDER
    names = {path: post_name(path) for path in stale}
    unsafe = [path for path, name in names.items() if name is None]
    if unsafe:
        removal.kept.append(
            f"ignored {len(unsafe)} entries of {out / MANIFEST_NAME} that name no post in {folder} "
            f"(first: {unsafe[0]!r})"
        )
    try:  # every look and removal goes through this descriptor: the folder cannot be swapped meanwhile
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return removal
    except OSError as error:
        why = "a symbolic link" if folder.is_symlink() else f"not a folder ({error.strerror or error})"
        removal.kept.append(f"removed no post of an earlier export: {folder} is {why}")
        return removal
    try:
        for path, name in names.items():
            if name is not None:
                _remove_post(descriptor, path, name, previous[path], removal)
    finally:
        os.close(descriptor)
    return removal


def _remove_post(folder: int, path: str, name: str, recorded: str, removal: Removal) -> None:
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return  # already gone
    except OSError as error:
        if error.errno == errno.ELOOP:
            removal.kept.append(f"kept {path}: a symbolic link, not a post newsarchive wrote")
        else:
            removal.failed[path] = recorded
            removal.kept.append(f"could not remove {path}: {error.strerror or error}")
        return
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            removal.kept.append(f"kept {path}: not a regular file")
            return
        data = stream.read()
    if digest(data) != recorded:
        removal.kept.append(f"kept {path}: changed since newsarchive wrote it, and no longer exported")
        return
    try:
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        return
    except OSError as error:
        removal.failed[path] = recorded
        removal.kept.append(f"could not remove {path}: {error.strerror or error}")
        return
    removal.removed.append(path)
