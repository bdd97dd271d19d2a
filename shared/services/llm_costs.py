"""Use cases of the LLM cost stream: aggregate a window of hours from Langfuse, rebuild daily rows, reprice."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from shared.config import Settings, get_settings
from shared.dal.agents import AgentRepository, agent_repository
from shared.dal.llm_costs import LlmCostRepository, llm_cost_repository
from shared.dal.pricing import PricingRepository, pricing_repository
from shared.dal.rollup import RollupRepository, rollup_repository
from shared.domain.agents import agent_for_trace, trace_name_owners
from shared.domain.llm import HOUR, HourAggregator, HourGroup, hour_start, reprice_group, rollup_day
from shared.domain.money import as_text, exact_sum
from shared.domain.pricing import PriceBook
from shared.errors import ConfigurationError, InvalidInputError, SourceError
from shared.observability import MetricUnit, add_dimensioned_metric, logger, metrics
from shared.sources.aws import aws_client
from shared.sources.langfuse import LangfuseClient

MAX_WINDOW_HOURS = 366 * 24


class ObservationSource(Protocol):
    def observation_pages(self, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]: ...

    @property
    def requests_made(self) -> int: ...


@dataclass(frozen=True)
class HourWindow:
    """Whole UTC hours, ``start`` inclusive, ``end`` exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.minute or self.start.second or self.start.microsecond or self.end.minute or self.end.second:
            raise InvalidInputError("a window must start and end on whole hours")
        if self.end <= self.start:
            raise InvalidInputError("a window's end must be after its start")
        if (self.end - self.start) > timedelta(hours=MAX_WINDOW_HOURS):
            raise InvalidInputError(f"a window may span at most {MAX_WINDOW_HOURS} hours")

    def hours(self) -> list[str]:
        count = int((self.end - self.start) / HOUR)
        return [(self.start + i * HOUR).strftime("%Y-%m-%dT%H") for i in range(count)]


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def parse_moment(value: Any, what: str) -> datetime:
    """An ISO date or timestamp; naive values are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"'{what}' must be an ISO date or timestamp")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(f"'{what}' is not an ISO date or timestamp: {value!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def window_from_event(event: Mapping[str, Any] | None, now: datetime, lookback_hours: int) -> HourWindow:
    """The last ``lookback_hours`` complete hours, or the event's ``{"from", "to"}`` (hours, ``to`` exclusive)."""
    event = event or {}
    if not isinstance(event, Mapping):
        raise InvalidInputError("the event must be an object")
    latest_end = floor_hour(now)
    if event.get("from") is None and event.get("to") is None:
        return HourWindow(latest_end - lookback_hours * HOUR, latest_end)
    if event.get("from") is None:
        raise InvalidInputError("'to' needs 'from'")
    start = floor_hour(parse_moment(event["from"], "from"))
    end = parse_moment(event["to"], "to") if event.get("to") is not None else latest_end
    end_hour = floor_hour(end)
    if end_hour < end:
        end_hour += HOUR  # a partial last hour is fetched whole
    return HourWindow(start, min(end_hour, latest_end))  # only complete hours


@dataclass
class RunTotals:
    hours: int = 0
    observations: int = 0
    unpriced_observations: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    unknown_keys: Counter[str] = field(default_factory=Counter)
    unpriced_models: Counter[str] = field(default_factory=Counter)
    trace_names: set[str] = field(default_factory=set)


