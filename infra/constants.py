"""Every name the stack uses, in one place: the functions and what each may touch, the metrics, the API routes.

Values a customer may change (schedules, lookback windows, Langfuse host, alarm e-mail, ...) are read from
``cdk.json`` context by ``infra/context.py``; this module holds what the code fixes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aws_cdk import aws_lambda as lambda_

from shared.dal import tables as t
from shared.dal.tables import TableSpec

STACK_NAME = "MusterCosts"
STACK_DESCRIPTION = "Muster Costs: per-agent LLM and AWS cost tracking (tables, workers, IAM-protected API, alarms)"
SERVICE_NAME = "muster-costs"  # Powertools service name (shared/observability.py), tag value, metric dimension value
METRICS_NAMESPACE = "MusterCosts"  # equals shared.observability.METRICS_NAMESPACE (tests/infra checks it)

# ---------------------------------------------------------------------------------------------------------------
# Lambda defaults, shared by every function. The layer is built for exactly this interpreter and platform.
PYTHON_VERSION = "3.14"
RUNTIME = lambda_.Runtime.PYTHON_3_14  # the newest Python runtime aws-cdk-lib knows (cdk-nag AwsSolutions-L1)
ARCHITECTURE = lambda_.Architecture.ARM_64
LAYER_PIP_PLATFORM = "manylinux2014_aarch64"  # pip --platform for ARCHITECTURE
LAYER_UV_PLATFORM = "aarch64-manylinux2014"  # the same platform, spelled for uv pip --python-platform
ASYNC_RETRY_ATTEMPTS = 2  # Lambda's own retries of a failed scheduled run, then the dead-letter queue
TARGET_RETRY_ATTEMPTS = 4  # EventBridge's retries when it cannot invoke the function at all (throttling, ...)
DEAD_LETTER_RETENTION_DAYS = 14  # the SQS maximum


class Capability(enum.Enum):
    """A permission beyond table access; the stack turns each into one narrowly scoped IAM statement."""

    READ_LANGFUSE_SECRET = "secretsmanager:GetSecretValue on the Langfuse secret only"
    ASSUME_CONNECTION_ROLES = "sts:AssumeRole on arn:<partition>:iam::*:role/<connection role prefix>*"
    SEND_REPORT_EMAIL = "ses:SendEmail/SendRawEmail from the configured sender identity only"


# Environment variables (besides one per table, see TableSpec.env_var) a function may read; shared/config.py
# is the reader. Values come from infra/context.py.
ENV_LANGFUSE_HOST = "LANGFUSE_HOST"
ENV_LANGFUSE_SECRET_NAME = "LANGFUSE_SECRET_NAME"
ENV_LLM_LOOKBACK_HOURS = "MUSTER_LLM_LOOKBACK_HOURS"
ENV_ECB_BASE_URL = "ECB_BASE_URL"
ENV_BNM_BASE_URL = "BNM_BASE_URL"
ENV_BI_BASE_URL = "BI_BASE_URL"
ENV_FX_STALENESS_DAYS = "MUSTER_FX_STALENESS_DAYS"
ENV_CLOUD_LOOKBACK_DAYS = "MUSTER_CLOUD_LOOKBACK_DAYS"
ENV_CONNECTION_ROLE_PREFIX = "MUSTER_CONNECTION_ROLE_PREFIX"
ENV_CLOUD_WORKER_ROLE_ARN = "MUSTER_CLOUD_WORKER_ROLE_ARN"  # set by the stack to the cloud worker's own role
ENV_REPORT_SENDER = "MUSTER_REPORT_SENDER"
ENV_DEFAULT_CURRENCY = "MUSTER_DEFAULT_CURRENCY"  # display default until `muster-costs settings` sets one


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its code folder, sizing, schedule and exactly what it may touch."""

    name: str  # folder functions/<name>/; handler functions.<name>.handler.handler
    description: str
    memory_mb: int
    timeout_seconds: int
    reads: tuple[TableSpec, ...] = ()  # read-only access
    writes: tuple[TableSpec, ...] = ()  # read and write access
    schedules: tuple[str, ...] = ()  # default EventBridge expressions (cdk.json `schedules` overrides); () = API
    settings: tuple[str, ...] = ()  # ENV_* names this function reads
    capabilities: frozenset[Capability] = frozenset()
    max_event_age_seconds: int = 6 * 3600  # a scheduled event older than this goes to the dead-letter queue

    @property
    def handler(self) -> str:
        return f"functions.{self.name}.handler.handler"

    @property
    def construct_id(self) -> str:
        return "".join(part.title() for part in self.name.split("_"))

    @property
    def read_only_tables(self) -> tuple[TableSpec, ...]:
        return tuple(spec for spec in self.reads if spec not in self.writes)

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        """Every table the function touches, once each, in declaration order."""
        return tuple(dict.fromkeys(self.reads + self.writes))


