"""The API's read path (per-day rollups) equals the rows beneath it, after the real workers ran (twice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from functions.aggregate_llm_costs.handler import handler as llm_handler
from functions.fetch_cloud_costs.handler import handler as cloud_handler
from shared.config import Settings, reset_settings
from shared.dal.agents import agent_repository
from shared.dal.cloud import cloud_cost_repository
from shared.dal.factory import reset_repositories
from shared.dal.llm_costs import llm_cost_repository
from shared.dal.rollup import rollup_repository
from shared.domain.agents import UNATTRIBUTED
from shared.domain.cloud import unallocated_agent_id
from shared.domain.costs import Window
from shared.domain.money import exact_sum
from shared.local.cloud_demo import DEMO_CONNECTION_ID, setup_cloud_demo
from shared.local.demo_data import demo_generations, demo_prices_file
from shared.local.lambda_context import LocalLambdaContext
from shared.local.langfuse_server import LangfuseState, LocalLangfuse
from shared.services.cost_queries import CostQueryService
from shared.services.pricing import PricingService

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

MOTO_API = "http://motoapi.amazonaws.com"
TODAY = datetime.now(UTC).date()
DAY1, DAY2 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
WINDOW = Window(DAY1, DAY2)


@pytest.fixture
def workers_ran(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two days of demo generations through the LLM worker, two days of demo CE answers through the cloud worker."""
    PricingService().import_file(demo_prices_file())
    rows = demo_generations(DAY1, per_hour=2) + demo_generations(DAY2, per_hour=2)
    with LocalLangfuse(LangfuseState(observations=rows)) as langfuse:
        monkeypatch.setenv("LANGFUSE_HOST", langfuse.url)
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", langfuse.state.public_key)
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", langfuse.state.secret_key)
        reset_settings()
        reset_repositories()
        setup_cloud_demo(MOTO_API, DAY1, DAY2)
        run_workers()
        yield


def run_workers() -> None:
    start = datetime.combine(DAY1, datetime.min.time(), tzinfo=UTC)
    llm = llm_handler({"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()}, LocalLambdaContext())
    assert llm["status"] == "ok" and llm["daysRebuilt"] == [DAY1.isoformat(), DAY2.isoformat()]
    cloud = cloud_handler({"from": DAY1.isoformat(), "to": DAY2.isoformat()}, LocalLambdaContext())
    assert cloud["connectionsSucceeded"] == 1


def known_ids() -> list[str]:
    return [a.agent_id for a in agent_repository().list_agents()] + [
        UNATTRIBUTED,
        unallocated_agent_id(DEMO_CONNECTION_ID),
    ]


def test_each_rollup_day_equals_the_rows_beneath(workers_ran: None) -> None:
    llm_rows = {
        (row.agent_id, row.date): row
        for agent_id in known_ids()
        for row in llm_cost_repository().daily_for_agent(agent_id, DAY1.isoformat(), DAY2.isoformat())
    }
    cloud_rows = [
        row for agent_id in known_ids() for row in cloud_cost_repository().cloud_costs_for_agent(agent_id, DAY1, DAY2)
    ]
    days = rollup_repository().days(DAY1.isoformat(), DAY2.isoformat())
    assert [d.date for d in days] == [DAY1.isoformat(), DAY2.isoformat()]
    for day in days:
        # LLM: one entry per agent with a daily row that day, equal figure for figure
        assert set(day.llm) == {agent_id for agent_id, date in llm_rows if date == day.date}
        for agent_id, figures in day.llm.items():
            row = llm_rows[(agent_id, day.date)]
            assert (figures.cost, figures.tokens, figures.observations) == (row.cost, row.tokens, row.observations)
            assert [(m, n, t) for m, n, t in figures.unpriced] == [
                (u.model, u.observations, u.tokens) for u in row.unpriced
            ]
        # Cloud: per agent and service, the sum of that day's rows
        that_day = [row for row in cloud_rows if row.day.isoformat() == day.date]
        assert set(day.cloud) == {row.agent_id for row in that_day}
        for agent_id, cloud in day.cloud.items():
            mine = [row for row in that_day if row.agent_id == agent_id]
            assert cloud.cost == exact_sum(row.unblended_cost for row in mine)
            for service, amount in cloud.by_service.items():
                assert amount == exact_sum(row.unblended_cost for row in mine if row.service == service)


def test_the_breakdown_from_rollups_equals_each_agents_own_rows_even_after_rerunning(workers_ran: None) -> None:
    service = CostQueryService()
    before = service.agents_breakdown(WINDOW, "USD")
    assert {a.agent_id for a in before.agents} >= {"support-agent", "research-agent", "planner-agent", UNATTRIBUTED}
    for line in before.agents:
        detail = service.agent_detail(line.agent_id, WINDOW, "USD").agent
        assert detail == line, line.agent_id
    # When both workers run again over the same days, rollups are rewritten, never added to
    run_workers()
    after = service.agents_breakdown(WINDOW, "USD")
    assert after == before
    assert after.agents[0].total_cost > Decimal(0)
