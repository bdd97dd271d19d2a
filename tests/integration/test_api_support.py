"""Helpers for the cost API tests: a small moto stack, a seeded data set with hand-checkable figures, and calls
through the real Lambda handler with API Gateway REST events."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from typing import Any

import pytest

from functions.costs_api.handler import handler
from shared.config import Settings
from shared.dal.agents import AgentModel, agent_repository
from shared.dal.cloud import CloudCostDailyModel, cloud_cost_repository
from shared.dal.exchange_rates import ExchangeRateModel, exchange_rate_repository
from shared.dal.llm_costs import DailyCostModel, llm_cost_repository
from shared.dal.rollup import CostRollupModel, rollup_repository
from shared.dal.settings import SettingsModel
from shared.domain.agents import Agent
from shared.domain.cloud import CloudConnection, CloudCostRow, DayWindow, unallocated_agent_id
from shared.domain.fx import ExchangeRate
from shared.domain.llm import DailyLlmCost, ModelUsage
from shared.domain.usage import TokenCounts
from shared.local.api_server import api_gateway_event
from shared.local.lambda_context import LocalLambdaContext
from shared.services import cost_queries
from shared.services.cloud_costs import rebuild_cloud_rollups
from tests.integration.moto_stack import moto_tables

API_MODELS = (AgentModel, DailyCostModel, CloudCostDailyModel, ExchangeRateModel, CostRollupModel, SettingsModel)
TODAY = date(2026, 3, 20)  # a Friday; "days=3" is 03-18..03-20
D18, D19, D20 = date(2026, 3, 18), date(2026, 3, 19), date(2026, 3, 20)
CONNECTION = "conn-1"
UNALLOCATED = unallocated_agent_id(CONNECTION)


@contextmanager
def api_stack(models: tuple[Any, ...] = API_MODELS) -> Iterator[Settings]:
    """moto in-process with only the tables the API reads (small tables keep moto's Query fast)."""
    with moto_tables(models) as settings:
        yield settings


@contextmanager
def frozen_today(day: date = TODAY) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cost_queries, "utc_today", lambda: day)
        yield


def call(target: str, method: str = "GET") -> tuple[int, Any]:
    """One request through the Lambda handler; returns the status and the decoded JSON body."""
    result = handler(api_gateway_event(method, target), LocalLambdaContext(function_name="costs-api"))
    assert result["multiValueHeaders"]["Content-Type"] == ["application/json"]
    return result["statusCode"], json.loads(result["body"])


def ok(target: str) -> Any:
    status, body = call(target)
    assert status == 200, body
    return body


def tokens(*values: int) -> TokenCounts:
    return TokenCounts.of(list(values))


def usage(model: str, cost: str, counts: TokenCounts, observations: int, priced: bool = True) -> ModelUsage:
    return ModelUsage(model, priced, Decimal(cost), counts, observations, 0, 0)


def llm_day(
    agent_id: str, day: date, priced: Sequence[ModelUsage], unpriced: Sequence[ModelUsage] = ()
) -> DailyLlmCost:
    all_usage = [*priced, *unpriced]
    total = TokenCounts()
    for u in all_usage:
        total = total + u.tokens
    return DailyLlmCost(
        agent_id=agent_id,
        date=day.isoformat(),
        cost=sum((u.cost for u in priced), Decimal(0)),
        tokens=total,
        observations=sum(u.observations for u in all_usage),
        by_model=tuple(priced),
        unpriced=tuple(unpriced),
        fallback_tokens=0,
        unknown_tokens=0,
        double_count_observations=0,
    )


