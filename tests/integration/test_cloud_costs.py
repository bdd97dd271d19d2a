"""The cloud cost worker end to end: moto for STS, CE (per-account queues) and DynamoDB, through the handler."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.sts.models import sts_backends

from functions.fetch_cloud_costs.handler import handler
from shared.config import Settings
from shared.dal.cloud import CloudCostDailyModel, cloud_connection_repository, cloud_cost_repository
from shared.domain.cloud import ConnectionStatus, DayWindow, unallocated_agent_id
from shared.errors import InvalidInputError
from shared.local.cloud_demo import DEMO_ACCOUNT_ID, DEMO_CONNECTION_ID, demo_cost_results, setup_cloud_demo
from shared.local.lambda_context import LocalLambdaContext
from shared.services import cloud_costs
from shared.services.cloud_costs import fetch_cloud_costs, written_agent_days
from shared.sources.cost_explorer import Credentials, cost_request
from tests.integration.test_cloud_support import (
    MOTO_API,
    DenyingSts,
    add_connection,
    ce_group,
    ce_page,
    cloud_stack,
    link,
    queue_ce,
)

ACCOUNT_A, ACCOUNT_B = "111122223333", "444455556666"
TODAY = datetime.now(UTC).date()
DAY1, DAY2 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
EVENT = {"from": DAY1.isoformat(), "to": DAY2.isoformat()}
CLAUDE = "Claude 3.5 Sonnet (Amazon Bedrock Edition)"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Only the tables these tests touch (the shared ``aws`` fixture creates every table)."""
    monkeypatch.delenv("MUSTER_ENDPOINT_URL", raising=False)
    with cloud_stack() as settings:
        yield settings


def run_handler(event: dict[str, Any] | None = None) -> dict[str, Any]:
    return handler(dict(EVENT if event is None else event), LocalLambdaContext(function_name="fetch-cloud-costs"))


def stored() -> dict[tuple[str, str], CloudCostDailyModel]:
    return {(item.agent_id, item.date_service): item for item in CloudCostDailyModel.scan()}


def two_accounts() -> None:
    """Account A: tag key, three agents, two CE pages. Account B: no tag key, one agent, one page."""
    add_connection("conn-a", ACCOUNT_A)
    add_connection("conn-b", ACCOUNT_B, tag_key=None)
    link("support", "conn-a", "AmazonBedrock", "support")
    link("research", "conn-a", "AmazonBedrock", "agent_id$research")
    link("planner", "conn-a", "AmazonSageMaker")
    link("lab", "conn-b", "AmazonBedrock")
    queue_ce(
        ACCOUNT_A,
        ce_page(
            {
                DAY1: [
                    ce_group("Amazon Bedrock", "1.5000000001", "support"),
                    ce_group(CLAUDE, "2.25", "support"),
                    ce_group("Amazon Bedrock", "0.5", None),
                    ce_group("Amazon Simple Storage Service", "3", None),
                ]
            },
            token="tok2",
        ),
        ce_page(
            {
                DAY2: [
                    ce_group("Amazon Bedrock", "0.75", "research"),
                    ce_group("Amazon SageMaker", "4", None),
                    ce_group(CLAUDE, "-1.0", None),  # a credit
                ]
            }
        ),
    )
    queue_ce(ACCOUNT_B, ce_page({DAY1: [ce_group("Amazon Bedrock", "10", tag_key=None)], DAY2: []}))


