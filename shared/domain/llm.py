"""LLM cost rollups: observations → (trace name, hour, model, tier, price version) groups → daily rows per agent.

Cost is linear in tokens, so a group's exact cost (price × summed tokens per bucket) equals the exact sum of its
calls' costs; the aggregator therefore sums integers per call and multiplies once per group. Memory grows with
the number of groups, never with the number of observations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from shared.domain.agents import agent_for_trace
from shared.domain.money import ZERO, exact_sum
from shared.domain.pricing import STANDARD_TIER, ModelPrice, PriceBook, Rates
from shared.domain.usage import (
    ABSURD_TOKENS,
    DOUBLE_COUNT_TOLERANCE,
    TOTAL,
    UNKNOWN,
    TokenCounts,
    UsageError,
    fold_usage,
    key_plan,
)

HOUR = timedelta(hours=1)


def hour_start(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC)


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp with an offset (``Z`` included), as aware UTC. Raises ``ValueError``."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return moment.astimezone(UTC)


class HourGroup(NamedTuple):
    """Everything one hour's calls of one (trace name, model, tier, price row) add up to.

    Immutable like the other value objects, but a NamedTuple rather than a frozen dataclass: a run builds one per
    (trace name, model) and hour — 144,000 for a day of 200 agents × 30 models — and a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) costs several times a tuple's.
    """

    hour: str
    trace_name: str | None
    model: str  # the model name as Langfuse reported it
    priced: bool
    price_key: str  # provider/model of the price row; "" when unpriced
    price_version: str  # effective_from of the price row; "" when unpriced
    tier: str  # "" when unpriced
    tokens: TokenCounts
    observations: int
    unknown_tokens: int
    double_count_observations: int
    first_start: str
    last_start: str
    cost: Decimal
    fallback_tokens: int

    @property
    def date(self) -> str:
        return self.hour[:10]

    @property
    def display_model(self) -> str:
        """What reports call the model: the priced model when priced, else the raw name."""
        return self.price_key.split("/", 1)[1] if self.priced else self.model


@dataclass(frozen=True)
class AggregationStats:
    observations: int
    rejected: Mapping[str, int]
    unknown_keys: Mapping[str, int]
    duplicates: int


# Key sets the fast path may fold inline: bucket index per key, 5 for the total; none with unknown keys.
_FAST_PLANS: dict[tuple[str, ...], tuple[int, ...]] = {}


def _learn_fast_plan(usage: Any) -> None:
    keys = tuple(usage)
    if keys in _FAST_PLANS or len(_FAST_PLANS) > 10_000:
        return
    plan = key_plan(keys)
    if UNKNOWN in plan or plan.count(TOTAL) > 1:
        return  # unknown keys are counted per key, and two totals need the careful path
    _FAST_PLANS[keys] = tuple(5 if slot == TOTAL else slot for slot in plan)


# Accumulator slots (a list per group keeps the per-call path cheap).
_IN, _CR, _CW, _OUT, _RS, _UNKNOWN, _OBS, _DOUBLE, _FIRST, _LAST = range(10)


class HourAggregator:
    """Streams one hour's Langfuse rows into groups. Bad rows are counted by reason and skipped."""

    def __init__(self, book: PriceBook, hour: str) -> None:
        self.book = book
        self.hour = hour
        self._start = hour_start(hour)
        self._end = self._start + HOUR
        self._acc: dict[tuple[str | None, str, str, str, str], list[Any]] = {}
        # The fast path keys by (trace name, model) only: used when the model's price is fixed for the hour.
        self._fast: dict[tuple[str | None, str], list[Any]] = {}
        self._price_cache: dict[str, tuple[ModelPrice | None, bool, bool]] = {}
        self._prices: dict[tuple[str, str], ModelPrice] = {}
        self.observations = 0
        self.rejected: Counter[str] = Counter()
        self.unknown_keys: Counter[str] = Counter()

    def add_rows(self, rows: Iterable[Any]) -> None:
        """The hot path, kept flat on purpose: well-formed rows of models with a fixed price this hour are
        folded inline; anything else (and anything doubtful) goes through ``add``, which checks and counts."""
        hour, fast, prices, slow = self.hour, self._fast, self._price_cache, self.add
        plans, absurd, tolerance = _FAST_PLANS, ABSURD_TOKENS, 1 + DOUBLE_COUNT_TOLERANCE
        added = 0
        for row in rows:
            try:  # a missing key or a wrong type sends the row down the careful path
                model = row["model"]
                start = row["startTime"]
                usage = row["usageDetails"]
                trace = row["traceName"]
                cached = prices[model]
                plan = plans[tuple(usage)]
            except (KeyError, TypeError):
                slow(row)
                continue
            if (
                not cached[2]
                or type(usage) is not dict
                or type(start) is not str
                or not start.startswith(hour)
                or start[-1] != "Z"
                or (trace is not None and type(trace) is not str)
            ):
                slow(row)
                continue
            counts = [0, 0, 0, 0, 0, 0]
            for slot, value in zip(plan, usage.values()):  # noqa: B905 - same dict, same length
                if type(value) is not int or value < 0 or value > absurd:
                    break
                counts[slot] += value
            else:
                key = (trace or None, model)
                try:
                    acc = fast[key]
                except KeyError:
                    acc = fast[key] = [0, 0, 0, 0, 0, 0, 0, 0, start, start]
                acc[0] += counts[0]
                acc[1] += counts[1]
                acc[2] += counts[2]
                acc[3] += counts[3]
                acc[4] += counts[4]
                acc[6] += 1
                if 5 in plan and counts[0] + counts[1] + counts[2] + counts[3] + counts[4] > counts[5] * tolerance:
                    acc[7] += 1
                if start < acc[8]:
                    acc[8] = start
                elif start > acc[9]:
                    acc[9] = start
                added += 1
                continue
            slow(row)
        self.observations += added

    def add(self, row: Any) -> None:
        checked = self._check(row)
        if checked is None:
            return
        model, start, trace = checked
        usage = row.get("usageDetails")
        try:
            counts, total, unknown = fold_usage(usage)
        except UsageError as error:
            self.rejected[error.reason] += 1
            return
        _learn_fast_plan(usage)
        price, tier = self._price(model, start, counts, row.get("modelParameters"))
        key = (trace or None, model, tier, price.key if price else "", price.version if price else "")
        acc = self._acc.get(key)
        if acc is None:
            acc = self._acc[key] = [0, 0, 0, 0, 0, 0, 0, 0, start, start]
            if price is not None:
                self._prices[(price.key, price.version)] = price
        acc[_IN] += counts[0]
        acc[_CR] += counts[1]
        acc[_CW] += counts[2]
        acc[_OUT] += counts[3]
        acc[_RS] += counts[4]
        acc[_OBS] += 1
        for unknown_key, count in unknown:
            acc[_UNKNOWN] += count
            self.unknown_keys[unknown_key] += 1
        if total is not None and sum(counts) > total * (1 + DOUBLE_COUNT_TOLERANCE):
            acc[_DOUBLE] += 1
        if start < acc[_FIRST]:
            acc[_FIRST] = start
        elif start > acc[_LAST]:
            acc[_LAST] = start
        self.observations += 1

    def _check(self, row: Any) -> tuple[str, str, str | None] | None:
        """(model, start time, trace name) of a well-formed row in this hour; else count why and return None."""
        if not isinstance(row, dict):
            self.rejected["malformed_row"] += 1
            return None
        model = row.get("model") or row.get("providedModelName")
        if not isinstance(model, str) or not model.strip():
            self.rejected["missing_model"] += 1
            return None
        start = row.get("startTime")
        if not isinstance(start, str) or not self._in_hour(start):
            self.rejected["bad_start_time"] += 1
            return None
        trace = row.get("traceName")
        if trace is not None and not isinstance(trace, str):
            self.rejected["malformed_row"] += 1
            return None
        return model, start, trace

    def _in_hour(self, start: str) -> bool:
        if len(start) >= 20 and start[-1] == "Z" and start[10] == "T":
            return start.startswith(self.hour)  # canonical UTC form: a string check is enough
        try:
            moment = parse_timestamp(start)
        except ValueError:
            return False
        return self._start <= moment < self._end

    def _price(self, model: str, start: str, counts: list[int], parameters: Any) -> tuple[ModelPrice | None, str]:
        cached = self._price_cache.get(model)
        if cached is None:
            price = self.book.resolve(model, self._start)
            changes = self.book.price_changes_within(model, self._start, self._end)
            fast = not changes and (price is None or not price.tiers)
            cached = self._price_cache[model] = (price, changes, fast)
            if price is not None:
                self._prices[(price.key, price.version)] = price
        price, changes, _ = cached
        if changes:  # a new price takes effect inside this hour: each call needs its own lookup
            price = self.book.resolve(model, parse_timestamp(start))
        if price is None:
            return None, ""
        if not price.tiers:
            return price, STANDARD_TIER
        tier, _ = price.select_tier(TokenCounts.of(counts), parameters if isinstance(parameters, dict) else None)
        return price, tier

    def stats(self, duplicates: int = 0) -> AggregationStats:
        return AggregationStats(self.observations, dict(self.rejected), dict(self.unknown_keys), duplicates)

    def _merge_fast(self) -> None:
        for (trace, model), fast in self._fast.items():
            price = self._price_cache[model][0]
            key = (
                trace,
                model,
                STANDARD_TIER if price else "",
                price.key if price else "",
                price.version if price else "",
            )
            acc = self._acc.get(key)
            if acc is None:
                self._acc[key] = fast
                continue
            for slot in range(_FIRST):
                acc[slot] += fast[slot]
            acc[_FIRST] = min(acc[_FIRST], fast[_FIRST])
            acc[_LAST] = max(acc[_LAST], fast[_LAST])
        self._fast = {}

    def groups(self) -> list[HourGroup]:
        """The hour's groups, each priced once (in no particular order)."""
        self._merge_fast()
        result = []
        for (trace, model, tier, price_key, version), acc in self._acc.items():
            price = self._prices.get((price_key, version)) if price_key else None
            rates = price.rates_for_tier(tier) if price else None
            cost, fallback = rates.cost_and_fallback(acc[:5]) if rates else (ZERO, 0)
            result.append(
                HourGroup(  # positional: this runs once per group of the hour
                    self.hour,
                    trace,
                    model,
                    rates is not None,
                    price_key if rates else "",
                    version if rates else "",
                    tier if rates else "",
                    TokenCounts(acc[_IN], acc[_CR], acc[_CW], acc[_OUT], acc[_RS]),
                    acc[_OBS],
                    acc[_UNKNOWN],
                    acc[_DOUBLE],
                    acc[_FIRST],
                    acc[_LAST],
                    cost,
                    fallback,
                )
            )
        return result


