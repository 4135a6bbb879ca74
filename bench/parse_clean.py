"""Benchmark b: parse + clean throughput on the saved article pages, against trafilatura.extract.

newsarchive's side is what turns a fetched page into the stored body: the site's own parser
(newsarchive.pages.eastmoney / zqrb .parse_article) then the clean pipeline's clean_body. The
baseline is ``trafilatura.extract(html)`` on the same decoded pages. Both run in alternating
rounds over every page until each side has run ``--seconds``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version

import trafilatura

from bench.common import REPO, Figure, report, timer, wants_json
from newsarchive.ids import article_url
from newsarchive.pages import eastmoney, zqrb
from newsarchive.pages.model import ArticlePage
from newsarchive.text.clean import clean_body
from newsarchive.text.encoding import decode_html

SAMPLE = REPO / "data" / "sample"
TARGET_RATIO = 10.0
SECONDS = 5.0  # per side
QUICK_SECONDS = 0.3


@dataclass(frozen=True)
class SavedPage:
    url: str
    html: str  # decoded as the spiders decode it (newsarchive.text.encoding)
    parse: Callable[[str, str], ArticlePage]


def saved_pages() -> list[SavedPage]:
    """Every saved article page the project parses with its own parser: East Money's and
    证券日报网's (the declared sites use selectors from data files, not a parser of their own)."""
    pages = [
        SavedPage(
            # each page at its own URL: a long article's later pages are <code>_2.html …
            eastmoney.page_url(
                article_url(path.stem.split("_")[0]), eastmoney.page_number(f"/a/{path.stem}.html")
            ),
            decode_html(path.read_bytes(), "text/html"),
            eastmoney.parse_article,
        )
        for path in sorted((SAMPLE / "eastmoney" / "articles").glob("*.html"))
    ]
    zqrb_site = SAMPLE / "sites" / "www.zqrb.cn"
    pages += [
        SavedPage(
            f"http://www.zqrb.cn/{path.relative_to(zqrb_site).as_posix()}",
            decode_html(path.read_bytes(), "text/html"),
            zqrb.parse_article,
        )
        for path in sorted(zqrb_site.rglob("A*.html"))
    ]
    return pages


def parse_and_clean(page: SavedPage) -> str:
    """The stored body_text of a page (parse, then clean the raw body as the clean pipeline does)."""
    parsed = page.parse(page.html, page.url)
    return clean_body(parsed.body_html or "", page.url).text


def extract_with_trafilatura(page: SavedPage) -> str:
    return trafilatura.extract(page.html) or ""


def measure(pages: Sequence[SavedPage], seconds: float) -> tuple[float, float, int, int]:
    """Pages per second of newsarchive and of trafilatura, and the rounds each ran. Rounds
    alternate (the side behind in time goes next) so both see the same machine load."""
    for page in pages:  # warm-up: imports, lazy tables, lxml parser setup
        parse_and_clean(page)
        extract_with_trafilatura(page)
    spent = {"ours": 0.0, "trafilatura": 0.0}
    rounds = {"ours": 0, "trafilatura": 0}
    sides = {"ours": parse_and_clean, "trafilatura": extract_with_trafilatura}
    while min(spent.values()) < seconds:
        side = min(spent, key=lambda name: spent[name])
        work = sides[side]
        with timer() as elapsed:
            for page in pages:
                work(page)
        spent[side] += elapsed()
        rounds[side] += 1
    per_second = {side: rounds[side] * len(pages) / spent[side] for side in sides}
    return per_second["ours"], per_second["trafilatura"], rounds["ours"], rounds["trafilatura"]


def run(quick: bool = False, seconds: float | None = None) -> list[Figure]:
    pages = saved_pages()
    duration = seconds if seconds is not None else (QUICK_SECONDS if quick else SECONDS)
    ours, theirs, our_rounds, their_rounds = measure(pages, duration)
    eastmoney_pages = sum(page.parse is eastmoney.parse_article for page in pages)
    return [
        Figure(
            key="b",
            name="parse + clean throughput",
            value=ours,
            unit="pages/s",
            baseline_name="trafilatura.extract",
            baseline=theirs,
            target=f"≥ {TARGET_RATIO:g}× trafilatura",
            met=ours >= TARGET_RATIO * theirs,
            detail=(
                f"{len(pages)} saved article pages ({eastmoney_pages} East Money, "
                f"{len(pages) - eastmoney_pages} 证券日报网), {our_rounds} rounds vs {their_rounds} "
                f"in {duration:g} s each, alternating; trafilatura {version('trafilatura')}"
            ),
        )
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fraction of a second per side (smoke test)")
    parser.add_argument("--json", action="store_true", help="print figures as JSON lines")
    parser.add_argument("--seconds", type=float, help=f"seconds per side (default {SECONDS:g})")
    args = parser.parse_args(argv)
    report(run(quick=args.quick, seconds=args.seconds), as_json=args.json or wants_json(argv))


if __name__ == "__main__":
    main()
