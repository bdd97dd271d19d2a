"""Cloud spend: connections, the fetch window, service names, the agent links, and how CE groups become rows.

Pure: no boto3 here. Cost Explorer (CE) answers in groups of (day, CE service name, tag value); this module
decides which agent each group belongs to, so that every dollar lands on exactly one agent id:

- a group of a service no agent of the connection links is not stored (it is another team's spend);
- a group whose tag value an agent claims books to that agent; a service linked by one agent without a tag
  books all its (non-negative) groups to that agent;
- a linked service's group no agent claims (untagged spend, another tag value) books to the connection's
  reserved id ``unallocated:<connectionId>``, so per-connection totals reconcile with CE;
- a negative group (credit, refund) books to ``unallocated:<connectionId>`` too, never to an agent
  (see docs/decisions.md, "Cloud costs").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.domain.agents import Agent
from shared.domain.money import ZERO, exact_sum
from shared.errors import ConflictError, InvalidInputError

UNALLOCATED_PREFIX = "unallocated:"
HISTORY_MONTHS = 13  # CE keeps the current month and the 13 before it at DAILY granularity
MAX_SESSION_NAME = 64
_ROLE_ARN = re.compile(r"^arn:aws:iam::(?P<account>\d{12}):role/(?P<name>[\w+=,.@-]{1,64})$")
_ROLE_ARN_WITH_PATH = re.compile(r"^arn:aws:iam::\d{12}:role/.+/[\w+=,.@-]+$")
_SERVICE_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]", re.ASCII)
_BEDROCK_EDITION = re.compile(r"\(\s*Amazon Bedrock Edition\s*\)\s*$", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z0-9]+")


class ConnectionStatus(StrEnum):
    PENDING = "pending"  # added, never fetched
    OK = "ok"  # the last run fetched it
    FAILED = "failed"  # the last run could not (see last_error)


@dataclass(frozen=True)
class CloudConnection:
    connection_id: str
    name: str
    role_arn: str
    external_id: str
    tag_key: str | None = None
    status: ConnectionStatus = ConnectionStatus.PENDING
    created_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]


def unallocated_agent_id(connection_id: str) -> str:
    """The reserved agent id holding a connection's linked-service spend that no agent claims."""
    return f"{UNALLOCATED_PREFIX}{connection_id}"


def is_unallocated(agent_id: str) -> bool:
    return agent_id.startswith(UNALLOCATED_PREFIX)


# --- validation of what a user types -------------------------------------------------------------------------


def validate_role_arn(role_arn: str, role_name_prefix: str) -> str:
    """``arn:aws:iam::<12 digits>:role/<name>`` with ``name`` starting with the configured prefix."""
    role_arn = role_arn.strip()
    match = _ROLE_ARN.match(role_arn)
    if match is None:
        if _ROLE_ARN_WITH_PATH.match(role_arn):
            raise InvalidInputError(
                f"role ARN {role_arn!r} has a path; create the role without one (arn:aws:iam::<account>:role/<name>)"
            )
        raise InvalidInputError(f"role ARN {role_arn!r} is not of the form arn:aws:iam::<12-digit account>:role/<name>")
    if not match["name"].startswith(role_name_prefix):
        raise InvalidInputError(
            f"role name {match['name']!r} must start with {role_name_prefix!r} "
            f"(Muster may only assume roles named {role_name_prefix}*)"
        )
    return role_arn


def role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[1]


def validate_tag_key(tag_key: str | None) -> str | None:
    """A cost allocation tag key as CE groups by it: the bare key (no ``user:``), no ``$``."""
    if tag_key is None:
        return None
    tag_key = tag_key.strip()
    if not tag_key:
        return None
    if tag_key.startswith("user:"):
        raise InvalidInputError(f"use the bare tag key {tag_key[5:]!r}, without 'user:' (Cost Explorer groups by it)")
    if "$" in tag_key or len(tag_key) > 128:
        raise InvalidInputError(f"tag key {tag_key!r} must be 1 to 128 characters without '$'")
    return tag_key


def validate_connection_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInputError("a connection name must be 1 to 100 characters")
    return name


