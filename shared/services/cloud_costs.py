"""The daily cloud cost run: per connection, one assumed role and one Cost Explorer request stream.

For each connection with linked agents: assume its role, read the window's daily cost grouped by service (and
tag), book every group to one agent id, and make the stored rows of those agents and days equal CE's answer.
A connection that fails (access denied, role missing, CE not enabled, throttled after adaptive retries,
garbage answer, conflicting links) is recorded on the connection and the run goes on with the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared.config import Settings, get_settings
from shared.dal.agents import AgentRepository, agent_repository
from shared.dal.cloud import (
    CloudConnectionRepository,
    CloudCostRepository,
    cloud_connection_repository,
    cloud_cost_repository,
)
from shared.dal.rollup import AgentCloudDay, RollupRepository, rollup_repository
from shared.domain.agents import Agent
from shared.domain.cloud import (
    CloudConnection,
    DayWindow,
    attribute_costs,
    check_cloud_links,
    requested_window,
    unallocated_agent_id,
)
from shared.domain.money import exact_sum
from shared.errors import ConflictError, InvalidInputError
from shared.observability import MetricUnit, add_dimensioned_metric, logger, metrics
from shared.sources.cost_explorer import (
    CeClientFactory,
    CloudSourceError,
    StsClientFactory,
    assume_role,
    default_ce_client_factory,
    default_sts_client_factory,
    fetch_cost_groups,
)

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

PRICE_PER_REQUEST_USD = Decimal("0.01")  # each GetCostAndUsage request (page) is billed to the role's account
AgentDay = tuple[str, date]


@dataclass(frozen=True)
class ConnectionOutcome:
    connection_id: str
    status: str  # "ok", "failed" or "skipped" (no agent linked: no request made)
    requests: int = 0
    rows_written: int = 0
    rows_deleted: int = 0
    rows_unchanged: int = 0
    unlinked_services: tuple[str, ...] = ()
    reason: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "connectionId": self.connection_id,
            "status": self.status,
            "requests": self.requests,
            "rowsWritten": self.rows_written,
            "rowsDeleted": self.rows_deleted,
            "rowsUnchanged": self.rows_unchanged,
        }
        if self.unlinked_services:
            result["unlinkedServices"] = list(self.unlinked_services)
        if self.error:
            result["reason"] = self.reason
            result["error"] = self.error
        return result


@dataclass(frozen=True)
class CloudSyncResult:
    window: DayWindow
    outcomes: tuple[ConnectionOutcome, ...]
    written: tuple[AgentDay, ...]  # (agent id, day) whose stored rows changed (written or deleted), sorted

    @property
    def requests(self) -> int:
        return sum(outcome.requests for outcome in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == "failed")

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def summary(self) -> dict[str, Any]:
        """The JSON-able run summary the handler returns."""
        return {
            "window": {**self.window.as_dict(), "days": self.window.days},
            "connections": len(self.outcomes),
            "connectionsSucceeded": self.count("ok"),
            "connectionsFailed": self.count("failed"),
            "connectionsSkipped": self.count("skipped"),
            "costExplorerRequests": self.requests,
            "costExplorerRequestCostUsd": format(PRICE_PER_REQUEST_USD * self.requests, "f"),
            "rowsWritten": sum(o.rows_written for o in self.outcomes),
            "rowsDeleted": sum(o.rows_deleted for o in self.outcomes),
            "rowsUnchanged": sum(o.rows_unchanged for o in self.outcomes),
            "agentDaysChanged": len(self.written),
            "perConnection": [outcome.as_dict() for outcome in self.outcomes],
        }


def written_agent_days(result: CloudSyncResult) -> list[AgentDay]:
    """The (agent id, day) pairs whose cloud rows a run wrote or deleted: what a per-day rollup must redo."""
    return list(result.written)


@dataclass
class _Run:
    settings: Settings
    window: DayWindow
    agents: list[Agent]
    connections: CloudConnectionRepository
    costs: CloudCostRepository
    sts_factory: StsClientFactory
    ce_factory: CeClientFactory
    now: Callable[[], datetime]
    requests: int = 0
    written: set[AgentDay] = field(default_factory=set)
    _sts: STSClient | None = None

    def counted(self) -> None:
        self.requests += 1

    def sts(self) -> STSClient:
        """One STS client for the run, built on first use (a run where every connection is skipped builds none)."""
        if self._sts is None:
            self._sts = self.sts_factory()
        return self._sts

    def sync(self, connection: CloudConnection) -> ConnectionOutcome:
        linked = [agent for agent in self.agents if agent.cloud_connection_id == connection.connection_id]
        if not linked:
            return ConnectionOutcome(connection.connection_id, "skipped")
        before = self.requests
        try:
            check_cloud_links(linked, [connection])
            credentials = assume_role(self.sts(), connection, self.settings.cloud)
            stream = fetch_cost_groups(
                self.ce_factory(credentials), self.window, connection.tag_key, on_request=self.counted
            )
        except (CloudSourceError, InvalidInputError, ConflictError) as exc:
            return self.failed(connection, exc, self.requests - before)
        attribution = attribute_costs(connection, linked, stream.groups, self.window)
        agent_ids = sorted({agent.agent_id for agent in linked} | {unallocated_agent_id(connection.connection_id)})
        changes = self.costs.replace_rows(agent_ids, self.window, attribution.rows, self.now())
        self.written.update(changes.changed_agent_days)
        self.connections.record_success(connection.connection_id, self.now())
        if attribution.outside_window:
            logger.warning(
                "cost explorer returned days outside the window",
                connection_id=connection.connection_id,
                groups=attribution.outside_window,
            )
        return ConnectionOutcome(
            connection.connection_id,
            "ok",
            requests=stream.requests,
            rows_written=len(changes.put),
            rows_deleted=len(changes.delete),
            rows_unchanged=changes.unchanged,
            unlinked_services=attribution.unlinked_services,
        )

    def failed(self, connection: CloudConnection, exc: Exception, requests: int) -> ConnectionOutcome:
        reason = exc.reason if isinstance(exc, CloudSourceError) else "configuration"
        code = exc.code if isinstance(exc, CloudSourceError) else None
        error = f"{reason}: {exc}"
        logger.warning("cloud connection failed", connection_id=connection.connection_id, reason=reason, code=code)
        self.connections.record_failure(connection.connection_id, error, self.now())
        return ConnectionOutcome(connection.connection_id, "failed", requests=requests, reason=reason, error=error)


def fetch_cloud_costs(
    window_from: date | None = None,
    window_to: date | None = None,
    *,
    settings: Settings | None = None,
    sts_client_factory: StsClientFactory | None = None,
    ce_client_factory: CeClientFactory | None = None,
    connections: CloudConnectionRepository | None = None,
    agents: AgentRepository | None = None,
    costs: CloudCostRepository | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CloudSyncResult:
    """Fetch every connection's cloud cost for the default trailing window or ``window_from``..``window_to``."""
    settings = settings or get_settings()
    cloud = settings.cloud
    window = requested_window(window_from, window_to, now().date(), cloud.lookback_days, cloud.restatement_days)
    connections = connections or cloud_connection_repository()
    run = _Run(
        settings=settings,
        window=window,
        agents=(agents or agent_repository()).list_agents(),
        connections=connections,
        costs=costs or cloud_cost_repository(),
        sts_factory=sts_client_factory or default_sts_client_factory(settings),
        ce_factory=ce_client_factory or default_ce_client_factory(settings),
        now=now,
    )
    all_connections = connections.list_connections()
    outcomes = tuple(run.sync(connection) for connection in all_connections)
    result = CloudSyncResult(window, outcomes, tuple(sorted(run.written)))
    rebuild_cloud_rollups(window, run.agents, all_connections, run.costs)
    metrics.add_metric(name="CloudConnectionsFailed", unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name="CostExplorerRequests", unit=MetricUnit.Count, value=result.requests)
    metrics.add_metric(name="CloudCostAgentDaysChanged", unit=MetricUnit.Count, value=len(result.written))
    summary = result.summary()
    logger.info("cloud cost run", **{key: value for key, value in summary.items() if key != "perConnection"})
    return result


