"""info_code canonicalization and article URLs."""

from __future__ import annotations

import pytest

from newsarchive.ids import article_url, bare_code, canonical_info_code, code_from_url


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
