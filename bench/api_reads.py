"""DynamoDB reads per cost API call: the per-day rollup vs a plain per-agent read, at 10, 100 and 1,000 agents.

For each size, 30 days of figures are stored for every agent (rollup items, daily LLM rows, cloud rows, agents)
through the repositories into moto in-process. Every DynamoDB request is counted by wrapping botocore's
``BaseClient._make_api_call``: requests per operation, items returned (``Count`` of a Query/Scan, the item of a
GetItem, the rows of a BatchGetItem) and their size by DynamoDB's item-size rules (what read capacity is billed
on). Then each route is called through the Lambda handler (in-process) for p50/p95: 200 calls each up to 100
agents, 20 at 1,000 agents (one summary there parses 30,000 agent-days: ~1 s locally, see the figures).

The plain approach is what a dashboard without rollups does for a 30-day summary: Scan the agents, then per
agent one Query of its daily LLM rows and one of its cloud rows. Its reads per agent are the same for every
agent, so at 1,000 agents it is measured on 100 agents' rows and multiplied (moto's Query walks the whole table,
which would make the real 1,000-agent run take minutes of emulator time, not of DynamoDB's).

    uv run python bench/api_reads.py [--agents 10 100 1000] [--calls 200] [--large-calls 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from statistics import quantiles
from typing import Any

# Set before Powertools (read at import) and boto3 clients exist; fake credentials never reach AWS.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)
os.environ.pop("MUSTER_ENDPOINT_URL", None)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message="No application metrics to publish")

from botocore.client import BaseClient  # noqa: E402
from moto import mock_aws  # noqa: E402

from functions.costs_api.handler import handler  # noqa: E402
from shared.config import get_settings, reset_settings  # noqa: E402
from shared.dal.agents import AgentModel, agent_repository  # noqa: E402
from shared.dal.attributes import CompressedJSONAttribute  # noqa: E402
from shared.dal.binding import bind_model  # noqa: E402
from shared.dal.cloud import CloudCostDailyModel, cloud_cost_repository  # noqa: E402
from shared.dal.exchange_rates import ExchangeRateModel, exchange_rate_repository  # noqa: E402
from shared.dal.factory import reset_repositories  # noqa: E402
from shared.dal.llm_costs import DailyCostModel, llm_cost_repository  # noqa: E402
from shared.dal.rollup import AgentCloudDay, CostRollupModel, llm_json, rollup_repository  # noqa: E402
from shared.dal.settings import SettingsModel, settings_repository  # noqa: E402
from shared.domain.agents import Agent  # noqa: E402
from shared.domain.cloud import CloudCostRow, DayWindow  # noqa: E402
from shared.domain.fx import ExchangeRate  # noqa: E402
from shared.domain.llm import DailyLlmCost, ModelUsage  # noqa: E402
from shared.domain.settings import ProjectSettings  # noqa: E402
from shared.domain.usage import TokenCounts  # noqa: E402
from shared.local.api_server import api_gateway_event  # noqa: E402
from shared.local.lambda_context import LocalLambdaContext  # noqa: E402

DAYS = 30
SERVICES = ("AmazonBedrock", "AmazonSageMaker")
ROW_SAMPLE = 100  # agents whose daily rows are stored for the plain approach at larger sizes
DYNAMODB_ITEM_LIMIT = 400 * 1024
MODELS = (AgentModel, DailyCostModel, CloudCostDailyModel, ExchangeRateModel, CostRollupModel, SettingsModel)


@dataclass
class Reads:
    requests: Counter[str] = field(default_factory=Counter)
    items: int = 0
    bytes: int = 0

    def line(self, scale: int = 1) -> str:
        requests = ", ".join(f"{op} {n * scale:,}" for op, n in sorted(self.requests.items()))
        return f"{self.items * scale:>9,} items {self.bytes * scale / 1024:>10,.0f} KiB  requests: {requests}"


def _returned(operation: str, result: dict[str, Any]) -> list[Any]:
    if operation in ("Query", "Scan"):
        return list(result.get("Items", []))
    if operation == "GetItem":
        return [result["Item"]] if "Item" in result else []
    if operation == "BatchGetItem":
        return [row for rows in result.get("Responses", {}).values() for row in rows]
    return []


def _value_size(value: dict[str, Any]) -> int:
    """DynamoDB's size rules, roughly: strings and numbers by their length, lists and maps 3 bytes plus items."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner).encode())
    if kind in ("S", "N"):
        return len(str(inner).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in inner.items())
    return sum(len(str(v).encode()) for v in inner)  # sets


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


