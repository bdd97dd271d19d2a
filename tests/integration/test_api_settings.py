"""`muster-costs settings`: show, set only what is given, clear, and clear errors (moto in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shared.cli.main import main
from shared.config import Settings
from shared.dal.settings import SettingsModel, settings_repository
from tests.integration.moto_stack import moto_tables


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Only the settings table (the shared ``aws`` fixture creates every table)."""
    monkeypatch.delenv("MUSTER_ENDPOINT_URL", raising=False)
    with moto_tables((SettingsModel,)) as settings:
        yield settings


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_settings_default_then_set_then_show(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no settings were ever saved
    code, out, _ = cli(capsys, "--json", "settings")
    assert code == 0
    assert json.loads(out) == {
        "defaultCurrency": "USD",
        "periodStart": None,
        "periodEnd": None,
        "allowanceUsd": None,
        "reportRecipients": [],
        "reportSender": None,
        "updatedAt": None,
    }
    # When every field is set
    code, out, _ = cli(
        capsys,
        "settings",
        "--default-currency",
        "myr",
        "--period-start",
        "2026-03-01",
        "--period-end",
        "2026-03-31",
        "--allowance",
        "500.00",
        "--report-recipient",
        "cfo@example.com",
        "ops@Example.com",
        "--report-recipient",
        "dev@example.com",
        "--report-sender",
        "costs@example.com",
        "--json",
    )
    # Then they are stored exactly, and shown again
    assert code == 0
    saved = json.loads(out)
    assert saved["defaultCurrency"] == "MYR"
    assert (saved["periodStart"], saved["periodEnd"]) == ("2026-03-01", "2026-03-31")
    assert saved["allowanceUsd"] == "500"
    assert saved["reportRecipients"] == ["cfo@example.com", "ops@example.com", "dev@example.com"]
    assert saved["reportSender"] == "costs@example.com"
    stored = settings_repository().project_settings()
    assert str(stored.allowance_usd) == "500"
    code, out, _ = cli(capsys, "--json", "settings")
    assert json.loads(out) == saved


def test_setting_one_field_keeps_the_others(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, "settings", "--default-currency", "EUR", "--allowance", "99.5")
    code, out, _ = cli(capsys, "--json", "settings", "--period-start", "2026-03-01", "--period-end", "2026-03-14")
    assert code == 0
    shown = json.loads(out)
    assert (shown["defaultCurrency"], shown["allowanceUsd"]) == ("EUR", "99.5")
    code, out, _ = cli(capsys, "--json", "settings", "--clear-allowance", "--clear-period")
    shown = json.loads(out)
    assert (shown["allowanceUsd"], shown["periodStart"], shown["defaultCurrency"]) == (None, None, "EUR")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--default-currency", "JPY"], "unsupported currency 'JPY'"),
        (["--period-start", "2026-03-01"], "needs both --period-start and --period-end"),
        (["--period-start", "2026-03-10", "--period-end", "2026-03-01"], "is before --period-start"),
        (["--allowance", "-1"], "--allowance must be a USD amount above 0"),
        (["--allowance", "ten"], "not a decimal number"),
        (["--report-recipient", "not-an-email"], "is not an email address"),
        (["--report-sender", "Costs <costs@example.com>"], "is not an email address"),
    ],
)
def test_bad_values_are_one_clear_line_and_exit_2(
    aws: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = cli(capsys, "settings", *argv)
    assert code == 2 and out == ""
    line = " ".join(err.split())  # rich wraps long lines at the console width
    assert line.startswith("error: ") and message in line
    assert settings_repository().project_settings().updated_at is None  # nothing was written
