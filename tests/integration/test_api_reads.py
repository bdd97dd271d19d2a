"""The read path does not grow with agents: DynamoDB items and requests per call, counted through botocore."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.client import BaseClient

from shared.dal.agents import agent_repository
from shared.dal.rollup import AgentCloudDay, rollup_repository
from shared.dal.settings import settings_repository
from shared.domain.agents import Agent
from shared.domain.costs import Window
from shared.domain.llm import DailyLlmCost
from shared.domain.settings import ProjectSettings
from shared.domain.usage import TokenCounts
from shared.services.cost_queries import CostQueryService
from tests.integration.test_api_support import TODAY, api_stack, frozen_today

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@dataclass
class Reads:
    requests: Counter[str] = field(default_factory=Counter)
    items: int = 0


def items_in(operation: str, result: dict[str, Any]) -> int:
    if operation in ("Query", "Scan"):
        return int(result.get("Count", 0))
    if operation == "GetItem":
        return 1 if "Item" in result else 0
    if operation == "BatchGetItem":
        return sum(len(rows) for rows in result.get("Responses", {}).values())
    return 0


@contextmanager
def counting_reads() -> Iterator[Reads]:
    """Counts every DynamoDB request and the items it returned (PynamoDB goes through botocore too)."""
    reads = Reads()
    original = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        result = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            reads.requests[operation] += 1
            reads.items += items_in(operation, result)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", counted)
        yield reads


def store_agents_and_days(agents: int, days: int, today: date) -> None:
    """``agents`` agents with LLM and cloud figures on each of the last ``days`` days (rollup items only)."""
    ids = [f"agent-{i:04d}" for i in range(agents)]
    agent_repository().save_agents(Agent(agent_id, agent_id.upper(), (agent_id,)) for agent_id in ids)
    rollups = rollup_repository()
    for offset in range(days):
        day = (today - timedelta(days=offset)).isoformat()
        rollups.set_llm_day(
            day,
            [
                DailyLlmCost(a, day, Decimal(f"0.{i + 1:04d}"), TokenCounts(i, 0, 0, i, 0), 1, (), (), 0, 0, 0)
                for i, a in enumerate(ids)
            ],
        )
        rollups.set_cloud_day(
            day, {a: AgentCloudDay(Decimal(i), {"AmazonBedrock": Decimal(i)}) for i, a in enumerate(ids)}
        )


@pytest.mark.parametrize("agents", [5, 150])
def test_summary_reads_at_most_40_items_whatever_the_number_of_agents(agents: int) -> None:
    with api_stack(), frozen_today():
        store_agents_and_days(agents, 30, TODAY)
        settings_repository().save_project_settings(ProjectSettings())
        service = CostQueryService()
        window = service.window()
        # When the 30-day summary is asked without a currency (the default comes from the settings)
        with counting_reads() as reads:
            view = service.summary(window)
        # Then: the settings item, one Query of 30 rollup items, one BatchGetItem of the 5 top agents' names
        assert reads.requests == Counter({"GetItem": 1, "Query": 1, "BatchGetItem": 1})
        assert reads.items == 1 + 30 + 5 <= 40
        assert len(view.daily) == 30 and len(view.top_agents) == 5
        assert view.top_agents[0].name == f"AGENT-{agents - 1:04d}"


def test_breakdown_reads_the_rollup_once_and_names_in_batches_of_100() -> None:
    with api_stack(), frozen_today():
        store_agents_and_days(150, 30, TODAY)
        service = CostQueryService()
        with counting_reads() as reads:
            view = service.agents_breakdown(service.window(), "USD")
        assert reads.requests == Counter({"Query": 1, "BatchGetItem": 2})
        assert reads.items == 30 + 150
        assert len(view.agents) == 150 and all(len(a.trend) == 30 for a in view.agents)


def test_agent_detail_is_one_get_and_two_queries() -> None:
    with api_stack(), frozen_today():
        store_agents_and_days(3, 2, TODAY)
        service = CostQueryService()
        with counting_reads() as reads:
            service.agent_detail("agent-0001", Window(TODAY - timedelta(days=6), TODAY), "USD")
        assert reads.requests == Counter({"GetItem": 1, "Query": 2})