@contextmanager
def counting() -> Iterator[Reads]:
    reads = Reads()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, untyped in the stubs

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        result = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            reads.requests[operation] += 1
            items = _returned(operation, result)
            reads.items += len(items)
            reads.bytes += sum(item_size(item) for item in items)
        return result

    setattr(BaseClient, "_make_api_call", counted)  # noqa: B010
    try:
        yield reads
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010


def agent_id(n: int) -> str:
    return f"agent-{n:04d}"


def llm_day(n: int, day: str) -> DailyLlmCost:
    tokens = TokenCounts(1000 + n, 200, 50, 300 + n, 10)
    usage = ModelUsage("gpt-4o", True, Decimal(f"0.{n + 1:04d}25"), tokens, 3, 0, 0)
    return DailyLlmCost(agent_id(n), day, usage.cost, tokens, 3, (usage,), (), 0, 0, 0)


def cloud_rows(n: int, day: date) -> list[CloudCostRow]:
    return [
        CloudCostRow(
            agent_id(n), day, service, "conn-1", Decimal(f"{i + 1}.{n:04d}123456"), None, Decimal(0), False, ()
        )
        for i, service in enumerate(SERVICES)
    ]


def store(agents: int, today: date) -> int:
    """Agents, 30 rollup days with every agent, and (for up to ROW_SAMPLE agents) their daily rows.

    Returns the size in bytes of the largest rollup item (DynamoDB refuses items above 400 KB)."""
    agent_repository().save_agents(Agent(agent_id(n), f"Agent {n}", (agent_id(n),)) for n in range(agents))
    settings_repository().save_project_settings(ProjectSettings())
    exchange_rate_repository().save_rates(
        ExchangeRate("EUR", today - timedelta(days=d), Decimal("0.8695652174"), "ECB", datetime.now(UTC))
        for d in range(DAYS + 3)
    )
    rollups, llm, cloud = rollup_repository(), llm_cost_repository(), cloud_cost_repository()
    sampled = min(agents, ROW_SAMPLE)
    largest = 0
    encode = CompressedJSONAttribute().serialize  # what the rollup item stores
    for offset in range(DAYS):
        day = today - timedelta(days=offset)
        days = [llm_day(n, day.isoformat()) for n in range(agents)]
        per_agent = {
            agent_id(n): AgentCloudDay(
                sum((r.unblended_cost for r in cloud_rows(n, day)), Decimal(0)),
                {r.service: r.unblended_cost for r in cloud_rows(n, day)},
            )
            for n in range(agents)
        }
        rollups.set_llm_day(day.isoformat(), days)
        rollups.set_cloud_day(day.isoformat(), per_agent)
        cloud_json = {a: {"costUsd": c.cost, "byService": dict(c.by_service)} for a, c in per_agent.items()}
        largest = max(largest, len(encode(llm_json(days))) + len(encode(cloud_json)) + 40)
        llm.replace_daily(day.isoformat(), days[:sampled], previous_agents=[])
    window = DayWindow(today - timedelta(days=DAYS - 1), today)
    for n in range(sampled):
        rows = [row for offset in range(DAYS) for row in cloud_rows(n, today - timedelta(days=offset))]
        cloud.replace_rows([agent_id(n)], window, rows, datetime.now(UTC))
    return largest


