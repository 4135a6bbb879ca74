"""Downloader middleware for offline routing (setting ``NEWSARCHIVE_REPLAY_ORIGIN``).

Every request goes to the given origin with its original Host header and path+query; the response
gets the original URL back, so parsers, WARC records and stored URLs never see the local origin. A
relative redirect is made absolute against the original URL too, so the redirect is checked and
followed as the real site's (newsarchive.hosts).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from w3lib.url import safe_url_string

ORIGINAL_URL_KEY = "newsarchive_original_url"


def replay_origin(setting: str) -> str:
    """``NEWSARCHIVE_REPLAY_ORIGIN`` as ``scheme://host:port`` (empty when unset); raises ValueError
    for anything that is not an origin."""
    if not setting:
        return ""
    parts = urlsplit(setting)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"NEWSARCHIVE_REPLAY_ORIGIN must look like http://127.0.0.1:8000, got {setting!r}")
    return f"{parts.scheme}://{parts.netloc}"


def rerouted_to(origin: str, request: Request) -> bool:
    """Whether ``request`` is a copy :class:`ReplayOriginMiddleware` sent to ``origin``."""
    return bool(origin) and ORIGINAL_URL_KEY in request.meta and request.url.startswith(origin + "/")


class ReplayOriginMiddleware:
    def __init__(self, origin: str) -> None:
        self.origin = replay_origin(origin)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayOriginMiddleware:
        origin = crawler.settings.get("NEWSARCHIVE_REPLAY_ORIGIN")
        if not origin:
            raise NotConfigured  # no message: Scrapy would log a warning for a normal setting
        return cls(origin)

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | None:
        if request.url.startswith(self.origin + "/"):
            return None  # already rerouted: this is the copy we scheduled below
        parts = urlsplit(request.url)
        target = self.origin + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # The copy goes back through the scheduler, which has already seen the original URL.
        rerouted = request.replace(url=target, dont_filter=True)
        rerouted.headers["Host"] = parts.netloc
        rerouted.meta[ORIGINAL_URL_KEY] = request.url
        # RobotsTxtMiddleware already checked the original URL against its own host's robots.txt
        rerouted.meta["dont_obey_robotstxt"] = True
        return rerouted

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        original = request.meta.get(ORIGINAL_URL_KEY)
        if original is None:
            return response
        location = response.headers.get("Location")
        if location is None or not 300 <= response.status < 400:
            return response.replace(url=original)
        # RedirectMiddleware joins Location to the request's URL, which is the local origin's here
        headers = response.headers.copy()
        headers["Location"] = urljoin(original, safe_url_string(location))
        return response.replace(url=original, headers=headers)
