"""Cloud connections: adding (generated ids, validation), listing, the role template, and the CLI commands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.cli import connections as connections_cli
from shared.config import CloudConfig, Settings
from shared.dal.cloud import cloud_connection_repository
from shared.domain.cloud import CloudConnection, ConnectionStatus
from shared.errors import ConflictError, InvalidInputError, MusterError, NotFoundError
from shared.services.connections import add_connection, connection_template, list_connections
from tests.integration.test_cloud_support import cloud_stack

ROLE = "arn:aws:iam::111122223333:role/MusterCostReaderProd"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Only the tables these tests touch (the shared ``aws`` fixture creates every table)."""
    monkeypatch.delenv("MUSTER_ENDPOINT_URL", raising=False)
    with cloud_stack() as settings:
        yield settings


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="muster-costs")
    parser.add_argument("--json", action="store_true")
    connections_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["connections", *argv])
    result: int = args.handler(args)
    return result


def test_add_generates_ids_and_stores_a_pending_connection(aws: Settings) -> None:
    # When
    created = add_connection(" prod ", ROLE, "agent_id", now=lambda: datetime(2026, 12, 4, tzinfo=UTC))
    # Then Muster chose the id and a long random external id, and the template carries the external id
    connection = created.connection
    assert connection.connection_id.startswith("conn-") and len(connection.external_id) >= 32
    assert connection.name == "prod" and connection.tag_key == "agent_id"
    stored = cloud_connection_repository().get_connection(connection.connection_id)
    assert stored == connection and stored.status is ConnectionStatus.PENDING
    trust = created.template["Resources"]["MusterCostReaderRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == connection.external_id
    # And two connections never share an external id
    other = add_connection("lab", "arn:aws:iam::444455556666:role/MusterCostReaderLab").connection
    assert other.external_id != connection.external_id
    assert [c.connection_id for c in list_connections()] == sorted([connection.connection_id, other.connection_id])


def test_add_rejects_bad_roles_and_duplicates(aws: Settings) -> None:
    with pytest.raises(InvalidInputError, match="must start with 'MusterCostReader'"):
        add_connection("x", "arn:aws:iam::111122223333:role/Admin")
    with pytest.raises(InvalidInputError, match="12-digit"):
        add_connection("x", "arn:aws:iam::1122:role/MusterCostReader")
    add_connection("prod", ROLE)
    with pytest.raises(ConflictError, match="already connection"):
        add_connection("again", ROLE)


def test_the_worker_role_is_printed_into_the_template_when_configured(aws: Settings) -> None:
    settings = Settings(cloud=CloudConfig(worker_role_arn="arn:aws:iam::999988887777:role/muster-worker"))
    created = add_connection("prod", ROLE, settings=settings)
    statement = created.template["Resources"]["MusterCostReaderRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert statement["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::999988887777:role/muster-worker"}
    assert connection_template(created.connection.connection_id, settings=settings) == created.template
    with pytest.raises(NotFoundError):
        connection_template("nope")


def test_success_and_failure_are_recorded_on_the_connection(aws: Settings) -> None:
    repo = cloud_connection_repository()
    connection = add_connection("prod", ROLE).connection
    at = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    repo.record_failure(connection.connection_id, "access_denied: AccessDenied", at)
    failed = repo.get_connection(connection.connection_id)
    assert failed is not None and failed.status is ConnectionStatus.FAILED and failed.last_error_at == at
    repo.record_success(connection.connection_id, at)
    ok = repo.get_connection(connection.connection_id)
    assert ok is not None and ok.status is ConnectionStatus.OK and ok.last_success_at == at
    repo.record_success("gone", at)  # a connection removed meanwhile is not recreated
    assert repo.get_connection("gone") is None
    with pytest.raises(ConflictError):
        repo.add_connection(CloudConnection(connection.connection_id, "dup", ROLE, "e"))


def test_cli_add_prints_id_external_id_and_template(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    # When
    assert cli("add", "--name", "prod", "--role-arn", ROLE, "--tag-key", "agent_id", "--json") == 0
    # Then the JSON carries the connection and the template
    payload: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert payload["connectionId"].startswith("conn-") and payload["externalId"]
    assert payload["template"]["Resources"]["MusterCostReaderRole"]["Properties"]["RoleName"] == "MusterCostReaderProd"
    # And the table form names both ids and prints the template
    assert cli("add", "--name", "lab", "--role-arn", "arn:aws:iam::444455556666:role/MusterCostReaderLab") == 0
    out = capsys.readouterr().out
    lab = next(c for c in list_connections() if c.name == "lab")
    assert lab.connection_id in out and lab.external_id in out and '"AWSTemplateFormatVersion"' in out


def test_cli_list_and_template(aws: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    connection = add_connection("prod", ROLE, "agent_id").connection
    assert cli("list", "--json") == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["connectionId"] == connection.connection_id and listed["status"] == "pending"
    assert cli("list") == 0
    assert "prod" in capsys.readouterr().out
    target = tmp_path / "role.json"
    assert cli("template", connection.connection_id, "--template-out", str(target)) == 0
    assert json.loads(target.read_text())["Outputs"]["ExternalId"]["Value"] == connection.external_id


def test_cli_errors_are_muster_errors(aws: Settings) -> None:
    with pytest.raises(MusterError, match="12-digit"):
        cli("add", "--name", "x", "--role-arn", "not-an-arn")