class LlmCostService:
    """Wires the repositories the LLM use cases need; defaults are the configured DynamoDB tables."""

    def __init__(
        self,
        agents: AgentRepository | None = None,
        pricing: PricingRepository | None = None,
        costs: LlmCostRepository | None = None,
        rollups: RollupRepository | None = None,
    ) -> None:
        self.agents = agents or agent_repository()
        self.pricing = pricing or pricing_repository()
        self.costs = costs or llm_cost_repository()
        self.rollups = rollups or rollup_repository()

    def aggregate(self, window: HourWindow, source: ObservationSource) -> dict[str, Any]:
        """Fetch each hour whole, overwrite its rows, then rebuild the touched days. Re-runs change nothing."""
        started = time.monotonic()
        owners = trace_name_owners(self.agents.list_agents())
        book = PriceBook(self.pricing.list_prices())
        totals = RunTotals()
        written_before = self.costs.stats.hour_rows_written
        touched: set[str] = set()
        latest_hour_groups: list[HourGroup] = []
        failure: SourceError | None = None
        for hour in window.hours():
            aggregator = HourAggregator(book, hour)
            start = hour_start(hour)
            try:
                for page in source.observation_pages(start, start + HOUR):
                    aggregator.add_rows(page)
            except SourceError as error:
                failure = error  # this hour is not written; the next run fills it
                logger.error("langfuse fetch failed; hour left for the next run", hour=hour, error=str(error))
                break
            groups = aggregator.groups()
            self.costs.replace_hour(hour, groups)
            touched.add(hour[:10])
            latest_hour_groups = groups
            self._count(totals, aggregator, groups)
        new_agents = self._register_new_trace_names(totals, owners)
        for day in sorted(touched):
            self.rebuild_day(day, owners)
        summary = self._summary(window, source, totals, new_agents, touched, started, written_before, failure)
        self._emit_metrics(totals, latest_hour_groups, owners, failure)
        logger.info("llm cost aggregation finished", **summary)
        if failure is not None:
            raise failure
        return summary

    def _count(self, totals: RunTotals, aggregator: HourAggregator, groups: list[HourGroup]) -> None:
        totals.hours += 1
        totals.observations += aggregator.observations
        totals.rejected.update(aggregator.rejected)
        totals.unknown_keys.update(aggregator.unknown_keys)
        for group in groups:
            if not group.priced:
                totals.unpriced_observations += group.observations
                totals.unpriced_models[group.model] += group.observations
        totals.trace_names.update(g.trace_name for g in groups if g.trace_name)

    def _register_new_trace_names(self, totals: RunTotals, owners: Mapping[str, str]) -> list[str]:
        unknown = sorted(name for name in totals.trace_names if name not in owners)
        return [agent.agent_id for agent in self.agents.register_trace_names(unknown)]

    def rebuild_day(
        self, day: str, owners: Mapping[str, str] | None = None, groups: Sequence[HourGroup] | None = None
    ) -> None:
        """Rebuild every agent's daily row of ``day`` and the day's rollup from its hour rows.

        ``groups`` are all of the day's hour rows when the caller already holds them (reprice); else they are read.
        """
        if owners is None:
            owners = trace_name_owners(self.agents.list_agents())
        if groups is None:
            groups = self.costs.groups_for_date(day)
        days = rollup_day(day, groups, owners)
        previous = self.rollups.llm_agents_on(day)
        self.costs.replace_daily(day, days.values(), previous)
        self.rollups.set_llm_day(day, sorted(days.values(), key=lambda d: d.agent_id))

    def reprice(self, first_day: date, last_day: date) -> dict[str, Any]:
        """Recompute stored costs from stored token counts with today's prices; Langfuse is not asked."""
        if last_day < first_day:
            raise InvalidInputError("'to' must not be before 'from'")
        if (last_day - first_day).days > 366:
            raise InvalidInputError("reprice at most 367 days at a time")
        book = PriceBook(self.pricing.list_prices())
        owners = trace_name_owners(self.agents.list_agents())
        before: list[Decimal] = []
        after: list[Decimal] = []
        groups_repriced = straddling = tier_missing = 0
        day = first_day
        while day <= last_day:
            day_groups: list[HourGroup] = []
            for hh in range(24):
                hour = f"{day.isoformat()}T{hh:02d}"
                groups = self.costs.hour_groups(hour)
                if not groups:
                    continue
                outcomes = [reprice_group(group, book) for group in groups]
                before.extend(g.cost for g in groups)
                after.extend(o.group.cost for o in outcomes)
                straddling += sum(o.straddles_price_change for o in outcomes)
                tier_missing += sum(o.tier_missing for o in outcomes)
                groups_repriced += len(groups)
                repriced = [o.group for o in outcomes]
                self.costs.replace_hour(hour, repriced, stored=groups)
                day_groups.extend(repriced)
            self.rebuild_day(day.isoformat(), owners, day_groups)  # the day's rows are in hand: no re-read
            day += timedelta(days=1)
        summary: dict[str, Any] = {
            "from": first_day.isoformat(),
            "to": last_day.isoformat(),
            "groupsRepriced": groups_repriced,
            "costBeforeUsd": as_text(exact_sum(before)),
            "costAfterUsd": as_text(exact_sum(after)),
            "groupsStraddlingPriceChange": straddling,
            "groupsWithMissingTier": tier_missing,
        }
        logger.info("reprice finished", **summary)
        return summary

    def _summary(
        self,
        window: HourWindow,
        source: ObservationSource,
        totals: RunTotals,
        new_agents: list[str],
        touched: set[str],
        started: float,
        written_before: int,
        failure: SourceError | None,
    ) -> dict[str, Any]:
        stats = getattr(source, "stats", None)
        return {
            "window": {"from": window.start.isoformat(), "to": window.end.isoformat()},
            "status": "failed" if failure else "ok",
            "hoursWritten": totals.hours,
            "pages": getattr(stats, "pages", None),
            "requests": source.requests_made,
            "apiVersion": getattr(stats, "api_version", None),
            "observations": totals.observations,
            "duplicatesSkipped": getattr(stats, "duplicates", 0),
            "rejected": dict(sorted(totals.rejected.items())),
            "unknownUsageKeys": dict(sorted(totals.unknown_keys.items())),
            "unpricedObservations": totals.unpriced_observations,
            "unpricedModels": dict(sorted(totals.unpriced_models.items())),
            "hourRowsWritten": self.costs.stats.hour_rows_written - written_before,
            "daysRebuilt": sorted(touched),
            "newAgents": new_agents,
            "seconds": round(time.monotonic() - started, 3),
        }

    def _emit_metrics(
        self, totals: RunTotals, latest: list[HourGroup], owners: Mapping[str, str], failure: SourceError | None
    ) -> None:
        metrics.add_metric(name="ObservationsProcessed", unit=MetricUnit.Count, value=totals.observations)
        metrics.add_metric(name="RejectedObservations", unit=MetricUnit.Count, value=sum(totals.rejected.values()))
        metrics.add_metric(name="UnpricedObservations", unit=MetricUnit.Count, value=totals.unpriced_observations)
        metrics.add_metric(name="LlmAggregationFailed", unit=MetricUnit.Count, value=1 if failure else 0)
        # Cost per agent of the newest complete hour only: each hour is reported once even though the
        # trailing window re-reads it, so a SUM over time on the dashboard is not inflated.
        per_agent: dict[str, list[Decimal]] = {}
        for group in latest:
            per_agent.setdefault(agent_for_trace(owners, group.trace_name), []).append(group.cost)
        for agent_id, costs in sorted(per_agent.items()):
            # float only for the CloudWatch metric value (a dashboard figure); stored money stays Decimal
            add_dimensioned_metric("LlmCostUsd", float(exact_sum(costs)), MetricUnit.NoUnit, "agent", agent_id)


