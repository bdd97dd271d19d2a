"""Exchange rates: the daily refresh (ECB, BNM, BI → MusterExchangeRate) and the reads the API, CLI and demo use.

Refresh: each source is fetched on its own (one outage never blocks the others), every value is screened
(``shared.domain.fx.screen``: sanity band, day-over-day limit, missing/zero/negative) and only good rows are
written; rows equal to what is stored are not rewritten. Without a window, each source continues from its own
last stored business date (at most ``max_backfill_days`` back); with a window, that window is re-read.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from shared.config import Settings, get_settings
from shared.dal.exchange_rates import ExchangeRateRepository, exchange_rate_repository
from shared.domain.fx import (
    RATE_CURRENCIES,
    SOURCE_BI,
    SOURCE_BNM,
    SOURCE_ECB,
    SOURCE_PREFERENCE,
    SUPPORTED_CURRENCIES,
    USD,
    ExchangeRate,
    RateCandidate,
    RateTable,
    ScreenPolicy,
    ScreenResult,
    bnm_myr_per_usd,
    divergence,
    ecb_cross_rates,
    format_rate,
    is_stale,
    jisdor_idr_per_usd,
    parse_currency,
    screen,
)
from shared.errors import InvalidInputError, RateUnavailableError, SourceError
from shared.observability import MetricUnit, emit_dimensioned_metrics, logger, metrics
from shared.sources.bank_indonesia import BankIndonesiaClient
from shared.sources.bnm import BnmClient, BnmRate
from shared.sources.ecb import EcbClient, EcbDay
from shared.sources.http import RetryingHttp

SOURCES: tuple[str, ...] = (SOURCE_ECB, SOURCE_BNM, SOURCE_BI)
# The currency whose partition tells how far each source has got.
CURSOR_CURRENCY = {SOURCE_ECB: "EUR", SOURCE_BNM: "MYR", SOURCE_BI: "IDR"}
PREVIOUS_RATE_LOOKBACK = timedelta(days=31)  # how far back the day-over-day check looks for the previous rate
CURSOR_LOOKBACK = timedelta(days=366)
MAX_WINDOW_DAYS = 366
DIVERGENCE_WARNING = Decimal("0.015")  # ECB vs BNM/BI on the same day; about 0.2 % is normal
MAX_REJECTIONS_IN_SUMMARY = 50
ONE_DAY = timedelta(days=1)


def utc_now() -> datetime:
    """The clock (one seam, so tests can run the worker "on" a given day)."""
    return datetime.now(UTC)


@dataclass
class FxSources:
    ecb: EcbClient
    bnm: BnmClient
    bi: BankIndonesiaClient

    def http_stats(self) -> dict[str, tuple[int, int]]:
        clients = {SOURCE_ECB: self.ecb.http, SOURCE_BNM: self.bnm.http, SOURCE_BI: self.bi.http}
        return {name: (http.stats.requests, http.stats.retries) for name, http in clients.items()}


def build_sources(
    settings: Settings | None = None,
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FxSources:
    """The three clients, each with its own RetryingHttp (timeouts, bounded retries) and configured base URL."""
    fx = (settings or get_settings()).fx
    session = session or requests.Session()
    session.headers.setdefault("User-Agent", "muster-costs exchange-rates")

    def http(source: str) -> RetryingHttp:
        return RetryingHttp(source, fx.http, session=session, sleep=sleep)

    return FxSources(
        ecb=EcbClient(http(SOURCE_ECB), fx.ecb_base_url),
        bnm=BnmClient(http(SOURCE_BNM), fx.bnm_base_url, fx.bnm_session),
        bi=BankIndonesiaClient(http(SOURCE_BI), fx.bi_base_url),
    )


# --- refresh -----------------------------------------------------------------------------------------------------


@dataclass
class SourceRun:
    """What one source gave in one run."""

    name: str
    candidates: list[RateCandidate] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requested: tuple[date, date] | None = None  # the business dates asked for

    @property
    def status(self) -> str:
        if self.errors:
            return "partial" if self.candidates else "failed"
        return "ok" if self.candidates else "empty"


def has_weekday(first: date, last: date) -> bool:
    """Whether ``[first, last]`` holds a Monday-to-Friday (a possibly missed business day)."""
    day = first
    while day <= last:
        if day.weekday() < 5:
            return True
        day += timedelta(days=1)
    return False


def months_between(first: date, last: date) -> list[tuple[int, int]]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _start_after(cursor: date | None, anchor: date, max_backfill_days: int) -> date:
    """First business date to (re)read: the last stored one (so revisions are seen), at most the backfill back."""
    floor = anchor - timedelta(days=max_backfill_days)
    return floor if cursor is None else min(max(cursor, floor), anchor)


def _fail(run: SourceRun, what: str, exc: SourceError) -> None:
    run.errors.append(f"{what}: {exc}")
    logger.warning("exchange rate source failed", source=run.name, request=what, error=str(exc))


def _missed(first: date, last: date) -> bool:
    """Whether ``[first, last]`` may hold a business day not yet read."""
    return first <= last and has_weekday(first, last)


def _ecb(
    client: EcbClient, window: tuple[date, date] | None, cursor: date | None, max_backfill_days: int, today: date
) -> SourceRun:
    run = SourceRun(SOURCE_ECB)
    try:
        daily = client.daily()
    except SourceError as exc:
        _fail(run, "daily", exc)
        daily = []
    latest = daily[-1].day if daily else None
    if window is not None:
        first, last = window
        gap = (first, last if latest is None else min(last, latest - ONE_DAY))
    else:
        last = latest or today
        first = _start_after(cursor, last, max_backfill_days)
        gap = (first if cursor is None else max(first, cursor + ONE_DAY), last if latest is None else last - ONE_DAY)
    run.requested = (first, last)
    days: dict[date, EcbDay] = {}
    if _missed(*gap):
        try:
            days.update((d.day, d) for d in client.history_90d())
        except SourceError as exc:
            _fail(run, "history_90d", exc)
        if window is not None and days and first < min(days):
            logger.warning(
                "window starts before ECB's 90-day file",
                source=SOURCE_ECB,
                first=first.isoformat(),
                oldest=str(min(days)),
            )
    days.update((d.day, d) for d in daily)  # the daily file wins over the history for its day
    for day in sorted(days):
        if first <= day <= last:
            run.candidates.extend(ecb_cross_rates(day, days[day].rates))
    return run


def _bnm(client: BnmClient, window: tuple[date, date] | None, cursor: date | None, max_backfill_days: int) -> SourceRun:
    run = SourceRun(SOURCE_BNM)
    rows: dict[date, BnmRate] = {}
    if window is not None:
        first, last = window
        months = months_between(first, last)
    else:
        try:
            latest_rows = client.latest(USD)
        except SourceError as exc:
            _fail(run, "latest", exc)
            return run
        if not latest_rows:
            _fail(run, "latest", SourceError("BNM: the latest rates hold no USD row"))
            return run
        rows.update((r.day, r) for r in latest_rows)
        last = max(rows)
        first = _start_after(cursor, last, max_backfill_days)
        gap = (first if cursor is None else max(first, cursor + ONE_DAY), last - ONE_DAY)
        months = months_between(*gap) if _missed(*gap) else []
    run.requested = (first, last)
    for year, month in months:
        try:
            month_rows = client.month(USD, year, month)
        except SourceError as exc:
            _fail(run, f"month {year}-{month:02d}", exc)
            continue
        for row in month_rows:
            rows.setdefault(row.day, row)  # the latest endpoint's row wins for its day
    for day in sorted(rows):
        if first <= day <= last:
            row = rows[day]
            run.candidates.append(bnm_myr_per_usd(day, row.middle, row.unit, client.session, row.buying, row.selling))
    return run


def _bi(
    client: BankIndonesiaClient,
    window: tuple[date, date] | None,
    cursor: date | None,
    max_backfill_days: int,
    today: date,
) -> SourceRun:
    run = SourceRun(SOURCE_BI)
    first, last = window if window is not None else (_start_after(cursor, today, max_backfill_days), today)
    run.requested = (first, last)
    try:
        rows = client.jisdor(first, last)
    except SourceError as exc:
        _fail(run, "jisdor", exc)
        return run
    for row in rows:
        if first <= row.day <= last:
            run.candidates.append(jisdor_idr_per_usd(row.day, row.buying, row.selling, row.unit))
    return run


def _stored_for(repository: ExchangeRateRepository, candidates: Sequence[RateCandidate]) -> list[ExchangeRate]:
    """Stored rows around the candidates (one Query per currency): to compare with, and the previous good rate."""
    stored: list[ExchangeRate] = []
    currencies = sorted({c.currency for c in candidates})
    for currency in currencies:
        days = [c.rate_date for c in candidates if c.currency == currency]
        stored.extend(repository.rates_between(currency, min(days) - PREVIOUS_RATE_LOOKBACK, max(days)))
    return stored


def _log_results(result: ScreenResult) -> None:
    for rejection in result.rejected:
        logger.warning("exchange rate rejected", extra=rejection.as_dict())
    for rate in result.revised:
        logger.info(
            "exchange rate revised",
            currency=rate.currency,
            date=rate.rate_date.isoformat(),
            source=rate.source,
            value=format(rate.units_per_usd, "f"),
        )


def _check_divergence(stored: Iterable[ExchangeRate], written: Sequence[ExchangeRate]) -> int:
    """Warn when a preferred source and ECB disagree by more than 1.5 % on a day written now (both still stored:
    the fixing times differ, so this is a signal for a person, not a reason to drop either)."""
    by_key = {(r.currency, r.rate_date, r.source): r for r in [*stored, *written]}
    new = {(r.currency, r.rate_date) for r in written}
    count = 0
    for (currency, day, source), rate in by_key.items():
        if (currency, day) not in new or source == SOURCE_ECB or SOURCE_PREFERENCE[currency][0] != source:
            continue
        ecb = by_key.get((currency, day, SOURCE_ECB))
        if ecb is not None and divergence(rate.units_per_usd, ecb.units_per_usd) > DIVERGENCE_WARNING:
            count += 1
            logger.warning(
                "exchange rate sources diverge",
                currency=currency,
                date=day.isoformat(),
                source=source,
                value=format(rate.units_per_usd, "f"),
                ecb=format(ecb.units_per_usd, "f"),
            )
    return count


def _emit_source_metrics(
    source: str, rejections: Counter[str], failures: int, age_days: int | None, stale: bool
) -> None:
    """One EMF document per source (dimension ``source``) and per rejection reason (``source``, ``reason``)."""
    values = {
        "StaleExchangeRateSource": (1 if stale else 0, MetricUnit.Count),
        "ExchangeRateSourceFailures": (failures, MetricUnit.Count),
    }
    if age_days is not None:
        values["ExchangeRateAgeDays"] = (age_days, MetricUnit.Count)
    emit_dimensioned_metrics({"source": source}, values)
    for reason, count in sorted(rejections.items()):
        emit_dimensioned_metrics(
            {"source": source, "reason": reason}, {"ExchangeRatesRejected": (count, MetricUnit.Count)}
        )


def _window(window_from: date | None, window_to: date | None, today: date) -> tuple[date, date] | None:
    if window_from is None and window_to is None:
        return None
    last = min(window_to or today, today)
    first = window_from or last
    if first > last:
        raise InvalidInputError(f"the window start {first.isoformat()} is after its end {last.isoformat()}")
    if (last - first).days >= MAX_WINDOW_DAYS:
        raise InvalidInputError(f"a backfill window is at most {MAX_WINDOW_DAYS} days")
    return first, last


def refresh_exchange_rates(
    window_from: date | None = None,
    window_to: date | None = None,
    *,
    sources: FxSources | None = None,
    repository: ExchangeRateRepository | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Fetch, screen and store the rates; return a JSON-able summary. ``window_to`` defaults to today (UTC);
    a window re-reads those business dates from every source (ECB's 90-day file covers about 90 days back)."""
    settings = get_settings()
    fx = settings.fx
    now = (now or utc_now()).astimezone(UTC)
    today = now.date()
    window = _window(window_from, window_to, today)
    repository = repository or exchange_rate_repository()
    sources = sources or build_sources(settings)

    cursors = {
        source: repository.latest_date(currency, source, not_before=today - CURSOR_LOOKBACK)
        for source, currency in CURSOR_CURRENCY.items()
    }
    runs = [
        _ecb(sources.ecb, window, cursors[SOURCE_ECB], fx.max_backfill_days, today),
        _bnm(sources.bnm, window, cursors[SOURCE_BNM], fx.max_backfill_days),
        _bi(sources.bi, window, cursors[SOURCE_BI], fx.max_backfill_days, today),
    ]
    candidates = [c for run in runs for c in run.candidates]
    stored = _stored_for(repository, candidates)
    result = screen(
        candidates,
        stored,
        fetched_at=now,
        today=today,
        policy=ScreenPolicy(day_over_day_limit=fx.day_over_day_limit),
    )
    written = repository.save_rates(result.to_store)
    _log_results(result)
    diverging = _check_divergence(stored, result.to_store)

    rejected_by_source: dict[str, Counter[str]] = {s: Counter() for s in SOURCES}
    for rejection in result.rejected:
        rejected_by_source.setdefault(rejection.candidate.source, Counter())[rejection.reason.value] += 1
    good = [*result.to_store, *result.unchanged]
    stats = sources.http_stats()
    source_summaries: dict[str, Any] = {}
    for run in runs:
        newest = max(
            [d for d in [cursors[run.name]] if d is not None]
            + [r.rate_date for r in good if r.source == run.name and r.currency == CURSOR_CURRENCY[run.name]],
            default=None,
        )
        age = (today - newest).days if newest is not None else None
        stale = age is None or age > fx.staleness_days
        _emit_source_metrics(run.name, rejected_by_source[run.name], len(run.errors), age, stale)
        requests_made, retries = stats[run.name]
        source_summaries[run.name] = {
            "status": run.status,
            "requested": [d.isoformat() for d in run.requested] if run.requested else None,
            "businessDays": len({c.rate_date for c in run.candidates}),
            "newestDate": newest.isoformat() if newest else None,
            "ageDays": age,
            "stale": stale,
            "rejected": sum(rejected_by_source[run.name].values()),
            "requests": requests_made,
            "retries": retries,
            "errors": run.errors,
        }

    metrics.add_metric(name="ExchangeRatesStored", unit=MetricUnit.Count, value=written)
    metrics.add_metric(name="ExchangeRatesUnchanged", unit=MetricUnit.Count, value=len(result.unchanged))
    metrics.add_metric(name="ExchangeRatesRevised", unit=MetricUnit.Count, value=len(result.revised))
    metrics.add_metric(name="ExchangeRatesRejected", unit=MetricUnit.Count, value=len(result.rejected))
    metrics.add_metric(name="ExchangeRateSourceDivergence", unit=MetricUnit.Count, value=diverging)

    table = rate_table(RATE_CURRENCIES, today, today, repository=repository)
    summary: dict[str, Any] = {
        "mode": "backfill" if window else "daily",
        "window": {"from": window[0].isoformat(), "to": window[1].isoformat()} if window else None,
        "fetchedAt": now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "stored": written,
        "unchanged": len(result.unchanged),
        "revised": len(result.revised),
        "rejected": len(result.rejected),
        "rejections": [r.as_dict() for r in result.rejected[:MAX_REJECTIONS_IN_SUMMARY]],
        "divergent": diverging,
        "sources": source_summaries,
        "latest": {row["currency"]: row for row in describe_rates(table, RATE_CURRENCIES, fx.staleness_days)},
    }
    logger.info(
        "exchange rates refreshed",
        mode=summary["mode"],
        stored=written,
        unchanged=len(result.unchanged),
        revised=len(result.revised),
        rejected=len(result.rejected),
        rejected_reasons=dict(Counter(r.reason.value for r in result.rejected)),
        sources={
            name: {k: s[k] for k in ("status", "newestDate", "stale", "errors")} for name, s in source_summaries.items()
        },
    )
    return summary


