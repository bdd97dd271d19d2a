"""Cost Explorer through a customer's role: AssumeRole with the connection's external id, then GetCostAndUsage.

One request stream per connection: DAILY over the whole window, grouped by SERVICE (and the connection's
tag key), ``UnblendedCost`` and ``NetUnblendedCost`` in the same call, ``NextPageToken`` followed by hand
(boto3 has no paginator for it). Requests are built in one fixed key order: moto keys its canned answers by
the raw request body. Errors leave as ``CloudSourceError`` subclasses, classified by error code only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from shared.config import CloudConfig, Settings
from shared.domain.cloud import CloudConnection, CostGroup, DayWindow, session_name
from shared.domain.money import to_decimal
from shared.errors import SourceError
from shared.sources.aws import aws_client

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_sts import STSClient

CE_REGION = "us-east-1"  # CE has one endpoint per partition; sign for us-east-1 whatever the deployment region
METRICS = ("UnblendedCost", "NetUnblendedCost")
MAIN_METRIC = "UnblendedCost"
CURRENCY = "USD"

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidClientTokenId", "ExpiredToken"}
)
THROTTLING_CODES = frozenset(
    {"LimitExceededException", "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)
UNAVAILABLE_CODES = frozenset(
    {
        "DataUnavailableException",
        "BillExpirationException",
        "BillingViewHealthStatusException",
        "RegionDisabledException",
    }
)


class CloudSourceError(SourceError):
    """A connection could not be read. ``reason`` is a stable word for status and metrics; ``code`` AWS's."""

    reason = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class CloudAccessDeniedError(CloudSourceError):
    """The role is missing, does not trust Muster, the external id differs, or CE is not enabled or allowed."""

    reason = "access_denied"


class CloudThrottledError(CloudSourceError):
    """Still throttled after botocore's adaptive retries."""

    reason = "throttled"


class CloudUnavailableError(CloudSourceError):
    """CE has no data to give (not ready, bill expired) or the endpoint could not be reached."""

    reason = "unavailable"


class CloudResponseError(CloudSourceError):
    """CE answered something this client cannot read (shape, amount, currency)."""

    reason = "invalid_response"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def __repr__(self) -> str:  # never print secrets
        return f"Credentials(access_key_id={self.access_key_id[:4]}…)"


StsClientFactory = Callable[[], "STSClient"]
CeClientFactory = Callable[[Credentials], "CostExplorerClient"]


def retry_settings(cloud: CloudConfig) -> dict[str, Any]:
    """Adaptive retries (client-side rate limiting for throttled Cost Explorer calls), bounded attempts."""
    return {"mode": "adaptive", "total_max_attempts": cloud.max_attempts}


def default_sts_client_factory(settings: Settings) -> StsClientFactory:
    """Regional STS in the deployment's region (and the endpoint override in local mode)."""

    def build() -> STSClient:
        client: STSClient = aws_client("sts", settings, retries=retry_settings(settings.cloud))
        return client

    return build


def default_ce_client_factory(settings: Settings) -> CeClientFactory:
    """A CE client on assumed-role credentials, adaptive retries, ``max_attempts`` from the cloud config."""

    def build(credentials: Credentials) -> CostExplorerClient:
        assumed = boto3.Session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )
        client: CostExplorerClient = aws_client(
            "ce", settings, session=assumed, region=CE_REGION, retries=retry_settings(settings.cloud)
        )
        return client

    return build


def _translate(exc: ClientError | BotoCoreError, what: str) -> CloudSourceError:
    if isinstance(exc, BotoCoreError):
        return CloudUnavailableError(f"{what}: {exc}", code=type(exc).__name__)
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    message = f"{what}: {code}: {error.get('Message') or ''}".rstrip(": ")
    if code in ACCESS_DENIED_CODES:
        return CloudAccessDeniedError(message, code)
    if code in THROTTLING_CODES:
        return CloudThrottledError(message, code)
    if code in UNAVAILABLE_CODES:
        return CloudUnavailableError(message, code)
    return CloudSourceError(message, code)


