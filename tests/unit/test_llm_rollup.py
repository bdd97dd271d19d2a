"""Hour aggregation and daily rollups: exact sums, bad rows counted, properties over random observations."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.agents import UNATTRIBUTED
from shared.domain.llm import HourAggregator, reprice_group, rollup_day
from shared.domain.money import exact_sum
from shared.domain.pricing import ModelPrice, PriceBook, PriceTier, Rates, TierCondition, observation_cost
from shared.domain.usage import Bucket, normalize_usage

HOUR = "2026-03-18T14"
BOOK = PriceBook(
    [
        ModelPrice("openai", "gpt-4o", Decimal("0.0025"), Decimal("0.01"), cached_read_per_1k=Decimal("0.00125")),
        ModelPrice(
            "anthropic",
            "claude-sonnet-4-5",
            Decimal("0.003"),
            Decimal("0.015"),
            cached_read_per_1k=Decimal("0.0003"),
            cache_write_per_1k=Decimal("0.00375"),
            tiers=(
                PriceTier(
                    "Large Context",
                    1,
                    (TierCondition("usage", buckets=(Bucket.INPUT, Bucket.CACHED_READ), threshold=200000),),
                    Rates(Decimal("0.006"), Decimal("0.0225")),
                ),
            ),
        ),
        ModelPrice("openai", "o3", Decimal("0.002"), Decimal("0.008")),  # no reasoning price: falls back, flagged
    ]
)


def row(i: int, trace: str | None, model: str, usage: dict[str, Any], minute: int = 5, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"obs-{i}",
        "traceId": f"trace-{i}",
        "type": "GENERATION",
        "startTime": f"{HOUR}:{minute:02d}:00.000Z",
        "traceName": trace,
        "model": model,
        "usageDetails": usage,
        **extra,
    }


def test_groups_carry_exact_costs_and_flags() -> None:
    agg = HourAggregator(BOOK, HOUR)
    agg.add_rows(
        [
            row(1, "support", "gpt-4o", {"input": 1200, "input_cached_tokens": 800, "output": 350, "total": 2350}),
            row(2, "support", "gpt-4o", {"input": 100, "output": 10}),
            row(3, "planner", "o3", {"input": 3000, "output": 500, "output_reasoning_tokens": 2000}),
            row(4, "planner", "my-finetune", {"input": 10, "output": 5}),
            row(5, None, "gpt-4o", {"input": 1, "output": 1}),
        ]
    )
    groups = {(g.trace_name, g.model): g for g in agg.groups()}
    support = groups[("support", "gpt-4o")]
    assert support.observations == 2
    assert (
        support.cost
        == Decimal("1300") * Decimal("0.0025") / 1000
        + Decimal("800") * Decimal("0.00125") / 1000
        + Decimal("360") * Decimal("0.01") / 1000
    )
    planner = groups[("planner", "o3")]
    assert planner.fallback_tokens == 2000  # reasoning priced at the output rate, and flagged
    assert planner.cost == Decimal("0.006") + Decimal("0.004") + Decimal("0.016")
    unpriced = groups[("planner", "my-finetune")]
    assert (unpriced.priced, unpriced.cost, unpriced.tokens.total) == (False, Decimal(0), 15)
    assert groups[(None, "gpt-4o")].observations == 1


def test_bad_rows_are_counted_by_reason_and_the_rest_goes_on() -> None:
    agg = HourAggregator(BOOK, HOUR)
    agg.add_rows(
        [
            "not a row",
            row(1, "a", "", {"input": 1}),
            row(2, "a", "gpt-4o", {}),
            row(3, "a", "gpt-4o", {"input": -5}),
            row(4, "a", "gpt-4o", {"input": 2.5}),
            row(5, "a", "gpt-4o", {"input": 10**10}),
            {**row(6, "a", "gpt-4o", {"input": 1}), "startTime": "2026-03-18T15:00:00.000Z"},  # outside the hour
            {**row(7, "a", "gpt-4o", {"input": 1}), "startTime": "yesterday"},
            row(8, "a", "gpt-4o", {"input": 4, "output": 1, "input_audio_tokens": 9}),
        ]
    )
    assert dict(agg.rejected) == {
        "malformed_row": 1,
        "missing_model": 1,
        "missing_usage": 1,
        "negative_tokens": 1,
        "non_integer_tokens": 1,
        "absurd_tokens": 1,
        "bad_start_time": 2,
    }
    assert agg.observations == 1
    assert dict(agg.unknown_keys) == {"input_audio_tokens": 1}
    (group,) = agg.groups()
    assert group.unknown_tokens == 9


def test_offset_timestamps_are_read_in_utc() -> None:
    agg = HourAggregator(BOOK, HOUR)
    agg.add({**row(1, "a", "gpt-4o", {"input": 1000}), "startTime": "2026-03-18T16:30:00+02:00"})
    agg.add({**row(2, "a", "gpt-4o", {"input": 1000}), "startTime": "2026-03-18T14:30:00+02:00"})  # 12:30 UTC
    assert agg.observations == 1
    assert agg.rejected["bad_start_time"] == 1


def test_a_price_change_inside_the_hour_prices_each_call_by_its_own_time() -> None:
    book = PriceBook(
        [
            ModelPrice("openai", "gpt-4o", Decimal("0.01"), Decimal("0.01")),
            ModelPrice(
                "openai",
                "gpt-4o",
                Decimal("0.02"),
                Decimal("0.02"),
                effective_from=datetime(2026, 3, 18, 14, 30, tzinfo=UTC),
            ),
        ]
    )
    agg = HourAggregator(book, HOUR)
    agg.add_rows([row(1, "a", "gpt-4o", {"input": 1000}, minute=10), row(2, "a", "gpt-4o", {"input": 1000}, minute=45)])
    costs = sorted(g.cost for g in agg.groups())
    assert costs == [Decimal("0.01"), Decimal("0.02")]


def test_rollup_maps_trace_names_to_agents_and_keeps_unpriced_visible() -> None:
    agg = HourAggregator(BOOK, HOUR)
    agg.add_rows(
        [
            row(1, "billing-v1", "gpt-4o", {"input": 1000, "output": 100}),
            row(2, "billing-v2", "gpt-4o", {"input": 1000, "output": 100}),
            row(3, "billing-v2", "my-finetune", {"input": 7, "output": 3}),
            row(4, None, "gpt-4o", {"input": 1}),
        ]
    )
    days = rollup_day("2026-03-18", agg.groups(), {"billing-v1": "billing", "billing-v2": "billing"})
    assert set(days) == {"billing", UNATTRIBUTED}
    billing = days["billing"]
    assert billing.cost == 2 * (Decimal("0.0025") + Decimal("0.001"))
    assert billing.observations == 3
    assert [(u.model, u.observations, u.tokens.total) for u in billing.unpriced] == [("my-finetune", 1, 10)]
    assert [u.model for u in billing.by_model] == ["gpt-4o"]


def test_reprice_uses_stored_tokens_and_the_current_prices() -> None:
    agg = HourAggregator(BOOK, HOUR)
    agg.add_rows([row(1, "a", "my-finetune", {"input": 2000, "output": 1000})])
    (group,) = agg.groups()
    assert not group.priced
    newer = PriceBook([ModelPrice("acme", "my-finetune", Decimal("0.001"), Decimal("0.002"))])
    outcome = reprice_group(group, newer)
    assert outcome.group.priced
    assert outcome.group.cost == Decimal("0.004")
    assert not outcome.straddles_price_change


# --- properties -------------------------------------------------------------------------------------------------

MODELS = ["gpt-4o", "claude-sonnet-4-5", "us.anthropic.claude-sonnet-4-5-v1:0", "o3", "my-finetune"]
USAGE_KEYS = [
    "input",
    "output",
    "input_cached_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_reasoning_tokens",
    "reasoning_tokens",
    "input_audio_tokens",
]

observation = st.fixed_dictionaries(
    {
        "trace": st.sampled_from(["a", "b", "c", None]),
        "model": st.sampled_from(MODELS),
        "minute": st.integers(0, 59),
        "usage": st.dictionaries(st.sampled_from(USAGE_KEYS), st.integers(0, 400_000), min_size=1, max_size=5),
        "tier": st.sampled_from([None, "priority"]),
    }
)


def rows_of(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        row(i, o["trace"], o["model"], o["usage"], minute=o["minute"], modelParameters={"service_tier": o["tier"]})
        for i, o in enumerate(observations)
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(observation, max_size=40), st.integers(1, 7))
def test_group_costs_equal_the_sum_of_per_call_costs_however_the_rows_are_paged(
    observations: list[dict[str, Any]], page_size: int
) -> None:
    rows = rows_of(observations)
    agg = HourAggregator(BOOK, HOUR)
    for start in range(0, len(rows), page_size):
        agg.add_rows(rows[start : start + page_size])
    groups = agg.groups()
    # Independently: price each call on its own and sum.
    start_time = datetime(2026, 3, 18, 14, tzinfo=UTC)
    per_call = []
    for r in rows:
        result = observation_cost(
            BOOK, r["model"], start_time, normalize_usage(r["usageDetails"]).tokens, r["modelParameters"]
        )
        per_call.append(result[2].total if result else Decimal(0))
    assert exact_sum(g.cost for g in groups) == exact_sum(per_call)
    assert sum(g.observations for g in groups) == len(rows)
    # And the sum over agents of the daily rollup equals the sum over observations.
    days = rollup_day("2026-03-18", groups, {})
    assert exact_sum(d.cost for d in days.values()) == exact_sum(per_call)
    assert sum(d.observations for d in days.values()) == len(rows)
