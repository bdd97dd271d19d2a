"""The genai-prices catalogue converted to price rows, checked against genai-prices' own logic (offline)."""

from __future__ import annotations

import random
import re
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

gp = pytest.importorskip("genai_prices.types")
genai_data = pytest.importorskip("genai_prices.data")

from shared.domain.pricing import EARLIEST, STANDARD_TIER, ModelPrice, PriceBook, cost_of  # noqa: E402
from shared.domain.usage import Bucket, TokenCounts  # noqa: E402
from shared.errors import ConfigurationError, InvalidInputError  # noqa: E402
from shared.services.pricing import PricingService  # noqa: E402
from shared.sources.catalogue import (  # noqa: E402
    CATALOGUES,
    CatalogueLoad,
    convert_genai_prices,
    genai_match_pattern,
    load_catalogue,
    read_catalogue,
)

# Outside every time-of-day window in the snapshot (DeepSeek's run 00:30-16:30, 01:00-04:00, 06:00-10:00 UTC).
EVENING = 20


@pytest.fixture(scope="module")
def catalogue() -> CatalogueLoad:
    return read_catalogue("genai-prices")


@pytest.fixture(scope="module")
def book(catalogue: CatalogueLoad) -> PriceBook:
    return PriceBook(catalogue.prices)


def genai_models() -> Iterator[tuple[Any, Any]]:
    for provider in genai_data.providers:
        for model in provider.models:
            yield provider, model


def genai_model(provider_id: str, model_id: str) -> tuple[Any, Any]:
    return next((p, m) for p, m in genai_models() if p.id == provider_id and m.id == model_id)


def per_1k(value: Decimal) -> Decimal:
    return value / 1000


def price_rows(model: Any) -> list[Any]:
    return [model.prices] if isinstance(model.prices, gp.ModelPrice) else [c.prices for c in model.prices]


