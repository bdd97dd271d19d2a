"""MusterCostRollup: one item per UTC day carrying every agent's figures, so the API reads days, not agents × days.

Each worker owns one attribute (``llm`` by the LLM worker, ``cloud`` by the cloud worker) and rewrites it whole
from the rows beneath it with an UpdateItem SET, so the two never clobber each other and nothing is incremented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.attributes import CompressedJSONAttribute
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import COST_ROLLUP
from shared.domain.llm import DailyLlmCost
from shared.domain.usage import TokenCounts
from shared.errors import StorageError

ORG_SCOPE = "org"


class CostRollupModel(Model):
    SPEC = COST_ROLLUP

    class Meta:
        table_name = COST_ROLLUP.logical_name

    scope = UnicodeAttribute(hash_key=True)
    date = UnicodeAttribute(range_key=True)
    llm = CompressedJSONAttribute(null=True)  # agentId -> {costUsd, tokens[5], observations, unpriced: [...]}
    cloud = CompressedJSONAttribute(null=True)  # agentId -> {costUsd, byService: {service: costUsd}}


@dataclass(frozen=True)
class AgentLlmDay:
    cost: Decimal
    tokens: TokenCounts
    observations: int
    unpriced: tuple[tuple[str, int, TokenCounts], ...]  # (model, observations, tokens)


@dataclass(frozen=True)
class AgentCloudDay:
    cost: Decimal
    by_service: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class DayRollup:
    date: str
    llm: Mapping[str, AgentLlmDay]
    cloud: Mapping[str, AgentCloudDay]


def llm_json(days: Iterable[DailyLlmCost]) -> dict[str, Any]:
    return {
        day.agent_id: {
            "costUsd": day.cost,
            "tokens": list(day.tokens.as_tuple()),
            "observations": day.observations,
            "unpriced": [[u.model, u.observations, list(u.tokens.as_tuple())] for u in day.unpriced],
        }
        for day in days
    }


def _llm_domain(data: Mapping[str, Any] | None) -> dict[str, AgentLlmDay]:
    return {
        agent_id: AgentLlmDay(
            cost=Decimal(value["costUsd"]),
            tokens=TokenCounts.of([int(v) for v in value["tokens"]]),
            observations=int(value["observations"]),
            unpriced=tuple((m, int(n), TokenCounts.of([int(v) for v in t])) for m, n, t in value["unpriced"]),
        )
        for agent_id, value in (data or {}).items()
    }


def _cloud_domain(data: Mapping[str, Any] | None) -> dict[str, AgentCloudDay]:
    return {
        agent_id: AgentCloudDay(
            cost=Decimal(value["costUsd"]),
            by_service={service: Decimal(amount) for service, amount in value.get("byService", {}).items()},
        )
        for agent_id, value in (data or {}).items()
    }


def _to_domain(item: CostRollupModel) -> DayRollup:
    return DayRollup(item.date, _llm_domain(item.llm), _cloud_domain(item.cloud))


class RollupRepository:
    def llm_agents_on(self, date: str) -> set[str]:
        """Agents the stored LLM rollup of ``date`` lists (to find daily rows that must go)."""
        try:
            item = CostRollupModel.get(ORG_SCOPE, date, attributes_to_get=["scope", "date", "llm"])
        except CostRollupModel.DoesNotExist:
            return set()
        except PynamoDBException as exc:
            raise StorageError(f"could not read rollup of {date}: {exc}") from exc
        return set((item.llm or {}).keys())

    def set_llm_day(self, date: str, days: Iterable[DailyLlmCost]) -> None:
        self._set(date, CostRollupModel.llm, llm_json(days))

    def set_cloud_day(self, date: str, per_agent: Mapping[str, AgentCloudDay]) -> None:
        payload = {
            agent_id: {"costUsd": day.cost, "byService": dict(sorted(day.by_service.items()))}
            for agent_id, day in per_agent.items()
        }
        self._set(date, CostRollupModel.cloud, payload)

    def _set(self, date: str, attribute: Any, payload: dict[str, Any]) -> None:
        try:
            CostRollupModel(ORG_SCOPE, date).update(actions=[attribute.set(payload)])
        except PynamoDBException as exc:
            raise StorageError(f"could not write rollup of {date}: {exc}") from exc

    def days(self, first_date: str, last_date: str) -> list[DayRollup]:
        """Every stored day in an inclusive range, oldest first: one Query, one item per day."""
        try:
            items = CostRollupModel.query(ORG_SCOPE, CostRollupModel.date.between(first_date, last_date))
            return [_to_domain(item) for item in items]
        except PynamoDBException as exc:
            raise StorageError(f"could not read rollups {first_date}..{last_date}: {exc}") from exc


@cached_repository
def rollup_repository() -> RollupRepository:
    bind_model(CostRollupModel, get_settings())
    return RollupRepository()
