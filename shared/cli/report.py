"""``muster-costs report [--week YYYY-Www] [--out FILE.html] [--currency CUR]``: the weekly report, not sent.

Without ``--out`` it prints the subject and the plain-text part; with ``--out`` it writes the HTML part to FILE
and prints the file's path; ``--json`` prints the report's figures. The week defaults to the last full week.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shared.cli.output import add_json_flag, print_json
from shared.services.reports import preview_report, report_payload, write_html


def _report(args: argparse.Namespace) -> int:
    report, rendered = preview_report(args.week, args.currency)
    target = write_html(rendered, args.out) if args.out else None
    if args.json:
        print_json(report_payload(report) | ({"html": str(target)} if target else {}))
    elif target is not None:
        sys.stdout.write(f"{target}\n")
    else:
        sys.stdout.write(f"Subject: {rendered.subject}\n\n{rendered.text}")
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("report", help="render the weekly report (without sending it)")
    parser.add_argument("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W49 (default: the last full week)")
    parser.add_argument("--out", metavar="FILE.html", help="write the HTML part to FILE and print its path")
    parser.add_argument("--currency", help="display currency (default: the project's default currency)")
    add_json_flag(parser)
    parser.set_defaults(handler=_report)
