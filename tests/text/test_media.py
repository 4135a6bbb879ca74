"""Media names: canonical names from newsarchive/data/media.toml, category slugs, tags, table validation."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.text.media import (
    MEDIA_TABLE_FILE,
    MediaTableError,
    Outlet,
    canonical_media,
    category_slug,
    is_known_media,
    load_media_table,
    media_table,
    media_tag,
    pinyin_slug,
)

OUTLETS = media_table().outlets
ALIASES = [(alias, outlet.name) for outlet in OUTLETS for alias in outlet.aliases]
SLUG = re.compile(r"^[a-z0-9]+$")
# Outlets the brief and the sample site require, with their slugs (category URLs: never to change).
REQUIRED_SLUGS = {
    "证券日报网": "zhengquanribaowang",
    "上海证券报": "shanghaizhengquanbao",
    "证券时报网": "zhengquanshibaowang",
    "中国证券报": "zhongguozhengquanbao",
    "财联社": "cailianshe",
    "新华社": "xinhuashe",
    "央视新闻": "yangshixinwen",
    "券商中国": "quanshangzhongguo",
    "中国基金报": "zhongguojijinbao",
    "东方财富网": "dongfangcaifuwang",
    "东方财富Choice数据": "dongfangcaifuchoiceshuju",
    "每日经济新闻": "meirijingjixinwen",
    "第一财经": "diyicaijing",
    "界面新闻": "jiemianxinwen",
    "21世纪经济报道": "21shijijingjibaodao",
    "经济参考报": "jingjicankaobao",
    "人民日报": "renminribao",
    "中新网": "zhongxinwang",
    "澎湃新闻": "pengpaixinwen",
    "北京商报": "beijingshangbao",
    "华夏时报": "huaxiashibao",
    "中国经营报": "zhongguojingyingbao",
}


# --- the packaged table ---------------------------------------------------------------------------


def test_the_packaged_table_loads_and_has_the_required_outlets() -> None:
    assert MEDIA_TABLE_FILE.is_file()
    slugs = {outlet.name: outlet.slug for outlet in OUTLETS}
    assert {name: slugs.get(name) for name in REQUIRED_SLUGS} == REQUIRED_SLUGS
    assert len(ALIASES) >= 25


@pytest.mark.parametrize("outlet", OUTLETS, ids=lambda outlet: outlet.slug)
def test_every_slug_is_the_pinyin_of_the_name_or_says_why_not(outlet: Outlet) -> None:
    """Slugs are written out in the table; this catches a typo, and a pypinyin release that reads a
    name differently (then keep the published slug and add a `slug_reason`, never change the slug)."""
    assert SLUG.match(outlet.slug)
    if outlet.slug_reason is None:
        assert outlet.slug == pinyin_slug(outlet.name)


# --- canonical_media ------------------------------------------------------------------------------


@pytest.mark.parametrize(("alias", "name"), ALIASES)
def test_every_alias_maps_to_its_outlet(alias: str, name: str) -> None:
    assert canonical_media(alias) == name
    assert canonical_media(f" {alias}\n") == name
    assert is_known_media(alias)


@pytest.mark.parametrize("outlet", OUTLETS, ids=lambda outlet: outlet.slug)
def test_canonical_names_map_to_themselves(outlet: Outlet) -> None:
    assert canonical_media(outlet.name) == outlet.name
    assert category_slug(outlet.name) == outlet.slug
    assert is_known_media(outlet.name)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("证券日报", "证券日报网"),
        ("\u3000证券日报网\xa0", "证券日报网"),  # ideographic and no-break spaces
        ("证券日报网\u200b", "证券日报网"),  # zero-width space
        ("上海证券报·中国证券网", "上海证券报"),
        ("上海证券报•中国证券网", "上海证券报"),  # bullet for the middle dot
        ("上海证券报・中国证券网", "上海证券报"),  # katakana middle dot
        ("上海证券报 · 中国证券网", "上海证券报"),
        ("证券时报·e公司", "证券时报网"),
        ("ｅ公司", "证券时报网"),  # full-width letter
        ("E公司", "证券时报网"),
        ("ＣＣＴＶ", "央视新闻"),
        ("cctv", "央视新闻"),
        ("CNSTOCK", "上海证券报"),
        ("中国证券报·中证网", "中国证券报"),
        ("新华网", "新华社"),
    ],
)
def test_spelling_variants(raw: str, name: str) -> None:
    assert canonical_media(raw) == name


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("新浪财经", "新浪财经"),
        ("  新浪财经\n", "新浪财经"),
        ("中国", "中国"),  # no fuzzy guessing: not 中国证券网 / 中国新闻网
        ("证券", "证券"),
        ("人民网", "人民网"),  # no "strip or add 网": 人民网 is not 人民日报
        ("证券日报网站", "证券日报网站"),
        ("ｅ公司研究", "ｅ公司研究"),  # unknown names keep their exact characters
        ("", ""),
        ("   ", ""),
    ],
)
def test_unknown_names_come_back_stripped_and_unchanged(raw: str, kept: str) -> None:
    assert canonical_media(raw) == kept
    assert not is_known_media(raw)


# --- category_slug --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media", "slug"),
    [
        ("证券日报网", "zhengquanribaowang"),
        (" 证券日报网 ", "zhengquanribaowang"),
        ("证券日报", "zhengquanribaowang"),
        ("上海证券报", "shanghaizhengquanbao"),
        ("中国证券网", "shanghaizhengquanbao"),
        ("央视新闻", "yangshixinwen"),
        ("e公司", "zhengquanshibaowang"),
        ("21世纪经济报道", "21shijijingjibaodao"),
        ("新浪财经", "xinlangcaijing"),  # unknown: pinyin at run time
        ("Wind资讯", "windzixun"),
        ("ＡＢＣ财经", "abccaijing"),
        ("！！", "unknown"),
        ("", "unknown"),
    ],
)
def test_category_slug(media: str, slug: str) -> None:
    assert category_slug(media) == slug


def test_unknown_slugs_are_deterministic_across_calls() -> None:
    category_slug.cache_clear()
    first = category_slug("新浪财经")
    category_slug.cache_clear()
    assert category_slug("新浪财经") == first == pinyin_slug("新浪财经")


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=())))  # every code point, lone surrogates too
def test_any_text_gets_an_ascii_slug_and_a_stable_name(text: str) -> None:
    slug = category_slug(text)
    assert SLUG.match(slug)
    assert slug == category_slug(canonical_media(text))
    name = canonical_media(text)
    assert canonical_media(name) == name


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1))
def test_chinese_names_get_a_pinyin_slug(text: str) -> None:
    assert SLUG.match(category_slug(text)) and category_slug(text) != "unknown"


def test_media_tag() -> None:
    assert media_tag("证券日报网") == "证券日报网新闻"
    assert media_tag(" 财联社 ") == "财联社新闻"


# --- validation of the table file -----------------------------------------------------------------


def write_table(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "media.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_a_valid_file_loads(tmp_path: Path) -> None:
    path = write_table(
        tmp_path,
        """
        [[outlet]]
        name = "甲报"
        slug = "jiabao"
        aliases = ["甲报网", "JIA"]

        [[outlet]]
        name = "乙报"
        slug = "yibao2"
        slug_reason = "yibao was taken by an older site"
        """,
    )
    table = load_media_table(path)
    assert [outlet.name for outlet in table.outlets] == ["甲报", "乙报"]
    assert table.find(" jia ") == table.outlets[0]
    assert table.outlets[1].aliases == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            aliases = ["甲报网", "甲报网"]
            """,
            r"outlet #1 \('甲报'\): duplicate alias '甲报网'",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            aliases = ["甲报"]
            """,
            r"outlet #1 \('甲报'\): duplicate alias '甲报'",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            aliases = ["甲·报", "甲•报"]
            """,
            r"outlet #1 \('甲报'\): duplicate alias '甲•报' \(same as '甲·报'\)",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            aliases = ["综合网"]

            [[outlet]]
            name = "乙报"
            slug = "yibao"
            aliases = ["综合网"]
            """,
            r"outlet #2 \('乙报'\): alias '综合网' already maps to outlet '甲报'",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            aliases = ["乙报"]

            [[outlet]]
            name = "乙报"
            slug = "yibao"
            """,
            r"outlet #2 \('乙报'\): name '乙报' already maps to outlet '甲报'",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jia-bao"
            """,
            r"outlet #1 \('甲报'\): slug 'jia-bao' does not match",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "JiaBao"
            """,
            r"outlet #1 \('甲报'\): slug 'JiaBao' does not match",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = ""
            """,
            r"outlet #1 \('甲报'\): slug '' does not match",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            """,
            r"outlet #1 \('甲报'\): slug None does not match",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"

            [[outlet]]
            name = "乙报"
            slug = "jiabao"
            """,
            r"outlet #2 \('乙报'\): slug 'jiabao' is already '甲报'",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            alias = ["甲报网"]
            """,
            r"outlet #1 \('甲报'\): unknown keys \['alias'\]",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            aliases = "甲报网"
            """,
            r"outlet #1 \('甲报'\): `aliases` must be a list",
        ),
        (
            """
            [[outlet]]
            name = "甲报"
            slug = "jiabao"
            aliases = ["\u200b"]
            """,
            r"outlet #1 \('甲报'\): alias '\\u200b' is empty once normalized",
        ),
        (
            """
            [[outlet]]
            name = " 甲报"
            slug = "jiabao"
            """,
            r"outlet #1: `name` must be a non-empty string",
        ),
        (
            """
            [[outlet]]
            slug = "jiabao"
            """,
            r"outlet #1: `name` must be a non-empty string, got None",
        ),
        ("", r"no \[\[outlet\]\] tables"),
        ('[outlets]\nname = "甲报"\n', r"unexpected top-level keys \['outlets'\]"),
        ("[[outlet]]\nname = 甲报\n", r"cannot read the media table"),
        ('[[outlet]]\nname = "甲报"\nname = "乙报"\n', r"cannot read the media table"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_entry(tmp_path: Path, body: str, message: str) -> None:
    path = write_table(tmp_path, body)
    with pytest.raises(MediaTableError, match=rf"^{re.escape(str(path))}: {message}"):
        load_media_table(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaTableError, match="cannot read the media table"):
        load_media_table(tmp_path / "missing.toml")
