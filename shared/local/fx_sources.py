"""Local stand-ins for the ECB, BNM and BI endpoints: recorded responses served at the real paths on 127.0.0.1.

``start_fx_sources()`` serves the bundled demo payloads (``demo_data/fx``: real ECB, BNM and BI figures, kept
as recorded) and returns the environment that points the worker at it::

    sources = start_fx_sources()
    set_environment(sources.environment)   # ECB_BASE_URL, BNM_BASE_URL, BI_BASE_URL, BNM_SESSION
    ...
    sources.close()

:class:`LocalHttpServer` is the generic part (a route table of canned or computed replies); the tests use it to
serve garbage, errors and slow answers over real sockets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shared.sources.bank_indonesia import JISDOR_PATH
from shared.sources.bnm import ACCEPT as BNM_ACCEPT
from shared.sources.bnm import ALL_PATH as BNM_ALL_PATH
from shared.sources.ecb import DAILY_PATH, HIST_90D_PATH

DEMO_FX_DIR = Path(__file__).resolve().parent / "demo_data" / "fx"
DEMO_BNM_SESSION = "0900"  # the session the bundled BNM responses were recorded in
BNM_NOT_FOUND = b'{"message":"No records found.","code":404}'
BNM_HTML_404 = b"<!DOCTYPE html><html><head><title>BNM.API</title></head><body>Not Found</body></html>"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/xml; charset=utf-8"
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeenRequest:
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]


Responder = Callable[[SeenRequest], Reply]
Route = Reply | Responder


class LocalHttpServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) answering GETs from a route table keyed by path.

    Unknown paths go to ``fallback`` (default: 404). ``routes`` may be changed while it runs; ``seen`` records
    every request."""

    def __init__(self, routes: Mapping[str, Route] | None = None, fallback: Responder | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.fallback = fallback
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="muster-local-http", daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalHttpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def requests_to(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [request for request in self.seen if request.path == path]

    def _reply_for(self, request: SeenRequest) -> Reply:
        with self._lock:
            self.seen.append(request)
            route = self.routes.get(request.path)
        if route is None:
            return self.fallback(request) if self.fallback else Reply(404, b"not found", "text/plain")
        return route if isinstance(route, Reply) else route(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                request = SeenRequest(url.path, parse_qs(url.query), {k.lower(): v for k, v in self.headers.items()})
                reply = server._reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def xml_reply(body: bytes) -> Reply:
    return Reply(200, body, "text/xml; charset=utf-8")


def bnm_reply(body: bytes, session: str) -> Responder:
    """BNM's behaviour around a recorded body: its Accept header is required (else an HTML 404), and another
    session than the recorded one has no records."""

    def respond(request: SeenRequest) -> Reply:
        if request.headers.get("accept") != BNM_ACCEPT:
            return Reply(404, BNM_HTML_404, "text/html")
        if request.query.get("session", [""])[0] != session:
            return Reply(404, BNM_NOT_FOUND, "application/json")
        return Reply(200, body, "application/json")

    return respond


def bnm_month_path(year: int, month: int, currency: str = "USD") -> str:
    return f"{BNM_ALL_PATH}/{currency}/year/{year}/month/{month}"


def demo_routes(data_dir: Path = DEMO_FX_DIR) -> dict[str, Route]:
    def read(name: str) -> bytes:
        return (data_dir / name).read_bytes()

    routes: dict[str, Route] = {
        DAILY_PATH: xml_reply(read("eurofxref-daily.xml")),
        HIST_90D_PATH: xml_reply(read("eurofxref-hist-90d.xml")),
        BNM_ALL_PATH: bnm_reply(read("bnm-exchange-rate-0900.json"), DEMO_BNM_SESSION),
        bnm_month_path(2026, 3): bnm_reply(read("bnm-exchange-rate-usd-2026-03-0900.json"), DEMO_BNM_SESSION),
        JISDOR_PATH: xml_reply(read("bi-jisdor-usd.xml")),  # recorded for one day; served for any window
    }
    return routes


def demo_fallback(request: SeenRequest) -> Reply:
    """Paths without a recording: BNM's JSON 404 for its dated queries (no records), else a plain 404."""
    if request.path.startswith(BNM_ALL_PATH + "/"):
        return Reply(404, BNM_NOT_FOUND, "application/json")
    return Reply(404, b"not found", "text/plain")


@dataclass
class LocalFxSources:
    server: LocalHttpServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def environment(self) -> dict[str, str]:
        """Settings that point the exchange-rate worker at this server."""
        return {
            "ECB_BASE_URL": self.base_url,
            "BNM_BASE_URL": self.base_url,
            "BI_BASE_URL": self.base_url,
            "BNM_SESSION": DEMO_BNM_SESSION,
        }

    def close(self) -> None:
        self.server.close()


def start_fx_sources(data_dir: Path = DEMO_FX_DIR) -> LocalFxSources:
    """Serve the bundled recorded ECB/BNM/BI responses at their real paths on 127.0.0.1 (a free port)."""
    server = LocalHttpServer(demo_routes(data_dir), fallback=demo_fallback)
    return LocalFxSources(server)
