"""Our Langfuse requests and the responses we read, checked against Langfuse's published OpenAPI document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import yaml

from shared.config import LangfuseConfig
from shared.domain.llm import HourAggregator
from shared.domain.pricing import ModelPrice, PriceBook
from shared.local.langfuse_server import LangfuseState, LocalLangfuse
from shared.sources.langfuse import V1_PATH, V1_TRACE_PATH, V2_FIELDS, V2_PATH, LangfuseClient


@pytest.fixture(scope="module")
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "langfuse-openapi.yml"
    if not path.is_file():
        pytest.skip("../shared/data is not beside this checkout")
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def declared_query_parameters(spec: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    operation = spec["paths"][path]["get"]
    return {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}


def sent_requests(state: LangfuseState) -> list[tuple[str, dict[str, list[str]]]]:
    with LocalLangfuse(state) as server:
        client = LangfuseClient(
            LangfuseConfig(host=server.url), state.public_key, state.secret_key, sleep=lambda _: None
        )
        start = datetime(2026, 8, 20, 13, tzinfo=UTC)
        list(client.observation_pages(start, start.replace(hour=14)))
    return [(urlparse(p).path, parse_qs(urlparse(p).query)) for p in state.requests]


def test_every_v2_query_parameter_we_send_is_declared(spec: dict[str, Any]) -> None:
    declared = declared_query_parameters(spec, V2_PATH)
    requests_ = sent_requests(LangfuseState())
    assert requests_, "the client made no request"
    for path, query in requests_:
        assert path == V2_PATH
        assert set(query) <= set(declared), set(query) - set(declared)
        assert query["type"][0] in {"GENERATION", "EMBEDDING"}
        assert int(query["limit"][0]) <= 1000
    groups = set(V2_FIELDS.split(","))
    description = declared["fields"]["description"] + spec["paths"][V2_PATH]["get"]["description"]
    for group in groups:
        assert f"`{group}`" in description, f"field group {group} is not documented"


def test_every_v1_query_parameter_we_send_is_declared(spec: dict[str, Any]) -> None:
    state = LangfuseState(v2_enabled=False)
    state.observations = [
        {
            "id": "o1",
            "traceId": "t1",
            "type": "GENERATION",
            "startTime": "2026-08-20T13:10:00.000Z",
            "traceName": "agent",
            "model": "gpt-4o",
            "usageDetails": {"input": 1},
        }
    ]
    requests_ = sent_requests(state)
    v1 = [(p, q) for p, q in requests_ if p == V1_PATH]
    traces = [(p, q) for p, q in requests_ if p.startswith("/api/public/traces/")]
    assert v1 and traces
    declared = declared_query_parameters(spec, V1_PATH)
    for _, query in v1:
        assert set(query) <= set(declared)
        assert int(query["limit"][0]) <= 100
    trace_params = {
        p["name"] for p in spec["paths"][V1_TRACE_PATH.replace("{trace_id}", "{traceId}")]["get"]["parameters"]
    }
    for _, query in traces:
        assert set(query) <= trace_params


def test_the_fields_we_read_exist_in_the_v2_schema(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas["ObservationsV2Response"]["required"]) == {"data", "meta"}
    assert "cursor" in schemas["ObservationsV2Meta"]["properties"]
    observation = schemas["ObservationV2"]["properties"]
    # The server sends the provided model name as "model"; the schema calls it providedModelName. We read both.
    for name in ("id", "startTime", "traceName", "usageDetails", "modelParameters"):
        assert name in observation, name
    assert "providedModelName" in observation or "model" in observation


def test_the_published_sample_page_prices_as_expected(reference_data: Path) -> None:
    sample = json.loads((reference_data / "langfuse-observations-sample.json").read_text())
    page = next(e for e in sample["examples"] if e["name"].startswith("v2_"))["response"]
    book = PriceBook(
        [
            ModelPrice("openai", "gpt-4o", Decimal("0.0025"), Decimal("0.01"), cached_read_per_1k=Decimal("0.00125")),
            ModelPrice(
                "anthropic",
                "claude-sonnet-4-5-20250929",
                Decimal("0.003"),
                Decimal("0.015"),
                cached_read_per_1k=Decimal("0.0003"),
                cache_write_per_1k=Decimal("0.00375"),
            ),
            ModelPrice("openai", "o3", Decimal("0.002"), Decimal("0.008"), reasoning_per_1k=Decimal("0.008")),
        ]
    )
    aggregator = HourAggregator(book, "2026-08-20T13")
    aggregator.add_rows(page["data"])
    groups = {g.trace_name: g for g in aggregator.groups() if g.priced}
    # Langfuse's own costDetails on the sample rows (a cross-check, not our source of truth)
    compared = 0
    for row in page["data"]:
        group = groups.get(row["traceName"])
        if group is None or group.model != row["model"] or group.observations != 1:
            continue
        assert group.cost == Decimal(str(row["totalCost"])), row["model"]
        compared += 1
    assert compared >= 3
    assert aggregator.observations == len(page["data"])
    assert any(not g.priced for g in aggregator.groups()), "the sample's fine-tune has no price and must stay unpriced"


def test_the_local_server_answers_like_the_spec(spec: dict[str, Any]) -> None:
    state = LangfuseState()
    with LocalLangfuse(state) as server:
        response = requests.get(server.url + V2_PATH, auth=(state.public_key, state.secret_key), timeout=5)
        assert response.status_code == 200
        body = response.json()
        assert set(spec["components"]["schemas"]["ObservationsV2Response"]["required"]) <= set(body)
        unauthorized = requests.get(server.url + V2_PATH, auth=("pk", "wrong"), timeout=5)
        assert unauthorized.status_code == 401
