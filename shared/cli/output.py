"""Printing for the CLI: a rich table for people, JSON for scripts (``--json``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

# Piped output (CI, `make demo | tee`) gets a wide fixed width instead of rich's 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=160)
error_console = Console(stderr=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def add_json_flag(parser: Any) -> None:
    """``--json`` after the subcommand too; SUPPRESS keeps the global flag's value when it is not given here."""
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print machine-readable JSON instead of a table"
    )


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, default=_json_default, indent=2, sort_keys=False) + "\n")


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], right_align: Sequence[str] = ()
) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column in right_align else "left")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


def emit(
    as_json: bool,
    payload: Any,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    right_align: Sequence[str] = (),
) -> None:
    """Print ``payload`` as JSON or ``rows`` as a table."""
    if as_json:
        print_json(payload)
    else:
        print_table(title, columns, rows, right_align)


def print_mapping(as_json: bool, title: str, payload: Mapping[str, Any]) -> None:
    if as_json:
        print_json(payload)
        return
    print_table(title, ["field", "value"], [[key, _plain(value)] for key, value in payload.items()])


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else str(value)
