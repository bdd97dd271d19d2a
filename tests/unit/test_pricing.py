"""Price resolution, tiers, name normalization, and Langfuse's reference cost cases to the last digit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.domain.pricing import (
    STANDARD_TIER,
    ModelPrice,
    PriceBook,
    PriceTier,
    Rates,
    TierCondition,
    cost_of,
    model_name_candidates,
    observation_cost,
)
from shared.domain.usage import Bucket, TokenCounts, normalize_usage

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def per_1k(per_token: str) -> Decimal:
    """Langfuse prices are USD per token; ours are per 1,000 tokens."""
    return Decimal(per_token) * 1000


def price(model: str, inp: str, out: str, **kwargs: object) -> ModelPrice:
    return ModelPrice(
        provider=str(kwargs.pop("provider", "openai")),
        model=model,
        input_per_1k=Decimal(inp),
        output_per_1k=Decimal(out),
        **kwargs,  # type: ignore[arg-type]
    )


# --- Langfuse reference cases (research/langfuse.md §3.6), prices converted to per-1k -------------------------


def test_reference_case_6_gpt_4o_mini() -> None:
    book = PriceBook([price("gpt-4o-mini-2024-07-18", str(per_1k("1.5e-7")), str(per_1k("6e-7")))])
    result = observation_cost(book, "gpt-4o-mini-2024-07-18", T0, normalize_usage({"input": 1295, "output": 18}).tokens)
    assert result is not None
    _, _, cost = result
    assert cost.total == Decimal("0.00020505")
    assert [part.cost for part in cost.parts] == [Decimal("0.00019425"), Decimal("0.0000108")]


LARGE_CONTEXT = PriceTier(
    name="Large Context",
    priority=1,
    conditions=(
        TierCondition("usage", buckets=(Bucket.INPUT, Bucket.CACHED_READ, Bucket.CACHE_WRITE), threshold=200000),
    ),
    rates=Rates(per_1k("6e-6"), per_1k("1.5e-5")),
)
TIERED = price(
    "claude-sonnet-4-5", str(per_1k("3e-6")), str(per_1k("1.5e-5")), provider="anthropic", tiers=(LARGE_CONTEXT,)
)


@pytest.mark.parametrize(
    ("case", "input_tokens", "output_tokens", "tier", "total"),
    [
        (8, 100000, 2000, STANDARD_TIER, Decimal("0.33")),
        (9, 250000, 2000, "Large Context", Decimal("1.53")),
        (10, 200000, 100, STANDARD_TIER, Decimal("0.6015")),  # "gt" is strict: exactly 200k stays standard
    ],
)
def test_reference_cases_8_to_10_large_context_tier(
    case: int, input_tokens: int, output_tokens: int, tier: str, total: Decimal
) -> None:
    book = PriceBook([TIERED])
    result = observation_cost(book, "claude-sonnet-4-5", T0, TokenCounts(input=input_tokens, output=output_tokens))
    assert result is not None
    _, chosen, cost = result
    assert (chosen, cost.total) == (tier, total), f"case {case}"
    if case == 10:
        assert cost.parts[0].cost == Decimal("0.6")


def test_reference_case_11_service_tier_priority() -> None:
    priority = PriceTier(
        "Priority",
        1,
        (TierCondition("parameter", parameter="service_tier", values=("priority",)),),
        Rates(per_1k("1.25e-5"), per_1k("7.5e-5")),
    )
    book = PriceBook([price("gpt-5", str(per_1k("5e-6")), str(per_1k("3e-5")), tiers=(priority,))])
    result = observation_cost(book, "gpt-5", T0, TokenCounts(input=12, output=21), {"service_tier": "priority"})
    assert result is not None and result[1] == "Priority"
    assert result[2].total == Decimal("0.001725")
    standard = observation_cost(book, "gpt-5", T0, TokenCounts(input=12, output=21), {"service_tier": "default"})
    assert standard is not None and standard[1] == STANDARD_TIER


def test_reference_case_12_openai_usage_on_the_default_list() -> None:
    book = PriceBook([price("gpt-3.5-turbo-0125", str(per_1k("5e-7")), str(per_1k("1.5e-6")))])
    usage = normalize_usage({"prompt_tokens": 1957, "completion_tokens": 80, "total_tokens": 2037})
    result = observation_cost(book, "gpt-3.5-turbo-0125", T0, usage.tokens)
    assert result is not None and result[2].total == Decimal("0.0010985")


def test_reference_case_13_claude_opus_cache_read_and_write() -> None:
    opus = price(
        "claude-opus-4-5",
        str(per_1k("5e-6")),
        str(per_1k("2.5e-5")),
        provider="anthropic",
        cached_read_per_1k=per_1k("5e-7"),
        cache_write_per_1k=per_1k("6.25e-6"),
    )
    usage = normalize_usage(
        {
            "input": 2,
            "output": 13,
            "cache_read_input_tokens": 10692,
            "cache_creation_input_tokens": 592,
            "total": 11299,
        }
    )
    result = observation_cost(PriceBook([opus]), "claude-opus-4-5", T0, usage.tokens)
    assert result is not None
    cost = result[2]
    by_bucket = {part.bucket: part.cost for part in cost.parts}
    assert by_bucket == {
        Bucket.INPUT: Decimal("0.00001"),
        Bucket.OUTPUT: Decimal("0.000325"),
        Bucket.CACHED_READ: Decimal("0.005346"),
        Bucket.CACHE_WRITE: Decimal("0.0037"),
    }
    assert cost.total == Decimal("0.009381")
    assert cost.fallback_tokens == 0
    assert not usage.likely_double_count


# --- effective dates -------------------------------------------------------------------------------------------


def test_newest_row_at_or_before_the_start_time_wins() -> None:
    old = price("gpt-4o", "0.005", "0.015", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    new = price("gpt-4o", "0.0025", "0.01", effective_from=datetime(2026, 3, 1, 12, tzinfo=UTC))
    book = PriceBook([new, old])
    assert book.resolve("gpt-4o", datetime(2026, 3, 1, 11, 59, 59, 999999, tzinfo=UTC)) == old
    assert book.resolve("gpt-4o", datetime(2026, 3, 1, 12, tzinfo=UTC)) == new  # boundary is inclusive
    assert book.resolve("gpt-4o", datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) is None  # before any price: unpriced
    assert (
        book.price_changes_within("gpt-4o", datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 1, 13, tzinfo=UTC))
        is False
    )
    assert (
        book.price_changes_within("gpt-4o", datetime(2026, 3, 1, 11, tzinfo=UTC), datetime(2026, 3, 1, 13, tzinfo=UTC))
        is True
    )


def test_a_model_without_any_price_is_unpriced_not_free() -> None:
    assert observation_cost(PriceBook([price("gpt-4o", "1", "1")]), "my-finetune", T0, TokenCounts(input=5)) is None


# --- matching ----------------------------------------------------------------------------------------------------

SONNET = price(
    "claude-3-5-sonnet-20240620",
    "0.003",
    "0.015",
    provider="anthropic",
)


@pytest.mark.parametrize(
    "reported",
    [
        "claude-3-5-sonnet-20240620",
        "anthropic/claude-3-5-sonnet-20240620",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "eu.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "apac.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "global.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "CLAUDE-3-5-SONNET-20240620",
    ],
)
def test_bedrock_and_provider_forms_normalize_to_the_priced_model(reported: str) -> None:
    assert PriceBook([SONNET]).resolve(reported, T0) == SONNET


def test_an_application_inference_profile_arn_needs_its_own_pattern() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5"
    assert PriceBook([SONNET]).resolve(arn, T0) is None
    custom = price("support-agent-profile", "0.003", "0.015", provider="bedrock", match_pattern=r"a1b2c3d4e5$")
    assert PriceBook([SONNET, custom]).resolve(arn, T0) == custom


def test_an_exact_model_beats_a_broader_pattern() -> None:
    mini = price("gpt-4o-mini", "0.00015", "0.0006")
    broad = price("gpt-4o", "0.0025", "0.01", match_pattern=r"(?i)^gpt-4o")
    book = PriceBook([broad, mini])
    assert book.resolve("gpt-4o-mini", T0) == mini
    assert book.resolve("gpt-4o-2024-08-06", T0) == broad


def test_candidates_keep_the_raw_name_first() -> None:
    assert model_name_candidates("us.anthropic.claude-x-v1:0") == (
        "us.anthropic.claude-x-v1:0",
        "anthropic.claude-x-v1:0",
        "claude-x-v1:0",
        "claude-x",
    )


# --- buckets without their own price ----------------------------------------------------------------------------


def test_a_bucket_without_its_own_price_uses_its_side_base_rate_and_is_flagged() -> None:
    rates = Rates(input=Decimal("0.002"), output=Decimal("0.008"))  # no cached/reasoning price configured
    cost = cost_of(rates, TokenCounts(input=1000, cached_read=1000, output=1000, reasoning=2000))
    assert cost.total == Decimal("0.002") * 2 + Decimal("0.008") * 3
    assert cost.fallback_tokens == 3000
    assert set(cost.fallback_buckets) == {Bucket.CACHED_READ, Bucket.REASONING}


def test_prices_must_be_valid() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        price("m", "-1", "1")
    with pytest.raises(ValueError, match="timezone-aware"):
        price("m", "1", "1", effective_from=datetime(2026, 1, 1))
