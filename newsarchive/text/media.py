"""Media names to categories and tags: pinyin slugs that never change between runs, and tag labels."""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Slugs pinned here never depend on pypinyin's dictionary (a polyphone reading could change
# between releases and silently move an outlet's posts to a new category URL).
SLUG_OVERRIDES: dict[str, str] = {
    "证券日报网": "zhengquanribaowang",
    "证券日报": "zhengquanribao",
    "上海证券报": "shanghaizhengquanbao",
    "中国证券报": "zhongguozhengquanbao",
    "证券时报网": "zhengquanshibaowang",
    "证券时报": "zhengquanshibao",
    "东方财富网": "dongfangcaifuwang",
    "财联社": "cailianshe",
    "券商中国": "quanshangzhongguo",
}
# The 7x24 feed is archived under the category and tag the original system gave it.
FAST_NEWS_CATEGORY = "emnews"
FAST_NEWS_TAG = "东财滚动新闻"
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def category_slug(media: str) -> str:
    """ASCII slug for a media name: 证券日报网 → zhengquanribaowang."""
    name = media.strip()
    if name in SLUG_OVERRIDES:
        return SLUG_OVERRIDES[name]
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="default")  # non-Chinese kept as is
    slug = _NON_SLUG.sub("", "".join(syllables).lower())
    return slug or "unknown"


def media_tag(media: str) -> str:
    """The tag the original site used for an outlet's posts: 证券日报网 → 证券日报网新闻."""
    return f"{media.strip()}新闻"
