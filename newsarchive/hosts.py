"""Where requests may go: a site's declared hosts, and never an address of our own (issue 13 point 5).

Every request must be ``http(s)`` to a host *name* (no IP literal) that does not resolve to a
private, loopback, link-local or otherwise non-public address. A redirect (3xx ``Location``) or a
``<meta http-equiv=refresh>`` may lead only to a host of the sites the spider declares in
``site_domains`` (``eastmoney.com``…; a spider declaring none keeps redirects on the redirected
URL's own site): requests leave a site only by a listing's own links.

What is refused is counted as ``newsarchive/refused/<kind>_<why>`` and logged in one line:

* ``redirect_…``: the 3xx is not followed; there is nothing to parse, so the article is not stored
  and the next run asks for it again;
* ``refresh_…``: the refresh is not followed and the page that carried it is parsed as it is (a
  page with a bogus ``javascript:`` refresh is not lost on every run);
* ``request_…``: the request is not sent.

A redirect or refresh back to a URL of its own chain is a loop: a redirect loop fails its request
(counted as download error ``redirect_loop``, as Scrapy's give-up after ``REDIRECT_MAX_TIMES`` is),
a refresh loop keeps its page as it is (``refused/refresh_loop``). Without this, the scheduler's
duplicate filter would drop the looping request without a word.

Settings: ``NEWSARCHIVE_REPLAY_ORIGIN``, the one explicit exception: every request goes to that
(loopback) origin (newsarchive.download), so no host is looked up in DNS, since nothing goes to
the named hosts; their URLs are checked all the same. Scrapy's ``REDIRECT_*`` and
``METAREFRESH_*`` settings, for the two middlewares replaced here. The DNS check asks Scrapy's
caching resolver, so with ``DNSCACHE_ENABLED`` (the default) the download connects to the very
address that was checked: a name cannot be rebound to a private address between the check and the
connection.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import redirect
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import get_meta_refresh
from w3lib.url import safe_url_string

from newsarchive.blocks import site_of
from newsarchive.counts import Counter, Prefix
from newsarchive.download import ORIGIN_SETTING, replay_origin

logger = logging.getLogger(__name__)

# What was refused: the first word of a refusal's stats key.
REQUEST = "request"  # any request (a listing's link, a start URL)
REDIRECT = "redirect"  # a 3xx Location
REFRESH = "refresh"  # a <meta http-equiv=refresh>
# Why: the second part.
SCHEME = "scheme"  # not http or https (javascript:, mailto:, file:, ftp:, data:)
NO_HOST = "no_host"  # http:///path
IP_LITERAL = "ip_literal"  # http://10.0.0.1/, http://[::1]/, http://2130706433/: an address, not a site
PRIVATE_ADDRESS = "private_address"  # a name resolving to a private, loopback … address
OFFSITE = "offsite"  # a redirect or refresh to a host of no declared site
LOOP = "loop"  # a refresh back to a URL of its own chain (a redirect loop is a RedirectLoop)

HTTP_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})  # the ones Scrapy's RedirectMiddleware follows
# The WHATWG URL standard reads a host whose last label is a number as IPv4 (127.1, 0x7f.1,
# 2130706433 all mean 127.0.0.1), and so do the C resolver and browsers: never a site's name.
_NUMERIC_LABEL = re.compile(r"\d+|0x[0-9a-f]*", re.I)


class Refused(IgnoreRequest):
    """A request (or the redirect to it) not sent because of where it goes; already counted."""


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL of its own chain: counted by the spider as download error
    ``redirect_loop`` (newsarchive.failures)."""


def loops_back(request: Request, target: str) -> bool:
    """Whether ``target`` is ``request``'s URL or one it was redirected from."""
    return target == request.url or target in request.meta.get("redirect_urls", ())


def refusal(url: str, sites: frozenset[str] | None = None) -> str | None:
    """Why a request for ``url`` must not be sent (one of the reasons above), or None when it may.

    With ``sites`` (a redirect's or refresh's target), the host must also belong to one of them
    (newsarchive.blocks.site_of). Pure: no DNS, never raises.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an invalid port or IPv6 literal
        return NO_HOST
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return SCHEME
    if not host:
        return NO_HOST
    if is_ip_literal(host):
        return IP_LITERAL
    if sites is not None and site_of(host) not in sites:
        return OFFSITE
    return None


def is_ip_literal(host: str) -> bool:
    """Whether ``host`` (as urlsplit gives it) is an address rather than a name."""
    host = host.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]))
    return True


def is_public_address(address: str) -> bool:
    """Whether a resolved ``address`` is one on the public internet (not private, loopback,
    link-local, shared, reserved, unspecified or multicast)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_global and not parsed.is_multicast


def redirect_sites(spider: Spider | None, source_url: str) -> frozenset[str]:
    """The sites a redirect from ``source_url`` may lead to: the spider's declared ones, else the
    source's own."""
    declared: frozenset[str] = frozenset(getattr(spider, "site_domains", ()) or ())
    return declared or frozenset({site_of(urlsplit(source_url).hostname or "")})