def langfuse_source(settings: Settings | None = None) -> LangfuseClient:
    """The Langfuse client, with keys from the environment (local) or Secrets Manager (AWS)."""
    settings = settings or get_settings()
    config = settings.langfuse
    public_key, secret_key = config.public_key, config.secret_key
    if not (public_key and secret_key):
        if not config.secret_name:
            raise ConfigurationError("set LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY or LANGFUSE_SECRET_NAME")
        public_key, secret_key = langfuse_keys_from_secret(config.secret_name, settings)
    return LangfuseClient(config, public_key, secret_key)


def langfuse_keys_from_secret(secret_name: str, settings: Settings) -> tuple[str, str]:
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    provider = parameters.SecretsProvider(boto3_client=aws_client("secretsmanager", settings))
    try:
        secret = provider.get(secret_name, transform="json", max_age=300)
    except (GetParameterError, TransformParameterError) as exc:
        raise ConfigurationError(f"could not read the Langfuse secret {secret_name!r}") from exc
    if not isinstance(secret, dict) or not secret.get("publicKey") or not secret.get("secretKey"):
        raise ConfigurationError(f"secret {secret_name!r} must be JSON with 'publicKey' and 'secretKey'")
    return str(secret["publicKey"]), str(secret["secretKey"])


def run_llm_aggregation(
    event: Mapping[str, Any] | None,
    now: datetime | None = None,
    source: ObservationSource | None = None,
    service: LlmCostService | None = None,
) -> dict[str, Any]:
    """The worker's one entry point: default window or the event's window, from Langfuse to daily rows."""
    settings = get_settings()
    window = window_from_event(event, now or datetime.now(UTC), settings.langfuse.lookback_hours)
    return (service or LlmCostService()).aggregate(window, source or langfuse_source(settings))
