"""Downloader middleware for offline routing (setting ``NEWSARCHIVE_REPLAY_ORIGIN``).

Every request goes to the given origin with its original Host header and path+query; the response
gets the original URL back, so parsers, WARC records and stored URLs never see the local origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

ORIGINAL_URL_KEY = "newsarchive_original_url"


class ReplayOriginMiddleware:
    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(
                f"NEWSARCHIVE_REPLAY_ORIGIN must look like http://127.0.0.1:8000, got {origin!r}"
            )
        self.origin = f"{parts.scheme}://{parts.netloc}"

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
        return response.replace(url=original)
