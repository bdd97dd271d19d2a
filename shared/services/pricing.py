"""Price administration: list, set one row, import a file of rows or a named public catalogue."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared.dal.pricing import PricingRepository, pricing_repository, tiers_from_json
from shared.domain.money import to_decimal
from shared.domain.pricing import EARLIEST, ModelPrice
from shared.errors import InvalidInputError

REQUIRED_FIELDS = ("provider", "model", "matchPattern", "inputPer1kUsd", "outputPer1kUsd")
OPTIONAL_PRICE_FIELDS = ("cachedReadPer1kUsd", "cacheWritePer1kUsd", "reasoningPer1kUsd")
KNOWN_FIELDS = frozenset((*REQUIRED_FIELDS, *OPTIONAL_PRICE_FIELDS, "effectiveFrom", "tiers"))


def parse_effective_from(value: Any) -> datetime:
    """An ISO date or timestamp (UTC if naive); missing means the earliest time."""
    if value is None or value == "":
        return EARLIEST
    if not isinstance(value, str):
        raise InvalidInputError("effectiveFrom must be an ISO date or timestamp string")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(f"effectiveFrom is not an ISO date or timestamp: {value!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _price_value(row: Mapping[str, Any], name: str, required: bool) -> Decimal | None:
    value = row.get(name)
    if value is None:
        if required:
            raise InvalidInputError(f"{name} is required")
        return None
    if isinstance(value, float):
        raise InvalidInputError(f'{name} must be a decimal string such as "0.0025", not a float ({value!r})')
    try:
        price = to_decimal(value, name)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    if price < 0:
        raise InvalidInputError(f"{name} must not be negative")
    return price


def price_from_row(row: Mapping[str, Any]) -> ModelPrice:
    """One price row in the import format (CONTRACT §2); a clear error names the field at fault."""
    if not isinstance(row, Mapping):
        raise InvalidInputError("each price row must be an object")
    unknown = set(row) - KNOWN_FIELDS
    if unknown:
        raise InvalidInputError(f"unknown field(s): {', '.join(sorted(unknown))}")
    for name in ("provider", "model"):
        if not isinstance(row.get(name), str) or not row[name].strip():
            raise InvalidInputError(f"{name} is required")
    pattern = row.get("matchPattern")
    if pattern is not None and not isinstance(pattern, str):
        raise InvalidInputError("matchPattern must be a regular expression string")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInputError(f"matchPattern is not a valid regular expression: {exc}") from exc
    try:
        tiers = tiers_from_json(row.get("tiers"))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidInputError(f"tiers are malformed: {exc}") from exc
    input_price = _price_value(row, "inputPer1kUsd", required=True)
    output_price = _price_value(row, "outputPer1kUsd", required=True)
    assert input_price is not None and output_price is not None
    try:
        return ModelPrice(
            provider=row["provider"].strip(),
            model=row["model"].strip(),
            input_per_1k=input_price,
            output_per_1k=output_price,
            cached_read_per_1k=_price_value(row, "cachedReadPer1kUsd", required=False),
            cache_write_per_1k=_price_value(row, "cacheWritePer1kUsd", required=False),
            reasoning_per_1k=_price_value(row, "reasoningPer1kUsd", required=False),
            effective_from=parse_effective_from(row.get("effectiveFrom")),
            match_pattern=pattern or None,
            tiers=tiers,
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc


def price_rows_from_file(path: Path) -> list[ModelPrice]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(rows, list):
        raise InvalidInputError(f"{path} must hold a JSON list of price rows")
    prices = []
    for index, row in enumerate(rows):
        try:
            if isinstance(row, Mapping):
                # parse_float=Decimal keeps JSON numbers exact; the row parser takes them as decimals.
                row = {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in row.items()}
            prices.append(price_from_row(row))
        except InvalidInputError as exc:
            raise InvalidInputError(f"row {index + 1}: {exc}") from exc
    return prices


class PricingService:
    def __init__(self, repository: PricingRepository | None = None) -> None:
        self.repository = repository or pricing_repository()

    def list_prices(self) -> list[ModelPrice]:
        return self.repository.list_prices()

    def set_price(self, row: Mapping[str, Any]) -> ModelPrice:
        price = price_from_row(row)
        self.repository.save_prices([price])
        return price

    def import_prices(self, prices: Sequence[ModelPrice]) -> int:
        keys = [(p.key, p.version) for p in prices]
        if len(set(keys)) != len(keys):
            raise InvalidInputError("the import holds two rows for the same model and effectiveFrom")
        return self.repository.save_prices(prices)

    def import_file(self, path: Path) -> int:
        return self.import_prices(price_rows_from_file(path))

    def import_catalogue(self, name: str, providers: Sequence[str] = ()) -> int:
        """Import a public catalogue, optionally only some providers' rows (e.g. ``openai``, ``anthropic``).

        A whole catalogue also holds resellers' prices for the same model names; choosing providers keeps
        a model from resolving to a reseller's row.
        """
        from shared.sources.catalogue import load_catalogue

        prices = load_catalogue(name)
        if providers:
            wanted = {provider.strip().lower() for provider in providers}
            known = {price.provider.lower() for price in prices}
            unknown = wanted - known
            if unknown:
                raise InvalidInputError(
                    f"catalogue {name} has no provider {', '.join(sorted(unknown))}; "
                    f"it has {len(known)} providers, e.g. {', '.join(sorted(known)[:8])}"
                )
            prices = [price for price in prices if price.provider.lower() in wanted]
        return self.import_prices(prices)