def assume_role(sts: STSClient, connection: CloudConnection, cloud: CloudConfig) -> Credentials:
    """Assume the connection's role with its external id and an identifiable session name."""
    try:
        answer = sts.assume_role(
            RoleArn=connection.role_arn,
            RoleSessionName=session_name(cloud.session_name_prefix, connection.connection_id),
            ExternalId=connection.external_id,
            DurationSeconds=cloud.assume_role_seconds,
        )
    except (ClientError, BotoCoreError) as exc:
        raise _translate(exc, f"could not assume {connection.role_arn}") from exc
    creds = answer["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def cost_request(window: DayWindow, tag_key: str | None, next_page_token: str | None = None) -> dict[str, Any]:
    """The GetCostAndUsage parameters, always in this key order (End is exclusive)."""
    group_by: list[dict[str, str]] = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    if tag_key:
        group_by.append({"Type": "TAG", "Key": tag_key})
    request: dict[str, Any] = {
        "TimePeriod": {"Start": window.start.isoformat(), "End": window.end_exclusive.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
        "GroupBy": group_by,
    }
    if next_page_token:
        request["NextPageToken"] = next_page_token
    return request


@dataclass
class CostStream:
    """The groups of one connection's request stream, and how many (billed) requests it took."""

    groups: list[CostGroup] = field(default_factory=list)
    requests: int = 0


def fetch_cost_groups(
    ce: CostExplorerClient, window: DayWindow, tag_key: str | None, on_request: Callable[[], None] | None = None
) -> CostStream:
    """Every page of the window; ``on_request`` is called after each answered (billed) request."""
    stream = CostStream()
    token: str | None = None
    while True:
        try:
            page: Mapping[str, Any] = ce.get_cost_and_usage(**cost_request(window, tag_key, token))
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, "GetCostAndUsage failed") from exc
        stream.requests += 1
        if on_request is not None:
            on_request()
        stream.groups.extend(parse_page(page, tag_key))
        token = page.get("NextPageToken") or None
        if token is None:
            return stream


def parse_page(page: Mapping[str, Any], tag_key: str | None) -> Iterator[CostGroup]:
    """The groups of one GetCostAndUsage page (``Total`` is empty when grouping; groups are the figures)."""
    try:
        for result in page.get("ResultsByTime") or []:
            day = date.fromisoformat(result["TimePeriod"]["Start"][:10])
            estimated = bool(result.get("Estimated", False))
            for group in result.get("Groups") or []:
                yield _group(day, estimated, group, tag_key)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CloudResponseError(f"unreadable GetCostAndUsage page: {exc!r}") from exc


def _group(day: date, estimated: bool, group: Mapping[str, Any], tag_key: str | None) -> CostGroup:
    keys = list(group["Keys"])
    if len(keys) != (2 if tag_key else 1):
        raise CloudResponseError(f"expected {2 if tag_key else 1} group keys, got {keys!r}")
    tag: str | None = None
    if tag_key:
        _, _, value = str(keys[1]).partition("$")  # "key$value"; untagged spend is "key$"
        tag = value or None
    metrics = group["Metrics"]
    net = metrics.get("NetUnblendedCost")
    return CostGroup(
        day=day,
        ce_service=str(keys[0]),
        tag_value=tag,
        unblended_cost=_amount(metrics[MAIN_METRIC]),
        net_unblended_cost=None if net is None else _amount(net),
        estimated=estimated,
    )


def _amount(metric: Mapping[str, Any]) -> Decimal:
    unit = metric.get("Unit", CURRENCY)
    if unit != CURRENCY:
        raise CloudResponseError(f"Cost Explorer answered in {unit!r}; Muster stores {CURRENCY}")
    try:
        return to_decimal(metric["Amount"], "Cost Explorer amount")
    except ValueError as exc:
        raise CloudResponseError(str(exc)) from exc
