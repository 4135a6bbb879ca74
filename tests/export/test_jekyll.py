"""Jekyll posts: the seed post byte for byte, and scraped text that cannot break or run anything."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from functools import cache
from html import escape, unescape
from pathlib import Path
from urllib.parse import quote

import lxml.html
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.db.engine import open_database
from newsarchive.db.writer import BatchWriter
from newsarchive.export.jekyll import markdown_text, render_post, write_jekyll, yaml_string
from newsarchive.items import Article
from newsarchive.pages.eastmoney import parse_article
from newsarchive.text.clean import clean_body
from newsarchive.text.dates import SHANGHAI
from newsarchive.text.plain import plain_text
from pipelines.plaintext import PlainTextPipeline
from tests.conftest import run_cli
from tests.support import stored_rows

HERE = Path(__file__).parent
SEED_POST = HERE / "seed_post.md"
SEED_PAGE = HERE.parent / "pages" / "cases" / "article_seed" / "page.html"
SEED_URL = "https://finance.eastmoney.com/a/202204292366280343.html"
REQUIRE_SERVICES = os.environ.get("NEWSARCHIVE_REQUIRE_SERVICES") == "1"


def seed_article() -> Article:
    return replace(_seed_article(), tags=list(_seed_article().tags))


@cache  # parsing and cleaning the seed page is most of a test's time
def _seed_article() -> Article:
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
    # stored titles are plain text (pipelines.plaintext); an older row's is published as such
    assert meta["title"] == (plain_text(title) or "")
    assert meta["layout"] == "post" and meta["categories"] == "zhengquanribaowang"
    assert yaml.safe_load(f"title: {yaml_string(title)}") == {"title": title}


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_title_round_trips(title: str) -> None:
    stored = plain_text(title) or ""  # what the pipelines store
    assert front_matter(render_post(replace(seed_article(), title=stored)))["title"] == stored
    assert yaml.safe_load(f"title: {yaml_string(title)}") == {"title": title}


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
    assert "{" not in body and "}" not in body
    assert "<script" not in body
    assert body.startswith(
        "> 摘要 &#123;&#123; site&#46;time &#125;&#125; alert&#40;1&#41; "
        "第二行 &#123;&#37; raw &#37;&#125;\n\n"
        "<p>正文 &#123;&#123; page.title &#125;&#125; 与 &#123;% include x.html %&#125; 以及 "
        "&#123;&#123;&#123; triple &#125;&#125;&#125;</p>"
        '<p class="em_media">（文章来源：证券日报网）</p>'
    )


def test_file_names_cannot_leave_the_posts_folder(tmp_path: Path) -> None:
    good = seed_article()
    evil = replace(good, info_code="../../../etc/evil")
    also_evil = replace(good, info_code="NW202204292366280343/../../x")
    assert write_jekyll([evil, good, also_evil], tmp_path / "site").posts == 1
    written = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert written == ["site/.newsarchive-export.json", "site/_posts/2022-04-29-NW202204292366280343.md"]


# --- Markdown, kramdown and Liquid in the text around the body (issue 13, points 1 and 2) --------

# Strings that mean something to kramdown, Liquid, YAML or HTML; each must show as itself.
MARKDOWN_ATTACKS = [
    "点](javascript:alert(1))[",
    "{{ site.posts | size }}",
    "{% foo %}",
    '{: onclick="alert(1)"}',
    '{::options parse_block_html="true" /}',
    "<javascript:alert(1)>",
    "[x](javascript:alert(1)) ![](javascript:alert(2))",
    "[r]: javascript:alert(3)",
    "a | b | c",
    "*[HTML]: 超文本",
    "$$x$$ `code` **粗** _斜_ \\[x\\](y) &amp; &#106;",
    "# 标题",
    "> 引用",
    "1. 列表",
    "- 列表",
]
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_CHARACTER_REFERENCE = re.compile(r"&#\d+;")
BACK_LINE = re.compile(
    r"\[返回(?P<label>(?:[^!-/:-@\[-`{-~]|&#\d+;)+)\]\((?P<url>[^\s()<>\[\]{}|]+)\)"
    r"｜\[返回首页\]\(//finews\.withounder\.com/\)"
)


def literal(markdown: str) -> str:
    """The text a Markdown fragment shows, if it holds no markup: every ASCII punctuation character
    is a numeric character reference."""
    assert not _ASCII_PUNCTUATION.search(_CHARACTER_REFERENCE.sub("", markdown)), markdown
    return unescape(markdown)


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
def test_back_link_label_shows_the_tag_literally(attack: str) -> None:
    post = render_post(replace(seed_article(), tags=[attack]))
    found = BACK_LINE.fullmatch(post.rsplit("\n", 1)[1])
    assert found, post.rsplit("\n", 1)[1]
    assert literal(found["label"]) == (plain_text(attack) or "zhengquanribaowang")
    assert found["url"] == "//finews.withounder.com/category/zhengquanribaowang.html"


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
def test_back_link_url_percent_encodes_the_category(attack: str) -> None:
    post = render_post(replace(seed_article(), category=attack))
    found = BACK_LINE.fullmatch(post.rsplit("\n", 1)[1])
    assert found, post.rsplit("\n", 1)[1]
    category = plain_text(attack) or ""
    assert found["url"] == f"//finews.withounder.com/category/{quote(category, safe='')}.html"


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
def test_digest_shows_the_summary_literally(attack: str) -> None:
    post = render_post(replace(seed_article(), feed="eastmoney_fast", summary=attack))
    content = post.split("---\n", 2)[2]
    shown = plain_text(attack)
    if shown is None:
        assert content.startswith("<p>")
        return
    quote_line, rest = content.split("\n", 1)
    assert quote_line.startswith("> ") and rest.startswith("\n<p>")  # a blank line ends the quote
    assert literal(quote_line[2:]) == shown


def test_a_multi_line_summary_stays_one_quote_line() -> None:
    post = render_post(replace(seed_article(), feed="eastmoney_fast", summary="一\n\n[x](javascript:1)\n二"))
    assert post.split("---\n", 2)[2].startswith("> 一 &#91;x&#93;&#40;javascript&#58;1&#41; 二\n\n<p>")


def test_markdown_in_body_text_is_inert() -> None:
    text = "".join(f"<p>{escape(attack)}</p>" for attack in MARKDOWN_ATTACKS)
    body = clean_body(f"<p>正文</p>{text}<p>尾 [y](javascript:alert(4))</p>", SEED_URL).html
    post = render_post(replace(seed_article(), body_html=body, media="媒体[m](javascript:1)|{{ x }}"))
    content = post.split("---\n", 2)[2].split("\n\n<http")[0]
    # nothing that opens a link, image, reference, footnote, IAL, extension, table, math or Liquid
    assert not re.search(r"[\[\]{}|$]", content), content
    assert unescape(content).count("点](javascript:alert(1))[") == 1
    assert "（文章来源：媒体[m](javascript:1)|{{ x }}）" in unescape(content)


# --- tags and categories in the front matter (issue 13, point 4) ----------------------------------

YAML_ATTACKS = [
    "evil: yaml [x #c",
    "&anchor",
    "*alias",
    "!!python/object:os.system",
    "!tag",
    "line\nbreak",
    "- dash",
    "? key",
    "%TAG",
    "@at",
    "`tick",
    "|",
    ">",
    "'q'",
    '"dq"',
    "#c",
    "a #c",
    "a: b",
    "a:",
    ":sym",
    "yes",
    "No",
    "tRuE",
    "off",
    "null",
    "~",
    "1688",
    "0x1F",
    "1e3",
    "1_000",
    "2022-04-29",
    ".inf",
    "<<",
    "=",
    "a, b",
    "{a: b}",
    "[a]",
    "中文 空格",
    "---",
    "...",
    "\u3000全角空格",
    "\ufeffbom",
    "\u2028sep",
]


def jekyll_list(value: object) -> list[str]:
    """How Jekyll reads ``tags``/``categories`` (Utils.pluralized_array_from_hash): a string is split
    on whitespace, a list is taken as it is."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), value
    return value