def test_handler_books_two_accounts_to_agents_and_reconciles(aws: Settings) -> None:
    # Given two connections in two accounts with Marketplace names, a credit, untagged and unlinked spend
    two_accounts()
    # When the worker runs through its Lambda handler
    summary = run_handler()
    # Then both connections were read, with one request per page
    assert summary["connections"] == 2 and summary["connectionsSucceeded"] == 2 and summary["connectionsFailed"] == 0
    assert summary["costExplorerRequests"] == 3
    assert summary["costExplorerRequestCostUsd"] == "0.03"
    assert summary["window"] == {"from": DAY1.isoformat(), "to": DAY2.isoformat(), "days": 2}
    # And every group landed on exactly one agent id
    rows = stored()
    amounts = {key: item.unblended_cost for key, item in rows.items()}
    unallocated = unallocated_agent_id("conn-a")
    assert amounts == {
        ("support", f"{DAY1}#AmazonBedrock"): Decimal("3.7500000001"),
        ("research", f"{DAY2}#AmazonBedrock"): Decimal("0.75"),
        ("planner", f"{DAY2}#AmazonSageMaker"): Decimal("4"),
        (unallocated, f"{DAY1}#AmazonBedrock"): Decimal("0.5"),
        (unallocated, f"{DAY2}#AmazonBedrock"): Decimal("-1.0"),
        ("lab", f"{DAY1}#AmazonBedrock"): Decimal("10"),
    }
    assert rows[(unallocated, f"{DAY2}#AmazonBedrock")].credits == Decimal("-1")
    assert rows[("support", f"{DAY1}#AmazonBedrock")].ce_services == ["Amazon Bedrock", CLAUDE]
    assert all(item.estimated for item in rows.values())
    # And account A's stored total equals CE's total for the services its agents link (S3 is nobody's)
    conn_a_total = sum(amount for (agent, _), amount in amounts.items() if agent != "lab")
    assert conn_a_total == Decimal("1.5000000001") + Decimal("2.25") + Decimal("0.5") + Decimal("0.75") + 4 - 1
    assert summary["perConnection"][0]["unlinkedServices"] == ["AmazonS3"]
    # And each role was assumed with its own external id and an identifiable session name
    for account, connection_id in ((ACCOUNT_A, "conn-a"), (ACCOUNT_B, "conn-b")):
        (assumed,) = sts_backends[account]["aws"].assumed_roles
        assert assumed.external_id == f"external-{connection_id}"
        assert assumed.session_name == f"muster-costs-{connection_id}"
    # And the connections record their success
    connections = {c.connection_id: c for c in cloud_connection_repository().list_connections()}
    assert {c.status for c in connections.values()} == {ConnectionStatus.OK}
    assert all(c.last_success_at is not None for c in connections.values())


def test_rerunning_changes_nothing(aws: Settings) -> None:
    # Given a first run
    two_accounts()
    first = run_handler()
    before = {key: item.serialize() for key, item in stored().items()}
    # When the same window runs again (moto answers the same request body the same way)
    second = run_handler()
    # Then nothing was written, not even a timestamp
    assert first["rowsWritten"] == 6 and first["agentDaysChanged"] == 6
    assert second["rowsWritten"] == 0 and second["rowsDeleted"] == 0 and second["agentDaysChanged"] == 0
    assert second["rowsUnchanged"] == 6
    assert {key: item.serialize() for key, item in stored().items()} == before


