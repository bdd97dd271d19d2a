"""Entry point of ``muster-costs``. Each command group lives in its own module with a ``register`` function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from shared.cli import agents, connections, local, pricing, rates, report, reprice, run, settings
from shared.cli.output import error_console
from shared.errors import ConflictError, InvalidInputError, MusterError, NotFoundError
from shared.observability import logger

COMMAND_MODULES: tuple[ModuleType, ...] = (
    local,
    run,
    pricing,
    agents,
    connections,
    rates,
    reprice,
    settings,
    report,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="muster-costs", description="Per-agent LLM and cloud costs on AWS, in your currency."
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    parser.add_argument("--verbose", action="store_true", help="show the workers' structured logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def exit_code_for(error: MusterError) -> int:
    if isinstance(error, InvalidInputError | ConflictError | NotFoundError):
        return 2
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # The CLI prints each result itself; the structured logs are for Lambda (and --verbose).
    logger.setLevel("INFO" if args.verbose else "WARNING")
    try:
        result = args.handler(args)
    except MusterError as error:
        error_console.print(f"error: {error}", markup=False, highlight=False)
        return exit_code_for(error)
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