AGGREGATE_LLM_COSTS = FunctionSpec(
    name="aggregate_llm_costs",
    description="Hourly: prices Langfuse generations and rolls them up per agent, hour and day",
    memory_mb=512,
    timeout_seconds=600,  # a few hours of pages at 1000 observations, with bounded Retry-After waits
    reads=(t.AGENTS, t.MODEL_PRICING),
    writes=(t.AGENTS, t.LLM_COST_HOURLY, t.LLM_COST_DAILY, t.COST_ROLLUP),  # agents: auto-registration
    schedules=("cron(7 * * * ? *)",),  # a few minutes past the hour, once Langfuse has the last hour
    settings=(ENV_LANGFUSE_HOST, ENV_LANGFUSE_SECRET_NAME, ENV_LLM_LOOKBACK_HOURS),
    capabilities=frozenset({Capability.READ_LANGFUSE_SECRET}),
    max_event_age_seconds=3600,  # the next hourly run re-reads the lookback window anyway
)
FETCH_CLOUD_COSTS = FunctionSpec(
    name="fetch_cloud_costs",
    description="Daily: reads Cost Explorer through each cloud connection's role and attributes spend to agents",
    memory_mb=256,
    timeout_seconds=600,  # Cost Explorer pages per connection with bounded backoff
    reads=(t.AGENTS, t.CLOUD_CONNECTIONS),
    writes=(t.CLOUD_CONNECTIONS, t.CLOUD_COST_DAILY, t.COST_ROLLUP),  # connections: last status
    schedules=("cron(30 6 * * ? *)",),
    settings=(ENV_CLOUD_LOOKBACK_DAYS, ENV_CONNECTION_ROLE_PREFIX, ENV_CLOUD_WORKER_ROLE_ARN),
    capabilities=frozenset({Capability.ASSUME_CONNECTION_ROLES}),
)
FETCH_EXCHANGE_RATES = FunctionSpec(
    name="fetch_exchange_rates",
    description="Daily: stores ECB, BNM and BI reference rates (units per USD), filling missed days",
    memory_mb=256,
    timeout_seconds=300,  # three small HTTP sources, each with bounded retries
    writes=(t.EXCHANGE_RATES,),
    schedules=("cron(30 16 * * ? *)", "cron(0 6 * * ? *)"),  # after the ECB publishes (~16:00 CET); catch-up
    settings=(ENV_ECB_BASE_URL, ENV_BNM_BASE_URL, ENV_BI_BASE_URL, ENV_FX_STALENESS_DAYS),
)
SEND_WEEKLY_REPORT = FunctionSpec(
    name="send_weekly_report",
    description="Weekly: e-mails last week's per-agent costs to the report recipients",
    memory_mb=512,
    timeout_seconds=300,
    reads=(
        t.AGENTS,
        t.LLM_COST_DAILY,
        t.CLOUD_COST_DAILY,
        t.CLOUD_CONNECTIONS,  # failed connections are part of the report
        t.EXCHANGE_RATES,
        t.COST_ROLLUP,
        t.SETTINGS,
        t.MODEL_PRICING,
    ),
    writes=(t.REPORT_LOG,),  # one row per (week, recipient): a retry never e-mails twice
    # Monday 07:00 UTC, and 08:00 to retry recipients whose claim was left "sending" by a crashed run (lease 15 min)
    schedules=("cron(0 7 ? * MON *)", "cron(0 8 ? * MON *)"),
    settings=(ENV_REPORT_SENDER, ENV_DEFAULT_CURRENCY, ENV_FX_STALENESS_DAYS),
    capabilities=frozenset({Capability.SEND_REPORT_EMAIL}),
)
COSTS_API = FunctionSpec(
    name="costs_api",
    description="The read-only costs API behind API Gateway (every route)",
    memory_mb=512,  # more memory is more CPU: lower latency for the JSON work
    timeout_seconds=25,  # below API Gateway's 29 s integration limit
    reads=(
        t.AGENTS,
        t.LLM_COST_DAILY,
        t.CLOUD_COST_DAILY,
        t.EXCHANGE_RATES,
        t.COST_ROLLUP,
        t.SETTINGS,
        t.MODEL_PRICING,
    ),
    settings=(ENV_DEFAULT_CURRENCY, ENV_FX_STALENESS_DAYS),
)