def test_one_failing_connection_is_recorded_and_the_run_goes_on(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given account A's role cannot be assumed (deleted, or trusting someone else)
    two_accounts()
    real_factory = cloud_costs.default_sts_client_factory

    def denying_factory(settings: Settings) -> Any:
        return lambda: DenyingSts(real_factory(settings)(), {"arn:aws:iam::111122223333:role/MusterCostReader-conn-a"})

    monkeypatch.setattr(cloud_costs, "default_sts_client_factory", denying_factory)
    recorded: dict[str, float] = {}
    monkeypatch.setattr(
        cloud_costs.metrics, "add_metric", lambda name, unit, value, **_: recorded.__setitem__(name, value)
    )
    # When
    summary = run_handler()
    # Then the run reports the failure, counts it for the alarm, and still stores account B
    assert summary["connectionsFailed"] == 1 and summary["connectionsSucceeded"] == 1
    assert recorded["CloudConnectionsFailed"] == 1
    assert recorded["CostExplorerRequests"] == 1
    failure = summary["perConnection"][0]
    assert failure["connectionId"] == "conn-a" and failure["reason"] == "access_denied"
    assert set(stored()) == {("lab", f"{DAY1}#AmazonBedrock")}
    conn_a = cloud_connection_repository().get_connection("conn-a")
    assert conn_a is not None and conn_a.status is ConnectionStatus.FAILED
    assert conn_a.last_error is not None and "AccessDenied" in conn_a.last_error
    assert conn_a.last_error_at is not None and conn_a.last_success_at is None


class StubbedCe:
    """A CE client factory whose clients answer from a Stubber queue (run by run)."""

    def __init__(self) -> None:
        self.client = boto3.client("ce", region_name="us-east-1")
        self.stub = Stubber(self.client)
        self.stub.activate()

    def __call__(self, credentials: Credentials) -> Any:
        return self.client


def test_rows_that_vanish_from_cost_explorer_are_deleted(aws: Settings) -> None:
    # Given a first answer with two services for an agent that owns Bedrock and one that owns SageMaker
    add_connection("conn-a", ACCOUNT_A, tag_key=None)
    link("bedrock-agent", "conn-a", "AmazonBedrock")
    link("sage-agent", "conn-a", "AmazonSageMaker")
    window = DayWindow(DAY1, DAY2)
    ce = StubbedCe()
    request = cost_request(window, None)
    first = ce_page(
        {
            DAY1: [ce_group("Amazon Bedrock", "1", tag_key=None), ce_group("Amazon SageMaker", "2", tag_key=None)],
            DAY2: [ce_group("Amazon Bedrock", "3", tag_key=None)],
        }
    )
    restated = ce_page({DAY1: [ce_group("Amazon Bedrock", "1.10", tag_key=None)], DAY2: []})
    ce.stub.add_response("get_cost_and_usage", first, request)
    ce.stub.add_response("get_cost_and_usage", restated, request)
    fetch_cloud_costs(DAY1, DAY2, ce_client_factory=ce)
    # When CE restates the window: day 1 Bedrock changed, SageMaker and day 2 gone
    result = fetch_cloud_costs(DAY1, DAY2, ce_client_factory=ce)
    # Then the stored set equals CE's answer and the changed (agent, day) pairs are reported
    assert {key: item.unblended_cost for key, item in stored().items()} == {
        ("bedrock-agent", f"{DAY1}#AmazonBedrock"): Decimal("1.1")
    }
    assert written_agent_days(result) == [("bedrock-agent", DAY1), ("bedrock-agent", DAY2), ("sage-agent", DAY1)]
    assert result.summary()["rowsDeleted"] == 2


def test_throttling_after_retries_and_a_failed_second_page(aws: Settings) -> None:
    # Given one connection whose CE throttles, and one whose second page fails
    add_connection("conn-a", ACCOUNT_A, tag_key=None)
    add_connection("conn-b", ACCOUNT_B, tag_key=None)
    link("a", "conn-a", "AmazonBedrock")
    link("b", "conn-b", "AmazonBedrock")
    ce = StubbedCe()
    window = DayWindow(DAY1, DAY2)
    ce.stub.add_client_error("get_cost_and_usage", service_error_code="LimitExceededException")
    ce.stub.add_response("get_cost_and_usage", ce_page({DAY1: []}, token="p2"), cost_request(window, None))
    ce.stub.add_client_error("get_cost_and_usage", service_error_code="InvalidNextTokenException")
    # When
    result = fetch_cloud_costs(DAY1, DAY2, ce_client_factory=ce)
    # Then both are failures with their reason, nothing is written, and the billed page is still counted
    summary = result.summary()
    assert [(c["connectionId"], c["reason"], c["requests"]) for c in summary["perConnection"]] == [
        ("conn-a", "throttled", 0),
        ("conn-b", "error", 1),
    ]
    assert summary["costExplorerRequests"] == 1 and summary["connectionsFailed"] == 2
    assert stored() == {}


def test_conflicting_links_fail_the_connection_before_any_request(aws: Settings) -> None:
    # Given two agents written straight to the table, both claiming untagged Bedrock of one connection
    add_connection("conn-a", ACCOUNT_A)
    link("one", "conn-a", "AmazonBedrock")
    link("two", "conn-a", "AmazonBedrock")
    add_connection("conn-idle", ACCOUNT_B)
    # When
    summary = fetch_cloud_costs(DAY1, DAY2, ce_client_factory=StubbedCe()).summary()
    # Then no dollar is booked twice: the connection fails, and the connection without agents is skipped
    assert [(c["connectionId"], c["status"]) for c in summary["perConnection"]] == [
        ("conn-a", "failed"),
        ("conn-idle", "skipped"),
    ]
    assert "configuration" in summary["perConnection"][0]["error"]
    assert summary["costExplorerRequests"] == 0


def test_default_window_on_the_first_of_the_month_rereads_the_previous_month(aws: Settings) -> None:
    # Given the run happens on 1 December
    add_connection("conn-a", ACCOUNT_A)
    link("a", "conn-a", "AmazonBedrock", "a")
    ce = StubbedCe()
    expected = {
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-12-02"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost", "NetUnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": "agent_id"}],
    }
    ce.stub.add_response("get_cost_and_usage", ce_page({date(2026, 11, 30): []}), expected)
    # When
    result = fetch_cloud_costs(now=lambda: datetime(2026, 12, 1, 2, 0, tzinfo=UTC), ce_client_factory=ce)
    # Then the exact request went out (Stubber checked it against the CE model)
    ce.stub.assert_no_pending_responses()
    assert result.window == DayWindow(date(2026, 11, 1), date(2026, 12, 1))


