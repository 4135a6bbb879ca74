"""Article identity: the canonical ``info_code`` (``NW`` + 18 digits) and the canonical article URL."""

from __future__ import annotations

import re

_CODE = re.compile(r"^(?:NW)?(\d{18})$")
_ARTICLE_PATH = re.compile(r"/a/(\d{18})(?:_\d+)?\.html$")
_NEWS_PATH = re.compile(r"/news/\d+,(\d{18})\.html$")
ARTICLE_URL = "https://finance.eastmoney.com/a/{code}.html"


def canonical_info_code(code: str) -> str:
    """``202204292366280343`` and ``NW202204292366280343`` are the same article: return the NW form."""
    match = _CODE.match(code.strip().upper())
    if match is None:
        raise ValueError(f"not an East Money article code: {code!r}")
    return f"NW{match.group(1)}"


def bare_code(info_code: str) -> str:
    """The 18 digits of an info code, as used in article URLs."""
    return canonical_info_code(info_code)[2:]


def article_url(code: str) -> str:
    """Canonical https URL of an article page."""
    return ARTICLE_URL.format(code=bare_code(code))


def code_from_url(url: str) -> str | None:
    """The 18-digit code in an ``/a/<code>.html`` or legacy ``/news/<col>,<code>.html`` URL."""
    path = url.split("?", 1)[0]
    match = _ARTICLE_PATH.search(path) or _NEWS_PATH.search(path)
    return match.group(1) if match else None
