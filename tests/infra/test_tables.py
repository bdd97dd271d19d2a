"""Every table in shared/dal/tables.py::ALL_TABLES is deployed with its keys and the data-safety settings."""

from __future__ import annotations

from typing import Any

import pytest

from shared.dal.tables import ALL_TABLES, TableSpec
from tests.infra.conftest import Synth


def _table(synth: Synth, spec: TableSpec) -> dict[str, Any]:
    resource: dict[str, Any] = synth.resources[synth.logical_id(synth.stack.tables.table(spec))]
    return resource


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.logical_name)
def test_table_keys_are_the_shared_definition(synth: Synth, spec: TableSpec) -> None:
    # Given the shared table definition, When the stack is synthesized
    properties = _table(synth, spec)["Properties"]
    # Then the key schema and attribute types are exactly the spec's (string keys)
    expected_keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        expected_keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    assert properties["KeySchema"] == expected_keys
    assert properties["AttributeDefinitions"] == [
        {"AttributeName": key["AttributeName"], "AttributeType": "S"} for key in expected_keys
    ]
    assert "GlobalSecondaryIndexes" not in properties


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.logical_name)
def test_table_is_protected_and_recoverable(synth: Synth, spec: TableSpec) -> None:
    table = _table(synth, spec)
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert properties["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::GetAtt": [synth.logical_id(synth.stack.key), "Arn"]},
    }


def test_no_table_exists_outside_the_shared_definitions(synth: Synth) -> None:
    deployed = {logical_id for logical_id, r in synth.resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert deployed == {synth.logical_id(synth.stack.tables.table(spec)) for spec in ALL_TABLES}


def test_table_key_rotates_and_outlives_the_stack(synth: Synth) -> None:
    key = synth.resources[synth.logical_id(synth.stack.key)]
    # the retained tables must stay readable after a stack deletion, so their key is retained too
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_every_table_name_is_an_output_labelled_with_its_env_var(synth: Synth) -> None:
    outputs = synth.template.to_json()["Outputs"]
    for spec in ALL_TABLES:
        output = outputs[f"{spec.logical_name}Table"]
        assert output["Description"] == spec.env_var
        assert output["Value"] == {"Ref": synth.logical_id(synth.stack.tables.table(spec))}
