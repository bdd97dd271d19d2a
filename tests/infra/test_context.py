"""cdk.json context: documented defaults, validated values, partial schedule overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import constants as c
from infra.context import CONTEXT_DEFAULTS, ContextError, DeployConfig

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def _cdk_json() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(CDK_JSON.read_text())
    return loaded


def test_cdk_json_runs_the_app_through_uv() -> None:
    assert _cdk_json()["app"] == "uv run --frozen python -m infra.app"


def test_cdk_json_spells_out_every_default() -> None:
    context = _cdk_json()["context"]
    assert {key: context[key] for key in CONTEXT_DEFAULTS} == dict(CONTEXT_DEFAULTS)


def test_defaults() -> None:
    config = DeployConfig.from_mapping({})
    assert config.langfuse_host == "https://cloud.langfuse.com"
    assert config.default_currency == "USD"
    assert config.schedules["fetch_exchange_rates"] == ("cron(30 16 * * ? *)", "cron(0 6 * * ? *)")
    assert config.report_sender == "" and config.alarm_email == ""


def test_command_line_strings_are_accepted() -> None:
    # `cdk deploy -c llmLookbackHours=6 -c defaultCurrency=eur` passes strings
    config = DeployConfig.from_mapping({"llmLookbackHours": "6", "defaultCurrency": "eur"})
    assert config.llm_lookback_hours == 6
    assert config.default_currency == "EUR"


def test_a_schedule_override_keeps_the_other_defaults() -> None:
    config = DeployConfig.from_mapping({"schedules": {"fetch_cloud_costs": "cron(0 8 * * ? *)"}})
    assert config.schedules["fetch_cloud_costs"] == ("cron(0 8 * * ? *)",)
    assert config.schedules["aggregate_llm_costs"] == c.AGGREGATE_LLM_COSTS.schedules


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({"defaultCurrency": "XYZ"}, "defaultCurrency"),
        ({"llmLookbackHours": 0}, "llmLookbackHours"),
        ({"llmLookbackHours": "three"}, "llmLookbackHours"),
        ({"alarmEmail": "not-an-address"}, "alarmEmail"),
        ({"langfuseHost": "cloud.langfuse.com"}, "langfuseHost"),
        ({"schedules": {"aggregate_llm_costs": ["every hour"]}}, "schedules"),
        ({"schedules": {"no_such_worker": ["rate(1 hour)"]}}, "schedules"),
        ({"logRetentionDays": 45}, "logRetentionDays"),
        ({"connectionRolePrefix": "bad prefix"}, "connectionRolePrefix"),
    ],
)
def test_invalid_values_fail_with_the_key_named(raw: dict[str, Any], names: str) -> None:
    with pytest.raises(ContextError, match=names):
        DeployConfig.from_mapping(raw)
