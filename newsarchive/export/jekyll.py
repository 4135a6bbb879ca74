"""Jekyll export in the original system's post format (reference/000_ec9bf5bae55da0f9.txt).

``_posts/<YYYY-MM-DD>-<info_code>.md``: front matter, the cleaned body followed by the source line,
the share link and the back links. Defaults reproduce the original site byte for byte. Each post is
replaced atomically (newsarchive.files), and only when its text changed: an export that
fails part way (full disk, database error) leaves every post whole, old or new. The posts an export
wrote are recorded in the folder's manifest, and the next export removes those that left it
(newsarchive.export.manifest).

Every scraped value is escaped for where it lands (issue 13):
- front matter: the title as a YAML double-quoted scalar; tags and categories in the original's plain
  form (``tags: 证券日报网新闻``, which Jekyll splits on spaces) when every value is a plain YAML word,
  else as a flow list of double-quoted scalars; either way they parse back to the stored values.
  A category that is not a slug also gets a ``permalink:`` without ``:categories``, since Jekyll
  parses the categories in a post's URL as a URI and stops the whole build at one with a colon;
- Markdown text (the 7x24 digest, the source line, the back link's label): every ASCII punctuation
  character as a numeric character reference, so kramdown, Liquid and HTML see no syntax at all;
- the back link's URL: the category percent-encoded;
- the body (sanitized HTML): ``[ ] { } | $`` as character references, so neither Liquid nor kramdown
  (links, images, references, IALs and extensions, tables, math) finds anything to act on even where
  kramdown reads the body as Markdown rather than as an HTML block (and no ``{:/nomarkdown}`` can end
  the block a long post's body is put in, LONG_POST_CHARS).
Short fields are published in their plain-text form (newsarchive.text.plain): the same value for
every row this version stores, and a safe one for rows stored before it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from newsarchive.export.manifest import digest, post_path, read_manifest, remove_stale, write_manifest
from newsarchive.files import atomic_write
from newsarchive.ids import canonical_info_code
from newsarchive.items import FAST_FEED
from newsarchive.text.characters import YAML_ESCAPED, character_class
from newsarchive.text.media import SLUG_PATTERN
from newsarchive.text.plain import plain_text
from newsarchive.text.sanitize import sanitize_html

logger = logging.getLogger(__name__)

DEFAULT_SITE_URL = "//finews.withounder.com"
DEFAULT_SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={info_code}"
SHARE_URL_PLACEHOLDER = "{info_code}"
# The original quoted the list digest above the body only for its 7x24 (东财滚动新闻) posts.
DIGEST_FEEDS = frozenset({FAST_FEED})
# All of ASCII punctuation: escaping it all is simpler to trust than knowing which characters
# kramdown, its GFM parser, Liquid and HTML give a meaning to in which position.
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
# In the body only what can start Liquid or a kramdown construct that makes a link, an image or an
# attribute (or a table, or math) is escaped: the seed body's bytes stay as the original wrote them.
_BODY_SYNTAX = re.compile(r"[\[\]{}|$]")
# Everything a YAML double-quoted scalar cannot hold literally (newsarchive.text.characters).
_YAML_ESCAPES = character_class(YAML_ESCAPED)
_YAML_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# kramdown's time on one line grows with the square of the tags and entities on it: a post with a
# 1.8 M-character body took 221 s to build, one of 50,000 characters 0.3 s. Past this many characters
# the digest and body are passed in {::nomarkdown}, which kramdown copies without parsing (0.1 s for
# 1.8 M); shorter ones keep the original's form, which the seed post must match byte for byte.
LONG_POST_CHARS = 50_000
# Jekyll's default ("date") permalink without :categories, for posts whose category is not a slug.
UNCATEGORIZED_PERMALINK = '"/:year/:month/:day/:title:output_ext"'
# Plain words YAML 1.1 (PyYAML and Ruby's Psych, which Jekyll uses) read as booleans or null.
_YAML_KEYWORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


@dataclass(frozen=True)
class JekyllOptions:
    site_url: str = DEFAULT_SITE_URL
    share_url: str = DEFAULT_SHARE_URL


def post_filename(article: Any) -> str:
    """Built only from the date and a validated info_code, so no input can leave ``_posts/``."""
    return f"{article.published_at:%Y-%m-%d}-{canonical_info_code(article.info_code)}.md"


def render_post(article: Any, options: JekyllOptions = JekyllOptions()) -> str:
    """The post text, with every scraped value escaped for where it lands (see the module docstring)."""
    tags = [tag for tag in map(plain_text, article.tags or []) if tag]
    category = plain_text(article.category) or ""
    summary = plain_text(article.summary) if article.feed in DIGEST_FEEDS else None
    media = plain_text(article.media)
    source = f'<p class="em_media">（文章来源：{markdown_text(media)}）</p>' if media else ""
    # stored bodies are sanitized already; sanitizing again guards rows written by older versions
    body = _inert_body(sanitize_html(article.body_html or ""))
    share = options.share_url.replace(SHARE_URL_PLACEHOLDER, canonical_info_code(article.info_code))
    label = markdown_text(tags[0] if tags else category)
    site = options.site_url.rstrip("/")
    back = f"[返回{label}]({site}/category/{quote(category, safe='')}.html)｜[返回首页]({site}/)"
    front = _front_matter(article, tags, category)
    return "\n".join([*front, _content(summary, body + source), "", f"<{share}>", "", back])


def _front_matter(article: Any, tags: list[str], category: str) -> list[str]:
    lines = [
        "---",
        "layout: post",
        f"title: {yaml_string(plain_text(article.title) or '')}",
        f"date: {article.published_at:%Y-%m-%d %H:%M:%S %z}",
        f"categories: {_yaml_words([category] if category else [])}",
        f"tags: {_yaml_words(tags)}",
    ]
    if category and not SLUG_PATTERN.fullmatch(category):
        lines.append(f"permalink: {UNCATEGORIZED_PERMALINK}")
    return [*lines, "---"]


def _content(summary: str | None, html: str) -> str:
    """The digest as a ``>`` quote, then the body on one line, as the original wrote them; past
    LONG_POST_CHARS both go as HTML in a ``{::nomarkdown}`` block, which kramdown copies as it is."""
    digest = markdown_text(summary) if summary else ""
    if len(digest) + len(html) <= LONG_POST_CHARS:
        return f"> {digest}\n\n{html}" if digest else html
    quote_html = f"<blockquote><p>{digest}</p></blockquote>" if digest else ""
    return f"{{::nomarkdown}}\n{quote_html}{html}\n{{:/nomarkdown}}"


def markdown_text(text: str) -> str:
    """``text`` as Markdown that shows exactly ``text``: ASCII punctuation as character references."""
    return _ASCII_PUNCTUATION.sub(_character_reference, text)


@dataclass(frozen=True)
class JekyllExport:
    """What :func:`write_jekyll` did: posts exported, posts of an earlier export removed, warnings."""

    posts: int
    removed: list[str]
    warnings: list[str]


def write_jekyll(
    articles: Iterable[Any], out_dir: Path, options: JekyllOptions = JekyllOptions()
) -> JekyllExport:
    """Write one post per article under ``out_dir/_posts``, then remove the posts an earlier export
    wrote that are no longer part of it and record this export's posts in the manifest
    (newsarchive.export.manifest); ``posts`` counts the posts exported (written, or already holding
    the same text).

    A row whose info_code is not a valid article code is skipped with a warning: its file
    name could not be trusted (valid: an East Money or a namespaced id, newsarchive.ids)."""
    posts = out_dir / "_posts"
    posts.mkdir(parents=True, exist_ok=True)
    previous, problem = read_manifest(out_dir)
    written: dict[str, str] = {}
    count = 0
    try:
        for article in articles:
            try:
                name = post_filename(article)
            except ValueError:
                logger.warning("skipped article with invalid info_code %r", article.info_code)
                continue
            written[post_path(name)] = _write_post(posts / name, render_post(article, options))
            count += 1
    except BaseException:
        # an export cut short removes nothing, but what it wrote is its own: recorded, so a later
        # export can remove those posts when they leave the export
        with contextlib.suppress(OSError):
            write_manifest(out_dir, {**previous, **written})
        raise
    removal = remove_stale(out_dir, previous, written)
    write_manifest(out_dir, {**written, **removal.failed})  # last: the posts are all in place
    return JekyllExport(count, removal.removed, [problem, *removal.kept] if problem else removal.kept)


def _write_post(path: Path, text: str) -> str:
    """Replace the post unless it already holds ``text`` (its mtime then stays): a nightly export of
    a whole archive rewrites (and fsyncs) only what changed, and needs no free space for the rest.
    Returns the SHA-256 of the post's bytes, for the manifest."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return digest(data)
    except FileNotFoundError:
        pass
    with atomic_write(path) as stream:
        stream.write(text)
    return digest(data)