def test_genai_prices_converts_most_models_into_sorted_unique_rows(catalogue: CatalogueLoad) -> None:
    # Given the bundled genai-prices snapshot
    # When it is converted
    rows = load_catalogue("genai-prices")

    # Then there are many rows, sorted, one per (provider, model, effective_from), all case-insensitive patterns
    assert len(rows) > 100
    assert rows == list(catalogue.prices)
    keys = [(p.provider, p.model, p.effective_from) for p in rows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert all(p.match_pattern and p.match_pattern.startswith("(?i)") for p in rows)
    # And every model is either converted or skipped for a counted reason
    assert catalogue.models_seen == sum(1 for _ in genai_models())
    skipped_models = sum(n for reason, n in catalogue.skipped.items() if reason.startswith("model:"))
    assert catalogue.models_converted + skipped_models == catalogue.models_seen
    assert catalogue.models_converted == len({(p.provider, p.model) for p in rows}) > 100


def test_conversion_is_deterministic(catalogue: CatalogueLoad) -> None:
    # Given / When the snapshot is converted twice / Then the rows are identical
    assert convert_genai_prices(genai_data.providers) == catalogue


@pytest.mark.parametrize(("provider_id", "model_id"), [("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-0")])
def test_known_model_has_genai_prices_per_1k(book: PriceBook, provider_id: str, model_id: str) -> None:
    # Given the genai-prices price in force now, read directly from the package
    _, model = genai_model(provider_id, model_id)
    now = datetime.now(UTC).replace(hour=EVENING)
    expected = model.get_prices(now)

    # When our row in force now is resolved
    row = book.resolve_key(f"{provider_id}/{model_id}", now)

    # Then it carries the same prices divided by 1000
    assert row is not None
    assert row.input_per_1k == per_1k(expected.input_mtok)
    assert row.output_per_1k == per_1k(expected.output_mtok)
    assert row.cached_read_per_1k == per_1k(expected.cache_read_mtok)
    if expected.cache_write_mtok is not None:
        assert row.cache_write_per_1k == per_1k(expected.cache_write_mtok)


def test_gpt_4o_costs_two_and_a_half_dollars_per_million_input_tokens(book: PriceBook) -> None:
    # Given / When / Then a hand-checked anchor: $2.50 and $10 per million tokens
    row = book.resolve_key("openai/gpt-4o", datetime(2025, 6, 1, tzinfo=UTC))
    assert row is not None
    assert (row.input_per_1k, row.output_per_1k) == (Decimal("0.0025"), Decimal("0.01"))


def _literals(clause: Any) -> Iterator[str]:
    for name in ("equals", "starts_with", "ends_with", "contains"):
        if hasattr(clause, name):
            yield getattr(clause, name)
    for child in getattr(clause, "or_", None) or getattr(clause, "and_", None) or ():
        yield from _literals(child)


def test_converted_patterns_match_exactly_what_genai_prices_matches(catalogue: CatalogueLoad) -> None:
    # Given every model of the snapshot and probes around its ids and match literals, plus ids of other models
    models = list(genai_models())
    others = [m.id for _, m in random.Random(7).sample(models, 60)]
    converted = {(p.provider, p.model): p.match_pattern for p in catalogue.prices}
    disagreements = []
    for provider, model in models:
        # When the match clause tree is converted
        pattern = genai_match_pattern(model.match)
        if (provider.id, model.id) in converted:
            assert converted[(provider.id, model.id)] == pattern
        compiled = re.compile(pattern)
        probes = {model.id, model.id.upper(), model.id + "-2024", "x/" + model.id, model.id[:-1], *others}
        for literal in _literals(model.match):
            probes |= {literal, literal.upper(), literal + "-x", "x-" + literal, literal[1:], literal[:-1]}
        # Then re.search agrees with ModelInfo.is_match on every probe
        disagreements += [
            (provider.id, model.id, probe) for probe in probes if bool(compiled.search(probe)) != model.is_match(probe)
        ]
    assert disagreements == []


def test_clause_shapes_convert_to_equivalent_regexes() -> None:
    # Given one clause tree using every clause kind
    clause = gp.ClauseOr(
        or_=[
            gp.ClauseAnd(and_=[gp.ClauseStartsWith(starts_with="Claude-"), gp.ClauseContains(contains="sonnet")]),
            gp.ClauseAnd(and_=[gp.ClauseEndsWith(ends_with="-mini"), gp.ClauseRegex(regex=r"^gpt-\d")]),
            gp.ClauseEquals(equals="o1.preview"),
        ]
    )
    compiled = re.compile(genai_match_pattern(clause))
    probes = ["claude-3-sonnet", "CLAUDE-SONNET", "sonnet-claude-", "gpt-4o-mini", "gpt-x-mini", "gpt-4o-mini\n"]
    probes += ["o1.preview", "O1.PREVIEW", "o1xpreview", "o1.preview\n", "xo1.preview", ""]
    # When / Then the regex and genai-prices agree on each probe
    for probe in probes:
        assert bool(compiled.search(probe)) == clause.is_match(probe.lower()), probe


def _usages(row: ModelPrice) -> Iterator[tuple[TokenCounts, Any]]:
    thresholds = {c.threshold for t in row.tiers for c in t.conditions if c.kind == "usage"}
    for total_input in sorted({1_000} | thresholds | {t + 1 for t in thresholds}):
        tokens = TokenCounts(input=total_input - 300, cached_read=200, cache_write=100, output=500, reasoning=40)
        usage = {"input_tokens": total_input, "cache_read_tokens": 200, "cache_write_tokens": 100}
        usage |= {"output_tokens": 540, "output_reasoning_tokens": 40}
        yield tokens, gp.Usage(**usage)


def test_costs_agree_with_genai_prices_calc_price(catalogue: CatalogueLoad, book: PriceBook) -> None:
    # Given every converted model, at each moment its prices change (and the evening before), at tier boundaries,
    # for each service tier, away from time-of-day windows; per-request fees are dropped, so those models are left out
    starts: dict[str, list[datetime]] = {}
    for price in catalogue.prices:
        starts.setdefault(price.key, []).append(price.effective_from)
    checked = 0
    mismatches = []
    for provider, model in genai_models():
        key = f"{provider.id}/{model.id}"
        if key not in starts or any(getattr(p, "requests_kcount", None) for p in price_rows(model)):
            continue
        moments = {datetime(2027, 6, 1, EVENING, tzinfo=UTC), datetime(2023, 1, 1, EVENING, tzinfo=UTC)}
        for start in starts[key][1:]:
            moments |= {start.replace(hour=EVENING), start - timedelta(hours=24 - EVENING)}
        variants = model.price_variants or ()
        service_tiers = {None} | {v.when["service_tier"] for v in variants if "service_tier" in v.when}
        for moment in sorted(moments):
            row = book.resolve_key(key, moment)
            assert row is not None
            for tokens, usage in _usages(row):
                for service_tier in sorted(service_tiers, key=str):
                    context = {"service_tier": service_tier} if service_tier else None
                    # When genai-prices and Muster price the same call
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        theirs = model.calc_price(
                            usage, provider, genai_request_timestamp=moment, price_context=context
                        ).total_price
                    tier, rates = row.select_tier(tokens, context)
                    ours = cost_of(rates, tokens).total
                    checked += 1
                    if ours != theirs:
                        mismatches.append((key, moment, tokens.input_side, service_tier, tier, ours, theirs))
    # Then the costs are equal to the last digit
    assert checked > 2_000
    assert mismatches == []


def test_tiered_model_yields_a_usage_tier_over_all_input_tokens(book: PriceBook) -> None:
    # Given a model whose genai-prices input price is tiered
    _, model = genai_model("anthropic", "claude-sonnet-4-5")
    tiered = price_rows(model)[-1].input_mtok
    assert isinstance(tiered, gp.TieredPrices)
    threshold, tier_price = tiered.tiers[0].start, tiered.tiers[0].price

    # When its row is converted
    row = book.resolve_key("anthropic/claude-sonnet-4-5", datetime(2026, 1, 1, tzinfo=UTC))
    assert row is not None

    # Then one usage tier holds when all prompt tokens exceed the threshold, with the tier's rates
    (tier,) = [t for t in row.tiers if t.name == f"input>{threshold}"]
    (condition,) = tier.conditions
    assert condition.kind == "usage"
    assert (condition.operator, condition.threshold) == ("gt", threshold)
    assert condition.buckets == (Bucket.INPUT, Bucket.CACHED_READ, Bucket.CACHE_WRITE)
    assert tier.rates.input == per_1k(tier_price)
    at_threshold = TokenCounts(input=threshold - 10, cached_read=10)
    assert row.select_tier(at_threshold, None)[0] == STANDARD_TIER
    assert row.select_tier(TokenCounts(input=threshold - 10, cached_read=11), None)[0] == tier.name


def test_service_tier_variant_yields_a_parameter_tier(book: PriceBook) -> None:
    # Given gpt-4o's priority price variant in genai-prices
    _, model = genai_model("openai", "gpt-4o")
    (variant,) = [v for v in model.price_variants if v.when == {"service_tier": "priority"}]
    moment = datetime.combine(variant.constraint.start_date, datetime.min.time(), UTC)

    # When the row in force from the variant's start is resolved
    row = book.resolve_key("openai/gpt-4o", moment)
    assert row is not None

    # Then the priority tier applies to calls with service_tier=priority, not before the variant existed
    name, rates = row.select_tier(TokenCounts(input=10), {"service_tier": "priority"})
    assert name == "service_tier=priority"
    assert rates.input == per_1k(variant.prices.input_mtok)
    assert row.select_tier(TokenCounts(input=10), {"service_tier": "flex"})[0] == STANDARD_TIER
    earlier = book.resolve_key("openai/gpt-4o", moment - timedelta(seconds=1))
    assert earlier is not None
    assert earlier.select_tier(TokenCounts(input=10), {"service_tier": "priority"})[0] == STANDARD_TIER
    # And a service tier that only repeats the standard prices adds no tier
    assert all("default" not in t.name for t in row.tiers)


def test_time_of_day_prices_are_skipped_and_counted(catalogue: CatalogueLoad, book: PriceBook) -> None:
    # Given the snapshot's time-of-day conditional prices
    time_of_day = sum(
        isinstance(c.constraint, gp.TimeOfDateConstraint)
        for _, model in genai_models()
        if isinstance(model.prices, list)
        for c in model.prices
    )
    assert time_of_day > 0

    # When converted / Then each is counted and DeepSeek chat keeps only its unconstrained price
    assert catalogue.skipped["row:time_of_day_price"] == time_of_day
    _, model = genai_model("deepseek", "deepseek-chat")
    unconstrained = next(c.prices for c in model.prices if c.constraint is None)
    rows = [p for p in catalogue.prices if p.key == "deepseek/deepseek-chat"]
    assert [(r.effective_from, r.input_per_1k) for r in rows] == [(EARLIEST, per_1k(unconstrained.input_mtok))]


def test_models_without_input_or_output_token_prices_are_skipped(catalogue: CatalogueLoad) -> None:
    # Given the models whose prices lack an input or an output token price (embeddings, images, audio…)
    incomplete = {
        (provider.id, model.id)
        for provider, model in genai_models()
        for prices in price_rows(model)
        if getattr(prices, "input_mtok", None) is None or getattr(prices, "output_mtok", None) is None
    }
    assert incomplete

    # When converted / Then none of them has a row, and each is counted under a reason
    assert incomplete.isdisjoint({(p.provider, p.model) for p in catalogue.prices})
    reasons = ("model:no_token_prices", "model:no_input_price", "model:no_output_price")
    assert sum(catalogue.skipped.get(reason, 0) for reason in reasons) == len(incomplete)


def test_start_dates_become_effective_dates_and_the_first_price_reaches_back() -> None:
    # Given a model whose first price already has a start date (genai-prices uses it before that date too),
    # a later change, and a repeated start date that changes nothing
    def price(input_mtok: str) -> Any:
        return gp.ModelPrice(input_mtok=Decimal(input_mtok), output_mtok=Decimal("8"))

    def since(day: date, input_mtok: str) -> Any:
        return gp.ConditionalPrice(constraint=gp.StartDateConstraint(start_date=day), prices=price(input_mtok))

    model = gp.ModelInfo(
        id="m-1",
        match=gp.ClauseEquals(equals="m-1"),
        prices=[since(date(2025, 1, 1), "2"), since(date(2025, 6, 1), "1.5"), since(date(2025, 9, 1), "1.5")],
    )
    provider = gp.Provider(id="acme", name="Acme", api_pattern="acme", models=[model])

    # When converted
    result = convert_genai_prices([provider])

    # Then there are two rows: the first from the start of time, the change at UTC midnight of its date
    assert [(p.effective_from, p.input_per_1k, p.output_per_1k) for p in result.prices] == [
        (EARLIEST, Decimal("0.002"), Decimal("0.008")),
        (datetime(2025, 6, 1, tzinfo=UTC), Decimal("0.0015"), Decimal("0.008")),
    ]
    assert result.models_converted == 1


def test_unknown_catalogue_is_invalid_input() -> None:
    # Given / When / Then an unknown name is refused, naming the supported catalogues
    with pytest.raises(InvalidInputError, match="genai-prices"):
        load_catalogue("litellm")
    assert CATALOGUES == ("genai-prices",)


def test_missing_package_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given genai-prices is not importable
    monkeypatch.setitem(sys.modules, "genai_prices", None)
    monkeypatch.setitem(sys.modules, "genai_prices.data", None)

    # When / Then loading tells how to install it
    with pytest.raises(ConfigurationError, match="catalogue"):
        load_catalogue("genai-prices")


def test_import_catalogue_saves_the_converted_rows(catalogue: CatalogueLoad) -> None:
    # Given a repository stand-in
    class Repository:
        def __init__(self) -> None:
            self.saved: list[ModelPrice] = []

        def save_prices(self, prices: Any) -> int:
            self.saved = list(prices)
            return len(self.saved)

    repository = Repository()

    # When the catalogue is imported / Then every row is saved, with no duplicate keys refused
    assert PricingService(repository).import_catalogue("genai-prices") == len(catalogue.prices)  # type: ignore[arg-type]
    assert repository.saved == list(catalogue.prices)
