"""The weekly report's pure core: ISO weeks, the two weeks' figures and their changes, delivery bookkeeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.fx import ExchangeRate, identity_rate
from shared.domain.money import exact_sum
from shared.domain.weekly_report import (
    AgentDayFigures,
    Change,
    DeliveryPolicy,
    DeliveryStatus,
    FxBasis,
    ReportDelivery,
    UnpricedDayFigures,
    build_weekly_report,
    canonical_week,
    is_plain_address,
    iso_week,
    last_full_week,
    normalize_address,
    parse_iso_week,
    previous_week,
    skip_reason,
    weeks_in_year,
)
from shared.errors import InvalidInputError

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # the Monday the worker runs for 2026-W49
W49 = date(2026, 11, 30)  # Monday of 2026-W49
W48 = W49 - timedelta(days=7)
USD_FX = FxBasis.of(identity_rate(NOW.date()))
EUR_FX = FxBasis.of(ExchangeRate("EUR", date(2026, 12, 4), Decimal("0.8695652"), "ECB"))


def d(text: str) -> Decimal:
    return Decimal(text)


# --- ISO weeks -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "monday", "sunday"),
    [
        ("2026-W49", date(2026, 11, 30), date(2026, 12, 6)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),  # week 1 starts in the previous calendar year
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),  # 2026 has 53 ISO weeks (1 January is a Thursday)
        ("2020-W53", date(2020, 12, 28), date(2021, 1, 3)),
        ("2026-w49", date(2026, 11, 30), date(2026, 12, 6)),  # lower-case w is accepted
    ],
)
def test_parse_iso_week_gives_monday_and_sunday(week: str, monday: date, sunday: date) -> None:
    assert parse_iso_week(week) == (monday, sunday)
    assert monday.weekday() == 0 and sunday.weekday() == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-W54", "2026 has 53 ISO weeks"),
        ("2025-W53", "2025 has 52 ISO weeks"),
        ("2026-W00", "2026 has 53 ISO weeks"),
        ("2026-49", "YYYY-Www"),
        ("2026W49", "YYYY-Www"),
        ("2026-W4", "YYYY-Www"),
        ("W49-2026", "YYYY-Www"),
        ("2026-12-07", "YYYY-Www"),
        ("", "YYYY-Www"),
        ("0000-W01", "out of range"),
    ],
)
def test_parse_iso_week_rejects_clearly(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_iso_week(text)


def test_week_helpers() -> None:
    # A Monday reports the week that ended the day before; any other day the last complete week
    assert last_full_week(date(2026, 12, 7)) == "2026-W49"
    assert last_full_week(date(2026, 12, 13)) == "2026-W49"  # Sunday of W50: W50 has not ended
    assert last_full_week(date(2026, 12, 6)) == "2026-W48"
    assert last_full_week(date(2027, 1, 4)) == "2026-W53"
    assert previous_week("2027-W01") == "2026-W53"
    assert previous_week("2026-W01") == "2025-W52"
    assert iso_week(date(2027, 1, 3)) == "2026-W53"
    assert canonical_week(" 2026-w09 ") == "2026-W09"
    assert [weeks_in_year(y) for y in (2020, 2025, 2026, 2027)] == [53, 52, 53, 52]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9000, 12, 31)))
def test_a_day_lies_in_its_week(day: date) -> None:
    monday, sunday = parse_iso_week(iso_week(day))
    assert monday <= day <= sunday
    full = parse_iso_week(last_full_week(day))
    assert full[1] < day and (day - full[1]).days <= 7


# --- figures and changes ---------------------------------------------------------------------------------------------


def figures() -> list[AgentDayFigures]:
    """Two agents over both weeks, a third new this week, one only last week, and rows outside the two weeks."""
    rows = []
    for i in range(7):
        rows.append(AgentDayFigures(W49 + timedelta(days=i), "support", d("1.10"), d("0.25"), 1000, 200, 10))
        rows.append(AgentDayFigures(W48 + timedelta(days=i), "support", d("1.00"), d("0.25"), 900, 180, 9))
    rows.append(AgentDayFigures(W49 + timedelta(days=2), "research", d("4.00"), d("0"), 5000, 900, 3))
    rows.append(AgentDayFigures(W48 + timedelta(days=2), "research", d("5.00"), d("0"), 6000, 1000, 4))
    rows.append(AgentDayFigures(W49 + timedelta(days=6), "newcomer", d("0.333"), d("0.001"), 10, 5, 1))
    rows.append(AgentDayFigures(W48 + timedelta(days=1), "retired", d("2.50"), d("0"), 100, 10, 1))
    rows.append(AgentDayFigures(W48 - timedelta(days=1), "support", d("999"), d("999"), 1, 1, 1))  # W47
    rows.append(AgentDayFigures(W49 + timedelta(days=7), "support", d("999"), d("999"), 1, 1, 1))  # W50
    return rows


def test_totals_split_and_changes_are_exact() -> None:
    # Given per-day figures of both weeks (and some outside them)
    report = build_weekly_report("2026-W49", figures(), [], fx=USD_FX, generated_at=NOW)
    # Then each figure is the sum of the week's rows, computed independently here
    assert report.llm.current == 7 * d("1.10") + d("4.00") + d("0.333")
    assert report.cloud.current == 7 * d("0.25") + d("0.001")
    assert report.llm.previous == 7 * d("1.00") + d("5.00") + d("2.50")
    assert report.cloud.previous == 7 * d("0.25")
    assert report.total.current == d("13.784")
    assert report.total.previous == d("16.25")
    assert report.total.absolute == d("-2.466")
    assert report.total.percent is not None and round(report.total.percent, 6) == d("-15.175385")
    assert (report.input_tokens, report.output_tokens, report.observations) == (12010, 2305, 74)
    assert [line.total for line in report.days] == [
        d("1.35"),
        d("1.35"),
        d("5.35"),
        d("1.35"),
        d("1.35"),
        d("1.35"),
        d("1.684"),
    ]
    assert exact_sum(line.total for line in report.days) == report.total.current


def test_agents_by_total_with_their_change_and_the_biggest_risers() -> None:
    report = build_weekly_report(
        "2026-W49", figures(), [], fx=USD_FX, generated_at=NOW, names={"support": "Support bot"}
    )
    # Top agents: this week's total, descending; an agent with nothing this week is not listed
    assert [(a.agent_id, a.name, a.total) for a in report.top_agents] == [
        ("support", "Support bot", d("9.45")),
        ("research", "research", d("4.00")),
        ("newcomer", "newcomer", d("0.334")),
    ]
    support = report.top_agents[0]
    assert support.previous_total == d("8.75")
    assert support.change.absolute == d("0.70")
    assert support.change.percent == d("8")  # 0.70 / 8.75
    assert report.top_agents[2].change.is_new and report.top_agents[2].change.percent is None
    # Risers: the largest absolute increases; a new agent counts, falling agents do not
    risers = [(a.agent_id, a.change.absolute) for a in report.risers]
    assert risers == [("support", d("0.70")), ("newcomer", d("0.334"))]
    assert report.agent_count == 3 and report.other_agents == 0


def test_a_rise_too_small_to_show_is_not_a_riser() -> None:
    rows = [AgentDayFigures(W49, "tiny", d("0.004")), AgentDayFigures(W49, "idr", d("0.02"))]
    usd = build_weekly_report("2026-W49", rows, [], fx=USD_FX, generated_at=NOW)
    assert [a.agent_id for a in usd.risers] == ["idr"]
    idr = FxBasis.of(ExchangeRate("IDR", date(2026, 12, 4), Decimal("16990"), "BI"))
    assert [a.agent_id for a in build_weekly_report("2026-W49", rows, [], fx=idr, generated_at=NOW).risers] == [
        "idr",
        "tiny",
    ]  # 339.8 and 67.96 rupiah: visible without minor units


def test_agents_beyond_the_top_list_are_summed() -> None:
    rows = [AgentDayFigures(W49, f"agent-{i:02d}", Decimal(i + 1)) for i in range(13)]
    rows += [AgentDayFigures(W48, f"agent-{i:02d}", Decimal(1)) for i in range(13)]
    report = build_weekly_report("2026-W49", rows, [], fx=USD_FX, generated_at=NOW, top_agents=10)
    assert [a.agent_id for a in report.top_agents][:2] == ["agent-12", "agent-11"]
    assert report.other_agents == 3
    assert report.others == Change(d("6"), d("3"))  # agents 00..02 cost 1+2+3, and 1 each the week before
    assert len(report.risers) == 5


def test_conversion_uses_one_rate_for_both_weeks() -> None:
    usd = build_weekly_report("2026-W49", figures(), [], fx=USD_FX, generated_at=NOW)
    eur = build_weekly_report("2026-W49", figures(), [], fx=EUR_FX, generated_at=NOW)
    rate = d("0.8695652")
    assert eur.currency == "EUR"
    assert eur.total.current == usd.total.current * rate
    assert eur.total.previous == usd.total.previous * rate
    assert eur.top_agents[0].llm == usd.top_agents[0].llm * rate
    assert eur.total.percent == usd.total.percent  # the change is spending, not the rate


def test_unpriced_usage_is_summed_per_model_for_the_week_only() -> None:
    unpriced = [
        UnpricedDayFigures(W49, "support", "my-finetune", 3, 300, 40),
        UnpricedDayFigures(W49 + timedelta(days=3), "research", "my-finetune", 2, 200, 20),
        UnpricedDayFigures(W49 + timedelta(days=3), "research", "other", 7, 7, 7),
        UnpricedDayFigures(W48, "support", "my-finetune", 100, 100, 100),  # last week: not in this report
    ]
    report = build_weekly_report("2026-W49", [], unpriced, fx=USD_FX, generated_at=NOW, names={"support": "Support"})
    assert [(u.model, u.observations, u.input_tokens, u.output_tokens, u.agents) for u in report.unpriced] == [
        ("other", 7, 7, 7, ("research",)),
        ("my-finetune", 5, 500, 60, ("research", "Support")),
    ]
    assert not report.is_empty and report.needs_attention  # unpriced usage is activity, even at cost 0


def test_an_empty_week() -> None:
    rows = [AgentDayFigures(W48, "support", d("3"))]
    report = build_weekly_report("2026-W49", rows, [], fx=USD_FX, generated_at=NOW)
    assert report.is_empty
    assert report.total == Change(d("0"), d("3"))
    assert report.total.percent == d("-100")
    assert report.top_agents == () and report.risers == ()
    assert len(report.days) == 7 and all(day.total == 0 for day in report.days)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 13),
            st.sampled_from(["a", "b", "c", "d"]),
            st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False),
            st.decimals(min_value=-50, max_value=1000, places=4, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_every_view_of_the_week_adds_up(rows: list[tuple[int, str, Decimal, Decimal]]) -> None:
    figures = [AgentDayFigures(W48 + timedelta(days=i), agent, llm, cloud) for i, agent, llm, cloud in rows]
    report = build_weekly_report("2026-W49", figures, [], fx=EUR_FX, generated_at=NOW, top_agents=2)
    this_week = [f for f in figures if f.day >= W49]
    expected = exact_sum(f.llm_usd + f.cloud_usd for f in this_week) * EUR_FX.rate
    assert report.total.current == expected
    assert exact_sum(day.total for day in report.days) == expected
    # the listed agents plus "other agents" are the whole week (agents left out have nothing this week)
    assert exact_sum(a.total for a in report.top_agents) + report.others.current == expected
    assert report.llm.current + report.cloud.current == expected


# --- deliveries ------------------------------------------------------------------------------------------------------


def delivery(status: DeliveryStatus, attempts: int = 1, claimed_at: datetime | None = NOW) -> ReportDelivery:
    return ReportDelivery("2026-W49", "ann@example.com", status, attempts, claimed_at=claimed_at)


def test_skip_reasons() -> None:
    policy = DeliveryPolicy(lease=timedelta(minutes=15), max_attempts=3)
    later = NOW + timedelta(minutes=5)
    assert skip_reason(delivery(DeliveryStatus.SENT), later, policy) == "already_sent"
    assert skip_reason(delivery(DeliveryStatus.SENDING), later, policy) == "in_progress"
    assert skip_reason(delivery(DeliveryStatus.FAILED, attempts=3), later, policy) == "gave_up"
    # A claim past its lease or a failure with attempts left were claimable: someone else took them first
    assert skip_reason(delivery(DeliveryStatus.SENDING), NOW + timedelta(minutes=16), policy) == "claimed_elsewhere"
    assert skip_reason(delivery(DeliveryStatus.FAILED, attempts=1), later, policy) == "claimed_elsewhere"


def test_addresses() -> None:
    assert normalize_address("  Ann.Lee@Example.COM ") == "ann.lee@example.com"
    assert is_plain_address("ann.lee+costs@example.co.uk")
    for bad in [
        "ann",
        "ann@localhost",
        "Ann <ann@example.com>",
        "ann@example.com, bob@example.com",
        "ann@example.com\r\nBcc: eve@example.com",
        "ann @example.com",
        "ann@@example.com",
        "",
    ]:
        assert not is_plain_address(bad), bad
