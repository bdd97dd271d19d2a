"""The pure cost views: windows, conversion modes, zero-filled series, ranking, exact reconciliation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.costs import (
    Converter,
    DayLine,
    FxMode,
    Window,
    amount_text,
    display_name,
    make_converter,
    month_to_date,
    parse_fx_mode,
    period_view,
    query_window,
    window_figures,
)
from shared.domain.fx import ExchangeRate, RateTable
from shared.domain.usage import TokenCounts
from shared.errors import InvalidInputError, RateUnavailableError

TODAY = date(2026, 3, 20)


@dataclass(frozen=True)
class Llm:
    cost: Decimal
    tokens: TokenCounts = field(default_factory=TokenCounts)
    observations: int = 1
    unpriced: tuple[tuple[str, int, TokenCounts], ...] = ()


@dataclass(frozen=True)
class Cloud:
    cost: Decimal


@dataclass(frozen=True)
class Day:
    date: str
    llm: Mapping[str, Llm] = field(default_factory=dict)
    cloud: Mapping[str, Cloud] = field(default_factory=dict)


def rate(currency: str, day: date, value: str, source: str = "ECB") -> ExchangeRate:
    return ExchangeRate(currency, day, Decimal(value), source, datetime(2026, 3, 20, tzinfo=UTC))


EUR = [rate("EUR", date(2026, 3, 16), "0.92"), rate("EUR", date(2026, 3, 19), "0.9")]


# --- windows ------------------------------------------------------------------------------------------------------


def test_default_window_is_thirty_days_ending_today() -> None:
    window = query_window(TODAY)
    assert (window.start, window.end, window.days) == (date(2026, 2, 19), TODAY, 30)
    assert query_window(TODAY, days=1) == Window(TODAY, TODAY)
    assert query_window(TODAY, days=366).days == 366


def test_from_to_window_is_inclusive() -> None:
    window = query_window(TODAY, first="2026-01-01", last="2026-12-31")
    assert window.days == 365 and window.dates()[-1] == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("days", "first", "last", "message"),
    [
        (0, None, None, "1 to 366"),
        (367, None, None, "1 to 366"),
        (3, "2026-03-01", "2026-03-02", "not both"),
        (None, "2026-03-01", None, "give both"),
        (None, "2026-03-02", "2026-03-01", "is after"),
        (None, "2024-01-01", "2025-01-01", "at most 366"),  # 367 days (2024 is a leap year)
        (None, "2026-13-01", "2026-13-02", "not a valid date"),
        (None, "26-03-01", "2026-03-02", "YYYY-MM-DD"),
    ],
)
def test_bad_windows(days: int | None, first: str | None, last: str | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        query_window(TODAY, days, first, last)


def test_month_to_date_and_fx_mode() -> None:
    assert month_to_date(TODAY) == Window(date(2026, 3, 1), TODAY)
    assert parse_fx_mode(None) is FxMode.LATEST and parse_fx_mode("daily") is FxMode.DAILY
    with pytest.raises(InvalidInputError):
        parse_fx_mode("Daily")


# --- conversion ---------------------------------------------------------------------------------------------------


def test_latest_mode_uses_one_rate_for_every_day() -> None:
    window = Window(date(2026, 3, 15), date(2026, 3, 20))
    converter = make_converter(RateTable(EUR, as_of=TODAY), "EUR", FxMode.LATEST, window.dates(), TODAY, 7)
    assert {converter.rate(d) for d in window.dates()} == {Decimal("0.9")}
    assert (converter.basis.rate, converter.basis.rate_date, converter.basis.sources) == (
        Decimal("0.9"),
        date(2026, 3, 19),
        ("ECB",),
    )
    assert converter.basis.stale is False
    assert converter.amount(Decimal("10"), TODAY) == Decimal("9.0")


def test_daily_mode_uses_each_days_rate_and_reports_the_range() -> None:
    window = Window(date(2026, 3, 15), date(2026, 3, 20))
    converter = make_converter(RateTable(EUR, as_of=TODAY), "EUR", FxMode.DAILY, window.dates(), TODAY, 7)
    assert [converter.rate(d) for d in window.dates()] == [Decimal("0.92")] * 4 + [Decimal("0.9")] * 2
    basis = converter.basis
    assert (basis.rate_date_from, basis.rate_date_to, basis.sources) == (date(2026, 3, 16), date(2026, 3, 19), ("ECB",))
    assert basis.stale is True  # 03-15 precedes the first rate: it takes the 03-16 rate, dated after the day
    assert basis.rate is None
    assert converter.undated_rate == Decimal("0.9")  # the rate of the window's last day


def test_staleness_is_judged_against_today_for_future_days() -> None:
    window = Window(date(2026, 3, 20), date(2026, 4, 10))  # a billing period running into the future
    converter = make_converter(RateTable(EUR, as_of=TODAY), "EUR", FxMode.DAILY, window.dates(), TODAY, 7)
    assert converter.basis.stale is False


def test_old_rates_are_stale_and_fallbacks_are_flagged() -> None:
    rates = [rate("MYR", date(2026, 3, 2), "4.4", "ECB")]
    window = Window(TODAY, TODAY)
    converter = make_converter(RateTable(rates, as_of=TODAY), "MYR", FxMode.LATEST, window.dates(), TODAY, 7)
    assert converter.basis.stale is True and converter.basis.fallback is True


def test_usd_needs_no_rate_and_a_missing_currency_raises() -> None:
    empty = RateTable([], as_of=TODAY)
    converter = make_converter(empty, "USD", FxMode.DAILY, [TODAY], TODAY, 7)
    assert converter.amount(Decimal("1.5"), TODAY) == Decimal("1.5")
    assert converter.basis.sources == ("USD",)
    with pytest.raises(RateUnavailableError):
        make_converter(empty, "EUR", FxMode.LATEST, [TODAY], TODAY, 7)


# --- views -------------------------------------------------------------------------------------------------------


def test_series_is_zero_filled_and_agents_ranked_by_total() -> None:
    window = Window(date(2026, 3, 18), TODAY)
    days = [
        Day("2026-03-18", {"a": Llm(Decimal("1"))}, {"b": Cloud(Decimal("1"))}),
        Day("2026-03-20", {"b": Llm(Decimal("0.5"))}, {"unallocated:c": Cloud(Decimal("-0.25"))}),
        Day("2026-03-01", {"a": Llm(Decimal("100"))}),  # outside the window
    ]
    converter = make_converter(RateTable([], as_of=TODAY), "USD", FxMode.LATEST, window.dates(), TODAY, 7)
    figures = window_figures(days, window, converter, with_trend=True)
    assert [line.date for line in figures.daily] == window.dates()
    assert [amount_text(line.total_cost) for line in figures.daily] == ["2", "0", "0.25"]
    assert [(a.agent_id, amount_text(a.total_cost)) for a in figures.agents] == [
        ("b", "1.5"),
        ("a", "1"),
        ("unallocated:c", "-0.25"),
    ]
    assert [amount_text(t.total_cost) for t in figures.agents[0].trend] == ["1", "0", "0.5"]
    assert figures.agents[2].name == "Unallocated (c)"


def test_unpriced_usage_is_summed_per_model() -> None:
    window = Window(TODAY, TODAY)
    days = [
        Day(
            TODAY.isoformat(),
            {
                "a": Llm(Decimal(0), TokenCounts(10, 0, 0, 5, 0), 2, (("m", 2, TokenCounts(10, 0, 0, 5, 0)),)),
                "b": Llm(Decimal(0), TokenCounts(1, 2, 3, 4, 5), 1, (("m", 1, TokenCounts(1, 2, 3, 4, 5)),)),
            },
        )
    ]
    converter = make_converter(RateTable([], as_of=TODAY), "USD", FxMode.LATEST, window.dates(), TODAY, 7)
    (line,) = window_figures(days, window, converter).unpriced
    assert (line.model, line.observations, line.input_tokens, line.output_tokens) == ("m", 3, 16, 14)


def test_period_percent_is_computed_in_usd_and_rounded_half_up() -> None:
    period = Window(date(2026, 3, 1), TODAY)
    days = [Day("2026-03-02", {"a": Llm(Decimal("1"))}, {"a": Cloud(Decimal("0.00005"))})]
    converter = make_converter(RateTable(EUR, as_of=TODAY), "EUR", FxMode.LATEST, period.dates(), TODAY, 7)
    view = period_view(days, period, True, converter, Decimal(3))
    assert view.total_cost == Decimal("0.900045")
    assert view.allowance == Decimal("2.7")
    assert view.percent_used == Decimal("33.34")  # 1.00005 / 3 = 33.335 %, half-up
    assert period_view(days, period, False, converter, None).percent_used is None


def test_display_names_and_amount_text() -> None:
    assert display_name("unallocated:conn-1") == "Unallocated (conn-1)"
    assert display_name("unattributed") == "Unattributed (no trace name)"
    assert display_name("x") == "x"
    assert [amount_text(Decimal(v)) for v in ("0E-10", "1.2300", "1E+3", "-0", "0.000000000001")] == [
        "0",
        "1.23",
        "1000",
        "0",
        "0.000000000001",
    ]


# --- reconciliation holds exactly for any figures and rates ---------------------------------------------------------

amounts = st.decimals(min_value=Decimal("-50"), max_value=Decimal("5000"), places=10, allow_nan=False)
rates = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("20000"), places=6, allow_nan=False).filter(
    lambda d: d > 0
)


@settings(max_examples=60, deadline=None)
@given(
    figures=st.lists(st.tuples(st.integers(0, 6), st.sampled_from("abc"), amounts, amounts), max_size=25),
    day_rates=st.lists(rates, min_size=7, max_size=7),
    mode=st.sampled_from(list(FxMode)),
)
def test_converted_sums_reconcile_exactly(
    figures: list[tuple[int, str, Decimal, Decimal]], day_rates: list[Decimal], mode: FxMode
) -> None:
    start = date(2026, 3, 14)
    window = Window(start, start + timedelta(days=6))
    table = RateTable(
        [rate("IDR", start + timedelta(days=i), format(r, "f"), "BI") for i, r in enumerate(day_rates)], as_of=TODAY
    )
    by_day: dict[str, Day] = {}
    for offset, agent, llm, cloud in figures:
        key = (start + timedelta(days=offset)).isoformat()
        day = by_day.setdefault(key, Day(key, {}, {}))
        day.llm[agent] = Llm(llm)  # type: ignore[index]
        day.cloud[agent] = Cloud(cloud)  # type: ignore[index]
    converter = make_converter(table, "IDR", mode, window.dates(), TODAY, 7)
    result = window_figures(by_day.values(), window, converter, with_trend=True)
    totals = result.totals
    assert totals.total_cost == totals.llm_cost + totals.cloud_cost
    assert sum((d.total_cost for d in result.daily), Decimal(0)) == totals.total_cost
    assert sum((a.total_cost for a in result.agents), Decimal(0)) == totals.total_cost
    for agent in result.agents:
        assert sum((t.total_cost for t in agent.trend), Decimal(0)) == agent.total_cost
    # and each day's figure is exactly its USD amount times the day's rate
    with localcontext() as exact:
        exact.prec = 80
        check_days(result.daily, by_day, converter)


def check_days(daily: Sequence[DayLine], by_day: Mapping[str, Day], converter: Converter) -> None:
    for line in daily:
        day = by_day.get(line.date.isoformat())
        usd_total = sum((f.cost for f in [*day.llm.values(), *day.cloud.values()]), Decimal(0)) if day else Decimal(0)
        assert line.total_cost == usd_total * converter.rate(line.date)
