"""Public price catalogues converted into Muster price rows. Offline: only the snapshot bundled with a package.

``genai-prices`` (Pydantic's catalogue, optional extra ``catalogue``) is read from ``genai_prices.data``; its
update/refresh machinery is never called. The mapping, and what it leaves out, is recorded in docs/decisions.md:

- one row per moment a model's effective prices change (start-date constraints of prices and of service-tier
  variants); the first period starts at ``EARLIEST`` because genai-prices falls back to the first price before
  any start date;
- per-million-token text prices → per-1k (``/ 1000``, exact): input, output, cache read, cache write (5 minute),
  output reasoning; every other price key (audio, images, 1-hour cache writes, searches, requests…) is dropped;
- tiered prices ("crossing a threshold re-prices all tokens" when total input tokens exceed ``start``) → one
  usage tier per distinct threshold over the input-side buckets with operator ``gt``;
- ``service_tier`` price variants → parameter tiers (also combined with each usage threshold); variants keyed
  on anything else (batch processing, speed, route…) are skipped;
- time-of-day prices are skipped; a model with any period lacking an input or an output price is skipped;
- the match clause tree → one case-insensitive regular expression that ``re.search`` accepts exactly where
  ``ModelInfo.is_match`` does (for ASCII model names).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any, TypeAlias

from shared.domain.money import EXACT, PER_THOUSAND
from shared.domain.pricing import EARLIEST, ModelPrice, PriceTier, Rates, TierCondition
from shared.domain.usage import Bucket
from shared.errors import ConfigurationError, InvalidInputError
from shared.observability import logger

if TYPE_CHECKING:
    from genai_prices import types as gp

GENAI_PRICES = "genai-prices"
CATALOGUES = (GENAI_PRICES,)

# genai-prices price key → our bucket. Per-million-token prices of text tokens only.
PRICE_KEYS: Mapping[str, Bucket] = {
    "input_mtok": Bucket.INPUT,
    "cache_read_mtok": Bucket.CACHED_READ,
    "cache_write_mtok": Bucket.CACHE_WRITE,
    "output_mtok": Bucket.OUTPUT,
    "output_reasoning_mtok": Bucket.REASONING,
}
# genai-prices compares tier thresholds with ``usage.input_tokens``: all prompt tokens, cached or not.
THRESHOLD_BUCKETS = (Bucket.INPUT, Bucket.CACHED_READ, Bucket.CACHE_WRITE)
TIER_PARAMETER = "service_tier"

PriceValue: TypeAlias = "Decimal | gp.TieredPrices"
PriceMap: TypeAlias = "dict[str, PriceValue]"


@dataclass(frozen=True)
class CatalogueLoad:
    """The converted rows and what was left out (``skipped``: reason → count)."""

    prices: tuple[ModelPrice, ...]
    models_seen: int
    models_converted: int
    skipped: Mapping[str, int]


def load_catalogue(name: str) -> list[ModelPrice]:
    """Every price row of a named public catalogue, sorted by (provider, model, effective_from)."""
    return list(read_catalogue(name).prices)


def read_catalogue(name: str) -> CatalogueLoad:
    if name not in CATALOGUES:
        raise InvalidInputError(f"unknown price catalogue {name!r}; supported: {', '.join(CATALOGUES)}")
    try:
        from genai_prices import data
    except ImportError as exc:
        raise ConfigurationError(
            "the genai-prices catalogue needs the optional `catalogue` extra: pip install 'muster-costs[catalogue]'"
        ) from exc
    result = convert_genai_prices(data.providers)
    logger.info(
        "price catalogue loaded",
        catalogue=name,
        rows=len(result.prices),
        models_seen=result.models_seen,
        models_converted=result.models_converted,
        skipped=dict(result.skipped),
    )
    return result


def convert_genai_prices(providers: Iterable[gp.Provider]) -> CatalogueLoad:
    """Convert genai-prices providers (offline objects) into effective-dated Muster price rows."""
    skipped: Counter[str] = Counter()
    rows: list[ModelPrice] = []
    seen: set[tuple[str, str]] = set()
    models_seen = converted = 0
    for provider in providers:
        for model in provider.models:
            models_seen += 1
            if (provider.id, model.id) in seen:
                skipped["model:duplicate_id"] += 1  # genai-prices matches the first one; so do we
                continue
            seen.add((provider.id, model.id))
            model_rows = _convert_model(provider.id, model, skipped)
            if model_rows:
                converted += 1
                rows.extend(model_rows)
    rows.sort(key=lambda p: (p.provider, p.model, p.effective_from))
    return CatalogueLoad(tuple(rows), models_seen, converted, dict(sorted(skipped.items())))


def genai_match_pattern(clause: Any) -> str:
    """A case-insensitive regex that ``re.search`` matches where ``clause.is_match(name.lower())`` holds."""
    return "(?i)" + _clause_regex(clause)


def _clause_regex(clause: Any) -> str:
    from genai_prices import types as gp

    if isinstance(clause, gp.ClauseEquals):
        return rf"^{re.escape(clause.equals.lower())}\Z"
    if isinstance(clause, gp.ClauseStartsWith):
        return rf"^{re.escape(clause.starts_with.lower())}"
    if isinstance(clause, gp.ClauseEndsWith):
        return rf"{re.escape(clause.ends_with.lower())}\Z"
    if isinstance(clause, gp.ClauseContains):
        return re.escape(clause.contains.lower())
    if isinstance(clause, gp.ClauseRegex):
        return clause.regex  # Python `re` flavour, searched against the lower-cased name by genai-prices too
    if isinstance(clause, gp.ClauseOr):
        return "(?:" + "|".join(f"(?:{_clause_regex(c)})" for c in clause.or_) + ")"
    if isinstance(clause, gp.ClauseAnd):
        # Each part may match anywhere: one look-ahead per part, all from the start of the name.
        return r"(?:\A" + "".join(rf"(?=[\s\S]*?(?:{_clause_regex(c)}))" for c in clause.and_) + ")"
    raise ValueError(f"unsupported genai-prices match clause {type(clause).__name__}")


def _convert_model(provider_id: str, model: gp.ModelInfo, skipped: Counter[str]) -> list[ModelPrice]:
    from genai_prices import types as gp

    conditional = (
        [(None, model.prices)]
        if isinstance(model.prices, gp.ModelPrice)
        else [(c.constraint, c.prices) for c in model.prices]
    )
    present = {key for _, prices in conditional for key, value in vars(prices).items() if value is not None}
    for key in sorted(present - set(PRICE_KEYS)):
        skipped[f"price_key_dropped:{key}"] += 1
    timed = [(c, p) for c, p in conditional if not isinstance(c, gp.TimeOfDateConstraint)]
    if len(timed) < len(conditional):
        skipped["row:time_of_day_price"] += len(conditional) - len(timed)
    if not timed:
        skipped["model:only_time_of_day_prices" if conditional else "model:no_prices"] += 1
        return []
    try:
        pattern = genai_match_pattern(model.match)
        re.compile(pattern)
    except (ValueError, re.error):
        skipped["model:unconvertible_match"] += 1
        return []
    variants = _service_tier_variants(model.price_variants or (), skipped)
    periods = [(moment, _standard_prices(timed, moment)) for moment in _moments(timed, variants)]
    missing = {side for _, prices in periods for side in ("input", "output") if prices.get(f"{side}_mtok") is None}
    if missing:
        # Also when only one period lacks a price: a gap would stretch the previous period over it.
        skipped["model:no_token_prices" if len(missing) == 2 else f"model:no_{missing.pop()}_price"] += 1
        return []
    rows: list[ModelPrice] = []
    try:
        for moment, standard in periods:
            row = _row(provider_id, model.id, pattern, moment, standard, _variant_prices(variants, standard, moment))
            if not rows or replace(rows[-1], effective_from=moment) != row:  # else nothing changed at this moment
                rows.append(row)
    except ValueError:
        skipped["model:invalid_price"] += 1
        return []
    return rows


def _service_tier_variants(variants: Iterable[gp.PriceVariant], skipped: Counter[str]) -> list[gp.PriceVariant]:
    from genai_prices import types as gp

    kept = []
    for variant in variants:
        if set(variant.when) != {TIER_PARAMETER}:
            skipped["variant:" + ",".join(sorted(variant.when))] += 1
        elif isinstance(variant.constraint, gp.TimeOfDateConstraint):
            skipped["variant:time_of_day"] += 1
        else:
            kept.append(variant)
    return kept


def _moments(timed: Sequence[tuple[Any, gp.ModelPrice]], variants: Sequence[gp.PriceVariant]) -> list[datetime]:
    """Every moment the effective prices may change: the start of time and each start date (UTC midnight)."""
    from genai_prices import types as gp

    constraints = [c for c, _ in timed] + [v.constraint for v in variants]
    starts = {
        datetime.combine(c.start_date, time(0), UTC) for c in constraints if isinstance(c, gp.StartDateConstraint)
    }
    return sorted(starts | {EARLIEST})


def _active(constraint: Any, moment: datetime) -> bool:
    return constraint is None or bool(constraint.active(moment))


def _standard_prices(timed: Sequence[tuple[Any, gp.ModelPrice]], moment: datetime) -> PriceMap:
    """genai-prices' rule: the last price whose constraint holds, else the first one."""
    chosen = next((prices for constraint, prices in reversed(timed) if _active(constraint, moment)), timed[0][1])
    return {key: value for key in PRICE_KEYS if (value := getattr(chosen, key, None)) is not None}


