"""Model prices: effective-dated per-1k rates per bucket, pricing tiers, and model-name matching.

An observation is priced by the row whose pattern matches its model and whose ``effective_from`` is the
newest at or before the observation's start time. Nothing here guesses: no match means *unpriced*.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from shared.domain.money import EXACT, exact_sum, per_thousand_cost
from shared.domain.usage import BUCKETS, Bucket, TokenCounts

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
STANDARD_TIER = "Standard"
COMPARISONS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}
BEDROCK_REGION_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")
PROVIDER_PREFIXES = (
    "openai/",
    "anthropic/",
    "bedrock/",
    "azure/",
    "vertex_ai/",
    "vertex/",
    "google/",
    "gemini/",
    "models/",
    "mistral/",
    "groq/",
    "openrouter/",
)
BEDROCK_PROVIDERS = ("anthropic.", "amazon.", "meta.", "mistral.", "cohere.", "ai21.", "deepseek.", "openai.", "qwen.")
BEDROCK_ARN = re.compile(
    r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:(?:foundation-model|inference-profile|provisioned-model|"
    r"application-inference-profile|custom-model|imported-model)/(?P<resource>.+)$"
)
BEDROCK_VERSION_SUFFIX = re.compile(r"-v\d+(?::\d+)?$|:\d+$")


@dataclass(frozen=True)
class Rates:
    """USD per 1,000 tokens. A bucket without its own price is priced at its side's base rate (flagged)."""

    input: Decimal
    output: Decimal
    cached_read: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None

    def own_rate(self, bucket: Bucket) -> Decimal | None:
        return (self.input, self.cached_read, self.cache_write, self.output, self.reasoning)[bucket]

    def rate(self, bucket: Bucket) -> tuple[Decimal, bool]:
        """The rate for a bucket and whether it fell back to the base rate of its side."""
        own = self.own_rate(bucket)
        if own is not None:
            return own, False
        return (self.input if bucket.is_input_side else self.output), True

    @cached_property
    def _effective(self) -> tuple[tuple[Decimal, bool], ...]:
        return tuple(self.rate(bucket) for bucket in BUCKETS)

    @cached_property
    def _scaled(self) -> tuple[int, tuple[tuple[int, bool], ...]]:
        """The five effective rates as integers over one common power of ten (exact: the smallest exponent)."""
        exponent = min(int(rate.as_tuple().exponent) for rate, _ in self._effective)
        return exponent, tuple((int(rate.scaleb(-exponent, EXACT)), fallback) for rate, fallback in self._effective)

    def cost_and_fallback(self, counts: Sequence[int]) -> tuple[Decimal, int]:
        """Exact cost of per-bucket token counts and how many tokens were priced at a fallback rate.

        The lean twin of ``cost_of`` for hot loops (one call per group): the same rates, summed as integers over
        a common power of ten and turned into one Decimal, so nothing rounds and nothing is slow.
        """
        exponent, scaled = self._scaled
        total = 0
        fallback = 0
        for count, (rate, is_fallback) in zip(counts, scaled):  # noqa: B905 - five buckets each
            if count:
                total += count * rate
                if is_fallback:
                    fallback += count
        return Decimal(total).scaleb(exponent - 3, EXACT), fallback


@dataclass(frozen=True)
class TierCondition:
    """``usage``: the summed tokens of ``buckets`` compared with ``threshold`` (one call's usage).
    ``parameter``: a model parameter (e.g. ``service_tier``) whose value is one of ``values``."""

    kind: Literal["usage", "parameter"]
    buckets: tuple[Bucket, ...] = ()
    operator: str = "gt"
    threshold: int = 0
    parameter: str = ""
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "usage" and (not self.buckets or self.operator not in COMPARISONS):
            raise ValueError("a usage condition needs buckets and one of " + ", ".join(COMPARISONS))
        if self.kind == "parameter" and (not self.parameter or not self.values):
            raise ValueError("a parameter condition needs a parameter name and values")

    def holds(self, tokens: TokenCounts, parameters: Mapping[str, Any] | None) -> bool:
        if self.kind == "usage":
            used = sum(tokens.get(bucket) for bucket in self.buckets)
            return bool(COMPARISONS[self.operator](used, self.threshold))
        value = (parameters or {}).get(self.parameter)
        return value is not None and str(value) in self.values


