"""Exchange rates: units of a currency per 1 USD, where they come from, how they are screened and used.

Pure: no I/O. The worker turns source payloads into :class:`RateCandidate` values, :func:`screen` decides which
may be stored (never a bad rate), and :class:`RateTable` resolves stored rows into the rate used for a day.

Resolution rule (see docs/decisions.md): for a currency and day, take the newest business date on or before
the day that has any stored row; on that date prefer the currency's preferred source (BNM for MYR, BI for IDR,
ECB otherwise), else the ECB cross rate. A same-day fallback beats an older preferred rate.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from types import MappingProxyType

from shared.domain.money import EXACT, as_text, normalized
from shared.errors import RateUnavailableError, UnsupportedCurrencyError

USD = "USD"
# Order is the display order everywhere (CLI, API docs).
SUPPORTED_CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "MYR", "IDR", "SGD", "AUD", "CHF", "SEK", "NOK", "DKK")
RATE_CURRENCIES: tuple[str, ...] = SUPPORTED_CURRENCIES[1:]  # the ones with stored rates (USD is always 1)

SOURCE_ECB = "ECB"
SOURCE_BNM = "BNM"
SOURCE_BI = "BI"
SOURCE_IDENTITY = "USD"  # the USD "rate" of 1: no source, no lookup

# Sources in order of preference per currency; ECB's cross rate through USD is every currency's last resort.
SOURCE_PREFERENCE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    dict.fromkeys(RATE_CURRENCIES, (SOURCE_ECB,)) | {"MYR": (SOURCE_BNM, SOURCE_ECB), "IDR": (SOURCE_BI, SOURCE_ECB)}
)

# Display decimals per currency (explicit, not a library default). IDR is shown without decimals (CLDR);
# stored amounts and rates are never rounded to these.
MINOR_UNITS: Mapping[str, int] = MappingProxyType(dict.fromkeys(SUPPORTED_CURRENCIES, 2) | {"IDR": 0})

# Plausible units per USD (research/fx.md §5). A rate outside its band is rejected, never stored.
SANITY_BANDS: Mapping[str, tuple[Decimal, Decimal]] = MappingProxyType(
    {
        "EUR": (Decimal("0.6"), Decimal("1.3")),
        "GBP": (Decimal("0.5"), Decimal("1.1")),
        "MYR": (Decimal("2.5"), Decimal("6")),
        "IDR": (Decimal("10000"), Decimal("30000")),
        "SGD": (Decimal("0.9"), Decimal("2.0")),
        "AUD": (Decimal("0.9"), Decimal("2.5")),
        "CHF": (Decimal("0.5"), Decimal("1.5")),
        "SEK": (Decimal("5"), Decimal("15")),
        "NOK": (Decimal("5"), Decimal("15")),
        "DKK": (Decimal("4.5"), Decimal("10")),
    }
)

RATE_SIGNIFICANT_DIGITS = 12  # derived cross rates: far above any published precision, far below float noise
DISPLAY_RATE_SIGNIFICANT_DIGITS = 7  # "0.8695652" in the API's fx block
BNM_DECIMALS = Decimal("0.0001")  # BNM publishes 4 dp; its JSON floats carry binary noise beyond that
BI_DECIMALS = Decimal("0.01")
ONE = Decimal(1)


class RejectReason(StrEnum):
    """Why a rate was not stored. The values are metric dimensions and log fields: keep them stable."""

    MISSING = "missing"  # null, absent or unreadable value (or no USD quote to cross through)
    NOT_POSITIVE = "not_positive"
    INCONSISTENT = "inconsistent"  # e.g. BNM middle rate outside its buying/selling rates
    OUT_OF_BAND = "out_of_band"
    DAY_OVER_DAY = "day_over_day_jump"
    FUTURE_DATE = "future_date"


def parse_currency(code: str) -> str:
    """The canonical code for a supported currency (case-insensitive), else UnsupportedCurrencyError."""
    canonical = code.strip().upper() if isinstance(code, str) else ""
    if canonical not in SUPPORTED_CURRENCIES:
        raise UnsupportedCurrencyError(f"unsupported currency {code!r}; supported: {', '.join(SUPPORTED_CURRENCIES)}")
    return canonical


def preferred_source(currency: str) -> str:
    return SOURCE_PREFERENCE[currency][0] if currency in SOURCE_PREFERENCE else SOURCE_IDENTITY


Provenance = tuple[tuple[str, str], ...]


def provenance(values: Mapping[str, str]) -> Provenance:
    """Inputs a rate was derived from, as a sorted tuple (hashable, and equal after a storage round trip)."""
    return tuple(sorted((str(k), str(v)) for k, v in values.items()))


@dataclass(frozen=True)
class ExchangeRate:
    """``units_per_usd`` units of ``currency`` buy 1 USD on ``rate_date`` (the source's own business date)."""

    currency: str
    rate_date: date
    units_per_usd: Decimal
    source: str
    fetched_at: datetime | None = None
    derived_from: Provenance = ()

    @property
    def is_fallback(self) -> bool:
        """True when the rate comes from another source than the currency's preferred one."""
        return self.source != preferred_source(self.currency)


def identity_rate(day: date) -> ExchangeRate:
    """USD per USD: always 1, no lookup."""
    return ExchangeRate(USD, day, ONE, SOURCE_IDENTITY)


@dataclass(frozen=True)
class RateCandidate:
    """A rate read from a source, not yet screened. ``units_per_usd`` is None when the source gave no usable value;
    ``problem`` is set when the reader already knows the value must not be stored."""

    currency: str
    rate_date: date
    units_per_usd: Decimal | None
    source: str
    derived_from: Provenance = ()
    problem: RejectReason | None = None
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.currency, self.source, self.rate_date)

    def rejected(self, reason: RejectReason, detail: str) -> Rejection:
        return Rejection(self, reason, detail)


