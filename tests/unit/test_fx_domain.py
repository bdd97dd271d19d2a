"""Exchange-rate domain: cross rates, screening (never a bad rate), resolution per day, conversion and display."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.fx import (
    MINOR_UNITS,
    RATE_CURRENCIES,
    SANITY_BANDS,
    SOURCE_BI,
    SOURCE_BNM,
    SOURCE_ECB,
    SUPPORTED_CURRENCIES,
    ExchangeRate,
    RateCandidate,
    RateTable,
    RejectReason,
    ScreenPolicy,
    ScreenResult,
    bnm_myr_per_usd,
    conversion,
    convert,
    ecb_cross_rates,
    format_amount,
    format_rate,
    jisdor_idr_per_usd,
    parse_currency,
    preferred_source,
    provenance,
    round_amount,
    screen,
)
from shared.errors import RateUnavailableError, UnsupportedCurrencyError

D = Decimal
FETCHED = datetime(2026, 3, 18, 16, 30, tzinfo=UTC)
TODAY = date(2026, 3, 18)
# ECB 2026-03-18, units per 1 EUR (research/fx.md §1).
ECB_0318 = {
    "USD": D("1.1500"),
    "GBP": D("0.86393"),
    "MYR": D("4.5040"),
    "IDR": D("19543.10"),
    "SGD": D("1.4734"),
    "AUD": D("1.6305"),
    "CHF": D("0.9073"),
    "SEK": D("10.7778"),
    "NOK": D("11.0205"),
    "DKK": D("7.4720"),
    "JPY": D("183.49"),
}


def rate(currency: str, day: date, value: str, source: str = SOURCE_ECB) -> ExchangeRate:
    return ExchangeRate(currency, day, D(value), source, FETCHED)


def candidate(currency: str, day: date, value: str | None, source: str = SOURCE_ECB) -> RateCandidate:
    return RateCandidate(currency, day, None if value is None else D(value), source)


# --- currencies ---------------------------------------------------------------------------------------------------


def test_parse_currency_is_case_insensitive() -> None:
    # Given codes in any case / with spaces; When parsed; Then the canonical code comes back
    assert parse_currency("eur") == "EUR"
    assert parse_currency(" Idr ") == "IDR"
    assert parse_currency("USD") == "USD"


def test_unknown_currency_names_the_supported_ones() -> None:
    # Given an unsupported code; When parsed; Then the error lists every supported currency
    with pytest.raises(UnsupportedCurrencyError) as info:
        parse_currency("JPY")
    for code in SUPPORTED_CURRENCIES:
        assert code in str(info.value)


def test_every_rate_currency_has_a_band_a_minor_unit_and_a_preferred_source() -> None:
    assert set(SANITY_BANDS) == set(RATE_CURRENCIES)
    assert set(MINOR_UNITS) == set(SUPPORTED_CURRENCIES)
    assert preferred_source("MYR") == SOURCE_BNM
    assert preferred_source("IDR") == SOURCE_BI
    assert {preferred_source(c) for c in RATE_CURRENCIES} - {SOURCE_BNM, SOURCE_BI} == {SOURCE_ECB}


# --- building candidates ------------------------------------------------------------------------------------------


def test_ecb_cross_rates_match_the_worked_example() -> None:
    # Given ECB's 2026-03-18 quotes; When crossed through USD; Then the figures of research/fx.md §1 come out
    candidates = {c.currency: c for c in ecb_cross_rates(TODAY, ECB_0318)}
    expected = {
        "EUR": "0.869565",
        "GBP": "0.751243",
        "MYR": "3.916522",
        "IDR": "16994.00",
        "SGD": "1.281217",
        "AUD": "1.417826",
        "CHF": "0.788957",
        "SEK": "9.372000",
        "NOK": "9.583043",
        "DKK": "6.497391",
    }
    assert set(candidates) == set(RATE_CURRENCIES)
    for currency, figure in expected.items():
        value = candidates[currency].units_per_usd
        assert value is not None
        assert value.quantize(D(figure)) == D(figure), currency
        assert candidates[currency].problem is None
    # 12 significant digits, exact inputs kept as provenance
    assert candidates["EUR"].units_per_usd == D("0.869565217391")
    assert candidates["IDR"].units_per_usd == D("16994")
    assert dict(candidates["MYR"].derived_from) == {"base": "EUR", "USD": "1.1500", "MYR": "4.5040"}


def test_ecb_day_without_usd_gives_no_rates() -> None:
    # Given a day whose USD quote is missing; When crossed; Then every currency is missing (nothing to cross through)
    quotes = {k: v for k, v in ECB_0318.items() if k != "USD"}
    candidates = ecb_cross_rates(TODAY, quotes)
    assert {c.problem for c in candidates} == {RejectReason.MISSING}
    assert all(c.units_per_usd is None for c in candidates)


def test_ecb_zero_and_unreadable_quotes_are_flagged_per_currency() -> None:
    # Given a zero GBP quote and an unreadable SEK quote; When crossed; Then only those two are flagged
    quotes = dict(ECB_0318) | {"GBP": D("0"), "SEK": None}
    by_currency = {c.currency: c for c in ecb_cross_rates(TODAY, quotes)}
    assert by_currency["GBP"].problem is RejectReason.NOT_POSITIVE
    assert by_currency["SEK"].problem is RejectReason.MISSING
    assert by_currency["EUR"].problem is None


def test_bnm_float_noise_is_rounded_to_the_published_four_decimals() -> None:
    # Given BNM's middle rate printed as 3.9300000000000002; When read; Then 3.93 MYR per USD
    made = bnm_myr_per_usd(date(2026, 3, 19), D("3.9300000000000002"), 1, "1700", D("3.927"), D("3.9329999999999998"))
    assert made.units_per_usd == D("3.93")
    assert dict(made.derived_from) == {"quote": "rm", "session": "1700", "unit": "1", "middle": "3.9300"}


def test_bnm_null_middle_rate_is_missing_and_unit_divides() -> None:
    # Given session 1130 (middle null) and a per-100 quote; Then missing, and the per-100 value divides by 100
    assert bnm_myr_per_usd(date(2026, 9, 29), None, 1, "1130").problem is RejectReason.MISSING
    assert bnm_myr_per_usd(date(2026, 3, 19), D("393.00"), 100, "1700").units_per_usd == D("3.93")


def test_bnm_middle_outside_buying_and_selling_is_inconsistent() -> None:
    made = bnm_myr_per_usd(date(2026, 3, 19), D("3.99"), 1, "1700", D("3.927"), D("3.933"))
    assert made.problem is RejectReason.INCONSISTENT


def test_jisdor_rate_and_its_problems() -> None:
    day = date(2026, 9, 25)
    assert jisdor_idr_per_usd(day, D("17917.00"), D("17917.00"), D("1.00")).units_per_usd == D("17917")
    assert jisdor_idr_per_usd(day, None, D("17917.00"), D(1)).problem is RejectReason.MISSING
    assert jisdor_idr_per_usd(day, D("-1"), D("17917.00"), D(1)).problem is RejectReason.NOT_POSITIVE
    # a Kurs Transaksi style pair: the midpoint
    assert jisdor_idr_per_usd(day, D("16741.87"), D("16910.13"), D(1)).units_per_usd == D("16826")


# --- screening ----------------------------------------------------------------------------------------------------


def run_screen(
    candidates: list[RateCandidate], stored: list[ExchangeRate] | None = None, limit: str = "0.10"
) -> ScreenResult:
    policy = ScreenPolicy(day_over_day_limit=D(limit))
    return screen(candidates, stored or [], fetched_at=FETCHED, today=TODAY, policy=policy)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, RejectReason.MISSING),
        ("0", RejectReason.NOT_POSITIVE),
        ("-0.87", RejectReason.NOT_POSITIVE),
        ("87", RejectReason.OUT_OF_BAND),  # EUR per USD: a currency mix-up
        ("0.087", RejectReason.OUT_OF_BAND),
    ],
)
def test_bad_values_are_rejected_with_their_reason(value: str | None, reason: RejectReason) -> None:
    # Given one bad EUR value; When screened; Then nothing is stored and the reason is given
    result = run_screen([candidate("EUR", TODAY, value)])
    assert result.to_store == ()
    assert [r.reason for r in result.rejected] == [reason]


def test_day_over_day_jump_is_rejected_and_the_last_good_rate_stays() -> None:
    # Given a stored GBP rate and a 20 % jump the next day; When screened; Then the jump is rejected
    stored = [rate("GBP", date(2026, 3, 17), "0.75")]
    result = run_screen([candidate("GBP", TODAY, "0.90")], stored)
    assert result.to_store == ()
    assert result.rejected[0].reason is RejectReason.DAY_OVER_DAY
    assert "0.75" in result.rejected[0].detail
    # and a move within the limit passes
    assert len(run_screen([candidate("GBP", TODAY, "0.80")], stored).to_store) == 1
    # the limit is configurable (e.g. for a legitimate regime change like CHF on 2015-01-15)
    assert len(run_screen([candidate("GBP", TODAY, "0.90")], stored, limit="0.25").to_store) == 1


def test_jump_check_chains_through_a_backfill_and_skips_rejected_values() -> None:
    # Given a backfill where one day is garbage; When screened; Then the next day compares with the last good one
    days = [date(2026, 3, 16), date(2026, 3, 17), date(2026, 3, 18)]
    result = run_screen(
        [candidate("NOK", days[0], "9.50"), candidate("NOK", days[1], "95.0"), candidate("NOK", days[2], "9.58")]
    )
    assert [r.rate_date for r in result.to_store] == [days[0], days[2]]
    assert [r.reason for r in result.rejected] == [RejectReason.OUT_OF_BAND]


def test_each_source_series_is_checked_against_itself() -> None:
    # Given an ECB MYR rate and a BNM MYR rate 1 % apart; When screened; Then both are fine (separate series)
    stored = [rate("MYR", date(2026, 3, 17), "3.92", SOURCE_BNM)]
    result = run_screen(
        [candidate("MYR", TODAY, "3.9165", SOURCE_ECB), candidate("MYR", TODAY, "3.91", SOURCE_BNM)], stored
    )
    assert {r.source for r in result.to_store} == {SOURCE_ECB, SOURCE_BNM}


def test_unchanged_rows_are_not_rewritten_and_changes_are_revisions() -> None:
    # Given a stored row; When the same value comes again; Then it is unchanged (its fetchedAt stays)
    earlier = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
    stored = [ExchangeRate("SEK", TODAY, D("9.372"), SOURCE_ECB, earlier, provenance({"base": "EUR"}))]
    same = RateCandidate("SEK", TODAY, D("9.3720"), SOURCE_ECB, provenance({"base": "EUR"}))
    result = run_screen([same], stored)
    assert result.to_store == () and result.unchanged == tuple(stored)
    # When the source revises the value; Then it is stored again, marked as a revision, with the new fetch time
    revised = RateCandidate("SEK", TODAY, D("9.38"), SOURCE_ECB, provenance({"base": "EUR"}))
    result = run_screen([revised], stored)
    assert result.revised == result.to_store and result.to_store[0].fetched_at == FETCHED


def test_future_dated_rates_are_rejected_but_a_day_ahead_is_allowed() -> None:
    assert run_screen([candidate("EUR", TODAY + timedelta(days=1), "0.87")]).rejected == ()
    result = run_screen([candidate("EUR", TODAY + timedelta(days=2), "0.87")])
    assert result.rejected[0].reason is RejectReason.FUTURE_DATE


def test_duplicate_candidates_last_one_wins() -> None:
    result = run_screen([candidate("EUR", TODAY, "0.86"), candidate("EUR", TODAY, "0.87")])
    assert [r.units_per_usd for r in result.to_store] == [D("0.87")]


@settings(max_examples=200, deadline=None)
@given(
    currency=st.sampled_from(RATE_CURRENCIES),
    previous=st.decimals(min_value=D("0.5"), max_value=D("30000"), places=4),
    value=st.one_of(st.none(), st.decimals(min_value=D("-100"), max_value=D("40000"), places=6)),
)
def test_nothing_outside_its_band_or_beyond_the_jump_limit_is_ever_stored(
    currency: str, previous: Decimal, value: Decimal | None
) -> None:
    # Given any previous rate and any candidate value; When screened; Then whatever is stored is plausible
    stored = [rate(currency, date(2026, 3, 17), str(previous))]
    result = run_screen([candidate(currency, TODAY, None if value is None else str(value))], stored)
    low, high = SANITY_BANDS[currency]
    for stored_rate in result.to_store:
        assert low <= stored_rate.units_per_usd <= high
        assert abs(stored_rate.units_per_usd - previous) / previous <= D("0.10")
    assert len(result.to_store) + len(result.rejected) == 1


# --- resolution per day -------------------------------------------------------------------------------------------


def test_latest_and_weekend_lookups() -> None:
    # Given Thursday and Friday rates; When asking for Sunday; Then Friday's rate (the newest before it)
    thu, fri, sun = date(2026, 3, 12), date(2026, 3, 13), date(2026, 3, 15)
    table = RateTable([rate("EUR", thu, "0.87"), rate("EUR", fri, "0.871")], as_of=sun)
    assert table.latest("eur").rate_date == fri
    assert table.on_or_before("EUR", sun).units_per_usd == D("0.871")
    assert table.on_or_before("EUR", thu).units_per_usd == D("0.87")
    with pytest.raises(RateUnavailableError):
        table.on_or_before("EUR", thu - timedelta(days=1))
    with pytest.raises(RateUnavailableError):
        table.latest("GBP")


def test_preferred_source_wins_on_the_same_day_and_a_same_day_fallback_beats_an_older_preferred_rate() -> None:
    # Given BNM and ECB MYR on the 17th, and only ECB on the 18th (a Malaysian holiday)
    d17, d18 = date(2026, 3, 17), date(2026, 3, 18)
    rows = [
        rate("MYR", d17, "3.928", SOURCE_BNM),
        rate("MYR", d17, "3.9179", SOURCE_ECB),
        rate("MYR", d18, "3.9165", SOURCE_ECB),
    ]
    table = RateTable(rows, as_of=d18)
    # Then the 17th uses BNM and the 18th uses the ECB cross rate, flagged as a fallback
    assert table.on_or_before("MYR", d17).source == SOURCE_BNM
    latest = table.latest("MYR")
    assert (latest.source, latest.rate_date, latest.is_fallback) == (SOURCE_ECB, d18, True)
    assert table.convert(D("10"), "MYR").fallback is True
    assert table.convert(D("10"), "MYR", d17).fallback is False


def test_usd_needs_no_rate() -> None:
    table = RateTable([], as_of=TODAY)
    converted = table.convert(D("12.345"), "usd")
    assert (converted.amount, converted.rate, converted.source, converted.rate_date) == (D("12.345"), 1, "USD", TODAY)
    assert converted.fx_block() == {"rate": "1", "rateDate": "2026-03-18", "source": "USD"}
    assert table.convert(D("1"), "USD", date(2026, 1, 2)).rate_date == date(2026, 1, 2)


def test_conversion_carries_rate_date_and_source_and_marks_stale_rates() -> None:
    # Given a rate 10 days old and a 7-day staleness window; When converting; Then used, and flagged stale
    old = date(2026, 3, 8)
    table = RateTable([rate("EUR", old, "0.869565217391")], as_of=TODAY, staleness_days=7)
    converted = table.convert(D("100"), "EUR")
    assert converted.amount == D("86.9565217391")
    assert converted.stale is True
    assert converted.fx_block() == {"rate": "0.8695652", "rateDate": "2026-03-08", "source": "ECB"}
    assert table.convert(D("100"), "EUR", date(2026, 3, 9)).stale is False
    # a day before the first stored rate takes the oldest one, flagged
    early = table.convert(D("100"), "EUR", date(2026, 3, 1))
    assert early.rate_date == old and early.stale is True


def test_conversion_function_without_a_table() -> None:
    made = conversion(D("2"), rate("IDR", TODAY, "16994", SOURCE_ECB), as_of=TODAY, staleness_days=7)
    assert (made.amount, made.currency, made.fallback, made.stale, made.text) == (
        D("33988"),
        "IDR",
        True,
        False,
        "33988",
    )


# --- exact conversion, rounding only for display ------------------------------------------------------------------


def test_convert_is_exact() -> None:
    assert convert(D("0.000123456789"), D("16994.123456789012")) == D("0.000123456789") * D("16994.123456789012")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (D("1234.565"), "EUR", "1234.57"),  # half-up, not banker's rounding
        (D("1234.564"), "usd", "1234.56"),
        (D("2.5"), "IDR", "3"),  # IDR without decimals
        (D("16994.4999"), "IDR", "16994"),
        (D("0"), "CHF", "0.00"),
        (D("-1.005"), "GBP", "-1.01"),
    ],
)
def test_format_amount_respects_minor_units(amount: Decimal, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


def test_format_amount_grouping_and_rounding() -> None:
    assert format_amount(D("1234567.891"), "IDR", grouping=True) == "1,234,568"
    assert round_amount(D("1.005"), "SEK") == D("1.01")
    with pytest.raises(UnsupportedCurrencyError):
        format_amount(D("1"), "XXX")


def test_format_rate_seven_significant_digits() -> None:
    assert format_rate(D("0.869565217391")) == "0.8695652"
    assert format_rate(D("16994")) == "16994"
    assert format_rate(D("9.372")) == "9.372"
    assert format_rate(D("1")) == "1"