_CONSEQUENCE = {
    REQUEST: "not sent",
    REDIRECT: "not followed, nothing stored",
    REFRESH: "not followed, the page is kept as it is",
}


def _refused(counter: Counter, kind: str, why: str, url: str, source: str = "") -> Refused:
    """Count and log one refusal (one stats key, one line); the exception to raise, if any."""
    counter.count_reason(Prefix.REFUSED, f"{kind}_{why}")
    origin = f" from {source}" if source else ""
    logger.warning("refused %s to %s%s (%s): %s", kind, url, origin, why, _CONSEQUENCE[kind])
    return Refused(f"refused {kind} to {url} ({why})")


class HostPolicyMiddleware:
    """Refuses every request that is not http(s) to a public host name (put before
    RobotsTxtMiddleware, so a refused host is not even asked for its robots.txt)."""

    def __init__(self, counter: Counter, origin: str) -> None:
        self.counter = counter
        self.origin = origin

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostPolicyMiddleware:
        # a bad origin stops the crawl here, with its one-line error
        return cls(Counter.from_crawler(crawler), replay_origin(crawler.settings.get(ORIGIN_SETTING, "")))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        kind = REDIRECT if request.meta.get("redirect_urls") else REQUEST
        why = refusal(request.url)
        if why is None and not self.origin:
            why = await _address_refusal(urlsplit(request.url).hostname or "")
        if why is not None:
            raise _refused(self.counter, kind, why, request.url)


async def _address_refusal(host: str) -> str | None:
    """PRIVATE_ADDRESS when ``host`` resolves to a non-public address. Through the reactor's
    resolver (Scrapy's caching one): the download then uses the cached answer that was checked."""
    from twisted.internet import reactor

    # Twisted declares IReactorCore.resolve zope-style (no self), which mypy misreads
    resolve: Any = reactor.resolve
    try:
        address = await maybe_deferred_to_future(resolve(host))
    except Exception:  # unresolvable: the download fails the usual way, counted as dns
        return None
    return None if is_public_address(str(address)) else PRIVATE_ADDRESS


class _TargetPolicy:
    """What the two redirect middlewares add to Scrapy's: judging where a response sends us."""

    crawler: Crawler

    def refused_target(self, kind: str, target: str, request: Request, response: Response) -> Refused | None:
        """The counted refusal of ``target`` (``response`` to ``request`` leading there), or None to
        follow it."""
        why = refusal(target, redirect_sites(self.crawler.spider, response.url))
        if why is None and kind == REFRESH and loops_back(request, target):
            why = LOOP
        return (
            None
            if why is None
            else _refused(Counter.from_crawler(self.crawler), kind, why, target, response.url)
        )


class RedirectMiddleware(_TargetPolicy, redirect.RedirectMiddleware):
    """Scrapy's, refusing a 3xx whose target :func:`refusal` refuses (Scrapy would even crash on a
    ``javascript:`` Location, building a Request from it)."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        target = self.redirect_target(request, response)
        refused = None if target is None else self.refused_target(REDIRECT, target, request, response)
        if refused is not None:
            raise refused
        if target is not None and loops_back(request, target):
            raise RedirectLoop(f"redirect loop: {response.url} redirects back to {target}")
        return super().process_response(request, response)

    def redirect_target(self, request: Request, response: Response) -> str | None:
        """The absolute URL Scrapy would follow this response to, or None (as Scrapy decides)."""
        location = response.headers.get("Location")
        if location is None or response.status not in REDIRECT_STATUSES:
            return None
        if request.meta.get("dont_redirect") or request.meta.get("handle_httpstatus_all"):
            return None
        handled: Any = (
            *getattr(self.crawler.spider, "handle_httpstatus_list", ()),
            *request.meta.get("handle_httpstatus_list", ()),
        )
        if response.status in handled:
            return None
        return urljoin(response.url, safe_url_string(location))


class MetaRefreshMiddleware(_TargetPolicy, redirect.MetaRefreshMiddleware):
    """Scrapy's, leaving a refresh :func:`refusal` refuses unfollowed: the page that carried it goes
    on to be parsed as it is."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.ignore_tags = settings.getlist("METAREFRESH_IGNORE_TAGS")
        self.max_delay = settings.getfloat("METAREFRESH_MAXDELAY")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        target = self.refresh_target(request, response)
        if target is not None and self.refused_target(REFRESH, target, request, response):
            return response
        return super().process_response(request, response)

    def refresh_target(self, request: Request, response: Response) -> str | None:
        """The absolute URL Scrapy would follow this page's refresh to, or None (as Scrapy decides)."""
        if request.meta.get("dont_redirect") or request.method == "HEAD":
            return None
        if not isinstance(response, HtmlResponse):
            return None
        interval, url = get_meta_refresh(response, ignore_tags=self.ignore_tags)
        if not url or interval is None or interval >= self.max_delay:
            return None
        return str(url)
