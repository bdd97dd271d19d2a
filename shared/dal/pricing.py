"""MusterModelPricing: effective-dated per-1k prices per model, with optional tiers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.attributes import DecimalAttribute, ExactJSONAttribute
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import MODEL_PRICING
from shared.domain.pricing import ModelPrice, PriceTier, Rates, TierCondition
from shared.domain.usage import Bucket
from shared.errors import StorageError


class ModelPriceModel(Model):
    SPEC = MODEL_PRICING

    class Meta:
        table_name = MODEL_PRICING.logical_name

    model_key = UnicodeAttribute(hash_key=True, attr_name="modelKey")
    effective_from = UnicodeAttribute(range_key=True, attr_name="effectiveFrom")
    provider = UnicodeAttribute()
    model = UnicodeAttribute()
    match_pattern = UnicodeAttribute(null=True, attr_name="matchPattern")
    input_per_1k = DecimalAttribute(attr_name="inputPer1kUsd")
    output_per_1k = DecimalAttribute(attr_name="outputPer1kUsd")
    cached_read_per_1k = DecimalAttribute(null=True, attr_name="cachedReadPer1kUsd")
    cache_write_per_1k = DecimalAttribute(null=True, attr_name="cacheWritePer1kUsd")
    reasoning_per_1k = DecimalAttribute(null=True, attr_name="reasoningPer1kUsd")
    tiers = ExactJSONAttribute(null=True)


def _optional(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def rates_to_json(rates: Rates) -> dict[str, Any]:
    return {
        "inputPer1kUsd": rates.input,
        "outputPer1kUsd": rates.output,
        "cachedReadPer1kUsd": rates.cached_read,
        "cacheWritePer1kUsd": rates.cache_write,
        "reasoningPer1kUsd": rates.reasoning,
    }


def rates_from_json(data: dict[str, Any]) -> Rates:
    return Rates(
        input=Decimal(str(data["inputPer1kUsd"])),
        output=Decimal(str(data["outputPer1kUsd"])),
        cached_read=_optional(data.get("cachedReadPer1kUsd")),
        cache_write=_optional(data.get("cacheWritePer1kUsd")),
        reasoning=_optional(data.get("reasoningPer1kUsd")),
    )


def tiers_to_json(tiers: Iterable[PriceTier]) -> list[dict[str, Any]]:
    return [
        {
            "name": tier.name,
            "priority": tier.priority,
            "conditions": [
                {
                    "kind": c.kind,
                    "buckets": [b.field_name for b in c.buckets],
                    "operator": c.operator,
                    "threshold": c.threshold,
                    "parameter": c.parameter,
                    "values": list(c.values),
                }
                for c in tier.conditions
            ],
            **rates_to_json(tier.rates),
        }
        for tier in tiers
    ]


_BUCKET_BY_FIELD = {bucket.field_name: bucket for bucket in Bucket}


def tiers_from_json(data: list[dict[str, Any]] | None) -> tuple[PriceTier, ...]:
    return tuple(
        PriceTier(
            name=tier["name"],
            priority=int(tier["priority"]),
            conditions=tuple(
                TierCondition(
                    kind=c["kind"],
                    buckets=tuple(_BUCKET_BY_FIELD[b] for b in c.get("buckets", ())),
                    operator=c.get("operator", "gt"),
                    threshold=int(c.get("threshold", 0)),
                    parameter=c.get("parameter", ""),
                    values=tuple(c.get("values", ())),
                )
                for c in tier.get("conditions", ())
            ),
            rates=rates_from_json(tier),
        )
        for tier in data or ()
    )


def _to_domain(item: ModelPriceModel) -> ModelPrice:
    return ModelPrice(
        provider=item.provider,
        model=item.model,
        input_per_1k=item.input_per_1k,
        output_per_1k=item.output_per_1k,
        cached_read_per_1k=item.cached_read_per_1k,
        cache_write_per_1k=item.cache_write_per_1k,
        reasoning_per_1k=item.reasoning_per_1k,
        effective_from=datetime.fromisoformat(item.effective_from),
        match_pattern=item.match_pattern,
        tiers=tiers_from_json(item.tiers),
    )


def _to_item(price: ModelPrice) -> ModelPriceModel:
    return ModelPriceModel(
        price.key,
        price.version,
        provider=price.provider,
        model=price.model,
        match_pattern=price.match_pattern,
        input_per_1k=price.input_per_1k,
        output_per_1k=price.output_per_1k,
        cached_read_per_1k=price.cached_read_per_1k,
        cache_write_per_1k=price.cache_write_per_1k,
        reasoning_per_1k=price.reasoning_per_1k,
        tiers=tiers_to_json(price.tiers) if price.tiers else None,
    )


class PricingRepository:
    def list_prices(self) -> list[ModelPrice]:
        try:
            prices = [_to_domain(item) for item in ModelPriceModel.scan()]
        except PynamoDBException as exc:
            raise StorageError(f"could not read model prices: {exc}") from exc
        return sorted(prices, key=lambda p: (p.key, p.effective_from))

    def save_prices(self, prices: Iterable[ModelPrice]) -> int:
        """Upsert rows; a row with the same model and effectiveFrom is replaced."""
        written = 0
        try:
            with ModelPriceModel.batch_write() as batch:
                for price in prices:
                    batch.save(_to_item(price))
                    written += 1
        except PynamoDBException as exc:
            raise StorageError(f"could not save model prices: {exc}") from exc
        return written


@cached_repository
def pricing_repository() -> PricingRepository:
    bind_model(ModelPriceModel, get_settings())
    return PricingRepository()
