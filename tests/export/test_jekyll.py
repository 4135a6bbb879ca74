"""Jekyll posts: the seed post byte for byte, and scraped text that cannot break or run anything."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.export.jekyll import render_post, write_jekyll
from newsarchive.items import Article
from newsarchive.pages.eastmoney import parse_article
from newsarchive.text.clean import clean_body
from newsarchive.text.dates import SHANGHAI

HERE = Path(__file__).parent
SEED_POST = HERE / "seed_post.md"
SEED_PAGE = HERE.parent / "pages" / "cases" / "article_seed" / "page.html"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
REQUIRE_SERVICES = os.environ.get("NEWSARCHIVE_REQUIRE_SERVICES") == "1"


def seed_article() -> Article:
    page = parse_article(SEED_PAGE.read_text(encoding="utf-8"), SEED_URL)
    body = clean_body(page.body_html or "", SEED_URL)
    return Article(
        info_code="NW202204292366280343",
        url=SEED_URL,
        feed="eastmoney",
        title="宝藏工厂“论剑”1688：切磋疫情时期逆势增长的技艺",
        published_at=datetime(2022, 4, 29, 15, 3, 20, tzinfo=SHANGHAI),
        media="证券日报网",
        category="zhengquanribaowang",
        tags=["证券日报网新闻"],
        summary="订单锐减……",
        body_html=body.html,
        body_text=body.text,
    )


def front_matter(post: str) -> dict[str, object]:
    assert post.startswith("---\n")
    loaded = yaml.safe_load(post.split("---\n", 2)[1])
    assert isinstance(loaded, dict)
    return loaded


def test_seed_post_is_byte_exact() -> None:
    assert render_post(seed_article()).encode("utf-8") == SEED_POST.read_bytes()


HOSTILE_TITLES = [
    'He said "buy": 10% up',
    "back\\slash \\n not a newline",
    "- leading dash",
    "[leading, bracket]",
    "{leading: brace}",
    "---",
    "title\n---\nlayout: evil",
    "tab\there",
    "colon: and # hash",
    "&anchor *alias !tag %percent @at `tick` |pipe >fold",
    "{{ site.title }} {% include evil.html %}",
    "line\u2028separator\u2029paragraph",
    "bell\x07 escape\x1b del\x7f nel\x85",
    "'single' quotes",
    "",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_front_matter_parses_back_to_the_stored_title(title: str) -> None:
    post = render_post(replace(seed_article(), title=title))
    meta = front_matter(post)
    assert meta["title"] == title
    assert meta["layout"] == "post" and meta["categories"] == "zhengquanribaowang"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_title_round_trips(title: str) -> None:
    assert front_matter(render_post(replace(seed_article(), title=title)))["title"] == title


def test_liquid_and_markup_in_scraped_text_are_neutralized() -> None:
    article = replace(
        seed_article(),
        feed="eastmoney_fast",
        summary="摘要 {{ site.time }} <script>alert(1)</script>\n第二行 {% raw %}",
        body_html="<p>正文 {{ page.title }} 与 {% include x.html %} 以及 {{{ triple }}}</p>",
        media="证券日报网<script>",
    )
    post = render_post(article)
    body = post.split("---\n", 2)[2]
    assert "{{" not in body and "{%" not in body
    assert "<script" not in body
    assert (
        "> 摘要 &#123;{ site.time }} &lt;script&gt;alert(1)&lt;/script&gt;\n> 第二行 &#123;% raw %}\n" in body
    )


def test_file_names_cannot_leave_the_posts_folder(tmp_path: Path) -> None:
    good = seed_article()
    evil = replace(good, info_code="../../../etc/evil")
    also_evil = replace(good, info_code="NW202204292366280343/../../x")
    assert write_jekyll([evil, good, also_evil], tmp_path / "site") == 1
    written = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert written == ["site/_posts/2022-04-29-NW202204292366280343.md"]


ADVERSARIAL_BODY = (
    '<p onclick="alert(1)">点我</p><script>alert("x")</script>'
    '<p><a href="javascript:alert(1)">链接</a> {{ site.title }} {% include secret.html %}</p>'
    '<img src="x" onerror="alert(1)"><iframe src="https://evil.example/"></iframe>'
    "<p>正文最后一段</p>"
)


@pytest.fixture
def jekyll() -> str:
    path = shutil.which("jekyll")
    if path is None:
        message = "jekyll is not installed (Debian package 'jekyll'; .ci/run installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and NEWSARCHIVE_REQUIRE_SERVICES=1")
        pytest.skip(message)
    return path


def test_adversarial_article_builds_literally_with_real_jekyll(jekyll: str, tmp_path: Path) -> None:
    stored = clean_body(ADVERSARIAL_BODY, SEED_URL)  # what the pipeline would store
    article = replace(
        seed_article(),
        title='"{{ site.title }}" - [injected]: yes\n---\nlayout: evil',
        body_html=stored.html,
        body_text=stored.text,
    )
    site = tmp_path / "site"
    (site / "_layouts").mkdir(parents=True)
    (site / "_config.yml").write_text(
        "title: 金融消息\ntimezone: Asia/Shanghai\nsafe: true\n", encoding="utf-8"
    )
    (site / "_layouts" / "post.html").write_text(
        "<html><body><h1>{{ page.title }}</h1>{{ content }}</body></html>\n", encoding="utf-8"
    )
    assert write_jekyll([article], site) == 1
    result = subprocess.run(
        [jekyll, "build", "--safe", "-s", str(site), "-d", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    html_files = list((tmp_path / "out").rglob("*.html"))
    assert len(html_files) == 1
    html = html_files[0].read_text(encoding="utf-8")
    shown = unescape(html)  # what a browser displays
    assert "{{ site.title }}" in shown  # printed literally, not rendered as 金融消息
    assert "{% include secret.html %}" in shown
    assert "金融消息" not in shown
    assert not re.search(r"<(script|iframe)|onclick|onerror|javascript:", html, re.I)
    assert "正文最后一段" in html


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.text(max_size=40))
def test_any_scraped_text_renders_to_a_post_that_parses(summary: str, body: str, media: str) -> None:
    article = replace(seed_article(), feed="eastmoney_fast", summary=summary, body_html=body, media=media)
    post = render_post(article)
    assert front_matter(post)["title"] == article.title
    text = post.split("---\n", 2)[2]
    assert "{{" not in text and "{%" not in text
    # no executable markup: plain text may say "onclick=" or "javascript:", a tag may not
    assert not re.search(r"<(script|iframe)|<[^>]*\son\w+\s*=|<[^>]*javascript:", text, re.I)
