"""Cost Explorer and STS requests, checked against the real service models with botocore's Stubber."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shared.config import CloudConfig, Settings
from shared.domain.cloud import CloudConnection, DayWindow, default_window
from shared.sources.cost_explorer import (
    CloudAccessDeniedError,
    CloudResponseError,
    CloudSourceError,
    CloudThrottledError,
    CloudUnavailableError,
    Credentials,
    assume_role,
    cost_request,
    default_ce_client_factory,
    fetch_cost_groups,
    parse_page,
)

CONNECTION = CloudConnection(
    "conn-0123456789ab", "prod", "arn:aws:iam::111122223333:role/MusterCostReaderProd", "ext-0123", "agent_id"
)


def ce_client() -> Any:
    return boto3.client("ce", region_name="us-east-1")


def page(day: str, groups: list[dict[str, Any]], token: str | None = None, estimated: bool = True) -> dict[str, Any]:
    end = date.fromordinal(date.fromisoformat(day).toordinal() + 1).isoformat()
    answer: dict[str, Any] = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": "agent_id"}],
        "ResultsByTime": [
            {"TimePeriod": {"Start": day, "End": end}, "Total": {}, "Groups": groups, "Estimated": estimated}
        ],
        "DimensionValueAttributes": [],
    }
    if token:
        answer["NextPageToken"] = token
    return answer


def group(service: str, tag: str, amount: str) -> dict[str, Any]:
    metric = {"Amount": amount, "Unit": "USD"}
    return {"Keys": [service, f"agent_id${tag}"], "Metrics": {"UnblendedCost": metric, "NetUnblendedCost": metric}}


def test_request_is_daily_grouped_by_service_and_tag_with_end_exclusive() -> None:
    # Given a five-day window and a connection with a tag key
    window = DayWindow(date(2026, 12, 16), date(2026, 12, 20))
    ce = ce_client()
    expected = {
        "TimePeriod": {"Start": "2026-12-16", "End": "2026-12-21"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost", "NetUnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "TAG", "Key": "agent_id"}],
    }
    # When the stream runs against a stub that validates the request with the real CE model
    with Stubber(ce) as stub:
        stub.add_response("get_cost_and_usage", page("2026-12-16", [group("Amazon Bedrock", "a", "1.25")]), expected)
        stream = fetch_cost_groups(ce, window, "agent_id")
        stub.assert_no_pending_responses()
    # Then one request was made and the amount is an exact Decimal
    assert stream.requests == 1
    assert [(g.ce_service, g.tag_value, g.unblended_cost) for g in stream.groups] == [
        ("Amazon Bedrock", "a", Decimal("1.25"))
    ]


def test_request_keys_have_one_fixed_order() -> None:
    # moto memoises answers by the raw request body, so the body must never change shape
    window = DayWindow(date(2026, 12, 1), date(2026, 12, 1))
    first = cost_request(window, "agent_id", "tok")
    assert list(first) == ["TimePeriod", "Granularity", "Metrics", "GroupBy", "NextPageToken"]
    assert list(first["TimePeriod"]) == ["Start", "End"]
    assert json.dumps(first) == json.dumps(cost_request(window, "agent_id", "tok"))


def test_first_of_month_request_rereads_the_previous_month_and_never_has_start_equal_end() -> None:
    # Given the default window computed on the 1st of a month
    window = default_window(date(2027, 1, 1), 5, 5)
    ce = ce_client()
    expected = cost_request(window, None)
    assert expected["TimePeriod"] == {"Start": "2026-12-01", "End": "2027-01-02"}
    # Then without a tag key only SERVICE is grouped, and the stub accepts it
    assert expected["GroupBy"] == [{"Type": "DIMENSION", "Key": "SERVICE"}]
    with Stubber(ce) as stub:
        stub.add_response("get_cost_and_usage", {"ResultsByTime": []}, expected)
        assert fetch_cost_groups(ce, window, None).requests == 1


def test_next_page_token_is_followed_by_hand_and_every_page_counts() -> None:
    # Given three pages
    window = DayWindow(date(2026, 12, 1), date(2026, 12, 2))
    ce = ce_client()
    base = cost_request(window, "agent_id")
    counted: list[int] = []
    with Stubber(ce) as stub:
        stub.add_response("get_cost_and_usage", page("2026-12-01", [group("Amazon Bedrock", "a", "1")], "p2"), base)
        stub.add_response(
            "get_cost_and_usage",
            page("2026-12-01", [group("Amazon SageMaker", "a", "2")], "p3"),
            {**base, "NextPageToken": "p2"},
        )
        stub.add_response(
            "get_cost_and_usage",
            page("2026-12-02", [group("Amazon Bedrock", "", "3")]),
            {**base, "NextPageToken": "p3"},
        )
        # When
        stream = fetch_cost_groups(ce, window, "agent_id", on_request=lambda: counted.append(1))
        stub.assert_no_pending_responses()
    # Then all groups are read, untagged spend has no tag value, and three billed requests were counted
    assert stream.requests == 3 == len(counted)
    assert [(g.day, g.ce_service, g.tag_value) for g in stream.groups] == [
        (date(2026, 12, 1), "Amazon Bedrock", "a"),
        (date(2026, 12, 1), "Amazon SageMaker", "a"),
        (date(2026, 12, 2), "Amazon Bedrock", None),
    ]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("AccessDeniedException", CloudAccessDeniedError),
        ("LimitExceededException", CloudThrottledError),
        ("DataUnavailableException", CloudUnavailableError),
        ("ValidationException", CloudSourceError),
    ],
)
def test_errors_are_classified_by_code(code: str, error: type[CloudSourceError]) -> None:
    ce = ce_client()
    window = DayWindow(date(2026, 12, 1), date(2026, 12, 1))
    with Stubber(ce) as stub:
        stub.add_client_error("get_cost_and_usage", service_error_code=code, service_message="no", http_status_code=400)
        with pytest.raises(error) as caught:
            fetch_cost_groups(ce, window, "agent_id")
    assert caught.value.code == code
    assert type(caught.value) is error


def test_assume_role_sends_the_external_id_and_an_identifiable_session() -> None:
    # Given
    sts = boto3.client("sts", region_name="us-east-1")
    expected = {
        "RoleArn": CONNECTION.role_arn,
        "RoleSessionName": "muster-costs-conn-0123456789ab",
        "ExternalId": "ext-0123",
        "DurationSeconds": 900,
    }
    answer = {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLEEXAMPLE",
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": "2026-12-04T00:15:00Z",
        }
    }
    # When / Then
    with Stubber(sts) as stub:
        stub.add_response("assume_role", answer, expected)
        credentials = assume_role(sts, CONNECTION, CloudConfig())
    assert credentials.session_token == "token"
    assert "secret" not in repr(credentials)


def test_assume_role_denied_is_an_access_error() -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    with Stubber(sts) as stub:
        stub.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(CloudAccessDeniedError, match="could not assume"):
            assume_role(sts, CONNECTION, CloudConfig())


def test_default_ce_client_uses_adaptive_retries_and_the_ce_region() -> None:
    settings = Settings(region="eu-west-1", cloud=CloudConfig(max_attempts=6))
    client = default_ce_client_factory(settings)(Credentials("ASIAEXAMPLE", "s", "t"))
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 6}
    assert client.meta.endpoint_url == "https://ce.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    "answer",
    [
        {"ResultsByTime": [{"TimePeriod": {"Start": "2026-12-01"}, "Groups": [{"Keys": ["Amazon Bedrock"]}]}]},
        page("2026-12-01", [{"Keys": ["Amazon Bedrock", "agent_id$"], "Metrics": {}}]),
        page("2026-12-01", [{"Keys": ["A", "agent_id$"], "Metrics": {"UnblendedCost": {"Amount": "x"}}}]),
        page("2026-12-01", [{"Keys": ["A", "agent_id$"], "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "EU"}}}]),
        {"ResultsByTime": [{"TimePeriod": {"Start": "soon"}, "Groups": []}]},
    ],
)
def test_unreadable_answers_are_response_errors(answer: dict[str, Any]) -> None:
    with pytest.raises(CloudResponseError):
        list(parse_page(answer, "agent_id"))


def test_empty_days_and_the_estimated_flag() -> None:
    answer = page("2026-12-01", [], estimated=False)
    assert list(parse_page(answer, "agent_id")) == []
    (parsed,) = parse_page(page("2026-12-01", [group("Amazon Bedrock", "a$b", "-0.0000000289")]), "agent_id")
    assert parsed.tag_value == "a$b"  # split on the first '$' only
    assert parsed.unblended_cost == Decimal("-0.0000000289")
    assert parsed.estimated is True
