"""The CloudFormation template a customer deploys so Muster can read their Cost Explorer data.

One IAM role, named as the connection's role ARN says (so it starts with the configured prefix and the
worker's ``sts:AssumeRole`` permission can stay scoped to ``arn:aws:iam::*:role/<prefix>*``), trusting only
Muster's worker role under an ``sts:ExternalId`` condition, allowed ``ce:GetCostAndUsage`` and nothing else.
"""

from __future__ import annotations

from typing import Any

from shared.domain.cloud import CloudConnection, role_name

WORKER_ROLE_PARAMETER = "MusterWorkerRoleArn"
ROLE_RESOURCE = "MusterCostReaderRole"
ALLOWED_ACTIONS = ("ce:GetCostAndUsage",)


def customer_role_template(connection: CloudConnection, worker_role_arn: str | None) -> dict[str, Any]:
    """The template as a dict (print it as JSON; CloudFormation reads JSON and YAML alike).

    When Muster's worker role ARN is not configured, the template asks for it as a parameter.
    """
    principal: Any = worker_role_arn if worker_role_arn else {"Ref": WORKER_ROLE_PARAMETER}
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Read-only Cost Explorer access for Muster Costs (connection {connection.connection_id})",
    }
    if not worker_role_arn:
        template["Parameters"] = {
            WORKER_ROLE_PARAMETER: {
                "Type": "String",
                "Description": "ARN of the Muster Costs worker role that reads Cost Explorer (ask your Muster admin)",
                "AllowedPattern": r"^arn:aws:iam::\d{12}:role/.+$",
            }
        }
    template["Resources"] = {
        ROLE_RESOURCE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": role_name(connection.role_arn),
                "Description": "Lets Muster Costs read daily cost and usage (Cost Explorer); nothing else",
                "MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": principal},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": connection.external_id}},
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "MusterCostExplorerRead",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": list(ALLOWED_ACTIONS), "Resource": "*"}],
                        },
                    }
                ],
            },
        }
    }
    template["Outputs"] = {
        "RoleArn": {
            "Description": "Give this to Muster (connections add --role-arn)",
            "Value": {"Fn::GetAtt": [ROLE_RESOURCE, "Arn"]},
        },
        "ExternalId": {"Description": "The external id Muster presents", "Value": connection.external_id},
    }
    return template
