"""The IAM statements behind each ``Capability`` and the environment of each function.

Table access comes from ``CostTables.statements``; this module adds the few non-table permissions, each scoped
to one resource (or one name pattern), and the environment variables ``shared/config.py`` reads.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam

from infra import constants as c
from infra.constructs.tables import CostTables
from infra.context import DeployConfig


def capability_statements(stack: Stack, spec: c.FunctionSpec, config: DeployConfig) -> list[iam.PolicyStatement]:
    statements = []
    if c.Capability.READ_LANGFUSE_SECRET in spec.capabilities:
        statements.append(
            iam.PolicyStatement(
                sid="ReadLangfuseSecret",
                actions=["secretsmanager:GetSecretValue"],
                resources=[langfuse_secret_arn(stack, config)],
            )
        )
    if c.Capability.ASSUME_CONNECTION_ROLES in spec.capabilities:
        statements.append(
            iam.PolicyStatement(
                sid="AssumeCostReaderRoles",
                actions=["sts:AssumeRole"],
                resources=[connection_roles_pattern(config)],
            )
        )
    if c.Capability.SEND_REPORT_EMAIL in spec.capabilities and config.report_sender:
        statements.append(
            iam.PolicyStatement(
                sid="SendReportFromSenderIdentity",
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=sender_identity_arns(stack, config),
            )
        )
    return statements


def langfuse_secret_arn(stack: Stack, config: DeployConfig) -> str:
    """The secret by name; Secrets Manager appends "-" and six random characters to every secret ARN."""
    return stack.format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{config.langfuse_secret_name}-??????",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def connection_roles_pattern(config: DeployConfig) -> str:
    """Customer cost-reader roles, in any account, but only those named with the connection role prefix."""
    return f"arn:{Aws.PARTITION}:iam::*:role/{config.connection_role_prefix}*"


def sender_identity_arns(stack: Stack, config: DeployConfig) -> list[str]:
    """The sender's SES identity: the address itself, or its domain when the domain is the verified identity."""
    return [
        stack.format_arn(service="ses", resource="identity", resource_name=name)
        for name in (config.report_sender, config.report_sender_domain)
    ]


def function_environment(spec: c.FunctionSpec, config: DeployConfig, tables: CostTables) -> dict[str, str]:
    """Powertools settings, one variable per table the function touches, and the ENV_* its spec names.

    ENV_CLOUD_WORKER_ROLE_ARN is the function's own role, known only once the role exists: the stack adds it.
    """
    settings = config.function_settings()
    return {
        "POWERTOOLS_SERVICE_NAME": c.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": c.METRICS_NAMESPACE,
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",  # responses hold cost data: keep them out of X-Ray
        **tables.environment(spec),
        **{name: settings[name] for name in spec.settings if settings.get(name)},
    }