def rebuild_cloud_rollups(
    window: DayWindow,
    agents: Sequence[Agent],
    connections: Sequence[CloudConnection],
    costs: CloudCostRepository,
    rollups: RollupRepository | None = None,
) -> None:
    """Rewrite the ``cloud`` part of each day's organization rollup in the window from the stored rows.

    Rebuilt from what is stored (not from what this run fetched), so a failed connection's older rows stay
    counted and the rollup always equals the sum of the rows beneath it.
    """
    rollups = rollups or rollup_repository()
    agent_ids = sorted(
        {agent.agent_id for agent in agents if agent.cloud_connection_id}
        | {unallocated_agent_id(connection.connection_id) for connection in connections}
    )
    per_day: dict[date, dict[str, dict[str, Decimal]]] = {}
    for agent_id in agent_ids:
        for row in costs.cloud_costs_for_agent(agent_id, window.start, window.end):
            services = per_day.setdefault(row.day, {}).setdefault(agent_id, {})
            services[row.service] = services.get(row.service, Decimal(0)) + row.unblended_cost
    # The dashboard's cost per agent: each run reports the newest complete UTC day once (a daily run, so a SUM
    # over time counts each day once; Cost Explorer may still restate it, which the stored rows do follow).
    latest_complete = window.end - timedelta(days=1)
    for agent_id, services in sorted(per_day.get(latest_complete, {}).items()):
        cost = float(exact_sum(services.values()))  # float only for the CloudWatch value; money stays Decimal
        add_dimensioned_metric("CloudCostUsd", cost, MetricUnit.NoUnit, "agent", agent_id)
    day = window.start
    while day <= window.end:
        rollups.set_cloud_day(
            day.isoformat(),
            {
                agent_id: AgentCloudDay(cost=exact_sum(services.values()), by_service=services)
                for agent_id, services in sorted(per_day.get(day, {}).items())
            },
        )
        day += timedelta(days=1)
