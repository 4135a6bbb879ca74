"""Loopback HTTP server for the committed sample East Money site: list APIs, 7x24 API and article pages.

Routes by path (any Host header), reproducing the real envelopes and quirks of eastmoney.md §1.1, §1.2, §2.
Every host answers ``/robots.txt`` (permissive unless ``SampleSite(robots=…)`` says otherwise; faults
can be injected on it like on any route).
Any route can be made to fail with :meth:`SampleSite.inject` (newsarchive.samplesite.faults).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from newsarchive.samplesite.faults import JSON_ONLY, Fault, Injection, faulty, parse_route

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "data" / "sample"
COLUMN_PATH = "/comm/web/getNewsByColumns"
FAST_PATH = "/comm/web/getFastNewsList"
JSON_TYPE = "application/json;charset=UTF-8"
# The page an article starts on (East Money /a/<code>.html, 证券日报网 /…/A<13 digits>.html); a long
# East Money article continues on /a/<code>_2.html … (_CONTINUATION_PAGE), asked for after it.
_ARTICLE_PAGE = re.compile(r"^/a/(?!\d{18}_\d+\.html$).*\.html$|/A\d{13}\.html$")
_CONTINUATION_PAGE = re.compile(r"^/a/\d{18}_\d+\.html$")
HTML_TYPE = "text/html"  # article pages: no charset in the header (real quirk; the meta tag carries it)
# Static sites under sites/<host>/ (证券日报网 and others send HTML without a charset too).
STATIC_TYPES = {
    ".html": HTML_TYPE,
    ".htm": HTML_TYPE,
    ".json": "application/json",
    ".js": "application/javascript",
}
MAX_PAGE_SIZE = 200
_ARTICLE = re.compile(r"^/a/(\d{18}(?:_\d+)?)\.html$")  # articles/<code>.html, articles/<code>_2.html …
_CALLBACK = re.compile(r"^[\w$.]+$")
NOT_FOUND_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>404 Not Found</title></head>'
    "<body><h1>404 Not Found</h1><p>页面不存在</p></body></html>\n"
).encode()
_MISSING_REQ_TRACE = {"code": 0, "message": "Required String parameter 'req_trace' is not present"}
_FAST_NO_DATA = {"code": "1", "message": "success", "data": None}
ROBOTS_PATH = "/robots.txt"
# The real hosts' robots.txt files were not captured (the reference says nothing about them), so
# every host serves one that allows everything; SampleSite(robots={host: text}) replaces it per host.
PERMISSIVE_ROBOTS_TXT = "User-agent: *\nDisallow:\n"
# ``-s`` options for a crawl of this site: loopback needs none of a live crawl's politeness delays
# (tests and benchmarks pass them to ``newsarchive crawl``).
LOOPBACK_SETTINGS = (
    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "NEWSARCHIVE_PROGRESS_INTERVAL=0",
)  # fmt: skip


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it (``query`` is the raw query string)."""

    method: str
    host: str
    path: str
    query: str
    at: float = field(default=0.0, compare=False)  # time.monotonic() when the request arrived


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # more headers, e.g. (("Retry-After", "1"),)
    # transport faults, carried out by the handler:
    drop: bool = False  # close the connection without answering
    stall: float = 0.0  # wait this long (or until the site stops) before answering
    cut_at: int | None = None  # send only this many body bytes, then close (Content-Length is full)


