"""``Monitoring``: one CloudWatch dashboard and the alarms, notifying one encrypted SNS topic.

Built with cdk-monitoring-constructs' ``MonitoringFacade``. The dashboard shows spend per agent (LLM and cloud,
from the metrics the workers emit), LLM against cloud spend, unpriced usage, worker runs, errors and durations,
dead-letter queues and API latency and errors. Alarms (what each means and what to do: README.md#alarms):
worker failures, dead-lettered runs, stale exchange rates, failed cloud connections, unpriced usage, weekly
report send failures and API server errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cdk_monitoring_constructs as mc
from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra import constants as c
from infra.constructs.scheduled_worker import ScheduledWorker

ALARM_DOCS = "See README.md#alarms."


@dataclass(frozen=True)
class MetricAlarm:
    """Alarm when a worker metric, summed over every dimension set, is above zero within one hour."""

    metric: c.MetricSpec
    description: str


METRIC_ALARMS: tuple[MetricAlarm, ...] = (
    MetricAlarm(
        c.STALE_EXCHANGE_RATE_SOURCE,
        "An exchange-rate source has no rate newer than the staleness limit; conversions use an old rate.",
    ),
    MetricAlarm(
        c.CLOUD_CONNECTIONS_FAILED,
        "A cloud connection's role could not be assumed or read; its agents' AWS spend is missing.",
    ),
    MetricAlarm(
        c.UNPRICED_OBSERVATIONS,
        "LLM usage with no matching price; it is kept and shown as unpriced, not counted as spend.",
    ),
    MetricAlarm(
        c.WEEKLY_REPORT_SEND_FAILURES,
        "The weekly report could not be e-mailed to at least one recipient.",
    ),
    MetricAlarm(
        c.LLM_AGGREGATION_FAILED,
        "An LLM-cost run could not read Langfuse; the hours it missed are re-read by the next runs.",
    ),
)
DASHBOARD_ONLY: tuple[c.MetricSpec, ...] = (
    c.OBSERVATIONS_PROCESSED,
    c.REJECTED_OBSERVATIONS,
    c.COST_EXPLORER_REQUESTS,
    c.EXCHANGE_RATE_REJECTED,
)
ALARM_PERIOD = Duration.hours(1)  # Metrics Insights alarms look back at most three hours


def insights_sum(metric: c.MetricSpec, period: Duration = ALARM_PERIOD) -> cw.MathExpression:
    """The metric summed over all its dimension sets (a Metrics Insights query, usable in an alarm)."""
    return cw.MathExpression(
        expression=f"SELECT SUM({metric.name}) FROM {c.METRICS_NAMESPACE}",
        using_metrics={},
        label=metric.name,
        period=period,
    )


def search(metric: c.MetricSpec, period: Duration, *, total: str | None = None) -> cw.MathExpression:
    """Every series of the metric (one line per agent for per-agent metrics), or their sum labelled ``total``.

    SEARCH has no schema here on purpose: it matches the metric whatever dimensions it was emitted with.
    """
    expression = f"SEARCH('{c.METRICS_NAMESPACE} MetricName=\"{metric.name}\"', 'Sum', {int(period.to_seconds())})"
    return cw.MathExpression(
        expression=f"SUM({expression})" if total else expression,
        using_metrics={},
        label=total or "",
        period=period,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        workers: Sequence[ScheduledWorker],
        api_function: lambda_.IFunction,
        api: apigw.RestApi,
        alarm_email: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.topic = self._alarm_topic(key, alarm_email)
        self.facade = mc.MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=mc.AlarmFactoryDefaults(
                alarm_name_prefix=stack.stack_name,
                actions_enabled=True,
                action=mc.SnsAlarmActionStrategy(on_alarm_topic=self.topic),
                datapoints_to_alarm=1,
                evaluation_periods=1,
            ),
            metric_factory_defaults=mc.MetricFactoryDefaults(namespace=c.METRICS_NAMESPACE),
            dashboard_factory=mc.DefaultDashboardFactory(
                self,
                "Dashboards",
                # dashboard names are global to the account: one per stack and region
                dashboard_name_prefix=f"{stack.stack_name}-{Aws.REGION}",
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
                detail_dashboard_range=Duration.days(14),
            ),
        )
        self.facade.add_large_header("Muster Costs")
        self._spend()
        self._worker_metrics()
        for worker in workers:
            self._worker(worker)
        self._api(api_function, api)
        alarms = [*self.metric_alarms, *(created.alarm for created in self.facade.created_alarms())]
        self.facade.add_segment(
            mc.SingleWidgetDashboardSegment(cw.AlarmStatusWidget(alarms=alarms, title="Alarms", width=24, height=4))
        )

    def _alarm_topic(self, key: kms.IKey, alarm_email: str) -> sns.Topic:
        stack = Stack.of(self)
        topic = sns.Topic(self, "AlarmTopic", display_name="Muster Costs alarms", master_key=key, enforce_ssl=True)
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        alarm_arns = stack.format_arn(
            service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": alarm_arns},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        # CloudWatch cannot publish to a topic under the AWS-managed aws/sns key: the stack key lets it encrypt
        # (AWS's documented key-policy statement for alarms on encrypted topics; the topic policy above decides
        # which alarms may publish).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsUseKeyForTopic",
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        if alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic

    def _spend(self) -> None:
        daily = Duration.days(1)
        self.facade.monitor_custom(
            human_readable_name="Spend (USD per day, from the workers' metrics)",
            alarm_friendly_name="Spend",
            metric_groups=[
                mc.CustomMetricGroup(
                    title="LLM vs cloud spend (USD/day)",
                    metrics=[
                        search(c.LLM_COST_USD, daily, total="LLM"),
                        search(c.CLOUD_COST_USD, daily, total="Cloud"),
                    ],
                    graph_widget_type=mc.GraphWidgetType.STACKED_AREA,
                ),
                mc.CustomMetricGroup(title="LLM cost per agent (USD/day)", metrics=[search(c.LLM_COST_USD, daily)]),
                mc.CustomMetricGroup(title="Cloud cost per agent (USD/day)", metrics=[search(c.CLOUD_COST_USD, daily)]),
            ],
        )

    def _worker_metrics(self) -> None:
        stack = Stack.of(self)
        self.metric_alarms: list[cw.Alarm] = []
        for spec in METRIC_ALARMS:
            alarm = cw.Alarm(
                self,
                f"{spec.metric.name}Alarm",
                alarm_name=f"{stack.stack_name}-{spec.metric.name}",
                alarm_description=f"{spec.description} {ALARM_DOCS}",
                metric=insights_sum(spec.metric),
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,  # no run, no datapoint: not an alarm
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.metric_alarms.append(alarm)
        alarmed = [spec.metric for spec in METRIC_ALARMS]
        self.facade.monitor_custom(
            human_readable_name="Worker health (counts per hour, all dimensions summed)",
            alarm_friendly_name="Workers",
            metric_groups=[
                mc.CustomMetricGroup(
                    title=f"{metric.name} (alarm)" if metric in alarmed else metric.name,
                    metrics=[search(metric, Duration.hours(1), total=metric.name)],
                )
                for metric in (*alarmed, *DASHBOARD_ONLY)
            ],
        )

    def _worker(self, worker: ScheduledWorker) -> None:
        name = worker.spec.construct_id
        self.facade.monitor_lambda_function(
            lambda_function=worker.function,
            human_readable_name=f"Worker {worker.spec.name}",
            alarm_friendly_name=name,
            add_fault_count_alarm={
                "Failed": mc.ErrorCountThreshold(
                    max_error_count=0,
                    treat_missing_data_override=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description_override=f"The {worker.spec.name} worker failed a run. {ALARM_DOCS}",
                )
            },
        )
        self.facade.monitor_sqs_queue(
            queue=worker.dead_letter_queue,
            human_readable_name=f"Dead letters of {worker.spec.name}",
            alarm_friendly_name=f"{name}DeadLetters",
            add_queue_max_size_alarm={
                "Any": mc.MaxMessageCountThreshold(
                    max_message_count=0,
                    treat_missing_data_override=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description_override=(
                        f"A {worker.spec.name} run failed after its retries and was dead-lettered. {ALARM_DOCS}"
                    ),
                )
            },
        )

    def _api(self, api_function: lambda_.IFunction, api: apigw.RestApi) -> None:
        self.facade.monitor_api_gateway(
            api=api,
            api_stage=c.API_STAGE,
            human_readable_name="Costs API",
            alarm_friendly_name="Api",
            add5_xx_fault_count_alarm={
                "Any": mc.ErrorCountThreshold(
                    max_error_count=0,
                    treat_missing_data_override=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description_override=f"The costs API answered with a 5xx. {ALARM_DOCS}",
                )
            },
        )
        self.facade.monitor_lambda_function(
            lambda_function=api_function,
            human_readable_name="Costs API function",
            alarm_friendly_name="ApiFunction",
        )
