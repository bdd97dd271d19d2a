"""Cost views: query windows, conversion to the display currency, zero-filled series, per-agent lines, top agents.

Pure: no I/O. The services read rollups or rows and hand them here; the API and the weekly report map the views.

Rules every view keeps (docs/decisions.md, "Cost API"):

- Sums are made in exact USD per (agent, day); each dated figure is converted at the rate of its mode (the latest
  rate, or the rate of its own day) by exact multiplication, and converted figures are added exactly. Nothing is
  rounded, so ``totalCost == llmCost + cloudCost``, ``Σ daily == totals`` and ``Σ agents == totals`` hold exactly,
  in every currency and both fx modes.
- ``inputTokens`` = input + cached read + cache write (all prompt-side tokens); ``outputTokens`` = output +
  reasoning; ``observations`` = LLM calls (priced and unpriced).
- Usage without a price is listed as unpriced (tokens, calls), never counted as $0 in silence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from enum import StrEnum
from typing import Protocol

from shared.domain.agents import UNATTRIBUTED
from shared.domain.cloud import UNALLOCATED_PREFIX, CloudCostRow, is_unallocated
from shared.domain.fx import USD, ExchangeRate, RateTable, preferred_source
from shared.domain.llm import DailyLlmCost
from shared.domain.money import ZERO
from shared.domain.usage import TokenCounts
from shared.errors import InvalidInputError

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 366
TOP_AGENTS = 5  # summary's topAgents: few enough that their names cost at most 5 reads
PERCENT_PLACES = Decimal("0.01")
# Exact money arithmetic: a result that would need rounding raises instead (it cannot happen with stored figures,
# which have at most ~25 significant digits; a silent rounding would break reconciliation).
MONEY = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[Inexact, InvalidOperation, Overflow, DivisionByZero])
_RATIO = Context(prec=40, rounding=ROUND_HALF_UP)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- windows ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """UTC days ``start``..``end``, both inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def parse_day(value: str, what: str) -> date:
    """A UTC day written ``YYYY-MM-DD``."""
    text = value.strip() if isinstance(value, str) else ""
    if not _ISO_DAY.match(text):
        raise InvalidInputError(f"'{what}' must be a date written YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"'{what}' is not a valid date: {value!r}") from exc


def query_window(today: date, days: int | None = None, first: str | None = None, last: str | None = None) -> Window:
    """``days`` ending today (default 30), or ``from``..``to`` inclusive; at most 366 days either way."""
    if days is not None and (first is not None or last is not None):
        raise InvalidInputError("give either 'days' or 'from' and 'to', not both")
    if first is not None or last is not None:
        if first is None or last is None:
            raise InvalidInputError("'from' and 'to' go together: give both")
        start, end = parse_day(first, "from"), parse_day(last, "to")
        if start > end:
            raise InvalidInputError(f"'from' {start.isoformat()} is after 'to' {end.isoformat()}")
        if (end - start).days + 1 > MAX_WINDOW_DAYS:
            raise InvalidInputError(f"a window is at most {MAX_WINDOW_DAYS} days")
        return Window(start, end)
    count = DEFAULT_WINDOW_DAYS if days is None else days
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_WINDOW_DAYS:
        raise InvalidInputError(f"'days' must be a whole number from 1 to {MAX_WINDOW_DAYS}, got {days!r}")
    return Window(today - timedelta(days=count - 1), today)


def month_to_date(today: date) -> Window:
    return Window(today.replace(day=1), today)


# --- conversion ------------------------------------------------------------------------------------------------


class FxMode(StrEnum):
    LATEST = "latest"  # every figure at the latest stored rate (the product's default)
    DAILY = "daily"  # each day's figures at the rate of that day


def parse_fx_mode(value: str | None) -> FxMode:
    if value is None:
        return FxMode.LATEST
    try:
        return FxMode(value)
    except ValueError as exc:
        raise InvalidInputError(f"'fx' must be 'latest' or 'daily', got {value!r}") from exc


@dataclass(frozen=True)
class FxBasis:
    """How figures were converted: the API's ``fx`` block.

    Latest mode: one ``rate`` (units of ``currency`` per 1 USD) dated ``rate_date`` from ``sources[0]``.
    Daily mode: each day at its own rate; the rates used are dated ``rate_date_from``..``rate_date_to``.
    ``stale``: some rate used is older than the staleness window (or, in daily mode, dated after its day);
    ``fallback``: some rate came from a fallback source (e.g. ECB's cross rate for MYR when BNM had none).
    """

    mode: FxMode
    currency: str
    sources: tuple[str, ...]
    stale: bool
    fallback: bool
    rate: Decimal | None = None
    rate_date: date | None = None
    rate_date_from: date | None = None
    rate_date_to: date | None = None


class Converter:
    """Converts USD figures dated by day into the display currency, exactly, under one fx mode."""

    def __init__(self, basis: FxBasis, rates: Mapping[date, Decimal], undated_rate: Decimal) -> None:
        self.basis = basis
        self._rates = dict(rates)
        self.undated_rate = undated_rate  # for amounts without a day (the allowance)

    @property
    def currency(self) -> str:
        return self.basis.currency

    def rate(self, day: date) -> Decimal:
        return self._rates[day]

    def amount(self, usd: Decimal, day: date) -> Decimal:
        return MONEY.multiply(usd, self._rates[day])

    def undated(self, usd: Decimal) -> Decimal:
        return MONEY.multiply(usd, self.undated_rate)


def _is_stale(rate: ExchangeRate, day: date, today: date, staleness_days: int) -> bool:
    """A rate used for ``day`` (judged as of ``today`` for days still to come) is stale when it is more than
    ``staleness_days`` older than that day, or dated after it (a day before the first stored rate)."""
    if rate.currency == USD:
        return False
    as_of = min(day, today)
    return (as_of - rate.rate_date).days > staleness_days or rate.rate_date > day


def _fallback(rate: ExchangeRate) -> bool:
    return rate.currency != USD and rate.source != preferred_source(rate.currency)


def make_converter(
    table: RateTable, currency: str, mode: FxMode, days: Sequence[date], today: date, staleness_days: int
) -> Converter:
    """Resolve the rate of each day (RateUnavailableError when the currency has no stored rate at all)."""
    if mode is FxMode.LATEST:
        rate = table.latest(currency)
        basis = FxBasis(
            mode=mode,
            currency=currency,
            sources=(rate.source,),
            stale=_is_stale(rate, today, today, staleness_days),
            fallback=_fallback(rate),
            rate=rate.units_per_usd,
            rate_date=rate.rate_date,
        )
        return Converter(basis, dict.fromkeys(days, rate.units_per_usd), rate.units_per_usd)
    used = {day: table.for_day(currency, day) for day in days} or {today: table.for_day(currency, today)}
    rates = list(used.values())
    last_rate = used[max(used)]
    basis = FxBasis(
        mode=mode,
        currency=currency,
        sources=tuple(sorted({r.source for r in rates})),
        stale=any(_is_stale(r, day, today, staleness_days) for day, r in used.items()),
        fallback=any(_fallback(r) for r in rates),
        rate_date_from=min(r.rate_date for r in rates),
        rate_date_to=max(r.rate_date for r in rates),
    )
    return Converter(basis, {day: r.units_per_usd for day, r in used.items()}, last_rate.units_per_usd)


# --- inputs (structural: the rollup items and daily rows satisfy these) -----------------------------------------


class LlmDayFigures(Protocol):
    @property
    def cost(self) -> Decimal: ...
    @property
    def tokens(self) -> TokenCounts: ...
    @property
    def observations(self) -> int: ...
    @property
    def unpriced(self) -> Sequence[tuple[str, int, TokenCounts]]: ...


class CloudDayFigures(Protocol):
    @property
    def cost(self) -> Decimal: ...


class OrgDay(Protocol):
    """One day of the organization rollup: every agent's LLM and cloud figures of that day (in USD)."""

    @property
    def date(self) -> str: ...
    @property
    def llm(self) -> Mapping[str, LlmDayFigures]: ...
    @property
    def cloud(self) -> Mapping[str, CloudDayFigures]: ...


# --- outputs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayLine:
    """One day of a series, in the display currency."""

    date: date
    llm_cost: Decimal = ZERO
    cloud_cost: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    observations: int = 0

    @property
    def total_cost(self) -> Decimal:
        return MONEY.add(self.llm_cost, self.cloud_cost)


@dataclass(frozen=True)
class Totals:
    llm_cost: Decimal = ZERO
    cloud_cost: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    observations: int = 0

    @property
    def total_cost(self) -> Decimal:
        return MONEY.add(self.llm_cost, self.cloud_cost)


@dataclass(frozen=True)
class AgentLine:
    agent_id: str
    name: str
    llm_cost: Decimal
    cloud_cost: Decimal
    input_tokens: int
    output_tokens: int
    observations: int
    trend: tuple[DayLine, ...] = ()  # one per window day, zeros included (empty when not asked for)

    @property
    def total_cost(self) -> Decimal:
        return MONEY.add(self.llm_cost, self.cloud_cost)


@dataclass(frozen=True)
class UnpricedLine:
    """Usage of a model with no configured price: counted, shown, never priced by guess."""

    model: str
    observations: int
    input_tokens: int
    output_tokens: int
    tokens: TokenCounts = field(default_factory=TokenCounts)


@dataclass(frozen=True)
class ModelLine:
    model: str
    cost: Decimal
    observations: int
    tokens: TokenCounts

    @property
    def input_tokens(self) -> int:
        return self.tokens.input_side

    @property
    def output_tokens(self) -> int:
        return self.tokens.output_side


@dataclass(frozen=True)
class ServiceLine:
    service: str
    cost: Decimal


@dataclass(frozen=True)
class SummaryView:
    currency: str
    fx: FxBasis
    window: Window
    totals: Totals
    daily: tuple[DayLine, ...]
    top_agents: tuple[AgentLine, ...]
    unpriced: tuple[UnpricedLine, ...]


@dataclass(frozen=True)
class AgentsView:
    currency: str
    fx: FxBasis
    window: Window
    agents: tuple[AgentLine, ...]


@dataclass(frozen=True)
class AgentDetailView:
    currency: str
    fx: FxBasis
    window: Window
    agent: AgentLine
    by_model: tuple[ModelLine, ...]
    by_service: tuple[ServiceLine, ...]
    unpriced: tuple[UnpricedLine, ...]


@dataclass(frozen=True)
class PeriodView:
    currency: str
    fx: FxBasis
    period: Window
    configured: bool  # False: no period is set, so this is the month to date
    total_cost: Decimal
    allowance: Decimal | None = None
    percent_used: Decimal | None = None


# --- names -----------------------------------------------------------------------------------------------------


def display_name(agent_id: str) -> str:
    """The name of an id no agent record names: the reserved ids say what they hold."""
    if is_unallocated(agent_id):
        return f"Unallocated ({agent_id[len(UNALLOCATED_PREFIX) :]})"
    if agent_id == UNATTRIBUTED:
        return "Unattributed (no trace name)"
    return agent_id


def with_names(agents: Iterable[AgentLine], names: Mapping[str, str]) -> tuple[AgentLine, ...]:
    return tuple(replace(a, name=names[a.agent_id]) if a.agent_id in names else a for a in agents)


# --- the organization window (from the per-day rollup) -----------------------------------------------------------


class _Acc:
    """Running figures of one agent or day (display currency), mutable while accumulating."""

    __slots__ = ("cloud", "input_tokens", "llm", "observations", "output_tokens")

    def __init__(self) -> None:
        self.llm = ZERO
        self.cloud = ZERO
        self.input_tokens = 0
        self.output_tokens = 0
        self.observations = 0

    def add_llm(self, cost: Decimal, tokens: TokenCounts, observations: int) -> None:
        self.llm = MONEY.add(self.llm, cost)
        self.input_tokens += tokens.input_side
        self.output_tokens += tokens.output_side
        self.observations += observations

    def add_cloud(self, cost: Decimal) -> None:
        self.cloud = MONEY.add(self.cloud, cost)

    def day(self, day: date) -> DayLine:
        return DayLine(day, self.llm, self.cloud, self.input_tokens, self.output_tokens, self.observations)


@dataclass(frozen=True)
class WindowFigures:
    """Everything the organization views need from one window of rollup days."""

    totals: Totals
    daily: tuple[DayLine, ...]
    agents: tuple[AgentLine, ...]  # by total cost, descending (then agent id); names are display defaults
    unpriced: tuple[UnpricedLine, ...]


def _ranked(agents: Iterable[AgentLine]) -> tuple[AgentLine, ...]:
    return tuple(sorted(agents, key=lambda a: (-a.total_cost, a.agent_id)))


def window_figures(
    days: Iterable[OrgDay], window: Window, converter: Converter, with_trend: bool = False
) -> WindowFigures:
    """Fold rollup days into totals, a zero-filled daily series, per-agent lines (with a zero-filled trend when
    asked) and unpriced usage per model. Days outside the window are ignored."""
    by_date = {day.date: day for day in days}
    agents: dict[str, _Acc] = {}
    trends: dict[str, dict[date, _Acc]] = {}
    unpriced: dict[str, list[int]] = {}  # model -> [observations, 5 token buckets]
    daily: list[DayLine] = []
    for day in window.dates():
        rollup = by_date.get(day.isoformat())
        acc = _Acc()
        if rollup is not None:
            for agent_id, llm in rollup.llm.items():
                cost = converter.amount(llm.cost, day)
                acc.add_llm(cost, llm.tokens, llm.observations)
                agents.setdefault(agent_id, _Acc()).add_llm(cost, llm.tokens, llm.observations)
                if with_trend:
                    trends.setdefault(agent_id, {}).setdefault(day, _Acc()).add_llm(cost, llm.tokens, llm.observations)
                for model, observations, tokens in llm.unpriced:
                    counts = unpriced.setdefault(model, [0, 0, 0, 0, 0, 0])
                    counts[0] += observations
                    for i, value in enumerate(tokens.as_tuple(), start=1):
                        counts[i] += value
            for agent_id, cloud in rollup.cloud.items():
                cost = converter.amount(cloud.cost, day)
                acc.add_cloud(cost)
                agents.setdefault(agent_id, _Acc()).add_cloud(cost)
                if with_trend:
                    trends.setdefault(agent_id, {}).setdefault(day, _Acc()).add_cloud(cost)
        daily.append(acc.day(day))
    totals = _totals(daily)
    lines = []
    for agent_id, acc in agents.items():
        trend: tuple[DayLine, ...] = ()
        if with_trend:
            per_day = trends.get(agent_id, {})
            trend = tuple(per_day[d].day(d) if d in per_day else DayLine(d) for d in window.dates())
        lines.append(
            AgentLine(
                agent_id,
                display_name(agent_id),
                acc.llm,
                acc.cloud,
                acc.input_tokens,
                acc.output_tokens,
                acc.observations,
                trend,
            )
        )
    return WindowFigures(totals, tuple(daily), _ranked(lines), _unpriced_lines(unpriced))


def _totals(daily: Sequence[DayLine]) -> Totals:
    llm = cloud = ZERO
    for line in daily:
        llm = MONEY.add(llm, line.llm_cost)
        cloud = MONEY.add(cloud, line.cloud_cost)
    return Totals(
        llm,
        cloud,
        sum(line.input_tokens for line in daily),
        sum(line.output_tokens for line in daily),
        sum(line.observations for line in daily),
    )


def _unpriced_lines(unpriced: Mapping[str, list[int]]) -> tuple[UnpricedLine, ...]:
    lines = []
    for model, counts in unpriced.items():
        tokens = TokenCounts.of(counts[1:])
        lines.append(UnpricedLine(model, counts[0], tokens.input_side, tokens.output_side, tokens))
    return tuple(sorted(lines, key=lambda u: (-u.observations, u.model)))


def summary_view(
    figures: WindowFigures, window: Window, converter: Converter, names: Mapping[str, str], top: int = TOP_AGENTS
) -> SummaryView:
    return SummaryView(
        currency=converter.currency,
        fx=converter.basis,
        window=window,
        totals=figures.totals,
        daily=figures.daily,
        top_agents=with_names(figures.agents[:top], names),
        unpriced=figures.unpriced,
    )


def agents_view(figures: WindowFigures, window: Window, converter: Converter, names: Mapping[str, str]) -> AgentsView:
    return AgentsView(converter.currency, converter.basis, window, with_names(figures.agents, names))


def period_view(
    days: Iterable[OrgDay],
    period: Window,
    configured: bool,
    converter: Converter,
    allowance_usd: Decimal | None,
) -> PeriodView:
    """The period's total in the display currency; with an allowance (USD), the allowance converted at the rate
    of the period's last day in daily mode (the latest rate otherwise) and the share used, computed in USD and
    rounded half-up to 2 places (so it does not depend on the display currency)."""
    total = ZERO
    total_usd = ZERO
    for day in days:
        when = date.fromisoformat(day.date)
        if when not in period:
            continue
        for figures in (*day.llm.values(), *day.cloud.values()):
            total = MONEY.add(total, converter.amount(figures.cost, when))
            total_usd = MONEY.add(total_usd, figures.cost)
    if allowance_usd is None:
        return PeriodView(converter.currency, converter.basis, period, configured, total)
    percent = _RATIO.divide(_RATIO.multiply(total_usd, Decimal(100)), allowance_usd).quantize(
        PERCENT_PLACES, rounding=ROUND_HALF_UP
    )
    return PeriodView(
        converter.currency, converter.basis, period, configured, total, converter.undated(allowance_usd), percent
    )


# --- one agent (from its daily LLM rows and cloud rows) ------------------------------------------------------------


def agent_detail_view(
    agent_id: str,
    name: str,
    llm_days: Iterable[DailyLlmCost],
    cloud_rows: Iterable[CloudCostRow],
    window: Window,
    converter: Converter,
) -> AgentDetailView:
    """One agent over a window: the agents-list line (with its trend), cost and tokens per model, cost per AWS
    service, and unpriced usage. Each day's figures are converted at that day's rate before they are added."""
    per_day: dict[date, _Acc] = {}
    models: dict[str, tuple[Decimal, int, TokenCounts]] = {}
    services: dict[str, Decimal] = {}
    unpriced: dict[str, list[int]] = {}
    for llm in llm_days:
        day = date.fromisoformat(llm.date)
        if day not in window:
            continue
        per_day.setdefault(day, _Acc()).add_llm(converter.amount(llm.cost, day), llm.tokens, llm.observations)
        for usage in llm.by_model:
            cost, observations, tokens = models.get(usage.model, (ZERO, 0, TokenCounts()))
            models[usage.model] = (
                MONEY.add(cost, converter.amount(usage.cost, day)),
                observations + usage.observations,
                tokens + usage.tokens,
            )
        for usage in llm.unpriced:
            counts = unpriced.setdefault(usage.model, [0, 0, 0, 0, 0, 0])
            counts[0] += usage.observations
            for i, value in enumerate(usage.tokens.as_tuple(), start=1):
                counts[i] += value
    for row in cloud_rows:
        if row.day not in window:
            continue
        cost = converter.amount(row.unblended_cost, row.day)
        per_day.setdefault(row.day, _Acc()).add_cloud(cost)
        services[row.service] = MONEY.add(services.get(row.service, ZERO), cost)
    trend = tuple(per_day[d].day(d) if d in per_day else DayLine(d) for d in window.dates())
    totals = _totals(trend)
    line = AgentLine(
        agent_id,
        name,
        totals.llm_cost,
        totals.cloud_cost,
        totals.input_tokens,
        totals.output_tokens,
        totals.observations,
        trend,
    )
    by_model = tuple(
        sorted(
            (ModelLine(model, cost, observations, tokens) for model, (cost, observations, tokens) in models.items()),
            key=lambda m: (-m.cost, m.model),
        )
    )
    by_service = tuple(sorted((ServiceLine(s, c) for s, c in services.items()), key=lambda s: (-s.cost, s.service)))
    return AgentDetailView(
        converter.currency, converter.basis, window, line, by_model, by_service, _unpriced_lines(unpriced)
    )


# --- text ------------------------------------------------------------------------------------------------------


def amount_text(value: Decimal) -> str:
    """An exact decimal as plain text without trailing zeros or exponent (``12.5``, ``0``, ``1200``)."""
    if value == 0:
        return "0"
    return format(value.normalize(MONEY), "f")
