"""The weekly report and the API read the same rollups and rates: for one week their figures are identical."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.dal.cloud import CloudConnectionModel
from shared.domain.money import as_text
from shared.services.reports import build_report
from tests.integration.test_api_support import API_MODELS, api_stack, frozen_today, ok, seed

WEEK, MONDAY, SUNDAY = "2026-W12", "2026-03-16", "2026-03-22"


@pytest.mark.parametrize("currency", ["USD", "EUR", "MYR", "IDR"])
def test_the_report_equals_the_api_for_the_same_week(currency: str) -> None:
    with api_stack((*API_MODELS, CloudConnectionModel)), frozen_today(date(2026, 3, 23)):
        seed()
        summary = ok(f"/costs/summary?from={MONDAY}&to={SUNDAY}&currency={currency}")
        agents = ok(f"/costs/agents?from={MONDAY}&to={SUNDAY}&currency={currency}")["agents"]
        report = build_report(WEEK, currency, now=datetime(2026, 3, 23, 7, tzinfo=UTC))

    # The same rate, the same totals, to the last digit
    assert report.fx.currency == summary["currency"]
    totals = summary["totals"]
    assert as_text(report.llm.current) == totals["llmCost"]
    assert as_text(report.cloud.current) == totals["cloudCost"]
    assert as_text(report.total.current) == totals["totalCost"]
    assert report.observations == totals["observations"]
    assert (report.input_tokens, report.output_tokens) == (totals["inputTokens"], totals["outputTokens"])
    # Day by day
    api_days = {d["date"]: d["totalCost"] for d in summary["daily"]}
    assert {line.day.isoformat(): as_text(line.total) for line in report.days} == api_days
    # Agent by agent (every agent the report lists by name)
    api_agents = {a["agentId"]: a["totalCost"] for a in agents}
    assert report.top_agents
    for line in report.top_agents:
        assert as_text(line.total) == api_agents[line.agent_id], line.agent_id