# --- reads (API, CLI, demo) ----------------------------------------------------------------------------------------


def rate_table(
    currencies: Iterable[str],
    from_day: date,
    to_day: date,
    *,
    repository: ExchangeRateRepository | None = None,
) -> RateTable:
    """Rates to convert figures dated ``from_day``..``to_day``, and at the latest rate: one Query per currency
    (newest first, stopping just before ``from_day``). ``to_day`` is the "as of" day (staleness, USD's date).
    Unknown currencies raise UnsupportedCurrencyError; USD needs no rows."""
    repository = repository or exchange_rate_repository()
    wanted = {parse_currency(c) for c in currencies} - {USD}
    rows: list[ExchangeRate] = []
    expected_days = max(0, (to_day - from_day).days) + 1
    for currency in sorted(wanted):
        rows.extend(repository.rates_for_window(currency, from_day, expected_days))
    return RateTable(rows, as_of=to_day, staleness_days=get_settings().fx.staleness_days)


def describe_rates(
    table: RateTable, currencies: Iterable[str] = SUPPORTED_CURRENCIES, staleness_days: int | None = None
) -> list[dict[str, Any]]:
    """The latest rate per currency as JSON-able rows (CLI ``rates``, the worker summary, the demo)."""
    rows: list[dict[str, Any]] = []
    for currency in currencies:
        try:
            rate = table.latest(currency)
        except RateUnavailableError:  # show the gap instead of failing the listing
            rows.append({"currency": currency, "rate": None, "rateDate": None, "source": None, "fallback": None})
            continue
        rows.append(
            {
                "currency": currency,
                "rate": format(rate.units_per_usd, "f"),
                "displayRate": format_rate(rate.units_per_usd),
                "rateDate": rate.rate_date.isoformat(),
                "source": rate.source,
                "fallback": currency != USD and rate.is_fallback,
                "stale": staleness_days is not None and is_stale(rate, table.as_of, staleness_days),
                "ageDays": (table.as_of - rate.rate_date).days,
                "fetchedAt": rate.fetched_at.isoformat().replace("+00:00", "Z") if rate.fetched_at else None,
            }
        )
    return rows


