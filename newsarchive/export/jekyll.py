"""Jekyll export in the original system's post format (reference/000_ec9bf5bae55da0f9.txt).

``_posts/<YYYY-MM-DD>-<info_code>.md``: front matter, the cleaned body followed by the source line,
the share link and the back links. Defaults reproduce the original site byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsarchive.ids import canonical_info_code

DEFAULT_SITE_URL = "//finews.withounder.com"
DEFAULT_SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={info_code}"
# The original quoted the list digest above the body only for its 7x24 (东财滚动新闻) posts.
DIGEST_FEEDS = frozenset({"eastmoney_fast"})


@dataclass(frozen=True)
class JekyllOptions:
    site_url: str = DEFAULT_SITE_URL
    share_url: str = DEFAULT_SHARE_URL


def post_filename(article: Any) -> str:
    """Built only from the date and a validated info_code, so no input can leave ``_posts/``."""
    return f"{article.published_at:%Y-%m-%d}-{canonical_info_code(article.info_code)}.md"


def render_post(article: Any, options: JekyllOptions = JekyllOptions()) -> str:
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
    digest = f"> {article.summary}\n\n" if article.feed in DIGEST_FEEDS and article.summary else ""
    source = f'<p class="em_media">（文章来源：{article.media}）</p>' if article.media else ""
    share = options.share_url.format(info_code=canonical_info_code(article.info_code))
    label = tags[0] if tags else article.category
    site = options.site_url.rstrip("/")
    back = f"[返回{label}]({site}/category/{article.category}.html)｜[返回首页]({site}/)"
    return f"{front}\n{digest}{article.body_html}{source}\n\n<{share}>\n\n{back}"


def write_jekyll(articles: Iterable[Any], out_dir: Path, options: JekyllOptions = JekyllOptions()) -> int:
    """Write one post per article under ``out_dir/_posts``; returns the number written."""
    posts = out_dir / "_posts"
    posts.mkdir(parents=True, exist_ok=True)
    count = 0
    for article in articles:
        (posts / post_filename(article)).write_text(render_post(article, options), encoding="utf-8")
        count += 1
    return count


def _yaml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'
