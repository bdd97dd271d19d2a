"""The weekly report: ISO weeks, a week's figures against the week before, and what needs a person's attention.

Pure: the service gathers per-day, per-agent USD figures for two weeks (one rollup Query), the agents' names,
the latest rate of the reader's currency and the health notes; :func:`build_weekly_report` turns them into a
:class:`WeeklyReport` whose amounts are exact ``Decimal`` in the reader's currency (rounded only when rendered).

Weeks are ISO 8601 weeks, Monday to Sunday, UTC days, written ``YYYY-Www`` (``2026-W49``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum

from shared.domain.fx import USD, ExchangeRate, convert, parse_currency, round_amount
from shared.domain.money import EXACT, ZERO, exact_sum
from shared.errors import InvalidInputError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
WEEK_DAYS = 7
HUNDRED = Decimal(100)
DEFAULT_TOP_AGENTS = 10
DEFAULT_RISERS = 5


# --- ISO weeks -------------------------------------------------------------------------------------------------------


def parse_iso_week(text: str) -> tuple[date, date]:
    """``"2026-W49"`` → (Monday, Sunday) of that ISO week; anything else is an ``InvalidInputError``."""
    raw = text.strip() if isinstance(text, str) else ""
    match = _WEEK.match(raw.upper())
    if match is None:
        raise InvalidInputError(f"a week is written YYYY-Www, e.g. 2026-W49; got {text!r}")
    year, week = int(match.group(1)), int(match.group(2))
    weeks = weeks_in_year(year) if 1 <= year <= 9998 else 0
    if not 1 <= week <= weeks:
        limit = f"{year} has {weeks} ISO weeks" if weeks else f"year {year} is out of range"
        raise InvalidInputError(f"week {text!r} does not exist: {limit}")
    monday = date.fromisocalendar(year, week, 1)
    return monday, monday + timedelta(days=WEEK_DAYS - 1)


def canonical_week(text: str) -> str:
    """``" 2026-w49 "`` → ``"2026-W49"`` (checked); the report log is keyed by this form."""
    monday, _ = parse_iso_week(text)
    return iso_week(monday)


def weeks_in_year(year: int) -> int:
    """52 or 53: 28 December always lies in the ISO year's last week."""
    return date(year, 12, 28).isocalendar().week


def iso_week(day: date) -> str:
    """The ISO week a day lies in: ``2026-12-07`` → ``"2026-W50"``."""
    calendar = day.isocalendar()
    return f"{calendar.year:04d}-W{calendar.week:02d}"


def last_full_week(today: date) -> str:
    """The last Monday-to-Sunday week that has ended before ``today`` (on a Monday: the week that ended yesterday)."""
    return iso_week(today - timedelta(days=today.weekday() + 1))


def previous_week(week: str) -> str:
    monday, _ = parse_iso_week(week)
    return iso_week(monday - timedelta(days=WEEK_DAYS))


def week_dates(week: str) -> tuple[date, ...]:
    monday, _ = parse_iso_week(week)
    return tuple(monday + timedelta(days=offset) for offset in range(WEEK_DAYS))


# --- inputs (USD, as stored) -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentDayFigures:
    """One agent's stored figures on one UTC day, in USD (from the per-day organization rollup)."""

    day: date
    agent_id: str
    llm_usd: Decimal = ZERO
    cloud_usd: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    observations: int = 0