@dataclass(frozen=True)
class Rejection:
    candidate: RateCandidate
    reason: RejectReason
    detail: str

    def as_dict(self) -> dict[str, str]:
        value = self.candidate.units_per_usd
        return {
            "currency": self.candidate.currency,
            "date": self.candidate.rate_date.isoformat(),
            "source": self.candidate.source,
            "reason": self.reason.value,
            "value": "" if value is None else format(value, "f"),
            "detail": self.detail,
        }


# --- building candidates from what each source publishes ---------------------------------------------------------


def significant(value: Decimal, digits: int = RATE_SIGNIFICANT_DIGITS) -> Decimal:
    """Round to ``digits`` significant digits, half-up, without trailing zeros."""
    return normalized(Context(prec=digits, rounding=ROUND_HALF_UP).plus(value))


def ecb_cross_rates(
    day: date, eur_rates: Mapping[str, Decimal | None], currencies: Iterable[str] = RATE_CURRENCIES
) -> list[RateCandidate]:
    """X per USD from ECB's X-per-EUR quotes: ``rate_X / rate_USD``; EUR per USD is ``1 / rate_USD``."""
    usd = eur_rates.get(USD)
    candidates = []
    for currency in currencies:
        quote = ONE if currency == "EUR" else eur_rates.get(currency)
        inputs = {"base": "EUR", "USD": _raw(usd)} | ({} if currency == "EUR" else {currency: _raw(quote)})
        if usd is None or quote is None:
            missing = USD if usd is None else currency
            candidates.append(
                RateCandidate(
                    currency, day, None, SOURCE_ECB, provenance(inputs), RejectReason.MISSING, f"no ECB {missing} quote"
                )
            )
            continue
        if usd <= 0 or quote <= 0 or not usd.is_finite() or not quote.is_finite():
            candidates.append(
                RateCandidate(
                    currency,
                    day,
                    None,
                    SOURCE_ECB,
                    provenance(inputs),
                    RejectReason.NOT_POSITIVE,
                    f"ECB quotes USD={_raw(usd)} {currency}={_raw(quote)}",
                )
            )
            continue
        with localcontext(EXACT):
            value = significant(quote / usd)
        candidates.append(RateCandidate(currency, day, value, SOURCE_ECB, provenance(inputs)))
    return candidates


