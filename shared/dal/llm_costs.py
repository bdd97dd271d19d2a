"""MusterAgentCostHourly (hour groups) and MusterAgentCostDaily (daily rows per agent)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.attributes import DecimalAttribute, ExactJSONAttribute
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import LLM_COST_DAILY, LLM_COST_HOURLY
from shared.domain.llm import DailyLlmCost, HourGroup, ModelUsage
from shared.domain.usage import TokenCounts
from shared.errors import StorageError


class HourlyCostModel(Model):
    SPEC = LLM_COST_HOURLY

    class Meta:
        table_name = LLM_COST_HOURLY.logical_name

    hour = UnicodeAttribute(hash_key=True)
    group_key = UnicodeAttribute(range_key=True, attr_name="groupKey")
    trace_name = UnicodeAttribute(null=True, attr_name="traceName")
    model = UnicodeAttribute()
    priced = BooleanAttribute()
    price_key = UnicodeAttribute(attr_name="priceKey")
    price_version = UnicodeAttribute(attr_name="priceVersion")
    tier = UnicodeAttribute()
    tokens = ExactJSONAttribute()  # [input, cachedRead, cacheWrite, output, reasoning]
    observations = NumberAttribute()
    unknown_tokens = NumberAttribute(attr_name="unknownTokens")
    double_count_observations = NumberAttribute(attr_name="doubleCountObservations")
    first_start = UnicodeAttribute(attr_name="firstStart")
    last_start = UnicodeAttribute(attr_name="lastStart")
    cost = DecimalAttribute(attr_name="costUsd")
    fallback_tokens = NumberAttribute(attr_name="fallbackPricedTokens")


class DailyCostModel(Model):
    SPEC = LLM_COST_DAILY

    class Meta:
        table_name = LLM_COST_DAILY.logical_name

    agent_id = UnicodeAttribute(hash_key=True, attr_name="agentId")
    date = UnicodeAttribute(range_key=True)
    llm_cost = DecimalAttribute(attr_name="llmCostUsd")
    input_tokens = NumberAttribute(attr_name="inputTokens")
    cached_read_tokens = NumberAttribute(attr_name="cachedReadTokens")
    cache_write_tokens = NumberAttribute(attr_name="cacheWriteTokens")
    output_tokens = NumberAttribute(attr_name="outputTokens")
    reasoning_tokens = NumberAttribute(attr_name="reasoningTokens")
    observations = NumberAttribute()
    by_model = ExactJSONAttribute(attr_name="byModel")
    unpriced = ExactJSONAttribute()
    fallback_tokens = NumberAttribute(attr_name="fallbackPricedTokens")
    unknown_tokens = NumberAttribute(attr_name="unknownTokens")
    double_count_observations = NumberAttribute(attr_name="doubleCountObservations")


def group_key(group: HourGroup) -> str:
    """Collision-free sort key: JSON of the identifying fields (trace names may contain any character)."""
    return json.dumps([group.trace_name, group.model, group.tier, group.price_key, group.price_version])


def _group_item(group: HourGroup) -> HourlyCostModel:
    return HourlyCostModel(
        group.hour,
        group_key(group),
        trace_name=group.trace_name,
        model=group.model,
        priced=group.priced,
        price_key=group.price_key,
        price_version=group.price_version,
        tier=group.tier,
        tokens=list(group.tokens.as_tuple()),
        observations=group.observations,
        unknown_tokens=group.unknown_tokens,
        double_count_observations=group.double_count_observations,
        first_start=group.first_start,
        last_start=group.last_start,
        cost=group.cost,
        fallback_tokens=group.fallback_tokens,
    )


def _group_domain(item: HourlyCostModel) -> HourGroup:
    return HourGroup(
        hour=item.hour,
        trace_name=item.trace_name,
        model=item.model,
        priced=bool(item.priced),
        price_key=item.price_key,
        price_version=item.price_version,
        tier=item.tier,
        tokens=TokenCounts.of([int(v) for v in item.tokens]),
        observations=int(item.observations),
        unknown_tokens=int(item.unknown_tokens),
        double_count_observations=int(item.double_count_observations),
        first_start=item.first_start,
        last_start=item.last_start,
        cost=item.cost,
        fallback_tokens=int(item.fallback_tokens),
    )


def _usage_json(usage: ModelUsage) -> dict[str, Any]:
    return {
        "model": usage.model,
        "costUsd": usage.cost,
        "tokens": list(usage.tokens.as_tuple()),
        "observations": usage.observations,
        "fallbackPricedTokens": usage.fallback_tokens,
        "unknownTokens": usage.unknown_tokens,
    }


def _usage_domain(data: dict[str, Any], priced: bool) -> ModelUsage:
    from decimal import Decimal

    return ModelUsage(
        model=data["model"],
        priced=priced,
        cost=Decimal(data["costUsd"]),
        tokens=TokenCounts.of([int(v) for v in data["tokens"]]),
        observations=int(data["observations"]),
        fallback_tokens=int(data["fallbackPricedTokens"]),
        unknown_tokens=int(data["unknownTokens"]),
    )


def _daily_item(day: DailyLlmCost) -> DailyCostModel:
    return DailyCostModel(
        day.agent_id,
        day.date,
        llm_cost=day.cost,
        input_tokens=day.tokens.input,
        cached_read_tokens=day.tokens.cached_read,
        cache_write_tokens=day.tokens.cache_write,
        output_tokens=day.tokens.output,
        reasoning_tokens=day.tokens.reasoning,
        observations=day.observations,
        by_model=[_usage_json(u) for u in day.by_model],
        unpriced=[_usage_json(u) for u in day.unpriced],
        fallback_tokens=day.fallback_tokens,
        unknown_tokens=day.unknown_tokens,
        double_count_observations=day.double_count_observations,
    )


def _daily_domain(item: DailyCostModel) -> DailyLlmCost:
    return DailyLlmCost(
        agent_id=item.agent_id,
        date=item.date,
        cost=item.llm_cost,
        tokens=TokenCounts(
            int(item.input_tokens),
            int(item.cached_read_tokens),
            int(item.cache_write_tokens),
            int(item.output_tokens),
            int(item.reasoning_tokens),
        ),
        observations=int(item.observations),
        by_model=tuple(_usage_domain(u, True) for u in item.by_model),
        unpriced=tuple(_usage_domain(u, False) for u in item.unpriced),
        fallback_tokens=int(item.fallback_tokens),
        unknown_tokens=int(item.unknown_tokens),
        double_count_observations=int(item.double_count_observations),
    )


@dataclass
class WriteStats:
    """Items written and deleted by this repository instance (the benchmark and run summaries read it)."""

    hour_rows_written: int = 0
    hour_rows_deleted: int = 0
    daily_rows_written: int = 0
    daily_rows_deleted: int = 0


class LlmCostRepository:
    def __init__(self) -> None:
        self.stats = WriteStats()

    def hour_groups(self, hour: str) -> list[HourGroup]:
        try:
            return [_group_domain(item) for item in HourlyCostModel.query(hour)]
        except PynamoDBException as exc:
            raise StorageError(f"could not read hour {hour}: {exc}") from exc

    def groups_for_date(self, date: str) -> list[HourGroup]:
        """Every hour group of one UTC date (24 partition queries)."""
        return [group for hh in range(24) for group in self.hour_groups(f"{date}T{hh:02d}")]

    def replace_hour(self, hour: str, groups: Sequence[HourGroup], stored: Sequence[HourGroup] | None = None) -> None:
        """Make the stored rows of ``hour`` exactly ``groups``: overwrite, never increment; drop stale rows.

        ``stored`` are the hour's rows as the caller just read them (reprice); without them their keys are read.
        """
        wanted = {group_key(group): group for group in groups}
        try:
            if stored is None:
                items = HourlyCostModel.query(hour, attributes_to_get=["hour", "groupKey"])
                existing = {item.group_key for item in items}
            else:
                existing = {group_key(group) for group in stored}
            with HourlyCostModel.batch_write() as batch:
                for group in wanted.values():
                    batch.save(_group_item(group))
                for key in existing - wanted.keys():
                    batch.delete(HourlyCostModel(hour, key))
                    self.stats.hour_rows_deleted += 1
        except PynamoDBException as exc:
            raise StorageError(f"could not write hour {hour}: {exc}") from exc
        self.stats.hour_rows_written += len(wanted)

    def replace_daily(self, date: str, days: Iterable[DailyLlmCost], previous_agents: Iterable[str]) -> None:
        """Write each agent's row for ``date`` and delete rows of agents that no longer have usage that day."""
        days = list(days)
        current = {day.agent_id for day in days}
        try:
            with DailyCostModel.batch_write() as batch:
                for day in days:
                    batch.save(_daily_item(day))
                for agent_id in set(previous_agents) - current:
                    batch.delete(DailyCostModel(agent_id, date))
                    self.stats.daily_rows_deleted += 1
        except PynamoDBException as exc:
            raise StorageError(f"could not write daily rows of {date}: {exc}") from exc
        self.stats.daily_rows_written += len(days)

    def daily_for_agent(self, agent_id: str, first_date: str, last_date: str) -> list[DailyLlmCost]:
        """One agent's daily rows over an inclusive date range, oldest first (one Query)."""
        try:
            items = DailyCostModel.query(agent_id, DailyCostModel.date.between(first_date, last_date))
            return [_daily_domain(item) for item in items]
        except PynamoDBException as exc:
            raise StorageError(f"could not read daily costs of {agent_id!r}: {exc}") from exc


@cached_repository
def llm_cost_repository() -> LlmCostRepository:
    settings = get_settings()
    bind_model(HourlyCostModel, settings)
    bind_model(DailyCostModel, settings)
    return LlmCostRepository()