@pytest.mark.parametrize("attack", YAML_ATTACKS)
def test_tags_and_category_parse_back_to_the_stored_values(attack: str) -> None:
    value = plain_text(attack)
    assert value is not None
    post = render_post(replace(seed_article(), tags=[attack, "证券日报网新闻"], category=attack))
    meta = front_matter(post)
    assert jekyll_list(meta["tags"]) == [value, "证券日报网新闻"]
    assert jekyll_list(meta["categories"]) == [value]
    assert meta["title"] == seed_article().title and meta["layout"] == "post"


def test_safe_tags_and_categories_keep_the_originals_plain_form() -> None:
    post = render_post(replace(seed_article(), tags=["证券日报网新闻", "宏观经济"], category="emnews"))
    assert "\ncategories: emnews\ntags: 证券日报网新闻 宏观经济\n---\n" in post
    empty = render_post(replace(seed_article(), tags=[], category=None))
    assert "\ncategories: \ntags: \n---\n" in empty
    assert jekyll_list(front_matter(empty)["tags"]) == jekyll_list(front_matter(empty)["categories"]) == []


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=4), st.text(max_size=20))
def test_any_tags_and_category_round_trip(tags: list[str], category: str) -> None:
    post = render_post(replace(seed_article(), tags=tags, category=category))
    meta = front_matter(post)
    assert jekyll_list(meta["tags"]) == [text for tag in tags if (text := plain_text(tag))]
    assert jekyll_list(meta["categories"]) == [text for text in [plain_text(category)] if text]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.text(max_size=40))
