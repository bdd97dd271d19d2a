"""Daily worker: fetch ECB, BNM and BI rates, screen them and store the good ones.

Event (all optional): ``{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}`` backfills that window (inclusive);
without it each source continues from its last stored business date.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import logger, metrics, tracer
from shared.services.exchange_rates import run_exchange_rates


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_exchange_rates(event)
