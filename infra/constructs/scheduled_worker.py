"""``ScheduledWorker``: a ``MusterFunction`` run by EventBridge schedules, with a dead-letter queue.

Failures are retried at two levels: EventBridge retries a delivery it could not make (``TARGET_RETRY_ATTEMPTS``) and
Lambda retries a run that raised (``ASYNC_RETRY_ATTEMPTS``). A run that still fails, or grows older than the
spec's ``max_event_age_seconds``, lands in the worker's SQS dead-letter queue, which the monitoring alarms on.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from infra.constructs.function import FunctionProps, MusterFunction


class ScheduledWorker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: FunctionProps,
        schedules: Sequence[str],
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec = props.spec
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(c.DEAD_LETTER_RETENTION_DAYS),
        )
        worker = MusterFunction(
            self,
            "Worker",
            props=props,
            dead_letter_queue=self.dead_letter_queue,
        )
        self.function = worker.function
        self.role = worker.role
        self.log_group = worker.log_group
        self.rules = [
            events.Rule(
                self,
                f"Schedule{index}",
                description=f"Muster Costs {spec.name}: {expression}",
                schedule=events.Schedule.expression(expression),
                enabled=enabled,
                targets=[
                    targets.LambdaFunction(
                        self.function,
                        dead_letter_queue=self.dead_letter_queue,
                        retry_attempts=c.TARGET_RETRY_ATTEMPTS,
                        max_event_age=Duration.seconds(spec.max_event_age_seconds),
                    )
                ],
            )
            for index, expression in enumerate(schedules)
        ]