def test_any_scraped_text_renders_to_a_post_that_parses(summary: str, body: str, media: str) -> None:
    article = replace(seed_article(), feed="eastmoney_fast", summary=summary, body_html=body, media=media)
    post = render_post(article)
    assert front_matter(post)["title"] == article.title
    text = post.split("---\n", 2)[2]
    # nothing Liquid or kramdown act on before the share link and the back links
    assert not re.search(r"[\[\]{}|]", text.split("\n\n<http://finews")[0])
    # no executable markup: plain text may say "onclick=" or "javascript:", a tag may not
    assert not re.search(r"<(script|iframe)|<[^>]*\son\w+\s*=|<[^>]*javascript:", text, re.I)


# --- the hostile-source site: a real archive, `newsarchive export jekyll`, `jekyll build --safe` ------

# Every field of every article holds one of these (issue 13, "What must work").
SITE_ATTACKS = {
    "link": "点](javascript:alert(1))[",
    "image": "![x](javascript:alert(2)) [d](data:text/html,x) [v](vbscript:msgbox(1))",
    "autolink": "<javascript:alert(3)> 与 <data:text/html;base64,PHNjcmlwdD4=>",
    "reference": "[r]: javascript:alert(4)\n\n[r] [^1]\n\n[^1]: javascript:alert(41)",
    "liquid": "{{ site.posts | size }} {{ site.title }} {% foo %} {% include evil.html %} {% raw %}",
    "kramdown": '{: onclick="alert(5)"} {::options parse_block_html="true" /} {::nomarkdown}<b>x</b>{:/}',
    "yaml": "evil: yaml [x #c &anchor *alias !!python/object:os.system",
    "fragment": "看涨<img src=x onerror=alert(6)//",
    "split_script": "<scr<script>ipt>alert(7)</scr</script>ipt>",
    "bidi": "\u202e看跌\u2066隔离\u200b",
    "table": "| a | b |\n|---|---|\n| c | d |",
    "newlines": "第一行\n---\nlayout: evil\n\n[n](javascript:alert(8))\n{: onmouseover=alert(9)}",
    "html": '<a href="javascript:alert(10)">a</a><svg onload=alert(11)>',
}
SITE_CONFIG = "title: 金融消息\ntimezone: Asia/Shanghai\nsafe: true\n"
# Prints what the original site's post layout prints (reference/jekyll-site/_layouts/post.html),
# unescaped as there, plus each category.
SITE_LAYOUT = """<!DOCTYPE html>
<html><head><title>{{ page.title }}</title></head><body>
<small>{{ page.date | date: "%Y-%m-%d %H:%M:%S" }}</small>
<h1>{{ page.title }}</h1>
<article>{{ content }}</article>
{% if page.tags %}<small class="tags">tags: <em>{{ page.tags | join: "</em> - <em>" }}</em></small>{% endif %}
<ul class="categories">{% for category in page.categories %}<li>{{ category }}</li>{% endfor %}</ul>
</body></html>
"""
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "poster", "background", "xlink:href")
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def hostile_articles() -> list[Article]:
    """One article per attack and feed, every text field holding it, cleaned as a crawl stores it
    (pipelines.plaintext, then the body cleaner), plus two rows an older version stored raw."""
    articles = []
    for number, (name, attack) in enumerate(sorted(SITE_ATTACKS.items()) * 2):
        body = clean_body(f"<p>正文 {escape(attack)}</p>{attack}<p>尾</p>\n\n{attack}", SEED_URL)
        item = Article(
            info_code=f"NW2022042923662{number:05d}",
            url=f"https://finance.eastmoney.com/a/2022042923662{number:05d}.html",
            feed="eastmoney_fast" if number % 2 else "eastmoney",
            title=f"{name} {attack}",
            published_raw="2022-04-29 15:03:20",
            published_at=datetime(2022, 4, 29, 15, number, tzinfo=SHANGHAI),
            media=f"媒体{attack}",
            author=f"作者{attack}",
            summary=f"摘要 {attack}",
            section=f"栏目{attack}",
            category=f"c{attack}",
            tags=[f"标签{attack}", f"栏目{attack}"],
            body_html=body.html,
            body_text=body.text,
            fetched_at=datetime(2026, 11, 24, tzinfo=SHANGHAI),
        )
        articles.append(PlainTextPipeline(None).process_item(item))
    for number, attack in enumerate([SITE_ATTACKS["fragment"], SITE_ATTACKS["html"]], start=90):
        articles.append(
            replace(
                articles[0],
                info_code=f"NW2022042923662{number:05d}",
                feed="eastmoney_fast",
                title=attack,
                media=attack,
                summary=attack,
                category=attack,
                tags=[attack],
                body_html=f"<p>旧</p>{attack}<script>alert(12)</script>",
            )
        )
    return articles