@dataclass(frozen=True)
class UnpricedDayFigures:
    """Usage of a model with no price on one day for one agent (stored at cost 0, never silently)."""

    day: date
    agent_id: str
    model: str
    observations: int
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class FxBasis:
    """The rate every figure of the report was converted with: units of ``currency`` per 1 USD."""

    currency: str
    rate: Decimal
    rate_date: date
    source: str
    fallback: bool = False  # the currency's preferred source had no rate that day; the ECB cross rate was used
    stale: bool = False  # older than the staleness window, used anyway (and said so)
    unavailable: str | None = None  # the currency asked for when no rate of it is stored (figures are in USD)

    @classmethod
    def of(cls, rate: ExchangeRate, *, stale: bool = False, unavailable: str | None = None) -> FxBasis:
        return cls(
            currency=rate.currency,
            rate=rate.units_per_usd,
            rate_date=rate.rate_date,
            source=rate.source,
            fallback=rate.currency != USD and rate.is_fallback,
            stale=stale,
            unavailable=unavailable,
        )

    @property
    def is_identity(self) -> bool:
        return self.currency == USD

    def convert(self, amount_usd: Decimal) -> Decimal:
        return amount_usd if self.is_identity else convert(amount_usd, self.rate)


@dataclass(frozen=True)
class ConnectionIssue:
    """A cloud connection whose last run failed: its cloud costs may be missing or old in the report."""

    connection_id: str
    name: str
    status: str
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True)
class RateIssue:
    """A currency whose newest stored rate is stale (``rate_date`` set) or that has no rate at all (None)."""

    currency: str
    rate_date: date | None = None
    source: str | None = None
    age_days: int | None = None


# --- the report ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A figure this week against the week before (both in the report's currency)."""

    current: Decimal
    previous: Decimal

    @property
    def absolute(self) -> Decimal:
        with localcontext(EXACT):
            return self.current - self.previous

    @property
    def percent(self) -> Decimal | None:
        """Relative change in percent (exact); None when the previous week had nothing to compare with."""
        if self.previous == 0:
            return None
        with localcontext(EXACT):
            return (self.current - self.previous) / self.previous * HUNDRED

    @property
    def is_new(self) -> bool:
        return self.previous == 0 and self.current != 0


@dataclass(frozen=True)
class AgentLine:
    agent_id: str
    name: str
    llm: Decimal
    cloud: Decimal
    previous_total: Decimal
    input_tokens: int = 0
    output_tokens: int = 0
    observations: int = 0

    @property
    def total(self) -> Decimal:
        return exact_sum((self.llm, self.cloud))

    @property
    def change(self) -> Change:
        return Change(self.total, self.previous_total)


@dataclass(frozen=True)
class DayLine:
    day: date
    llm: Decimal
    cloud: Decimal

    @property
    def total(self) -> Decimal:
        return exact_sum((self.llm, self.cloud))


@dataclass(frozen=True)
class UnpricedLine:
    """A model with usage but no price this week: the report's cost leaves it out until a price is set."""

    model: str
    observations: int
    input_tokens: int
    output_tokens: int
    agents: tuple[str, ...]  # agent names, sorted


@dataclass(frozen=True)
class WeeklyReport:
    week: str
    first_day: date
    last_day: date
    previous_week: str
    fx: FxBasis
    llm: Change
    cloud: Change
    input_tokens: int
    output_tokens: int
    observations: int
    days: tuple[DayLine, ...]
    top_agents: tuple[AgentLine, ...]  # by this week's total, descending
    other_agents: int  # agents with cost this week beyond the top list
    others: Change  # their summed total
    risers: tuple[AgentLine, ...]  # the largest increases against the previous week
    unpriced: tuple[UnpricedLine, ...]
    failed_connections: tuple[ConnectionIssue, ...]
    stale_rates: tuple[RateIssue, ...]
    generated_at: datetime
    agent_count: int  # agents with cost or calls this week

    @property
    def currency(self) -> str:
        return self.fx.currency

    @property
    def total(self) -> Change:
        current = exact_sum((self.llm.current, self.cloud.current))
        return Change(current, exact_sum((self.llm.previous, self.cloud.previous)))

    @property
    def is_empty(self) -> bool:
        """Nothing was recorded this week: no cost, no LLM call, no unpriced usage."""
        return self.total.current == 0 and self.observations == 0 and not self.unpriced

    @property
    def needs_attention(self) -> bool:
        notes = (self.unpriced, self.failed_connections, self.stale_rates, self.fx.stale, self.fx.unavailable)
        return any(bool(note) for note in notes)


