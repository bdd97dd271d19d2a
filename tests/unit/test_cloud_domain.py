"""Pure cloud-cost rules: role ARNs, service ids, agent links, windows, attribution, row diffs, role template."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.domain.agents import Agent
from shared.domain.cloud import (
    CloudConnection,
    CloudCostRow,
    CostGroup,
    DayWindow,
    attribute_costs,
    check_cloud_links,
    default_window,
    diff_rows,
    earliest_day,
    parse_window_event,
    requested_window,
    service_id,
    session_name,
    tag_value,
    unallocated_agent_id,
    validate_role_arn,
    validate_service_id,
    validate_tag_key,
)
from shared.domain.customer_role import WORKER_ROLE_PARAMETER, customer_role_template
from shared.errors import ConflictError, InvalidInputError

PREFIX = "MusterCostReader"
TAGGED = CloudConnection("c1", "prod", f"arn:aws:iam::111122223333:role/{PREFIX}Prod", "ext-1", tag_key="agent_id")
PLAIN = CloudConnection("c2", "lab", f"arn:aws:iam::444455556666:role/{PREFIX}Lab", "ext-2")
DAY = date(2026, 12, 3)
WINDOW = DayWindow(date(2026, 11, 29), date(2026, 12, 3))


def agent(agent_id: str, connection: str | None = None, service: str | None = None, tag: str | None = None) -> Agent:
    return Agent(agent_id, agent_id, (agent_id,), connection, service, tag)


def group(service: str, tag: str | None, amount: str, net: str | None = None, day: date = DAY) -> CostGroup:
    return CostGroup(day, service, tag, Decimal(amount), Decimal(net) if net else None, estimated=True)


# --- validation -----------------------------------------------------------------------------------------------


def test_role_arn_accepts_the_prefixed_role_name() -> None:
    assert validate_role_arn(f" arn:aws:iam::111122223333:role/{PREFIX}-prod ", PREFIX).endswith("-prod")


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("arn:aws:iam::1111:role/MusterCostReader", "12-digit account"),
        ("arn:aws:iam::111122223333:user/MusterCostReader", "12-digit account"),
        ("arn:aws:sts::111122223333:role/MusterCostReader", "12-digit account"),
        ("arn:aws:iam::111122223333:role/OtherRole", "must start with 'MusterCostReader'"),
        ("arn:aws:iam::111122223333:role/team/MusterCostReader", "has a path"),
        ("MusterCostReader", "12-digit account"),
    ],
)
def test_role_arn_rejects_with_a_clear_message(arn: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        validate_role_arn(arn, PREFIX)


def test_tag_key_is_the_bare_key() -> None:
    assert validate_tag_key(" agent_id ") == "agent_id"
    assert validate_tag_key("") is None
    with pytest.raises(InvalidInputError, match="bare tag key"):
        validate_tag_key("user:agent_id")
    with pytest.raises(InvalidInputError, match="without"):
        validate_tag_key("a$b")


def test_session_name_is_identifiable_and_at_most_64_characters() -> None:
    assert session_name("muster-costs", "conn-1a2b") == "muster-costs-conn-1a2b"
    long = session_name("muster-costs", "x" * 80)
    assert len(long) == 64 and long.startswith("muster-costs-x")
    assert session_name("muster-costs", "a b/c") == "muster-costs-a-b-c"
    assert session_name("muster-costs", "café") == "muster-costs-caf-"


# --- service ids ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ce_name", "expected"),
    [
        ("Amazon Bedrock", "AmazonBedrock"),
        ("Amazon SageMaker", "AmazonSageMaker"),
        ("Claude 3.5 Sonnet (Amazon Bedrock Edition)", "AmazonBedrock"),
        ("Claude Sonnet 4 (Amazon Bedrock Edition) ", "AmazonBedrock"),
        ("Llama 3 70B Instruct (amazon bedrock edition)", "AmazonBedrock"),
        ("Amazon Elastic Compute Cloud - Compute", "AmazonEC2"),
        ("EC2 - Other", "AmazonEC2"),
        ("Amazon Simple Storage Service", "AmazonS3"),
        ("AWS Lambda", "AWSLambda"),
        ("AWS Key Management Service", "awskms"),
        ("Amazon Bedrock AgentCore", "AmazonBedrockAgentCore"),
        ("some new-service (preview)", "SomeNewServicePreview"),
        ("", "Unknown"),
    ],
)
def test_ce_service_names_map_to_service_ids(ce_name: str, expected: str) -> None:
    assert service_id(ce_name) == expected


def test_unknown_service_ids_are_deterministic_and_key_safe() -> None:
    first, second = service_id("Amazon Nova Act #2"), service_id("Amazon Nova Act #2")
    assert first == second == "AmazonNovaAct2"
    assert "#" not in first


def test_service_id_validation_suggests_the_id_for_a_display_name() -> None:
    assert validate_service_id("AmazonBedrock") == "AmazonBedrock"
    with pytest.raises(InvalidInputError, match="'AmazonSageMaker'"):
        validate_service_id("Amazon SageMaker")


# --- agent links ----------------------------------------------------------------------------------------------


def test_links_with_distinct_tags_on_one_service_are_accepted() -> None:
    # Given two agents sharing Bedrock in one connection, told apart by tag, and one on SageMaker untagged
    agents = [
        agent("a", "c1", "AmazonBedrock", "a"),
        agent("b", "c1", "AmazonBedrock", "agent_id$b"),
        agent("p", "c1", "AmazonSageMaker"),
        agent("q", "c2", "AmazonBedrock"),
        agent("unlinked"),
    ]
    # When / Then: nothing is raised
    check_cloud_links(agents, [TAGGED, PLAIN])
    check_cloud_links(agents, {"c1": TAGGED, "c2": PLAIN})


@pytest.mark.parametrize(
    ("agents", "error", "message"),
    [
        ([agent("a", "c1", "AmazonBedrock"), agent("b", "c1", "AmazonBedrock", "b")], ConflictError, "own cloud tag"),
        ([agent("a", "c2", "AmazonBedrock"), agent("b", "c2", "AmazonBedrock")], ConflictError, "both take"),
        ([agent("a", "c1", "AmazonBedrock", "x"), agent("b", "c1", "AmazonBedrock", "x")], ConflictError, "tag 'x'"),
        (
            [agent("a", "c1", "AmazonBedrock", "x"), agent("b", "c1", "AmazonBedrock", "agent_id$x")],
            ConflictError,
            "counted twice",
        ),
        ([agent("a", "c2", "AmazonBedrock", "x")], InvalidInputError, "has no tag key"),
        ([agent("a", "nope", "AmazonBedrock")], InvalidInputError, "unknown cloud connection 'nope'"),
        ([agent("a", "c1")], InvalidInputError, "needs a cloud service"),
        ([agent("a", None, "AmazonBedrock")], InvalidInputError, "needs a cloud connection"),
        ([agent("a", "c1", "Amazon Bedrock")], InvalidInputError, "not an AWS service id"),
        ([agent("a", "c1", "AmazonBedrock", " ")], InvalidInputError, "empty"),
        ([agent("unallocated:c1", "c1", "AmazonBedrock")], InvalidInputError, "reserved"),
    ],
)
def test_links_that_would_double_count_or_never_match_are_rejected(
    agents: list[Agent], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_cloud_links(agents, [TAGGED, PLAIN])


def test_same_service_in_two_connections_is_not_a_conflict() -> None:
    check_cloud_links([agent("a", "c1", "AmazonBedrock"), agent("b", "c2", "AmazonBedrock")], [TAGGED, PLAIN])


def test_tag_value_accepts_both_forms() -> None:
    assert tag_value("agent_id$x", "agent_id") == tag_value("x", "agent_id") == "x"
    assert tag_value(None, "agent_id") is None


# --- windows --------------------------------------------------------------------------------------------------


def test_default_window_is_the_trailing_days_up_to_today() -> None:
    assert default_window(date(2026, 12, 20), 5, 5) == DayWindow(date(2026, 12, 16), date(2026, 12, 20))


def test_default_window_rereads_the_previous_month_in_the_first_days() -> None:
    # Given the 1st of a month (the classic Start == End trap)
    window = default_window(date(2026, 12, 1), 5, 5)
    # Then the whole previous month is re-read and End (exclusive) is after Start
    assert window == DayWindow(date(2026, 11, 1), date(2026, 12, 1))
    assert window.end_exclusive == date(2026, 12, 2)
    assert default_window(date(2026, 12, 6), 5, 5).start == date(2026, 12, 2)
    assert default_window(date(2027, 1, 3), 1, 5).start == date(2026, 12, 1)
    assert default_window(date(2026, 12, 1), 1, 0) == DayWindow(date(2026, 12, 1), date(2026, 12, 1))


def test_backfill_window_inside_fourteen_months() -> None:
    today = date(2026, 12, 4)
    assert earliest_day(today) == date(2025, 11, 1)
    assert earliest_day(date(2026, 1, 31)) == date(2024, 12, 1)
    assert requested_window(date(2025, 11, 1), date(2025, 11, 30), today, 5, 5) == DayWindow(
        date(2025, 11, 1), date(2025, 11, 30)
    )
    assert requested_window(date(2026, 12, 1), None, today, 5, 5) == DayWindow(date(2026, 12, 1), today)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2025, 10, 31), date(2025, 11, 2), "14 months"),
        (date(2026, 12, 3), date(2026, 12, 2), "after"),
        (date(2026, 12, 3), date(2026, 12, 5), "future"),
    ],
)
def test_backfill_window_outside_is_a_clear_error(start: date, end: date, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        requested_window(start, end, date(2026, 12, 4), 5, 5)


def test_window_event_parsing() -> None:
    assert parse_window_event({}) == (None, None)
    assert parse_window_event(None) == (None, None)
    assert parse_window_event({"from": "2026-11-01", "to": "2026-11-30T00:00:00Z"}) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    with pytest.raises(InvalidInputError, match="not a YYYY-MM-DD"):
        parse_window_event({"from": "yesterday"})
    with pytest.raises(InvalidInputError, match="string"):
        parse_window_event({"to": 20261130})


# --- attribution ----------------------------------------------------------------------------------------------

BEDROCK_PAIR = [
    agent("support", "c1", "AmazonBedrock", "support"),
    agent("research", "c1", "AmazonBedrock", "agent_id$research"),
    agent("planner", "c1", "AmazonSageMaker"),
    agent("elsewhere", "c2", "AmazonBedrock"),
]


def rows_by_key(rows: tuple[CloudCostRow, ...]) -> dict[tuple[str, str], CloudCostRow]:
    return {(row.agent_id, row.service): row for row in rows}


def test_groups_book_to_tagged_agents_and_sum_marketplace_names() -> None:
    # Given Bedrock and a Marketplace Claude model tagged for one agent
    groups = [
        group("Amazon Bedrock", "support", "1.0000000001", "0.9"),
        group("Claude 3.5 Sonnet (Amazon Bedrock Edition)", "support", "2.5", "2.4"),
        group("Amazon Bedrock", "research", "0.5", "0.5"),
        group("Amazon SageMaker", "whatever", "4", "4"),
        group("Amazon SageMaker", None, "1", "1"),
    ]
    # When
    result = attribute_costs(TAGGED, BEDROCK_PAIR, groups, WINDOW)
    # Then Claude sums into the agent's Bedrock row, and the untagged-link agent takes all its service's spend
    rows = rows_by_key(result.rows)
    support = rows[("support", "AmazonBedrock")]
    assert support.unblended_cost == Decimal("3.5000000001")
    assert support.net_unblended_cost == Decimal("3.3")
    assert support.ce_services == ("Amazon Bedrock", "Claude 3.5 Sonnet (Amazon Bedrock Edition)")
    assert support.estimated is True and support.credits == 0
    assert rows[("research", "AmazonBedrock")].unblended_cost == Decimal("0.5")
    assert rows[("planner", "AmazonSageMaker")].unblended_cost == Decimal("5")
    assert ("elsewhere", "AmazonBedrock") not in rows


def test_unclaimed_spend_of_a_linked_service_is_unallocated_and_unlinked_services_are_not_stored() -> None:
    # Given untagged Bedrock, Bedrock of an unknown tag, and S3 nobody links
    groups = [
        group("Amazon Bedrock", None, "0.75"),
        group("Amazon Bedrock", "someone-else", "0.25"),
        group("Amazon Simple Storage Service", None, "9"),
    ]
    # When
    result = attribute_costs(TAGGED, BEDROCK_PAIR, groups, WINDOW)
    # Then
    assert [(r.agent_id, r.service, r.unblended_cost) for r in result.rows] == [
        (unallocated_agent_id("c1"), "AmazonBedrock", Decimal("1.00"))
    ]
    assert result.unlinked_services == ("AmazonS3",)


def test_credits_and_refunds_go_to_unallocated_never_to_an_agent() -> None:
    # Given a negative (credit) group tagged for an agent and an untagged one
    groups = [
        group("Amazon Bedrock", "support", "2"),
        group("Amazon Bedrock", "support", "-0.0000000289"),
        group("Claude 3.5 Sonnet (Amazon Bedrock Edition)", None, "-5"),
        group("Amazon Bedrock", None, "1"),
    ]
    # When
    rows = rows_by_key(attribute_costs(TAGGED, BEDROCK_PAIR, groups, WINDOW).rows)
    # Then the agent keeps its gross usage, the connection's unallocated row carries the credits
    assert rows[("support", "AmazonBedrock")].unblended_cost == Decimal("2")
    unallocated = rows[(unallocated_agent_id("c1"), "AmazonBedrock")]
    assert unallocated.unblended_cost == Decimal("-4.0000000289")
    assert unallocated.credits == Decimal("-5.0000000289")
    # And the connection's total still equals Cost Explorer's
    assert sum(r.unblended_cost for r in rows.values()) == sum(g.unblended_cost for g in groups)


def test_connection_without_tag_key_books_the_service_to_its_one_agent() -> None:
    groups = [group("Amazon Bedrock", None, "3"), group("Amazon SageMaker", None, "2")]
    result = attribute_costs(PLAIN, BEDROCK_PAIR, groups, WINDOW)
    assert [(r.agent_id, r.service) for r in result.rows] == [("elsewhere", "AmazonBedrock")]
    assert result.unlinked_services == ("AmazonSageMaker",)


def test_days_outside_the_window_are_ignored_and_missing_net_stays_unknown() -> None:
    groups = [group("Amazon Bedrock", "support", "1", day=date(2026, 11, 1)), group("Amazon Bedrock", "support", "1")]
    result = attribute_costs(TAGGED, BEDROCK_PAIR, groups, WINDOW)
    assert result.outside_window == 1
    assert [r.net_unblended_cost for r in result.rows] == [None]


# --- replacing rows -------------------------------------------------------------------------------------------


def row(agent_id: str, day: date, service: str, amount: str) -> CloudCostRow:
    return CloudCostRow(agent_id, day, service, "c1", Decimal(amount), Decimal(amount), Decimal(0), False, ("x",))


def test_diff_overwrites_changed_deletes_vanished_and_skips_identical() -> None:
    # Given stored rows and CE's fresh answer
    stored = [
        row("a", DAY, "AmazonBedrock", "1.50"),
        row("a", DAY, "AmazonSageMaker", "2"),
        row("b", DAY, "AmazonBedrock", "3"),
    ]
    fresh = [row("a", DAY, "AmazonBedrock", "1.5"), row("b", DAY, "AmazonBedrock", "3.1"), row("c", DAY, "X", "1")]
    # When
    changes = diff_rows(stored, fresh)
    # Then
    assert [(r.agent_id, r.service) for r in changes.put] == [("b", "AmazonBedrock"), ("c", "X")]
    assert changes.delete == (("a", "2026-12-03#AmazonSageMaker"),)
    assert changes.unchanged == 1
    assert changes.changed_agent_days == (("a", DAY), ("b", DAY), ("c", DAY))
    assert diff_rows(fresh, fresh).put == ()


# --- the customer role template ---------------------------------------------------------------------------------


def test_role_template_trusts_only_the_worker_role_under_the_external_id() -> None:
    # Given a known worker role
    template = customer_role_template(TAGGED, "arn:aws:iam::999988887777:role/muster-worker")
    # Then the role has the connection's name, one trust statement with the external id, and one action
    role = template["Resources"]["MusterCostReaderRole"]["Properties"]
    assert role["RoleName"] == f"{PREFIX}Prod"
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::999988887777:role/muster-worker"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-1"}}
    assert trust["Action"] == "sts:AssumeRole"
    (policy,) = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": ["ce:GetCostAndUsage"], "Resource": "*"}
    ]
    assert "Parameters" not in template


def test_role_template_asks_for_the_worker_role_when_unknown() -> None:
    template = customer_role_template(PLAIN, None)
    assert WORKER_ROLE_PARAMETER in template["Parameters"]
    trust = template["Resources"]["MusterCostReaderRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"AWS": {"Ref": WORKER_ROLE_PARAMETER}}
