"""The local API adapter: HTTP on 127.0.0.1 ↔ API Gateway REST proxy events ↔ a Lambda handler."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from shared.local.api_server import LocalApiServer, api_gateway_event, response_parts

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_event_keeps_the_path_encoded_and_decodes_the_query() -> None:
    event = api_gateway_event(
        "get",
        "/costs/agents/unallocated%3Aconn-1?currency=eur&days=3&days=4&note=a%20b&empty=",
        [("Accept", "application/json"), ("X-Multi", "1"), ("X-Multi", "2")],
    )
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/costs/agents/unallocated%3Aconn-1"
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "costs/agents/unallocated%3Aconn-1"}
    assert event["queryStringParameters"] == {"currency": "eur", "days": "4", "note": "a b", "empty": ""}
    assert event["multiValueQueryStringParameters"]["days"] == ["3", "4"]
    assert event["headers"]["X-Multi"] == "2" and event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["requestContext"]["stage"] == "local" and event["requestContext"]["path"].startswith("/local/")
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_event_without_query_has_null_parameters_and_binary_bodies_are_base64() -> None:
    event = api_gateway_event("POST", "/x", body=b"\xff\x00")
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"


def test_response_parts_merge_header_shapes_and_decode_base64() -> None:
    status, headers, body = response_parts(
        {
            "statusCode": 201,
            "headers": {"X-One": "1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"raw").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (status, body) == (201, b"raw")
    assert headers == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-One", "1")]


@pytest.fixture
def echo_server() -> Iterator[tuple[LocalApiServer, list[dict[str, Any]]]]:
    """A server around a handler that records each event and echoes it."""
    seen: list[dict[str, Any]] = []
    active = threading.Semaphore(1)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert active.acquire(blocking=False), "two invocations at once"
        try:
            seen.append(event)
            if event["path"] == "/boom":
                raise RuntimeError("handler failed")
            return {
                "statusCode": 200,
                "multiValueHeaders": {"Content-Type": ["application/json"], "X-Request": [event["httpMethod"]]},
                "body": json.dumps({"path": event["path"], "query": event["queryStringParameters"]}),
                "isBase64Encoded": False,
            }
        finally:
            active.release()

    with LocalApiServer(port=0, handler=handler) as server:
        yield server, seen


def test_real_http_round_trip(echo_server: tuple[LocalApiServer, list[dict[str, Any]]]) -> None:
    server, seen = echo_server
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    response = requests.get(f"{server.url}/costs/summary", params={"currency": "EUR"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json" and response.headers["X-Request"] == "GET"
    assert response.json() == {"path": "/costs/summary", "query": {"currency": "EUR"}}
    assert seen[-1]["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    head = requests.head(f"{server.url}/costs/summary", timeout=5)
    assert head.status_code == 200 and head.content == b""


def test_a_failing_handler_is_a_502_like_api_gateway(echo_server: tuple[LocalApiServer, list[dict[str, Any]]]) -> None:
    server, _ = echo_server
    response = requests.get(f"{server.url}/boom", timeout=5)
    assert response.status_code == 502 and response.json() == {"message": "Internal server error"}


def test_concurrent_requests_are_served_one_invocation_at_a_time(
    echo_server: tuple[LocalApiServer, list[dict[str, Any]]],
) -> None:
    server, seen = echo_server
    statuses: list[int] = []

    def fetch(i: int) -> None:
        statuses.append(requests.get(f"{server.url}/n", params={"i": str(i)}, timeout=10).status_code)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8 and len(seen) == 8


def test_a_port_in_use_is_an_error(echo_server: tuple[LocalApiServer, list[dict[str, Any]]]) -> None:
    server, _ = echo_server
    with pytest.raises(OSError):
        LocalApiServer(port=server.port).start()