def priced_group(group: HourGroup, price: ModelPrice, tier: str, rates: Rates) -> HourGroup:
    cost, fallback = rates.cost_and_fallback(group.tokens.as_tuple())
    return group._replace(
        priced=True,
        price_key=price.key,
        price_version=price.version,
        tier=tier,
        cost=cost,
        fallback_tokens=fallback,
    )


@dataclass(frozen=True)
class RepriceOutcome:
    group: HourGroup
    straddles_price_change: bool  # a price took effect between the group's first and last call
    tier_missing: bool  # the new price has no tier of the stored name: standard rates used


def reprice_group(group: HourGroup, book: PriceBook) -> RepriceOutcome:
    """Recompute a stored group's cost from its stored token counts with the prices configured now."""
    first = parse_timestamp(group.first_start)
    last = parse_timestamp(group.last_start)
    price = book.resolve(group.model, first)
    unpriced = group._replace(priced=False, price_key="", price_version="", tier="", cost=ZERO, fallback_tokens=0)
    if price is None:
        return RepriceOutcome(unpriced, False, False)
    straddles = book.price_changes_within(group.model, first, last + timedelta(microseconds=1))
    tier = group.tier or STANDARD_TIER
    rates = price.rates_for_tier(tier)
    tier_missing = rates is None
    if rates is None:
        tier, rates = STANDARD_TIER, price.rates
    return RepriceOutcome(priced_group(group, price, tier, rates), straddles, tier_missing)