def session_name(prefix: str, connection_id: str) -> str:
    """The AssumeRole session name the customer sees in CloudTrail: ``<prefix>-<connectionId>``, ≤ 64 chars."""
    return _SESSION_NAME_BAD.sub("-", f"{prefix}-{connection_id}")[:MAX_SESSION_NAME]


# --- service names ---------------------------------------------------------------------------------------------

# CE's SERVICE dimension values (display names) → AWS service ids (the Price List service codes).
SERVICE_IDS: Mapping[str, str] = {
    "Amazon Bedrock": "AmazonBedrock",
    "Amazon SageMaker": "AmazonSageMaker",
    "Amazon Elastic Compute Cloud - Compute": "AmazonEC2",
    "EC2 - Other": "AmazonEC2",
    "Amazon Elastic Block Store": "AmazonEC2",
    "Amazon Simple Storage Service": "AmazonS3",
    "AWS Lambda": "AWSLambda",
    "Amazon DynamoDB": "AmazonDynamoDB",
    "Amazon Relational Database Service": "AmazonRDS",
    "Amazon Aurora": "AmazonRDS",
    "Amazon ElastiCache": "AmazonElastiCache",
    "Amazon OpenSearch Service": "AmazonES",
    "Amazon Elasticsearch Service": "AmazonES",
    "Amazon Elastic Container Service": "AmazonECS",
    "Amazon Elastic Kubernetes Service": "AmazonEKS",
    "Amazon Elastic Container Service for Kubernetes": "AmazonEKS",
    "Amazon EC2 Container Registry (ECR)": "AmazonECR",
    "Amazon Elastic Container Registry Public": "AmazonECRPublic",
    "Amazon Elastic File System": "AmazonEFS",
    "Elastic Load Balancing": "AWSELB",
    "Amazon Virtual Private Cloud": "AmazonVPC",
    "Amazon CloudFront": "AmazonCloudFront",
    "Amazon Route 53": "AmazonRoute53",
    "AWS Data Transfer": "AWSDataTransfer",
    "Amazon API Gateway": "AmazonApiGateway",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "Amazon CloudWatch": "AmazonCloudWatch",
    "CloudWatch Events": "AWSEvents",
    "Amazon EventBridge": "AWSEvents",
    "AWS Step Functions": "AmazonStates",
    "Amazon Simple Queue Service": "AWSQueueService",
    "Amazon Simple Notification Service": "AmazonSNS",
    "Amazon Simple Email Service": "AmazonSES",
    "Amazon Kinesis": "AmazonKinesis",
    "Amazon Kinesis Firehose": "AmazonKinesisFirehose",
    "AWS Glue": "AWSGlue",
    "Amazon Athena": "AmazonAthena",
    "AWS Key Management Service": "awskms",
    "AWS Secrets Manager": "AWSSecretsManager",
    "AWS Systems Manager": "AWSSystemsManager",
    "AWS CloudTrail": "AWSCloudTrail",
    "AWS Config": "AWSConfig",
    "AWS CloudFormation": "AWSCloudFormation",
    "AWS X-Ray": "AWSXRay",
    "AWS WAF": "awswaf",
    "Amazon Cognito": "AmazonCognito",
    "Amazon Kendra": "AmazonKendra",
    "Amazon Comprehend": "comprehend",
    "Amazon Textract": "AmazonTextract",
    "Amazon Transcribe": "transcribe",
    "Amazon Translate": "translate",
    "Amazon Polly": "AmazonPolly",
    "Amazon Rekognition": "AmazonRekognition",
    "Amazon Q": "AmazonQ",
    "Amazon Elastic MapReduce": "ElasticMapReduce",
    "Amazon Redshift": "AmazonRedshift",
    "AWS Backup": "AWSBackup",
    "Savings Plans for AWS Compute usage": "ComputeSavingsPlans",
    "Tax": "Tax",
}


