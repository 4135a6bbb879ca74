"""A Jekyll export into the folder of an earlier one removes the posts that earlier export wrote and
that are no longer part of the export, and nothing else (issue 14: re-exporting with
``--exclude-duplicates`` left the excluded posts of the previous full export in place).

The archive is a real SQLite file: synthetic articles from the benchmarks' generator, plus the seed
article and three near-duplicate copies stored through the store (BatchWriter links them); every
export is the real command in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bench.synthetic import fill_database
from newsarchive.db.engine import open_database
from newsarchive.db.writer import BatchWriter
from newsarchive.export.manifest import MANIFEST_NAME
from tests.conftest import run_cli
from tests.export.test_jekyll import seed_article
from tests.test_cli import assert_one_line_error

SYNTHETIC = 12
COPIES = ("NW202204292366280351", "NW202204292366280352", "NW202204292366280353")
COPY_POSTS = {f"2022-04-29-{code}.md" for code in COPIES}
OLD = (946_684_800, 946_684_800)  # 2000-01-01: an mtime no export of today can leave by chance


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('archive') / 'archive.db'}"
    fill_database(url, SYNTHETIC, seed=4)
    seed = seed_article()
    copies = [
        replace(
            seed_article(),
            info_code=code,
            url=seed.url.replace("0343", code[-4:]),
            published_at=seed.published_at + timedelta(minutes=n + 1),
        )
        for n, code in enumerate(COPIES)
    ]
    engine = open_database(url)
    result = BatchWriter(engine, near_duplicate_window=timedelta(hours=48)).write([seed, *copies])
    engine.dispose()
    assert (result.new, result.linked) == (4, 3)
    return url


def export(archive: str, site: Path, *flags: str) -> tuple[str, str]:
    done = run_cli("export", "jekyll", "--db", archive, "--out", str(site), *flags, cwd=site.parent)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout, done.stderr


def posts(site: Path) -> set[str]:
    return {path.name for path in (site / "_posts").iterdir()}


def manifest(site: Path) -> dict[str, str]:
    document = json.loads((site / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert (document["format"], document["version"]) == ("newsarchive-export", 1)
    posts: dict[str, str] = document["posts"]
    return posts


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def warnings(stderr: str) -> list[str]:
    prefix = "newsarchive: warning: "
    assert all(line.startswith(prefix) for line in stderr.splitlines()), stderr
    return [line.removeprefix(prefix) for line in stderr.splitlines()]


def test_excluding_duplicates_removes_the_copies_the_full_export_wrote(archive: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export(archive, site)
    full = posts(site)
    assert full >= COPY_POSTS and len(full) == SYNTHETIC + 4
    own_post = site / "_posts" / "2020-01-01-my-own-post.md"  # the user's, never exported
    own_post.write_text("---\ntitle: mine\n---\n", encoding="utf-8")
    own_page = site / "about.md"
    own_page.write_text("about\n", encoding="utf-8")

    stdout, stderr = export(archive, site, "--exclude-duplicates")

    assert posts(site) == (full - COPY_POSTS) | {own_post.name}
    assert stdout == (
        f"wrote {SYNTHETIC + 1} posts to {site / '_posts'}\n"
        "removed 3 posts written by an earlier export and no longer part of it\n"
    )
    assert stderr == ""
    assert own_page.read_text(encoding="utf-8") == "about\n"
    recorded = manifest(site)
    assert set(recorded) == {f"_posts/{name}" for name in full - COPY_POSTS}
    assert all(recorded[path] == sha256(site / path) for path in recorded)


def test_the_full_export_again_brings_the_copies_back(archive: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export(archive, site, "--exclude-duplicates")

    stdout, _ = export(archive, site)

    assert posts(site) >= COPY_POSTS
    assert set(manifest(site)) == {f"_posts/{name}" for name in posts(site)}
    assert "removed" not in stdout


def test_unchanged_posts_and_manifest_are_not_rewritten(archive: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export(archive, site)
    files = [*(site / "_posts").iterdir(), site / MANIFEST_NAME]
    for path in files:
        os.utime(path, OLD)
    before = {path: path.read_bytes() for path in files}

    stdout, stderr = export(archive, site)

    assert (stdout, stderr) == (f"wrote {SYNTHETIC + 4} posts to {site / '_posts'}\n", "")
    assert {path: path.read_bytes() for path in files} == before
    assert {path: int(path.stat().st_mtime) for path in files} == dict.fromkeys(files, OLD[1])


def test_a_post_edited_since_the_export_is_kept_with_a_warning_then_left_alone(
    archive: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    export(archive, site)
    edited = site / "_posts" / sorted(COPY_POSTS)[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n编者按：保留。\n", encoding="utf-8")
    text = edited.read_bytes()

    stdout, stderr = export(archive, site, "--exclude-duplicates")

    assert edited.read_bytes() == text
    assert posts(site) & COPY_POSTS == {edited.name}
    assert "removed 2 posts" in stdout
    assert warnings(stderr) == [
        f"kept _posts/{edited.name}: changed since newsarchive wrote it, and no longer exported"
    ]
    assert f"_posts/{edited.name}" not in manifest(site)  # the user's now: no warning next time
    assert export(archive, site, "--exclude-duplicates")[1] == ""
    assert edited.read_bytes() == text


def test_a_hostile_manifest_deletes_nothing_but_the_posts_it_may_name(archive: str, tmp_path: Path) -> None:
    """Every entry carries the right hash of a file it names, so only the path rules stand between
    the manifest and those files."""
    site = tmp_path / "site"
    export(archive, site)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.md"
    secret.write_text("not the export's\n", encoding="utf-8")
    about = site / "about.md"
    about.write_text("about\n", encoding="utf-8")
    nested = site / "_posts" / "drafts" / "draft.md"
    nested.parent.mkdir()
    nested.write_text("draft\n", encoding="utf-8")
    hidden = site / "_posts" / ".hidden.md"
    hidden.write_text("hidden\n", encoding="utf-8")
    link = site / "_posts" / "2022-01-01-link.md"
    link.symlink_to(secret)
    victims = [secret, about, nested, hidden]
    before = {path: path.read_bytes() for path in victims}
    entries = {
        "../outside/secret.md": secret,
        str(secret): secret,
        "_posts/../about.md": about,
        "_posts/../../outside/secret.md": secret,
        "about.md": about,
        "_posts/drafts/draft.md": nested,
        "_posts//drafts/draft.md": nested,
        "_posts/.hidden.md": hidden,
        "_posts/2022-01-01-link.md": secret,
    }
    recorded = manifest(site)
    hostile = {**recorded, **{path: sha256(target) for path, target in entries.items()}}
    (site / MANIFEST_NAME).write_text(
        json.dumps({"format": "newsarchive-export", "version": 1, "posts": hostile}), encoding="utf-8"
    )

    stdout, stderr = export(archive, site, "--exclude-duplicates")

    assert {path: path.read_bytes() for path in victims} == before
    assert link.is_symlink() and link.read_bytes() == before[secret]
    assert "removed 3 posts" in stdout  # the copies, which the export did write
    assert warnings(stderr) == [
        f"ignored 8 entries of {site / MANIFEST_NAME} that name no post in {site / '_posts'} "
        f"(first: '../outside/secret.md')",
        "kept _posts/2022-01-01-link.md: a symbolic link, not a post newsarchive wrote",
    ]
    assert set(manifest(site)) == {
        f"_posts/{name}" for name in posts(site) - {link.name, ".hidden.md", "drafts"}
    }


def test_a_posts_folder_that_is_a_link_out_of_the_site_loses_nothing(archive: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export(archive, site, "--exclude-duplicates")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stale = elsewhere / "2022-04-29-NW202204292366280353.md"
    stale.write_text("someone else's\n", encoding="utf-8")
    (site / MANIFEST_NAME).write_text(
        json.dumps(
            {
                "format": "newsarchive-export",
                "version": 1,
                "posts": {f"_posts/{stale.name}": sha256(stale)},
            }
        ),
        encoding="utf-8",
    )
    for post in (site / "_posts").iterdir():
        post.unlink()
    (site / "_posts").rmdir()
    (site / "_posts").symlink_to(elsewhere, target_is_directory=True)

    _, stderr = export(archive, site, "--exclude-duplicates")

    assert stale.read_text(encoding="utf-8") == "someone else's\n"
    assert warnings(stderr) == [f"removed no post of an earlier export: {site / '_posts'} is a symbolic link"]


def test_a_manifest_that_is_a_link_is_neither_read_nor_written_through(archive: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export(archive, site)
    target = tmp_path / "precious.json"
    target.write_text('{"keep": true}\n', encoding="utf-8")
    (site / MANIFEST_NAME).unlink()
    (site / MANIFEST_NAME).symlink_to(target)

    _, stderr = export(archive, site, "--exclude-duplicates")

    assert target.read_text(encoding="utf-8") == '{"keep": true}\n'
    assert posts(site) >= COPY_POSTS  # the link recorded nothing: nothing removed
    assert not (site / MANIFEST_NAME).is_symlink()
    assert set(manifest(site)) == {f"_posts/{name}" for name in posts(site) - COPY_POSTS}
    (warning,) = warnings(stderr)
    assert warning.startswith(f"ignored {site / MANIFEST_NAME}: ")
    assert warning.endswith("; no post of an earlier export was removed")


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"format": "newsarchive-export", "version": 99, "posts": {}}', "[]"],
    ids=["not-json", "newer-version", "not-a-manifest"],
)
def test_a_damaged_manifest_removes_nothing_and_is_replaced(
    archive: str, tmp_path: Path, content: str
) -> None:
    site = tmp_path / "site"
    export(archive, site)
    (site / MANIFEST_NAME).write_text(content, encoding="utf-8")

    _, stderr = export(archive, site, "--exclude-duplicates")

    assert posts(site) >= COPY_POSTS
    (warning,) = warnings(stderr)
    assert warning.startswith(f"ignored {site / MANIFEST_NAME}: ")
    assert set(manifest(site)) == {f"_posts/{name}" for name in posts(site) - COPY_POSTS}


def test_an_export_that_fails_part_way_removes_nothing_and_records_what_it_wrote(
    archive: str, tmp_path: Path
) -> None:
    """A damaged archive: the export writes some posts, then fails reading the rest."""
    site = tmp_path / "site"
    export(archive, site, "--exclude-duplicates")
    before = posts(site)
    big = tmp_path / "big.db"
    fill_database(f"sqlite:///{big}", 3000, seed=5)
    with big.open("r+b") as stream:  # 4 KiB overwritten in the middle
        stream.seek(big.stat().st_size // 2)
        stream.write(b"\xde\xad\xbe\xef" * 1024)

    done = run_cli("export", "jekyll", "--db", f"sqlite:///{big}", "--out", str(site), cwd=tmp_path)

    assert assert_one_line_error(done.returncode, done.stderr, expected_code=1).startswith(
        "cannot read database"
    )
    assert before < posts(site)  # nothing removed, some new posts written
    assert set(manifest(site)) == {f"_posts/{name}" for name in posts(site)}
    assert not [path for path in site.rglob(".*") if path.name != MANIFEST_NAME]
