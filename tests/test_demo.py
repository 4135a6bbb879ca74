"""``newsarchive demo`` and ``scrapy crawl`` from the repository root, both fully offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from newsarchive.exitcodes import NOTHING_NEW
from newsarchive.samplesite import SampleSite
from tests.conftest import REPO, run_cli
from tests.support import FAST_SETTINGS, stored_rows

SEED_POST = Path(__file__).with_name("export") / "seed_post.md"
SAMPLE = REPO / "data" / "sample" / "eastmoney"


ZQRB_SAMPLE = REPO / "data" / "sample" / "sites" / "www.zqrb.cn"


SITES_SAMPLE = REPO / "data" / "sample" / "sites"
# each declared site's article pages in its sample copy
DECLARED_SAMPLES = {
    # cnstock: the Next.js site's articles (its old news,yw-….htm pages are kept for reparse tests only)
    "cnstock": (SITES_SAMPLE / "www.cnstock.com", "commonDetail/*/index.html"),
    "cs_com_cn": (SITES_SAMPLE / "www.cs.com.cn" / "xwzx" / "hg", "*/t*.html"),
    "stcn": (SITES_SAMPLE / "www.stcn.com" / "article" / "detail", "*.html"),
    "xinhua": (SITES_SAMPLE / "www.news.cn" / "fortune", "*/*/c*.htm*"),
}


def declared_article_count() -> int:
    return sum(len(list(folder.glob(pattern))) for folder, pattern in DECLARED_SAMPLES.values())


def sample_article_count() -> int:
    """East Money article pages, the 证券日报网 copies of its 证券日报网 stories, and the declared
    sites' articles (中国证券网, 中证网, 证券时报网, 新华网)."""
    # one per article: a long one's later pages (<code>_2.html) are part of its first page's article
    east_money = len([page for page in (SAMPLE / "articles").glob("*.html") if "_" not in page.stem])
    return east_money + len(list(ZQRB_SAMPLE.glob("*/*/*/A*.html"))) + declared_article_count()


def test_demo_crawls_every_feed_and_exports_posts(tmp_path: Path) -> None:
    first = run_cli("demo", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    posts = tmp_path / "data" / "site" / "_posts"
    assert len(list(posts.glob("*.md"))) == sample_article_count() == 93
    assert (posts / "2022-04-29-NW202204292366280343.md").read_bytes() == SEED_POST.read_bytes()
    rows = stored_rows(f"sqlite:///{tmp_path / 'data' / 'newsarchive.db'}")
    assert len(rows) == sample_article_count()
    assert len({row["media"] for row in rows.values()}) >= 3
    assert f"holds {len(rows)} articles" in first.stdout
    assert len(list((tmp_path / "data" / "warc").glob("*.warc.gz"))) == 7
    assert f"({sample_article_count()} article pages)" in first.stdout
    assert {row["feed"] for row in rows.values()} == {
        "eastmoney",
        "eastmoney_fast",
        "zqrb",
        "cnstock",
        "cs_com_cn",
        "stcn",
        "xinhua",
    }
    zqrb_copies = {code for code, row in rows.items() if row["feed"] == "zqrb"}
    assert len(zqrb_copies) == 8  # each the canonical copy of one East Money 证券日报网 story
    linked = {code: row["duplicate_of"] for code, row in rows.items() if row["duplicate_of"]}
    to_zqrb = {code for code, original in linked.items() if original in zqrb_copies}
    assert len(to_zqrb) >= 8 and zqrb_copies <= set(linked.values())
    assert linked["NW202204292366280343"] == "ZQRB-A1651215300343"

    again = run_cli("demo", cwd=tmp_path)
    assert again.returncode == NOTHING_NEW, again.stderr[-3000:]
    assert "(0 article pages)" in again.stdout
    assert "new articles stored:   0" in again.stdout


def test_scrapy_crawl_works_from_the_repository_root(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'scrapy.db'}"
    env = {**os.environ, "NEWSARCHIVE_WARC_DIR": str(tmp_path / "warc"), "NEWSARCHIVE_DATABASE_URL": db_url}
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    spiders = {"cnstock", "cs_com_cn", "eastmoney", "eastmoney_fast", "reparse", "stcn", "xinhua", "zqrb"}
    assert set(listed.stdout.split()) == spiders
    with SampleSite() as site:
        site.start()
        command = [sys.executable, "-m", "scrapy", "crawl", "eastmoney", "-a", "media=证券日报网"]
        command += ["-a", "columns=344", "-s", f"NEWSARCHIVE_REPLAY_ORIGIN={site.origin}", *FAST_SETTINGS]
        result = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=120
        )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = stored_rows(db_url)
    expected = {
        f"NW{row['code']}"
        for row in json.loads((SAMPLE / "columns" / "344.json").read_text(encoding="utf-8"))
        if row["mediaName"] == "证券日报网" and row["np_dst"] == "CMS"
    }
    assert set(rows) == expected and expected
    assert "new articles stored" in result.stderr  # the end-of-run summary is logged too
