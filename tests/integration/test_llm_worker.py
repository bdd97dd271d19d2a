"""The hourly LLM worker end to end: handler → Langfuse client over real HTTP (local server) → moto DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest

from functions.aggregate_llm_costs.handler import handler
from shared.config import Settings, get_settings, reset_settings
from shared.dal.factory import reset_repositories
from shared.dal.llm_costs import llm_cost_repository
from shared.dal.rollup import rollup_repository
from shared.errors import SourceError
from shared.local.lambda_context import LocalLambdaContext
from shared.local.langfuse_server import Fault, LocalLangfuse
from shared.services.agents import AgentService
from shared.services.llm_costs import HourWindow, LlmCostService, run_llm_aggregation
from shared.services.pricing import PricingService
from shared.sources.langfuse import LangfuseClient

DAY = "2026-03-18"
NOW = datetime(2026, 3, 18, 17, 20, tzinfo=UTC)  # the default window is 14:00–17:00


def obs(i: int, hour: int, trace: str | None, model: str, usage: dict[str, Any], minute: int = 10) -> dict[str, Any]:
    return {
        "id": f"obs-{i}",
        "traceId": f"trace-{trace}-{i}",
        "type": "GENERATION",
        "startTime": f"{DAY}T{hour:02d}:{minute:02d}:00.000Z",
        "traceName": trace,
        "model": model,
        "usageDetails": usage,
        "modelParameters": {},
    }


@pytest.fixture
def langfuse(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalLangfuse]:
    with LocalLangfuse() as server:
        monkeypatch.setenv("LANGFUSE_HOST", server.url)
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", server.state.public_key)
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", server.state.secret_key)
        reset_settings()
        reset_repositories()
        PricingService().set_price(
            {
                "provider": "openai",
                "model": "gpt-4o",
                "matchPattern": None,
                "inputPer1kUsd": "0.0025",
                "outputPer1kUsd": "0.01",
                "cachedReadPer1kUsd": "0.00125",
            }
        )
        PricingService().set_price(
            {
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "matchPattern": None,
                "inputPer1kUsd": "0.003",
                "outputPer1kUsd": "0.015",
                "cachedReadPer1kUsd": "0.0003",
                "cacheWritePer1kUsd": "0.00375",
            }
        )
        yield server


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    return handler(event or {"from": f"{DAY}T14:00:00Z", "to": f"{DAY}T17:00:00Z"}, LocalLambdaContext())


def all_items(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    items = client.scan(TableName=table)["Items"]
    return sorted(items, key=lambda item: repr(sorted(item.items())))


def stored_state() -> dict[str, list[dict[str, Any]]]:
    settings = get_settings()
    names = ("MusterAgentCostHourly", "MusterAgentCostDaily", "MusterCostRollup", "MusterAgent")
    return {name: all_items(settings.table_name(name)) for name in names}


def test_generations_become_exact_daily_costs_per_agent(langfuse: LocalLangfuse) -> None:
    # Given generations of two agents, one unattributed call and one model without a price
    langfuse.state.observations = [
        obs(
            1, 14, "support-agent", "gpt-4o", {"input": 1200, "input_cached_tokens": 800, "output": 350, "total": 2350}
        ),
        obs(2, 15, "support-agent", "gpt-4o", {"input": 100, "output": 10}),
        obs(
            3,
            15,
            "research-agent",
            "us.anthropic.claude-sonnet-4-5-v1:0",
            {"input": 25, "cache_read_input_tokens": 18000, "cache_creation_input_tokens": 1500, "output": 900},
        ),
        obs(4, 16, "research-agent", "my-finetune", {"input": 70, "output": 30}),
        obs(5, 16, None, "gpt-4o", {"input": 1000, "output": 0}),
    ]
    # When the worker runs through its handler
    summary = run()
    # Then each agent has its exact day, unpriced usage is kept, and new trace names became agents
    assert summary["status"] == "ok"
    assert summary["observations"] == 5
    assert summary["unpricedModels"] == {"my-finetune": 1}
    assert sorted(summary["newAgents"]) == ["research-agent", "support-agent"]
    costs = llm_cost_repository()
    (support,) = costs.daily_for_agent("support-agent", DAY, DAY)
    assert support.cost == Decimal("0.003") + Decimal("0.001") + Decimal("0.0035") + Decimal("0.00025") + Decimal(
        "0.0001"
    )
    (research,) = costs.daily_for_agent("research-agent", DAY, DAY)
    assert research.cost == Decimal("0.000075") + Decimal("0.0054") + Decimal("0.005625") + Decimal("0.0135")
    assert [(u.model, u.observations, u.tokens.total) for u in research.unpriced] == [("my-finetune", 1, 100)]
    (unattributed,) = costs.daily_for_agent("unattributed", DAY, DAY)
    assert unattributed.cost == Decimal("0.0025")
    (rollup,) = rollup_repository().days(DAY, DAY)
    assert set(rollup.llm) == {"support-agent", "research-agent", "unattributed"}
    assert {a.agent_id for a in AgentService().list_agents()} == {"support-agent", "research-agent"}


def test_rerunning_a_window_leaves_byte_identical_items(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [
        obs(i, 14 + i % 3, f"agent-{i % 4}", "gpt-4o", {"input": 10 * i, "output": i}) for i in range(40)
    ]
    run()
    first = stored_state()
    run()
    run({"from": f"{DAY}T15:00:00Z", "to": f"{DAY}T16:00:00Z"})  # an overlapping, smaller window
    assert stored_state() == first


def test_cursor_pages_are_followed_and_duplicates_dropped(
    langfuse: LocalLangfuse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGFUSE_PAGE_LIMIT", "3")
    reset_settings()
    rows = [obs(i, 14, "a", "gpt-4o", {"input": 1000, "output": 0}) for i in range(10)]
    langfuse.state.observations = [*rows, rows[4]]  # an unmerged duplicate write
    summary = run({"from": f"{DAY}T14:00:00Z", "to": f"{DAY}T15:00:00Z"})
    assert summary["observations"] == 10
    assert summary["duplicatesSkipped"] == 1
    assert summary["pages"] == 4 + 1  # four GENERATION pages and one (empty) EMBEDDING page
    (day,) = llm_cost_repository().daily_for_agent("a", DAY, DAY)
    assert day.cost == Decimal("0.025")


def client_for(server: LocalLangfuse, sleeps: list[float]) -> LangfuseClient:
    return LangfuseClient(
        get_settings().langfuse, server.state.public_key, server.state.secret_key, sleep=sleeps.append
    )


def test_429_is_retried_after_the_servers_retry_after(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [obs(1, 14, "a", "gpt-4o", {"input": 1000})]
    langfuse.state.faults.append(Fault(429, {"Retry-After": "7"}))
    sleeps: list[float] = []
    client = client_for(langfuse, sleeps)
    summary = LlmCostService().aggregate(
        HourWindow(datetime(2026, 3, 18, 14, tzinfo=UTC), datetime(2026, 3, 18, 15, tzinfo=UTC)), client
    )
    assert sleeps == [7.0]
    assert summary["observations"] == 1


def test_a_500_then_success_is_retried_with_backoff(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [obs(1, 14, "a", "gpt-4o", {"input": 1000})]
    langfuse.state.faults.extend([Fault(500), Fault(503)])
    sleeps: list[float] = []
    summary = LlmCostService().aggregate(
        HourWindow(datetime(2026, 3, 18, 14, tzinfo=UTC), datetime(2026, 3, 18, 15, tzinfo=UTC)),
        client_for(langfuse, sleeps),
    )
    assert sleeps == [0.5, 1.0]
    assert summary["observations"] == 1


def test_self_hosted_v3_falls_back_to_v1_and_looks_up_trace_names(langfuse: LocalLangfuse) -> None:
    langfuse.state.v2_enabled = False
    langfuse.state.observations = [obs(i, 14, "support-agent", "gpt-4o", {"input": 1000}) for i in range(3)]
    summary = run()
    assert summary["apiVersion"] == "v1"
    (day,) = llm_cost_repository().daily_for_agent("support-agent", DAY, DAY)
    assert (day.observations, day.cost) == (3, Decimal("0.0075"))


def test_a_malformed_row_is_counted_and_the_run_goes_on(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [
        obs(1, 14, "a", "gpt-4o", {"input": 1000}),
        obs(2, 14, "a", "gpt-4o", {"input": -3}),
        {**obs(3, 14, "a", "gpt-4o", {"input": 1}), "model": None},
    ]
    summary = run()
    assert summary["rejected"] == {"missing_model": 1, "negative_tokens": 1}
    assert summary["observations"] == 1


def test_a_page_that_keeps_failing_fails_the_run_without_writing_that_hour(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [
        obs(1, 14, "a", "gpt-4o", {"input": 1000}),
        obs(2, 15, "a", "gpt-4o", {"input": 1000}),
    ]
    langfuse.state.faults.extend([Fault(200, body="{}")] * 0 + [Fault(500)] * 0)
    # The first hour answers; the second hour's page keeps failing (4 attempts).
    client = client_for(langfuse, [])
    window = HourWindow(datetime(2026, 3, 18, 14, tzinfo=UTC), datetime(2026, 3, 18, 16, tzinfo=UTC))
    original = client.observation_pages

    def failing_second_hour(start: datetime, end: datetime) -> Any:
        if start.hour == 15:
            langfuse.state.faults.extend([Fault(502)] * 4)
        return original(start, end)

    client.observation_pages = failing_second_hour  # type: ignore[method-assign]
    with pytest.raises(SourceError):
        LlmCostService().aggregate(window, client)
    assert llm_cost_repository().hour_groups(f"{DAY}T15") == []
    (day,) = llm_cost_repository().daily_for_agent("a", DAY, DAY)
    assert day.observations == 1  # the complete hour landed and its day was rebuilt
    # The next run fills the missing hour.
    run({"from": f"{DAY}T14:00:00Z", "to": f"{DAY}T16:00:00Z"})
    (day,) = llm_cost_repository().daily_for_agent("a", DAY, DAY)
    assert day.observations == 2


def test_a_late_row_is_picked_up_by_the_next_run(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [obs(1, 16, "a", "gpt-4o", {"input": 1000})]
    run_llm_aggregation({}, now=NOW)  # window 14:00–17:00
    langfuse.state.observations.append(obs(2, 16, "a", "gpt-4o", {"input": 1000}, minute=55))  # arrives late
    run_llm_aggregation({}, now=NOW.replace(hour=18))  # window 15:00–18:00 still covers 16:00
    (day,) = llm_cost_repository().daily_for_agent("a", DAY, DAY)
    assert (day.observations, day.cost) == (2, Decimal("0.005"))


def test_reprice_recomputes_from_stored_tokens_without_langfuse(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [obs(1, 14, "a", "my-finetune", {"input": 2000, "output": 1000})]
    run()
    assert llm_cost_repository().daily_for_agent("a", DAY, DAY)[0].cost == 0
    PricingService().set_price(
        {
            "provider": "acme",
            "model": "my-finetune",
            "matchPattern": None,
            "inputPer1kUsd": "0.001",
            "outputPer1kUsd": "0.002",
        }
    )
    langfuse.stop()  # Langfuse is not asked again
    from datetime import date

    summary = LlmCostService().reprice(date(2026, 3, 18), date(2026, 3, 18))
    assert summary["costAfterUsd"] == "0.004"
    (day,) = llm_cost_repository().daily_for_agent("a", DAY, DAY)
    assert (day.cost, day.unpriced) == (Decimal("0.004"), ())


def test_remapping_trace_names_and_repricing_moves_history(langfuse: LocalLangfuse) -> None:
    langfuse.state.observations = [
        obs(1, 14, "billing-v1", "gpt-4o", {"input": 1000}),
        obs(2, 14, "billing-v2", "gpt-4o", {"input": 1000}),
    ]
    run()
    AgentService().set_agent("billing", trace_names=["billing-v1", "billing-v2"])
    from datetime import date

    LlmCostService().reprice(date(2026, 3, 18), date(2026, 3, 18))
    costs = llm_cost_repository()
    assert costs.daily_for_agent("billing-v1", DAY, DAY) == []
    (billing,) = costs.daily_for_agent("billing", DAY, DAY)
    assert billing.cost == Decimal("0.005")


def test_bad_event_windows_are_clear_errors(langfuse: LocalLangfuse) -> None:
    from shared.errors import InvalidInputError

    for event in (
        {"from": "yesterday"},
        {"to": f"{DAY}T10:00:00Z"},
        {"from": f"{DAY}T10:00:00Z", "to": f"{DAY}T09:00:00Z"},
    ):
        with pytest.raises(InvalidInputError):
            run(event)


# --- properties: re-running or splitting a window changes no stored number -----------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

generation = st.fixed_dictionaries(
    {
        "hour": st.integers(14, 16),
        "minute": st.integers(0, 59),
        "trace": st.sampled_from(["a", "b", None]),
        "model": st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "unpriced-model"]),
        "usage": st.dictionaries(
            st.sampled_from(["input", "output", "input_cached_tokens", "cache_creation_input_tokens"]),
            st.integers(0, 50_000),
            min_size=1,
        ),
    }
)


def clear_cost_tables() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    settings_ = get_settings()
    for name, keys in (
        ("MusterAgentCostHourly", ("hour", "groupKey")),
        ("MusterAgentCostDaily", ("agentId", "date")),
        ("MusterCostRollup", ("scope", "date")),
    ):
        table = settings_.table_name(name)
        for item in client.scan(TableName=table)["Items"]:
            client.delete_item(TableName=table, Key={k: item[k] for k in keys})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(generation, min_size=1, max_size=25), st.permutations([14, 15, 16]))
def test_splitting_or_rerunning_a_window_changes_no_stored_number(
    langfuse: LocalLangfuse, generations: list[dict[str, Any]], order: list[int]
) -> None:
    langfuse.state.observations = [
        obs(i, g["hour"], g["trace"], g["model"], g["usage"], minute=g["minute"]) for i, g in enumerate(generations)
    ]
    clear_cost_tables()
    run()
    whole = stored_state()
    clear_cost_tables()
    for hour in order:
        run({"from": f"{DAY}T{hour}:00:00Z", "to": f"{DAY}T{hour + 1}:00:00Z"})
    assert stored_state() == whole
    run()
    assert stored_state() == whole


def test_keys_come_from_secrets_manager_in_aws(langfuse: LocalLangfuse, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no keys in the environment, only the name of a Secrets Manager secret (as the stack configures it)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secrets.create_secret(
        Name="muster/langfuse",
        SecretString=json.dumps({"publicKey": langfuse.state.public_key, "secretKey": langfuse.state.secret_key}),
    )
    secrets.create_secret(Name="muster/broken", SecretString="not json")
    monkeypatch.delenv("LANGFUSE_PUBLIC_KEY")
    monkeypatch.delenv("LANGFUSE_SECRET_KEY")
    monkeypatch.setenv("LANGFUSE_SECRET_NAME", "muster/langfuse")
    reset_settings()
    langfuse.state.observations = [obs(1, 14, "a", "gpt-4o", {"input": 1000})]
    # When the worker runs, then it authenticates with the secret's keys
    assert run()["observations"] == 1
    # And a malformed secret is a clear configuration error, not a crash deep inside
    from aws_lambda_powertools.utilities import parameters

    from shared.errors import ConfigurationError

    parameters.clear_caches()
    monkeypatch.setenv("LANGFUSE_SECRET_NAME", "muster/broken")
    reset_settings()
    with pytest.raises(ConfigurationError, match="muster/broken"):
        run()
