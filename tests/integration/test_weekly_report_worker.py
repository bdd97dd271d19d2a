"""The weekly report worker through its Lambda handler, against moto (DynamoDB tables and SES)."""

from __future__ import annotations

import email
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from functions.send_weekly_report.handler import handler
from shared.cli.main import main
from shared.config import Settings, reset_settings
from shared.dal.agents import agent_repository
from shared.dal.cloud import cloud_connection_repository
from shared.dal.exchange_rates import exchange_rate_repository
from shared.dal.report_log import report_log_repository
from shared.dal.rollup import AgentCloudDay, RollupRepository, rollup_repository
from shared.domain.agents import Agent
from shared.domain.cloud import CloudConnection
from shared.domain.fx import ExchangeRate
from shared.domain.llm import DailyLlmCost, ModelUsage
from shared.domain.usage import TokenCounts
from shared.domain.weekly_report import DeliveryPolicy, DeliveryStatus
from shared.errors import ConfigurationError, InvalidInputError
from shared.local.lambda_context import LocalLambdaContext
from shared.services import reports
from shared.services.reports import ReportAudience, build_report, write_demo_report
from shared.sources.email import EmailSendError, OutgoingEmail, SesMailer

NOW = datetime(2026, 12, 7, 7, 0, 12, tzinfo=UTC)  # Monday 07:00 UTC: the schedule's moment
W49 = date(2026, 11, 30)  # the last full week on NOW
W48 = W49 - timedelta(days=7)
SENDER = "Muster Costs <reports@muster.example>"
RECIPIENTS = ("ann@example.com", "Bob@Example.com", "cho@example.org")
EUR_RATE = Decimal("0.8695652")
EVIL = "<script>alert(1)</script>"


# --- fixtures and seeding -------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def report_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the tables the report reads and writes (smaller and faster in moto); by table, so the settings
    table is included once its model exists."""
    from shared.dal import registry
    from shared.dal.tables import AGENTS, CLOUD_CONNECTIONS, COST_ROLLUP, EXCHANGE_RATES, REPORT_LOG, SETTINGS

    wanted = {AGENTS, CLOUD_CONNECTIONS, COST_ROLLUP, EXCHANGE_RATES, REPORT_LOG, SETTINGS}
    models = tuple(model for model in registry.all_models() if model.SPEC in wanted)
    monkeypatch.setattr(registry, "all_models", lambda: models)


@pytest.fixture
def ses(aws: Settings) -> Any:
    client = boto3.client("ses", region_name=aws.region)
    client.verify_email_identity(EmailAddress="reports@muster.example")
    return client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The service's clock, fixed at NOW (a list so a test can move it)."""
    now = [NOW]
    monkeypatch.setattr(reports, "utc_now", lambda: now[0])
    yield now


def set_audience(
    monkeypatch: pytest.MonkeyPatch,
    recipients: Sequence[str] = RECIPIENTS,
    sender: str | None = SENDER,
    currency: str = "EUR",
) -> None:
    monkeypatch.setattr(reports, "configured_audience", lambda: ReportAudience(tuple(recipients), sender, currency))


@pytest.fixture
def audience(monkeypatch: pytest.MonkeyPatch, ses: Any, clock: list[datetime]) -> None:
    set_audience(monkeypatch)


def llm_day(agent_id: str, day: date, cost: str, inp: int, out: int, calls: int, unpriced: Sequence[Any] = ()) -> Any:
    return DailyLlmCost(
        agent_id=agent_id,
        date=day.isoformat(),
        cost=Decimal(cost),
        tokens=TokenCounts(input=inp, cached_read=0, cache_write=0, output=out, reasoning=0),
        observations=calls,
        by_model=(),
        unpriced=tuple(
            ModelUsage(model, False, Decimal(0), TokenCounts(input=i, output=o), n, 0, 0) for model, n, i, o in unpriced
        ),
        fallback_tokens=0,
        unknown_tokens=0,
        double_count_observations=0,
    )


def seed_day(day: date, llm: Sequence[Any] = (), cloud: Mapping[str, str] | None = None) -> None:
    rollups = rollup_repository()
    rollups.set_llm_day(day.isoformat(), llm)
    rollups.set_cloud_day(
        day.isoformat(),
        {agent: AgentCloudDay(Decimal(usd), {"AmazonBedrock": Decimal(usd)}) for agent, usd in (cloud or {}).items()},
    )