def service_id(ce_service: str) -> str:
    """The AWS service id of a CE service name; Marketplace Bedrock models count as ``AmazonBedrock``.

    Names not in the table get a deterministic id: their alphanumeric words joined, each capitalised
    (``Amazon Bedrock AgentCore`` → ``AmazonBedrockAgentCore``), so the same name always lands in the same row.
    """
    name = ce_service.strip()
    if name in SERVICE_IDS:
        return SERVICE_IDS[name]
    if _BEDROCK_EDITION.search(name):
        return "AmazonBedrock"
    words = _WORDS.findall(name)
    if not words:
        return "Unknown"
    return "".join(word[:1].upper() + word[1:] for word in words)[:64]


def validate_service_id(value: str) -> str:
    value = value.strip()
    if _SERVICE_ID.match(value):
        return value
    hint = service_id(value)
    raise InvalidInputError(
        f"cloud service {value!r} is not an AWS service id; use e.g. {hint!r} (ids look like AmazonBedrock)"
    )


# --- agent links ---------------------------------------------------------------------------------------------


def tag_value(agent_tag: str | None, tag_key: str | None) -> str | None:
    """An agent's tag value as CE reports it after ``key$``; ``key$value`` and ``value`` are the same tag."""
    if agent_tag is None:
        return None
    agent_tag = agent_tag.strip()
    if tag_key and agent_tag.startswith(f"{tag_key}$"):
        agent_tag = agent_tag[len(tag_key) + 1 :]
    return agent_tag or None


def check_cloud_links(
    agents: Sequence[Agent], connections: Iterable[CloudConnection] | Mapping[str, CloudConnection]
) -> None:
    """Reject agent cloud links that would count a dollar twice or can never match.

    ``agents`` is the whole set as it would be saved; ``connections`` every configured connection.
    Raises ``InvalidInputError`` for a malformed link and ``ConflictError`` when two agents would claim the
    same spend: the same (connection, service) where either has no tag, or the same (connection, service, tag).
    """
    by_id = dict(connections) if isinstance(connections, Mapping) else {c.connection_id: c for c in connections}
    claims: dict[tuple[str, str], list[tuple[str, str | None]]] = defaultdict(list)
    for agent in sorted(agents, key=lambda a: a.agent_id):
        link = _checked_link(agent, by_id)
        if link is not None:
            connection_id, service, tag = link
            claims[(connection_id, service)].append((agent.agent_id, tag))
    for (connection_id, service), claimants in claims.items():
        _check_claims(connection_id, service, claimants)


def _checked_link(agent: Agent, connections: Mapping[str, CloudConnection]) -> tuple[str, str, str | None] | None:
    if agent.cloud_connection_id is None:
        if agent.cloud_service or agent.cloud_tag:
            raise InvalidInputError(f"agent {agent.agent_id!r}: a cloud service or tag needs a cloud connection")
        return None
    if is_unallocated(agent.agent_id):
        raise InvalidInputError(f"agent ids starting with {UNALLOCATED_PREFIX!r} are reserved")
    connection = connections.get(agent.cloud_connection_id)
    if connection is None:
        raise InvalidInputError(
            f"agent {agent.agent_id!r}: unknown cloud connection {agent.cloud_connection_id!r} "
            "(see `muster-costs connections list`)"
        )
    if not agent.cloud_service:
        raise InvalidInputError(
            f"agent {agent.agent_id!r}: a cloud connection needs a cloud service (e.g. AmazonBedrock)"
        )
    service = validate_service_id(agent.cloud_service)
    tag = tag_value(agent.cloud_tag, connection.tag_key)
    if agent.cloud_tag is not None and tag is None:
        raise InvalidInputError(f"agent {agent.agent_id!r}: the cloud tag value is empty")
    if tag is not None and connection.tag_key is None:
        raise InvalidInputError(
            f"agent {agent.agent_id!r}: connection {connection.connection_id!r} has no tag key, "
            "so a tag value can never match; add the connection again with --tag-key"
        )
    return connection.connection_id, service, tag


