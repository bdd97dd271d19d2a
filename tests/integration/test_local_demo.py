"""Local mode end to end: the embedded moto server, the demo through the real workers, the API over real HTTP,
and a schemathesis run of the OpenAPI document against it (no 5xx, every answer inside the schema)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions.costs_api.openapi import DOCUMENT
from shared.cli.main import main
from shared.config import reset_settings
from shared.dal.factory import reset_repositories
from shared.local.api_server import LocalApiServer
from shared.local.demo import DEMO_GENERATIONS_PER_HOUR, DEMO_LLM_DAYS, DemoRun, load_demo
from shared.local.stack import EmbeddedStack

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@dataclass
class Local:
    api: str
    aws: str
    demo: DemoRun

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(f"{self.api}{path}", params=params, timeout=30)


@pytest.fixture(scope="module")
def local() -> Iterator[Local]:
    """`muster-costs local --demo` without the printing: both servers on free ports, the demo loaded."""
    saved = dict(os.environ)
    stack = EmbeddedStack(port=0).start()
    api = LocalApiServer(port=0).start()
    demo = load_demo(stack.url)
    try:
        yield Local(api.url, stack.url, demo)
    finally:
        demo.stop()
        api.stop()
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        reset_repositories()


def window(local: Local) -> dict[str, str]:
    return {"from": local.demo.window[0].isoformat(), "to": local.demo.window[1].isoformat()}


def test_demo_summary_over_http_holds_every_generation_and_reconciles(local: Local) -> None:
    response = local.get("/costs/summary", **window(local))
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    body = response.json()
    totals = body["totals"]
    assert totals["observations"] == DEMO_LLM_DAYS * 24 * DEMO_GENERATIONS_PER_HOUR
    assert Decimal(totals["totalCost"]) == Decimal(totals["llmCost"]) + Decimal(totals["cloudCost"])
    assert sum(Decimal(d["totalCost"]) for d in body["daily"]) == Decimal(totals["totalCost"])
    assert [d["observations"] > 0 for d in body["daily"]] == [True] * DEMO_LLM_DAYS + [False]  # today: none yet
    assert body["unpriced"][0]["model"] == "acme-finetune-v2"
    agents = {a["agentId"] for a in local.get("/costs/agents", **window(local)).json()["agents"]}
    assert agents == {"support-agent", "research-agent", "planner-agent", "unattributed", "unallocated:demo-aws"}


def test_errors_over_http_keep_the_json_shape(local: Local) -> None:
    bad = local.get("/costs/summary", currency="XYZ")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unsupported_currency"
    unknown = requests.get(f"{local.api}/costs/agents/nobody%20here", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    reserved = requests.get(f"{local.api}/costs/agents/unallocated:demo-aws", timeout=10)
    assert reserved.status_code == 200 and reserved.json()["name"] == "Unallocated (demo-aws)"


def test_the_demo_output_reads_from_the_api(
    local: Local, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.cli.local import DEMO_REPORT_FILE, show_demo

    monkeypatch.chdir(tmp_path)  # the demo writes its weekly report into the working directory
    show_demo(local.api, local.aws, local.demo)
    out = capsys.readouterr().out
    report = tmp_path / DEMO_REPORT_FILE
    assert f"Weekly report (last full week, not sent): {report}" in out
    assert "Muster Costs" in report.read_text() and "</html>" in report.read_text()
    for expected in (
        "llm-costs       2,016 Langfuse generations over 168 hours",
        "Cost per agent",
        "(USD) — GET /costs/agents",
        "(EUR) — GET /costs/agents",
        "Conversion: EUR at 0.8695652 per USD (ECB, rate of 2026-03-18) — stale.",
        "Unpriced usage",
        "acme-finetune-v2",
        "Trial banner (GET /costs/period)",
        "Exchange rates (units per 1 USD)",
        f"curl -s '{local.api}/costs/summary?currency=EUR'",
    ):
        assert expected in out, expected


def test_openapi_document_holds_against_the_local_server(local: Local) -> None:
    """schemathesis generates requests from docs/openapi.json (25 per operation) and checks every answer:
    no 5xx, a documented status, the documented content type, and a body inside the response schema."""
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    statuses: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4
    session = requests.Session()
    for operation in operations:

        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call_and_validate(base_url=local.api, session=session, checks=checks)
            statuses.setdefault(case.operation.label, set()).add(response.status_code)

        check()
        # and known-good requests, so every route's 200 body is checked in both fx modes and several currencies
        for query in ({}, {"currency": "EUR", "fx": "daily", "days": "10"}, {"currency": "idr"}, {"currency": "MYR"}):
            if operation.path == "/costs/period":
                query = {k: v for k, v in query.items() if k in ("currency", "fx")}
            for agent_id in ("support-agent", "unallocated:demo-aws", "unattributed"):
                path_parameters = {"agentId": agent_id} if "{agentId}" in operation.path else None
                case = operation.Case(path_parameters=path_parameters, query=query)
                response = case.call_and_validate(base_url=local.api, session=session, checks=checks)
                assert response.status_code == 200, (operation.label, query, response.text)
                statuses.setdefault(operation.label, set()).add(response.status_code)
    assert all(codes <= {200, 400, 404} for codes in statuses.values()), statuses
    assert all(200 in codes for codes in statuses.values()), statuses


def test_local_command_prints_both_addresses_first(capsys: pytest.CaptureFixture[str]) -> None:
    saved = dict(os.environ)
    try:
        code = main(["local", "--empty", "--once", "--port", "0", "--aws-port", "0"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        reset_repositories()
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].startswith("api: http://127.0.0.1:") and lines[1].startswith("aws: http://127.0.0.1:")
