"""Project settings: what `muster-costs settings` accepts, and how a change leaves other fields alone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.domain.settings import (
    ProjectSettings,
    SettingsChange,
    apply_change,
    parse_allowance,
    parse_period,
    validate_email,
    validate_recipients,
)
from shared.errors import InvalidInputError, UnsupportedCurrencyError

NOW = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)


def test_defaults_are_usd_without_period_or_allowance() -> None:
    settings = ProjectSettings()
    assert settings.default_currency == "USD"
    assert settings.period is None and settings.allowance_usd is None and settings.report_recipients == ()


def test_a_change_sets_only_the_given_fields() -> None:
    # Given settings with a period and recipients
    current = ProjectSettings(
        period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), report_recipients=("ops@example.com",)
    )
    # When only the currency and allowance change
    updated = apply_change(current, SettingsChange(default_currency="eur", allowance_usd="250.50"), NOW)
    # Then the rest is kept, the currency is canonical and the allowance exact
    assert updated.default_currency == "EUR"
    assert updated.allowance_usd == Decimal("250.5")
    assert updated.period == (date(2026, 3, 1), date(2026, 3, 31))
    assert updated.report_recipients == ("ops@example.com",)
    assert updated.updated_at == NOW


def test_an_unchanged_result_keeps_its_timestamp() -> None:
    current = ProjectSettings(default_currency="EUR", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert apply_change(current, SettingsChange(default_currency="EUR"), NOW) is current


def test_clearing_fields() -> None:
    current = ProjectSettings(
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        allowance_usd=Decimal(100),
        report_recipients=("a@example.com",),
        report_sender="costs@example.com",
    )
    change = SettingsChange(
        clear_period=True, clear_allowance=True, clear_report_recipients=True, clear_report_sender=True
    )
    updated = apply_change(current, change, NOW)
    assert updated.period is None and updated.allowance_usd is None
    assert updated.report_recipients == () and updated.report_sender is None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-31", "2026-03-01", "before"),
        ("2026-02-30", "2026-03-01", "not a valid date"),
        ("2026/03/01", "2026-03-02", "YYYY-MM-DD"),
        ("2026-03-01T00:00", "2026-03-02", "YYYY-MM-DD"),
        ("2026-01-01", "2027-01-02", "at most 366 days"),
    ],
)
def test_bad_periods_are_refused(start: str, end: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_period(start, end)


def test_a_period_needs_both_ends_and_not_clear_at_once() -> None:
    with pytest.raises(InvalidInputError, match="both"):
        apply_change(ProjectSettings(), SettingsChange(period_start="2026-03-01"), NOW)
    with pytest.raises(InvalidInputError, match="not both"):
        apply_change(
            ProjectSettings(),
            SettingsChange(period_start="2026-03-01", period_end="2026-03-02", clear_period=True),
            NOW,
        )


@pytest.mark.parametrize("value", ["0", "-5", "abc", "NaN", "Infinity", "1e13", ""])
def test_bad_allowances_are_refused(value: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_allowance(value)


def test_allowance_is_kept_exact() -> None:
    assert parse_allowance(" 99.990 ") == Decimal("99.99")
    assert parse_allowance("1000") == Decimal(1000)


@pytest.mark.parametrize(
    "value", ["ann", "ann@", "@example.com", "Ann <ann@example.com>", "a b@example.com", "a..b@example.com", "a@b"]
)
def test_bad_email_addresses_are_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="not an email address"):
        validate_email(value)


def test_recipients_are_checked_and_deduplicated_case_insensitively() -> None:
    assert validate_recipients(("Ops@Example.com", "ops@example.COM", "cfo@example.com")) == (
        "Ops@example.com",
        "cfo@example.com",
    )


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnsupportedCurrencyError):
        apply_change(ProjectSettings(), SettingsChange(default_currency="JPY"), NOW)
