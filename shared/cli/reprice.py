"""``muster-costs reprice --from DATE --to DATE``: recompute stored LLM costs with the current prices."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from shared.cli.output import add_json_flag, print_mapping
from shared.errors import InvalidInputError
from shared.services.llm_costs import LlmCostService


def parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"{what} must be a date YYYY-MM-DD, got {value!r}") from exc


def _reprice(args: argparse.Namespace) -> int:
    summary = LlmCostService().reprice(parse_day(args.date_from, "--from"), parse_day(args.date_to, "--to"))
    print_mapping(args.json, "Reprice", summary)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "reprice", help="recompute stored LLM costs from stored token counts after a price change"
    )
    parser.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    parser.add_argument("--to", dest="date_to", required=True, metavar="DATE")
    add_json_flag(parser)
    parser.set_defaults(handler=_reprice)