def bnm_myr_per_usd(
    day: date,
    middle: Decimal | None,
    unit: int,
    session: str,
    buying: Decimal | None = None,
    selling: Decimal | None = None,
) -> RateCandidate:
    """MYR per USD from BNM's USD row (``quote=rm``): the middle rate, rounded to BNM's 4 dp, per ``unit`` USD."""
    middle_4dp = _quantize(middle, BNM_DECIMALS)
    inputs = {"quote": "rm", "session": session, "unit": str(unit), "middle": _raw(middle_4dp)}
    if middle_4dp is None:
        return RateCandidate(
            "MYR", day, None, SOURCE_BNM, provenance(inputs), RejectReason.MISSING, f"no middle rate ({session})"
        )
    if middle_4dp <= 0 or unit <= 0:
        return RateCandidate(
            "MYR", day, None, SOURCE_BNM, provenance(inputs), RejectReason.NOT_POSITIVE, f"middle={middle_4dp}"
        )
    buying_4dp, selling_4dp = _quantize(buying, BNM_DECIMALS), _quantize(selling, BNM_DECIMALS)
    if (buying_4dp is not None and buying_4dp > middle_4dp) or (selling_4dp is not None and selling_4dp < middle_4dp):
        return RateCandidate(
            "MYR",
            day,
            None,
            SOURCE_BNM,
            provenance(inputs),
            RejectReason.INCONSISTENT,
            f"buying {buying_4dp} / middle {middle_4dp} / selling {selling_4dp}",
        )
    with localcontext(EXACT):
        value = significant(middle_4dp / unit)
    return RateCandidate("MYR", day, value, SOURCE_BNM, provenance(inputs))


def jisdor_idr_per_usd(day: date, buying: Decimal | None, selling: Decimal | None, unit: Decimal) -> RateCandidate:
    """IDR per USD from a JISDOR row (``beli == jual``; the midpoint if they ever differ), per ``unit`` USD."""
    inputs = {"series": "JISDOR", "unit": _raw(unit), "beli": _raw(buying), "jual": _raw(selling)}
    if buying is None or selling is None:
        return RateCandidate("IDR", day, None, SOURCE_BI, provenance(inputs), RejectReason.MISSING, "no JISDOR value")
    if buying <= 0 or selling <= 0 or unit <= 0:
        return RateCandidate(
            "IDR", day, None, SOURCE_BI, provenance(inputs), RejectReason.NOT_POSITIVE, f"beli={buying} jual={selling}"
        )
    with localcontext(EXACT):
        value = normalized(((buying + selling) / 2 / unit).quantize(BI_DECIMALS, rounding=ROUND_HALF_UP))
    return RateCandidate("IDR", day, value, SOURCE_BI, provenance(inputs))


def _raw(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _quantize(value: Decimal | None, step: Decimal) -> Decimal | None:
    if value is None or not value.is_finite():
        return None
    return value.quantize(step, rounding=ROUND_HALF_UP)


# --- screening: nothing implausible is ever stored ------------------------------------------------------------------


@dataclass(frozen=True)
class ScreenResult:
    to_store: tuple[ExchangeRate, ...]  # new rows, or rows whose value/provenance changed (revisions)
    unchanged: tuple[ExchangeRate, ...]  # identical to what is stored: not rewritten
    rejected: tuple[Rejection, ...]
    revised: tuple[ExchangeRate, ...] = ()  # the subset of to_store that replaces a different stored value


@dataclass(frozen=True)
class ScreenPolicy:
    day_over_day_limit: Decimal = Decimal("0.10")
    bands: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=lambda: SANITY_BANDS)
    future_tolerance: timedelta = timedelta(days=1)  # sources in UTC+7/+8 are a day ahead of UTC at night


def screen(
    candidates: Iterable[RateCandidate],
    stored: Iterable[ExchangeRate],
    *,
    fetched_at: datetime,
    today: date,
    policy: ScreenPolicy | None = None,
) -> ScreenResult:
    """Decide which candidates may be stored.

    Each (currency, source) series is walked oldest first; a candidate is checked against its currency's sanity
    band and against the previous good rate of the same series (stored, or accepted earlier in this walk): a move
    beyond ``day_over_day_limit`` is rejected. A candidate equal to the stored row is left alone (the stored
    ``fetched_at`` is kept, so re-runs rewrite nothing). Duplicate candidates: the last one wins.
    """
    policy = policy or ScreenPolicy()
    latest: dict[tuple[str, str, date], RateCandidate] = {}
    for candidate in candidates:
        latest[candidate.key] = candidate
    by_series: dict[tuple[str, str], dict[date, ExchangeRate]] = defaultdict(dict)
    for row in stored:
        by_series[(row.currency, row.source)][row.rate_date] = row

    to_store: list[ExchangeRate] = []
    unchanged: list[ExchangeRate] = []
    revised: list[ExchangeRate] = []
    rejected: list[Rejection] = []
    for candidate in sorted(latest.values(), key=lambda c: (c.currency, c.source, c.rate_date)):
        series = by_series[(candidate.currency, candidate.source)]
        previous = _previous(series, candidate.rate_date)
        problem = _problem(candidate, previous, today, policy)
        if problem is not None:
            rejected.append(candidate.rejected(*problem))
            continue
        assert candidate.units_per_usd is not None  # _problem rejects missing values
        existing = series.get(candidate.rate_date)
        if (
            existing is not None
            and existing.units_per_usd == candidate.units_per_usd
            and existing.derived_from == candidate.derived_from
        ):
            unchanged.append(existing)
            continue
        rate = ExchangeRate(
            candidate.currency,
            candidate.rate_date,
            candidate.units_per_usd,
            candidate.source,
            fetched_at,
            candidate.derived_from,
        )
        to_store.append(rate)
        if existing is not None:
            revised.append(rate)
        series[candidate.rate_date] = rate
    return ScreenResult(tuple(to_store), tuple(unchanged), tuple(rejected), tuple(revised))


