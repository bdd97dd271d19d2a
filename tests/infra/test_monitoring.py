"""Alarms for every failure mode notify one encrypted topic; the dashboard shows the workers' metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants as c
from tests.infra.conftest import Synth


def _alarms(synth: Synth) -> list[dict[str, Any]]:
    return [r["Properties"] for r in synth.resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def _metric_of(alarm: dict[str, Any]) -> dict[str, Any]:
    (query,) = alarm["Metrics"]
    stat: dict[str, Any] = query["MetricStat"]
    return stat


def _alarms_on(synth: Synth, namespace: str, metric_name: str) -> list[dict[str, Any]]:
    return [
        a
        for a in _alarms(synth)
        if "MetricStat" in a["Metrics"][0]
        and _metric_of(a)["Metric"]["Namespace"] == namespace
        and _metric_of(a)["Metric"]["MetricName"] == metric_name
    ]


def _notifies_the_topic(synth: Synth, alarm: dict[str, Any]) -> bool:
    topic = {"Ref": synth.logical_id(synth.stack.monitoring.topic)}
    return bool(
        alarm.get("ActionsEnabled", True) and alarm["AlarmActions"] == [topic]
    )  # CloudFormation default: enabled


def test_every_alarm_notifies_the_topic_and_says_what_to_do(synth: Synth) -> None:
    alarms = _alarms(synth)
    assert alarms
    for alarm in alarms:
        assert _notifies_the_topic(synth, alarm), alarm["AlarmName"]
        assert "README.md#alarms" in alarm["AlarmDescription"]


@pytest.mark.parametrize("worker", [spec.name for spec in c.WORKERS])
def test_worker_failures_alarm(synth: Synth, worker: str) -> None:
    function = {"Ref": synth.logical_id(synth.stack.workers[worker].function)}
    (alarm,) = [
        a
        for a in _alarms_on(synth, "AWS/Lambda", "Errors")
        if _metric_of(a)["Metric"]["Dimensions"] == [{"Name": "FunctionName", "Value": function}]
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert _metric_of(alarm)["Stat"] == "Sum"


@pytest.mark.parametrize("worker", [spec.name for spec in c.WORKERS])
def test_dead_letters_alarm(synth: Synth, worker: str) -> None:
    queue = synth.logical_id(synth.stack.workers[worker].dead_letter_queue)
    (alarm,) = [
        a
        for a in _alarms_on(synth, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
        if _metric_of(a)["Metric"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


@pytest.mark.parametrize(
    "metric",
    [
        "StaleExchangeRateSource",
        "CloudConnectionsFailed",
        "UnpricedObservations",
        "WeeklyReportSendFailures",
        "LlmAggregationFailed",
    ],
)
def test_worker_metric_alarm_sums_every_dimension_set(synth: Synth, metric: str) -> None:
    # Metrics Insights: the FX worker adds a `source` dimension, Powertools a `service` one; the sum covers all
    (alarm,) = [
        a for a in _alarms(synth) if a["Metrics"][0].get("Expression") == f"SELECT SUM({metric}) FROM MusterCosts"
    ]
    assert alarm["Metrics"][0]["Period"] == 3600  # Metrics Insights alarms look back at most three hours
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"  # no run, no datapoint: not an alarm by itself


def test_api_server_errors_alarm(synth: Synth) -> None:
    (alarm,) = _alarms_on(synth, "AWS/ApiGateway", "5XXError")
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_alarm_topic_is_encrypted_ssl_only_and_mailed(synth: Synth) -> None:
    topic_id = synth.logical_id(synth.stack.monitoring.topic)
    topic = synth.resources[topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.key), "Arn"]}
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in synth.resources.values()
        if r["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic_id} in r["Properties"]["Topics"]
    ]
    statements = [s for policy in policies for s in policy]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    subscriptions = [r["Properties"] for r in synth.resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscriptions == [{"Protocol": "email", "TopicArn": {"Ref": topic_id}, "Endpoint": "ops@example.com"}]


def test_no_mail_subscription_without_an_alarm_email(default_synth: Synth) -> None:
    assert not [r for r in default_synth.resources.values() if r["Type"] == "AWS::SNS::Subscription"]


def test_cloudwatch_may_use_the_key_for_the_topic(synth: Synth) -> None:
    policy = synth.resources[synth.logical_id(synth.stack.key)]["Properties"]["KeyPolicy"]["Statement"]
    (statement,) = [s for s in policy if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def _dashboard_widgets(synth: Synth) -> list[dict[str, Any]]:
    (dashboard,) = [r["Properties"] for r in synth.resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    parts = dashboard["DashboardBody"]["Fn::Join"][1]
    body = "".join(part if isinstance(part, str) else "TOKEN" for part in parts)
    widgets: list[dict[str, Any]] = json.loads(body)["widgets"]
    return widgets


def test_dashboard_shows_every_worker_metric(synth: Synth) -> None:
    widgets = _dashboard_widgets(synth)
    text = json.dumps(widgets)
    for metric in c.METRICS:
        assert metric.name in text, metric.name
    expressions = {
        line[-1].get("expression")
        for widget in widgets
        for line in widget.get("properties", {}).get("metrics", [])
        if isinstance(line[-1], dict)
    }
    # cost per agent: a SEARCH for the metric whatever its dimensions, so new agents appear without a redeploy
    for metric in (c.LLM_COST_USD, c.CLOUD_COST_USD):
        search = f"SEARCH('MusterCosts MetricName=\"{metric.name}\"', 'Sum', 86400)"
        assert search in expressions
        assert f"SUM({search})" in expressions  # LLM vs cloud totals
    assert any(widget["type"] == "alarm" for widget in widgets)
    titles = {widget.get("properties", {}).get("title", "") for widget in widgets}
    assert any("Latency" in title for title in titles) and any(
        "Errors" in title or "Faults" in title for title in titles
    )
