"""``muster-costs settings [--default-currency CUR] [--period-start DATE --period-end DATE] [--allowance USD]
[--report-recipient EMAIL ...] [--report-sender EMAIL]``: show the project settings, or set the ones given."""

from __future__ import annotations

import argparse
from typing import Any

from shared.cli.output import add_json_flag, print_mapping
from shared.domain.fx import SUPPORTED_CURRENCIES
from shared.domain.settings import ProjectSettings, SettingsChange
from shared.services.settings import SettingsService


def settings_json(settings: ProjectSettings) -> dict[str, Any]:
    return {
        "defaultCurrency": settings.default_currency,
        "periodStart": settings.period_start.isoformat() if settings.period_start else None,
        "periodEnd": settings.period_end.isoformat() if settings.period_end else None,
        "allowanceUsd": format(settings.allowance_usd, "f") if settings.allowance_usd is not None else None,
        "reportRecipients": list(settings.report_recipients),
        "reportSender": settings.report_sender,
        "updatedAt": settings.updated_at.isoformat().replace("+00:00", "Z") if settings.updated_at else None,
    }


def _change(args: argparse.Namespace) -> SettingsChange:
    return SettingsChange(
        default_currency=args.default_currency,
        period_start=args.period_start,
        period_end=args.period_end,
        allowance_usd=args.allowance,
        report_recipients=tuple(args.report_recipient) if args.report_recipient is not None else None,
        report_sender=args.report_sender,
        clear_period=args.clear_period,
        clear_allowance=args.clear_allowance,
        clear_report_sender=args.clear_report_sender,
        clear_report_recipients=args.clear_report_recipients,
    )


def _settings(args: argparse.Namespace) -> int:
    service = SettingsService()
    change = _change(args)
    if change.is_empty:
        print_mapping(args.json, "Project settings", settings_json(service.current()))
        return 0
    print_mapping(args.json, "Project settings saved", settings_json(service.update(change)))
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "settings",
        help="show the project settings, or set the ones given",
        description="Without options, shows the project settings; with options, changes only the fields given.",
    )
    parser.add_argument(
        "--default-currency",
        metavar="CUR",
        help=f"display currency when an API call names none ({', '.join(SUPPORTED_CURRENCIES)})",
    )
    parser.add_argument("--period-start", metavar="DATE", help="first day of the trial or billing period (YYYY-MM-DD)")
    parser.add_argument("--period-end", metavar="DATE", help="last day of the period, inclusive (YYYY-MM-DD)")
    parser.add_argument("--clear-period", action="store_true", help="forget the period (the API uses month to date)")
    parser.add_argument("--allowance", metavar="USD", help="the period's allowance in USD, e.g. 500 or 99.50")
    parser.add_argument("--clear-allowance", action="store_true", help="forget the allowance")
    parser.add_argument(
        "--report-recipient",
        metavar="EMAIL",
        nargs="+",
        action="extend",
        help="weekly report recipients (replaces the list; repeat or list several)",
    )
    parser.add_argument("--clear-report-recipients", action="store_true", help="send the weekly report to nobody")
    parser.add_argument("--report-sender", metavar="EMAIL", help="the weekly report's From address (SES-verified)")
    parser.add_argument("--clear-report-sender", action="store_true", help="forget the report sender")
    add_json_flag(parser)
    parser.set_defaults(handler=_settings)
