"""Every route and parameter of the cost API through the Lambda handler (API Gateway REST events, moto)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from shared.dal.settings import settings_repository
from shared.domain.settings import ProjectSettings
from tests.integration.test_api_support import api_stack, call, frozen_today, mul, ok, seed

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(scope="module", autouse=True)
def seeded() -> Iterator[None]:
    with api_stack(), frozen_today():
        seed()
        yield


@pytest.fixture
def project() -> Iterator[None]:
    """Tests that change the project settings put the defaults back."""
    yield
    settings_repository().save_project_settings(ProjectSettings())


USD_LATEST = {"mode": "latest", "rate": "1", "exactRate": "1", "rateDate": "2026-03-20", "source": "USD"}
USD_LATEST |= {"stale": False, "fallback": False}


def test_summary_in_usd_over_three_days() -> None:
    body = ok("/costs/summary?days=3")
    assert body["currency"] == "USD"
    assert body["fx"] == USD_LATEST
    assert body["window"] == {"from": "2026-03-18", "to": "2026-03-20", "days": 3}
    assert body["totals"] == {
        "llmCost": "3.9125",
        "cloudCost": "9.0496913569",
        "totalCost": "12.9621913569",
        "inputTokens": 1200 + 6510 + 300 + 100,  # input + cached read + cache write
        "outputTokens": 300 + 700 + 40 + 50,  # output + reasoning
        "observations": 18,
    }
    assert body["daily"] == [
        {
            "date": "2026-03-18",
            "llmCost": "1.5",
            "cloudCost": "2.6234567891",
            "totalCost": "4.1234567891",
            "inputTokens": 1200,
            "outputTokens": 300,
            "observations": 10,
        },
        {
            "date": "2026-03-19",
            "llmCost": "2.1625",
            "cloudCost": "5.675",
            "totalCost": "7.8375",
            "inputTokens": 6810,
            "outputTokens": 740,
            "observations": 7,
        },
        {
            "date": "2026-03-20",
            "llmCost": "0.25",
            "cloudCost": "0.7512345678",
            "totalCost": "1.0012345678",
            "inputTokens": 100,
            "outputTokens": 50,
            "observations": 1,
        },
    ]
    assert body["topAgents"] == [
        {"agentId": "research-agent", "name": "Research", "llmCost": "2.125", "cloudCost": "5.675", "totalCost": "7.8"},
        {
            "agentId": "support-agent",
            "name": "Support bot",
            "llmCost": "1.75",
            "cloudCost": "3.1234567891",
            "totalCost": "4.8734567891",
        },
        {
            "agentId": "unallocated:conn-1",
            "name": "Unallocated (conn-1)",
            "llmCost": "0",
            "cloudCost": "0.2512345678",
            "totalCost": "0.2512345678",
        },
        {
            "agentId": "unattributed",
            "name": "Unattributed (no trace name)",
            "llmCost": "0.0375",
            "cloudCost": "0",
            "totalCost": "0.0375",
        },
    ]
    assert body["unpriced"] == [
        {"model": "acme-finetune-v2", "observations": 2, "inputTokens": 100, "outputTokens": 20}
    ]


def test_daily_series_is_zero_filled_and_the_default_window_is_30_days() -> None:
    body = ok("/costs/summary")
    assert body["window"] == {"from": "2026-02-19", "to": "2026-03-20", "days": 30}
    assert [d["date"] for d in body["daily"]][:2] == ["2026-02-19", "2026-02-20"]
    assert len(body["daily"]) == 30
    empty = body["daily"][0]
    assert empty == {
        "date": "2026-02-19",
        "llmCost": "0",
        "cloudCost": "0",
        "totalCost": "0",
        "inputTokens": 0,
        "outputTokens": 0,
        "observations": 0,
    }
    assert body["totals"]["totalCost"] == "12.9621913569"  # 2026-02-01 lies outside


def test_from_to_window_includes_both_ends_and_excludes_other_days() -> None:
    body = ok("/costs/summary?from=2026-02-01&to=2026-02-01")
    assert body["window"] == {"from": "2026-02-01", "to": "2026-02-01", "days": 1}
    assert (body["totals"]["llmCost"], body["totals"]["cloudCost"]) == ("100", "50")
    body = ok("/costs/summary?from=2026-03-19&to=2026-03-19")
    assert body["totals"]["totalCost"] == "7.8375"


def test_agents_breakdown_with_reserved_rows_and_zero_filled_trends() -> None:
    body = ok("/costs/agents?days=3")
    assert [(a["agentId"], a["name"], a["totalCost"]) for a in body["agents"]] == [
        ("research-agent", "Research", "7.8"),
        ("support-agent", "Support bot", "4.8734567891"),
        ("unallocated:conn-1", "Unallocated (conn-1)", "0.2512345678"),
        ("unattributed", "Unattributed (no trace name)", "0.0375"),
    ]
    support = body["agents"][1]
    assert support | {"trend": None} == {
        "agentId": "support-agent",
        "name": "Support bot",
        "llmCost": "1.75",
        "cloudCost": "3.1234567891",
        "totalCost": "4.8734567891",
        "inputTokens": 1300,
        "outputTokens": 350,
        "observations": 11,
        "trend": None,
    }
    assert support["trend"] == [
        {"date": "2026-03-18", "llmCost": "1.5", "cloudCost": "3.1234567891", "totalCost": "4.6234567891"},
        {"date": "2026-03-19", "llmCost": "0", "cloudCost": "0", "totalCost": "0"},
        {"date": "2026-03-20", "llmCost": "0.25", "cloudCost": "0", "totalCost": "0.25"},
    ]
    unallocated = body["agents"][2]
    assert [t["cloudCost"] for t in unallocated["trend"]] == ["-0.5", "0", "0.7512345678"]


def test_agent_detail_by_model_by_service_and_unpriced() -> None:
    body = ok("/costs/agents/support-agent?days=3")
    assert (body["currency"], body["fx"], body["window"]["days"]) == ("USD", USD_LATEST, 3)
    assert (body["agentId"], body["name"], body["llmCost"], body["cloudCost"], body["totalCost"]) == (
        "support-agent",
        "Support bot",
        "1.75",
        "3.1234567891",
        "4.8734567891",
    )
    assert (body["inputTokens"], body["outputTokens"], body["observations"]) == (1300, 350, 11)
    assert body["byModel"] == [
        {
            "model": "gpt-4o",
            "cost": "1.75",
            "inputTokens": 1200,
            "outputTokens": 330,
            "observations": 9,
            "tokens": {"input": 1000, "cachedRead": 200, "cacheWrite": 0, "output": 330, "reasoning": 0},
        }
    ]
    assert body["byService"] == [{"service": "AmazonBedrock", "cost": "3.1234567891"}]
    assert body["unpriced"] == [
        {"model": "acme-finetune-v2", "observations": 2, "inputTokens": 100, "outputTokens": 20}
    ]
    assert [t["totalCost"] for t in body["trend"]] == ["4.6234567891", "0", "0.25"]


def test_agent_detail_equals_its_line_in_the_breakdown_in_every_mode() -> None:
    # The detail is computed from the agent's own rows; the breakdown from the per-day rollup.
    for query in ("days=3", "days=30&currency=EUR", "days=3&currency=MYR&fx=daily", "from=2026-02-01&to=2026-03-20"):
        listed = {a["agentId"]: a for a in ok(f"/costs/agents?{query}")["agents"]}
        for agent_id, line in listed.items():
            detail = ok(f"/costs/agents/{agent_id}?{query}")
            assert {k: detail[k] for k in line} == line, (query, agent_id)


def test_research_agent_has_two_services_sorted_by_cost() -> None:
    body = ok("/costs/agents/research-agent?days=3")
    assert body["byService"] == [
        {"service": "AmazonSageMaker", "cost": "4.8"},
        {"service": "AmazonBedrock", "cost": "0.875"},
    ]
    assert body["byModel"][0]["tokens"] == {
        "input": 10,
        "cachedRead": 5000,
        "cacheWrite": 1500,
        "output": 700,
        "reasoning": 0,
    }


def test_reserved_ids_resolve_when_they_have_costs() -> None:
    body = ok("/costs/agents/unallocated:conn-1?days=3")
    assert (body["name"], body["cloudCost"], body["llmCost"]) == ("Unallocated (conn-1)", "0.2512345678", "0")
    assert ok("/costs/agents/unallocated%3Aconn-1?days=3")["agentId"] == "unallocated:conn-1"  # percent-encoded
    assert ok("/costs/agents/unattributed?days=3")["llmCost"] == "0.0375"


def test_a_configured_agent_without_costs_is_all_zeros() -> None:
    body = ok("/costs/agents/idle-agent?days=2")
    assert (body["name"], body["totalCost"], body["byModel"], body["byService"]) == ("Idle", "0", [], [])
    assert body["trend"] == [
        {"date": "2026-03-19", "llmCost": "0", "cloudCost": "0", "totalCost": "0"},
        {"date": "2026-03-20", "llmCost": "0", "cloudCost": "0", "totalCost": "0"},
    ]


@pytest.mark.parametrize(
    "target",
    [
        "/costs/agents/nobody",
        "/costs/agents/unallocated:conn-9",
        "/costs/agents/unattributed?from=2026-01-01&to=2026-01-31",  # reserved, but nothing in that window
    ],
)
def test_unknown_agents_are_404_in_the_error_shape(target: str) -> None:
    status, body = call(target)
    assert status == 404
    assert body["error"]["code"] == "not_found" and "unknown agent" in body["error"]["message"]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}


# --- conversion: expected figures computed here from the stored rates --------------------------------------------


def test_latest_rate_converts_every_figure() -> None:
    # Given EUR rows dated 03-17 (0.92) and 03-19 (0.9): the latest is 0.9
    body = ok("/costs/summary?days=3&currency=eur")
    assert body["currency"] == "EUR"
    assert body["fx"] == {
        "mode": "latest",
        "rate": "0.9",
        "exactRate": "0.9",
        "rateDate": "2026-03-19",
        "source": "ECB",
        "stale": False,
        "fallback": False,
    }
    totals = body["totals"]
    assert Decimal(totals["llmCost"]) == mul("3.9125", "0.9")
    assert Decimal(totals["cloudCost"]) == mul("9.0496913569", "0.9")
    assert Decimal(totals["totalCost"]) == mul("12.9621913569", "0.9")
    assert [Decimal(d["totalCost"]) for d in body["daily"]] == [
        mul("4.1234567891", "0.9"),
        mul("7.8375", "0.9"),
        mul("1.0012345678", "0.9"),
    ]
    assert body["topAgents"][0]["totalCost"] == "7.02"  # 7.8 × 0.9


def test_daily_rates_convert_each_day_at_its_own_date() -> None:
    # Given EUR 0.92 on 03-17 and 0.9 on 03-19: 03-18 uses 03-17's rate, 03-19 and 03-20 use 03-19's
    body = ok("/costs/summary?days=3&currency=EUR&fx=daily")
    assert body["fx"] == {
        "mode": "daily",
        "rateDateFrom": "2026-03-17",
        "rateDateTo": "2026-03-19",
        "sources": ["ECB"],
        "stale": False,
        "fallback": False,
    }
    day18 = mul("4.1234567891", "0.92")
    day19 = mul("7.8375", "0.9")
    day20 = mul("1.0012345678", "0.9")
    assert [Decimal(d["totalCost"]) for d in body["daily"]] == [day18, day19, day20]
    assert Decimal(body["totals"]["totalCost"]) == day18 + day19 + day20
    assert Decimal(body["totals"]["llmCost"]) == mul("1.5", "0.92") + mul("2.1625", "0.9") + mul("0.25", "0.9")
    # the support agent: 03-18 at 0.92, 03-20 at 0.9
    support = ok("/costs/agents/support-agent?days=3&currency=EUR&fx=daily")
    assert Decimal(support["totalCost"]) == mul("4.6234567891", "0.92") + mul("0.25", "0.9")
    assert Decimal(support["byModel"][0]["cost"]) == mul("1.5", "0.92") + mul("0.25", "0.9")


def test_preferred_source_and_fallback_are_reported() -> None:
    # MYR: BNM is preferred; on 03-18 only ECB's cross rate exists (a fallback)
    latest = ok("/costs/summary?days=3&currency=MYR")["fx"]
    assert (latest["rate"], latest["source"], latest["fallback"]) == ("4.5", "BNM", False)
    daily = ok("/costs/summary?days=3&currency=MYR&fx=daily")
    assert daily["fx"]["sources"] == ["BNM", "ECB"] and daily["fx"]["fallback"] is True
    assert Decimal(daily["daily"][0]["totalCost"]) == mul("4.1234567891", "4.4")
    assert Decimal(daily["daily"][1]["totalCost"]) == mul("7.8375", "4.5")


def test_idr_uses_bank_indonesia_and_exact_amounts() -> None:
    body = ok("/costs/summary?days=3&currency=IDR")
    assert (body["fx"]["source"], body["fx"]["rate"]) == ("BI", "16000")
    assert body["totals"]["totalCost"] == "207395.0617104"  # 12.9621913569 × 16000, exact


def test_a_stale_rate_is_used_and_flagged() -> None:
    body = ok("/costs/summary?days=3&currency=SGD")
    assert (body["fx"]["rateDate"], body["fx"]["stale"]) == ("2026-03-02", True)
    assert Decimal(body["totals"]["totalCost"]) == mul("12.9621913569", "1.3")


def test_a_currency_without_any_rate_is_503_not_a_wrong_figure() -> None:
    status, body = call("/costs/summary?currency=GBP")
    assert status == 503
    assert body == {"error": {"code": "rate_unavailable", "message": "no exchange rate stored for GBP"}}


@pytest.mark.parametrize("currency", ["USD", "EUR", "MYR", "IDR", "SGD"])
@pytest.mark.parametrize("fx", ["latest", "daily"])
def test_sums_reconcile_exactly_on_the_returned_strings(currency: str, fx: str) -> None:
    query = f"currency={currency}&fx={fx}&from=2026-02-01&to=2026-03-20"
    summary = ok(f"/costs/summary?{query}")
    agents = ok(f"/costs/agents?{query}")["agents"]
    totals = summary["totals"]

    def total(rows: list[dict[str, Any]], key: str) -> Decimal:
        return sum((Decimal(row[key]) for row in rows), Decimal(0))

    assert Decimal(totals["totalCost"]) == Decimal(totals["llmCost"]) + Decimal(totals["cloudCost"])
    for key in ("llmCost", "cloudCost", "totalCost"):
        assert total(summary["daily"], key) == Decimal(totals[key])
        assert total(agents, key) == Decimal(totals[key])
    for key in ("inputTokens", "outputTokens", "observations"):
        assert sum(d[key] for d in summary["daily"]) == totals[key] == sum(a[key] for a in agents)
    for row in [*summary["daily"], *summary["topAgents"], *agents]:
        assert Decimal(row["totalCost"]) == Decimal(row["llmCost"]) + Decimal(row["cloudCost"])
    for agent in agents:
        for key in ("llmCost", "cloudCost", "totalCost"):
            assert total(agent["trend"], key) == Decimal(agent[key])


# --- settings: default currency and the period -------------------------------------------------------------------


def test_the_default_currency_comes_from_the_settings(project: None) -> None:
    settings_repository().save_project_settings(ProjectSettings(default_currency="EUR"))
    assert ok("/costs/summary?days=3")["currency"] == "EUR"
    assert ok("/costs/summary?days=3&currency=usd")["currency"] == "USD"


def test_period_is_month_to_date_without_settings() -> None:
    body = ok("/costs/period")
    assert body == {
        "currency": "USD",
        "fx": USD_LATEST,
        "periodStart": "2026-03-01",
        "periodEnd": "2026-03-20",
        "configured": False,
        "totalCost": "12.9621913569",
    }


def test_period_with_allowance_in_another_currency(project: None) -> None:
    from datetime import date

    settings_repository().save_project_settings(
        ProjectSettings(period_start=date(2026, 2, 1), period_end=date(2026, 2, 28), allowance_usd=Decimal(600))
    )
    body = ok("/costs/period?currency=EUR")
    assert (body["periodStart"], body["periodEnd"], body["configured"]) == ("2026-02-01", "2026-02-28", True)
    assert body["totalCost"] == "135"  # (100 + 50) × 0.9
    assert body["allowance"] == "540"  # 600 × 0.9
    assert body["percentUsed"] == "25.00"  # 150 / 600, in USD
    daily = ok("/costs/period?currency=EUR&fx=daily")
    # 02-01 precedes every stored rate: it takes the oldest one (0.92, 03-17), flagged stale
    assert (daily["totalCost"], daily["fx"]["rateDateFrom"], daily["fx"]["stale"]) == ("138", "2026-03-17", True)
    assert daily["allowance"] == "552"  # 600 × 0.92, the rate of the period's last day


def test_percent_used_is_rounded_half_up_in_usd(project: None) -> None:
    from datetime import date

    settings_repository().save_project_settings(
        ProjectSettings(period_start=date(2026, 3, 18), period_end=date(2026, 3, 20), allowance_usd=Decimal(7))
    )
    body = ok("/costs/period")
    assert body["totalCost"] == "12.9621913569"
    assert body["percentUsed"] == "185.17"  # 12.9621913569 / 7 × 100 = 185.1741622...


# --- bad input: 400 in the error shape, never a 5xx ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "code", "fragment"),
    [
        ("/costs/summary?currency=JPY", "unsupported_currency", "unsupported currency 'JPY'"),
        ("/costs/summary?currency=", "invalid_parameter", "currency"),
        ("/costs/summary?currency=euro", "invalid_parameter", "currency"),
        ("/costs/summary?days=0", "invalid_parameter", "days"),
        ("/costs/summary?days=367", "invalid_parameter", "days"),
        ("/costs/summary?days=abc", "invalid_parameter", "days"),
        ("/costs/summary?days=1.5", "invalid_parameter", "days"),
        ("/costs/summary?from=2026-03-10&to=2026-03-01", "invalid_parameter", "is after"),
        ("/costs/summary?from=2026-03-10", "invalid_parameter", "give both"),
        ("/costs/summary?to=2026-03-10", "invalid_parameter", "give both"),
        ("/costs/summary?days=3&from=2026-03-01&to=2026-03-02", "invalid_parameter", "not both"),
        ("/costs/summary?from=2025-01-01&to=2026-01-02", "invalid_parameter", "at most 366 days"),
        ("/costs/summary?from=2026-02-30&to=2026-03-02", "invalid_parameter", "not a valid date"),
        ("/costs/summary?from=20260301&to=2026-03-02", "invalid_parameter", "from"),
        ("/costs/summary?fx=weekly", "invalid_parameter", "fx"),
        ("/costs/summary?cur=EUR", "unknown_parameter", "cur"),
        ("/costs/agents?page=2", "unknown_parameter", "page"),
        ("/costs/period?days=3", "unknown_parameter", "days"),
        ("/costs/agents/support-agent?agentId=x", "unknown_parameter", "agentId"),
        ("/costs/summary?days=3&days=4", "invalid_parameter", "more than once"),
        ("/costs/summary?currency=EUR&currency=USD", "invalid_parameter", "more than once"),
        ("/costs/agents/" + "x" * 201, "invalid_parameter", "1 to 200 characters"),
        ("/costs/agents?currency=XXX", "unsupported_currency", "XXX"),
        ("/costs/period?currency=xyz", "unsupported_currency", "xyz"),
        ("/costs/period?fx=", "invalid_parameter", "fx"),
    ],
)
def test_bad_input_is_400_with_the_json_error_shape(target: str, code: str, fragment: str) -> None:
    status, body = call(target)
    assert status == 400, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert fragment in body["error"]["message"]


@pytest.mark.parametrize("target", ["/costs", "/costs/summary/extra", "/costs/agents/a/b", "/"])
def test_unknown_routes_are_404_in_the_error_shape(target: str) -> None:
    status, body = call(target)
    assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    ["from=0001-01-01&to=0001-01-01", "from=9999-12-31&to=9999-12-31", "from=9999-01-01&to=9999-12-31"],
)
@pytest.mark.parametrize("currency", ["USD", "EUR"])
@pytest.mark.parametrize("fx", ["latest", "daily"])
def test_extreme_dates_answer_without_a_server_error(query: str, currency: str, fx: str) -> None:
    for route in ("/costs/summary", "/costs/agents", "/costs/agents/support-agent"):
        status, body = call(f"{route}?{query}&currency={currency}&fx={fx}")
        assert status in (200, 404), body