class SampleSite:
    """The sample site on 127.0.0.1 (ephemeral port unless ``port`` is given), served by a daemon thread."""

    def __init__(
        self, root: Path = DEFAULT_ROOT, *, port: int = 0, robots: Mapping[str, str] | None = None
    ) -> None:
        self.root = root
        self.port = port
        self.robots = dict(robots or {})  # host -> robots.txt text (default: PERMISSIVE_ROBOTS_TXT)
        self._robots_at_start = dict(self.robots)
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._columns: dict[str, list[dict[str, Any]]] = {}
        self._fast: dict[str, list[dict[str, Any]]] = {}
        self._pages: dict[str, bytes] = {}
        self.injections: list[Injection] = []
        self._stopping = threading.Event()

    def inject(self, route: str, fault: Fault, *, times: int | None = None) -> Injection:
        """Answer requests matching ``route`` (a path, with optional ``?key=value`` conditions on
        the query) with ``fault``: the first ``times`` of them, every one when None. The first
        matching injection wins; ``Injection.served`` counts the requests it answered."""
        path, conditions = parse_route(route)
        if fault in JSON_ONLY and path not in (COLUMN_PATH, FAST_PATH):
            raise ValueError(f"{fault} is a list API fault, not one for {path}")
        injection = Injection(path, conditions, Fault(fault), times)
        with self._lock:
            self.injections.append(injection)
        return injection

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("sample site is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        """Load the data, bind, start serving; return the origin ``http://127.0.0.1:PORT``."""
        if self._server is not None:
            return self.origin
        self._load()
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.site = self
        self._server = server
        # A short poll interval keeps stop() fast (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="samplesite", daemon=True
        )
        self._thread.start()
        return self.origin

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes stalled handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SampleSite:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to the healthy site as it was made, without a restart (a test session shares one
        site between tests): no injected faults, an empty request log, the robots.txt files it was
        made with, and every handler still held by an earlier fault's stall let go."""
        with self._lock:
            self.injections.clear()
            self.requests.clear()
        self.robots = dict(self._robots_at_start)
        released, self._stopping = self._stopping, threading.Event()
        released.set()  # stalls wait on the event they started with

    def article_requests(self) -> list[str]:
        """Paths of the article page requests received, in order: East Money ``/a/*.html`` and
        证券日报网 ``/…/A<13 digits>.html``; one per article, its first page (the pages a long
        article continues on are :meth:`continuation_requests`)."""
        with self._lock:
            return [r.path for r in self.requests if _ARTICLE_PAGE.search(r.path)]

    def continuation_requests(self) -> list[str]:
        """Paths of the requests for the pages long articles continue on (``/a/<code>_2.html`` …)."""
        with self._lock:
            return [r.path for r in self.requests if _CONTINUATION_PAGE.search(r.path)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def _load(self) -> None:
        site = self.root / "eastmoney"
        self._columns = {p.stem: _rows(p) for p in sorted(site.glob("columns/*.json"))}
        self._fast = {p.stem: _rows(p) for p in sorted(site.glob("fastnews/*.json"))}
        self._pages = {p.stem: p.read_bytes() for p in sorted(site.glob("articles/*.html"))}

    def respond(self, path: str, query: str, host: str = "") -> Response:
        """The response for a GET of ``path?query`` (HEAD sends the same headers without the body):
        the normal one, or the fault injected on the route."""
        normal = self.normal_response(path, query, host)
        if not self.injections:
            return normal
        params = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
        with self._lock:
            injection = next((i for i in self.injections if i.matches(path, params)), None)
            if injection is None:
                return normal
            injection.served += 1
        return faulty(injection.fault, normal, path, params)

    def stall(self, seconds: float) -> None:
        """Hold a handler thread for ``seconds``, or until the site stops."""
        self._stopping.wait(seconds)

    def normal_response(self, path: str, query: str, host: str = "") -> Response:
        """The answer of the healthy site to a GET of ``path?query``.

        A host with a folder under ``sites/`` (e.g. ``sites/www.zqrb.cn/``) is served as static files
        from it, ``/`` paths as ``index.html``, HTML as ``text/html`` with no charset (as those sites
        send it); everything else is the East Money API and article pages.
        """
        if path == ROBOTS_PATH:
            text = self.robots.get(host.split(":", 1)[0].lower(), PERMISSIVE_ROBOTS_TXT)
            return Response(200, "text/plain", text.encode("utf-8"))
        static = self._static(host.split(":", 1)[0].lower(), path)
        if static is not None:
            return static
        params = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
        if path == COLUMN_PATH:
            return _json_response(self._column_payload(params), params.get("callback"))
        if path == FAST_PATH:
            return _json_response(self._fast_payload(params), params.get("callback"))
        article = _ARTICLE.match(path)
        if article and article.group(1) in self._pages:
            return Response(200, HTML_TYPE, self._pages[article.group(1)])
        return Response(404, "text/html; charset=utf-8", NOT_FOUND_PAGE)

    def _static(self, host: str, path: str) -> Response | None:
        folder = (self.root / "sites" / host).resolve()
        if not host or not folder.is_dir():
            return None
        target = (folder / unquote(path).lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(folder) or not target.is_file():
            return Response(404, "text/html; charset=utf-8", NOT_FOUND_PAGE)
        content_type = STATIC_TYPES.get(target.suffix, "application/octet-stream")
        return Response(200, content_type, target.read_bytes())

    def _column_payload(self, params: dict[str, str]) -> dict[str, Any]:
        if "req_trace" not in params:
            return dict(_MISSING_REQ_TRACE)
        page_index = max(_int(params.get("page_index"), 1), 1)
        page_size = min(max(_int(params.get("page_size"), 20), 1), MAX_PAGE_SIZE)
        rows = self._column_rows(params.get("column", ""))
        start = (page_index - 1) * page_size
        return {
            "req_trace": params["req_trace"],
            "code": 1,
            "message": "success",
            "data": {
                "page_index": page_index,
                "page_size": page_size,
                "totle_hits": len(rows),  # sic: the real API misspells total_hits
                "list": rows[start : start + page_size],
            },
        }

    def _column_rows(self, columns: str) -> list[dict[str, Any]]:
        # A comma list of columns is merged newest first, as on np-weblist (…&column=350,351,352).
        merged: dict[str, dict[str, Any]] = {}
        for column in columns.split(","):
            for row in self._columns.get(column.strip(), []):
                merged.setdefault(str(row["code"]), row)
        return sorted(merged.values(), key=lambda r: (str(r["showTime"]), str(r["code"])), reverse=True)

    def _fast_payload(self, params: dict[str, str]) -> dict[str, Any]:
        if "sortEnd" not in params or "req_trace" not in params:
            return dict(_FAST_NO_DATA)  # real quirk: code "1" with data null
        rows = self._fast.get(params.get("fastColumn", ""), [])
        page_size = min(max(_int(params.get("pageSize"), 20), 1), MAX_PAGE_SIZE)
        cursor = params["sortEnd"].strip()
        if cursor:
            bound = _int(cursor, -1)
            rows = [row for row in rows if int(row["realSort"]) < bound]
        page = rows[:page_size]
        return {
            "code": "1",
            "message": "success",
            "data": {
                "fastNewsList": page,
                "sortEnd": page[-1]["realSort"] if page else "",
                "total": len(self._fast.get(params.get("fastColumn", ""), [])),
            },
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for handler threads
    site: SampleSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a cancelled download, a timeout) is not worth a traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    def version_string(self) -> str:
        return "nginx"

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, *, with_body: bool) -> None:
        assert isinstance(self.server, _Server)
        site = self.server.site
        parts = urlsplit(self.path)
        host = self.headers.get("Host", "")
        site.record(RequestRecord(self.command, host, parts.path, parts.query, time.monotonic()))
        response = site.respond(parts.path, parts.query, host)
        if response.stall:
            site.stall(response.stall)
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if with_body:
            self.wfile.write(response.body[: response.cut_at])
        if response.cut_at is not None:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``SampleSite.requests``."""


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON array of rows")
    return rows


def _json_response(payload: dict[str, Any], callback: str | None) -> Response:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if callback and _CALLBACK.match(callback):
        text = f"{callback}({text})"
    return Response(200, JSON_TYPE, text.encode("utf-8"))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the sample East Money site until Ctrl-C.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="sample data directory")
    args = parser.parse_args(argv)
    site = SampleSite(args.root, port=args.port)
    print(site.start(), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


if __name__ == "__main__":
    main()