def seed_rates() -> None:
    exchange_rate_repository().save_rates(
        [
            ExchangeRate("EUR", date(2026, 12, 4), EUR_RATE, "ECB", datetime(2026, 12, 4, 16, tzinfo=UTC)),
            ExchangeRate("EUR", date(2026, 12, 3), Decimal("0.86"), "ECB", datetime(2026, 12, 3, 16, tzinfo=UTC)),
        ]
    )


def seed_two_weeks() -> None:
    """support: LLM and cloud every day of both weeks; research: W49 Wednesday and W48 Tuesday; a hostile name
    with unpriced usage on W49 Friday; costs in W47 and W50 that no report of W49 may count."""
    for i in range(7):
        w49, w48 = W49 + timedelta(days=i), W48 + timedelta(days=i)
        seed_day(w49, [llm_day("support", w49, f"1.{i}5", 1000 + i, 100, 10)], {"support": "0.40"})
        seed_day(w48, [llm_day("support", w48, "1.00", 900, 90, 9)], {"support": "0.40"})
    seed_day(
        W49 + timedelta(days=2),
        [
            llm_day("support", W49 + timedelta(days=2), "1.25", 1002, 100, 10),
            llm_day("research", W49 + timedelta(days=2), "7.125", 50_000, 4_000, 20),
        ],
        {"support": "0.40"},
    )
    seed_day(
        W48 + timedelta(days=1),
        [
            llm_day("support", W48 + timedelta(days=1), "1.00", 900, 90, 9),
            llm_day("research", W48 + timedelta(days=1), "2.50", 10_000, 1_000, 5),
        ],
        {"support": "0.40"},
    )
    seed_day(
        W49 + timedelta(days=4),
        [
            llm_day("support", W49 + timedelta(days=4), "1.45", 1004, 100, 10),
            llm_day(EVIL, W49 + timedelta(days=4), "0.00", 0, 0, 3, [("my-finetune", 3, 600, 90)]),
        ],
        {"support": "0.40"},
    )
    seed_day(W48 - timedelta(days=1), [llm_day("support", W48 - timedelta(days=1), "500", 1, 1, 1)])  # W47
    seed_day(W49 + timedelta(days=7), [llm_day("support", W49 + timedelta(days=7), "500", 1, 1, 1)])  # W50
    agent_repository().save_agents([Agent("support", "Support & Sales bot", ("support",))])
    seed_rates()


