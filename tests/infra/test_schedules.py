"""Workers run on the documented schedules; failed runs are retried and then dead-lettered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synth

EXPECTED_SCHEDULES = {
    "aggregate_llm_costs": {"cron(7 * * * ? *)"},  # hourly, a few minutes past the hour
    "fetch_cloud_costs": {"cron(30 6 * * ? *)"},  # daily
    "fetch_exchange_rates": {"cron(30 16 * * ? *)", "cron(0 6 * * ? *)"},  # after the ECB publishes + catch-up
    "send_weekly_report": {"cron(0 7 ? * MON *)", "cron(0 8 ? * MON *)"},  # Monday 07:00 UTC, 08:00 catch-up
}


def _rules_of(synth: Synth, worker: str) -> list[dict[str, Any]]:
    function_id = synth.logical_id(synth.stack.workers[worker].function)
    return [
        r["Properties"]
        for r in synth.resources.values()
        if r["Type"] == "AWS::Events::Rule"
        and any(t["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]} for t in r["Properties"]["Targets"])
    ]


@pytest.mark.parametrize("worker", sorted(EXPECTED_SCHEDULES))
def test_worker_runs_on_its_schedule(synth: Synth, worker: str) -> None:
    rules = _rules_of(synth, worker)
    assert {rule["ScheduleExpression"] for rule in rules} == EXPECTED_SCHEDULES[worker]
    assert all(rule["State"] == "ENABLED" for rule in rules)


def test_the_api_function_is_not_scheduled(synth: Synth) -> None:
    api_id = synth.logical_id(synth.stack.api_function.function)
    targets = [
        t for r in synth.resources.values() if r["Type"] == "AWS::Events::Rule" for t in r["Properties"]["Targets"]
    ]
    assert all(t["Arn"] != {"Fn::GetAtt": [api_id, "Arn"]} for t in targets)


@pytest.mark.parametrize("worker", sorted(EXPECTED_SCHEDULES))
def test_failed_runs_are_retried_then_dead_lettered(synth: Synth, worker: str) -> None:
    construct = synth.stack.workers[worker]
    queue_arn = {"Fn::GetAtt": [synth.logical_id(construct.dead_letter_queue), "Arn"]}
    function_id = synth.logical_id(construct.function)
    # EventBridge: retries a delivery it cannot make, then sends the event to the queue
    for rule in _rules_of(synth, worker):
        (target,) = rule["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": queue_arn}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    # Lambda: retries a run that raised, then sends the event to the same queue
    assert synth.resources[function_id]["Properties"]["DeadLetterConfig"] == {"TargetArn": queue_arn}
    invoke_configs = [
        r["Properties"]
        for r in synth.resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig" and r["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert [config["MaximumRetryAttempts"] for config in invoke_configs] == [2]


@pytest.mark.parametrize("worker", sorted(EXPECTED_SCHEDULES))
def test_dead_letter_queue_is_encrypted_and_ssl_only(synth: Synth, worker: str) -> None:
    queue_id = synth.logical_id(synth.stack.workers[worker].dead_letter_queue)
    assert synth.resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
    (policy,) = [
        r["Properties"]["PolicyDocument"]
        for r in synth.resources.values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue_id} in r["Properties"]["Queues"]
    ]
    assert {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
    } in policy["Statement"]


def test_weekly_report_schedule_is_disabled_without_a_sender(default_synth: Synth) -> None:
    # Given cdk.json's defaults (reportSender empty), the report would have no SES identity to send from
    rules = _rules_of(default_synth, "send_weekly_report")
    assert [rule["State"] for rule in rules] == ["DISABLED", "DISABLED"]
    assert all(rule["State"] == "ENABLED" for rule in _rules_of(default_synth, "aggregate_llm_costs"))