def _variant_prices(variants: Sequence[gp.PriceVariant], standard: PriceMap, moment: datetime) -> dict[str, PriceMap]:
    """Per service tier: the standard prices overridden key by key by the first active variant that sets the key."""
    resolved: dict[str, PriceMap] = {}
    for variant in variants:
        if not _active(variant.constraint, moment):
            continue
        prices = resolved.setdefault(variant.when[TIER_PARAMETER], {})
        for key in PRICE_KEYS:
            value = getattr(variant.prices, key, None)
            if value is not None:
                prices.setdefault(key, value)
    merged = {tier: {**standard, **overrides} for tier, overrides in sorted(resolved.items())}
    return {tier: prices for tier, prices in merged.items() if prices != standard}  # e.g. "default": no tier


def _row(
    provider_id: str,
    model_id: str,
    pattern: str,
    moment: datetime,
    standard: PriceMap,
    variants: Mapping[str, PriceMap],
) -> ModelPrice:
    thresholds = sorted({t for prices in (standard, *variants.values()) for t in _thresholds(prices)})
    rank = {threshold: index + 1 for index, threshold in enumerate(thresholds)}
    parameter_rank = len(thresholds) + 1  # above every usage-only tier: a service tier wins, then the threshold
    tiers = [_tier(standard, None, t, rank[t]) for t in _thresholds(standard)]
    for value, prices in variants.items():
        tiers.append(_tier(prices, value, None, parameter_rank))
        tiers.extend(_tier(prices, value, t, parameter_rank + rank[t]) for t in _thresholds(prices))
    base = _rates(standard, None)
    return ModelPrice(
        provider=provider_id,
        model=model_id,
        input_per_1k=base.input,
        output_per_1k=base.output,
        cached_read_per_1k=base.cached_read,
        cache_write_per_1k=base.cache_write,
        reasoning_per_1k=base.reasoning,
        effective_from=moment,
        match_pattern=pattern,
        tiers=tuple(tiers),
    )


