"""The API's OpenAPI document, generated from the routes and response models; ``docs/openapi.json`` is its copy.

    uv run python -m functions.costs_api.openapi            # rewrite docs/openapi.json
    uv run python -m functions.costs_api.openapi --check    # exit 1 when the committed copy has drifted

Powertools documents a 422 "Validation Error" for every validated route; this API answers a failed parameter
validation with a 400 in its own error shape instead (see ``handler.invalid_request``), so those entries are
dropped here and the 400 documents the real answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from functions.costs_api.handler import app

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
TITLE = "Muster Costs API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Per-agent LLM and cloud costs, in your currency. In AWS every route needs IAM authorization (SigV4); the "
    "local server (`muster-costs local`) serves the same routes through the same Lambda handler without it.\n\n"
    "Amounts are JSON strings holding exact decimals in the requested currency: each day's USD figures are "
    "multiplied by the exchange rate and nothing is rounded, so totalCost = llmCost + cloudCost and every sum "
    "reconciles exactly. Round for display only. inputTokens = input + cached read + cache write; outputTokens = "
    "output + reasoning; observations = LLM calls. Dates are UTC days. Errors: "
    '{"error": {"code": "...", "message": "..."}} with 400 (bad input), 404 (unknown agent or route), '
    "503 (no exchange rate stored yet for the currency)."
)
_POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)
    )
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    text = json.dumps(document["paths"])
    for name in _POWERTOOLS_VALIDATION_SCHEMAS:
        if f"#/components/schemas/{name}" not in text:
            schemas.pop(name, None)
    return document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or check) docs/openapi.json from the API's code.")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the file differs")
    parser.add_argument("--out", type=Path, default=DOCUMENT, help="where to write (default docs/openapi.json)")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            sys.stderr.write(f"{args.out} is out of date: run `uv run python -m functions.costs_api.openapi`\n")
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
