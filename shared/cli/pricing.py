"""``muster-costs pricing list|set|import``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from shared.cli.output import add_json_flag, console, emit
from shared.domain.money import as_text
from shared.domain.pricing import ModelPrice
from shared.errors import InvalidInputError
from shared.services.pricing import PricingService


def _money(value: Any) -> str:
    return "" if value is None else as_text(value)


def price_json(price: ModelPrice) -> dict[str, Any]:
    return {
        "provider": price.provider,
        "model": price.model,
        "matchPattern": price.pattern,
        "inputPer1kUsd": _money(price.input_per_1k),
        "outputPer1kUsd": _money(price.output_per_1k),
        "cachedReadPer1kUsd": _money(price.cached_read_per_1k) or None,
        "cacheWritePer1kUsd": _money(price.cache_write_per_1k) or None,
        "reasoningPer1kUsd": _money(price.reasoning_per_1k) or None,
        "effectiveFrom": price.version,
        "tiers": [tier.name for tier in price.tiers],
    }


def _list(args: argparse.Namespace) -> int:
    prices = PricingService().list_prices()
    rows = [
        [
            p.provider,
            p.model,
            p.version,
            _money(p.input_per_1k),
            _money(p.output_per_1k),
            _money(p.cached_read_per_1k),
            _money(p.cache_write_per_1k),
            _money(p.reasoning_per_1k),
            ", ".join(t.name for t in p.tiers),
        ]
        for p in prices
    ]
    emit(
        args.json,
        [price_json(p) for p in prices],
        f"Model prices (USD per 1k tokens): {len(prices)} rows",
        ["provider", "model", "effectiveFrom", "input", "output", "cachedRead", "cacheWrite", "reasoning", "tiers"],
        rows,
        right_align=["input", "output", "cachedRead", "cacheWrite", "reasoning"],
    )
    return 0


def _set(args: argparse.Namespace) -> int:
    row = {
        "provider": args.provider,
        "model": args.model,
        "matchPattern": args.match_pattern,
        "inputPer1kUsd": args.input_per_1k,
        "outputPer1kUsd": args.output_per_1k,
        "cachedReadPer1kUsd": args.cached_read_per_1k,
        "cacheWritePer1kUsd": args.cache_write_per_1k,
        "reasoningPer1kUsd": args.reasoning_per_1k,
        "effectiveFrom": args.effective_from,
    }
    price = PricingService().set_price(row)
    emit(
        args.json,
        price_json(price),
        "Price saved",
        ["provider", "model", "effectiveFrom"],
        [[price.provider, price.model, price.version]],
    )
    return 0


def _import(args: argparse.Namespace) -> int:
    service = PricingService()
    if args.catalogue:
        count = service.import_catalogue(args.catalogue, args.provider or ())
        source = f"catalogue {args.catalogue}"
    elif args.file:
        count = service.import_file(Path(args.file))
        source = args.file
    else:
        raise InvalidInputError("give a FILE to import or --catalogue NAME")
    if args.json:
        emit(True, {"imported": count, "source": source}, "", [], [])
    else:
        console.print(f"imported {count} price rows from {source}")
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("pricing", help="model prices (USD per 1k tokens, effective-dated)")
    sub = parser.add_subparsers(dest="pricing_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="list every price row")
    add_json_flag(listing)
    listing.set_defaults(handler=_list)

    setter = sub.add_parser("set", help="add or replace one price row")
    setter.add_argument("--provider", required=True)
    setter.add_argument("--model", required=True)
    setter.add_argument("--match-pattern", help="regular expression matched against reported model names")
    setter.add_argument("--input-per-1k", required=True, metavar="USD")
    setter.add_argument("--output-per-1k", required=True, metavar="USD")
    setter.add_argument("--cached-read-per-1k", metavar="USD")
    setter.add_argument("--cache-write-per-1k", metavar="USD")
    setter.add_argument("--reasoning-per-1k", metavar="USD")
    setter.add_argument("--effective-from", metavar="ISO", help="default: the earliest time")
    add_json_flag(setter)
    setter.set_defaults(handler=_set)

    importer = sub.add_parser("import", help="import a JSON file of price rows, or a named public catalogue")
    importer.add_argument("file", nargs="?", help="JSON list of price rows (CONTRACT §2 fields)")
    importer.add_argument("--catalogue", metavar="NAME", help="a public price catalogue, e.g. genai-prices")
    importer.add_argument(
        "--provider", action="append", metavar="ID", help="with --catalogue: only this provider's rows (repeatable)"
    )
    add_json_flag(importer)
    importer.set_defaults(handler=_import)
