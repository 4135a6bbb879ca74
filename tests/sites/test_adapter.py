"""Declared sites in the shared page model: entries keyed by namespaced ids, the generic-extraction
mark carried to the item, routing for reparse, and the generated spiders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from newsarchive.assemble import assemble_article
from newsarchive.pages.routes import ARTICLE, LISTING, route
from newsarchive.sites.adapter import article_page, listing_page, register_declared_sites
from newsarchive.text.encoding import decode_html

CASES = Path(__file__).with_name("cases")
SITES = {spec.name: spec for spec in register_declared_sites()}


def case(name: str) -> tuple[str, str]:
    folder = CASES / name
    page = next(path for path in folder.iterdir() if path.name.startswith("page"))
    return decode_html(page.read_bytes(), "text/html"), (folder / "url.txt").read_text().strip()


def test_listing_rows_become_entries_keyed_by_namespaced_ids() -> None:
    html, url = case("cs_list")
    listing = listing_page(SITES["cs_com_cn"], html, url, "xwzx_hg")
    assert listing.entries and all(entry.code.startswith("CSCOMCN-") for entry in listing.entries)
    assert all(entry.media == "中国证券报" and entry.show_time is None for entry in listing.entries)
    assert all(entry.url.startswith("https://www.cs.com.cn/xwzx/hg/202112/t") for entry in listing.entries)


def test_selector_and_generic_bodies_are_marked_on_the_item() -> None:
    html, url = case("cnstock_article")
    spec = SITES["cnstock"]
    fetched = datetime(2026, 11, 24, tzinfo=UTC)
    by_selectors = assemble_article(
        article_page(spec, html, url), url, feed="cnstock", entry=None, fetched_at=fetched
    )
    legacy = spec.legacy[0]  # the case is a page of the site before its rebuild (an old URL)
    assert legacy.article is not None and spec.article_for(url) is legacy.article
    generic_spec = replace(spec, legacy=(replace(legacy, article=replace(legacy.article, body=())),))
    generic = assemble_article(
        article_page(generic_spec, html, url), url, feed="cnstock", entry=None, fetched_at=fetched
    )
    assert by_selectors is not None and generic is not None
    assert (by_selectors.extraction, generic.extraction) == (None, "generic")
    assert by_selectors.info_code == generic.info_code and by_selectors.info_code.startswith("CNSTOCK-")
    assert generic.body_html and "相关阅读" not in generic.body_html


def test_an_unreadable_article_page_has_no_body_so_it_is_dropped_later() -> None:
    page = article_page(
        SITES["cnstock"], "<html><body><p>维护中</p></body></html>", case("cnstock_article")[1]
    )
    assert page.body_html is None and page.title is None and page.code is not None


def test_reparse_routes_declared_urls_to_their_site_files() -> None:
    _, list_url = case("cs_list")
    _, article_url = case("cs_article")
    listing, article = route(list_url), route(article_url)
    assert listing is not None and (listing.site, listing.kind) == ("cs_com_cn", LISTING)
    assert article is not None and (article.kind, article.feed) == (ARTICLE, "cs_com_cn")
    assert article.info_code is not None and article.info_code.startswith("CSCOMCN-")
    assert route("https://www.cs.com.cn/about/contact.html") is None


def test_one_spider_per_site_file() -> None:
    from scrapy.spiderloader import SpiderLoader

    from newsarchive.runner import project_settings

    loader = SpiderLoader.from_settings(project_settings())
    for name, spec in SITES.items():
        spider = loader.load(name)
        assert spider.site is spec and spider.feed == name


def test_one_bad_row_link_costs_only_its_row() -> None:
    """issue 13 point 6: an href urljoin cannot read (an unbalanced IPv6 bracket) rejects its row only."""
    html, url = case("cnstock_list")
    spec = SITES["cnstock"]
    good = listing_page(spec, html, url, "sns_yw")
    first_link = good.entries[0].url
    damaged = html.replace(first_link, "http://[::1/news,yw-202112-4801468.htm", 1)
    bad = listing_page(spec, damaged, url, "sns_yw")
    assert [entry.url for entry in bad.entries] == [entry.url for entry in good.entries[1:]]
    assert bad.rejected == good.rejected + 1


def test_a_deeply_nested_page_reads_as_it_would_flat() -> None:
    """issue 13: libxml2 stopped at 256 levels and dropped the rest of the page with the body."""
    html, url = case("cnstock_article")
    deep = html.replace("<body>", "<body>" + "<div>" * 300, 1)
    assert "<body>" in html
    assert article_page(SITES["cnstock"], deep, url) == article_page(SITES["cnstock"], html, url)


def test_cnstock_routes_its_new_and_old_urls() -> None:
    """The rebuilt site's URLs (www. and m.) and the old ones (in WARC files from before) all route
    to the cnstock file, with the same CNSTOCK-<contId> ids."""
    expected = {
        "https://www.cnstock.com/commonDetail/4801362": (ARTICLE, "CNSTOCK-4801362"),
        "https://m.cnstock.com/commonDetail/4801362": (ARTICLE, "CNSTOCK-4801362"),
        "https://www.cnstock.com/news,yw-202112-4801362.htm": (ARTICLE, "CNSTOCK-4801362"),
        "http://news.cnstock.com/news,yw-201908-4413224.htm": (ARTICLE, "CNSTOCK-4413224"),
        "https://www.cnstock.com/channel/10006": (LISTING, None),
        "https://www.cnstock.com/news/sns_yw/index.html": (LISTING, None),
    }
    for url, (kind, code) in expected.items():
        found = route(url)
        assert found is not None and (found.site, found.kind, found.info_code) == ("cnstock", kind, code), url
    assert route("https://www.cnstock.com/about/contact.html") is None
    assert route("https://www.cnstock.org/commonDetail/4801362") is None


def test_cnstock_next_pages_in_the_page_model() -> None:
    html, url = case("cnstock_next_article")
    page = article_page(SITES["cnstock"], html, url)
    assert (page.code, page.layout, page.published_raw) == ("CNSTOCK-4801468", "declared", "2021-12-08 15:13")
    html, url = case("cnstock_next_list")
    listing = listing_page(SITES["cnstock"], html, url, "channel_10006")
    assert [entry.code for entry in listing.entries] == [
        "CNSTOCK-4801468",
        "CNSTOCK-4801375",
        "CNSTOCK-4801362",
        "CNSTOCK-4800913",
    ]
    assert listing.rejected == 0 and listing.next_cursor is None