def _previous(series: Mapping[date, ExchangeRate], day: date) -> ExchangeRate | None:
    earlier = [d for d in series if d < day]
    return series[max(earlier)] if earlier else None


def _problem(
    candidate: RateCandidate, previous: ExchangeRate | None, today: date, policy: ScreenPolicy
) -> tuple[RejectReason, str] | None:
    value = candidate.units_per_usd
    if candidate.problem is not None:
        return candidate.problem, candidate.detail or candidate.problem.value
    if value is None or not value.is_finite():
        return RejectReason.MISSING, "no value"
    if value <= 0:
        return RejectReason.NOT_POSITIVE, f"{value} is not positive"
    if candidate.rate_date > today + policy.future_tolerance:
        return RejectReason.FUTURE_DATE, f"dated {candidate.rate_date.isoformat()}, after {today.isoformat()}"
    band = policy.bands.get(candidate.currency)
    if band is not None and not band[0] <= value <= band[1]:
        return RejectReason.OUT_OF_BAND, f"{value} outside {band[0]}..{band[1]}"
    if previous is not None:
        with localcontext(EXACT):
            move = abs(value - previous.units_per_usd) / previous.units_per_usd
        if move > policy.day_over_day_limit:
            return (
                RejectReason.DAY_OVER_DAY,
                f"{value} moves {significant(move * 100, 3)} % from {previous.units_per_usd} "
                f"({previous.rate_date.isoformat()}); limit {policy.day_over_day_limit * 100} %",
            )
    return None


def divergence(first: Decimal, second: Decimal) -> Decimal:
    """Relative difference of two rates for the same day (a cross-source plausibility check)."""
    with localcontext(EXACT):
        return abs(first - second) / second


# --- conversion ----------------------------------------------------------------------------------------------------


def convert(amount_usd: Decimal, rate: ExchangeRate | Decimal) -> Decimal:
    """``amount_usd`` in the rate's currency, exact (no rounding; round only with :func:`format_amount`)."""
    units = rate.units_per_usd if isinstance(rate, ExchangeRate) else rate
    with localcontext(EXACT):
        return amount_usd * units


@dataclass(frozen=True)
class Conversion:
    """An amount converted from USD, with the basis of the conversion."""

    amount: Decimal  # exact
    currency: str
    rate: Decimal  # units of ``currency`` per 1 USD
    rate_date: date
    source: str
    fallback: bool = False  # the currency's preferred source had no rate; another source's was used
    stale: bool = False  # the rate is older than the staleness window (used anyway, see docs/decisions.md)

    @property
    def rounded(self) -> Decimal:
        return round_amount(self.amount, self.currency)

    @property
    def text(self) -> str:
        return format_amount(self.amount, self.currency)

    def fx_block(self) -> dict[str, str]:
        """The API's ``fx`` object: ``{"rate", "rateDate", "source"}``."""
        return {"rate": format_rate(self.rate), "rateDate": self.rate_date.isoformat(), "source": self.source}


def conversion(
    amount_usd: Decimal, rate: ExchangeRate, *, as_of: date | None = None, staleness_days: int | None = None
) -> Conversion:
    stale = as_of is not None and staleness_days is not None and is_stale(rate, as_of, staleness_days)
    return Conversion(
        convert(amount_usd, rate),
        rate.currency,
        rate.units_per_usd,
        rate.rate_date,
        rate.source,
        fallback=rate.currency != USD and rate.is_fallback,
        stale=stale,
    )


def is_stale(rate: ExchangeRate, as_of: date, staleness_days: int) -> bool:
    return rate.currency != USD and (as_of - rate.rate_date).days > staleness_days