WORKERS: tuple[FunctionSpec, ...] = (
    AGGREGATE_LLM_COSTS,
    FETCH_CLOUD_COSTS,
    FETCH_EXCHANGE_RATES,
    SEND_WEEKLY_REPORT,
)
FUNCTIONS: tuple[FunctionSpec, ...] = (*WORKERS, COSTS_API)

# ---------------------------------------------------------------------------------------------------------------
# The API (API Gateway REST, IAM authorization on every method, all routes to COSTS_API).
API_STAGE = "v1"
API_ROUTES: tuple[str, ...] = ("/costs/summary", "/costs/agents", "/costs/agents/{agentId}", "/costs/period")
API_QUERY_PARAMETERS: tuple[str, ...] = ("currency", "days", "from", "to", "fx")  # all optional


# ---------------------------------------------------------------------------------------------------------------
# Metrics the functions emit (Powertools EMF, namespace METRICS_NAMESPACE). Per-agent metrics carry the dimension
# AGENT_DIMENSION; any other dimensions (Powertools' `service`, the FX worker's `source`, ...) are free: the dashboard
# sums SEARCH results and the alarms use Metrics Insights (`SELECT SUM(name) FROM MusterCosts`), both of which
# aggregate across dimension sets. New agents appear on the dashboard without a deployment.
AGENT_DIMENSION = "agent"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    emitter: str  # FunctionSpec.name
    meaning: str
    per_agent: bool = False


LLM_COST_USD = MetricSpec(
    "LlmCostUsd", AGGREGATE_LLM_COSTS.name, "priced LLM spend in USD (a plain value, not micro-dollars)", True
)
UNPRICED_OBSERVATIONS = MetricSpec(
    "UnpricedObservations", AGGREGATE_LLM_COSTS.name, "generations with no matching price (kept, shown as unpriced)"
)
REJECTED_OBSERVATIONS = MetricSpec(
    "RejectedObservations", AGGREGATE_LLM_COSTS.name, "generations dropped as malformed (no model, bad usage)"
)
LLM_AGGREGATION_FAILED = MetricSpec(
    "LlmAggregationFailed", AGGREGATE_LLM_COSTS.name, "runs that could not read Langfuse (reported, not raised)"
)
OBSERVATIONS_PROCESSED = MetricSpec("ObservationsProcessed", AGGREGATE_LLM_COSTS.name, "generations read and priced")
CLOUD_COST_USD = MetricSpec("CloudCostUsd", FETCH_CLOUD_COSTS.name, "AWS spend attributed to an agent, in USD", True)
CLOUD_CONNECTIONS_FAILED = MetricSpec(
    "CloudConnectionsFailed", FETCH_CLOUD_COSTS.name, "connections whose role could not be assumed or read"
)
COST_EXPLORER_REQUESTS = MetricSpec(
    "CostExplorerRequests", FETCH_CLOUD_COSTS.name, "Cost Explorer API calls (each costs USD 0.01)"
)
EXCHANGE_RATE_REJECTED = MetricSpec(
    "ExchangeRatesRejected", FETCH_EXCHANGE_RATES.name, "rates refused by the sanity checks (e.g. >10 % day over day)"
)
STALE_EXCHANGE_RATE_SOURCE = MetricSpec(
    "StaleExchangeRateSource", FETCH_EXCHANGE_RATES.name, "sources whose newest rate is older than the staleness limit"
)
WEEKLY_REPORT_SEND_FAILURES = MetricSpec(
    "WeeklyReportSendFailures", SEND_WEEKLY_REPORT.name, "report e-mails SES refused or that failed to send"
)

METRICS: tuple[MetricSpec, ...] = (
    LLM_COST_USD,
    UNPRICED_OBSERVATIONS,
    REJECTED_OBSERVATIONS,
    OBSERVATIONS_PROCESSED,
    LLM_AGGREGATION_FAILED,
    CLOUD_COST_USD,
    CLOUD_CONNECTIONS_FAILED,
    COST_EXPLORER_REQUESTS,
    EXCHANGE_RATE_REJECTED,
    STALE_EXCHANGE_RATE_SOURCE,
    WEEKLY_REPORT_SEND_FAILURES,
)
