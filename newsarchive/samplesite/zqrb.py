"""The sample 证券日报网 site (``sites/www.zqrb.cn/``): 栏目 listings in both list templates and article
pages in zqrb chrome (sites.md §1.8), built from the East Money sample's 证券日报网 stories.

The same stories exist on both sites (cross-source duplicates): each zqrb copy is published a few
minutes before East Money carries it, opens with a 本报记者 byline and ends with an editor line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from newsarchive.samplesite.templates import attr, text

HOST = "www.zqrb.cn"
ORIGIN = f"http://{HOST}"
BEIJING = timezone(timedelta(hours=8))
EARLIER_BY = timedelta(minutes=5)  # zqrb publishes first; East Money carries it minutes later
CREATED_BEFORE = timedelta(minutes=3)  # the A-number is the (earlier) creation time in epoch ms
REPORTERS = ("王明", "李华", "赵敏")  # invented bylines
EDITORS = ("孙峰", "周洁")


@dataclass(frozen=True)
class Column:
    path: str  # channel/column
    channel: str  # channel name in the breadcrumb
    name: str  # the 栏目
    template: str  # "B" (div.news_content, a.lista) or "A" (div.listMain, older)
    rows_per_page: int


COLUMNS = (
    Column("finance/hangyedongtai", "财经", "行业动态", "B", 2),  # two rows a page: has index_p2.html
    Column("finance/hongguanjingji", "财经", "宏观经济", "A", 20),
)
# East Money code of each 证券日报网 story -> its zqrb column (every such story must be placed).
PLACEMENT = {
    "202204292366280343": "finance/hangyedongtai",  # the seed
    "202112082207031593": "finance/hangyedongtai",
    "202112082206943957": "finance/hangyedongtai",
    "202112082206786275": "finance/hangyedongtai",
    "202112082207122266": "finance/hongguanjingji",
    "202112082206885265": "finance/hongguanjingji",
    "202112082206672930": "finance/hongguanjingji",
    "202112082206742097": "finance/hongguanjingji",
}
OLDER_BODY = frozenset({"202112082206672930"})  # served with the older div.content body container
SOURCE_ALIAS = {"202112082207122266": "证券日报"}  # 来源 printed as the paper's name (an alias)


@dataclass(frozen=True)
class Story:
    """One East Money 证券日报网 story: its code, title, ``YYYY-MM-DD HH:MM:SS`` time and body lines."""

    code: str
    title: str
    published: str
    body_lines: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    story: Story
    column: Column
    time: str  # "YYYY-MM-DD HH:MM"
    url: str
    reporter: str
    editor: str


def plan(stories: list[Story]) -> list[Page]:
    """zqrb pages for the stories, newest first; each story must have a PLACEMENT."""
    columns = {column.path: column for column in COLUMNS}
    pages = []
    for index, story in enumerate(sorted(stories, key=lambda s: (s.published, s.code), reverse=True)):
        column = columns[PLACEMENT[story.code]]
        shown = datetime.strptime(story.published, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        shown = (shown - EARLIER_BY).replace(second=0)
        created = int((shown - CREATED_BEFORE).timestamp()) * 1000 + int(story.code[-3:])
        url = f"{ORIGIN}/{column.path}/{shown:%Y-%m-%d}/A{created:013d}.html"
        reporter, editor = REPORTERS[index % len(REPORTERS)], EDITORS[index % len(EDITORS)]
        pages.append(Page(story, column, f"{shown:%Y-%m-%d %H:%M}", url, reporter, editor))
    if len({page.url for page in pages}) != len(pages):
        raise ValueError("zqrb article URLs collide")
    return pages


def build_site(stories: list[Story], root: Path) -> dict[str, int]:
    """Write ``root`` (the www.zqrb.cn folder); return counts of listing and article pages."""
    pages = plan(stories)
    files: dict[str, bytes] = {}
    for page in pages:
        files[page.url.removeprefix(ORIGIN + "/")] = render_article(page).encode("utf-8")
    listings = 0
    for column in COLUMNS:
        rows = [page for page in pages if page.column == column]
        chunks = [rows[i : i + column.rows_per_page] for i in range(0, len(rows), column.rows_per_page)]
        for number, chunk in enumerate(chunks, start=1):
            html = render_listing(column, chunk, number, len(chunks)).encode("utf-8")
            names = ["index.html", "index_p1.html"] if number == 1 else [f"index_p{number}.html"]
            for name in names:
                files[f"{column.path}/{name}"] = html
                listings += 1
    _write(root, files)
    return {"zqrb_listing_pages": listings, "zqrb_articles": len(pages)}


def render_listing(column: Column, rows: list[Page], number: int, last: int) -> str:
    if column.template == "B":
        items = "\n".join(
            f'          <li><span class="date">{page.time}</span>·<a class="lista" '
            f'title="{attr(page.story.title)}" href="{page.url}" target="_blank">'
            f"{text(page.story.title)}</a></li>"
            for page in rows
        )
        pager = ['<a href="index_p1.html" title="首页">首页</a>']
        if number > 1:
            pager.append(f'<a href="index_p{number - 1}.html" title="上一页">上一页</a>')
        if number < last:
            pager.append(f'<a href="index_p{number + 1}.html" title="下一页">下一页</a>')
        pager.append(f'<a href="index_p{last}.html" title="尾页">尾页</a>')
        listing = (
            '      <div class="news_content">\n        <ul>\n'
            f"{items}\n        </ul>\n"
            f'        <div class="page">{" ".join(pager)}</div>\n      </div>'
        )
    else:  # Era A: href before title, the date after the link, two trailing pager anchors
        items = "\n".join(
            f'        <li><a href="{page.url}" title="{attr(page.story.title)}">{text(page.story.title)}</a>'
            f'<span class="date">{page.time}</span></li>'
            for page in rows
        )
        listing = (
            f'      <div class="listMain">\n        <ul>\n{items}\n        </ul>\n'
            '        <a href="index.html">首页</a><a href="index.html">尾页</a>\n      </div>'
        )
    return _chrome(
        f"{column.name}-证券日报网",
        f"首页 &gt; {column.channel} &gt; {column.name}",
        f'    <div class="wrap-left">\n      <div class="wrap-coltitle">{column.name}</div>\n'
        f"{listing}\n    </div>",
    )


def render_article(page: Page) -> str:
    story, column = page.story, page.column
    body_class = "content" if story.code in OLDER_BODY else "content-lcq"
    source = SOURCE_ALIAS.get(story.code, "证券日报网")
    lines = [f"<p>　　本报记者 {page.reporter}</p>", *story.body_lines, f"<p>　　（编辑 {page.editor}）</p>"]
    body = "\n".join(f"      {line}" for line in lines)
    content = (
        '    <div class="news_content">\n'
        f"      <h1>{text(story.title)}</h1>\n"
        f'      <div class="info_news">{page.time}&ensp;&ensp;来源：{source}&ensp;&ensp;</div>\n'
        f'      <!--con-->\n      <div class="{body_class}">\n{body}\n      </div>\n      <!--end-->\n'
        "    </div>"
    )
    return _chrome(
        f"{story.title}-证券日报网",
        f"首页 &gt; {column.channel} &gt; {column.name} &gt; 正文",
        content,
    )


def _chrome(title: str, crumb: str, main: str) -> str:
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{text(title)}</title>
</head>
<body>
<div class="wrap-top"><a href="{ORIGIN}/">证券日报网</a> <a href="{ORIGIN}/finance/index.html">财经</a> \
<a href="{ORIGIN}/stock/index.html">股票</a></div>
<div class="wrap-page">
  <div class="wrap-nav"><a href="{ORIGIN}/finance/hongguanjingji/index.html">宏观经济</a> \
<a href="{ORIGIN}/finance/hangyedongtai/index.html">行业动态</a></div>
  <div class="wrap-crumb">{crumb}</div>
  <div class="wrap-body">
{main}
    <div class="wrap-right"><div class="hot">热点排行</div></div>
  </div>
</div>
<div class="wrap-footer">证券日报网 版权所有</div>
</body>
</html>
"""


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in sorted(files.items()):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    wanted = {root / name for name in files}
    for stale in sorted(path for path in root.rglob("*") if path.is_file() and path not in wanted):
        stale.unlink()
