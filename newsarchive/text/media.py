"""Media names: one canonical name per outlet (newsarchive/data/media.toml), its category slug and tag.

Slugs of known outlets come from the table, so they never depend on pypinyin's dictionary (a
polyphone reading could change between releases and silently move an outlet's posts to a new
category URL). Names with no entry keep their spelling and get a pinyin slug computed here.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

# The 7x24 feed is archived under the category and tag the original system gave it.
FAST_NEWS_CATEGORY = "emnews"
FAST_NEWS_TAG = "东财滚动新闻"
MEDIA_TABLE_FILE: Traversable = files("newsarchive") / "data" / "media.toml"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+$")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
# Middle dots seen (or likely) between the two halves of a name such as 上海证券报·中国证券网.
_DOTS = str.maketrans(dict.fromkeys("•・･‧∙⋅●", "·"))
_OUTLET_KEYS = frozenset({"name", "slug", "aliases", "slug_reason"})


class MediaTableError(ValueError):
    """The media table file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Outlet:
    name: str
    slug: str
    aliases: tuple[str, ...] = ()
    slug_reason: str | None = None


@dataclass(frozen=True)
class MediaTable:
    outlets: tuple[Outlet, ...]
    by_key: Mapping[str, Outlet]  # lookup_key(name or alias) → outlet

    def find(self, name: str) -> Outlet | None:
        return self.by_key.get(lookup_key(name))


@lru_cache(maxsize=4096)  # a crawl sees the same few dozen names over and over
def lookup_key(name: str) -> str:
    """What two spellings of one name share: NFKC (full-width → half-width), one middle dot, no
    whitespace or invisible format characters, case-folded. Used for lookups only, never stored."""
    text = unicodedata.normalize("NFKC", name).translate(_DOTS)
    text = "".join(char for char in text if not char.isspace() and unicodedata.category(char) != "Cf")
    return text.casefold()


def load_media_table(path: Path | Traversable) -> MediaTable:
    """Read and validate a media table file (see the comments at the top of newsarchive/data/media.toml)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise MediaTableError(f"{path}: cannot read the media table: {error}") from error
    extra = set(document) - {"outlet"}
    if extra:
        raise MediaTableError(f"{path}: unexpected top-level keys {sorted(extra)}; use [[outlet]] tables")
    entries = document.get("outlet")
    if not isinstance(entries, list) or not entries:
        raise MediaTableError(f"{path}: no [[outlet]] tables")
    outlets: list[Outlet] = []
    by_key: dict[str, Outlet] = {}
    by_slug: dict[str, Outlet] = {}
    for number, entry in enumerate(entries, start=1):
        outlet = _outlet(path, number, entry)
        where = f"{path}: outlet #{number} ({outlet.name!r})"
        if outlet.slug in by_slug:
            raise MediaTableError(f"{where}: slug {outlet.slug!r} is already {by_slug[outlet.slug].name!r}'s")
        by_slug[outlet.slug] = outlet
        own: dict[str, str] = {}
        for position, spelling in enumerate((outlet.name, *outlet.aliases)):
            key = lookup_key(spelling)
            kind = "alias" if position else "name"
            if not key:
                raise MediaTableError(f"{where}: {kind} {spelling!r} is empty once normalized")
            if key in own:
                raise MediaTableError(f"{where}: duplicate alias {spelling!r} (same as {own[key]!r})")
            if key in by_key:
                other = by_key[key].name
                raise MediaTableError(f"{where}: {kind} {spelling!r} already maps to outlet {other!r}")
            own[key] = spelling
            by_key[key] = outlet
        outlets.append(outlet)
    return MediaTable(tuple(outlets), by_key)


def _outlet(path: Path | Traversable, number: int, entry: Any) -> Outlet:
    if not isinstance(entry, dict):
        raise MediaTableError(f"{path}: outlet #{number}: not a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise MediaTableError(f"{path}: outlet #{number}: `name` must be a non-empty string, got {name!r}")
    where = f"{path}: outlet #{number} ({name!r})"
    unknown = set(entry) - _OUTLET_KEYS
    if unknown:
        raise MediaTableError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(_OUTLET_KEYS)})")
    slug = entry.get("slug")
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise MediaTableError(f"{where}: slug {slug!r} does not match {SLUG_PATTERN.pattern}")
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise MediaTableError(f"{where}: `aliases` must be a list of non-empty strings, got {aliases!r}")
    reason = entry.get("slug_reason")
    if reason is not None and not (isinstance(reason, str) and reason.strip()):
        raise MediaTableError(f"{where}: `slug_reason` must be a non-empty string, got {reason!r}")
    return Outlet(name=name, slug=slug, aliases=tuple(aliases), slug_reason=reason)


@lru_cache(maxsize=1)
def media_table() -> MediaTable:
    """The packaged table, read and validated once per process."""
    return load_media_table(MEDIA_TABLE_FILE)


def canonical_media(name: str) -> str:
    """The outlet's canonical name for any alias (证券日报 → 证券日报网); other names stripped, as is."""
    outlet = media_table().find(name)
    return outlet.name if outlet is not None else name.strip()


def is_known_media(name: str) -> bool:
    return media_table().find(name) is not None


def pinyin_slug(name: str) -> str:
    """Pinyin of ``name`` as lower-case ASCII letters and digits, never empty ("unknown" then)."""
    # imported here: its dictionary takes 0.16 s to load, a tenth of a quiet scheduled run, and the
    # outlets a run meets are nearly always in the table
    from pypinyin import Style, lazy_pinyin

    text = unicodedata.normalize("NFKC", name.strip())
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="default")  # non-Chinese kept as is
    slug = _NON_SLUG.sub("", "".join(syllables).lower())
    return slug or "unknown"


@lru_cache(maxsize=4096)
def category_slug(media: str) -> str:
    """Category of an outlet: the table's slug (证券日报 → zhengquanribaowang), else its pinyin."""
    outlet = media_table().find(media)
    return outlet.slug if outlet is not None else pinyin_slug(media)


def media_tag(media: str) -> str:
    """The tag the original site used for an outlet's posts: 证券日报网 → 证券日报网新闻."""
    return f"{media.strip()}新闻"