# The seeded figures (USD). Hand totals for days=3 (03-18..03-20): LLM 3.9125, cloud 9.0496913569.
LLM_DAYS = [
    llm_day(
        "support-agent",
        D18,
        [usage("gpt-4o", "1.5", tokens(900, 200, 0, 280, 0), 8)],
        [usage("acme-finetune-v2", "0", tokens(100, 0, 0, 20, 0), 2, priced=False)],
    ),
    llm_day("support-agent", D20, [usage("gpt-4o", "0.25", tokens(100, 0, 0, 50, 0), 1)]),
    llm_day("research-agent", D19, [usage("claude-sonnet-4-5", "2.125", tokens(10, 5000, 1500, 700, 0), 4)]),
    llm_day("unattributed", D19, [usage("gpt-4o-mini", "0.0375", tokens(300, 0, 0, 40, 0), 3)]),
    llm_day("support-agent", date(2026, 2, 1), [usage("gpt-4o", "100", tokens(1, 0, 0, 1, 0), 1)]),  # outside
]
CLOUD_ROWS = [
    ("support-agent", D18, "AmazonBedrock", "3.1234567891"),
    ("research-agent", D19, "AmazonBedrock", "0.875"),
    ("research-agent", D19, "AmazonSageMaker", "4.8"),
    (UNALLOCATED, D18, "AmazonBedrock", "-0.5"),  # a credit: booked to the connection, never an agent
    (UNALLOCATED, D20, "AmazonBedrock", "0.7512345678"),
    ("support-agent", date(2026, 2, 1), "AmazonBedrock", "50"),  # outside every 3-day window
]
AGENTS = [
    Agent("support-agent", "Support bot", ("support-agent",), CONNECTION, "AmazonBedrock", "support-agent"),
    Agent("research-agent", "Research", ("research-agent",), CONNECTION, "AmazonSageMaker", "research-agent"),
    Agent("idle-agent", "Idle", ("idle-agent",)),
]
# units per USD: (currency, business date, value, source)
RATES = [
    ("EUR", date(2026, 3, 17), "0.92", "ECB"),
    ("EUR", D19, "0.9", "ECB"),
    ("MYR", date(2026, 3, 17), "4.3", "BNM"),
    ("MYR", D18, "4.4", "ECB"),  # BNM had no rate that day: ECB's cross rate is the fallback
    ("MYR", D19, "4.5", "BNM"),
    ("MYR", D19, "4.6", "ECB"),
    ("IDR", D19, "16000", "BI"),
    ("IDR", D19, "16100", "ECB"),
    ("SGD", date(2026, 3, 2), "1.3", "ECB"),  # 18 days old on TODAY: stale
]


def seed() -> None:
    """Rows and rollups as the workers leave them: daily LLM rows + the llm rollup per date, cloud rows + the
    cloud rollup rebuilt by the cloud worker's own function, agents and exchange rates."""
    agent_repository().save_agents(AGENTS)
    llm = llm_cost_repository()
    rollups = rollup_repository()
    for day in sorted({d.date for d in LLM_DAYS}):
        days = [d for d in LLM_DAYS if d.date == day]
        llm.replace_daily(day, days, previous_agents=[])
        rollups.set_llm_day(day, days)
    rows = [
        CloudCostRow(agent_id, day, service, CONNECTION, Decimal(amount), None, Decimal(0), False, ())
        for agent_id, day, service, amount in CLOUD_ROWS
    ]
    window = DayWindow(date(2026, 2, 1), TODAY)
    agent_ids = sorted({agent_id for agent_id, *_ in CLOUD_ROWS})
    cloud_cost_repository().replace_rows(agent_ids, window, rows, datetime(2026, 3, 20, tzinfo=UTC))
    connection = CloudConnection(CONNECTION, "Demo", "arn:aws:iam::444455556666:role/MusterCostReaderDemo", "x")
    rebuild_cloud_rollups(window, AGENTS, [connection], cloud_cost_repository())
    fetched = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
    exchange_rate_repository().save_rates(
        ExchangeRate(currency, day, Decimal(value), source, fetched) for currency, day, value, source in RATES
    )


def add(*values: str | Decimal) -> Decimal:
    """Exact sum."""
    with localcontext() as ctx:
        ctx.prec = 80
        return sum((Decimal(v) for v in values), Decimal(0))


def mul(a: str | Decimal, b: str | Decimal) -> Decimal:
    """Exact product (the default 28-digit context could round)."""
    with localcontext() as ctx:
        ctx.prec = 80
        return Decimal(a) * Decimal(b)