@dataclass(frozen=True)
class PriceTier:
    name: str
    priority: int
    conditions: tuple[TierCondition, ...]
    rates: Rates

    def applies(self, tokens: TokenCounts, parameters: Mapping[str, Any] | None) -> bool:
        return all(condition.holds(tokens, parameters) for condition in self.conditions)


@dataclass(frozen=True)
class ModelPrice:
    provider: str
    model: str
    input_per_1k: Decimal
    output_per_1k: Decimal
    cached_read_per_1k: Decimal | None = None
    cache_write_per_1k: Decimal | None = None
    reasoning_per_1k: Decimal | None = None
    effective_from: datetime = EARLIEST
    match_pattern: str | None = None
    tiers: tuple[PriceTier, ...] = ()

    def __post_init__(self) -> None:
        if not self.provider or not self.model:
            raise ValueError("a price needs a provider and a model")
        if self.effective_from.tzinfo is None:
            raise ValueError("effective_from must be timezone-aware (UTC)")
        for name in ("input_per_1k", "output_per_1k", "cached_read_per_1k", "cache_write_per_1k", "reasoning_per_1k"):
            value = getattr(self, name)
            if value is not None and (not value.is_finite() or value < 0):
                raise ValueError(f"{name} must be a non-negative decimal, got {value}")
        re.compile(self.pattern)

    @cached_property
    def key(self) -> str:
        """The stored identity of this model's price schedule."""
        return f"{self.provider}/{self.model}"

    @property
    def pattern(self) -> str:
        if self.match_pattern:
            return self.match_pattern
        return rf"(?i)^(?:{re.escape(self.provider)}/)?{re.escape(self.model)}$"

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    @cached_property
    def rates(self) -> Rates:
        return Rates(
            self.input_per_1k,
            self.output_per_1k,
            self.cached_read_per_1k,
            self.cache_write_per_1k,
            self.reasoning_per_1k,
        )

    @cached_property
    def version(self) -> str:
        return self.effective_from.strftime("%Y-%m-%dT%H:%M:%SZ")

    def select_tier(self, tokens: TokenCounts, parameters: Mapping[str, Any] | None) -> tuple[str, Rates]:
        """The highest-priority tier whose conditions all hold, else the standard rates."""
        for tier in sorted(self.tiers, key=lambda t: -t.priority):
            if tier.applies(tokens, parameters):
                return tier.name, tier.rates
        return STANDARD_TIER, self.rates

    def rates_for_tier(self, tier_name: str) -> Rates | None:
        if tier_name == STANDARD_TIER:
            return self.rates
        return next((tier.rates for tier in self.tiers if tier.name == tier_name), None)


@dataclass(frozen=True)
class BucketCost:
    bucket: Bucket
    tokens: int
    rate_per_1k: Decimal
    cost: Decimal
    fallback: bool  # priced at its side's base rate because it has no price of its own


