"""One definition of every table, shared by the PynamoDB models, the CDK stack, the tests and the local mode.

Pure data: no PynamoDB or CDK import here, so ``infra/`` can read it without pulling the runtime in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    logical_name: str  # also the default physical name (local mode, tests)
    env_var: str  # the Lambda environment variable that carries the physical name in AWS
    partition_key: str
    sort_key: str | None = None
    purpose: str = ""


AGENTS = TableSpec("MusterAgent", "MUSTER_AGENT_TABLE", "agentId", purpose="agents, their trace names and cloud link")
MODEL_PRICING = TableSpec(
    "MusterModelPricing",
    "MUSTER_MODEL_PRICING_TABLE",
    "modelKey",
    "effectiveFrom",
    purpose="effective-dated per-1k prices",
)
LLM_COST_HOURLY = TableSpec(
    "MusterAgentCostHourly",
    "MUSTER_AGENT_COST_HOURLY_TABLE",
    "hour",
    "groupKey",
    purpose="token counts and cost per (trace name, hour, model, tier, price version)",
)
LLM_COST_DAILY = TableSpec(
    "MusterAgentCostDaily", "MUSTER_AGENT_COST_DAILY_TABLE", "agentId", "date", purpose="LLM cost per agent and day"
)
CLOUD_CONNECTIONS = TableSpec(
    "MusterCloudConnection", "MUSTER_CLOUD_CONNECTION_TABLE", "connectionId", purpose="cross-account roles"
)
CLOUD_COST_DAILY = TableSpec(
    "MusterAgentCloudCostDaily",
    "MUSTER_AGENT_CLOUD_COST_DAILY_TABLE",
    "agentId",
    "dateService",
    purpose="cloud cost per agent, day and AWS service",
)
EXCHANGE_RATES = TableSpec(
    "MusterExchangeRate", "MUSTER_EXCHANGE_RATE_TABLE", "currency", "dateSource", purpose="units per USD by day"
)
COST_ROLLUP = TableSpec(
    "MusterCostRollup",
    "MUSTER_COST_ROLLUP_TABLE",
    "scope",
    "date",
    purpose="per-day organization totals carrying per-agent figures (the API's read path)",
)
SETTINGS = TableSpec("MusterSettings", "MUSTER_SETTINGS_TABLE", "settingsId", purpose="project settings")
REPORT_LOG = TableSpec(
    "MusterReportLog", "MUSTER_REPORT_LOG_TABLE", "week", "recipient", purpose="weekly report deliveries"
)

ALL_TABLES: tuple[TableSpec, ...] = (
    AGENTS,
    MODEL_PRICING,
    LLM_COST_HOURLY,
    LLM_COST_DAILY,
    CLOUD_CONNECTIONS,
    CLOUD_COST_DAILY,
    EXCHANGE_RATES,
    COST_ROLLUP,
    SETTINGS,
    REPORT_LOG,
)
