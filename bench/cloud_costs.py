"""Cost Explorer requests per daily run: one request stream per connection vs one per agent.

Each GetCostAndUsage request (page) costs $0.01, billed to the customer's account. For C connections with A
agents each, the worker (grouping by SERVICE and the agent tag) makes ``pages`` requests per connection; the
per-agent approach (one request filtered by each agent's tag) makes at least A. Both run here against moto
in-process: the worker through its real service, the per-agent loop through a real boto3 CE client.

CE's page size is not documented; this bench assumes a page holds ``--groups-per-page`` groups (default 500).

    uv run python bench/cloud_costs.py [--connections 5] [--agents 1 10 100] [--days 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

# Set before Powertools (read at import) and boto3 clients exist; fake credentials never reach AWS.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)
os.environ.pop("MUSTER_ENDPOINT_URL", None)

import boto3
import requests
from moto import mock_aws

from shared.config import get_settings, reset_settings
from shared.dal.agents import AgentModel, agent_repository
from shared.dal.binding import bind_model
from shared.dal.cloud import CloudConnectionModel, CloudCostDailyModel, cloud_connection_repository
from shared.dal.factory import reset_repositories
from shared.dal.rollup import CostRollupModel
from shared.domain.agents import Agent
from shared.domain.cloud import CloudConnection, DayWindow
from shared.services.cloud_costs import PRICE_PER_REQUEST_USD, fetch_cloud_costs
from shared.sources.cost_explorer import assume_role, cost_request

TAG_KEY = "agent_id"
QUEUE_URL = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"
RUNS_PER_MONTH = 30


@dataclass(frozen=True)
class Figures:
    connections: int
    agents: int
    days: int
    groups: int  # per connection and run
    pages: int  # per connection and run
    batched_requests: int
    per_agent_requests: int
    seconds: float


def metric(amount: str) -> dict[str, Any]:
    return {"UnblendedCost": {"Amount": amount, "Unit": "USD"}, "NetUnblendedCost": {"Amount": amount, "Unit": "USD"}}


def day_groups(agents: int, day_index: int) -> list[dict[str, Any]]:
    """Per day: Bedrock and a Marketplace Claude model for every agent, untagged Bedrock, unlinked S3."""
    groups = []
    for n in range(agents):
        amount = f"{1 + (n + day_index) % 7}.{n:04d}000000"
        groups.append({"Keys": ["Amazon Bedrock", f"{TAG_KEY}$agent-{n}"], "Metrics": metric(amount)})
        groups.append(
            {"Keys": ["Claude 3.5 Sonnet (Amazon Bedrock Edition)", f"{TAG_KEY}$agent-{n}"], "Metrics": metric(amount)}
        )
    groups.append({"Keys": ["Amazon Bedrock", f"{TAG_KEY}$"], "Metrics": metric("0.5")})
    groups.append({"Keys": ["Amazon Simple Storage Service", f"{TAG_KEY}$"], "Metrics": metric("0.25")})
    return groups


def pages_for(window: DayWindow, agents: int, groups_per_page: int) -> list[dict[str, Any]]:
    """CE's answer for one connection, cut into pages of at most ``groups_per_page`` groups."""
    flat = [(window.start + timedelta(days=i), group) for i in range(window.days) for group in day_groups(agents, i)]
    chunks = [flat[i : i + groups_per_page] for i in range(0, len(flat), groups_per_page)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        by_day: dict[date, list[dict[str, Any]]] = {}
        for day, group in chunk:
            by_day.setdefault(day, []).append(group)
        page: dict[str, Any] = {
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
                    "Total": {},
                    "Groups": g,
                    "Estimated": True,
                }
                for d, g in by_day.items()
            ]
        }
        if number < len(chunks):
            page["NextPageToken"] = f"page-{number + 1}"
        pages.append(page)
    return pages


def queue(account_id: str, results: list[dict[str, Any]]) -> None:
    response = requests.post(QUEUE_URL, json={"account_id": account_id, "results": results}, timeout=10)
    response.raise_for_status()


