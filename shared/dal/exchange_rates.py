"""MusterExchangeRate: units per 1 USD per currency, business date and source.

Key: ``currency`` + ``dateSource`` = ``YYYY-MM-DD#SOURCE``. Each source writes its own rows (ECB cross rates for
every currency, BNM for MYR, BI for IDR); which one is used for a day is decided when reading
(``shared.domain.fx.RateTable``). Items are deterministic: the same rate always produces the same attributes;
``fetchedAt`` is the time of the fetch that first stored this value (unchanged rows are never rewritten).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from shared.config import get_settings
from shared.dal.attributes import DecimalAttribute, ExactJSONAttribute
from shared.dal.binding import bind_model
from shared.dal.factory import cached_repository
from shared.dal.tables import EXCHANGE_RATES
from shared.domain.fx import ExchangeRate, provenance
from shared.errors import StorageError

KEY_SEPARATOR = "#"
AFTER_ANY_SOURCE = "~"  # sorts after every source name: "2026-03-18#~" bounds a whole day


class ExchangeRateModel(Model):
    SPEC = EXCHANGE_RATES

    class Meta:
        table_name = EXCHANGE_RATES.logical_name

    currency = UnicodeAttribute(hash_key=True)
    date_source = UnicodeAttribute(range_key=True, attr_name="dateSource")
    rate_date = UnicodeAttribute(attr_name="rateDate")  # the source's business date, YYYY-MM-DD
    source = UnicodeAttribute()
    units_per_usd = DecimalAttribute(attr_name="unitsPerUsd")
    fetched_at = UnicodeAttribute(attr_name="fetchedAt")  # ISO 8601 UTC, seconds
    derived_from = ExactJSONAttribute(attr_name="derivedFrom")  # the published inputs, as exact strings


def date_source_key(day: date, source: str) -> str:
    return f"{day.isoformat()}{KEY_SEPARATOR}{source}"


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _to_domain(item: ExchangeRateModel) -> ExchangeRate:
    derived: Any = item.derived_from or {}
    return ExchangeRate(
        currency=item.currency,
        rate_date=date.fromisoformat(item.rate_date),
        units_per_usd=item.units_per_usd,
        source=item.source,
        fetched_at=_parse_utc(item.fetched_at) if item.fetched_at else None,
        derived_from=provenance(derived) if isinstance(derived, dict) else (),
    )


def _to_item(rate: ExchangeRate) -> ExchangeRateModel:
    if rate.fetched_at is None:
        raise ValueError("a stored exchange rate needs fetched_at")
    return ExchangeRateModel(
        rate.currency,
        date_source_key(rate.rate_date, rate.source),
        rate_date=rate.rate_date.isoformat(),
        source=rate.source,
        units_per_usd=rate.units_per_usd,
        fetched_at=_iso_utc(rate.fetched_at),
        derived_from=dict(rate.derived_from),
    )


class ExchangeRateRepository:
    def iter_rates(
        self,
        currency: str,
        oldest: date | None = None,
        newest: date | None = None,
        newest_first: bool = True,
        page_size: int = 50,
    ) -> Iterator[ExchangeRate]:
        """One Query over a currency's rows between two business dates (inclusive, all sources), lazily:
        pages are read only as far as the caller iterates."""
        high = (newest.isoformat() if newest else "9999-12-31") + KEY_SEPARATOR + AFTER_ANY_SOURCE
        key = ExchangeRateModel.date_source
        condition = key <= high if oldest is None else key.between(oldest.isoformat(), high)
        try:
            for item in ExchangeRateModel.query(
                currency, condition, scan_index_forward=not newest_first, page_size=page_size
            ):
                yield _to_domain(item)
        except PynamoDBException as exc:
            raise StorageError(f"could not read exchange rates of {currency}: {exc}") from exc

    def rates_between(self, currency: str, oldest: date, newest: date) -> list[ExchangeRate]:
        """Every stored row of a currency in ``[oldest, newest]``, oldest first (one Query)."""
        return list(self.iter_rates(currency, oldest, newest, newest_first=False))

    def latest_date(self, currency: str, source: str, not_before: date | None = None) -> date | None:
        """The newest business date ``source`` has a row for (reads newest first and stops at the first hit)."""
        for rate in self.iter_rates(currency, oldest=not_before, page_size=20):
            if rate.source == source:
                return rate.rate_date
        return None

    def rates_for_window(self, currency: str, from_day: date, expected_days: int = 7) -> list[ExchangeRate]:
        """Rows needed to answer any question about days from ``from_day`` on, oldest first (one Query, newest
        first, stopping early): every row dated ``from_day`` or later, plus all rows of the newest business date
        before it (what a weekend or holiday at the start of the window resolves to). ``expected_days`` sizes the
        pages (about two rows per business day: ECB plus the preferred source)."""
        rows: list[ExchangeRate] = []
        anchor: date | None = None  # the newest date <= from_day seen
        page_size = max(8, min(200, 2 * expected_days + 6))
        for rate in self.iter_rates(currency, page_size=page_size):
            if rate.rate_date < from_day and anchor is not None and rate.rate_date < anchor:
                break
            if rate.rate_date <= from_day and anchor is None:
                anchor = rate.rate_date
            rows.append(rate)
        rows.reverse()
        return rows

    def save_rates(self, rates: Iterable[ExchangeRate]) -> int:
        count = 0
        try:
            with ExchangeRateModel.batch_write() as batch:
                for rate in rates:
                    batch.save(_to_item(rate))
                    count += 1
        except PynamoDBException as exc:
            raise StorageError(f"could not save exchange rates: {exc}") from exc
        return count


@cached_repository
def exchange_rate_repository() -> ExchangeRateRepository:
    bind_model(ExchangeRateModel, get_settings())
    return ExchangeRateRepository()