def build_site(jekyll: str, site: Path, out: Path) -> None:
    (site / "_layouts").mkdir(parents=True)
    (site / "_config.yml").write_text(SITE_CONFIG, encoding="utf-8")
    (site / "_layouts" / "post.html").write_text(SITE_LAYOUT, encoding="utf-8")
    built = subprocess.run(
        [jekyll, "build", "--safe", "-s", str(site), "-d", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert not re.search(r"error|warning", built.stdout + built.stderr, re.I), built.stdout + built.stderr


def script_vectors(page: lxml.html.HtmlElement) -> list[str]:
    found = []
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in {"script", "iframe", "object", "embed", "frame", "base", "form", "meta"}:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{element.tag} {name}={value!r}")
            if name.lower() in URL_ATTRIBUTES:
                scheme = _URL_NOISE.sub("", unescape(value)).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    found.append(f"{element.tag} {name}={value!r}")
    return found


def test_the_script_vector_check_finds_them() -> None:
    page = lxml.html.document_fromstring(
        '<p><a href=" JaVa&#x09;script:x" onclick="1">a</a><img src="data:x"><script>1</script></p>'
    )
    assert len(script_vectors(page)) == 4


def squashed(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def jekyll() -> str:
    path = shutil.which("jekyll")
    if path is None:
        message = "jekyll is not installed (Debian package 'jekyll'; .ci/run installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and NEWSARCHIVE_REQUIRE_SERVICES=1")
        pytest.skip(message)
    return path


def test_hostile_archive_builds_a_site_with_no_script_vector(
    jekyll: str, tmp_path: Path, sqlite_url: str
) -> None:
    articles = hostile_articles()
    engine = open_database(sqlite_url)
    assert BatchWriter(engine).write(articles).new == len(articles)
    engine.dispose()
    stored = stored_rows(sqlite_url)
    site, out = tmp_path / "site", tmp_path / "out"

    exported = run_cli("export", "jekyll", "--out", str(site), "--db", sqlite_url, cwd=tmp_path)

    assert exported.returncode == 0, exported.stderr
    build_site(jekyll, site, out)
    pages = {
        path.stem: lxml.html.document_fromstring(path.read_text("utf-8")) for path in out.rglob("NW*.html")
    }
    assert sorted(pages) == sorted(stored)
    for code, row in stored.items():
        legacy = code.endswith(("90", "91"))
        published = {  # what the post must show: the stored values (plain text as a crawl stores them)
            "title": plain_text(row["title"]) or "",
            "media": plain_text(row["media"]),
            "summary": plain_text(row["summary"]),
            "category": plain_text(row["category"]),
            "tags": [tag for tag in map(plain_text, row["tags"]) if tag],
        }
        if not legacy:
            assert published == {name: row[name] for name in published}, code
        meta = front_matter((site / "_posts" / f"2022-04-29-{code}.md").read_text(encoding="utf-8"))
        assert meta["title"] == published["title"]
        assert jekyll_list(meta["tags"]) == published["tags"]
        assert jekyll_list(meta["categories"]) == [published["category"]]

        page = pages[code]
        assert script_vectors(page) == [], code
        assert [page.findtext(".//title"), page.findtext(".//h1")] == [published["title"]] * 2
        assert [em.text_content() for em in page.cssselect("small.tags em")] == published["tags"]
        assert [li.text_content() for li in page.cssselect("ul.categories li")] == [published["category"]]
        back = page.cssselect("article a")[-2]
        assert back.text_content() == f"返回{published['tags'][0]}"
        assert (
            back.get("href")
            == f"//finews.withounder.com/category/{quote(published['category'], safe='')}.html"
        )
        shown = squashed(page.text_content())
        assert f"（文章来源：{published['media']}）" in shown
        if row["feed"] == "eastmoney_fast":
            assert squashed(page.cssselect("article blockquote")[0].text_content()) == published["summary"]
        assert "金融消息" not in shown  # {{ site.title }} printed, never evaluated
    shown_everywhere = "".join(squashed(page.text_content()) for page in pages.values())
    for literal_text in ["{{ site.posts | size }}", "{% foo %}", "{% raw %}", '{: onclick="alert(5)"}']:
        assert literal_text in shown_everywhere


# --- a long post builds in linear time (issue 13, point 13) ---------------------------------------

LONG_PARAGRAPH = "<p>" + "订单锐减" * 25 + "<strong>要点</strong>[a](javascript:1) {{ x }}</p>"
LONG_BODY = LONG_PARAGRAPH * (1_800_000 // len(LONG_PARAGRAPH))  # the 1.8 M characters
LONG_SUMMARY = "[摘要](javascript:2) " * 5_000


def test_a_long_post_goes_to_kramdown_as_html_it_copies() -> None:
    article = replace(seed_article(), feed="eastmoney_fast", summary=LONG_SUMMARY, body_html=LONG_BODY)
    content = render_post(article).split("---\n", 2)[2].split("\n\n<http://finews")[0]
    digest = markdown_text(LONG_SUMMARY.strip())
    assert content.startswith(f"{{::nomarkdown}}\n<blockquote><p>{digest}</p></blockquote><p>订单锐减")
    assert content.endswith('<p class="em_media">（文章来源：证券日报网）</p>\n{:/nomarkdown}')
    # nothing inside can end the block early, or reach Liquid
    assert content.count("{") == content.count("}") == 2


def test_a_long_post_builds_with_real_jekyll(jekyll: str, tmp_path: Path) -> None:
    article = replace(seed_article(), feed="eastmoney_fast", summary=LONG_SUMMARY, body_html=LONG_BODY)
    site, out = tmp_path / "site", tmp_path / "out"
    write_jekyll([article], site)

    build_site(jekyll, site, out)  # took 221 s for a body like this one before (kramdown, one line)

    [built] = out.rglob("NW*.html")
    page = lxml.html.document_fromstring(built.read_text(encoding="utf-8"))
    assert script_vectors(page) == []
    assert squashed(page.cssselect("article blockquote")[0].text_content()) == LONG_SUMMARY.strip()
    paragraphs = page.cssselect("article > p")
    count = len(LONG_BODY) // len(LONG_PARAGRAPH)
    assert [p.text_content() for p in paragraphs[:count]] == [
        "订单锐减" * 25 + "要点[a](javascript:1) {{ x }}"
    ] * count
    assert paragraphs[count].text_content() == "（文章来源：证券日报网）"
