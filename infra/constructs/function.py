"""``MusterFunction``: one Lambda function with its own log group and its own least-privilege role.

Every function is built the same way (runtime, architecture, JSON logs, X-Ray); only the ``FunctionSpec`` and the
policy statements differ. Statements are inline on the function's role: what a role may do reads in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants as c
from infra.bundling import function_code


@dataclass(frozen=True)
class FunctionProps:
    """What differs between functions: the spec, its environment and its policy statements."""

    spec: c.FunctionSpec
    layers: Sequence[lambda_.ILayerVersion]
    environment: Mapping[str, str]
    statements: Sequence[iam.PolicyStatement]
    log_retention: logs.RetentionDays


class MusterFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: FunctionProps,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec = props.spec
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=props.log_retention,
            removal_policy=RemovalPolicy.RETAIN,  # logs outlive the stack, for audits; retention still applies
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Muster Costs {spec.name}: only what this function needs",
            inline_policies={
                "Access": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="WriteOwnLogs",
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[self.log_group.log_group_arn],
                        ),
                        *props.statements,
                    ]
                )
            },
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=c.RUNTIME,
            architecture=c.ARCHITECTURE,
            handler=spec.handler,
            code=function_code(spec.name),
            layers=list(props.layers),
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            role=self.role,
            environment=dict(props.environment),
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # INFO, not higher: Lambda files JSON lines without a "level" (the EMF metric lines) as INFO, so a
            # stricter application level would silently drop every metric.
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=dead_letter_queue,
            retry_attempts=c.ASYNC_RETRY_ATTEMPTS if dead_letter_queue else None,
            max_event_age=Duration.seconds(spec.max_event_age_seconds) if dead_letter_queue else None,
        )