def latest_rates(
    as_of: date | None = None, *, repository: ExchangeRateRepository | None = None
) -> list[dict[str, Any]]:
    """The latest stored rate of every supported currency (USD first, as 1), with source, date and staleness."""
    as_of = as_of or utc_now().date()
    table = rate_table(RATE_CURRENCIES, as_of, as_of, repository=repository)
    return describe_rates(table, SUPPORTED_CURRENCIES, get_settings().fx.staleness_days)


__all__ = [
    "FxSources",
    "build_sources",
    "describe_rates",
    "latest_rates",
    "rate_table",
    "refresh_exchange_rates",
]


def _event_day(event: Mapping[str, Any], key: str) -> date | None:
    raw = event.get(key)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(str(raw).strip()[:10])  # an ISO timestamp is taken for its date
    except ValueError as exc:
        raise InvalidInputError(f"{key!r} must be a date (YYYY-MM-DD), got {raw!r}") from exc


def run_exchange_rates(event: Mapping[str, Any] | None) -> dict[str, Any]:
    """The worker's entry point: the event's optional ``{"from", "to"}`` window, else continue each source."""
    event = event or {}
    if not isinstance(event, Mapping):
        raise InvalidInputError("the event must be an object")
    return refresh_exchange_rates(_event_day(event, "from"), _event_day(event, "to"))
