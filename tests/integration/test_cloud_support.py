"""Helpers for the cloud integration tests (no tests here): a small moto stack, CE queues, failing clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import requests
from botocore.exceptions import ClientError

from shared.config import Settings
from shared.dal.agents import AgentModel, agent_repository
from shared.dal.cloud import CloudConnectionModel, CloudCostDailyModel, cloud_connection_repository
from shared.dal.rollup import CostRollupModel
from shared.domain.agents import Agent
from shared.domain.cloud import CloudConnection
from tests.integration.moto_stack import moto_tables

MOTO_API = "http://motoapi.amazonaws.com"
CLOUD_MODELS = (AgentModel, CloudConnectionModel, CloudCostDailyModel, CostRollupModel)


@contextmanager
def cloud_stack() -> Iterator[Settings]:
    """moto in-process with only the tables the cloud tests touch (small tables keep moto fast)."""
    with moto_tables(CLOUD_MODELS) as settings:
        yield settings


def queue_ce(account_id: str, *pages: dict[str, Any]) -> None:
    """Queue GetCostAndUsage answers for one account (served in order, one per new request body)."""
    response = requests.post(
        f"{MOTO_API}/moto-api/static/ce/cost-and-usage-results",
        json={"account_id": account_id, "results": list(pages)},
        timeout=5,
    )
    assert response.status_code == 201


def ce_page(groups_by_day: dict[date, list[dict[str, Any]]], token: str | None = None) -> dict[str, Any]:
    results = [
        {
            "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
            "Total": {},
            "Groups": groups,
            "Estimated": True,
        }
        for day, groups in groups_by_day.items()
    ]
    page: dict[str, Any] = {"ResultsByTime": results, "DimensionValueAttributes": []}
    if token:
        page["NextPageToken"] = token
    return page


def ce_group(service: str, amount: str, tag: str | None = None, tag_key: str | None = "agent_id") -> dict[str, Any]:
    keys = [service] if tag_key is None else [service, f"{tag_key}${tag or ''}"]
    metric = {"Amount": amount, "Unit": "USD"}
    return {"Keys": keys, "Metrics": {"UnblendedCost": metric, "NetUnblendedCost": metric}}


def add_connection(connection_id: str, account_id: str, tag_key: str | None = "agent_id") -> CloudConnection:
    connection = CloudConnection(
        connection_id,
        f"account {account_id}",
        f"arn:aws:iam::{account_id}:role/MusterCostReader-{connection_id}",
        f"external-{connection_id}",
        tag_key,
    )
    cloud_connection_repository().add_connection(connection)
    return connection


def link(agent_id: str, connection_id: str, service: str, tag: str | None = None) -> Agent:
    agent = Agent(agent_id, agent_id, (agent_id,), connection_id, service, tag)
    agent_repository().save_agents([agent])
    return agent


class DenyingSts:
    """A real (moto) STS client that answers AccessDenied for some role ARNs, as AWS does for a missing role."""

    def __init__(self, real: Any, denied: set[str]) -> None:
        self.real = real
        self.denied = denied

    def assume_role(self, **kwargs: Any) -> Any:
        if kwargs["RoleArn"] in self.denied:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}}, "AssumeRole"
            )
        return self.real.assume_role(**kwargs)
