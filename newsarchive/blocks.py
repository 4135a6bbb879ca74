"""Block detection and backing off: a downloader middleware that notices when a site refuses us.

Settings: ``NEWSARCHIVE_BLOCK_PAUSE`` (seconds a site is left alone after a block),
``NEWSARCHIVE_BLOCK_LIMIT`` (blocks in a row after which the run stops requesting the site) and
``NEWSARCHIVE_RETRY_AFTER_MAX`` (the longest ``Retry-After`` waited for). Reference: eastmoney.md §4.
Stats: ``newsarchive/blocked/<kind>`` per block response, ``newsarchive/gave_up/<site>`` requests not
sent once the run gave a site up, ``newsarchive/responses_checked`` (every response but robots.txt).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from newsarchive.counts import Count, Counter, Prefix
from newsarchive.pages.eastmoney import COLUMN_LIST_PATH, FAST_LIST_PATH
from newsarchive.pages.jsonp import jsonp_payload
from newsarchive.scrapy_compat import delay_slot, queued_downloads

logger = logging.getLogger(__name__)

# The kinds of block, each a stats key under newsarchive.counts.Prefix.BLOCKED.
HTTP_403 = "http_403"  # East Money's hard block signal: never retried (reference §4)
HTTP_429 = "http_429"  # retried once Retry-After has passed
EMPTY_BODY = "empty_body"  # HTTP 200 with nothing in it ("返回空数据")
PASSPORT_ONLY = "passport_only"  # HTTP 200 JSON whose only content is passportWeb (§4.1)
LISTING_CODE_0 = "listing_code_0"  # a list API answering code 0 to a well-formed request
JS_CHALLENGE = "js_challenge"  # HTTP 200 HTML: a script sets a WAF cookie and reloads (cnstock, sites.md §2)

_LISTING_PATHS = (COLUMN_LIST_PATH, FAST_LIST_PATH)
# The list APIs answer code 0 with this message when the request lacks a parameter (req_trace):
# that is a bug in the request, counted by the spider as a listing error, not a block (§4.2).
_MISSING_PARAMETER = re.compile(r"^Required \w+ parameter ")
# Keys of a JSON envelope that say nothing about its content.
_ENVELOPE_KEYS = frozenset({"code", "message", "msg", "success", "hitsTotal", "req_trace"})
_MAX_JSON_BYTES = 5_000_000  # never parse something this large looking for a block shell
_SECOND_LEVEL = frozenset({"com", "net", "org", "gov", "edu", "ac"})  # …com.cn, …org.cn
# Aliyun WAF's JavaScript challenge: a small page whose script computes the acw_sc__v2 cookie and
# reloads (cnstock.com answers a burst of requests with it). Only a small page without page data is
# one: a real page may mention the cookie in its own scripts.
_CHALLENGE_COOKIE = re.compile(rb"acw_sc__v\d")
_CHALLENGE_MAX_BYTES = 20_000
_PAGE_DATA = (b"__NEXT_DATA__",)
_CHALLENGE_MAX_TEXT = 100  # bytes of visible text (a "please wait" line), whitespace not counted
_SCRIPTS = re.compile(rb"<(script|style|noscript)\b.*?</\1\s*>", re.S | re.I)
_TAGS = re.compile(rb"<[^>]*>")


class Blocked(IgnoreRequest):
    """A request not answered usefully because the site is blocking us (already counted)."""


def block_kind(status: int, body: bytes, path: str) -> str | None:
    """The kind of block a response is (one of the constants above), or None for a usable one.

    Pure and total: any status, any bytes, never raises. Only HTTP 200 responses can be soft blocks.
    """
    if status == 403:
        return HTTP_403
    if status == 429:
        return HTTP_429
    if status != 200:
        return None  # 404s, 5xx …: the spiders and Scrapy's retries deal with those
    stripped = body.strip()
    if not stripped:
        return EMPTY_BODY
    if _js_challenge(stripped):
        return JS_CHALLENGE
    listing = path.endswith(_LISTING_PATHS)
    if not listing and b"passportWeb" not in stripped:
        return None  # an article page: nothing more to look for
    payload = _json_object(stripped)
    if payload is None:
        return None
    if _passport_only(payload):
        return PASSPORT_ONLY
    missing_parameter = _MISSING_PARAMETER.match(str(payload.get("message") or ""))
    if listing and str(payload.get("code")) == "0" and not missing_parameter:
        return LISTING_CODE_0
    return None


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None when it
    is missing or unreadable. A date in the past means 0."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def site_of(host: str) -> str:
    """The site a host belongs to: ``np-listapi.eastmoney.com`` → ``eastmoney.com``,
    ``www.cs.com.cn`` → ``cs.com.cn``. A site shares one IP ban, so it shares one download slot."""
    host = host.split(":", 1)[0].strip(".").lower()
    labels = host.split(".")
    if len(labels) < 3 or host.replace(".", "").isdigit():
        return host
    keep = 3 if labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


class BlockMiddleware:
    """Counts blocks by kind, never retries a 403 or soft block, retries a 429 after its
    Retry-After, leaves a blocking site alone for a while and, after too many blocks in a row, for
    the rest of the run. Sits before RetryMiddleware (550) and after HttpCompressionMiddleware (590),
    so it sees decompressed bodies and a 429 before anything retries it."""

    def __init__(self, crawler: Crawler, *, pause: float, limit: int, retry_after_max: float) -> None:
        self.crawler = crawler
        self.counter = Counter.from_crawler(crawler)
        self.pause = max(pause, 0.0)
        self.limit = limit
        self.retry_after_max = retry_after_max
        self.in_a_row: dict[str, int] = {}  # site -> blocks since its last usable response
        self.resume_at: dict[str, float] = {}  # site -> monotonic time before which it is left alone
        self.given_up: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockMiddleware:
        settings = crawler.settings
        return cls(
            crawler,
            pause=settings.getfloat("NEWSARCHIVE_BLOCK_PAUSE"),
            limit=settings.getint("NEWSARCHIVE_BLOCK_LIMIT"),
            retry_after_max=settings.getfloat("NEWSARCHIVE_RETRY_AFTER_MAX"),
        )

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        site = site_of(_host(request))
        # One download slot per site, not per host: the list API and the article pages of East
        # Money are one site to its rate limits (>5 req/s or >=10 connections per IP, §4).
        request.meta.setdefault("download_slot", site)
        while True:
            if site in self.given_up:
                self.counter.count_reason(Prefix.GAVE_UP, site)
                raise Blocked(f"not requesting {site} again in this run: it kept blocking")
            wait = self.resume_at.get(site, 0.0) - monotonic()
            if wait <= 0:
                return
            await _sleep(wait)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response | Request:
        if _is_robots_txt(request):
            return response  # RobotsTxtMiddleware reads any answer; robots.txt is not content
        self.counter.count(Count.RESPONSES_CHECKED)
        url = request.url
        site = site_of(_host(request))
        kind = block_kind(response.status, response.body, urlsplit(url).path)
        if kind is None:
            self.in_a_row[site] = 0
            return response
        self.counter.count_reason(Prefix.BLOCKED, kind)
        self.in_a_row[site] = self.in_a_row.get(site, 0) + 1
        if kind == HTTP_429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = self.pause
            if wait > self.retry_after_max:
                logger.warning("%s asks us to come back in %.0f s: not waiting that long", site, wait)
                self.give_up(site, kind)
            else:
                self.leave_alone(site, wait)
                if not self.gives_up(site, kind):
                    assert self.crawler.spider is not None
                    retry = get_retry_request(request, spider=self.crawler.spider, reason=kind)
                    if retry is not None:
                        return retry
        else:
            logger.warning("blocked (%s): %s", kind, url)
            self.leave_alone(site, self.pause)
            self.gives_up(site, kind)
        raise Blocked(f"{kind}: {url}")

    def gives_up(self, site: str, kind: str) -> bool:
        """Give the site up once it answered ``NEWSARCHIVE_BLOCK_LIMIT`` blocks in a row."""
        if site not in self.given_up and self.limit and self.in_a_row[site] >= self.limit:
            logger.warning(
                "giving up on %s for this run: %d blocks in a row (the last: %s)",
                site,
                self.in_a_row[site],
                kind,
            )
            self.give_up(site, kind)
        return site in self.given_up

    def give_up(self, site: str, kind: str) -> None:
        if site in self.given_up:
            return
        self.given_up.add(site)
        self.counter.set_reason(Prefix.GAVE_UP, site, 0)
        # Requests already queued for the site's download slot would still go out: fail them now.
        for waiting in queued_downloads(self.crawler, site):
            self.counter.count_reason(Prefix.GAVE_UP, site)
            waiting.errback(Blocked(f"not requesting {site} again in this run ({kind})"))

    def leave_alone(self, site: str, seconds: float) -> None:
        """No request to ``site`` for ``seconds``: new requests wait in :meth:`process_request`,
        requests already queued in its download slot wait there."""
        if seconds <= 0:
            return
        until = monotonic() + seconds
        self.resume_at[site] = max(self.resume_at.get(site, 0.0), until)
        delay_slot(self.crawler, site, until)


def _host(request: Request) -> str:
    return urlsplit(request.url).netloc


def _is_robots_txt(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")


def _json_object(text: bytes) -> dict[str, Any] | None:
    if len(text) > _MAX_JSON_BYTES:
        return None
    if not text.startswith(b"{"):
        wrapped = jsonp_payload(text)
        if wrapped is None:
            return None
        text = wrapped
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return payload if isinstance(payload, dict) else None


def _js_challenge(body: bytes) -> bool:
    """A WAF JavaScript challenge instead of the page (see ``_CHALLENGE_COOKIE``): small, setting
    the cookie, with no page data and next to no text a reader would see (any site's real page,
    however small, shows its headline and its words)."""
    if len(body) > _CHALLENGE_MAX_BYTES or not _CHALLENGE_COOKIE.search(body):
        return False
    if any(marker in body for marker in _PAGE_DATA):
        return False
    visible = _TAGS.sub(b" ", _SCRIPTS.sub(b" ", body))
    return len(b"".join(visible.split())) <= _CHALLENGE_MAX_TEXT


def _passport_only(payload: dict[str, Any]) -> bool:
    """A payload whose only content is ``passportWeb`` (user profiles, no articles): East Money's
    soft block of the search API, seen on other list APIs of the same servers (§4.1)."""
    for container in (payload, payload.get("result"), payload.get("data")):
        if isinstance(container, dict) and "passportWeb" in container:
            others = (
                value
                for key, value in container.items()
                if key != "passportWeb" and key not in _ENVELOPE_KEYS
            )
            return not any(others)
    return False


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # the installed one; importing at the top would install one

    await maybe_deferred_to_future(deferLater(reactor, seconds))
