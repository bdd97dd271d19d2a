"""Least privilege, asserted as exact allowed actions per function role and per resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra import constants as c
from tests.infra.conftest import Synth, as_list

Statements = Callable[[str], list[dict[str, Any]]]

TABLE_READ = {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}
TABLE_WRITE = {
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
KEY_READ = {"kms:Decrypt", "kms:DescribeKey"}

# What the issue asks, spelled out here rather than read back from infra/constants.py.
EXPECTED_WRITES = {
    "aggregate_llm_costs": {"MusterAgent", "MusterAgentCostHourly", "MusterAgentCostDaily", "MusterCostRollup"},
    "fetch_cloud_costs": {"MusterCloudConnection", "MusterAgentCloudCostDaily", "MusterCostRollup"},
    "fetch_exchange_rates": {"MusterExchangeRate"},
    "send_weekly_report": {"MusterReportLog"},
    "costs_api": set(),
}
API_READS = {
    "MusterAgent",
    "MusterAgentCostDaily",
    "MusterAgentCloudCostDaily",
    "MusterExchangeRate",
    "MusterCostRollup",
    "MusterSettings",
    "MusterModelPricing",
}
EXPECTED_READS = {
    "aggregate_llm_costs": {"MusterAgent", "MusterModelPricing"},
    "fetch_cloud_costs": {"MusterAgent", "MusterCloudConnection"},
    "fetch_exchange_rates": set(),
    "send_weekly_report": API_READS | {"MusterCloudConnection"},  # failed connections are in the report
    "costs_api": API_READS,
}
FUNCTIONS = sorted(EXPECTED_WRITES)


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs the Allow statements grant; resources as canonical strings."""
    pairs = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                pairs.add((action, repr(resource)))
    return pairs


def actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for action, _ in grants(statements)}


def table_arn(synth: Synth, logical_name: str) -> str:
    return repr({"Fn::GetAtt": [synth.logical_id(synth.stack.tables.by_name[logical_name]), "Arn"]})


def tables_with(synth: Synth, pairs: set[tuple[str, str]], action: str) -> set[str]:
    arns = {table_arn(synth, name): name for name in synth.stack.tables.by_name}
    return {arns[resource] for granted, resource in pairs if granted == action and resource in arns}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_writes_only_its_own_tables(synth: Synth, role_statements: Statements, function: str) -> None:
    pairs = grants(role_statements(function))
    for action in TABLE_WRITE:
        assert tables_with(synth, pairs, action) == EXPECTED_WRITES[function], action


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_reads_only_what_it_uses(synth: Synth, role_statements: Statements, function: str) -> None:
    pairs = grants(role_statements(function))
    for action in TABLE_READ:
        assert tables_with(synth, pairs, action) == EXPECTED_READS[function] | EXPECTED_WRITES[function], action
    dynamodb_resources = {resource for action, resource in pairs if action.startswith("dynamodb:")}
    assert all("/index/" not in resource and "*" not in resource for resource in dynamodb_resources)


def test_api_role_is_read_only(role_statements: Statements) -> None:
    assert actions(role_statements("costs_api")) == TABLE_READ | KEY_READ | LOGS | XRAY


def test_secret_is_readable_only_by_the_llm_worker(synth: Synth, role_statements: Statements) -> None:
    for function in FUNCTIONS:
        granted = {pair for pair in grants(role_statements(function)) if pair[0].startswith("secretsmanager:")}
        if function != "aggregate_llm_costs":
            assert granted == set(), function
            continue
        ((action, resource),) = granted
        assert action == "secretsmanager:GetSecretValue"
        assert "secret:muster-costs/langfuse-??????" in resource  # by name; "-??????" is Secrets Manager's suffix


def test_only_the_cloud_worker_assumes_roles_and_only_reader_roles(role_statements: Statements) -> None:
    for function in FUNCTIONS:
        granted = {pair for pair in grants(role_statements(function)) if pair[0].startswith("sts:")}
        if function != "fetch_cloud_costs":
            assert granted == set(), function
            continue
        ((action, resource),) = granted
        assert action == "sts:AssumeRole"
        assert resource == repr(
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::*:role/MusterCostReader*"]]}
        )


def test_only_the_report_sends_mail_from_the_configured_identity(role_statements: Statements) -> None:
    for function in FUNCTIONS:
        granted = {pair for pair in grants(role_statements(function)) if pair[0].startswith("ses:")}
        if function != "send_weekly_report":
            assert granted == set(), function
            continue
        assert {action for action, _ in granted} == {"ses:SendEmail", "ses:SendRawEmail"}
        identities = {resource for _, resource in granted}
        assert len(identities) == 2
        assert any(":identity/costs@example.com" in r for r in identities)
        assert any(":identity/example.com" in r for r in identities)


def test_no_mail_permission_without_a_sender(default_synth: Synth) -> None:
    report_role = default_synth.logical_id(default_synth.stack.workers["send_weekly_report"].role)
    assert "ses:" not in str(default_synth.resources[report_role])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_xray_uses_a_wildcard_resource(role_statements: Statements, function: str) -> None:
    pairs = grants(role_statements(function))
    assert {action for action, resource in pairs if resource == repr("*")} == XRAY
    assert all("*" not in action for action, _ in pairs)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_writes_only_its_own_log_group(synth: Synth, role_statements: Statements, function: str) -> None:
    construct = synth.stack.api_function if function == c.COSTS_API.name else synth.stack.workers[function]
    own = repr({"Fn::GetAtt": [synth.logical_id(construct.log_group), "Arn"]})
    pairs = grants(role_statements(function))
    assert {resource for action, resource in pairs if action.startswith("logs:")} == {own}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_role_is_assumable_only_by_lambda(synth: Synth, function: str) -> None:
    construct = synth.stack.api_function if function == c.COSTS_API.name else synth.stack.workers[function]
    trust = synth.resources[synth.logical_id(construct.role)]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in synth.resources[synth.logical_id(construct.role)]["Properties"]
