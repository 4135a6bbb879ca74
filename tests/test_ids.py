"""info_code canonicalization (East Money and namespaced ids) and article URLs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from newsarchive.export.jekyll import post_filename
from newsarchive.ids import (
    article_url,
    bare_code,
    canonical_info_code,
    canonical_url,
    code_from_url,
    is_east_money_code,
    zqrb_article_url,
    zqrb_info_code,
)
from newsarchive.text.dates import SHANGHAI


def _post(info_code: str) -> Any:
    return SimpleNamespace(info_code=info_code, published_at=datetime(2022, 4, 29, 14, 58, tzinfo=SHANGHAI))


@pytest.mark.parametrize("raw", ["202204292366280343", "NW202204292366280343", " nw202204292366280343 "])
def test_bare_and_nw_codes_are_the_same_article(raw: str) -> None:
    assert canonical_info_code(raw) == "NW202204292366280343"
    assert bare_code(raw) == "202204292366280343"
    assert article_url(raw) == "https://finance.eastmoney.com/a/202204292366280343.html"


@pytest.mark.parametrize(
    "raw",
    ["", "NW", "2022042923662803", "../../etc/passwd", "NW20220429236628034x", "20260702101113747001360"],
)
def test_invalid_codes_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        canonical_info_code(raw)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://finance.eastmoney.com/a/202204292366280343.html", "202204292366280343"),
        ("http://finance.eastmoney.com/a/202204292366280343_2.html", "202204292366280343"),
        ("http://finance.eastmoney.com/news/1344,202204292366280343.html", "202204292366280343"),
        ("https://finance.eastmoney.com/a/cjzc.html", None),
        ("http://caifuhao.eastmoney.com/news/202609213880203046", None),
    ],
)
def test_code_from_url(url: str, code: str | None) -> None:
    assert code_from_url(url) == code


@pytest.mark.parametrize("code", ["ZQRB-A1774350569667", "CNSTOCK-3521998", "CS2-t20240101_123", "NW-1"])
def test_namespaced_ids_are_kept_exactly(code: str) -> None:
    if "_" in code:
        with pytest.raises(ValueError):
            canonical_info_code(code)
        return
    assert canonical_info_code(code) == code
    assert canonical_info_code(f" {code} ") == code
    assert not is_east_money_code(code)


@pytest.mark.parametrize(
    "raw",
    [
        "zqrb-A1774350569667",
        "ZQRB-",
        "-A1",
        "ZQRB-A1/../x",
        "ZQRB-..",
        "ZQRB-A.1",
        "1ZQRB-A1",
        "ZQRB-" + "9" * 36,
    ],
)
def test_bad_namespaced_ids_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        canonical_info_code(raw)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.zqrb.cn/finance/hongguanjingji/2026-03-24/A1774350569667.html",
        "https://www.zqrb.cn/finance/hongguanjingji/2026-03-24/A1774350569667.html",
        "http://m.zqrb.cn/finance/hongguanjingji/2026-03-24/A1774350569667.html",
    ],
)
def test_zqrb_ids_and_canonical_urls_from_any_host(url: str) -> None:
    assert zqrb_info_code(url) == "ZQRB-A1774350569667"
    canonical = "http://www.zqrb.cn/finance/hongguanjingji/2026-03-24/A1774350569667.html"
    assert zqrb_article_url(url) == canonical == canonical_url("ZQRB-A1774350569667", url)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.zqrb.cn/finance/hongguanjingji/index.html",
        "http://www.zqrb.cn/finance/hongguanjingji/2026-03-24/A177435056966.html",  # 12 digits
        "http://evil.example/finance/hongguanjingji/2026-03-24/A1774350569667.html",
        "https://finance.eastmoney.com/a/202204292366280343.html",
    ],
)
def test_zqrb_ids_only_from_article_urls(url: str) -> None:
    assert zqrb_info_code(url) is None


def test_east_money_and_namespaced_codes_never_collide() -> None:
    east_money = canonical_info_code("202204292366280343")
    assert "-" not in east_money and canonical_info_code("ZQRB-A1774350569667") != east_money
    assert canonical_url(east_money, "http://x") == "https://finance.eastmoney.com/a/202204292366280343.html"


@pytest.mark.parametrize("code", ["ZQRB-A1774350569667", "CNSTOCK-A" + "1" * 30, "NW202204292366280343"])
def test_info_codes_make_safe_jekyll_file_names(code: str, tmp_path: Path) -> None:
    name = post_filename(_post(code))
    assert name == f"2022-04-29-{code}.md"
    assert "/" not in name and ".." not in name and name.count(".") == 1
    (tmp_path / name).write_text("x", encoding="utf-8")
    assert [path.name for path in tmp_path.iterdir()] == [name]
