"""Article identity: the canonical ``info_code`` and the canonical article URL.

Two kinds of info code, which can never collide:

* East Money: ``NW`` + 18 digits (a bare 18-digit code is the same article);
* namespaced, for sites without such a code: ``NAMESPACE-LOCAL``, the namespace an upper-case
  ``[A-Z][A-Z0-9]*`` naming the site, then ``-`` and a local id of ``[A-Za-z0-9]+``, 40 characters
  at most (e.g. 证券日报网 ``ZQRB-A1774350569667`` from the A-number of its article URL). NW codes
  have no ``-``, and no id can hold ``/`` or ``.``, so every info code is also a safe file name.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_CODE = re.compile(r"^(?:NW)?(\d{18})$")
NAMESPACED_CODE = re.compile(r"^[A-Z][A-Z0-9]*-[A-Za-z0-9]+$")
MAX_CODE_LENGTH = 40  # the info_code column is String(40)
_ARTICLE_PATH = re.compile(r"/a/(\d{18})(?:_\d+)?\.html$")
_NEWS_PATH = re.compile(r"/news/\d+,(\d{18})\.html$")
ARTICLE_URL = "https://finance.eastmoney.com/a/{code}.html"

ZQRB_NAMESPACE = "ZQRB"
ZQRB_HOSTS = frozenset({"www.zqrb.cn", "m.zqrb.cn", "zqrb.cn"})
# sites.md §1.5: /{channel}/{column}/{YYYY-MM-DD}/A{13 digits}.html on www. or m.
ZQRB_ARTICLE_PATH = re.compile(r"^/([a-z]+)/([a-z]+)/(\d{4}-\d{2}-\d{2})/(A\d{13})\.html$")
ZQRB_CANONICAL = "http://www.zqrb.cn{path}"


def canonical_info_code(code: str) -> str:
    """``202204292366280343`` and ``NW202204292366280343`` are the same article: return the NW form.

    A namespaced id (``ZQRB-A1774350569667``) is returned as it is; its namespace must already be
    upper-case (ids are compared exactly, so no case folding happens).
    """
    stripped = code.strip()
    match = _CODE.match(stripped.upper())
    if match is not None:
        return f"NW{match.group(1)}"
    if len(stripped) <= MAX_CODE_LENGTH and NAMESPACED_CODE.match(stripped):
        return stripped
    raise ValueError(f"not an article code: {code!r}")


def is_east_money_code(info_code: str) -> bool:
    return _CODE.match(info_code.strip().upper()) is not None


def bare_code(info_code: str) -> str:
    """The 18 digits of an East Money info code, as used in article URLs."""
    match = _CODE.match(info_code.strip().upper())
    if match is None:
        raise ValueError(f"not an East Money article code: {info_code!r}")
    return match.group(1)


def article_url(code: str) -> str:
    """Canonical https URL of an East Money article page."""
    return ARTICLE_URL.format(code=bare_code(code))


def canonical_url(info_code: str, url: str) -> str:
    """The URL stored for an article: East Money's https form, the site's own form for the others."""
    if is_east_money_code(info_code):
        return article_url(info_code)
    return zqrb_article_url(url) or url


def code_from_url(url: str) -> str | None:
    """The 18-digit code in an ``/a/<code>.html`` or legacy ``/news/<col>,<code>.html`` URL."""
    path = url.split("?", 1)[0]
    match = _ARTICLE_PATH.search(path) or _NEWS_PATH.search(path)
    return match.group(1) if match else None


def _zqrb_path(url: str) -> re.Match[str] | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in ZQRB_HOSTS:
        return None
    return ZQRB_ARTICLE_PATH.match(parts.path)


def zqrb_info_code(url: str) -> str | None:
    """``ZQRB-A1774350569667`` for a 证券日报网 article URL (www. or m., http or https), else None."""
    match = _zqrb_path(url)
    return f"{ZQRB_NAMESPACE}-{match.group(4)}" if match else None


def zqrb_article_url(url: str) -> str | None:
    """The canonical ``http://www.zqrb.cn/…`` form of a 证券日报网 article URL (the site's own links
    are http; the mobile host serves the same path), else None."""
    match = _zqrb_path(url)
    return ZQRB_CANONICAL.format(path=match.group(0)) if match else None


def info_code_or_none(code: str | None) -> str | None:
    """The canonical info code of ``code``, or None when it is missing or is no code."""
    try:
        return canonical_info_code(code) if code else None
    except ValueError:
        return None