def test_backfill_outside_cost_explorer_history_is_a_clear_error(aws: Settings) -> None:
    with pytest.raises(InvalidInputError, match="14 months"):
        run_handler({"from": (TODAY - timedelta(days=500)).isoformat(), "to": DAY2.isoformat()})
    with pytest.raises(InvalidInputError, match="future"):
        run_handler({"from": DAY1.isoformat(), "to": (TODAY + timedelta(days=3)).isoformat()})


def test_demo_setup_feeds_the_worker(aws: Settings) -> None:
    # Given the local demo's connection, agents and queued CE answers for a three-day window
    start, end = TODAY - timedelta(days=3), TODAY - timedelta(days=1)
    connection = setup_cloud_demo(MOTO_API, start, end)
    # When the worker runs on that window
    summary = run_handler({"from": start.isoformat(), "to": end.isoformat()})
    # Then the demo role in the second account was assumed and each agent got spend
    assert connection.account_id == DEMO_ACCOUNT_ID
    assert sts_backends[DEMO_ACCOUNT_ID]["aws"].assumed_roles[-1].external_id == connection.external_id
    assert summary["connectionsSucceeded"] == 1 and summary["costExplorerRequests"] == 1
    repo = cloud_cost_repository()
    agent_ids = ["support-agent", "research-agent", "planner-agent", unallocated_agent_id(DEMO_CONNECTION_ID)]
    for agent_id in agent_ids:
        assert repo.cloud_costs_for_agent(agent_id, start, end), agent_id
    # And stored totals reconcile with CE's answer for the linked services (S3 is nobody's)
    groups = [g for day in demo_cost_results(start, end)[0]["ResultsByTime"] for g in day["Groups"]]
    expected = sum(
        Decimal(g["Metrics"]["UnblendedCost"]["Amount"]) for g in groups if "Simple Storage" not in g["Keys"][0]
    )
    assert sum(repo.cloud_totals_by_day(agent_ids, start, end).values()) == expected
    credits = repo.cloud_costs_for_agent(unallocated_agent_id(DEMO_CONNECTION_ID), start, start)
    assert credits[0].credits == Decimal("-5")


def test_repository_reads_per_agent_and_per_day(aws: Settings) -> None:
    # Given a run that stored two days
    two_accounts()
    run_handler()
    repo = cloud_cost_repository()
    unallocated = unallocated_agent_id("conn-a")
    # When / Then: one agent's rows, bounded by the window, by day then service
    assert [row.day for row in repo.cloud_costs_for_agent(unallocated, DAY1, DAY2)] == [DAY1, DAY2]
    assert [row.day for row in repo.cloud_costs_for_agent(unallocated, DAY2, DAY2)] == [DAY2]
    assert repo.cloud_cost_by_day("support", DAY1, DAY2) == {DAY1: Decimal("3.7500000001")}
    totals = repo.cloud_totals_by_day(["support", "research", "planner", unallocated, "lab"], DAY1, DAY2)
    assert totals == {DAY1: Decimal("14.2500000001"), DAY2: Decimal("3.75")}
