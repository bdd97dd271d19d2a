"""The committed OpenAPI document is the one the code generates; the handlers answer within it."""

from __future__ import annotations

import json

from functions.costs_api.openapi import DOCUMENT, main, render


def test_committed_document_matches_the_code() -> None:
    # When this fails: `uv run python -m functions.costs_api.openapi` and commit docs/openapi.json
    assert DOCUMENT.read_text(encoding="utf-8") == render()
    assert main(["--check"]) == 0


def test_document_describes_the_four_routes_and_no_422() -> None:
    document = json.loads(render())
    assert sorted(document["paths"]) == ["/costs/agents", "/costs/agents/{agentId}", "/costs/period", "/costs/summary"]
    for path, operations in document["paths"].items():
        responses = operations["get"]["responses"]
        assert "422" not in responses, path
        error_schema = responses["400"]["content"]["application/json"]["schema"]
        assert error_schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "404" in document["paths"]["/costs/agents/{agentId}"]["get"]["responses"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