@dataclass(frozen=True)
class ModelUsage:
    model: str
    priced: bool
    cost: Decimal
    tokens: TokenCounts
    observations: int
    fallback_tokens: int
    unknown_tokens: int


@dataclass(frozen=True)
class DailyLlmCost:
    """One agent's LLM day: the sum of its hour groups, never incremented."""

    agent_id: str
    date: str
    cost: Decimal
    tokens: TokenCounts
    observations: int
    by_model: tuple[ModelUsage, ...]  # priced usage per model
    unpriced: tuple[ModelUsage, ...]  # usage with no price at all (cost 0, shown, never hidden)
    fallback_tokens: int
    unknown_tokens: int
    double_count_observations: int

    @property
    def unpriced_observations(self) -> int:
        return sum(usage.observations for usage in self.unpriced)


def _model_usage(model: str, priced: bool, groups: list[HourGroup]) -> ModelUsage:
    tokens = TokenCounts()
    for group in groups:
        tokens = tokens + group.tokens
    return ModelUsage(
        model=model,
        priced=priced,
        cost=exact_sum(group.cost for group in groups),
        tokens=tokens,
        observations=sum(group.observations for group in groups),
        fallback_tokens=sum(group.fallback_tokens for group in groups),
        unknown_tokens=sum(group.unknown_tokens for group in groups),
    )


def rollup_day(date: str, groups: Iterable[HourGroup], owners: Mapping[str, str]) -> dict[str, DailyLlmCost]:
    """Daily rows per agent for one date, from every hour group of that date."""
    per_agent: dict[str, dict[tuple[bool, str], list[HourGroup]]] = {}
    for group in groups:
        if group.date != date:
            raise ValueError(f"group of {group.hour} is not on {date}")
        agent_id = agent_for_trace(owners, group.trace_name)
        per_agent.setdefault(agent_id, {}).setdefault((group.priced, group.display_model), []).append(group)
    days = {}
    for agent_id, by_model in per_agent.items():
        usages = [_model_usage(model, priced, members) for (priced, model), members in sorted(by_model.items())]
        priced = tuple(u for u in usages if u.priced)
        unpriced = tuple(u for u in usages if not u.priced)
        all_groups = [g for members in by_model.values() for g in members]
        tokens = TokenCounts()
        for usage in usages:
            tokens = tokens + usage.tokens
        days[agent_id] = DailyLlmCost(
            agent_id=agent_id,
            date=date,
            cost=exact_sum(u.cost for u in priced),
            tokens=tokens,
            observations=sum(u.observations for u in usages),
            by_model=tuple(sorted(priced, key=lambda u: (-u.cost, u.model))),
            unpriced=tuple(sorted(unpriced, key=lambda u: (-u.observations, u.model))),
            fallback_tokens=sum(u.fallback_tokens for u in usages),
            unknown_tokens=sum(u.unknown_tokens for u in usages),
            double_count_observations=sum(g.double_count_observations for g in all_groups),
        )
    return days
