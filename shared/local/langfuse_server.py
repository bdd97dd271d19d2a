"""A local HTTP server that speaks the slice of Langfuse's public API Muster reads.

``GET /api/public/v2/observations`` (cursor pages, newest first, ``type``, ``fromStartTime`` inclusive,
``toStartTime`` exclusive, ``limit`` ≤ 1000), ``GET /api/public/observations`` (v1 pages ≤ 100, no trace name)
and ``GET /api/public/traces/{id}``, behind Basic auth. Used by local mode and by the integration tests,
which can queue faults (a 429 with Retry-After, 500s) and switch v2 off to imitate self-hosted Langfuse v3.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"message": "injected fault"}'
    path_prefix: str = "/api/public"


@dataclass
class LangfuseState:
    public_key: str = "pk-lf-local"
    secret_key: str = "sk-lf-local"
    observations: list[dict[str, Any]] = field(default_factory=list)
    v2_enabled: bool = True
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _sort_key(row: dict[str, Any]) -> tuple[datetime, str, str]:
    return (_moment(row["startTime"]), str(row.get("traceId", "")), str(row.get("id", "")))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests and the demo print what matters."""

    def do_GET(self) -> None:
        state = self.server.state
        url = urlparse(self.path)
        with state.lock:
            state.requests.append(self.path)
            fault = (
                state.faults.popleft() if state.faults and url.path.startswith(state.faults[0].path_prefix) else None
            )
        if fault is not None:
            self._send(fault.status, fault.body, fault.headers)
            return
        if not self._authorized(state):
            self._send(401, json.dumps({"message": "Unauthorized"}))
            return
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if url.path == "/api/public/v2/observations" and state.v2_enabled:
            self._json(self._v2(state, query))
        elif url.path == "/api/public/observations":
            self._json(self._v1(state, query))
        elif url.path.startswith("/api/public/traces/"):
            self._trace(state, unquote(url.path.rsplit("/", 1)[1]))
        else:
            self._send(404, json.dumps({"message": "Not found"}))

    def _authorized(self, state: LangfuseState) -> bool:
        expected = base64.b64encode(f"{state.public_key}:{state.secret_key}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _window(self, state: LangfuseState, query: dict[str, str]) -> list[dict[str, Any]]:
        rows = state.observations
        if "type" in query:
            rows = [r for r in rows if r.get("type") == query["type"]]
        if "fromStartTime" in query:
            start = _moment(query["fromStartTime"])
            rows = [r for r in rows if _moment(r["startTime"]) >= start]
        if "toStartTime" in query:
            end = _moment(query["toStartTime"])
            rows = [r for r in rows if _moment(r["startTime"]) < end]
        return sorted(rows, key=_sort_key, reverse=True)

    def _v2(self, state: LangfuseState, query: dict[str, str]) -> dict[str, Any]:
        limit = min(int(query.get("limit", 50)), 1000)
        offset = int(base64.b64decode(query["cursor"]).decode()) if "cursor" in query else 0
        rows = self._window(state, query)
        page = rows[offset : offset + limit]
        meta: dict[str, Any] = {}
        if offset + limit < len(rows):
            meta["cursor"] = base64.b64encode(str(offset + limit).encode()).decode()
        return {"data": page, "meta": meta}

    def _v1(self, state: LangfuseState, query: dict[str, str]) -> dict[str, Any]:
        limit = min(int(query.get("limit", 50)), 100)
        page = int(query.get("page", 1))
        rows = self._window(state, query)
        chunk = [{k: v for k, v in r.items() if k != "traceName"} for r in rows[(page - 1) * limit : page * limit]]
        total_pages = (len(rows) + limit - 1) // limit
        return {
            "data": chunk,
            "meta": {"page": page, "limit": limit, "totalItems": len(rows), "totalPages": total_pages},
        }

    def _trace(self, state: LangfuseState, trace_id: str) -> None:
        row = next((r for r in state.observations if r.get("traceId") == trace_id), None)
        if row is None:
            self._send(404, json.dumps({"message": "Trace not found"}))
            return
        self._json({"id": trace_id, "name": row.get("traceName"), "timestamp": row["startTime"]})

    def _json(self, payload: Any) -> None:
        self._send(200, json.dumps(payload))

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: LangfuseState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class LocalLangfuse:
    """Start with ``start()``; ``url`` is the base URL to give ``LANGFUSE_HOST``."""

    def __init__(self, state: LangfuseState | None = None) -> None:
        self.state = state or LangfuseState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-langfuse", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalLangfuse:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    close = stop  # the demo closes every local server the same way

    def __enter__(self) -> LocalLangfuse:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