def sent_messages() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def parse(raw: Any) -> EmailMessage:
    message = email.message_from_string(raw.raw_data, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = list(message.iter_parts())
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    return text.get_content().replace("\r\n", "\n"), html.get_content()


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = handler(event or {}, LocalLambdaContext(function_name="muster-costs-weekly-report"))
    return result


# --- figures --------------------------------------------------------------------------------------------------------


def test_figures_equal_independent_sums(aws: Settings, clock: list[datetime]) -> None:
    # Given two weeks of rollups (and days outside them)
    seed_two_weeks()
    # When the report of 2026-W49 is built in EUR
    report = build_report("2026-W49", "EUR", now=NOW)
    # Then every figure is the week's stored USD sum times the latest EUR rate, computed here by hand
    llm_w49 = sum(Decimal(f"1.{i}5") for i in range(7)) + Decimal("7.125")  # 9.45 + 7.125
    cloud_w49 = 7 * Decimal("0.40")
    llm_w48 = 7 * Decimal("1.00") + Decimal("2.50")
    cloud_w48 = 7 * Decimal("0.40")
    assert report.fx.rate == EUR_RATE and report.fx.rate_date == date(2026, 12, 4) and report.fx.source == "ECB"
    assert report.llm.current == llm_w49 * EUR_RATE
    assert report.cloud.current == cloud_w49 * EUR_RATE
    assert report.total.current == (Decimal("16.575") + Decimal("2.80")) * EUR_RATE
    assert report.total.previous == (llm_w48 + cloud_w48) * EUR_RATE
    assert report.total.absolute == (Decimal("19.375") - Decimal("12.3")) * EUR_RATE
    assert round(report.total.percent or 0, 4) == Decimal("57.5203")  # 7.075 / 12.3
    assert report.observations == 7 * 10 + 20 + 3
    assert report.input_tokens == sum(1000 + i for i in range(7)) + 50_000
    # Per agent, with names, and the change against the week before
    by_id = {line.agent_id: line for line in report.top_agents}
    assert [line.agent_id for line in report.top_agents] == ["support", "research", EVIL]
    assert by_id["support"].name == "Support & Sales bot"
    assert by_id["support"].total == (Decimal("9.45") + Decimal("2.80")) * EUR_RATE
    assert by_id["support"].previous_total == Decimal("9.80") * EUR_RATE
    assert by_id["research"].change.absolute == (Decimal("7.125") - Decimal("2.50")) * EUR_RATE
    assert [line.agent_id for line in report.risers] == ["research", "support"]
    assert [(u.model, u.observations, u.input_tokens, u.output_tokens) for u in report.unpriced] == [
        ("my-finetune", 3, 600, 90)
    ]


def test_both_weeks_come_from_one_rollup_query(aws: Settings, clock: list[datetime], monkeypatch: Any) -> None:
    seed_two_weeks()
    calls: list[tuple[str, str]] = []
    original = RollupRepository.days

    def counting(self: RollupRepository, first: str, last: str) -> Any:
        calls.append((first, last))
        return original(self, first, last)

    monkeypatch.setattr(RollupRepository, "days", counting)
    build_report("2026-W49", "EUR", now=NOW)
    assert calls == [("2026-11-23", "2026-12-06")]


# --- sending --------------------------------------------------------------------------------------------------------


def test_the_monday_run_mails_last_weeks_report_to_each_recipient(aws: Settings, audience: None) -> None:
    # Given two weeks of costs, a verified sender and three recipients
    seed_two_weeks()
    # When the scheduled run fires (no week in the event)
    summary = run({"version": "0", "detail-type": "Scheduled Event"})
    # Then 2026-W49 went to each recipient once, from the sender, with both parts
    assert summary["week"] == "2026-W49"
    assert (summary["sent"], summary["failed"], summary["skipped"], summary["status"]) == (3, 0, 0, "ok")
    messages = sent_messages()
    assert all(len(set(m.destinations)) == 1 for m in messages)  # one recipient per message (moto adds To)
    assert sorted(m.destinations[0] for m in messages) == ["Bob@Example.com", "ann@example.com", "cho@example.org"]
    for raw in messages:
        assert raw.source == SENDER
        message = parse(raw)
        assert message.get_content_type() == "multipart/alternative"
        assert message["Subject"] == summary["subject"]
        assert message["Subject"].startswith("Muster Costs weekly report 2026-W49: EUR 16.85 (+57.5 % vs 2026-W48)")
        assert message["X-Muster-Report-Week"] == "2026-W49"
        assert message["To"] in RECIPIENTS
        text, html = parts(message)
        assert "Top agents (EUR)" in text and "Support & Sales bot" in text
        assert "1 USD = 0.8695652 EUR (ECB, rate of 2026-12-04)" in " ".join(text.split())
        assert "<table" in html and "Support &amp; Sales bot" in html
        assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "my-finetune" in text and "my-finetune" in html
    # And the log holds one sent row per recipient, keyed by the lower-cased address
    log = report_log_repository().deliveries("2026-W49")
    assert [(d.recipient, d.status, d.attempts) for d in log] == [
        ("ann@example.com", DeliveryStatus.SENT, 1),
        ("bob@example.com", DeliveryStatus.SENT, 1),
        ("cho@example.org", DeliveryStatus.SENT, 1),
    ]
    assert {d.message_id for d in log} == {m.id for m in messages}
    assert all(d.sent_at == NOW.replace(microsecond=0) or d.sent_at == NOW for d in log)


def test_a_retried_run_sends_nothing_twice(aws: Settings, audience: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_two_weeks()
    recorded: list[tuple[str, float]] = []
    monkeypatch.setattr(reports.metrics, "add_metric", lambda name, unit, value, **_: recorded.append((name, value)))
    first = run({"week": "2026-W49"})
    reads: list[str] = []
    original = RollupRepository.days
    monkeypatch.setattr(RollupRepository, "days", lambda self, a, b: reads.append(a) or original(self, a, b))
    # When the same week runs again (Lambda retry, a second schedule, an operator)
    second = run({"week": "2026-w49"})
    third = run()
    # Then each recipient still has exactly one message
    assert len(sent_messages()) == 3
    assert (first["sent"], second["sent"], third["sent"]) == (3, 0, 0)
    assert second["skipped"] == 3 and {d["reason"] for d in second["deliveries"]} == {"already_sent"}
    assert second["status"] == "ok"  # everyone has it
    assert reads == []  # the log said so: no report was even built
    assert {d["messageId"] for d in second["deliveries"]} == {d["messageId"] for d in first["deliveries"]}
    assert [d.attempts for d in report_log_repository().deliveries("2026-W49")] == [1, 1, 1]
    assert recorded[:2] == [("WeeklyReportsSent", 3), ("WeeklyReportSendFailures", 0)]
    assert recorded[2:4] == [("WeeklyReportsSent", 0), ("WeeklyReportSendFailures", 0)]


class FailingFor:
    """SES refusing some addresses (as for a suppressed or blocked address), the others going through."""

    def __init__(self, inner: SesMailer, refused: set[str]) -> None:
        self.inner = inner
        self.refused = refused

    def send(self, message: OutgoingEmail) -> str:
        if message.recipient in self.refused:
            raise EmailSendError("SES MessageRejected: Address blacklisted.", "rejected", "MessageRejected")
        return self.inner.send(message)


def test_one_refused_recipient_is_recorded_and_the_others_get_theirs(
    aws: Settings, audience: None, ses: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_weeks()
    refused = {"Bob@Example.com"}
    monkeypatch.setattr(reports, "ses_mailer", lambda settings: FailingFor(SesMailer(ses), refused))
    recorded: dict[str, float] = {}
    monkeypatch.setattr(reports.metrics, "add_metric", lambda name, unit, value, **_: recorded.__setitem__(name, value))
    # When SES refuses Bob
    summary = run({"week": "2026-W49"})
    # Then Ann and Cho have theirs, Bob's failure is recorded with SES's error, and the run reports counts
    assert (summary["sent"], summary["failed"], summary["status"]) == (2, 1, "partial")
    assert recorded == {"WeeklyReportsSent": 2, "WeeklyReportSendFailures": 1}
    assert sorted(m.destinations[0] for m in sent_messages()) == ["ann@example.com", "cho@example.org"]
    bob = report_log_repository().get("2026-W49", "bob@example.com")
    assert bob is not None and bob.status == DeliveryStatus.FAILED and bob.attempts == 1
    assert bob.last_error == "SES MessageRejected: Address blacklisted."
    assert bob.last_error_at is not None
    failed = next(d for d in summary["deliveries"] if d["status"] == "failed")
    assert failed["recipient"] == "bob@example.com" and failed["reason"] == "rejected"
    # When the run is repeated after the address is fixed, only Bob is sent his report
    refused.clear()
    again = run({"week": "2026-W49"})
    assert (again["sent"], again["skipped"]) == (1, 2)
    assert sorted(m.destinations[0] for m in sent_messages()) == sorted(RECIPIENTS)
    bob = report_log_repository().get("2026-W49", "bob@example.com")
    assert bob is not None and bob.status == DeliveryStatus.SENT and bob.attempts == 2


def test_an_unverified_sender_fails_every_recipient_without_sending(
    aws: Settings, ses: Any, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_weeks()
    set_audience(monkeypatch, sender="nobody@unverified.example")
    summary = run({"week": "2026-W49"})
    assert (summary["sent"], summary["failed"], summary["status"]) == (0, 3, "failed")
    assert {d["reason"] for d in summary["deliveries"]} == {"rejected"}
    assert sent_messages() == []
    log = report_log_repository().deliveries("2026-W49")
    assert {d.status for d in log} == {DeliveryStatus.FAILED}
    assert all(d.last_error and "MessageRejected" in d.last_error for d in log)


def test_a_recipient_who_failed_too_often_is_given_up(
    aws: Settings, audience: None, ses: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_weeks()
    monkeypatch.setattr(reports, "ses_mailer", lambda settings: FailingFor(SesMailer(ses), {"cho@example.org"}))
    for _ in range(DeliveryPolicy().max_attempts):
        run({"week": "2026-W49"})
    last = run({"week": "2026-W49"})
    cho = next(d for d in last["deliveries"] if d["recipient"] == "cho@example.org")
    assert cho == {"recipient": "cho@example.org", "status": "skipped", "reason": "gave_up"}
    log = report_log_repository().get("2026-W49", "cho@example.org")
    assert log is not None and log.attempts == DeliveryPolicy().max_attempts


def test_an_invalid_address_is_recorded_not_sent(
    aws: Settings, ses: Any, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_weeks()
    set_audience(monkeypatch, recipients=["ann@example.com", "Eve <eve@example.com>\r\nBcc: x@example.com"])
    summary = run({"week": "2026-W49"})
    assert (summary["sent"], summary["failed"]) == (1, 1)
    bad = next(d for d in summary["deliveries"] if d["status"] == "failed")
    assert bad["reason"] == "invalid_address"
    assert [m.destinations for m in sent_messages()] == [["ann@example.com", "ann@example.com"]]  # moto adds To


def test_a_claim_in_progress_is_left_alone_and_an_abandoned_one_is_taken_over(
    aws: Settings, audience: None, clock: list[datetime]
) -> None:
    seed_two_weeks()
    log = report_log_repository()
    policy = DeliveryPolicy()
    # Given another run claimed Ann 2 minutes ago (still sending) and Cho 20 minutes ago (it died mid-send)
    for recipient, age in (("ann@example.com", 2), ("cho@example.org", 20)):
        claim = log.claim(
            "2026-W49",
            recipient,
            address=recipient,
            token=f"other-{recipient}",
            now=NOW - timedelta(minutes=age),
            policy=policy,
        )
        assert claim.claimed
    # When this run starts
    summary = run({"week": "2026-W49"})
    # Then Ann is not sent a second copy, Cho's abandoned claim is taken over (at-least-once), Bob is sent
    outcomes = {d["recipient"]: (d["status"], d.get("reason")) for d in summary["deliveries"]}
    assert outcomes == {
        "ann@example.com": ("skipped", "in_progress"),
        "bob@example.com": ("sent", None),
        "cho@example.org": ("sent", None),
    }
    assert summary["status"] == "partial"  # Ann's copy is still another run's to finish
    assert sorted(m.destinations[0] for m in sent_messages()) == ["Bob@Example.com", "cho@example.org"]
    cho = log.get("2026-W49", "cho@example.org")
    assert cho is not None and cho.status == DeliveryStatus.SENT and cho.attempts == 2
    # And the run that lost Cho's claim cannot overwrite the record of the run that took it over
    assert not log.mark_failed("2026-W49", "cho@example.org", token="other-cho@example.org", error="late", now=NOW)
    cho_after = log.get("2026-W49", "cho@example.org")
    assert cho_after is not None and cho_after.status == DeliveryStatus.SENT


def test_an_empty_week_still_sends_a_short_report(aws: Settings, audience: None) -> None:
    # Given nothing stored for 2026-W49 (only the week before)
    seed_day(W48, [llm_day("support", W48, "3.00", 10, 10, 1)])
    seed_rates()
    summary = run()
    assert summary["empty"] is True and summary["sent"] == 3
    message = parse(sent_messages()[0])
    assert message["Subject"] == "Muster Costs weekly report 2026-W49: no costs recorded"
    text, html = parts(message)
    assert "No costs were recorded in 2026-W49" in text and "No costs were recorded in 2026-W49" in html
    assert "The week before (2026-W48) cost EUR 2.61." in text
    assert "Top agents" not in text


def test_failed_connections_and_stale_rates_are_in_the_report(aws: Settings, audience: None) -> None:
    seed_two_weeks()
    connections = cloud_connection_repository()
    connections.add_connection(
        CloudConnection("conn-abc", "prod <eu>", "arn:aws:iam::111122223333:role/MusterCostReaderProd", "x" * 32)
    )
    connections.record_failure("conn-abc", "access_denied: AccessDenied <role>", NOW - timedelta(hours=3))
    exchange_rate_repository().save_rates(
        [ExchangeRate("SEK", date(2026, 11, 20), Decimal("9.4"), "ECB", datetime(2026, 11, 20, 16, tzinfo=UTC))]
    )
    run()
    text, html = parts(parse(sent_messages()[0]))
    flat = " ".join(text.split())
    assert "prod <eu> (conn-abc) failed: access_denied: AccessDenied <role>" in flat
    assert "prod &lt;eu&gt; (conn-abc) failed: access_denied: AccessDenied &lt;role&gt;" in html
    assert "SEK: newest rate 2026-11-20 (ECB, 17 days old)" in text
    assert "No rate stored yet: GBP, MYR, IDR, SGD, AUD, CHF, NOK, DKK" in flat


# --- configuration and events ---------------------------------------------------------------------------------------


def test_without_recipients_nothing_is_sent(aws: Settings, ses: Any, clock: list[datetime]) -> None:
    # The default audience until the settings service is wired: nobody
    summary = run()
    assert summary["status"] == "no_recipients" and summary["sent"] == 0
    assert sent_messages() == []


def test_the_configured_sender_is_the_fallback(
    aws: Settings, ses: Any, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_weeks()
    set_audience(monkeypatch, recipients=["ann@example.com"], sender=None)
    monkeypatch.setenv("MUSTER_REPORT_SENDER", "reports@muster.example")
    reset_settings()
    assert run()["sent"] == 1
    assert sent_messages()[0].source == "reports@muster.example"
    monkeypatch.delenv("MUSTER_REPORT_SENDER")
    reset_settings()
    with pytest.raises(ConfigurationError, match="MUSTER_REPORT_SENDER"):
        run({"week": "2026-W48"})


@pytest.mark.parametrize("sender", ["reports@muster.example\r\nBcc: eve@example.com", "not an address"])
def test_a_malformed_sender_stops_the_run_before_any_claim(
    aws: Settings, ses: Any, clock: list[datetime], monkeypatch: pytest.MonkeyPatch, sender: str
) -> None:
    set_audience(monkeypatch, sender=sender)
    with pytest.raises(ConfigurationError, match="is not an e-mail address"):
        run({"week": "2026-W49"})
    assert report_log_repository().deliveries("2026-W49") == [] and sent_messages() == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"week": "2026-W54"}, "2026 has 53 ISO weeks"),
        ({"week": "2026-49"}, "YYYY-Www"),
        ({"week": 49}, "must be a string"),
    ],
)
def test_a_bad_week_in_the_event_is_a_clear_error(
    aws: Settings, audience: None, event: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        run(event)
    assert sent_messages() == []


# --- preview: CLI and demo ------------------------------------------------------------------------------------------


def test_cli_prints_the_text_part(aws: Settings, clock: list[datetime], capsys: pytest.CaptureFixture[str]) -> None:
    seed_two_weeks()
    assert main(["report", "--week", "2026-W49", "--currency", "eur"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Subject: Muster Costs weekly report 2026-W49: EUR 16.85")
    assert "Top agents (EUR)" in out and EVIL in out


def test_cli_writes_the_html_and_prints_its_path(
    aws: Settings, clock: list[datetime], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_two_weeks()
    target = tmp_path / "out" / "week.html"
    assert main(["report", "--week", "2026-W49", "--out", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target.resolve())
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Amounts are in USD" in html and EVIL not in html
    assert sent_messages() == []  # a preview never sends


def test_cli_json_and_errors(aws: Settings, clock: list[datetime], capsys: pytest.CaptureFixture[str]) -> None:
    import json

    seed_two_weeks()
    assert main(["report", "--week", "2026-W49", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["week"] == "2026-W49" and payload["currency"] == "USD"
    assert payload["totalCost"]["current"] == "19.375"
    assert payload["totalCost"]["previous"] == "12.3"
    assert payload["topAgents"][0]["agentId"] == "support"
    assert main(["report", "--week", "2026-W54"]) == 2
    assert "error: week '2026-W54' does not exist: 2026 has 53 ISO weeks" in capsys.readouterr().err


def test_write_demo_report(aws: Settings, tmp_path: Path) -> None:
    seed_two_weeks()
    path = write_demo_report(tmp_path / "demo" / "weekly-report.html", now=NOW)
    assert path == (tmp_path / "demo" / "weekly-report.html").resolve()
    html = path.read_text(encoding="utf-8")
    assert "Week 2026-W49" in html and "Support &amp; Sales bot" in html
