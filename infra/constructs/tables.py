"""``CostTables``: every table in ``shared/dal/tables.py::ALL_TABLES``, built the same way.

On-demand billing, point-in-time recovery, encryption with the stack's customer-managed key, deletion
protection and ``RemovalPolicy.RETAIN``: deleting the stack never deletes cost history.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra import constants as c
from shared.dal.tables import ALL_TABLES, TableSpec

READ_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan")
WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# What the table key must allow a caller, as aws-cdk-lib's grant_read_data / grant_read_write_data do,
# with the wildcards spelled out.
KEY_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
KEY_WRITE_ACTIONS = (
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


class CostTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.by_name: dict[str, dynamodb.Table] = {spec.logical_name: self._table(spec) for spec in ALL_TABLES}

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.logical_name,
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=(
                dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING) if spec.sort_key else None
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # The CLI reaches the deployed tables through these variables (README.md, "Use the CLI").
        CfnOutput(
            self,
            f"{spec.logical_name}Output",
            key=f"{spec.logical_name}Table",
            value=table.table_name,
            description=spec.env_var,
        )
        return table

    def table(self, spec: TableSpec) -> dynamodb.Table:
        return self.by_name[spec.logical_name]

    def environment(self, spec: c.FunctionSpec) -> dict[str, str]:
        """The physical name of each table the function touches, under its TableSpec.env_var."""
        return {table.env_var: self.table(table).table_name for table in spec.tables}

    def statements(self, spec: c.FunctionSpec) -> list[iam.PolicyStatement]:
        """Read-only access to ``spec.reads``, read and write access to ``spec.writes``, and the key to match."""
        statements = []
        if spec.read_only_tables:
            statements.append(
                iam.PolicyStatement(
                    sid="ReadTables",
                    actions=list(READ_ACTIONS),
                    resources=[self.table(t).table_arn for t in spec.read_only_tables],
                )
            )
        if spec.writes:
            statements.append(
                iam.PolicyStatement(
                    sid="ReadWriteOwnTables",
                    actions=[*READ_ACTIONS, *WRITE_ACTIONS],
                    resources=[self.table(t).table_arn for t in spec.writes],
                )
            )
        if spec.tables:
            actions = [*KEY_READ_ACTIONS, *(KEY_WRITE_ACTIONS if spec.writes else ())]
            statements.append(iam.PolicyStatement(sid="UseTableKey", actions=actions, resources=[self.key.key_arn]))
        return statements
