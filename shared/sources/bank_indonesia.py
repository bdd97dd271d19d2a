"""Bank Indonesia ``wskursbi.asmx`` over plain HTTP GET: JISDOR (the official USD/IDR reference rate).

The answer is an ADO.NET DataSet diffgram; rows are matched by local names (root in the tempuri namespace, rows in
none), field names carry a table suffix (``_subkursasing`` for JISDOR, ``_subkurslokal`` for Kurs Transaksi),
currency codes are padded (``"USD  "``) and dates carry BI's own ``+07:00`` offset, whose date part is the
business date (converting to UTC would give the previous day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from shared.errors import SourceError
from shared.sources.ecb import checked_body, local_name, parse_decimal, parse_xml_document
from shared.sources.http import RetryingHttp

SOURCE = "BI"
JISDOR_PATH = "/biwebservice/wskursbi.asmx/getSubKursJisdor3"
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
MAX_BODY_BYTES = 5_000_000
FIELDS = ("id", "nil", "beli", "jual", "tgl", "mts")


@dataclass(frozen=True)
class BiRate:
    currency: str
    day: date  # the date part of tgl in its own +07:00 offset
    unit: Decimal  # nil_: 1 or 100 units of ``currency``
    buying: Decimal | None  # beli_
    selling: Decimal | None  # jual_


def _fields(row: Element) -> dict[str, str]:
    """``beli_subkursasing`` → ``beli`` (text stripped of nothing; callers strip)."""
    fields: dict[str, str] = {}
    for child in row:
        name = local_name(child).split("_", 1)[0]
        if name in FIELDS:
            fields[name] = child.text or ""
    return fields


def _row(row: Element) -> BiRate:
    fields = _fields(row)
    currency = fields.get("mts", "").strip()
    if not CURRENCY_CODE.match(currency):
        raise SourceError(f"{SOURCE}: unreadable currency code {fields.get('mts')!r}")
    raw_day = fields.get("tgl", "").strip()
    try:
        day = datetime.fromisoformat(raw_day).date()  # the local (+07:00) date, deliberately not UTC
    except ValueError as exc:
        raise SourceError(f"{SOURCE}: unreadable date {raw_day!r}") from exc
    unit = parse_decimal(fields.get("nil", "1")) if "nil" in fields else Decimal(1)
    if unit is None or unit <= 0:
        raise SourceError(f"{SOURCE}: unreadable unit {fields.get('nil')!r} for {currency}")
    return BiRate(currency, day, unit, parse_decimal(fields.get("beli")), parse_decimal(fields.get("jual")))


def parse_kurs_dataset(body: bytes) -> list[BiRate]:
    """Rows of a wskursbi DataSet (JISDOR or Kurs Transaksi), oldest first. No ``Table`` rows = no data."""
    root = parse_xml_document(SOURCE, body)
    if local_name(root) != "DataSet":
        raise SourceError(f"{SOURCE}: not a DataSet document (root {local_name(root)!r})")
    rows = [_row(element) for element in root.iter() if local_name(element) == "Table"]
    return sorted(rows, key=lambda r: (r.day, r.currency))


class BankIndonesiaClient:
    def __init__(self, http: RetryingHttp, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def jisdor(self, start: date, end: date, currency: str = "USD") -> list[BiRate]:
        """JISDOR rows for ``[start, end]`` (camelCase ``startDate``/``endDate``: lowercase gives HTTP 500)."""
        response = self.http.get(
            self.base_url + JISDOR_PATH,
            params={"mts": currency, "startDate": start.isoformat(), "endDate": end.isoformat()},
            headers={"Accept": "text/xml, application/xml"},
        )
        rows = parse_kurs_dataset(checked_body(SOURCE, response.content, MAX_BODY_BYTES))
        return [row for row in rows if row.currency == currency]
