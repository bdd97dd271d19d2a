"""Project settings: the default display currency, the trial or billing period, the allowance, report addresses.

Pure: parsing and validation of what a user types, and applying a change to the stored settings. One settings
item per project (``shared.dal.settings``); a field left out of a change keeps its stored value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from shared.domain.fx import USD, parse_currency
from shared.domain.money import normalized, to_decimal
from shared.errors import InvalidInputError

MAX_PERIOD_DAYS = 366  # the period figure is one rollup Query: keep it bounded like the API's windows
MAX_RECIPIENTS = 50
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_ALLOWANCE = Decimal("1000000000000")  # a trillion USD: anything above is a typo
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Deliberately plain: one @, a dot in the domain, no whitespace, commas, angle brackets or quotes. SES checks
# deliverability; this only catches typos and pasted display names ("Ann <ann@example.com>").
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")


@dataclass(frozen=True)
class ProjectSettings:
    default_currency: str = USD
    period_start: date | None = None
    period_end: date | None = None
    allowance_usd: Decimal | None = None
    report_recipients: tuple[str, ...] = ()
    report_sender: str | None = None
    updated_at: datetime | None = None

    @property
    def period(self) -> tuple[date, date] | None:
        if self.period_start is None or self.period_end is None:
            return None
        return self.period_start, self.period_end


@dataclass(frozen=True)
class SettingsChange:
    """What a user asked to change; ``None`` leaves a field as stored, the ``clear_*`` flags remove one."""

    default_currency: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    allowance_usd: str | None = None
    report_recipients: tuple[str, ...] | None = None
    report_sender: str | None = None
    clear_period: bool = False
    clear_allowance: bool = False
    clear_report_sender: bool = False
    clear_report_recipients: bool = False

    @property
    def is_empty(self) -> bool:
        return self == SettingsChange()


def parse_day(value: str, what: str) -> date:
    """A UTC day written ``YYYY-MM-DD`` (nothing else: no times, no week dates)."""
    text = value.strip() if isinstance(value, str) else ""
    if not _ISO_DAY.match(text):
        raise InvalidInputError(f"{what} must be a date written YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"{what} is not a valid date: {value!r}") from exc


def parse_period(start: str, end: str) -> tuple[date, date]:
    first, last = parse_day(start, "--period-start"), parse_day(end, "--period-end")
    if last < first:
        raise InvalidInputError(f"--period-end {last.isoformat()} is before --period-start {first.isoformat()}")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInputError(f"a period is at most {MAX_PERIOD_DAYS} days")
    return first, last


def parse_allowance(value: str) -> Decimal:
    """A positive USD amount as a decimal string (stored exactly, never as a float)."""
    try:
        amount = to_decimal(value, "--allowance")
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    if amount <= 0 or amount > MAX_ALLOWANCE:
        raise InvalidInputError(f"--allowance must be a USD amount above 0 and at most {MAX_ALLOWANCE}, got {value!r}")
    return normalized(amount)


def validate_email(value: str, what: str = "email address") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > MAX_EMAIL_LENGTH or not _EMAIL.match(text):
        raise InvalidInputError(f"{what} {value!r} is not an email address like name@example.com")
    local, domain = text.rsplit("@", 1)
    if len(local) > 64 or ".." in local or local.startswith(".") or local.endswith("."):
        raise InvalidInputError(f"{what} {value!r} is not an email address like name@example.com")
    return f"{local}@{domain.lower()}"


def validate_recipients(values: tuple[str, ...]) -> tuple[str, ...]:
    """Checked addresses, duplicates (case-insensitive) dropped, order kept."""
    seen: dict[str, str] = {}
    for value in values:
        address = validate_email(value, "report recipient")
        seen.setdefault(address.lower(), address)
    if len(seen) > MAX_RECIPIENTS:
        raise InvalidInputError(f"at most {MAX_RECIPIENTS} report recipients")
    return tuple(seen.values())


def _period(current: ProjectSettings, change: SettingsChange) -> ProjectSettings:
    given = change.period_start is not None or change.period_end is not None
    if given and change.clear_period:
        raise InvalidInputError("give either --period-start/--period-end or --clear-period, not both")
    if change.period_start is not None and change.period_end is not None:
        first, last = parse_period(change.period_start, change.period_end)
        return replace(current, period_start=first, period_end=last)
    if given:
        raise InvalidInputError("a period needs both --period-start and --period-end")
    return replace(current, period_start=None, period_end=None) if change.clear_period else current


def _allowance(current: ProjectSettings, change: SettingsChange) -> ProjectSettings:
    if change.allowance_usd is not None and change.clear_allowance:
        raise InvalidInputError("give either --allowance or --clear-allowance, not both")
    if change.allowance_usd is not None:
        return replace(current, allowance_usd=parse_allowance(change.allowance_usd))
    return replace(current, allowance_usd=None) if change.clear_allowance else current


def _report(current: ProjectSettings, change: SettingsChange) -> ProjectSettings:
    if change.report_recipients is not None and change.clear_report_recipients:
        raise InvalidInputError("give either --report-recipient or --clear-report-recipients, not both")
    if change.report_sender is not None and change.clear_report_sender:
        raise InvalidInputError("give either --report-sender or --clear-report-sender, not both")
    updated = current
    if change.report_recipients is not None:
        updated = replace(updated, report_recipients=validate_recipients(change.report_recipients))
    elif change.clear_report_recipients:
        updated = replace(updated, report_recipients=())
    if change.report_sender is not None:
        updated = replace(updated, report_sender=validate_email(change.report_sender, "report sender"))
    elif change.clear_report_sender:
        updated = replace(updated, report_sender=None)
    return updated


def apply_change(current: ProjectSettings, change: SettingsChange, now: datetime) -> ProjectSettings:
    """The settings after ``change``; every given value is validated, nothing else moves."""
    updated = current
    if change.default_currency is not None:
        updated = replace(updated, default_currency=parse_currency(change.default_currency))
    updated = _report(_allowance(_period(updated, change), change), change)
    return replace(updated, updated_at=now) if updated != current else current
