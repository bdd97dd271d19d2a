"""The local API: HTTP on 127.0.0.1 → an API Gateway REST (v1) proxy event → the same Lambda handler → HTTP.

What API Gateway does for a REST API with a ``/{proxy+}`` Lambda proxy integration, kept as close as it matters:
``path`` stays percent-encoded, query parameters are decoded (``queryStringParameters`` holds the last value of
each name, ``multiValueQueryStringParameters`` all of them, both ``null`` when there are none), headers come in
both shapes, and the handler's ``statusCode``/``headers``/``multiValueHeaders``/``body``/``isBase64Encoded``
become the HTTP response. A handler that raises becomes a 502, as API Gateway answers a failed integration.
Invocations are serialized (one at a time, like one Lambda execution environment).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from shared.local.lambda_context import LocalLambdaContext
from shared.observability import logger

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
STAGE = "local"
RESOURCE = "/{proxy+}"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def api_gateway_event(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The REST API proxy event for a request line target (``/costs/summary?currency=eur``) and headers."""
    parts = urlsplit(target)
    path = parts.path or "/"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    text_body: str | None = None
    encoded = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(body).decode("ascii"), True
    user_agent = next((v for k, v in headers if k.lower() == "user-agent"), "")
    return {
        "resource": RESOURCE,
        "path": path,
        "httpMethod": method.upper(),
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "httpMethod": method.upper(),
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "path": f"/{STAGE}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "resourceId": "local",
            "resourcePath": RESOURCE,
            "stage": STAGE,
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }


def response_parts(result: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body bytes of a Lambda proxy result."""
    status = int(result.get("statusCode", 200))
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers.extend((name, str(value)) for value in values)
    for name, value in single.items():
        if name not in multi:
            headers.append((name, str(value)))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return status, headers, body


def _default_handler() -> LambdaHandler:
    from functions.costs_api.handler import handler

    return handler


class _RequestHandler(BaseHTTPRequestHandler):
    server: _ApiHttpServer
    protocol_version = "HTTP/1.1"

    def _invoke(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, [], b'{"message":"Request Too Long"}')
            return
        body = self.rfile.read(length) if length else None
        event = api_gateway_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        status, headers, payload = self.server.invoke(event)
        self._send(status, headers, payload)

    def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        if "content-type" not in names:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _invoke

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("local api request", line=format % args)


class _ApiHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: LambdaHandler) -> None:
        super().__init__(address, _RequestHandler)
        self.lambda_handler = handler
        self.lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        with self.lock:
            try:
                result = self.lambda_handler(event, LocalLambdaContext(function_name="muster-costs-api"))
            except Exception:  # the Lambda failed: API Gateway answers 502
                logger.exception("local api handler failed", path=event.get("path"))
                body = json.dumps({"message": "Internal server error"}).encode()
                return HTTPStatus.BAD_GATEWAY, [("Content-Type", "application/json")], body
        return response_parts(result)


class LocalApiServer:
    """``start()`` (or use as a context manager) serves the API on 127.0.0.1:``port`` (0 picks a free port)."""

    def __init__(self, port: int = 8787, handler: LambdaHandler | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._handler = handler
        self._server: _ApiHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalApiServer:
        self._server = _ApiHttpServer((self.host, self.port), self._handler or _default_handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalApiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
