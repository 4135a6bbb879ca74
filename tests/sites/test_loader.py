"""Site files: the shipped ones load; every malformed one fails with one line naming file and field."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from newsarchive.sites import SITES_FOLDER, SiteFileError, load_site, load_sites

GOOD = (SITES_FOLDER / "cs_com_cn.toml").read_text(encoding="utf-8")


def write(folder: Path, text: str, name: str = "site.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(SiteFileError) as raised:
        load_site(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ") or message.startswith("site.toml: ")
    return message.split(": ", 1)[1]


def test_shipped_files_load_and_are_frozen() -> None:
    sites = load_sites()
    assert [site.name for site in sites] == ["cnstock", "cs_com_cn", "stcn", "xinhua"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sites[0].name = "x"  # type: ignore[misc]
    cs = sites[1]
    assert cs.listing.columns == (("xwzx_hg", "https://www.cs.com.cn/xwzx/hg/"),)
    assert cs.article.body[0] == "//article[contains(@class, 'cont_article')]/section"
    assert cs.path.endswith("cs_com_cn.toml")


def test_relative_path_in_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "newsarchive" / "sites").mkdir(parents=True)
    write(tmp_path / "newsarchive" / "sites", GOOD.replace("entry = ", "# entry = "), "cnstock.toml")
    with pytest.raises(SiteFileError) as raised:
        load_site(tmp_path / "newsarchive" / "sites" / "cnstock.toml")
    assert str(raised.value) == "newsarchive/sites/cnstock.toml: listing.entry: required"


def drop_line(prefix: str) -> str:
    return "\n".join(line for line in GOOD.splitlines() if not line.startswith(prefix)) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (drop_line("entry = "), "listing.entry: required"),
        (drop_line("link = "), "listing.link: required"),
        (drop_line("name = "), "name: required"),
        (drop_line("media = "), "media: required"),
        (drop_line("id_pattern = "), "id_pattern: required"),
        (drop_line("columns = "), "listing.columns: required"),
        (drop_line("title = ["), "article.title: required"),
        (GOOD.replace("[article]", "[articles]"), "articles: unknown key"),
        (
            GOOD.replace("[boilerplate]", "[boilerplate]\ncut_after = ['x']"),
            "boilerplate.cut_after: unknown key",
        ),
        (GOOD.replace('link = "./a/@href"', 'link = "./a/@href"\nlinks = "x"'), "listing.links: unknown key"),
        (GOOD.replace('name = "cs_com_cn"', "name = 3"), "name: must be a string, not int"),
        (GOOD.replace('name = "cs_com_cn"', 'name = "CS.com"'), "name: 'CS.com' must match"),
        (GOOD.replace('name = "cs_com_cn"', 'name = "  "'), "name: must not be empty"),
        (
            GOOD.replace("first_page = 1", 'first_page = "1"'),
            "listing.first_page: must be a non-negative integer",
        ),
        (GOOD.replace("first_page = 1", "first_page = true"), "listing.first_page: must be a non-negative"),
        (
            GOOD.replace('page_pattern = "index_{n}.html"', 'page_pattern = "index.html"'),
            "listing.page_pattern: must contain {n}",
        ),
        (
            GOOD.replace("first_page = 1", "first_page = 1\nnext_link = '//a/@href'"),
            "listing.next_link: give page_pattern or next_link",
        ),
        (
            GOOD.replace('page_pattern = "index_{n}.html"', ""),
            "listing.first_page: only meaningful with page_pattern",
        ),
        (
            GOOD.replace('media = "中国证券报"', 'media = "中证报"'),
            "media: '中证报' is not a canonical outlet",
        ),
        (
            GOOD.replace('media = "中国证券报"', 'media = "某某财经"'),
            "media: '某某财经' is not a canonical outlet",
        ),
        (
            GOOD.replace('base_url = "https://www.cs.com.cn/"', 'base_url = "www.cs.com.cn"'),
            "base_url: 'www.cs.com.cn' is not an absolute",
        ),
        (
            GOOD.replace('id_namespace = "CSCOMCN"', 'id_namespace = "cs"'),
            "id_namespace: 'cs' must match [A-Z][A-Z0-9]*",
        ),
        (
            GOOD.replace('id_namespace = "CSCOMCN"', 'id_namespace = "CS-COM"'),
            "id_namespace: 'CS-COM' must match",
        ),
        (GOOD.replace('id_namespace = "CSCOMCN"', 'id_namespace = "1CS"'), "id_namespace: '1CS' must match"),
        (
            GOOD.replace("_(\\d+)\\.html$'", "_\\d+\\.html$'"),
            "id_pattern: needs exactly one group (the id), found 0",
        ),
        (
            GOOD.replace("_(\\d+)\\.html$'", "_(\\d)(\\d+)\\.html$'"),
            "id_pattern: needs exactly one group (the id), found 2",
        ),
        (GOOD.replace("_(\\d+)\\.html$'", "_(\\d+\\.html$'"), "id_pattern: bad regular expression"),
        (GOOD.replace('link = "./a/@href"', 'link = "./a/@@href"'), "listing.link: bad XPath './a/@@href'"),
        (
            GOOD.replace('date = "./a/div/em"', 'date = ["./a/div/em"]'),
            "listing.date: must be a string, not a list",
        ),
        (GOOD.replace("body = [", 'body = ["//div[", '), "article.body[0]: bad XPath"),
        (
            re.sub(r"^body = .*$", "body = []", GOOD, flags=re.M),
            "article.body: must not be empty",
        ),
        (GOOD.replace("body = [", "body = [3, "), "article.body[0]: must be a non-empty string"),
        (
            GOOD.replace('date_formats = ["%Y-%m-%d %H:%M"]\npage', "date_formats = 5\npage"),
            "listing.date_formats: must be a string or a list of strings, not int",
        ),
        (
            GOOD.replace("drop_paragraphs = ['^(责任编辑|责编)[：:]']", "drop_paragraphs = ['(责任编辑']"),
            "boilerplate.drop_paragraphs[0]: bad regular expression",
        ),
        (
            GOOD.replace('drop = [".//script", ".//style"]', 'drop = [".//script["]'),
            "boilerplate.drop[0]: bad XPath",
        ),
        (
            GOOD.replace('columns = { xwzx_hg = "xwzx/hg/" }', "columns = {}"),
            "listing.columns: needs at least one column",
        ),
        (
            GOOD.replace('columns = { xwzx_hg = "xwzx/hg/" }', "columns = { xwzx_hg = 1 }"),
            "listing.columns.xwzx_hg: must be a non-empty string",
        ),
        (
            GOOD.replace('columns = { xwzx_hg = "xwzx/hg/" }', 'columns = { "财经 要闻" = "x/" }'),
            "listing.columns.财经 要闻: column names must match",
        ),
        (
            GOOD.replace('columns = { xwzx_hg = "xwzx/hg/" }', 'columns = "xwzx/hg/"'),
            "listing.columns: must be a table, not a string",
        ),
        ("boilerplate = 1\n" + GOOD.split("[boilerplate]")[0], "boilerplate: must be a table, not int"),
        ("name = [", "not valid TOML"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_for(tmp_path, text)


def test_body_is_optional(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, drop_line("body = ")))
    assert site.article.body == ()


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match=r"missing\.toml: cannot read"):
        load_site(tmp_path / "missing.toml")
    (tmp_path / "latin.toml").write_bytes(b"name = '\xff'")
    with pytest.raises(SiteFileError, match=r"latin\.toml: cannot read"):
        load_site(tmp_path / "latin.toml")


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD.replace('id_namespace = "CSCOMCN"', 'id_namespace = "CSTWO"'), "b.toml")
    with pytest.raises(SiteFileError) as raised:
        load_sites(tmp_path)
    message = str(raised.value)
    assert message.endswith("b.toml: name: 'cs_com_cn' is already declared in " + str(tmp_path / "a.toml"))
    assert "\n" not in message


def test_empty_folder_has_no_sites(tmp_path: Path) -> None:
    assert load_sites(tmp_path) == []