@dataclass
class _AgentSums:
    llm: list[Decimal] = field(default_factory=list)
    cloud: list[Decimal] = field(default_factory=list)
    previous: list[Decimal] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    observations: int = 0


def display_name(agent_id: str, names: Mapping[str, str]) -> str:
    return names.get(agent_id) or agent_id


def _sorted_by_total(lines: Iterable[AgentLine]) -> list[AgentLine]:
    return sorted(lines, key=lambda line: (-line.total, line.name.casefold(), line.agent_id))


def build_weekly_report(
    week: str,
    figures: Iterable[AgentDayFigures],
    unpriced: Iterable[UnpricedDayFigures],
    *,
    fx: FxBasis,
    generated_at: datetime,
    names: Mapping[str, str] | None = None,
    failed_connections: Iterable[ConnectionIssue] = (),
    stale_rates: Iterable[RateIssue] = (),
    top_agents: int = DEFAULT_TOP_AGENTS,
    risers: int = DEFAULT_RISERS,
) -> WeeklyReport:
    """The report of ``week`` from per-day, per-agent USD figures covering it and the week before.

    Figures outside the two weeks are ignored. Sums are exact in USD; each sum is then converted once at
    ``fx`` (the same rate for both weeks, so a change in the report is a change in spending, not in the rate).
    """
    names = names or {}
    first, last = parse_iso_week(week)
    before = previous_week(week)
    previous_first, _ = parse_iso_week(before)
    parse_currency(fx.currency)

    agents: dict[str, _AgentSums] = defaultdict(_AgentSums)
    day_llm: dict[date, list[Decimal]] = defaultdict(list)
    day_cloud: dict[date, list[Decimal]] = defaultdict(list)
    previous_llm: list[Decimal] = []
    previous_cloud: list[Decimal] = []
    for row in figures:
        if first <= row.day <= last:
            sums = agents[row.agent_id]
            sums.llm.append(row.llm_usd)
            sums.cloud.append(row.cloud_usd)
            sums.input_tokens += row.input_tokens
            sums.output_tokens += row.output_tokens
            sums.observations += row.observations
            day_llm[row.day].append(row.llm_usd)
            day_cloud[row.day].append(row.cloud_usd)
        elif previous_first <= row.day < first:
            agents[row.agent_id].previous.extend((row.llm_usd, row.cloud_usd))
            previous_llm.append(row.llm_usd)
            previous_cloud.append(row.cloud_usd)

    lines = [
        AgentLine(
            agent_id=agent_id,
            name=display_name(agent_id, names),
            llm=fx.convert(exact_sum(sums.llm)),
            cloud=fx.convert(exact_sum(sums.cloud)),
            previous_total=fx.convert(exact_sum(sums.previous)),
            input_tokens=sums.input_tokens,
            output_tokens=sums.output_tokens,
            observations=sums.observations,
        )
        for agent_id, sums in agents.items()
    ]
    active = _sorted_by_total(line for line in lines if line.total != 0 or line.observations)
    shown, rest = active[:top_agents], active[top_agents:]
    rising = sorted(
        # a rise that rounds to nothing in the reader's currency (0.004 USD) is not news
        (line for line in lines if round_amount(line.change.absolute, fx.currency) > 0),
        key=lambda line: (-line.change.absolute, line.name.casefold(), line.agent_id),
    )

    this_llm = [amount for sums in agents.values() for amount in sums.llm]
    this_cloud = [amount for sums in agents.values() for amount in sums.cloud]
    return WeeklyReport(
        week=iso_week(first),
        first_day=first,
        last_day=last,
        previous_week=before,
        fx=fx,
        llm=Change(fx.convert(exact_sum(this_llm)), fx.convert(exact_sum(previous_llm))),
        cloud=Change(fx.convert(exact_sum(this_cloud)), fx.convert(exact_sum(previous_cloud))),
        input_tokens=sum(sums.input_tokens for sums in agents.values()),
        output_tokens=sum(sums.output_tokens for sums in agents.values()),
        observations=sum(sums.observations for sums in agents.values()),
        days=tuple(
            DayLine(day, fx.convert(exact_sum(day_llm.get(day, ()))), fx.convert(exact_sum(day_cloud.get(day, ()))))
            for day in week_dates(week)
        ),
        top_agents=tuple(shown),
        other_agents=len(rest),
        others=Change(exact_sum(line.total for line in rest), exact_sum(line.previous_total for line in rest)),
        risers=tuple(rising[:risers]),
        unpriced=summarize_unpriced(unpriced, first, last, names),
        failed_connections=tuple(sorted(failed_connections, key=lambda c: (c.name.casefold(), c.connection_id))),
        stale_rates=tuple(stale_rates),  # in the order given (the display order of currencies)
        generated_at=generated_at,
        agent_count=len(active),
    )


