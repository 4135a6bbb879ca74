"""Jekyll export in the original system's post format (reference/000_ec9bf5bae55da0f9.txt).

``_posts/<YYYY-MM-DD>-<info_code>.md``: front matter, the cleaned body followed by the source line,
the share link and the back links. Defaults reproduce the original site byte for byte.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from newsarchive.ids import canonical_info_code
from newsarchive.items import FAST_FEED
from newsarchive.text.sanitize import sanitize_html

logger = logging.getLogger(__name__)

DEFAULT_SITE_URL = "//finews.withounder.com"
DEFAULT_SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={info_code}"
# The original quoted the list digest above the body only for its 7x24 (东财滚动新闻) posts.
DIGEST_FEEDS = frozenset({FAST_FEED})
# `{{` and `{%` open Liquid tags; escaping the brace makes Jekyll print them literally.
_LIQUID_OPENER = re.compile(r"\{(?=[{%])")
# Everything a YAML double-quoted scalar cannot hold literally: the quote, the backslash, C0/C1
# controls, and the line/paragraph separators YAML treats as line breaks.
_YAML_ESCAPES = re.compile('["\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]')
_YAML_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@dataclass(frozen=True)
class JekyllOptions:
    site_url: str = DEFAULT_SITE_URL
    share_url: str = DEFAULT_SHARE_URL


def post_filename(article: Any) -> str:
    """Built only from the date and a validated info_code, so no input can leave ``_posts/``."""
    return f"{article.published_at:%Y-%m-%d}-{canonical_info_code(article.info_code)}.md"


def render_post(article: Any, options: JekyllOptions = JekyllOptions()) -> str:
    """The post text. Scraped text can neither break the front matter (titles are escaped YAML
    double-quoted scalars) nor run Liquid (``{{``/``{%`` openers in the body become ``&#123;``)."""
    tags = list(article.tags or [])
    front = "\n".join(
        [
            "---",
            "layout: post",
            f"title: {_yaml_string(article.title)}",
            f"date: {article.published_at:%Y-%m-%d %H:%M:%S %z}",
            f"categories: {article.category}",
            f"tags: {' '.join(tags)}",
            "---",
        ]
    )
    digest = _digest(article.summary) if article.feed in DIGEST_FEEDS and article.summary else ""
    media = escape(article.media or "", quote=False)
    source = f'<p class="em_media">（文章来源：{media}）</p>' if media else ""
    share = options.share_url.format(info_code=canonical_info_code(article.info_code))
    label = tags[0] if tags else article.category
    site = options.site_url.rstrip("/")
    back = f"[返回{label}]({site}/category/{article.category}.html)｜[返回首页]({site}/)"
    # stored bodies are sanitized already; sanitizing again guards rows written by older versions
    body = _no_liquid(f"{digest}{sanitize_html(article.body_html or '')}{source}")
    return f"{front}\n{body}\n\n<{share}>\n\n{back}"


def write_jekyll(articles: Iterable[Any], out_dir: Path, options: JekyllOptions = JekyllOptions()) -> int:
    """Write one post per article under ``out_dir/_posts``; returns the number written.

    A row whose info_code is not a valid article code is skipped with a warning: its file
    name could not be trusted (valid: an East Money or a namespaced id, newsarchive.ids)."""
    posts = out_dir / "_posts"
    posts.mkdir(parents=True, exist_ok=True)
    count = 0
    for article in articles:
        try:
            name = post_filename(article)
        except ValueError:
            logger.warning("skipped article with invalid info_code %r", article.info_code)
            continue
        (posts / name).write_text(render_post(article, options), encoding="utf-8")
        count += 1
    return count


def _yaml_string(value: str) -> str:
    """A YAML double-quoted scalar that parses back to exactly ``value``."""
    return '"' + _YAML_ESCAPES.sub(_escape_char, value) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _YAML_SHORT_ESCAPES:
        return _YAML_SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _digest(summary: str) -> str:
    # one blockquote line per summary line, so a newline in the summary cannot end the quote
    return "".join(f"> {escape(line, quote=False)}\n" for line in summary.splitlines()) + "\n"


def _no_liquid(text: str) -> str:
    return _LIQUID_OPENER.sub("&#123;", text)
