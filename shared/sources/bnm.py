"""Bank Negara Malaysia Open API: ringgit per unit (1 or 100) of foreign currency, per session.

Always named session (without one BNM serves 1130, whose middle rate is null), always BNM's ``Accept`` header
(without it BNM answers an HTML 404), and numbers parsed as Decimal (BNM prints float noise such as
``3.9300000000000002``; the published precision is 4 dp, applied in ``shared.domain.fx``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from shared.errors import SourceError, SourceNotFoundError
from shared.sources.ecb import checked_body
from shared.sources.http import RetryingHttp

SOURCE = "BNM"
ACCEPT = "application/vnd.BNM.API.v1+json"
ALL_PATH = "/public/exchange-rate"
MONTH_PATH = "/public/exchange-rate/{currency}/year/{year}/month/{month}"
DATE_PATH = "/public/exchange-rate/{currency}/date/{day}"
QUOTE = "rm"  # ringgit per unit of the foreign currency
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class BnmRate:
    currency: str
    unit: int  # 1 or 100 units of ``currency``
    day: date  # BNM's business date (never meta.last_updated)
    buying: Decimal | None
    selling: Decimal | None
    middle: Decimal | None  # null in session 1130


@dataclass(frozen=True)
class BnmPayload:
    session: str
    quote: str
    rates: tuple[BnmRate, ...]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def _number(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, Decimal) and raw.is_finite():
        return raw
    return None  # strings, objects: not a number BNM would send


def _rate(currency: str, unit: int, raw: Any) -> BnmRate:
    if not isinstance(raw, dict):
        raise SourceError(f"{SOURCE}: rate of {currency} is not an object")
    try:
        day = date.fromisoformat(str(raw.get("date", "")).strip())
    except ValueError as exc:
        raise SourceError(f"{SOURCE}: unreadable date {raw.get('date')!r} for {currency}") from exc
    return BnmRate(
        currency,
        unit,
        day,
        _number(raw.get("buying_rate")),
        _number(raw.get("selling_rate")),
        _number(raw.get("middle_rate")),
    )


def _entry(raw: Any) -> list[BnmRate]:
    if not isinstance(raw, dict):
        raise SourceError(f"{SOURCE}: data entry is not an object")
    currency = str(raw.get("currency_code", "")).strip()
    if not CURRENCY_CODE.match(currency):
        raise SourceError(f"{SOURCE}: unreadable currency code {raw.get('currency_code')!r}")
    unit = raw.get("unit")
    if isinstance(unit, bool) or not isinstance(unit, int) or unit <= 0:
        raise SourceError(f"{SOURCE}: unreadable unit {unit!r} for {currency}")
    rates = raw.get("rate")
    if isinstance(rates, list):  # the month endpoint
        return [_rate(currency, unit, item) for item in rates]
    return [_rate(currency, unit, rates)]


def parse_bnm(body: bytes) -> BnmPayload:
    """Any exchange-rate response: ``data`` a list (all currencies) or an object whose ``rate`` is an object
    (one day) or a list (one month)."""
    try:
        document = json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{SOURCE}: response is not JSON ({type(exc).__name__})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("meta"), dict) or "data" not in document:
        raise SourceError(f"{SOURCE}: response lacks data/meta")
    meta = document["meta"]
    session, quote = meta.get("session"), meta.get("quote")
    if not isinstance(session, str) or not isinstance(quote, str):
        raise SourceError(f"{SOURCE}: meta lacks session/quote")
    data = document["data"]
    entries = data if isinstance(data, list) else [data]
    rates = [rate for entry in entries for rate in _entry(entry)]
    return BnmPayload(session, quote, tuple(rates))


class BnmClient:
    def __init__(self, http: RetryingHttp, base_url: str, session: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.session = session

    def latest(self, currency: str = "USD") -> list[BnmRate]:
        """The latest business day's rate of ``currency`` (from the all-currencies endpoint)."""
        payload = self._get(ALL_PATH, {"session": self.session, "quote": QUOTE})
        return [rate for rate in payload.rates if rate.currency == currency]

    def month(self, currency: str, year: int, month: int) -> list[BnmRate]:
        """Every business day of one month; an empty list when BNM has no records (404) for it."""
        path = MONTH_PATH.format(currency=currency, year=year, month=month)
        return self._records(path, currency)

    def on_date(self, currency: str, day: date) -> list[BnmRate]:
        """One day; empty on weekends and holidays (BNM answers 404 ``No records found.``)."""
        return self._records(DATE_PATH.format(currency=currency, day=day.isoformat()), currency)

    def _records(self, path: str, currency: str) -> list[BnmRate]:
        try:
            payload = self._get(path, {"session": self.session})
        except SourceNotFoundError:
            # A dated query without records is a 404 by design (weekends, holidays, a month not yet begun).
            return []
        return [rate for rate in payload.rates if rate.currency == currency]

    def _get(self, path: str, params: dict[str, str]) -> BnmPayload:
        response = self.http.get(self.base_url + path, params=params, headers={"Accept": ACCEPT})
        payload = parse_bnm(checked_body(SOURCE, response.content, MAX_BODY_BYTES))
        if payload.session != self.session:
            raise SourceError(f"{SOURCE}: asked for session {self.session}, got {payload.session}")
        if payload.quote != QUOTE:
            raise SourceError(f"{SOURCE}: asked for quote {QUOTE!r}, got {payload.quote!r}")
        return payload
