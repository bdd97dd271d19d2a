"""``muster-costs rates [--json]``: the latest stored exchange rate per currency, with its source and date."""

from __future__ import annotations

import argparse
from typing import Any

from shared.cli.output import add_json_flag, emit
from shared.services.exchange_rates import latest_rates

COLUMNS = ("currency", "per USD", "date", "source", "note")


def _note(row: dict[str, Any]) -> str:
    if row["rate"] is None:
        return "no rate stored yet"
    notes = []
    if row["fallback"]:
        notes.append("fallback")
    if row["stale"]:
        notes.append(f"stale ({row['ageDays']} days)")
    return ", ".join(notes)


def print_rates(as_json: bool = False) -> None:
    rows = latest_rates()
    table = [[row["currency"], row["rate"], row["rateDate"], row["source"], _note(row)] for row in rows]
    emit(as_json, rows, "Exchange rates (units per 1 USD)", COLUMNS, table, right_align=("per USD",))


def _rates(args: argparse.Namespace) -> int:
    print_rates(args.json)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("rates", help="show the latest exchange rate per currency, its source and date")
    add_json_flag(parser)
    parser.set_defaults(handler=_rates)
