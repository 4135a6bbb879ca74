"""End to end: markup and bidi controls in a declared site's listing never reach the archive.

Declared sites (newsarchive/sites/*.toml) extract text with their own selectors, not with the East
Money parsers' plain-text helper; the plain-text pipeline step (pipelines.plaintext) is what holds
for them, in a real crawl of the sample site.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from newsarchive.samplesite import SampleSite
from tests.support import SAMPLE_EASTMONEY, crawl, stored_rows

LISTING = Path("sites") / "www.cnstock.com" / "channel" / "10006" / "index.html"
TITLE = "离岸人民币兑美元升至2018年以来最高水平"
# as the listing's __NEXT_DATA__ writes it; the row's title is the one an article is stored with
HOSTILE = f"\u202e离岸人民币<scr<script>ipt>{TITLE[5:]}<img src=x onerror=alert(1)//"


def test_a_declared_site_title_is_stored_as_plain_text(tmp_path: Path, sqlite_url: str) -> None:
    root = tmp_path / "site"
    shutil.copytree(SAMPLE_EASTMONEY.parent, root)
    listing = root / LISTING
    html = listing.read_text(encoding="utf-8")
    row = f'"name":{json.dumps(TITLE, ensure_ascii=False)}'
    assert row in html
    listing.write_text(html.replace(row, f'"name":{json.dumps(HOSTILE, ensure_ascii=False)}'))

    with SampleSite(root) as site:
        site.start()
        crawl("cnstock", site.origin, sqlite_url, tmp_path, "-a", "pages=1")

    titles = {row["title"] for row in stored_rows(sqlite_url).values()}
    assert TITLE in titles
    assert not [title for title in titles if "<" in title or "\u202e" in title]