def yaml_string(value: str) -> str:
    """A YAML double-quoted scalar that parses back to exactly ``value``."""
    return '"' + _YAML_ESCAPES.sub(_escape_char, value) + '"'


def _yaml_words(values: list[str]) -> str:
    """The original's space-separated plain form when every value is a plain word (Jekyll splits
    it on whitespace), else a flow list of double-quoted scalars; both read back as ``values``."""
    if all(map(_is_plain_word, values)):
        return " ".join(values)
    return "[" + ", ".join(map(yaml_string, values)) + "]"


def _is_plain_word(value: str) -> bool:
    """A plain YAML scalar that is a string to every YAML 1.1 reader: letters first, then letters,
    digits, ``_ - .``; no space, indicator, number, date, boolean or null."""
    return (
        bool(value)
        and (value[0].isalpha() if value[0].isascii() else _is_visible(value[0]))
        and all(_is_visible(char) or char.isalnum() or char in "_-." for char in value)
        and value.lower() not in _YAML_KEYWORDS
    )


def _is_visible(char: str) -> bool:
    """Non-ASCII, printable and not whitespace: never a YAML indicator or line break."""
    return not char.isascii() and char.isprintable() and not char.isspace()


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _YAML_SHORT_ESCAPES:
        return _YAML_SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _character_reference(match: re.Match[str]) -> str:
    return f"&#{ord(match.group(0))};"


def _inert_body(html: str) -> str:
    return _BODY_SYNTAX.sub(_character_reference, html)
