"""Category slugs and tags derived from media names."""

from __future__ import annotations

import pytest

from newsarchive.text.media import category_slug, media_tag


@pytest.mark.parametrize(
    ("media", "slug"),
    [
        ("证券日报网", "zhengquanribaowang"),
        (" 证券日报网 ", "zhengquanribaowang"),
        ("上海证券报", "shanghaizhengquanbao"),
        ("央视新闻", "yangshixinwen"),
        ("e公司", "egongsi"),
        ("21世纪经济报道", "21shijijingjibaodao"),
        ("！！", "unknown"),
    ],
)
def test_category_slug(media: str, slug: str) -> None:
    assert category_slug(media) == slug


def test_media_tag() -> None:
    assert media_tag("证券日报网") == "证券日报网新闻"