@dataclass(frozen=True)
class Cost:
    parts: tuple[BucketCost, ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return exact_sum(part.cost for part in self.parts)

    @property
    def fallback_tokens(self) -> int:
        return sum(part.tokens for part in self.parts if part.fallback)

    @property
    def fallback_buckets(self) -> tuple[Bucket, ...]:
        return tuple(part.bucket for part in self.parts if part.fallback)


def cost_of(rates: Rates, tokens: TokenCounts) -> Cost:
    """Exact cost of token counts at per-1k rates. Linear, so a group's cost is the sum of its calls' costs."""
    parts = []
    for bucket, count in zip(BUCKETS, tokens.as_tuple(), strict=True):
        if count:
            rate, fallback = rates.rate(bucket)
            parts.append(BucketCost(bucket, count, rate, per_thousand_cost(count, rate), fallback))
    return Cost(tuple(parts))


def model_name_candidates(raw: str) -> tuple[str, ...]:
    """The raw model name, then normalized forms: ARN resource, no region prefix, no provider, no version.

    Patterns are tried against each in order, so a custom pattern written for a full ARN still wins.
    """
    candidates = [raw]
    name = raw.strip()
    arn = BEDROCK_ARN.match(name)
    if arn:
        name = arn.group("resource")
        candidates.append(name)
    lowered = name.lower()
    for prefix in PROVIDER_PREFIXES:
        if lowered.startswith(prefix):
            name = name[len(prefix) :]
            candidates.append(name)
            lowered = name.lower()
            break
    for prefix in BEDROCK_REGION_PREFIXES:
        if lowered.startswith(prefix):
            name = name[len(prefix) :]
            candidates.append(name)
            lowered = name.lower()
            break
    for prefix in BEDROCK_PROVIDERS:
        if lowered.startswith(prefix):
            name = name[len(prefix) :]
            candidates.append(name)
            break
    unversioned = BEDROCK_VERSION_SUFFIX.sub("", name)
    if unversioned != name:
        candidates.append(unversioned)
    return tuple(dict.fromkeys(c for c in candidates if c))


class PriceBook:
    """All configured prices, resolved by model name and time. Lookups are cached per raw model name."""

    def __init__(self, prices: Iterable[ModelPrice]) -> None:
        schedules: dict[str, list[ModelPrice]] = {}
        for price in prices:
            schedules.setdefault(price.key, []).append(price)
        self._schedules = {key: sorted(rows, key=lambda p: p.effective_from) for key, rows in schedules.items()}
        self._starts = {key: [p.effective_from for p in rows] for key, rows in self._schedules.items()}
        self._match_cache: dict[str, str | None] = {}

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._schedules.values())

    def match(self, raw_model: str) -> str | None:
        if raw_model in self._match_cache:
            return self._match_cache[raw_model]
        found = self._find(raw_model)
        self._match_cache[raw_model] = found
        return found

    def _find(self, raw_model: str) -> str | None:
        for candidate in model_name_candidates(raw_model):
            matches = []
            for key, rows in self._schedules.items():
                newest = rows[-1]
                if any(row.compiled.search(candidate) for row in rows):
                    exact = newest.model.lower() == candidate.lower()
                    matches.append((not exact, -len(newest.pattern), key))
            if matches:
                return min(matches)[2]
        return None

    def resolve(self, raw_model: str, at: datetime) -> ModelPrice | None:
        """The price in force at ``at``: the newest row of the matching model with effective_from <= at."""
        key = self.match(raw_model)
        if key is None:
            return None
        index = bisect_right(self._starts[key], at)
        return self._schedules[key][index - 1] if index else None

    def price_changes_within(self, raw_model: str, start: datetime, end: datetime) -> bool:
        """Whether a new row takes effect strictly inside (start, end): then each call needs its own lookup."""
        key = self.match(raw_model)
        if key is None:
            return False
        return any(start < moment < end for moment in self._starts[key])

    def resolve_key(self, key: str, at: datetime) -> ModelPrice | None:
        starts = self._starts.get(key)
        if not starts:
            return None
        index = bisect_right(starts, at)
        return self._schedules[key][index - 1] if index else None


def observation_cost(
    book: PriceBook, raw_model: str, at: datetime, tokens: TokenCounts, parameters: Mapping[str, Any] | None = None
) -> tuple[ModelPrice, str, Cost] | None:
    """One call's exact cost: the price in force, the tier chosen, and the per-bucket cost. None if unpriced."""
    price = book.resolve(raw_model, at)
    if price is None:
        return None
    tier, rates = price.select_tier(tokens, parameters)
    return price, tier, cost_of(rates, tokens)
