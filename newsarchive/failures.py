"""Why a download failed, as one short reason: the key it is counted under and shown by.

Scrapy reports failures as exception classes (``DownloadTimeoutError``, ``HttpError``,
``IgnoreRequest("max redirections reached")`` …) and retries as ``retry/reason_count/<reason>``
stats whose reason is a status line or a dotted class name. Both are mapped here to the same
vocabulary, so a run's counts say ``timeout: 1, http_500: 1`` whichever path reported them.
"""

from __future__ import annotations

import re

_BY_CLASS = {
    "DownloadTimeoutError": "timeout",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "ResponseDataLossError": "truncated",
    "ResponseFailed": "truncated",
    "DownloadFailedError": "connection_lost",
    "ConnectionDone": "connection_lost",
    "ConnectionLost": "connection_lost",
    "ResponseNeverReceived": "connection_lost",
    "DownloadConnectionRefusedError": "connection_refused",
    "ConnectionRefusedError": "connection_refused",
    "ConnectError": "connection_refused",
    "CannotResolveHostError": "dns",
    "DNSLookupError": "dns",
    "UnsupportedURLSchemeError": "bad_url",
    "RedirectLoop": "redirect_loop",  # newsarchive.hosts: a redirect back to a URL of its chain
}
_STATUS_LINE = re.compile(r"^(\d{3})\b")


def failure_reason(error: BaseException | None) -> str:
    """The reason of a download that failed with ``error`` (an errback's ``failure.value``)."""
    if error is None:
        return "unknown"
    name = type(error).__name__
    response = getattr(error, "response", None)
    if name == "HttpError" and response is not None:
        return f"http_{response.status}"
    message = str(error)
    if name == "DownloadCancelledError":
        return "too_large" if "max size" in message else "cancelled"
    if name == "IgnoreRequest" and "max redirections" in message:
        return "redirect_loop"
    if name == "IgnoreRequest" and "DOWNLOAD_MAXSIZE" in message:
        # HttpCompressionMiddleware: a small compressed body inflating past the limit (a gzip bomb)
        return "too_large"
    return _BY_CLASS.get(name, name)


def retry_reason(reason: str) -> str:
    """A ``retry/reason_count/<reason>`` stat's reason in the same words: ``500 Internal Server
    Error`` → ``http_500``, ``scrapy.exceptions.DownloadTimeoutError`` → ``timeout``."""
    if status := _STATUS_LINE.match(reason):
        return f"http_{status.group(1)}"
    name = reason.rsplit(".", 1)[-1]
    return _BY_CLASS.get(name, name)
