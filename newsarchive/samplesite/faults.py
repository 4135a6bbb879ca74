"""Faults the sample site can put on any route: a source misbehaving the ways real ones do.

``SampleSite.inject(route, fault, times=None)`` makes the requests matching ``route`` get ``fault``
instead of their normal answer: the first ``times`` of them, or all when ``times`` is None. A
route is a path, optionally with query conditions: ``/comm/web/getNewsByColumns?column=344&page_index=2``
matches only that page of that column (other parameters may be anything).

Each fault is made from the normal answer wherever one exists, so the crawler sees what a failing
server really sends: a truncated page is the real page cut short, a GBK page is the real page
re-encoded, a JSONP wrapper wraps the real payload. Transport faults (a dropped connection, a
stall, a body shorter than its Content-Length) are carried out by the server's handler.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:  # server.py imports this module
    from newsarchive.samplesite.server import Response


class Fault(StrEnum):
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    HTTP_429 = "http_429"  # Too Many Requests with Retry-After: RETRY_AFTER_SECONDS
    HTTP_403 = "http_403"  # East Money's hard block (eastmoney.md §4)
    HTTP_404 = "http_404"  # a page the site does not have (a column or 栏目 it moved or dropped)
    DROPPED_CONNECTION = "dropped_connection"  # the socket closes before any byte of a response
    STALL = "stall"  # no answer for STALL_SECONDS: past any sane download timeout
    TRUNCATED_BODY = "truncated_body"  # the real body cut in half, its full Content-Length announced
    MALFORMED_JSON = "malformed_json"  # the real JSON payload cut short (list APIs only)
    JSONP_WRAPPER = "jsonp_wrapper"  # the real payload in a jQuery callback nobody asked for
    EMPTY_LIST = "empty_list"  # the real envelope with no rows in it (list APIs only)
    SOFT_BLOCK = "soft_block"  # HTTP 200 whose only content is passportWeb (§4.1)
    JS_CHALLENGE = "js_challenge"  # HTTP 200 Aliyun JavaScript challenge page (cnstock, sites.md §2)
    NO_CHARSET = "no_charset"  # the real page with its <meta> charset removed (no header one either)
    GBK = "gbk"  # the real page in GBK, declaring no charset anywhere
    REDIRECT_LOOP = "redirect_loop"  # 302 to the same page with ?loop=1, which redirects back
    HUGE_PAGE = "huge_page"  # the real page padded to HUGE_PAGE_BYTES
    GZIP_BOMB = "gzip_bomb"  # the huge page gzipped (a few KB) with Content-Encoding: gzip
    # A compromised or odd source pointing the crawler at what it must never fetch (issue 13 point 5):
    OFFSITE_REDIRECT = "offsite_redirect"  # 302 to the same path on INTERNAL_HOST
    ADDRESS_REDIRECT = "address_redirect"  # 302 to the cloud metadata address METADATA_URL
    META_REFRESH_OFFSITE = "meta_refresh_offsite"  # the real page, refreshing at once to INTERNAL_HOST
    META_REFRESH_JAVASCRIPT = "meta_refresh_javascript"  # the real page, refreshing to javascript:


JSON_ONLY = frozenset({Fault.MALFORMED_JSON, Fault.EMPTY_LIST})
RETRY_AFTER_SECONDS = 1
STALL_SECONDS = 60.0
HUGE_PAGE_BYTES = 10 * 1024 * 1024
LOOP_PARAMETER = "loop"
JSONP_CALLBACK = "jQuery35106241960338765045_1638950000000"
INTERNAL_HOST = "intranet.corp.internal"  # a host no site declares, standing for an internal one
METADATA_URL = "http://169.254.169.254/latest/meta-data/"  # what SSRF attacks ask for first
JAVASCRIPT_URL = "javascript:alert(document.domain)"
PASSPORT_ONLY_BODY = b'{"code":0,"hitsTotal":0,"result":{"passportWeb":[]}}'
# The shape of Aliyun WAF's challenge (its obfuscated arithmetic shortened): a script computing the
# acw_sc__v2 cookie from arg1, setting it and reloading; no page content at all.
JS_CHALLENGE_BODY = (
    b"<html><script>\nvar arg1='5C3E1F0A9B7D2E6F4A8C0B1D3E5F7A9C2B4D6E8F';\n"
    b"var _0x4818=['\\x63\\x6f\\x6f\\x6b\\x69\\x65','\\x72\\x65\\x6c\\x6f\\x61\\x64'];\n"
    b"var _0x55f3=function(_0x4da0,_0x1a3b){_0x4da0=_0x4da0-0x0;return _0x4818[_0x4da0];};\n"
    b"var l=function(){var _0x23a392=arg1.split('').reverse().join('');return _0x23a392;};\n"
    b"function setCookie(name,value){var expiredate=new Date();"
    b"expiredate.setTime(expiredate.getTime()+(3600*1000));"
    b"document.cookie=name+'='+value+';expires='+expiredate.toGMTString()+';max-age=3600;path=/';}\n"
    b"function reload(x){setCookie('acw_sc__v2',x);document.location.reload();}\n"
    b"reload(l());\n</script></html>"
)
_META_CHARSET = re.compile(rb"\s*<meta\b[^>]*charset[^>]*>", re.I)
_HTML_HEAD = re.compile(rb"</head>", re.I)
_HEAD_START = re.compile(rb"<head\b[^>]*>", re.I)


def error_page(status: int, reason: str) -> bytes:
    """The nginx error page East Money's front servers send."""
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


