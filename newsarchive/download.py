"""newsarchive's download handler for http and https (Scrapy ``DOWNLOAD_HANDLERS``): the last gate
before a request goes on the wire, and offline routing.

* **The fences, at the last moment.** A request the job lock's or Ctrl-C's fence (newsarchive.fence)
  let through may still wait in a download slot or between the slot and the wire when the fence
  shuts; it is refused here, just before Scrapy's HTTP handler would send it, and counted as the
  fence counts (skipped ``job_lock_lost`` / ``interrupted``).
* **Replay routing** (setting ``NEWSARCHIVE_REPLAY_ORIGIN``): every request is sent to that origin
  with its original Host header and path+query, and the response comes back under the original
  URL. Nothing else sees the origin: the request keeps its URL through the scheduler and every
  middleware, so each request is scheduled, filtered, counted (Scrapy's ``downloader/request_count``)
  and checked (newsarchive.hosts, robots.txt, blocks) once, as in a real crawl; a relative redirect
  is joined to the original URL by Scrapy itself. Tests and ``newsarchive demo`` crawl the loopback
  sample site this way.

Sending is delegated to the handler Scrapy would use (newsarchive.scrapy_compat.http_download_handler).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive.interrupt import StopFence
from newsarchive.joblock import JobLockFence
from newsarchive.scrapy_compat import DownloadHandler, http_download_handler

if TYPE_CHECKING:
    from newsarchive.fence import Fence

ORIGIN_SETTING = "NEWSARCHIVE_REPLAY_ORIGIN"
FENCES: tuple[type[Fence], ...] = (JobLockFence, StopFence)


def replay_origin(setting: str) -> str:
    """``NEWSARCHIVE_REPLAY_ORIGIN`` as ``scheme://host:port`` (empty when unset); raises ValueError
    for anything that is not an origin."""
    if not setting:
        return ""
    parts = urlsplit(setting)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"{ORIGIN_SETTING} must look like http://127.0.0.1:8000, got {setting!r}")
    return f"{parts.scheme}://{parts.netloc}"


def routed(request: Request, origin: str) -> Request:
    """The copy of ``request`` that goes on the wire to ``origin``: its path and query, its Host."""
    parts = urlsplit(request.url)
    target = origin + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    copy = request.replace(url=target)
    copy.headers["Host"] = parts.netloc
    return copy


class ArchiveDownloadHandler:
    lazy = False  # built with the downloader: a handler that cannot be built fails no request later

    def __init__(self, crawler: Crawler, sender: DownloadHandler, origin: str) -> None:
        self.crawler = crawler
        self.sender = sender
        self.origin = origin
        self._fences: list[Fence] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveDownloadHandler:
        try:
            origin = replay_origin(crawler.settings.get(ORIGIN_SETTING, ""))
        except ValueError as error:
            # newsarchive.hosts.HostPolicyMiddleware stops the crawl with this one-line error; a
            # handler's own exception would only be logged by Scrapy, with a traceback
            raise NotConfigured(str(error)) from None
        return cls(crawler, http_download_handler(crawler), origin)

    def fences(self) -> list[Fence]:
        """The crawl's fences (looked up once the engine exists: at the first download)."""
        if self._fences is None:
            found = (self.crawler.get_downloader_middleware(fence) for fence in FENCES)
            self._fences = [fence for fence in found if fence is not None]
        return self._fences

    async def download_request(self, request: Request) -> Response:
        for fence in self.fences():
            fence.process_request(request)  # a shut fence counts the request and raises its refusal
        if not self.origin:
            return await self.sender.download_request(request)
        response = await self.sender.download_request(routed(request, self.origin))
        return response.replace(url=request.url)

    async def close(self) -> None:
        await self.sender.close()