def round_amount(amount: Decimal, currency: str) -> Decimal:
    places = MINOR_UNITS[parse_currency(currency)]
    return amount.quantize(ONE.scaleb(-places), rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str, grouping: bool = False) -> str:
    """Display text in the currency's minor units, half-up: ``1234.57`` (USD), ``16994`` (IDR)."""
    value = round_amount(amount, currency)
    return f"{value:,f}" if grouping else f"{value:f}"


def format_rate(rate: Decimal) -> str:
    """A rate for display: 7 significant digits, no trailing zeros (``0.8695652``, ``16994``)."""
    return as_text(significant(rate, DISPLAY_RATE_SIGNIFICANT_DIGITS))


# --- resolving stored rows -------------------------------------------------------------------------------------------


def _source_rank(currency: str, source: str) -> tuple[int, str]:
    order = SOURCE_PREFERENCE.get(currency, ())
    return (order.index(source), "") if source in order else (len(order), source)


def resolve_day(rows: Iterable[ExchangeRate]) -> ExchangeRate:
    """The row used for one currency and date: the most preferred source present."""
    return min(rows, key=lambda r: _source_rank(r.currency, r.source))


class RateTable:
    """Stored rates of several currencies, resolved per business date (one winner per currency and date).

    ``as_of`` (the day a "latest" question is asked, usually today) dates USD's identity rate and judges
    staleness; ``staleness_days`` marks, but does not refuse, rates older than the window.
    """

    def __init__(self, rates: Iterable[ExchangeRate], as_of: date, staleness_days: int | None = None) -> None:
        grouped: dict[str, dict[date, list[ExchangeRate]]] = defaultdict(lambda: defaultdict(list))
        for rate in rates:
            if rate.currency in SOURCE_PREFERENCE:
                grouped[rate.currency][rate.rate_date].append(rate)
        self._days: dict[str, list[date]] = {}
        self._rates: dict[str, list[ExchangeRate]] = {}
        for currency, by_day in grouped.items():
            days = sorted(by_day)
            self._days[currency] = days
            self._rates[currency] = [resolve_day(by_day[day]) for day in days]
        self.as_of = as_of
        self.staleness_days = staleness_days

    def __len__(self) -> int:
        return sum(len(days) for days in self._days.values())

    def currencies(self) -> tuple[str, ...]:
        return tuple(c for c in RATE_CURRENCIES if c in self._rates)

    def resolved(self, currency: str) -> tuple[ExchangeRate, ...]:
        """Every resolved rate of a currency, oldest first."""
        return tuple(self._rates.get(parse_currency(currency), ()))

    def latest(self, currency: str) -> ExchangeRate:
        currency = parse_currency(currency)
        if currency == USD:
            return identity_rate(self.as_of)
        rates = self._rates.get(currency)
        if not rates:
            raise RateUnavailableError(f"no exchange rate stored for {currency}")
        return rates[-1]

    def on_or_before(self, currency: str, day: date) -> ExchangeRate:
        """The rate of ``day``, or of the newest business date before it (weekends, holidays)."""
        currency = parse_currency(currency)
        if currency == USD:
            return identity_rate(day)
        days = self._days.get(currency, [])
        index = bisect_right(days, day)
        if index == 0:
            raise RateUnavailableError(f"no exchange rate for {currency} on or before {day.isoformat()}")
        return self._rates[currency][index - 1]

    def for_day(self, currency: str, day: date) -> ExchangeRate:
        """Like :meth:`on_or_before`, but a day before the first stored rate takes the oldest stored rate
        (flag it as stale through :meth:`convert`) rather than failing the whole request."""
        try:
            return self.on_or_before(currency, day)
        except RateUnavailableError:
            rates = self._rates.get(parse_currency(currency))
            if not rates:
                raise
            return rates[0]

    def convert(self, amount_usd: Decimal, currency: str, day: date | None = None) -> Conversion:
        """Convert at the latest rate (``day`` None) or at the rate of ``day`` (each cost at its own date)."""
        rate = self.latest(currency) if day is None else self.for_day(currency, day)
        as_of = day if day is not None else self.as_of
        stale = self.staleness_days is not None and is_stale(rate, as_of, self.staleness_days)
        if day is not None and rate.rate_date > day:
            stale = True  # a rate from after the day (no earlier rate exists)
        return replace(conversion(amount_usd, rate), stale=stale)
