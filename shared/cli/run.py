"""``muster-costs run WORKER [--from ISO] [--to ISO]``: one worker, once, through its real Lambda handler."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from shared.cli.output import add_json_flag, print_mapping
from shared.local.lambda_context import LocalLambdaContext

# worker name -> (handler module, what the window counts)
WORKERS: dict[str, tuple[str, str]] = {
    "llm-costs": ("functions.aggregate_llm_costs.handler", "hours"),
    "cloud-costs": ("functions.fetch_cloud_costs.handler", "days"),
    "exchange-rates": ("functions.fetch_exchange_rates.handler", "days"),
}


def load_handler(worker: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    module = importlib.import_module(WORKERS[worker][0])
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.handler
    return handler


def invoke_worker(worker: str, window_from: str | None = None, window_to: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {}
    if window_from:
        event["from"] = window_from
    if window_to:
        event["to"] = window_to
    return load_handler(worker)(event, LocalLambdaContext(function_name=f"muster-costs-{worker}"))


def _run(args: argparse.Namespace) -> int:
    result = invoke_worker(args.worker, args.window_from, args.window_to)
    print_mapping(args.json, f"{args.worker} run", result)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("run", help="run one worker once through its Lambda handler")
    parser.add_argument("worker", choices=sorted(WORKERS), help="which worker")
    parser.add_argument("--from", dest="window_from", help="window start (ISO; hours for llm-costs, days otherwise)")
    parser.add_argument("--to", dest="window_to", help="window end (ISO, exclusive for hours, inclusive for days)")
    add_json_flag(parser)
    parser.set_defaults(handler=_run)