_STATUS = {
    Fault.HTTP_500: (500, "Internal Server Error"),
    Fault.HTTP_502: (502, "Bad Gateway"),
    Fault.HTTP_503: (503, "Service Temporarily Unavailable"),
    Fault.HTTP_429: (429, "Too Many Requests"),
    Fault.HTTP_403: (403, "Forbidden"),
    Fault.HTTP_404: (404, "Not Found"),
}


@dataclass
class Injection:
    """One fault put on a route; ``served`` counts the requests that got it."""

    path: str
    conditions: dict[str, str]
    fault: Fault
    times: int | None
    served: int = field(default=0)

    def matches(self, path: str, params: dict[str, str]) -> bool:
        if path != self.path or (self.times is not None and self.served >= self.times):
            return False
        return all(params.get(key) == value for key, value in self.conditions.items())


def parse_route(route: str) -> tuple[str, dict[str, str]]:
    path, _, query = route.partition("?")
    return path, {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}


def faulty(fault: Fault, normal: Response, path: str, params: dict[str, str]) -> Response:
    """The answer carrying ``fault``, made from the ``normal`` answer to the same request."""
    if fault in _STATUS:
        status, reason = _STATUS[fault]
        headers = (("Retry-After", str(RETRY_AFTER_SECONDS)),) if fault is Fault.HTTP_429 else ()
        return replace(
            normal, status=status, content_type="text/html", body=error_page(status, reason), headers=headers
        )
    if fault is Fault.DROPPED_CONNECTION:
        return replace(normal, drop=True)
    if fault is Fault.STALL:
        return replace(normal, stall=STALL_SECONDS)
    if fault is Fault.TRUNCATED_BODY:
        return replace(normal, cut_at=len(normal.body) // 2)
    if fault is Fault.SOFT_BLOCK:
        return replace(normal, status=200, body=PASSPORT_ONLY_BODY)
    if fault is Fault.JS_CHALLENGE:
        return replace(normal, status=200, content_type="text/html", body=JS_CHALLENGE_BODY)
    if fault is Fault.REDIRECT_LOOP:
        target = path if LOOP_PARAMETER in params else f"{path}?{LOOP_PARAMETER}=1"
        return replace(
            normal, status=302, content_type="text/html", body=b"", headers=(("Location", target),)
        )
    if fault in (Fault.OFFSITE_REDIRECT, Fault.ADDRESS_REDIRECT):
        target = f"http://{INTERNAL_HOST}{path}" if fault is Fault.OFFSITE_REDIRECT else METADATA_URL
        return replace(
            normal, status=302, content_type="text/html", body=b"", headers=(("Location", target),)
        )
    if fault in (Fault.META_REFRESH_OFFSITE, Fault.META_REFRESH_JAVASCRIPT):
        target = f"http://{INTERNAL_HOST}{path}" if fault is Fault.META_REFRESH_OFFSITE else JAVASCRIPT_URL
        return replace(normal, body=_refreshing(normal.body, target))
    if fault is Fault.JSONP_WRAPPER:
        return replace(normal, body=JSONP_CALLBACK.encode() + b"(" + normal.body + b");")
    if fault is Fault.MALFORMED_JSON:
        text = normal.body.decode("utf-8")  # cut between characters: broken JSON, not broken UTF-8
        return replace(normal, body=text[: max(len(text) * 2 // 3, 1)].encode("utf-8"))
    if fault is Fault.EMPTY_LIST:
        return replace(normal, body=_emptied(normal.body))
    if fault is Fault.NO_CHARSET:
        return replace(normal, content_type="text/html", body=_META_CHARSET.sub(b"", normal.body, count=1))
    if fault is Fault.GBK:
        text = _META_CHARSET.sub(b"", normal.body, count=1).decode("utf-8")
        # as GBK sites do: a character GBK lacks becomes a numeric character reference
        return replace(normal, content_type="text/html", body=text.encode("gbk", "xmlcharrefreplace"))
    if fault is Fault.HUGE_PAGE:
        return replace(normal, body=_padded(normal.body, HUGE_PAGE_BYTES))
    if fault is Fault.GZIP_BOMB:  # small on the wire, past any sane DOWNLOAD_MAXSIZE once inflated
        bomb = gzip.compress(_padded(normal.body, HUGE_PAGE_BYTES), compresslevel=9)
        return replace(normal, body=bomb, headers=(*normal.headers, ("Content-Encoding", "gzip")))
    raise ValueError(f"unknown fault {fault!r}")


def _emptied(body: bytes) -> bytes:
    payload: Any = json.loads(body)
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise ValueError("empty_list needs a list API answer with rows under data")
    for key in ("list", "fastNewsList"):
        if isinstance(data.get(key), list):
            data[key] = []
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _refreshing(body: bytes, target: str) -> bytes:
    """The page with ``<meta http-equiv="refresh" content="0;url=TARGET">`` first in its head
    (where redirect stubs put it, and within the 4 KB browsers and Scrapy look at)."""
    tag = f'<meta http-equiv="refresh" content="0;url={target}">'.encode()
    head = _HEAD_START.search(body)
    at = head.end() if head else 0
    return body[:at] + tag + body[at:]


def _padded(body: bytes, size: int) -> bytes:
    """The page with an inline script blob in its head bringing it to ``size`` bytes (what bloated
    pages carry: inlined bundles and data)."""
    filler = max(size - len(body) - 40, 0)
    blob = b"<script>var __state='" + b"A" * filler + b"';</script>\n"
    head = _HTML_HEAD.search(body)
    at = head.start() if head else 0
    return body[:at] + blob + body[at:]