def _check_claims(connection_id: str, service: str, claimants: list[tuple[str, str | None]]) -> None:
    if len(claimants) < 2:
        return
    untagged = [agent_id for agent_id, tag in claimants if tag is None]
    if untagged:
        others = [agent_id for agent_id, _ in claimants if agent_id != untagged[0]]
        raise ConflictError(
            f"agents {untagged[0]!r} and {others[0]!r} both take {service} spend of connection {connection_id!r}; "
            "when several agents share a service each needs its own cloud tag value"
        )
    owners: dict[str, str] = {}
    for agent_id, tag in claimants:
        assert tag is not None
        if tag in owners:
            raise ConflictError(
                f"agents {owners[tag]!r} and {agent_id!r} both claim tag {tag!r} on {service} "
                f"of connection {connection_id!r}; one dollar would be counted twice"
            )
        owners[tag] = agent_id


# --- the fetch window ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayWindow:
    """UTC days ``start``..``end``, both inclusive (CE's End is ``end_exclusive``)."""

    start: date
    end: date

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def first_of_previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def earliest_day(today: date) -> date:
    """The first day CE still serves at DAILY granularity: the 1st of the month 13 months back."""
    months = today.year * 12 + today.month - 1 - HISTORY_MONTHS
    return date(months // 12, months % 12 + 1, 1)


def default_window(today: date, lookback_days: int, restatement_days: int) -> DayWindow:
    """The trailing ``lookback_days`` up to today, plus the whole previous month in the month's first days."""
    start = today - timedelta(days=max(lookback_days, 1) - 1)
    if today.day <= restatement_days:
        start = min(start, first_of_previous_month(today))
    return DayWindow(start, today)


def requested_window(
    window_from: date | None, window_to: date | None, today: date, lookback_days: int, restatement_days: int
) -> DayWindow:
    """The default window, or a backfill ``from``..``to`` (inclusive) inside CE's 14 months."""
    if window_from is None and window_to is None:
        return default_window(today, lookback_days, restatement_days)
    end = window_to or today
    start = window_from or end - timedelta(days=max(lookback_days, 1) - 1)
    if start > end:
        raise InvalidInputError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    if end > today:
        raise InvalidInputError(f"--to {end.isoformat()} is in the future (today is {today.isoformat()} UTC)")
    oldest = earliest_day(today)
    if start < oldest:
        raise InvalidInputError(
            f"--from {start.isoformat()} is outside Cost Explorer's 14 months of daily history "
            f"(the earliest day is {oldest.isoformat()})"
        )
    return DayWindow(start, end)


def parse_day(value: Any, what: str) -> date | None:
    """A ``YYYY-MM-DD`` day from an event or the CLI; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a YYYY-MM-DD string")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError as exc:
        raise InvalidInputError(f"{what} {value!r} is not a YYYY-MM-DD day") from exc


def parse_window_event(event: Mapping[str, Any] | None) -> tuple[date | None, date | None]:
    """``{"from": DATE, "to": DATE}``, both optional (the scheduled run sends ``{}``)."""
    event = event or {}
    return parse_day(event.get("from"), "from"), parse_day(event.get("to"), "to")


# --- from CE groups to rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostGroup:
    """One CE group: a day's cost of one CE service name and (when grouping by tag) one tag value."""

    day: date
    ce_service: str
    tag_value: str | None  # None: untagged (``key$``) or not grouped by tag
    unblended_cost: Decimal
    net_unblended_cost: Decimal | None
    estimated: bool


@dataclass(frozen=True)
class CloudCostRow:
    """Cloud cost of one agent id, UTC day and AWS service id (the sum of the CE groups that map to it)."""

    agent_id: str
    day: date
    service: str
    connection_id: str
    unblended_cost: Decimal
    net_unblended_cost: Decimal | None
    credits: Decimal  # the negative groups included in unblended_cost (zero or less)
    estimated: bool
    ce_services: tuple[str, ...]  # the CE names summed here, sorted

    @property
    def key(self) -> tuple[str, str]:
        return self.agent_id, date_service(self.day, self.service)

    def same_figures(self, other: CloudCostRow) -> bool:
        """Equal in everything CE says (``fetched_at`` aside): rewriting it would change nothing."""
        return self == other


def date_service(day: date, service: str) -> str:
    return f"{day.isoformat()}#{service}"


@dataclass(frozen=True)
class Attribution:
    rows: tuple[CloudCostRow, ...]
    unlinked_services: tuple[str, ...]  # service ids seen in CE that no agent of the connection links
    outside_window: int  # groups CE returned for days outside the requested window (ignored)


@dataclass
class _Sum:
    unblended: list[Decimal] = field(default_factory=list)
    net: list[Decimal] = field(default_factory=list)
    credits: list[Decimal] = field(default_factory=list)
    net_missing: bool = False
    estimated: bool = False
    ce_services: set[str] = field(default_factory=set)


def attribute_costs(
    connection: CloudConnection, agents: Sequence[Agent], groups: Iterable[CostGroup], window: DayWindow
) -> Attribution:
    """Book each CE group to exactly one agent id (see the module docstring) and sum per (agent, day, service)."""
    untagged_owner: dict[str, str] = {}
    tag_owner: dict[tuple[str, str], str] = {}
    for agent in sorted(agents, key=lambda a: a.agent_id):
        service = (agent.cloud_service or "").strip()
        if agent.cloud_connection_id != connection.connection_id or not service:
            continue
        tag = tag_value(agent.cloud_tag, connection.tag_key) if connection.tag_key else None
        if tag is None:
            untagged_owner.setdefault(service, agent.agent_id)
        else:
            tag_owner.setdefault((service, tag), agent.agent_id)
    linked = set(untagged_owner) | {service for service, _ in tag_owner}
    unallocated = unallocated_agent_id(connection.connection_id)
    sums: dict[tuple[str, date, str], _Sum] = defaultdict(_Sum)
    unlinked: set[str] = set()
    outside = 0
    for group in groups:
        if group.day not in window:
            outside += 1
            continue
        service = service_id(group.ce_service)
        if service not in linked:
            unlinked.add(service)
            continue
        if group.unblended_cost < ZERO:
            owner = unallocated
        else:
            owner = tag_owner.get((service, group.tag_value or ""), untagged_owner.get(service, unallocated))
        _add(sums[(owner, group.day, service)], group)
    rows = tuple(
        _row(agent_id, day, service, connection.connection_id, total)
        for (agent_id, day, service), total in sorted(sums.items())
    )
    return Attribution(rows, tuple(sorted(unlinked)), outside)


def _add(total: _Sum, group: CostGroup) -> None:
    total.unblended.append(group.unblended_cost)
    if group.unblended_cost < ZERO:
        total.credits.append(group.unblended_cost)
    if group.net_unblended_cost is None:
        total.net_missing = True
    else:
        total.net.append(group.net_unblended_cost)
    total.estimated = total.estimated or group.estimated
    total.ce_services.add(group.ce_service)


def _row(agent_id: str, day: date, service: str, connection_id: str, total: _Sum) -> CloudCostRow:
    return CloudCostRow(
        agent_id=agent_id,
        day=day,
        service=service,
        connection_id=connection_id,
        unblended_cost=exact_sum(total.unblended),
        net_unblended_cost=None if total.net_missing else exact_sum(total.net),
        credits=exact_sum(total.credits),
        estimated=total.estimated,
        ce_services=tuple(sorted(total.ce_services)),
    )


@dataclass(frozen=True)
class RowChanges:
    """What replacing the stored rows of some agents and days with CE's answer takes."""

    put: tuple[CloudCostRow, ...]
    delete: tuple[tuple[str, str], ...]  # (agentId, dateService)
    unchanged: int

    @property
    def changed_agent_days(self) -> tuple[tuple[str, date], ...]:
        days = {(row.agent_id, row.day) for row in self.put}
        days |= {(agent_id, date.fromisoformat(sk.split("#", 1)[0])) for agent_id, sk in self.delete}
        return tuple(sorted(days))


def diff_rows(stored: Iterable[CloudCostRow], fresh: Iterable[CloudCostRow]) -> RowChanges:
    """Overwrite what changed, delete what CE no longer reports, leave identical rows alone."""
    old = {row.key: row for row in stored}
    new = {row.key: row for row in fresh}
    put = tuple(row for key, row in sorted(new.items()) if key not in old or not old[key].same_figures(row))
    delete = tuple(sorted(key for key in old if key not in new))
    return RowChanges(put, delete, len(new) - len(put))
