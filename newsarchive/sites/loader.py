"""Read and validate declared-site files (``newsarchive/sites/*.toml``) into frozen :class:`SiteSpec`s.

Every problem is one line naming the file and the field: ``cnstock.toml: listing.entry: required``.
Selectors are XPath 1.0 (lxml), compiled here so a typo fails at load time, not mid-crawl.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from newsarchive.resources import package_folder
from newsarchive.text.media import canonical_media, is_known_media

SITES_FOLDER = package_folder("newsarchive", "sites")  # a real folder even inside a zipped egg
NAME = re.compile(r"[a-z][a-z0-9_]*")  # also the Scrapy spider name
NAMESPACE = re.compile(r"[A-Z][A-Z0-9]*")
COLUMN = re.compile(r"[A-Za-z0-9_-]+")
PAGE_NUMBER = "{n}"

_TOP_KEYS = {"name", "media", "base_url", "id_namespace", "id_pattern", "listing", "article", "boilerplate"}
_LISTING_KEYS = {"columns", "entry", "link", "title", "date", "date_formats", "page_pattern", "first_page"}
_LISTING_KEYS |= {"next_link"}
_ARTICLE_KEYS = {"title", "time", "source", "author", "body", "date_formats", "strip_labels"}
_BOILERPLATE_KEYS = {"drop", "cut_from", "drop_paragraphs"}


class SiteFileError(ValueError):
    """A site file that cannot be used; the message is one line: ``<file>: <field>: <problem>``."""


@dataclass(frozen=True)
class ListingSpec:
    columns: tuple[tuple[str, str], ...]  # (column name, absolute start URL), in file order
    entry: str  # XPath of one row
    link: str  # XPath relative to the row: the article href (relative hrefs are joined)
    title: str | None
    date: str | None
    date_formats: tuple[str, ...]  # strftime hints for the raw list date (documentation for callers)
    page_pattern: str | None  # e.g. "index_{n}.html", joined to the column's start URL
    first_page: int  # the {n} of the second page (the start URL is page 0)
    next_link: str | None  # XPath of the next page's href, when pages are linked rather than numbered


@dataclass(frozen=True)
class ArticleSpec:
    title: tuple[str, ...]  # each field: ordered XPath fallbacks, newest template first
    time: tuple[str, ...]
    source: tuple[str, ...]
    author: tuple[str, ...]
    body: tuple[str, ...]  # empty: the generic extractor (trafilatura) finds the main text
    date_formats: tuple[str, ...]
    strip_labels: tuple[str, ...]  # prefixes removed from source and author ("来源：", "作者：")


@dataclass(frozen=True)
class BoilerplateSpec:
    drop: tuple[str, ...] = ()  # XPaths, relative to the body node, of nodes to remove
    cut_from: tuple[re.Pattern[str], ...] = ()  # first body child whose text matches: it and all after go
    drop_paragraphs: tuple[re.Pattern[str], ...] = ()  # body children whose text matches are removed


@dataclass(frozen=True)
class SiteSpec:
    name: str
    media: str
    base_url: str
    id_namespace: str
    id_pattern: re.Pattern[str]
    listing: ListingSpec
    article: ArticleSpec
    boilerplate: BoilerplateSpec
    path: str  # the file it came from, for messages

    def column_url(self, column: str) -> str:
        for name, url in self.listing.columns:
            if name == column:
                return url
        raise KeyError(f"{self.name}: no column {column!r}")


def load_site(path: Path | str) -> SiteSpec:
    """Read one site file; raises :class:`SiteFileError` with a one-line message."""
    path = Path(path)
    where = _shown(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SiteFileError(f"{where}: cannot read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise SiteFileError(f"{where}: not valid TOML: {error}") from error
    return _Reader(where).site(document)


def load_sites(folder: Path | str = SITES_FOLDER) -> list[SiteSpec]:
    """Every ``*.toml`` in ``folder``, sorted by file name; site names must be unique."""
    sites: list[SiteSpec] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        site = load_site(path)
        if site.name in seen:
            raise SiteFileError(f"{site.path}: name: {site.name!r} is already declared in {seen[site.name]}")
        seen[site.name] = site.path
        sites.append(site)
    return sites


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Reader:
    """Validation with the file name at hand; each method names the field it checks."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, problem: str) -> SiteFileError:
        return SiteFileError(f"{self.where}: {field}: {problem}")

    def site(self, document: Mapping[str, Any]) -> SiteSpec:
        self.known(document, _TOP_KEYS, "")
        name = self.text(document, "name", "name")
        if not NAME.fullmatch(name):
            raise self.fail("name", f"{name!r} must match {NAME.pattern} (it is the spider name)")
        media = self.text(document, "media", "media")
        if not is_known_media(media) or canonical_media(media) != media:
            raise self.fail(
                "media", f"{media!r} is not a canonical outlet name in newsarchive/data/media.toml"
            )
        base_url = self.text(document, "base_url", "base_url")
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
            raise self.fail("base_url", f"{base_url!r} is not an absolute http(s) URL")
        namespace = self.text(document, "id_namespace", "id_namespace")
        if not NAMESPACE.fullmatch(namespace):
            raise self.fail("id_namespace", f"{namespace!r} must match {NAMESPACE.pattern}")
        return SiteSpec(
            name=name,
            media=media,
            base_url=base_url,
            id_namespace=namespace,
            id_pattern=self.id_pattern(document),
            listing=self.listing(self.table(document, "listing", "listing"), base_url),
            article=self.article(self.table(document, "article", "article")),
            boilerplate=self.boilerplate(document.get("boilerplate", {})),
            path=self.where,
        )

    def id_pattern(self, document: Mapping[str, Any]) -> re.Pattern[str]:
        pattern = self.regex(self.text(document, "id_pattern", "id_pattern"), "id_pattern")
        if pattern.groups != 1:
            raise self.fail("id_pattern", f"needs exactly one group (the id), found {pattern.groups}")
        return pattern

    def listing(self, table: Mapping[str, Any], base_url: str) -> ListingSpec:
        self.known(table, _LISTING_KEYS, "listing.")
        columns = self.table(table, "columns", "listing.columns")
        if not columns:
            raise self.fail("listing.columns", "needs at least one column (name = path)")
        resolved: list[tuple[str, str]] = []
        for column, value in columns.items():
            field = f"listing.columns.{column}"
            if not COLUMN.fullmatch(column):
                raise self.fail(field, f"column names must match {COLUMN.pattern}")
            if not isinstance(value, str) or not value.strip():
                raise self.fail(field, "must be a non-empty string (a path or URL)")
            resolved.append((column, urljoin(base_url, value.strip())))
        page_pattern = self.optional_text(table, "page_pattern", "listing.page_pattern")
        if page_pattern is not None and PAGE_NUMBER not in page_pattern:
            raise self.fail("listing.page_pattern", f"must contain {PAGE_NUMBER}")
        next_link = self.optional_xpath(table, "next_link", "listing.next_link")
        if page_pattern is not None and next_link is not None:
            raise self.fail("listing.next_link", "give page_pattern or next_link, not both")
        first_page = table.get("first_page", 1)
        if "first_page" in table and page_pattern is None:
            raise self.fail("listing.first_page", "only meaningful with page_pattern")
        if not isinstance(first_page, int) or isinstance(first_page, bool) or first_page < 0:
            raise self.fail("listing.first_page", "must be a non-negative integer")
        return ListingSpec(
            columns=tuple(resolved),
            entry=self.xpath(self.text(table, "entry", "listing.entry"), "listing.entry"),
            link=self.xpath(self.text(table, "link", "listing.link"), "listing.link"),
            title=self.optional_xpath(table, "title", "listing.title"),
            date=self.optional_xpath(table, "date", "listing.date"),
            date_formats=self.strings(table, "date_formats", "listing.date_formats"),
            page_pattern=page_pattern,
            first_page=first_page,
            next_link=next_link,
        )

    def article(self, table: Mapping[str, Any]) -> ArticleSpec:
        self.known(table, _ARTICLE_KEYS, "article.")
        if "title" not in table:
            raise self.fail("article.title", "required")
        selectors = {key: self.xpaths(table, key, f"article.{key}") for key in ("title", "time", "source")}
        return ArticleSpec(
            title=selectors["title"],
            time=selectors["time"],
            source=selectors["source"],
            author=self.xpaths(table, "author", "article.author"),
            body=self.xpaths(table, "body", "article.body"),
            date_formats=self.strings(table, "date_formats", "article.date_formats"),
            strip_labels=self.strings(table, "strip_labels", "article.strip_labels"),
        )

    def boilerplate(self, table: Any) -> BoilerplateSpec:
        if not isinstance(table, dict):
            raise self.fail("boilerplate", f"must be a table, not {_kind(table)}")
        self.known(table, _BOILERPLATE_KEYS, "boilerplate.")
        drop = self.strings(table, "drop", "boilerplate.drop")
        return BoilerplateSpec(
            drop=tuple(self.xpath(value, f"boilerplate.drop[{i}]") for i, value in enumerate(drop)),
            cut_from=self.regexes(table, "cut_from", "boilerplate.cut_from"),
            drop_paragraphs=self.regexes(table, "drop_paragraphs", "boilerplate.drop_paragraphs"),
        )

    # -- field helpers ------------------------------------------------------------------------

    def known(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def table(self, parent: Mapping[str, Any], key: str, field: str) -> dict[str, Any]:
        if key not in parent:
            raise self.fail(field, "required")
        value = parent[key]
        if not isinstance(value, dict):
            raise self.fail(field, f"must be a table, not {_kind(value)}")
        return value

    def text(self, parent: Mapping[str, Any], key: str, field: str) -> str:
        if key not in parent:
            raise self.fail(field, "required")
        value = self.optional_text(parent, key, field)
        assert value is not None
        return value

    def optional_text(self, parent: Mapping[str, Any], key: str, field: str) -> str | None:
        if key not in parent:
            return None
        value = parent[key]
        if not isinstance(value, str):
            raise self.fail(field, f"must be a string, not {_kind(value)}")
        if not value.strip():
            raise self.fail(field, "must not be empty")
        return value.strip()

    def strings(self, parent: Mapping[str, Any], key: str, field: str) -> tuple[str, ...]:
        value = parent.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(field, f"must be a string or a list of strings, not {_kind(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{field}[{index}]", "must be a non-empty string")
        return tuple(value)

    def xpath(self, expression: str, field: str) -> str:
        try:
            etree.XPath(expression)
        except etree.XPathSyntaxError as error:
            raise self.fail(field, f"bad XPath {expression!r}: {error}") from error
        return expression

    def optional_xpath(self, parent: Mapping[str, Any], key: str, field: str) -> str | None:
        value = self.optional_text(parent, key, field)
        return None if value is None else self.xpath(value, field)

    def xpaths(self, parent: Mapping[str, Any], key: str, field: str) -> tuple[str, ...]:
        values = self.strings(parent, key, field)
        if key in parent and not values:
            raise self.fail(field, "must not be empty (leave the key out instead)")
        if len(values) == 1:
            return (self.xpath(values[0], field),)
        return tuple(self.xpath(value, f"{field}[{i}]") for i, value in enumerate(values))

    def regex(self, pattern: str, field: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error as error:
            raise self.fail(field, f"bad regular expression {pattern!r}: {error}") from error

    def regexes(self, parent: Mapping[str, Any], key: str, field: str) -> tuple[re.Pattern[str], ...]:
        values = self.strings(parent, key, field)
        return tuple(self.regex(value, f"{field}[{i}]") for i, value in enumerate(values))


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