def summarize_unpriced(
    rows: Iterable[UnpricedDayFigures], first: date, last: date, names: Mapping[str, str]
) -> tuple[UnpricedLine, ...]:
    """Unpriced usage of the week per model (summed over agents and days), most calls first."""
    calls: dict[str, int] = defaultdict(int)
    inputs: dict[str, int] = defaultdict(int)
    outputs: dict[str, int] = defaultdict(int)
    agents: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if not first <= row.day <= last:
            continue
        calls[row.model] += row.observations
        inputs[row.model] += row.input_tokens
        outputs[row.model] += row.output_tokens
        agents[row.model].add(display_name(row.agent_id, names))
    return tuple(
        UnpricedLine(model, calls[model], inputs[model], outputs[model], tuple(sorted(agents[model], key=str.casefold)))
        for model in sorted(calls, key=lambda m: (-calls[m], -(inputs[m] + outputs[m]), m))
    )


# --- deliveries (MusterReportLog) ------------------------------------------------------------------------------------


class DeliveryStatus(StrEnum):
    SENDING = "sending"  # claimed by a run that is (or was, if the claim is old) handing it to SES
    SENT = "sent"  # SES accepted it: never sent again
    FAILED = "failed"  # SES refused it or the address is unusable: a later run retries, a few times


@dataclass(frozen=True)
class ReportDelivery:
    """One (week, recipient) row of the report log."""

    week: str
    recipient: str  # the normalised address (the key)
    status: DeliveryStatus
    attempts: int = 0
    address: str | None = None  # the address as configured
    claimed_at: datetime | None = None
    message_id: str | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class DeliveryPolicy:
    lease: timedelta = timedelta(minutes=15)  # ≥ Lambda's longest run: an older claim belongs to a dead run
    max_attempts: int = 5

    def claim_cutoff(self, now: datetime) -> datetime:
        """Claims made before this moment are abandoned (their run cannot still be alive) and may be taken over."""
        return now - self.lease


def skip_reason(delivery: ReportDelivery, now: datetime, policy: DeliveryPolicy) -> str:
    """Why a (week, recipient) could not be claimed, for the run summary (the condition in DynamoDB decided)."""
    if delivery.status == DeliveryStatus.SENT:
        return "already_sent"
    if delivery.status == DeliveryStatus.FAILED and delivery.attempts >= policy.max_attempts:
        return "gave_up"
    if delivery.status == DeliveryStatus.SENDING and (
        delivery.claimed_at is None or delivery.claimed_at >= policy.claim_cutoff(now)
    ):
        return "in_progress"
    return "claimed_elsewhere"  # it became claimable between our write and our read: another run took it


def normalize_address(address: str) -> str:
    """The report log's key for an address: trimmed and lower-cased, so ``Ann@X.com`` and ``ann@x.com`` are one."""
    return address.strip().lower()


_PLAIN_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+\.[^\s@<>,;:\"()\[\]\\]+$")


def is_plain_address(address: str) -> bool:
    """A bare ``name@domain.tld`` with nothing that could smuggle another header or recipient in."""
    return bool(_PLAIN_ADDRESS.match(address)) and len(address) <= 254 and address.isprintable()
