"""ECB euro foreign exchange reference rates (units per 1 EUR) from the daily and the 90-day XML files.

Every XML payload of every source goes through :func:`parse_xml_document` (defusedxml, no DTD at all).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from shared.errors import SourceError
from shared.sources.http import RetryingHttp

SOURCE = "ECB"
DAILY_PATH = "/stats/eurofxref/eurofxref-daily.xml"
HIST_90D_PATH = "/stats/eurofxref/eurofxref-hist-90d.xml"
GESMES_NS = "http://www.gesmes.org/xml/2002-08-01"
EUROFXREF_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
CUBE = f"{{{EUROFXREF_NS}}}Cube"
MAX_BODY_BYTES = 2_000_000  # the 90-day file is about 100 kB
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class EcbDay:
    """One business day of the ECB file: units of each currency per 1 EUR (None where the value is unreadable)."""

    day: date
    rates: Mapping[str, Decimal | None]


def checked_body(source: str, content: bytes, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    if not content or not content.strip():
        raise SourceError(f"{source}: empty response body")
    if len(content) > max_bytes:
        raise SourceError(f"{source}: response body of {len(content)} bytes exceeds {max_bytes}")
    return content


def parse_xml_document(source: str, body: bytes) -> Element:
    """Parse XML safely: DTDs, entity expansion and external entities are refused; malformed XML is an error."""
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise SourceError(f"{source}: unsafe XML refused ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise SourceError(f"{source}: malformed XML ({exc})") from exc
    return root


def local_name(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def parse_decimal(raw: Any) -> Decimal | None:
    """A finite Decimal from published text, else None (never via float)."""
    if not isinstance(raw, str):
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_eurofxref(body: bytes) -> list[EcbDay]:
    """The days of an ECB eurofxref file (daily or history), oldest first.

    The currency list changes over time (29 in 2026), so nothing assumes a fixed set; the caller requires USD.
    """
    root = parse_xml_document(SOURCE, body)
    if root.tag != f"{{{GESMES_NS}}}Envelope":
        raise SourceError(f"{SOURCE}: not a eurofxref document (root {local_name(root)!r})")
    outer = root.find(CUBE)
    if outer is None:
        raise SourceError(f"{SOURCE}: no Cube element")
    days: dict[date, EcbDay] = {}
    for cube in outer.findall(CUBE):
        raw_day = cube.get("time")
        try:
            day = date.fromisoformat((raw_day or "").strip())
        except ValueError as exc:
            raise SourceError(f"{SOURCE}: unreadable date {raw_day!r}") from exc
        if day in days:
            raise SourceError(f"{SOURCE}: day {day.isoformat()} appears twice")
        rates: dict[str, Decimal | None] = {}
        for quote in cube.findall(CUBE):
            code = (quote.get("currency") or "").strip()
            if not CURRENCY_CODE.match(code):
                raise SourceError(f"{SOURCE}: unreadable currency code {code!r} on {day.isoformat()}")
            if code in rates:
                raise SourceError(f"{SOURCE}: {code} quoted twice on {day.isoformat()}")
            rates[code] = parse_decimal(quote.get("rate"))
        days[day] = EcbDay(day, rates)
    if not days:
        raise SourceError(f"{SOURCE}: the file holds no rates")
    return [days[day] for day in sorted(days)]


class EcbClient:
    def __init__(self, http: RetryingHttp, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def daily(self) -> list[EcbDay]:
        """The latest business day (the file keeps showing it over weekends and holidays)."""
        return self._get(DAILY_PATH)

    def history_90d(self) -> list[EcbDay]:
        """About the last 90 calendar days of business days."""
        return self._get(HIST_90D_PATH)

    def _get(self, path: str) -> list[EcbDay]:
        response = self.http.get(self.base_url + path, headers={"Accept": "application/xml, text/xml"})
        return parse_eurofxref(checked_body(SOURCE, response.content))
