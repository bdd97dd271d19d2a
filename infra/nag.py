"""cdk-nag AwsSolutions acknowledgments, each with its reason, applied to the narrowest construct that has the
finding. Nothing else in the stack suppresses a finding; ``make synth`` fails on any finding not listed here.

cdk-nag v3 acknowledges findings through CDK's own ``Validations.of(scope).acknowledge(...)``, one finding id at a
time (``Rule[finding]``); there is no rule-wide wildcard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from infra.constructs.api import CostApi


@dataclass(frozen=True)
class Ack:
    finding: str
    reason: str

    def on(self, scope: IConstruct) -> None:
        Validations.of(scope).acknowledge(Acknowledgment(id=self.finding, reason=self.reason))


XRAY_WILDCARD = Ack(
    "AwsSolutions-IAM5[Resource::*]",
    "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so "
    "the statement aws-cdk-lib adds for Tracing.ACTIVE must use Resource *; it grants nothing else.",
)
API_GATEWAY_LOGGING_ROLE = Ack(
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "The regional API Gateway logging role needs exactly the AWS-maintained AmazonAPIGatewayPushToCloudWatchLogs "
    "policy (CloudWatch Logs writes only); execution logging (AwsSolutions-APIG6) cannot work without it.",
)
IAM_NOT_COGNITO = Ack(
    "AwsSolutions-COG4",
    "Every method uses IAM (SigV4) authorization instead of a Cognito user pool: the callers are IAM principals of "
    "the deploying account (dashboards, scripts, the CLI), not end users, so there is no user pool to attach.",
)
NO_WAF = Ack(
    "AwsSolutions-APIG3",
    "No WAF web ACL by default: IAM authorization rejects unsigned requests before the integration runs, the "
    "stage is throttled and the API is read-only; a customer who wants WAF can associate a web ACL with the stage.",
)


def connection_roles_wildcard(prefix: str) -> Ack:
    return Ack(
        f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/{prefix}*]",
        "The cloud worker reads Cost Explorer through roles customers create in accounts chosen at run time "
        f"(`muster-costs connections add`), so the account is a wildcard; only roles named {prefix}* may be "
        "assumed, and each one's trust policy admits only this worker's role with the connection's external id.",
    )


def acknowledge_findings(
    *,
    roles: Sequence[iam.Role],
    connection_role_user: iam.Role | None,
    connection_role_prefix: str,
    api: CostApi,
) -> list[Ack]:
    """Acknowledge the findings the design accepts; returns them so the synth can report each with its reason."""
    for role in roles:
        XRAY_WILDCARD.on(role.node.find_child("DefaultPolicy"))
    applied = [XRAY_WILDCARD]
    if connection_role_user is not None:
        assume = connection_roles_wildcard(connection_role_prefix)
        assume.on(connection_role_user)
        applied.append(assume)
    API_GATEWAY_LOGGING_ROLE.on(api.rest_api.node.find_child("CloudWatchRole"))
    IAM_NOT_COGNITO.on(api.rest_api)
    NO_WAF.on(api.rest_api.deployment_stage)
    return [*applied, API_GATEWAY_LOGGING_ROLE, IAM_NOT_COGNITO, NO_WAF]
