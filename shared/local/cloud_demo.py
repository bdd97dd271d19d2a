"""Demo cloud spend for local mode: one connection to a second account, three linked agents, queued CE answers.

``setup_cloud_demo(server_url, window_from, window_to)`` stores the connection and the agents' cloud links
(through the repositories, so the settings must already point at the moto server: ``MUSTER_ENDPOINT_URL``),
then queues Cost Explorer answers for the demo account on the moto server, shaped like real ones: Amazon
Bedrock, a Marketplace Claude model, SageMaker, a promotional credit, untagged and unlinked spend. Run the
cloud worker on the same window (or a window that contains it): moto serves its queue to the first request.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from shared.config import get_settings
from shared.dal.agents import AgentRepository, agent_repository
from shared.dal.cloud import CloudConnectionRepository, cloud_connection_repository
from shared.domain.agents import Agent
from shared.domain.cloud import CloudConnection, ConnectionStatus, check_cloud_links
from shared.errors import InvalidInputError, SourceError
from shared.services.connections import new_external_id

DEMO_ACCOUNT_ID = "444455556666"
DEMO_CONNECTION_ID = "demo-aws"
DEMO_TAG_KEY = "agent_id"
# agent id (a Langfuse trace name in the demo) -> (AWS service id, tag value)
DEMO_LINKS: dict[str, tuple[str, str]] = {
    "support-agent": ("AmazonBedrock", "support-agent"),
    "research-agent": ("AmazonBedrock", "research-agent"),
    "planner-agent": ("AmazonSageMaker", "planner-agent"),
}
CE_QUEUE_PATH = "/moto-api/static/ce/cost-and-usage-results"
MAX_DEMO_DAYS = 62
_PLACES = Decimal("0.0000000001")  # CE answers with up to 10 decimals


def _amount(base: str, day_index: int, step: str) -> dict[str, str]:
    value = (Decimal(base) + Decimal(step) * (day_index % 4)).quantize(_PLACES)
    return {"Amount": format(value, "f"), "Unit": "USD"}


def _group(service: str, tag: str, base: str, day_index: int, step: str = "0.37") -> dict[str, Any]:
    unblended = _amount(base, day_index, step)
    net = {"Amount": format((Decimal(unblended["Amount"]) * Decimal("0.97")).quantize(_PLACES), "f"), "Unit": "USD"}
    metrics = {"UnblendedCost": unblended, "NetUnblendedCost": net}
    return {"Keys": [service, f"{DEMO_TAG_KEY}${tag}"], "Metrics": metrics}


def demo_day_groups(day_index: int) -> list[dict[str, Any]]:
    """One day's CE groups (GroupBy SERVICE + TAG agent_id), varying a little from day to day."""
    groups = [
        _group("Amazon Bedrock", "support-agent", "3.1234567891", day_index),
        _group("Claude 3.5 Sonnet (Amazon Bedrock Edition)", "support-agent", "12.4810000000", day_index, "1.15"),
        _group("Claude 3 Haiku (Amazon Bedrock Edition)", "research-agent", "2.0456000000", day_index, "0.21"),
        _group("Amazon Bedrock", "research-agent", "0.8750000000", day_index),
        _group("Amazon SageMaker", "planner-agent", "4.8000000000", day_index, "0.0"),
        _group("Amazon Bedrock", "", "0.7512345678", day_index, "0.05"),  # untagged: the connection's unallocated
        _group("Amazon Simple Storage Service", "", "0.2300000000", day_index, "0.0"),  # no agent links S3
    ]
    if day_index == 0:  # a promotional credit, as CE reports it: negative and untagged
        groups.append(_group("Claude 3.5 Sonnet (Amazon Bedrock Edition)", "", "-5.0000000000", 0, "0"))
    return groups


def demo_cost_results(window_from: date, window_to: date, today: date | None = None) -> list[dict[str, Any]]:
    """GetCostAndUsage answers (one page) for the days ``window_from``..``window_to`` inclusive."""
    if window_from > window_to or (window_to - window_from).days >= MAX_DEMO_DAYS:
        raise InvalidInputError(f"demo window must be 1 to {MAX_DEMO_DAYS} days, from <= to")
    today = today or datetime.now(UTC).date()
    results = []
    for index in range((window_to - window_from).days + 1):
        day = window_from + timedelta(days=index)
        results.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": demo_day_groups(index),
                "Estimated": (day.year, day.month) == (today.year, today.month),
            }
        )
    return [
        {
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": DEMO_TAG_KEY}],
            "ResultsByTime": results,
            "DimensionValueAttributes": [],
        }
    ]


def _link_agents(agents: AgentRepository, connections: list[CloudConnection]) -> list[Agent]:
    existing = {agent.agent_id: agent for agent in agents.list_agents()}
    linked = []
    for agent_id, (service, tag) in DEMO_LINKS.items():
        base = existing.get(agent_id) or Agent(agent_id=agent_id, name=agent_id, trace_names=(agent_id,))
        linked.append(replace(base, cloud_connection_id=DEMO_CONNECTION_ID, cloud_service=service, cloud_tag=tag))
    merged = {**existing, **{agent.agent_id: agent for agent in linked}}
    check_cloud_links(list(merged.values()), connections)
    agents.save_agents(linked)
    return linked


def setup_cloud_demo(
    server_url: str,
    window_from: date,
    window_to: date,
    *,
    account_id: str = DEMO_ACCOUNT_ID,
    connections: CloudConnectionRepository | None = None,
    agents: AgentRepository | None = None,
    session: requests.Session | None = None,
) -> CloudConnection:
    """Store the demo connection and agent links, and queue the demo CE answers on the moto server."""
    connections = connections or cloud_connection_repository()
    agents = agents or agent_repository()
    connection = connections.get_connection(DEMO_CONNECTION_ID)
    if connection is None:
        prefix = get_settings().cloud.role_name_prefix
        connection = CloudConnection(
            connection_id=DEMO_CONNECTION_ID,
            name="Demo AWS account",
            role_arn=f"arn:aws:iam::{account_id}:role/{prefix}Demo",
            external_id=new_external_id(),
            tag_key=DEMO_TAG_KEY,
            status=ConnectionStatus.PENDING,
            created_at=datetime.now(UTC),
        )
        connections.add_connection(connection)
    _link_agents(agents, connections.list_connections())
    queue_cost_results(server_url, account_id, demo_cost_results(window_from, window_to), session=session)
    return connection


def queue_cost_results(
    server_url: str, account_id: str, results: list[dict[str, Any]], *, session: requests.Session | None = None
) -> None:
    """Queue GetCostAndUsage answers for one account on a moto server (served in order, one per new request)."""
    url = f"{server_url.rstrip('/')}{CE_QUEUE_PATH}"
    try:
        response = (session or requests.Session()).post(
            url, json={"account_id": account_id, "results": results}, timeout=10
        )
    except requests.RequestException as exc:
        raise SourceError(f"could not queue Cost Explorer results on {url}: {exc}") from exc
    if response.status_code != 201:
        raise SourceError(f"moto refused the Cost Explorer results ({response.status_code}): {response.text[:200]}")