def _thresholds(prices: PriceMap) -> list[int]:
    from genai_prices import types as gp

    return sorted({tier.start for v in prices.values() if isinstance(v, gp.TieredPrices) for tier in v.tiers})


def _tier(prices: PriceMap, service_tier: str | None, threshold: int | None, priority: int) -> PriceTier:
    conditions = []
    names = []
    if service_tier is not None:
        conditions.append(TierCondition(kind="parameter", parameter=TIER_PARAMETER, values=(service_tier,)))
        names.append(f"{TIER_PARAMETER}={service_tier}")
    if threshold is not None:
        conditions.append(TierCondition(kind="usage", buckets=THRESHOLD_BUCKETS, operator="gt", threshold=threshold))
        names.append(f"input>{threshold}")
    return PriceTier(",".join(names), priority, tuple(conditions), _rates(prices, threshold))


def _rates(prices: PriceMap, threshold: int | None) -> Rates:
    per_bucket = {bucket: _per_1k(_at_threshold(prices.get(key), threshold)) for key, bucket in PRICE_KEYS.items()}
    input_rate, output_rate = per_bucket[Bucket.INPUT], per_bucket[Bucket.OUTPUT]
    assert input_rate is not None and output_rate is not None  # checked by the caller
    return Rates(
        input=input_rate,
        output=output_rate,
        cached_read=per_bucket[Bucket.CACHED_READ],
        cache_write=per_bucket[Bucket.CACHE_WRITE],
        reasoning=per_bucket[Bucket.REASONING],
    )


def _at_threshold(value: PriceValue | None, threshold: int | None) -> Decimal | None:
    """The price paid once total input tokens exceed ``threshold`` (``None``: below every threshold)."""
    from genai_prices import types as gp

    if not isinstance(value, gp.TieredPrices):
        return value
    price: Decimal = value.base
    for tier in sorted(value.tiers, key=lambda t: t.start):
        if threshold is not None and tier.start <= threshold:
            price = tier.price
    return price


def _per_1k(per_million: Decimal | None) -> Decimal | None:
    if per_million is None:
        return None
    if not isinstance(per_million, Decimal):
        raise ValueError(f"price is not a Decimal: {per_million!r}")
    with localcontext(EXACT):
        return per_million / PER_THOUSAND