def create_tables() -> None:
    settings = get_settings()
    for model in (AgentModel, CloudConnectionModel, CloudCostDailyModel, CostRollupModel):
        bind_model(model, settings)
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)


def seed(connections: int, agents: int) -> list[CloudConnection]:
    created = []
    for c in range(connections):
        account = f"{100000000000 + c:012d}"
        connection = CloudConnection(
            f"conn-{c}", f"bench {c}", f"arn:aws:iam::{account}:role/MusterCostReaderBench", f"ext-{c}", TAG_KEY
        )
        cloud_connection_repository().add_connection(connection)
        agent_repository().save_agents(
            Agent(
                f"c{c}-agent-{n}",
                f"agent {n}",
                (f"c{c}-agent-{n}",),
                connection.connection_id,
                "AmazonBedrock",
                f"agent-{n}",
            )
            for n in range(agents)
        )
        created.append(connection)
    return created


def per_agent_requests(connection: CloudConnection, agents: int, window: DayWindow) -> int:
    """The approach Muster avoids: one request stream per agent, filtered by its tag value."""
    queue(connection.account_id, [{"ResultsByTime": []} for _ in range(agents)])
    credentials = assume_role(boto3.client("sts", region_name="us-east-1"), connection, get_settings().cloud)
    ce = boto3.client(
        "ce",
        region_name="us-east-1",
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    made = 0
    for n in range(agents):
        token: str | None = None
        while True:
            request = cost_request(window, None, token)
            request["Filter"] = {"Tags": {"Key": TAG_KEY, "Values": [f"agent-{n}"]}}
            page = ce.get_cost_and_usage(**request)
            made += 1
            token = page.get("NextPageToken")
            if not token:
                break
    return made


def measure(connections: int, agents: int, days: int, groups_per_page: int) -> Figures:
    today = datetime.now(UTC).date()
    window = DayWindow(today - timedelta(days=days), today - timedelta(days=1))
    reset_settings()
    reset_repositories()
    with mock_aws():
        create_tables()
        seeded = seed(connections, agents)
        answer = pages_for(window, agents, groups_per_page)
        for connection in seeded:
            queue(connection.account_id, answer)
        started = time.perf_counter()
        result = fetch_cloud_costs(window.start, window.end)
        seconds = time.perf_counter() - started
        assert result.failed == 0, result.summary()
        naive = sum(per_agent_requests(connection, agents, window) for connection in seeded)
    reset_repositories()
    groups = sum(len(r["Groups"]) for page in answer for r in page["ResultsByTime"])
    return Figures(connections, agents, days, groups, len(answer), result.requests, naive, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=5)
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--groups-per-page", type=int, default=500)
    args = parser.parse_args(argv)
    header = (
        f"{'C':>3} {'A':>4} {'days':>4} {'groups/conn':>11} {'pages/conn':>10} {'Muster req':>10} "
        f"{'per-agent req':>13} {'saving':>7} {'Muster $/mo':>11} {'per-agent $/mo':>14} {'run s':>6}"
    )
    print(f"Cost Explorer requests per daily run (moto in-process; {args.groups_per_page} groups per page assumed)")
    print(header)
    print("-" * len(header))
    for agents in args.agents:
        f = measure(args.connections, agents, args.days, args.groups_per_page)
        monthly = PRICE_PER_REQUEST_USD * RUNS_PER_MONTH
        saving = f"{f.per_agent_requests / f.batched_requests:.0f}x" if f.batched_requests else "-"
        print(
            f"{f.connections:>3} {f.agents:>4} {f.days:>4} {f.groups:>11} {f.pages:>10} {f.batched_requests:>10} "
            f"{f.per_agent_requests:>13} {saving:>7} {format(monthly * f.batched_requests, '.2f'):>11} "
            f"{format(monthly * f.per_agent_requests, '.2f'):>14} {f.seconds:>6.2f}"
        )
        assert f.batched_requests == f.connections * f.pages, "Muster must make one request per page per connection"
    print(
        f"Muster: requests = connections x pages, whatever the number of agents; "
        f"$ per month at one run a day, ${PRICE_PER_REQUEST_USD} per request ({Decimal(RUNS_PER_MONTH)} runs)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
