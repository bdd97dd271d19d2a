"""Daily worker: fetch ECB, BNM and BI rates, screen them and store the good ones.

Event (all optional): ``{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}`` backfills that window (inclusive);
without it each source continues from its last stored business date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.errors import InvalidInputError
from shared.observability import logger, metrics, tracer
from shared.services.exchange_rates import refresh_exchange_rates


def _day(event: dict[str, Any], key: str) -> date | None:
    raw = event.get(key)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(str(raw).strip()[:10])  # an ISO timestamp is taken for its date
    except ValueError as exc:
        raise InvalidInputError(f"{key!r} must be a date (YYYY-MM-DD), got {raw!r}") from exc


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = event or {}
    return refresh_exchange_rates(_day(event, "from"), _day(event, "to"))
