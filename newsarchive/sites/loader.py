"""Read and validate declared-site files (``newsarchive/sites/*.toml``) into frozen :class:`SiteSpec`s.

Every problem is one line naming the file and the field: ``cnstock.toml: listing.entry: required``.
Selectors are XPath 1.0 (lxml), compiled here so a typo fails at load time, not mid-crawl, or
``{ json = "a.b.c" }`` tables: a path into JSON embedded in the page (the ``<script>`` element named by
the table's ``json_script``, e.g. Next.js ``__NEXT_DATA__``), with optional processors. ``[[legacy]]``
tables keep an older template of the site readable for the URLs it had (old WARC records reparse).
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
_TOP_KEYS |= {"legacy"}
_LISTING_KEYS = {"columns", "entry", "link", "title", "date", "date_formats", "page_pattern", "first_page"}
_LISTING_KEYS |= {"next_link", "json_script"}
_LEGACY_LISTING_KEYS = _LISTING_KEYS - {"columns", "page_pattern", "first_page", "next_link"}
_ARTICLE_KEYS = {"title", "time", "source", "author", "body", "date_formats", "strip_labels", "json_script"}
_LEGACY_KEYS = {"url", "listing", "article"}
_JSON_KEYS = {"json", "strip_prefix", "format"}
JSON_STEP = re.compile(r"[^.\s]+")  # one key (or list index) of a dotted JSON path
_BOILERPLATE_KEYS = {"drop", "cut_from", "drop_paragraphs"}


class SiteFileError(ValueError):
    """A site file that cannot be used; the message is one line: ``<file>: <field>: <problem>``."""


@dataclass(frozen=True)
class JsonSelector:
    """A value in JSON embedded in the page: ``path`` steps (keys, or digits for list indexes) from the
    document in the table's ``json_script`` element, or, for listing fields other than ``entry``, from
    the row. Processors, in order: ``format`` (a ``str.format`` template with one ``{}`` for the
    value, e.g. ``/commonDetail/{}``), then ``strip_prefix`` (the first matching prefix is removed)."""

    path: tuple[str, ...]
    strip_prefix: tuple[str, ...] = ()
    format: str | None = None


Selector = str | JsonSelector  # a str is an XPath 1.0 expression


@dataclass(frozen=True)
class ListingSpec:
    columns: tuple[tuple[str, str], ...]  # (column name, absolute start URL), in file order
    entry: Selector  # XPath of one row, or a JSON selector of the list of rows
    link: Selector  # relative to the row: the article href (relative hrefs are joined)
    title: Selector | None
    date: Selector | None
    date_formats: tuple[str, ...]  # strptime formats: a date with a year is rewritten as ISO text
    page_pattern: str | None  # e.g. "index_{n}.html", joined to the column's start URL
    first_page: int  # the {n} of the second page (the start URL is page 0)
    next_link: str | None  # XPath of the next page's href, when pages are linked rather than numbered
    json_script: str | None = None  # XPath of the <script> holding the page's JSON (JSON selectors)


@dataclass(frozen=True)
class ArticleSpec:
    title: tuple[Selector, ...]  # each field: ordered fallbacks, newest template first
    time: tuple[Selector, ...]
    source: tuple[Selector, ...]
    author: tuple[Selector, ...]
    body: tuple[Selector, ...]  # empty: the generic extractor (trafilatura) finds the main text
    date_formats: tuple[str, ...]  # strptime formats for ``time``: a match is rewritten as ISO text
    strip_labels: tuple[str, ...]  # prefixes removed from source and author ("来源：", "作者：")
    json_script: str | None = None  # XPath of the <script> holding the page's JSON (JSON selectors)


@dataclass(frozen=True)
class LegacySpec:
    """An older template of the site, used for the URLs ``url`` matches (searched, not anchored)."""

    url: re.Pattern[str]
    listing: ListingSpec | None
    article: ArticleSpec | None


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
    legacy: tuple[LegacySpec, ...] = ()  # older templates, first match wins

    def column_url(self, column: str) -> str:
        for name, url in self.listing.columns:
            if name == column:
                return url
        raise KeyError(f"{self.name}: no column {column!r}")

    def article_for(self, url: str) -> ArticleSpec:
        """The article template of ``url``: the first legacy one whose ``url`` matches, else the current."""
        for legacy in self.legacy:
            if legacy.article is not None and legacy.url.search(url):
                return legacy.article
        return self.article

    def listing_for(self, url: str) -> ListingSpec:
        """The listing template of ``url``, chosen like :meth:`article_for`."""
        for legacy in self.legacy:
            if legacy.listing is not None and legacy.url.search(url):
                return legacy.listing
        return self.listing

    def is_legacy_listing(self, url: str) -> bool:
        return any(legacy.listing is not None and legacy.url.search(url) for legacy in self.legacy)


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
            listing=self.listing(self.table(document, "listing", "listing"), base_url, ""),
            article=self.article(self.table(document, "article", "article")),
            boilerplate=self.boilerplate(document.get("boilerplate", {})),
            path=self.where,
            legacy=self.legacies(document.get("legacy", [])),
        )

    def legacies(self, value: Any) -> tuple[LegacySpec, ...]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail("legacy", f"must be an array of tables ([[legacy]]), not {_kind(value)}")
        found: list[LegacySpec] = []
        for index, table in enumerate(value):
            prefix = f"legacy[{index}]"
            self.known(table, _LEGACY_KEYS, f"{prefix}.")
            url = self.regex(self.text(table, "url", f"{prefix}.url"), f"{prefix}.url")
            listing = article = None
            if "listing" in table:
                listing = self.listing(self.table(table, "listing", f"{prefix}.listing"), "", f"{prefix}.")
            if "article" in table:
                article = self.article(self.table(table, "article", f"{prefix}.article"), f"{prefix}.")
            if listing is None and article is None:
                raise self.fail(prefix, "needs a listing or an article table")
            found.append(LegacySpec(url=url, listing=listing, article=article))
        return tuple(found)

    def id_pattern(self, document: Mapping[str, Any]) -> re.Pattern[str]:
        pattern = self.regex(self.text(document, "id_pattern", "id_pattern"), "id_pattern")
        if pattern.groups != 1:
            raise self.fail("id_pattern", f"needs exactly one group (the id), found {pattern.groups}")
        return pattern

    def listing(self, table: Mapping[str, Any], base_url: str, at: str) -> ListingSpec:
        """``[listing]`` (``at`` is ""), or a legacy one (``at`` is "legacy[N]."): no columns or paging."""
        legacy = bool(at)
        self.known(table, _LEGACY_LISTING_KEYS if legacy else _LISTING_KEYS, f"{at}listing.")
        resolved: list[tuple[str, str]] = []
        if not legacy:
            columns = self.table(table, "columns", "listing.columns")
            if not columns:
                raise self.fail("listing.columns", "needs at least one column (name = path)")
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
        field = f"{at}listing."
        json_script = self.optional_xpath(table, "json_script", f"{field}json_script")
        if "entry" not in table:
            raise self.fail(f"{field}entry", "required")
        entry = self.selector(table["entry"], f"{field}entry", json_script, f"{field}json_script")
        row_json = isinstance(entry, JsonSelector)  # row fields are read from the row's JSON

        def row_field(key: str) -> Selector | None:
            if key not in table:
                return None
            if isinstance(table[key], dict) and not row_json:
                raise self.fail(f"{field}{key}", f"a JSON selector needs a JSON {field}entry")
            if row_json and not isinstance(table[key], dict):  # an XPath over a JSON row finds nothing
                raise self.fail(f"{field}{key}", f"a JSON {field}entry needs JSON row selectors")
            return self.selector(table[key], f"{field}{key}", "row" if row_json else None, "")

        link = row_field("link")
        if link is None:
            raise self.fail(f"{field}link", "required")
        return ListingSpec(
            columns=tuple(resolved),
            entry=entry,
            link=link,
            title=row_field("title"),
            date=row_field("date"),
            date_formats=self.strings(table, "date_formats", f"{field}date_formats"),
            page_pattern=page_pattern,
            first_page=first_page,
            next_link=next_link,
            json_script=json_script,
        )

    def article(self, table: Mapping[str, Any], at: str = "") -> ArticleSpec:
        field = f"{at}article."
        self.known(table, _ARTICLE_KEYS, field)
        if "title" not in table:
            raise self.fail(f"{field}title", "required")
        json_script = self.optional_xpath(table, "json_script", f"{field}json_script")

        def selectors(key: str) -> tuple[Selector, ...]:
            return self.selectors(table, key, f"{field}{key}", json_script, f"{field}json_script")

        return ArticleSpec(
            title=selectors("title"),
            time=selectors("time"),
            source=selectors("source"),
            author=selectors("author"),
            body=selectors("body"),
            date_formats=self.strings(table, "date_formats", f"{field}date_formats"),
            strip_labels=self.strings(table, "strip_labels", f"{field}strip_labels"),
            json_script=json_script,
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

    def selectors(
        self, parent: Mapping[str, Any], key: str, field: str, json_script: str | None, script_field: str
    ) -> tuple[Selector, ...]:
        """A field given as one selector or a list of fallbacks (XPath strings or JSON tables)."""
        value = parent.get(key, [])
        if not isinstance(value, list):
            value = [value]
        if key in parent and not value:
            raise self.fail(field, "must not be empty (leave the key out instead)")
        if len(value) == 1:
            return (self.selector(value[0], field, json_script, script_field, listed=True),)
        return tuple(
            self.selector(item, f"{field}[{i}]", json_script, script_field, listed=True)
            for i, item in enumerate(value)
        )

    def selector(
        self, value: Any, field: str, json_script: str | None, script_field: str, listed: bool = False
    ) -> Selector:
        """An XPath string or a ``{ json = "a.b", strip_prefix = …, format = "…{}…" }`` table;
        ``json_script`` is None when there is no JSON to read (a JSON table is then an error)."""
        if isinstance(value, str):
            if not value.strip():
                raise self.fail(field, "must be a non-empty string")
            return self.xpath(value, field)
        if not isinstance(value, dict):
            if listed:
                raise self.fail(field, "must be a non-empty string (an XPath) or a { json = … } table")
            raise self.fail(field, f"must be a string, not {_kind(value)} (or a {{ json = … }} table)")
        self.known(value, _JSON_KEYS, f"{field}.")
        if json_script is None:
            raise self.fail(field, f"a JSON selector needs {script_field}")
        path = self.text(value, "json", f"{field}.json")
        steps = tuple(path.split("."))
        if not all(JSON_STEP.fullmatch(step) for step in steps):
            raise self.fail(f"{field}.json", f"{path!r} has an empty step (or a space)")
        template = self.optional_text(value, "format", f"{field}.format")
        if template is not None and template.count("{}") != 1:
            raise self.fail(f"{field}.format", "must contain {} once (where the value goes)")
        if template is not None:
            try:
                template.format("x")
            except (IndexError, KeyError, ValueError) as error:
                raise self.fail(f"{field}.format", f"bad template {template!r}: {error}") from error
        prefixes = self.strings(value, "strip_prefix", f"{field}.strip_prefix")
        return JsonSelector(path=steps, strip_prefix=prefixes, format=template)

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
