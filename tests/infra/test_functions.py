"""Each function: runtime, architecture, handler, sizing, logs, tracing, environment and a minimal asset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra import constants as c
from shared.dal.tables import ALL_TABLES
from tests.infra.conftest import Synth

FunctionResource = Callable[[str], dict[str, Any]]
SPECS = {spec.name: spec for spec in c.FUNCTIONS}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_function_runs_python_on_arm64_with_its_handler(function_resource: FunctionResource, name: str) -> None:
    properties = function_resource(name)["Properties"]
    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == f"functions.{name}.handler.handler"
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["MemorySize"] == SPECS[name].memory_mb
    assert properties["Timeout"] == SPECS[name].timeout_seconds


def test_timeouts_fit_their_callers() -> None:
    assert c.COSTS_API.timeout_seconds < 29  # API Gateway's integration limit
    assert c.AGGREGATE_LLM_COSTS.timeout_seconds < 3600  # it runs hourly: a run never overlaps the next


@pytest.mark.parametrize("name", sorted(SPECS))
def test_function_logs_json_to_its_own_retained_log_group(
    synth: Synth, function_resource: FunctionResource, name: str
) -> None:
    construct = synth.stack.api_function if name == c.COSTS_API.name else synth.stack.workers[name]
    log_group_id = synth.logical_id(construct.log_group)
    logging = function_resource(name)["Properties"]["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["LogGroup"] == {"Ref": log_group_id}
    assert logging["ApplicationLogLevel"] == "INFO"  # a stricter level would drop the EMF metric lines
    log_group = synth.resources[log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 90
    assert log_group["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_function_uses_the_dependencies_layer(synth: Synth, function_resource: FunctionResource, name: str) -> None:
    layer_id = synth.logical_id(synth.stack.layer)
    assert function_resource(name)["Properties"]["Layers"] == [{"Ref": layer_id}]
    layer = synth.resources[layer_id]["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.14"]
    assert layer["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_function_environment_names_exactly_its_tables(
    synth: Synth, function_resource: FunctionResource, name: str
) -> None:
    variables = function_resource(name)["Properties"]["Environment"]["Variables"]
    table_vars = {key for key in variables if key.endswith("_TABLE")}
    assert table_vars == {spec.env_var for spec in SPECS[name].tables}
    by_env = {spec.env_var: spec for spec in ALL_TABLES}
    for key in table_vars:
        assert variables[key] == {"Ref": synth.logical_id(synth.stack.tables.table(by_env[key]))}
    assert variables["POWERTOOLS_SERVICE_NAME"] == c.SERVICE_NAME
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == c.METRICS_NAMESPACE


def test_worker_settings_reach_their_functions(synth: Synth, function_resource: FunctionResource) -> None:
    llm = function_resource("aggregate_llm_costs")["Properties"]["Environment"]["Variables"]
    assert llm["LANGFUSE_HOST"] == "https://cloud.langfuse.com"
    assert llm["LANGFUSE_SECRET_NAME"] == "muster-costs/langfuse"
    assert llm["MUSTER_LLM_LOOKBACK_HOURS"] == "3"
    cloud = function_resource("fetch_cloud_costs")["Properties"]["Environment"]["Variables"]
    assert cloud["MUSTER_CONNECTION_ROLE_PREFIX"] == "MusterCostReader"
    assert cloud["MUSTER_CLOUD_LOOKBACK_DAYS"] == "5"
    cloud_role = synth.logical_id(synth.stack.workers["fetch_cloud_costs"].role)
    assert cloud["MUSTER_CLOUD_WORKER_ROLE_ARN"] == {"Fn::GetAtt": [cloud_role, "Arn"]}
    fx = function_resource("fetch_exchange_rates")["Properties"]["Environment"]["Variables"]
    assert fx["ECB_BASE_URL"] == "https://www.ecb.europa.eu"
    assert fx["MUSTER_FX_STALENESS_DAYS"] == "7"
    report = function_resource("send_weekly_report")["Properties"]["Environment"]["Variables"]
    assert report["MUSTER_REPORT_SENDER"] == "costs@example.com"
    assert "LANGFUSE_SECRET_NAME" not in report and "LANGFUSE_SECRET_NAME" not in cloud


def _asset_dir(synth: Synth, function_properties: dict[str, Any]) -> Path:
    key = function_properties["Code"]["S3Key"]
    return synth.outdir / f"asset.{key.removesuffix('.zip')}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_function_asset_holds_only_its_folder_and_shared(
    synth: Synth, function_resource: FunctionResource, name: str
) -> None:
    asset = _asset_dir(synth, function_resource(name)["Properties"])
    assert sorted(p.name for p in asset.iterdir()) == ["functions", "shared"]
    assert sorted(p.name for p in (asset / "functions").iterdir()) == ["__init__.py", name]
    assert (asset / "functions" / name / "handler.py").is_file()
    assert not list(asset.rglob("__pycache__")) and not list(asset.rglob(".*"))
    assert (asset / "shared" / "config.py").is_file()
