"""The weekly report: gather two weeks of figures, build and render the report, send it once per recipient.

Figures come from the per-day organization rollups (``MusterCostRollup``): one Query covers the reported week and
the week before (14 items). They are converted into the reader's currency at the latest stored rate, as the API's
default ``fx=latest`` does (``shared.services.exchange_rates.rate_table``).

Sending (``send_weekly_report``): the report is built and rendered once; then each recipient is claimed in
``MusterReportLog`` before SES is called, so a retried or concurrent run never sends a week twice to anyone
(see ``shared.dal.report_log`` and docs/decisions.md for the crash-between-claim-and-send case). One recipient
failing is recorded and the others still get theirs; the run returns counts and emits ``WeeklyReportsSent`` and
``WeeklyReportSendFailures``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from shared.config import get_settings
from shared.dal.agents import AgentRepository, agent_repository
from shared.dal.cloud import CloudConnectionRepository, cloud_connection_repository
from shared.dal.exchange_rates import ExchangeRateRepository, exchange_rate_repository
from shared.dal.report_log import ReportLogRepository, report_log_repository
from shared.dal.rollup import DayRollup, RollupRepository, rollup_repository
from shared.domain.agents import UNATTRIBUTED, Agent
from shared.domain.cloud import CloudConnection, ConnectionStatus, unallocated_agent_id
from shared.domain.fx import RATE_CURRENCIES, USD, RateTable, identity_rate, is_stale, parse_currency
from shared.domain.money import ZERO, as_text
from shared.domain.report_render import RenderedReport, render_report
from shared.domain.weekly_report import (
    AgentDayFigures,
    ConnectionIssue,
    DeliveryPolicy,
    DeliveryStatus,
    FxBasis,
    RateIssue,
    UnpricedDayFigures,
    WeeklyReport,
    build_weekly_report,
    canonical_week,
    is_plain_address,
    last_full_week,
    normalize_address,
    parse_iso_week,
    previous_week,
    skip_reason,
)
from shared.errors import ConfigurationError, InvalidInputError, RateUnavailableError
from shared.observability import MetricUnit, logger, metrics
from shared.services.exchange_rates import rate_table
from shared.sources.email import EmailSendError, Mailer, OutgoingEmail, ses_mailer

WEEK_HEADER = "X-Muster-Report-Week"


def utc_now() -> datetime:
    """The clock (one seam, so tests can run the worker "on" a given Monday)."""
    return datetime.now(UTC)


# --- who gets the report, from whom, in which currency -----------------------------------------------------------


@dataclass(frozen=True)
class ReportAudience:
    recipients: tuple[str, ...] = ()
    sender: str | None = None  # None: MUSTER_REPORT_SENDER
    currency: str = USD


AudienceProvider = Callable[[], ReportAudience]


def configured_audience() -> ReportAudience:
    """The project's report audience: recipients, sender and currency from the project settings
    (``muster-costs settings``); the sender falls back to ``MUSTER_REPORT_SENDER`` in ``send_weekly_report``."""
    from shared.services.settings import SettingsService

    project = SettingsService().current()
    return ReportAudience(
        recipients=project.report_recipients, sender=project.report_sender, currency=project.default_currency
    )


# --- figures -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFigures:
    """Per-day, per-agent USD figures (and unpriced usage) over a range of days."""

    days: tuple[AgentDayFigures, ...] = ()
    unpriced: tuple[UnpricedDayFigures, ...] = ()


def figures_from_rollups(rollups: Iterable[DayRollup]) -> ReportFigures:
    days: list[AgentDayFigures] = []
    unpriced: list[UnpricedDayFigures] = []
    for rollup in rollups:
        day = date.fromisoformat(rollup.date)
        for agent_id in sorted(set(rollup.llm) | set(rollup.cloud)):
            llm = rollup.llm.get(agent_id)
            cloud = rollup.cloud.get(agent_id)
            days.append(
                AgentDayFigures(
                    day=day,
                    agent_id=agent_id,
                    llm_usd=llm.cost if llm else ZERO,
                    cloud_usd=cloud.cost if cloud else ZERO,
                    input_tokens=llm.tokens.input_side if llm else 0,
                    output_tokens=llm.tokens.output_side if llm else 0,
                    observations=llm.observations if llm else 0,
                )
            )
            for model, observations, tokens in llm.unpriced if llm else ():
                unpriced.append(
                    UnpricedDayFigures(day, agent_id, model, observations, tokens.input_side, tokens.output_side)
                )
    return ReportFigures(tuple(days), tuple(unpriced))


def gather_figures(first: date, last: date, *, rollups: RollupRepository | None = None) -> ReportFigures:
    """The figures of ``first``..``last`` (inclusive) from the per-day organization rollups: one Query.

    MERGE (issue 5): the single seam for the figures. It stays on the rollups (one Query for both weeks) unless
    ``shared.services.cost_queries`` offers per-day, per-agent figures for a window; then call that here and map
    its rows to ``AgentDayFigures`` / ``UnpricedDayFigures``.
    """
    return figures_from_rollups((rollups or rollup_repository()).days(first.isoformat(), last.isoformat()))


# --- names, rates and health notes ---------------------------------------------------------------------------------


def agent_names(agents: Iterable[Agent], connections: Iterable[CloudConnection]) -> dict[str, str]:
    """Display names: configured names, and readable labels for the reserved ids."""
    names = {agent.agent_id: agent.name or agent.agent_id for agent in agents}
    names[UNATTRIBUTED] = "Unattributed (no trace name)"
    for connection in connections:
        names[unallocated_agent_id(connection.connection_id)] = f"Unallocated cloud spend ({connection.name})"
    return names


def connection_issues(connections: Iterable[CloudConnection]) -> list[ConnectionIssue]:
    return [
        ConnectionIssue(c.connection_id, c.name, c.status.value, c.last_error, c.last_error_at, c.last_success_at)
        for c in connections
        if c.status == ConnectionStatus.FAILED
    ]


def report_fx(table: RateTable, currency: str) -> FxBasis:
    """The latest stored rate of ``currency`` (as the API's ``fx=latest``); USD with a note when none exists."""
    currency = parse_currency(currency)
    try:
        rate = table.latest(currency)
    except RateUnavailableError:
        logger.warning("no exchange rate for the report currency; reporting in USD", currency=currency)
        return FxBasis.of(identity_rate(table.as_of), unavailable=currency)
    stale = table.staleness_days is not None and is_stale(rate, table.as_of, table.staleness_days)
    return FxBasis.of(rate, stale=stale)


def rate_issues(table: RateTable) -> list[RateIssue]:
    """Currencies whose newest rate is older than the staleness window, or that have none."""
    issues = []
    for currency in RATE_CURRENCIES:
        try:
            rate = table.latest(currency)
        except RateUnavailableError:
            issues.append(RateIssue(currency))
            continue
        if table.staleness_days is not None and is_stale(rate, table.as_of, table.staleness_days):
            issues.append(RateIssue(currency, rate.rate_date, rate.source, (table.as_of - rate.rate_date).days))
    return issues


@dataclass
class ReportSources:
    """Where a report's inputs are read from (repositories are injectable for tests)."""

    rollups: RollupRepository | None = None
    agents: AgentRepository | None = None
    connections: CloudConnectionRepository | None = None
    rates: ExchangeRateRepository | None = None


def build_report(
    week: str, currency: str = USD, *, now: datetime | None = None, sources: ReportSources | None = None
) -> WeeklyReport:
    """The report of ``week`` in ``currency`` as of ``now``: 1 rollup Query (both weeks), agents, connections,
    and one rate Query per currency (the display rate and the staleness notes)."""
    now = (now or utc_now()).astimezone(UTC)
    sources = sources or ReportSources()
    _, last = parse_iso_week(week)
    previous_first, _ = parse_iso_week(previous_week(week))
    figures = gather_figures(previous_first, last, rollups=sources.rollups)
    agents = (sources.agents or agent_repository()).list_agents()
    connections = (sources.connections or cloud_connection_repository()).list_connections()
    table = rate_table(RATE_CURRENCIES, now.date(), now.date(), repository=sources.rates or exchange_rate_repository())
    return build_weekly_report(
        week,
        figures.days,
        figures.unpriced,
        fx=report_fx(table, currency),
        generated_at=now.replace(microsecond=0),
        names=agent_names(agents, connections),
        failed_connections=connection_issues(connections),
        stale_rates=rate_issues(table),
    )


def report_payload(report: WeeklyReport) -> dict[str, Any]:
    """The report's figures as JSON-able data (exact decimal strings, like the API)."""

    def change(c: Any) -> dict[str, Any]:
        return {
            "current": as_text(c.current),
            "previous": as_text(c.previous),
            "change": as_text(c.absolute),
            "percent": None if c.percent is None else as_text(c.percent),
        }

    def agent(line: Any) -> dict[str, Any]:
        return {
            "agentId": line.agent_id,
            "name": line.name,
            "llmCost": as_text(line.llm),
            "cloudCost": as_text(line.cloud),
            "totalCost": as_text(line.total),
            "previousTotalCost": as_text(line.previous_total),
            "change": as_text(line.change.absolute),
            "percent": None if line.change.percent is None else as_text(line.change.percent),
        }

    fx = report.fx
    return {
        "week": report.week,
        "from": report.first_day.isoformat(),
        "to": report.last_day.isoformat(),
        "previousWeek": report.previous_week,
        "currency": report.currency,
        "fx": {
            "rate": as_text(fx.rate),
            "rateDate": fx.rate_date.isoformat(),
            "source": fx.source,
            "stale": fx.stale,
            "fallback": fx.fallback,
            "unavailable": fx.unavailable,
        },
        "empty": report.is_empty,
        "llmCost": change(report.llm),
        "cloudCost": change(report.cloud),
        "totalCost": change(report.total),
        "inputTokens": report.input_tokens,
        "outputTokens": report.output_tokens,
        "observations": report.observations,
        "daily": [
            {"date": d.day.isoformat(), "llmCost": as_text(d.llm), "cloudCost": as_text(d.cloud)} for d in report.days
        ],
        "topAgents": [agent(line) for line in report.top_agents],
        "otherAgents": {"count": report.other_agents, **change(report.others)},
        "risers": [agent(line) for line in report.risers],
        "unpriced": [
            {
                "model": u.model,
                "observations": u.observations,
                "inputTokens": u.input_tokens,
                "outputTokens": u.output_tokens,
                "agents": list(u.agents),
            }
            for u in report.unpriced
        ],
        "failedConnections": [
            {"connectionId": c.connection_id, "name": c.name, "status": c.status, "lastError": c.last_error}
            for c in report.failed_connections
        ],
        "staleRates": [
            {
                "currency": r.currency,
                "rateDate": r.rate_date.isoformat() if r.rate_date else None,
                "source": r.source,
                "ageDays": r.age_days,
            }
            for r in report.stale_rates
        ],
        "generatedAt": report.generated_at.isoformat().replace("+00:00", "Z"),
    }


# --- preview (CLI, demo) -------------------------------------------------------------------------------------------


def preview_report(
    week: str | None = None,
    currency: str | None = None,
    *,
    now: datetime | None = None,
    audience: AudienceProvider | None = None,
) -> tuple[WeeklyReport, RenderedReport]:
    """Build and render a report without sending it (``muster-costs report``); the week defaults to the last
    full week, the currency to the project's."""
    now = (now or utc_now()).astimezone(UTC)
    week = canonical_week(week) if week else last_full_week(now.date())
    report = build_report(week, currency or (audience or configured_audience)().currency, now=now)
    return report, render_report(report)


def write_html(rendered: RenderedReport, path: str | Path) -> Path:
    """Write the HTML part to ``path`` (parents created); returns the absolute path."""
    target = Path(path).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(rendered.html, encoding="utf-8")
    return target


def write_demo_report(path: str | Path, week: str | None = None, *, now: datetime | None = None) -> Path:
    """Write the HTML report of ``week`` (default: the last full Monday-to-Sunday week before ``now``, the week
    the Monday worker would send) to ``path``, in the project's currency, against the currently bound tables
    (the embedded stack in ``make demo``). Nothing is sent. Returns the absolute path written."""
    _, rendered = preview_report(week, now=now)
    return write_html(rendered, path)


# --- sending -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    recipient: str
    status: str  # "sent", "failed" or "skipped"
    reason: str | None = None  # skipped: already_sent / in_progress / gave_up / claimed_elsewhere; failed: why
    message_id: str | None = None
    attempts: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        optional = {
            "reason": self.reason,
            "messageId": self.message_id,
            "attempts": self.attempts,
            "error": self.error,
        }
        return {"recipient": self.recipient, "status": self.status} | {
            key: value for key, value in optional.items() if value is not None
        }


@dataclass
class _Run:
    week: str
    token: str
    outcomes: list[DeliveryOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def unique_recipients(recipients: Sequence[str]) -> list[tuple[str, str]]:
    """(key, address) per recipient: trimmed, duplicates (case-insensitive) dropped, order kept, blanks ignored."""
    seen: dict[str, str] = {}
    for recipient in recipients:
        address = recipient.strip()
        if address:
            seen.setdefault(normalize_address(address), address)
    return list(seen.items())


def _deliver(
    run: _Run,
    key: str,
    address: str,
    *,
    sender: str,
    rendered: RenderedReport,
    mailer: Mailer,
    log: ReportLogRepository,
    clock: Callable[[], datetime],
    policy: DeliveryPolicy,
) -> DeliveryOutcome:
    now = clock()
    claim = log.claim(run.week, key, address=address, token=run.token, now=now, policy=policy, subject=rendered.subject)
    if not claim.claimed:
        existing = claim.delivery
        reason = skip_reason(existing, now, policy) if existing else "claimed_elsewhere"
        return DeliveryOutcome(key, "skipped", reason, existing.message_id if existing else None)
    attempts = claim.delivery.attempts if claim.delivery else None
    if not is_plain_address(address):
        error = f"{address!r} is not a plain e-mail address (name@example.com)"
        log.mark_failed(run.week, key, token=run.token, error=error, now=clock())
        return DeliveryOutcome(key, "failed", "invalid_address", attempts=attempts, error=error)
    try:
        message_id = mailer.send(
            OutgoingEmail(sender, address, rendered.subject, rendered.text, rendered.html, ((WEEK_HEADER, run.week),))
        )
    except EmailSendError as exc:
        log.mark_failed(run.week, key, token=run.token, error=str(exc), now=clock())
        logger.warning("weekly report not sent", week=run.week, recipient=key, reason=exc.reason, error=str(exc))
        return DeliveryOutcome(key, "failed", exc.reason, attempts=attempts, error=str(exc))
    if not log.mark_sent(run.week, key, token=run.token, message_id=message_id, now=clock()):
        # Our claim expired and another run took it over while SES was answering us: both may send (at-least-once).
        logger.warning("weekly report claim was taken over while sending", week=run.week, recipient=key)
    return DeliveryOutcome(key, "sent", message_id=message_id, attempts=attempts)


def send_weekly_report(
    week: str | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    audience: AudienceProvider | None = None,
    mailer: Mailer | None = None,
    log: ReportLogRepository | None = None,
    sources: ReportSources | None = None,
    policy: DeliveryPolicy | None = None,
) -> dict[str, Any]:
    """Send the report of ``week`` (default: the last full week) to every recipient who has not had it yet.

    ``clock`` and ``audience`` default to :func:`utc_now` and :func:`configured_audience`, looked up when called.
    """
    clock = clock or utc_now
    now = clock().astimezone(UTC)
    week = canonical_week(week) if week else last_full_week(now.date())
    policy = policy or DeliveryPolicy()
    who = (audience or configured_audience)()
    recipients = unique_recipients(who.recipients)
    summary: dict[str, Any] = {"week": week, "currency": parse_currency(who.currency), "recipients": len(recipients)}
    if not recipients:
        logger.warning("weekly report has no recipients; nothing sent", week=week)
        _emit(0, 0)
        return summary | {"status": "no_recipients", "sent": 0, "failed": 0, "skipped": 0, "deliveries": []}
    sender = report_sender(who.sender)
    log = log or report_log_repository()
    run = _Run(week, uuid.uuid4().hex)
    # One Query first: a repeated run whose recipients all have the report reads nothing else and sends nothing.
    delivered = {d.recipient: d for d in log.deliveries(week) if d.status == DeliveryStatus.SENT}
    outcomes: dict[str, DeliveryOutcome] = {
        key: DeliveryOutcome(key, "skipped", "already_sent", delivered[key].message_id)
        for key, _ in recipients
        if key in delivered
    }
    pending = [(key, address) for key, address in recipients if key not in delivered]
    summary["subject"] = None
    if pending:
        report = build_report(week, who.currency, now=now, sources=sources)
        rendered = render_report(report)
        summary |= {"empty": report.is_empty, "totalCost": as_text(report.total.current), "subject": rendered.subject}
        active = mailer or ses_mailer(get_settings())
        for key, address in pending:
            outcomes[key] = _deliver(
                run, key, address, sender=sender, rendered=rendered, mailer=active, log=log, clock=clock, policy=policy
            )
    run.outcomes.extend(outcomes[key] for key, _ in recipients)
    sent, failed, skipped = run.count("sent"), run.count("failed"), run.count("skipped")
    _emit(sent, failed)
    summary |= {
        "status": run_status(run.outcomes),
        "sent": sent,
        "failed": failed,
        "skipped": skipped,
        "deliveries": [outcome.as_dict() for outcome in run.outcomes],
    }
    logger.info(
        "weekly report run",
        week=week,
        currency=summary["currency"],
        sent=sent,
        failed=failed,
        skipped=skipped,
        skipped_reasons=sorted({o.reason for o in run.outcomes if o.status == "skipped" and o.reason}),
    )
    return summary


def report_sender(configured: str | None) -> str:
    """The project's sender, else ``MUSTER_REPORT_SENDER``; either may carry a display name
    (``Muster Costs <reports@example.com>``). Checked before anything is claimed."""
    sender = (configured or get_settings().report.sender or "").strip()
    if not sender:
        raise ConfigurationError("no report sender: set the project's report sender or MUSTER_REPORT_SENDER")
    _, address = parseaddr(sender)
    if not is_plain_address(address) or not sender.isprintable():
        raise ConfigurationError(f"the report sender {sender!r} is not an e-mail address like reports@example.com")
    return sender


def run_status(outcomes: Sequence[DeliveryOutcome]) -> str:
    """``ok``: every recipient has the report (now or from an earlier run); ``failed``: nobody has it;
    ``partial``: some have it, others failed, gave up, or are still being sent by another run."""
    delivered = [o for o in outcomes if o.status == "sent" or o.reason == "already_sent"]
    if len(delivered) == len(outcomes):
        return "ok"
    return "partial" if delivered else "failed"


def _emit(sent: int, failed: int) -> None:
    metrics.add_metric(name="WeeklyReportsSent", unit=MetricUnit.Count, value=sent)
    metrics.add_metric(name="WeeklyReportSendFailures", unit=MetricUnit.Count, value=failed)


def run_weekly_report(event: Mapping[str, Any] | None) -> dict[str, Any]:
    """The worker's entry point: ``{"week": "YYYY-Www"}`` overrides the default (the last full week)."""
    event = event or {}
    if not isinstance(event, Mapping):
        raise InvalidInputError("the event must be an object")
    raw = event.get("week")
    if raw is not None and not isinstance(raw, str):
        raise InvalidInputError(f"'week' must be a string like 2026-W49, got {raw!r}")
    return send_weekly_report(raw or None)


__all__ = [
    "AudienceProvider",
    "ReportAudience",
    "ReportFigures",
    "ReportSources",
    "build_report",
    "configured_audience",
    "gather_figures",
    "preview_report",
    "report_payload",
    "run_weekly_report",
    "send_weekly_report",
    "write_demo_report",
    "write_html",
]