def plain_summary(today: date, sample: int) -> None:
    """A 30-day summary without rollups: every agent's rows, one Query per agent and table (``sample`` agents)."""
    first = today - timedelta(days=DAYS - 1)
    agents = agent_repository().list_agents()  # Scan: every agent
    for agent in agents[:sample]:
        llm_cost_repository().daily_for_agent(agent.agent_id, first.isoformat(), today.isoformat())
        cloud_cost_repository().cloud_costs_for_agent(agent.agent_id, first, today)


def call(target: str) -> dict[str, Any]:
    result: dict[str, Any] = handler(api_gateway_event("GET", target), LocalLambdaContext(function_name="costs-api"))
    assert result["statusCode"] == 200, result["body"][:300]
    return result


def latency(target: str, calls: int) -> tuple[float, float, int]:
    timings = []
    size = 0
    for _ in range(calls):
        started = time.perf_counter()
        size = len(call(target)["body"])
        timings.append((time.perf_counter() - started) * 1000)
    cuts = quantiles(timings, n=100, method="inclusive")
    return cuts[49], cuts[94], size


def measured(action: Callable[[], Any]) -> Reads:
    with counting() as reads:
        action()
    return reads


def run(agents: int, calls: int, today: date) -> None:
    reset_settings()
    reset_repositories()
    with mock_aws():
        settings = get_settings()
        for model in MODELS:
            bind_model(model, settings)
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        started = time.perf_counter()
        largest = store(agents, today)
        stored_seconds = time.perf_counter() - started
        print(f"\n== {agents:,} agents x {DAYS} days (stored in {stored_seconds:.1f} s)", flush=True)
        share = largest / DYNAMODB_ITEM_LIMIT
        print(f"largest rollup item: {largest / 1024:,.0f} KiB ({share:.0%} of DynamoDB's 400 KB item limit)")
        routes = {
            "summary": "/costs/summary",
            "byAgent": "/costs/agents",
            "agent": f"/costs/agents/{agent_id(0)}",
            "period": "/costs/period",
        }
        for name, target in routes.items():
            reads = measured(partial(call, target))
            print(f"  rollup  {name:<14} {reads.line()}")
        eur = measured(partial(call, "/costs/summary?currency=EUR"))
        print(f"  rollup  {'summary in EUR':<14} {eur.line()}")
        sample = min(agents, ROW_SAMPLE)
        plain = measured(lambda: plain_summary(today, sample))
        scale = agents // sample
        scan = plain.requests.pop("Scan")
        scan_items = agents
        per_agent = Reads(plain.requests, plain.items - scan_items, plain.bytes)
        note = "" if scale == 1 else f"  (per-agent reads measured on {sample} agents, x{scale})"
        total_items = per_agent.items * scale + scan_items
        queries = ", ".join(f"{op} {n * scale:,}" for op, n in sorted(per_agent.requests.items()))
        print(f"  plain   {'summary':<14} {total_items:>9,} items  requests: Scan {scan:,}, {queries}{note}")
        for name, target in routes.items():
            p50, p95, size = latency(target, calls)
            body = f"{size / 1024:,.0f} KiB body"
            print(f"  latency {name:<14} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({calls} calls, {body})")
    reset_repositories()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--calls", type=int, default=200, help="latency calls per route, up to 100 agents")
    parser.add_argument("--large-calls", type=int, default=20, help="latency calls per route above 100 agents")
    args = parser.parse_args(argv)
    today = datetime.now(UTC).date()
    print(
        f"Cost API reads, {DAYS}-day window, moto in-process (items = DynamoDB items returned; "
        "KiB = their size by DynamoDB's rules)",
        flush=True,
    )
    for agents in args.agents:
        run(agents, args.calls if agents <= ROW_SAMPLE else args.large_calls, today)
    return 0


if __name__ == "__main__":
    sys.exit(main())
