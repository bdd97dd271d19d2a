"""``MusterCostsStack``: composes one construct per concern; the decisions live in the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, RemovalPolicy, Stack, Tags
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants as c
from infra.bundling import dependencies_layer_code
from infra.constructs.api import CostApi
from infra.constructs.function import FunctionProps, MusterFunction
from infra.constructs.monitoring import Monitoring
from infra.constructs.scheduled_worker import ScheduledWorker
from infra.constructs.tables import CostTables
from infra.context import DeployConfig
from infra.nag import acknowledge_findings
from infra.permissions import capability_statements, function_environment

RETENTION = {
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


class MusterCostsStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=c.STACK_DESCRIPTION, **kwargs)
        Tags.of(self).add("service", c.SERVICE_NAME)
        retention = RETENTION[config.log_retention_days]

        self.key = key = kms.Key(
            self,
            "DataKey",
            description="Muster Costs: encrypts the cost tables and the alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,  # the retained tables stay readable after the stack is gone
        )
        self.tables = tables = CostTables(self, "Tables", key=key)
        self.layer = layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=dependencies_layer_code(),
            compatible_runtimes=[c.RUNTIME],
            compatible_architectures=[c.ARCHITECTURE],
            description="Muster Costs third-party packages (layer/requirements.txt)",
        )

        def props(spec: c.FunctionSpec) -> FunctionProps:
            return FunctionProps(
                spec=spec,
                layers=[layer],
                environment=function_environment(spec, config, tables),
                statements=[*tables.statements(spec), *capability_statements(self, spec, config)],
                log_retention=retention,
            )

        workers = [
            ScheduledWorker(
                self,
                spec.construct_id,
                schedules=config.schedules[spec.name],
                enabled=self._schedule_enabled(spec, config),
                props=props(spec),
            )
            for spec in c.WORKERS
        ]
        self.workers = {worker.spec.name: worker for worker in workers}
        for worker in workers:
            CfnOutput(
                self,
                f"{worker.spec.construct_id}FunctionName",
                value=worker.function.function_name,
                description=f"Lambda function of the {worker.spec.name} worker",
            )
            if c.ENV_CLOUD_WORKER_ROLE_ARN in worker.spec.settings:
                worker.function.add_environment(c.ENV_CLOUD_WORKER_ROLE_ARN, worker.role.role_arn)
                CfnOutput(
                    self,
                    "CloudWorkerRoleArn",
                    value=worker.role.role_arn,
                    description="Trusted by every customer cost-reader role (muster-costs connections add)",
                )

        self.api_function = api_function = MusterFunction(self, c.COSTS_API.construct_id, props=props(c.COSTS_API))
        self.api = api = CostApi(
            self,
            "CostApi",
            handler=api_function.function,
            throttle_rate_limit=config.api_throttle_rate_limit,
            throttle_burst_limit=config.api_throttle_burst_limit,
            log_retention=retention,
        )
        self.monitoring = monitoring = Monitoring(
            self,
            "Monitoring",
            key=key,
            workers=workers,
            api_function=api_function.function,
            api=api.rest_api,
            alarm_email=config.alarm_email,
        )
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn, description="Alarm notifications")
        cloud_workers = [w for w in workers if c.Capability.ASSUME_CONNECTION_ROLES in w.spec.capabilities]
        self.acknowledgments = acknowledge_findings(
            roles=[*(w.role for w in workers), api_function.role],
            connection_role_user=cloud_workers[0].role if cloud_workers else None,
            connection_role_prefix=config.connection_role_prefix,
            api=api,
        )

    def _schedule_enabled(self, spec: c.FunctionSpec, config: DeployConfig) -> bool:
        if c.Capability.SEND_REPORT_EMAIL in spec.capabilities and not config.report_sender:
            Annotations.of(self).add_warning_v2(
                "muster:reportSenderMissing",
                "context reportSender is empty: the weekly report is deployed with its schedule disabled",
            )
            return False
        return True
