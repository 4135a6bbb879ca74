"""(a) Crawl throughput: ``newsarchive crawl eastmoney`` (every pipeline, SQLite, WARC on) against
a bare Scrapy spider fetching the same URLs from the same loopback server, in the same run.

The site is the committed sample scaled up: N article pages made from the 70 sample pages, each
with its own code and time, a body retold from the sentences of all the sample bodies
(bench.synthetic.retold, as in the synthetic archives: copies as rare as on the real site) and
page chrome bringing it to the 16 KB of a real saved East Money article, listed in one column.

Both crawlers run as their own processes with the same download settings (no delay, 8 requests in
flight); the figure is articles per second of wall time, process start to exit, the better of
``--rounds`` alternating rounds each.

    python -m bench.crawl_throughput [--articles 2000] [--rounds 2] [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from html import escape
from pathlib import Path

from bench.common import REPO, Figure, report, timer, wants_json
from bench.synthetic import digit_swaps, retold, sample_articles, sentence_pool
from newsarchive.samplesite import SampleSite
from newsarchive.samplesite.server import COLUMN_PATH, LOOPBACK_SETTINGS

SAMPLE = REPO / "data" / "sample" / "eastmoney"
COLUMN = "344"
PAGE_SIZE = 100
TARGET = 0.75
MIN_CHARACTERS = 400  # of body text (the sample's median body is 420 characters of HTML)
# The same for both crawlers: loopback needs no politeness (the bare spider ignores the one
# newsarchive setting among them), and 8 requests in flight measure the crawler's own cost rather
# than one request's round trip.
DOWNLOAD = (*LOOPBACK_SETTINGS, "-s", "CONCURRENT_REQUESTS=8", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")
_TIME = re.compile(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}")
# the body from its opening tag up to the source line (both layouts have one), and its story
# paragraphs (not the "全新妙想" top link, quote charts or share text the current layout carries)
_BODY = re.compile(r'(<div[^>]*id="ContentBody"[^>]*>)(.*?)(<p class="em_media">)', re.S)
_STORY = re.compile(r'<p>　　(?!<a class="toplink").*?</p>\n?', re.S)

BARE_SPIDER = '''
import scrapy

class Bare(scrapy.Spider):
    """Fetches the URLs in the file it is given and does nothing with them."""
    name = "bare"

    async def start(self):
        for url in open(self.urls, encoding="utf-8").read().split():
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        pass
'''


NAV_WORDS = "股市基金债券期货外汇黄金理财保险银行科技宏观公司研报"


def chrome(rng: random.Random) -> str:
    """Navigation, a hot-news list and an inline script, as the real pages carry around the
    article (eastmoney.md: the article sits inside the site's full page)."""
    links = "\n".join(
        f' <li><a href="/a/2021120822{rng.randrange(10**8):08d}.html" target="_blank">'
        f"{''.join(rng.choice(NAV_WORDS) for _ in range(14))}</a></li>"
        for _ in range(95)
    )
    script = "var _hmt=_hmt||[];" + "".join(f"window.cfg{i}={{id:{i},on:true}};" for i in range(80))
    return f'<div class="topnav"><ul>\n{links}\n</ul></div>\n<script>{script}</script>\n'


def build_site(root: Path, articles: int, seed: int = 7) -> list[str]:
    """A sample-site folder with ``articles`` pages in one column; returns their codes."""
    rng = random.Random(seed)
    stories = {article.code: article for article in sample_articles()}
    # not a long article's first page: its pager would send the crawl after a page this site lacks
    long = {page.stem.split("_")[0] for page in (SAMPLE / "articles").glob("*_*.html")}
    pages = sorted(
        page
        for page in (SAMPLE / "articles").glob("*.html")
        if page.stem in stories and page.stem not in long
    )
    texts = {page: page.read_text(encoding="utf-8") for page in pages}
    sentences, swaps = sentence_pool(), digit_swaps(rng)
    template_rows = {
        str(row["code"]): row
        for path in (SAMPLE / "columns").glob("*.json")
        for row in json.loads(path.read_text(encoding="utf-8"))
    }
    (root / "eastmoney" / "columns").mkdir(parents=True)
    (root / "eastmoney" / "articles").mkdir()
    start = datetime(2021, 12, 8, 22, 0)
    rows, codes = [], []
    for number in range(articles):
        page = pages[number % len(pages)]
        when = start - timedelta(minutes=3 * number)
        code = f"{when:%Y%m%d}{number + 10_000_000:010d}"[:18]
        html = texts[page].replace(page.stem, code)
        html = _TIME.sub(f"{when:%Y年%m月%d日 %H:%M}", html, count=1)
        # at least MIN_CHARACTERS: a one-sentence story drawn from a few hundred sentences would be
        # a near-copy of a dozen others in its 48 hours, far more copies than the real site has
        lines = retold(stories[page.stem], rng, sentences, rng.choice(swaps))
        while sum(map(len, lines)) < MIN_CHARACTERS:
            lines += retold(rng.choice(list(stories.values())), rng, sentences, rng.choice(swaps))
        body = "".join(f"<p>　　{escape(line, quote=False)}</p>\n" for line in lines)
        html, replaced = _BODY.subn(partial(_new_body, body), html, count=1)
        if not replaced:
            raise ValueError(f"{page.name}: no article body found to replace")
        html = html.replace("<body>", "<body>\n" + chrome(rng), 1)
        (root / "eastmoney" / "articles" / f"{code}.html").write_text(html, encoding="utf-8")
        row = dict(template_rows.get(page.stem) or next(iter(template_rows.values())))
        row.update(
            code=code,
            np_dst="CMS",
            showTime=f"{when:%Y-%m-%d %H:%M:%S}",
            url=f"http://finance.eastmoney.com/news/1{COLUMN},{code}.html",
            uniqueUrl=f"http://finance.eastmoney.com/a/{code}.html",
        )
        rows.append(row)
        codes.append(code)
    (root / "eastmoney" / "columns" / f"{COLUMN}.json").write_text(
        json.dumps(rows, ensure_ascii=False), encoding="utf-8"
    )
    return codes


def _new_body(body: str, found: re.Match[str]) -> str:
    """The page's body with its story paragraphs replaced by ``body`` (its boilerplate kept)."""
    return found[1] + _STORY.sub("", found[2]) + body + found[3]


def crawl_ours(origin: str, folder: Path, articles: int) -> tuple[float, int]:
    """Seconds and articles stored by ``newsarchive crawl eastmoney`` into a fresh SQLite file."""
    pages = -(-articles // PAGE_SIZE)
    command = [
        sys.executable, "-m", "newsarchive", "crawl", "eastmoney", "-a", f"columns={COLUMN}",
        "-a", f"page_size={PAGE_SIZE}", "-a", f"pages={pages}", "--db", f"sqlite:///{folder / 'bench.db'}",
        "--log-level", "WARNING", "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={origin}", *DOWNLOAD,
    ]  # fmt: skip
    with timer() as elapsed:
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    stored = int(result.stdout.split("new articles stored:")[1].split()[0]) if result.returncode == 0 else 0
    if stored != articles:
        raise RuntimeError(f"newsarchive stored {stored} of {articles}: {result.stderr[-2000:]}")
    return elapsed(), stored


def crawl_bare(urls: list[str], folder: Path) -> float:
    """Seconds a bare Scrapy spider (no project, no pipelines) takes to fetch ``urls``."""
    spider = folder / "bare_spider.py"
    spider.write_text(BARE_SPIDER, encoding="utf-8")
    listing = folder / "urls.txt"
    listing.write_text("\n".join(urls), encoding="utf-8")
    command = [
        sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"urls={listing}",
        "-s", "LOG_LEVEL=WARNING", "-s", "TELNETCONSOLE_ENABLED=0", *DOWNLOAD,
    ]  # fmt: skip
    with timer() as elapsed:
        subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True)
    return elapsed()


def run(quick: bool = False, articles: int | None = None, rounds: int = 2) -> list[Figure]:
    articles = articles or (150 if quick else 2_000)
    rounds = 1 if quick else rounds
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        root = Path(tmp) / "site"
        build_site(root, articles)
        ours: list[float] = []
        bare: list[float] = []
        with SampleSite(root) as site:
            for number in range(rounds):
                folder = Path(tmp) / f"ours-{number}"
                folder.mkdir()
                site.clear_requests()
                seconds, _ = crawl_ours(site.origin, folder, articles)
                ours.append(seconds)
                # the same URLs, in the order ours asked for them (robots.txt aside)
                urls = [
                    f"{site.origin}{r.path}" + (f"?{r.query}" if r.query else "")
                    for r in site.requests
                    if r.path != "/robots.txt"
                ]
                bare_folder = Path(tmp) / f"bare-{number}"
                bare_folder.mkdir()
                bare.append(crawl_bare(urls, bare_folder))
        listing_requests = sum(1 for url in urls if COLUMN_PATH in url)
    ours_rate, bare_rate = articles / min(ours), articles / min(bare)
    return [
        Figure(
            key="a",
            name="crawl throughput, eastmoney with every pipeline, SQLite and WARC",
            value=ours_rate,
            unit="articles/s",
            baseline_name="bare Scrapy spider, same URLs",
            baseline=bare_rate,
            target=f"ratio ≥ {TARGET}",
            met=ours_rate / bare_rate >= TARGET,
            detail=(
                f"{articles:,} article pages of ~16 KB + {listing_requests} listing pages from a loopback "
                f"sample site; best of {rounds} alternating rounds, wall time process start to exit; "
                f"ours {min(ours):.1f} s, bare {min(bare):.1f} s"
            ),
        )
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=None, help="article pages (default 2,000)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best counts")
    parser.add_argument("--quick", action="store_true", help="a tiny run, for a smoke test")
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    args = parser.parse_args(argv)
    report(run(args.quick, args.articles, args.rounds), as_json=args.json or wants_json(argv))


if __name__ == "__main__":
    main()
