"""The report as an e-mail: escaping, amounts in the currency's minor units, the fx basis, both parts, MIME."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy
from html.parser import HTMLParser

import boto3
import pytest
from botocore.stub import ANY, Stubber

from shared.domain.fx import ExchangeRate, identity_rate
from shared.domain.report_render import amount, change_text, percent, render_report, signed_money
from shared.domain.weekly_report import (
    AgentDayFigures,
    Change,
    ConnectionIssue,
    FxBasis,
    RateIssue,
    UnpricedDayFigures,
    WeeklyReport,
    build_weekly_report,
)
from shared.sources.email import EmailSendError, OutgoingEmail, SesMailer, build_mime

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
W49 = date(2026, 11, 30)
W48 = W49 - timedelta(days=7)
EVIL = "<script>alert(1)</script>"
EUR = FxBasis.of(ExchangeRate("EUR", date(2026, 12, 4), Decimal("0.8695652"), "ECB"))


def report(fx: FxBasis = EUR, **extra: object) -> WeeklyReport:
    rows = [
        AgentDayFigures(W49, "support", Decimal("1000.004"), Decimal("234.5"), 1_234_567, 89_000, 4321),
        AgentDayFigures(W48, "support", Decimal("900"), Decimal("200"), 1, 1, 1),
        AgentDayFigures(W49 + timedelta(days=1), EVIL, Decimal("2.5"), Decimal(0), 10, 10, 1),
    ]
    unpriced = [UnpricedDayFigures(W49, EVIL, 'my-"finetune"<b>', 3, 300, 40)]
    return build_weekly_report(
        "2026-W49",
        rows,
        unpriced,
        fx=fx,
        generated_at=NOW,
        names={"support": "Support & Sales"},
        failed_connections=[
            ConnectionIssue("conn-1", "prod <account>", "failed", "access_denied: <AccessDenied>", NOW, None)
        ],
        stale_rates=[RateIssue("SEK", date(2026, 11, 20), "ECB", 17), RateIssue("NOK")],
        **extra,  # type: ignore[arg-type]
    )


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_html_escapes_every_name_from_data() -> None:
    html = render_report(report()).html
    # Then no tag comes from data: the only script-like text is escaped, and it still reads as the name
    assert "<script>" not in html and "<b>" not in html and "<account>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "my-&quot;finetune&quot;&lt;b&gt;" in html
    doc = parsed(html)
    assert "script" not in doc.tags and "b" not in doc.tags
    assert EVIL in "".join(doc.text)  # a reader sees the agent's real name
    assert "Support &amp; Sales" in html


def test_html_is_a_readable_document_with_inline_styles() -> None:
    html = render_report(report()).html
    doc = parsed(html)
    assert doc.tags.count("table") == 5  # summary, top agents, risers, by day, unpriced
    assert "style" not in doc.tags  # mail clients drop <style>: every element carries its own
    assert 'style="' in html and 'scope="col"' in html
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html


def test_amounts_use_the_currency_minor_units() -> None:
    rendered = render_report(report())
    total_eur = (Decimal("1000.004") + Decimal("234.5") + Decimal("2.5")) * Decimal("0.8695652")
    assert f"EUR {amount(total_eur, 'EUR')}" in rendered.text
    assert amount(total_eur, "EUR") == "1,075.66"  # 1075.6556306608
    assert amount(Decimal("16994.5"), "IDR") == "16,995"  # IDR has no minor unit, half-up
    assert amount(Decimal("-0.001"), "USD") == "0.00"  # never "-0.00"
    assert signed_money(Decimal("12.3"), "EUR") == "+EUR 12.30"
    assert signed_money(Decimal("-12.345"), "USD") == "-USD 12.35"
    assert signed_money(Decimal("0.004"), "USD") == "USD 0.00"
    assert percent(Change(Decimal("110"), Decimal("100"))) == "+10.0 %"
    assert percent(Change(Decimal("0"), Decimal("100"))) == "-100.0 %"
    assert percent(Change(Decimal("5"), Decimal("0"))) == "new"
    assert percent(Change(Decimal("0"), Decimal("0"))) == "-"
    assert change_text(Change(Decimal("3"), Decimal("3")), "EUR") == "no change"


def test_both_parts_state_the_rate_source_and_date() -> None:
    rendered = render_report(report())
    sentence = "1 USD = 0.8695652 EUR (ECB, rate of 2026-12-04)"
    assert sentence in rendered.html
    assert sentence in " ".join(rendered.text.split())  # wrapped in the text part
    usd = render_report(report(FxBasis.of(identity_rate(NOW.date()))))
    assert "Amounts are in USD, as recorded" in usd.text


def test_stale_fallback_and_missing_rates_are_said() -> None:
    rate = ExchangeRate("MYR", date(2026, 11, 20), Decimal("4.2"), "ECB")
    stale = render_report(report(FxBasis.of(rate, stale=True)))
    text = " ".join(stale.text.split())
    assert "The preferred source had no rate for that day, so the ECB cross rate was used." in text
    assert "This rate is 17 days old" in text
    missing = render_report(report(FxBasis.of(identity_rate(NOW.date()), unavailable="IDR")))
    assert "No IDR exchange rate is stored yet, so amounts are in USD" in missing.text
    assert "SEK: newest rate 2026-11-20 (ECB, 17 days old)" in stale.text
    assert "No rate stored yet: NOK" in stale.text


def test_text_part_tables_and_attention() -> None:
    rendered = render_report(report())
    text = rendered.text
    assert text.startswith("Muster Costs: weekly report 2026-W49\nMonday 30 November 2026 to Sunday 6 December 2026")
    assert "Top agents (EUR)" in text and "Support & Sales" in text and EVIL in text
    assert "Biggest increases against 2026-W48 (EUR)" in text
    assert "By day (EUR)" in text and "Mon 30 Nov" in text and "Sun 6 Dec" in text
    assert "Unpriced usage." in text and 'my-"finetune"<b>' in text
    assert "muster-costs reprice --from 2026-11-30 --to 2026-12-06" in " ".join(text.split())
    assert "prod <account> (conn-1) failed: access_denied: <AccessDenied>" in text
    assert "4,322 calls, 1,234,577 input tokens, 89,010 output tokens" in text
    assert rendered.subject == "Muster Costs weekly report 2026-W49: EUR 1,075.66 (+12.5 % vs 2026-W48)"


def test_control_characters_in_names_do_not_break_the_text_part() -> None:
    rows = [AgentDayFigures(W49, "a\nb\x1b[31m", Decimal(1))]
    rendered = render_report(build_weekly_report("2026-W49", rows, [], fx=EUR, generated_at=NOW))
    assert "a b [31m" in rendered.text and "\x1b" not in rendered.text


def test_an_empty_week_renders_a_short_report() -> None:
    rows = [AgentDayFigures(W48, "support", Decimal("3"))]
    empty = build_weekly_report("2026-W49", rows, [], fx=EUR, generated_at=NOW)
    rendered = render_report(empty)
    assert rendered.subject == "Muster Costs weekly report 2026-W49: no costs recorded"
    assert "No costs were recorded in 2026-W49" in rendered.text
    assert "The week before (2026-W48) cost EUR 2.61." in rendered.text
    assert "Top agents" not in rendered.text
    assert "<table" not in rendered.html and "No costs were recorded in 2026-W49" in rendered.html
    assert len(rendered.text.splitlines()) < 15


# --- MIME and SES --------------------------------------------------------------------------------------------------


def outgoing() -> OutgoingEmail:
    rendered = render_report(report())
    return OutgoingEmail(
        "Muster Costs <reports@example.com>",
        "ann@example.com",
        rendered.subject,
        rendered.text + "Grüße, 費用\n",
        rendered.html,
        (("X-Muster-Report-Week", "2026-W49"),),
    )


def test_mime_is_multipart_alternative_with_text_then_html() -> None:
    raw = build_mime(outgoing())
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"] == "ann@example.com"
    assert message["From"] == "Muster Costs <reports@example.com>"
    assert message["X-Muster-Report-Week"] == "2026-W49"
    assert message["Subject"] == "Muster Costs weekly report 2026-W49: EUR 1,075.66 (+12.5 % vs 2026-W48)"
    text, html = list(message.iter_parts())
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert text.get_content().replace("\r\n", "\n").endswith("Grüße, 費用\n")  # UTF-8 survives the round trip
    assert "&lt;script&gt;" in html.get_content()
    assert b"\r\n" in raw and max(len(line) for line in raw.split(b"\r\n")) <= 998  # SMTP line limit


def ses_client() -> object:
    return boto3.client("ses", region_name="us-east-1")


def test_ses_mailer_sends_raw_to_one_recipient() -> None:
    client = ses_client()
    with Stubber(client) as stub:  # type: ignore[arg-type]
        stub.add_response(
            "send_raw_email",
            {"MessageId": "0100-abc"},
            {
                "Source": "Muster Costs <reports@example.com>",
                "Destinations": ["ann@example.com"],
                "RawMessage": {"Data": ANY},
            },
        )
        assert SesMailer(client).send(outgoing()) == "0100-abc"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("MessageRejected", "rejected"),
        ("MailFromDomainNotVerifiedException", "rejected"),
        ("Throttling", "throttled"),
        ("AccountSendingPausedException", "configuration"),
        ("InternalFailure", "error"),
    ],
)
def test_ses_errors_are_classified_by_code(code: str, reason: str) -> None:
    client = ses_client()
    with Stubber(client) as stub:  # type: ignore[arg-type]
        stub.add_client_error("send_raw_email", service_error_code=code, service_message="nope")
        with pytest.raises(EmailSendError) as caught:
            SesMailer(client).send(outgoing())
    assert caught.value.reason == reason and caught.value.code == code
    assert code in str(caught.value)
