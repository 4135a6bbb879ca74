"""Build the committed sample East Money site (article pages, column lists, 7x24 list) from ../shared,
and the sample 证券日报网 site (sites/www.zqrb.cn/) carrying the same 证券日报网 stories.

Run: ``python -m newsarchive.samplesite.build --shared ../shared --out data/sample``; output is deterministic.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from newsarchive.samplesite import templates, zqrb
from newsarchive.samplesite.templates import PageData

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_CODE = "202204292366280343"
SEED_PAGE = "fixtures/eastmoney/article_202204292366280343.html"
SEED_COLUMN_LIST = "fixtures/eastmoney/columns_344_page1.json"
CORPUS = "corpus/finews"
# Skipped corpus posts: 2021-12-01-init.md is the old site's welcome post (not news). Posts with an empty
# title or date (the old system's bugs) are skipped too; this corpus has none, so only init.md goes.
# old_post__2021-12-08-202112082206672930.md repeats 2021-12-08-202112082206672930.md and is merged by code.
SKIP_FILES = frozenset({"2021-12-01-init.md"})
# The older page template is used for the 2021 articles published before this time (an arbitrary cut-over).
OLDER_LAYOUT_BEFORE = "2021-12-08 11:00:00"
# Real outlet names, dealt round-robin to articles whose text names no source.
MEDIA_POOL = (
    "证券日报网", "上海证券报", "证券时报网", "中国证券报", "财联社", "央视新闻", "券商中国", "东方财富网",
)  # fmt: skip
AUTHORS = ("张三", "李明", "王芳")  # invented bylines (real ones are not in the corpus)
# Listing columns per CMS column of the corpus URL (news/<cms>,<code>.html on finance.eastmoney.com).
CMS_TO_COLUMNS: dict[str, tuple[str, ...]] = {
    "1344": ("344",), "1345": ("344", "345"), "1354": ("344",), "1355": ("344",), "11060": ("344",),
    "11158": ("344", "345"), "1350": ("345",), "1351": ("345",), "1353": ("353",),
}  # fmt: skip
FEATURE_COLUMN = "344"  # articles with a full CMS body are featured in 财经导读 as well
FAST_COLUMN = "102"
FAST_DAY = "2021-12-08"  # the 7x24 feed carries the rolling news (东财滚动新闻) of this day
# 财富号 rows: listed in columns but with no /a/ page (the crawler must skip them). Invented, real shape.
CFH_ROWS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "344": (
        ("202112082206598214", "2021-12-08 06:50:05", "东方财富财经早餐 12月8日周三", "财经早餐摘要"),
        (
            "202112072206410538",
            "2021-12-07 20:31:12",
            "12月7日东方财富财经晚报（附新闻联播）",
            "财经晚报摘要",
        ),
    ),
    "345": (("202112082206881146", "2021-12-08 12:10:30", "12月8日午间公告精选", "午间公告摘要"),),
    "353": (("202112082206634102", "2021-12-08 08:30:00", "券商晨会精华：关注军工与消费", "晨会精华摘要"),),
}
# Long articles continue on <code>_2.html … (eastmoney.md §2.1): this one (券商中国, the longest
# full CMS body of the corpus after the seed) is split over two pages at a paragraph boundary.
MULTI_PAGE: dict[str, int] = {"202201072239307540": 2}
BEIJING = timezone(timedelta(hours=8))
ZQRB_MEDIA = "证券日报网"  # these stories are also published on the sample www.zqrb.cn

_FRONT_MATTER = re.compile(r"\A\s*---\n(.*?)\n---\n(.*)\Z", re.S)
_URL_CODE = re.compile(r"^https?://([\w.]+)/news/(\d+),(\d{18})\.html$")
_FILE_CODE = re.compile(r"(\d{18})\.md$")
_PARAGRAPH = re.compile(r"<p\b[^>]*>.*?</p>", re.S)
_EM_MEDIA_P = re.compile(r'<p class="em_media">.*?</p>', re.S)
_TAG = re.compile(r"<[^>]+>")
_SEED_TAIL = re.compile(r"^<p>（责任编辑：(\w+)）</p>\n" + re.escape(templates.WECHAT_SHARE) + r"\n", re.M)
_DISCLAIMER_LINE = re.compile(r'^  <div class="sm">.*</div>\n', re.M)
_TRAILING_SOURCE = re.compile(r"[（(]([\u4e00-\u9fffA-Za-z]{2,12})[）)]\s*$")
_HEADLINE = re.compile(r"^【[^】]*】")
_A_SHARE = re.compile(r"([\u4e00-\u9fff]{2,})\((\d{6})\)")
_BODY_STOCK = re.compile(r'id="stock_(\d+\.\w+)"')
# Stock tags in 7x24 texts and their stockList form "<marketId>.<code>": 1 = SH, 0 = SZ, 116 = HK, 106 = NYSE.
_STOCK_TAGS = (
    (re.compile(r"\((\d{6})\)"), ""),
    (re.compile(r"\((\d{4,5})\.HK\)"), "116."),
    (re.compile(r"\(([A-Z]{1,5})\.N\)"), "106."),
)


@dataclass(frozen=True)
class Post:
    """One corpus post, reduced to what the pages and lists need."""

    code: str
    title: str
    published: str  # "YYYY-MM-DD HH:MM:SS", Beijing time
    category: str
    digest: str
    body_html: str  # full CMS body without its em_media line, or ""
    em_media_html: str
    host: str
    cms_column: str


@dataclass
class Article:
    post: Post
    media: str
    summary: str
    layout: str  # "seed", "current" or "older"
    columns: list[str] = field(default_factory=list)
    in_fast: bool = False


def read_posts(corpus: Path) -> list[Post]:
    """Corpus posts by code (first file wins for a repeated code), skipping the non-news ones."""
    posts: dict[str, Post] = {}
    for path in sorted(corpus.glob("*.md")):
        post = parse_post(path.name, path.read_text(encoding="utf-8"))
        if post is not None and post.code not in posts:
            posts[post.code] = post
    return [posts[code] for code in sorted(posts)]


def parse_post(name: str, source: str) -> Post | None:
    match = _FRONT_MATTER.match(source)
    if name in SKIP_FILES or match is None:
        return None
    meta = dict(_field(line) for line in match.group(1).splitlines() if ":" in line)
    title, published = meta.get("title", ""), meta.get("date", "")[:19]
    if not title or not published:
        return None
    digest: list[str] = []
    html: list[str] = []
    host = cms_column = ""
    code_match = _FILE_CODE.search(name)
    code = code_match.group(1) if code_match else ""
    for line in (raw.strip() for raw in match.group(2).splitlines()):
        if line.startswith("<") and line.endswith(">") and not line.startswith("<p"):
            if url := _URL_CODE.match(line[1:-1]):
                host, cms_column, code = url.group(1), url.group(2), url.group(3)
        elif line.startswith("<p"):
            html.append(line)
        elif line.startswith(">"):
            digest.append(line[1:].strip())
        elif line and not line.startswith("[返回"):
            digest.append(line)
    body = "".join(html)
    em_media = _EM_MEDIA_P.findall(body)
    return Post(
        code=code,
        title=title,
        published=published,
        category=meta.get("categories", ""),
        digest="\n".join(digest),
        body_html=_EM_MEDIA_P.sub("", body).strip(),
        em_media_html=em_media[-1] if em_media else "",
        host=host,
        cms_column=cms_column,
    )


def _field(line: str) -> tuple[str, str]:
    key, value = line.split(":", 1)
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return key.strip(), value


def cms_body_lines(body_html: str) -> list[str]:
    """One line per CMS paragraph; plain paragraphs get the two ideographic spaces the page shows."""
    paragraphs = _PARAGRAPH.findall(body_html)
    if "".join(paragraphs) != re.sub(r">\s+<", "><", body_html):
        raise ValueError("CMS body has content outside <p> elements")
    lines = []
    for paragraph in paragraphs:
        inner = paragraph[3:]
        if paragraph.startswith("<p>") and not inner.startswith(("<strong>", "　")):
            paragraph = "<p>　　" + inner
        lines.append(paragraph)
    return lines


def digest_lines(digest: str) -> list[str]:
    """Digest text as page paragraphs: headline bracket dropped, escaped, first A-share mentions linked."""
    lines = []
    for paragraph in filter(None, (line.strip() for line in digest.splitlines())):
        body = _A_SHARE.sub(_link_stock, templates.text(_HEADLINE.sub("", paragraph)))
        lines.append(f"<p>　　{body}</p>")
    return lines


def _link_stock(match: re.Match[str]) -> str:
    words, number = match.group(1), match.group(2)
    name = words[-4:]  # the CMS links the short name; longer runs are the sentence before it
    return f"{words[: -len(name)]}{templates.stock_link(_market_code('', number), name)}({number})"


def stock_list(text: str) -> list[str]:
    """``<market>.<code>`` strings for the stocks a text names, in order of appearance."""
    found: list[tuple[int, str]] = []
    for pattern, market in _STOCK_TAGS:
        found.extend((m.start(), _market_code(market, m.group(1))) for m in pattern.finditer(text))
    return list(dict.fromkeys(code for _, code in sorted(found)))


def _market_code(market: str, code: str) -> str:
    if market == "116.":
        return market + code.zfill(5)
    return (market or ("1." if code.startswith("6") else "0.")) + code


def plan(posts: list[Post], seed_row: dict[str, Any]) -> list[Article]:
    """Choose media, layout and feeds for every post, newest first."""
    articles: list[Article] = []
    pool_index = 0
    for post in posts:
        media = _text_media(post)
        if post.code == SEED_CODE:
            media = str(seed_row["mediaName"])
        elif not media:
            media = MEDIA_POOL[pool_index % len(MEDIA_POOL)]
            pool_index += 1
        summary = str(seed_row["summary"]) if post.code == SEED_CODE else _summary(post)
        layout = "seed" if post.code == SEED_CODE else "current"
        if post.published < OLDER_LAYOUT_BEFORE:
            layout = "older"
        article = Article(post, media, summary, layout)
        if post.code == SEED_CODE:
            article.columns.append(FEATURE_COLUMN)
        elif post.host == "finance.eastmoney.com":
            article.columns.extend(CMS_TO_COLUMNS.get(post.cms_column, ()))
            if post.body_html and FEATURE_COLUMN not in article.columns:
                article.columns.append(FEATURE_COLUMN)
        article.in_fast = post.category == "emnews" and post.published.startswith(FAST_DAY)
        if not article.columns and not article.in_fast:
            raise ValueError(f"{post.code} would be listed nowhere")
        articles.append(article)
    return sorted(articles, key=lambda a: (a.post.published, a.post.code), reverse=True)


def _text_media(post: Post) -> str:
    if post.em_media_html:
        return _TAG.sub("", post.em_media_html).removeprefix("（文章来源：").removesuffix("）").strip()
    found = _TRAILING_SOURCE.search(post.digest)
    return found.group(1) if found else ""


def _summary(post: Post) -> str:
    return " ".join(_HEADLINE.sub("", line) for line in post.digest.splitlines() if line)


def render_pages(article: Article, index: int, newest_first: list[Article]) -> list[str]:
    """The article's page, or its pages (``MULTI_PAGE``): its body lines shared out in order."""
    count = MULTI_PAGE.get(article.post.code, 1)
    whole = render_data(article, index, newest_first)
    if count == 1:
        return [render(article, whole)]
    lines = whole.body_lines
    if len(lines) < count:
        raise ValueError(f"{article.post.code} has too few paragraphs for {count} pages")
    cuts = [len(lines) * number // count for number in range(count + 1)]
    return [
        render(
            article,
            replace(
                whole, body_lines=lines[cuts[number - 1] : cuts[number]], page_number=number, page_count=count
            ),
        )
        for number in range(1, count + 1)
    ]


def render(article: Article, page: PageData) -> str:
    template = templates.render_older if article.layout == "older" else templates.render_current
    return template(page) + "\n"


def render_data(article: Article, index: int, newest_first: list[Article]) -> PageData:
    post = article.post
    stocks = _BODY_STOCK.findall(post.body_html) or [
        s for s in stock_list(post.digest) if s.startswith(("0.", "1."))
    ]
    after = newest_first[index + 1 :] + newest_first[:index]
    body = cms_body_lines(post.body_html) if post.body_html else digest_lines(post.digest)
    if not body:
        raise ValueError(f"{post.code} has no text")
    return PageData(
        code=post.code,
        title=post.title,
        published=datetime.strptime(post.published, "%Y-%m-%d %H:%M:%S").strftime("%Y年%m月%d日 %H:%M"),
        media=article.media,
        author=AUTHORS[index // 6 % len(AUTHORS)] if index % 6 == 4 else None,
        editor=f"DF{int(post.code) % 90 + 10:03d}",
        summary=article.summary,
        body_lines=tuple(body),
        em_media_html=post.em_media_html or templates.em_media_line(article.media),
        stock=stocks[0] if stocks else None,
        ad_after=(2 if post.body_html else 1) if article.layout == "current" and index % 3 == 0 else None,
        rank=tuple((a.post.code, a.post.title) for a in after[:3]),
    )


def real_shaped(page: str) -> str:
    """The reconstructed seed page as real pages are: its 责任编辑 line and WeChat share text moved out
    of #ContentBody (whose real bodies end at the em_media line, eastmoney.md §6) to the chrome
    after it, as the current-layout template writes them; nothing else changes."""
    found = _SEED_TAIL.search(page)
    if found is None:
        raise ValueError("the seed page has no 责任编辑 line and share text inside its body")
    page = page[: found.start()] + page[found.end() :]
    disclaimer = _DISCLAIMER_LINE.search(page)
    if disclaimer is None:
        raise ValueError("the seed page has no div.sm after its body")
    tail = "".join(line + "\n" for line in templates.chrome_tail(found.group(1)))
    return page[: disclaimer.end()] + tail + page[disclaimer.end() :]


def _real_sort(published: str, code: str) -> str:
    # realSort: epoch seconds of showTime + 6 digits ("0" + the code's last 5, as in the one real sample).
    shown = datetime.strptime(published, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    return f"{int(shown.timestamp())}0{code[-5:]}"


def _fast_rows(articles: list[Article]) -> list[dict[str, Any]]:
    rows = []
    for index, article in enumerate(a for a in articles if a.in_fast):
        post = article.post
        # Real 7x24 summaries often carry stray spaces around the text.
        summary = (" " + article.summary, " " + article.summary + " ", article.summary)[index % 3]
        stocks = stock_list(post.title + post.digest)
        real_sort = _real_sort(post.published, post.code)
        rows.append(templates.fast_row(post.code, post.published, post.title, summary, real_sort, stocks))
    if len({row["realSort"] for row in rows}) != len(rows):
        raise ValueError("realSort values collide")
    return rows


def build(shared: Path, out: Path) -> dict[str, int]:
    """Write the sample site under ``out/eastmoney``; return file counts per kind."""
    seed_list = json.loads((shared / SEED_COLUMN_LIST).read_text(encoding="utf-8"))
    seed_row: dict[str, Any] = seed_list["data"]["list"][0]
    articles = plan(read_posts(shared / CORPUS), seed_row)
    files: dict[str, bytes] = {}
    for index, article in enumerate(articles):
        name = f"articles/{article.post.code}.html"
        if article.layout == "seed":
            files[name] = real_shaped(shared.joinpath(SEED_PAGE).read_text(encoding="utf-8")).encode("utf-8")
        else:
            for number, page in enumerate(render_pages(article, index, articles), start=1):
                files[f"articles/{templates.page_file(article.post.code, number)}"] = page.encode("utf-8")
    listed: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for article in articles:
        for column in article.columns:
            post = article.post
            row = seed_row
            if post.code != SEED_CODE:
                fields = (post.code, post.published, post.title, article.media, article.summary)
                row = templates.column_row(*fields, column=column)
            listed.setdefault(column, []).append((article.post.published, article.post.code, row))
    for column, cfh in CFH_ROWS.items():
        listed.setdefault(column, []).extend((row[1], row[0], templates.cfh_row(*row)) for row in cfh)
    for column, entries in sorted(listed.items()):
        rows = [row for _, _, row in sorted(entries, key=lambda e: (e[0], e[1]), reverse=True)]
        files[f"columns/{column}.json"] = _json(rows)
    fast = _fast_rows(articles)
    files[f"fastnews/{FAST_COLUMN}.json"] = _json(fast)
    _write(out / "eastmoney", files)
    stories = [zqrb_story(article) for article in articles if article.media == ZQRB_MEDIA]
    counts = zqrb.build_site(stories, out / "sites" / zqrb.HOST)
    return {"articles": len(articles), "columns": len(listed), "fast_rows": len(fast), **counts}


def zqrb_story(article: Article) -> zqrb.Story:
    """The zqrb copy of an East Money 证券日报网 story: the same paragraphs, plain text for digests."""
    post = article.post
    if post.body_html:
        lines = cms_body_lines(post.body_html)
    else:
        paragraphs = (_HEADLINE.sub("", line.strip()) for line in post.digest.splitlines())
        lines = [f"<p>　　{templates.text(paragraph)}</p>" for paragraph in paragraphs if paragraph]
    return zqrb.Story(post.code, post.title, post.published, tuple(lines))


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in sorted(files.items()):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    for stale in _stale(root, files):
        stale.unlink()


def _stale(root: Path, files: Iterable[str]) -> list[Path]:
    wanted = {root / name for name in files}
    found = [*root.glob("articles/*.html"), *root.glob("columns/*.json"), *root.glob("fastnews/*.json")]
    return sorted(path for path in found if path not in wanted)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "sample")
    args = parser.parse_args(argv)
    counts = build(args.shared, args.out)
    print(", ".join(f"{key}={value}" for key, value in counts.items()), "->", args.out)


if __name__ == "__main__":
    main()
